"""Issue 24 item 1: an import limited to a region refuses every row that touches a record stored outside it.

The attack: limited to town B, a 5-column CSV of town A's 户编号 with a village of B "updated" 20 households
into B. The check must look at the place the database holds for the record, not only at the file's.
"""

from __future__ import annotations

from data_access.importer import samples as S
from data_access.scope import Scope
from tests.helpers import errors, run, scalar, snapshot, village_scope
from tests.helpers import rows as q


def _towns(engine):
    a = village_scope(engine).code[:9] + "000"
    b = q(engine, "SELECT code FROM region WHERE level='town' AND code <> :t ORDER BY code", t=a)[0][0]
    b_village = q(engine, "SELECT code FROM region WHERE level='village' AND parent_code = :t ORDER BY code",
                  t=b)[0][0]
    return a, b, b_village


def test_csv_of_another_towns_household_ids_is_refused(clone):
    a, b, b_village = _towns(clone)
    hh_ids = [r[0] for r in q(clone, "SELECT hh_id FROM household WHERE town_code = :a ORDER BY hh_id LIMIT 20", a=a)]
    heads = {h: (pid, name) for h, pid, name in q(
        clone, "SELECT p.hh_id, p.person_id, p.name FROM person p JOIN household h ON h.hh_id = p.hh_id "
               "WHERE h.town_code = :a AND p.relation = '户主'", a=a)}
    lines = ["户编号,人编号,姓名,与户主关系,区划代码"]
    lines += [f"{h},{heads[h][0]},{heads[h][1]},户主,{b_village}" for h in hh_ids]
    before = snapshot(clone)
    result = run(clone, [("猜测.csv", "\n".join(lines).encode())], scope=Scope.of(b))
    errs = errors(result)
    assert not result.written and snapshot(clone) == before
    # every row is named, with the stored place
    assert sorted(e[2] for e in errs) == list(range(2, 2 + len(hh_ids)))
    for e in errs:
        assert "超出本账号可导入的范围" in e[5] and f"属于 {a[:9]}" in e[5]
    # the same with --skip-invalid: nothing is written either
    result = run(clone, [("猜测.csv", "\n".join(lines).encode())], scope=Scope.of(b), skip_invalid=True)
    assert snapshot(clone) == before and len(errors(result)) == len(hh_ids)
    assert scalar(clone, "SELECT COUNT(*) FROM household WHERE town_code = :a AND hh_id IN ({})".format(
        ",".join(f"'{h}'" for h in hh_ids)), a=a) == len(hh_ids)


def test_a_person_of_another_town_cannot_be_moved_in(clone):
    a, b, b_village = _towns(clone)
    headers, rows = S.sheet_from_db(clone, "persons", Scope.of(b_village))
    c = {h: i for i, h in enumerate(headers)}
    target = rows[0][c["户编号"]]
    family = [r for r in rows if r[c["户编号"]] == target]
    _, a_rows = S.sheet_from_db(clone, "persons", village_scope(clone))
    stranger = list(next(r for r in a_rows if r[c["与户主关系"]] != "户主"))
    moved = list(family[0])
    for h in ("人编号", "姓名", "证件号码", "性别", "出生日期"):
        moved[c[h]] = stranger[c[h]]
    moved[c["与户主关系"]] = "其他"
    new_rows = family + [moved]
    for r in new_rows:
        r[c["人数"]] = len(new_rows)
    before = snapshot(clone)
    result = run(clone, [("迁入.xlsx", S.xlsx_bytes([("人员", headers, new_rows)]))], scope=Scope.of(b))
    assert not result.written and snapshot(clone) == before
    assert any(e[2] == len(new_rows) + 1 and "超出本账号可导入的范围" in e[5] for e in errors(result))


def test_another_towns_project_cannot_be_taken_over(clone):
    a, b, b_village = _towns(clone)
    headers, rows = S.sheet_from_db(clone, "projects", Scope.of(a))
    assert rows, "the demo has projects in town A"
    c = {h: i for i, h in enumerate(headers)}
    row = list(rows[0])
    place = next(h for h in headers if "区划代码" in h)
    row[c[place]] = b_village
    for h in headers:
        if h in ("乡(镇)", "行政村", "乡镇", "村"):
            row[c[h]] = None
    before = snapshot(clone)
    result = run(clone, [("项目.xlsx", S.xlsx_bytes([("项目", headers, [row])]))], scope=Scope.of(b))
    assert not result.written and snapshot(clone) == before
    assert [e[2] for e in errors(result)] == [2]
    assert "超出本账号可导入的范围" in errors(result)[0][5]


def test_own_town_still_imports(clone):
    a, b, b_village = _towns(clone)
    headers, rows = S.sheet_from_db(clone, "persons", Scope.of(b_village))
    c = {h: i for i, h in enumerate(headers)}
    hh = rows[0][c["户编号"]]
    for r in rows:
        if r[c["户编号"]] == hh:
            r[c["户联系电话"]] = "13900000001"
    result = run(clone, [("本镇.xlsx", S.xlsx_bytes([("人员", headers, rows)]))], scope=Scope.of(b))
    assert errors(result) == [] and result.written
    assert scalar(clone, "SELECT phone FROM household WHERE hh_id = :h", h=hh) == "13900000001"
