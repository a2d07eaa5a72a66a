"""Issue 24 item 1, every sheet kind: an import limited to town B refuses each row that touches a record
stored in town A (rows named, database unchanged), whatever the sheet: the 帮扶 sheets (结对帮扶 with another
town's cadre or a shared 帮扶单位, 走访 by another town's cadre), incomes, monitoring, measures, places,
targets, funds, projects, arrangements and flows."""

from __future__ import annotations

import pytest

from data_access.importer import samples as S
from data_access.scope import Scope
from tests.helpers import errors, run, snapshot, village_scope
from tests.helpers import rows as q

OUTSIDE = "超出本账号可导入的范围"
KINDS = ("places", "targets", "incomes", "monitoring", "helpers", "visits", "measures", "funds", "projects",
         "arrangements", "flows", "persons")


def _towns(engine):
    a = village_scope(engine).code[:9] + "000"
    b = q(engine, "SELECT code FROM region WHERE level='town' AND code <> :t ORDER BY code", t=a)[0][0]
    return Scope.of(a), Scope.of(b)


def _refused(engine, sheet: tuple, scope: Scope, rows: int, named: list[int] | None = None) -> list[tuple]:
    before = snapshot(engine)
    result = run(engine, [("越权.xlsx", S.xlsx_bytes([sheet]))], scope=scope)
    errs = errors(result)
    assert not result.written and snapshot(engine) == before
    assert sorted({e[2] for e in errs}) == (named or list(range(2, 2 + rows))), "every row is named"
    assert all(OUTSIDE in e[5] for e in errs), errs[:3]
    return errs


@pytest.mark.parametrize("kind", KINDS)
def test_another_towns_rows_of_every_kind_are_refused(clone, kind):
    a, b = _towns(clone)
    headers, rows = S.sheet_from_db(clone, kind, a)
    if kind in ("funds", "projects", "arrangements", "flows", "targets"):  # county rows are outside a town too
        rows = [r for r in rows if any(str(c or "").startswith(a.prefix) for c in r)] or rows
    rows = rows[:30]
    assert rows, f"the demo has {kind} rows in town A"
    named = None
    if kind == "persons":  # a household's place is named on its first row (its other rows go with it)
        first = {}
        for i, r in enumerate(rows):
            first.setdefault(r[headers.index("户编号")], i + 2)
        named = sorted(first.values())
    _refused(clone, (kind, headers, rows), b, len(rows), named)


def _helper_rows(engine, scope):
    headers, rows = S.sheet_from_db(engine, "helpers", scope)
    return headers, {h: i for i, h in enumerate(headers)}, rows


def test_another_towns_cadre_cannot_be_edited_through_a_pairing_of_ones_own(clone):
    a, b = _towns(clone)
    headers, c, b_rows = _helper_rows(clone, b)
    _, _, a_rows = _helper_rows(clone, a)
    row = list(b_rows[0])  # one of B's households
    for h in ("帮扶责任人编号", "帮扶责任人", "帮扶单位编号", "帮扶单位", "单位级别"):
        row[c[h]] = a_rows[0][c[h]]  # paired with A's cadre, whose phone it would change
    row[c["帮扶责任人联系电话"]] = "13912345678"
    errs = _refused(clone, ("结对帮扶", headers, [row]), b, 1)
    assert any(f"帮扶责任人 {a_rows[0][c['帮扶责任人编号']]}" in e[5] for e in errs)


def test_a_shared_help_unit_cannot_be_renamed_by_a_town(clone):
    a, b = _towns(clone)
    shared = {r[0] for r in q(clone, "SELECT unit_id FROM helper GROUP BY unit_id "
                                     "HAVING COUNT(DISTINCT town_code) > 1")}
    headers, c, b_rows = _helper_rows(clone, b)
    rows = [list(r) for r in b_rows if r[c["帮扶单位编号"]] in shared][:1]
    assert rows, "the demo has a unit with cadres in town B and elsewhere"
    rows[0][c["帮扶单位"]] = "改名单位"
    errs = _refused(clone, ("结对帮扶", headers, rows), b, 1)
    assert any("帮扶单位" in e[5] for e in errs)


def test_a_visit_by_another_towns_cadre_is_refused(clone):
    a, b = _towns(clone)
    headers, rows = S.sheet_from_db(clone, "visits", b)
    a_helper = q(clone, "SELECT helper_id FROM helper WHERE town_code = :a ORDER BY helper_id", a=a.code)[0][0]
    row = list(rows[0])
    row[0] = a_helper
    row[2] = "2026-06-30"
    _refused(clone, ("走访", headers, [row]), b, 1)


def test_own_towns_help_sheets_still_import(clone):
    a, b = _towns(clone)
    headers, c, rows = _helper_rows(clone, b)
    own = {r[0] for r in q(clone, "SELECT helper_id FROM helper WHERE town_code = :b", b=b.code)}
    rows = [list(r) for r in rows if r[c["帮扶责任人编号"]] == sorted(own)[0]]
    for r in rows:
        r[c["帮扶责任人联系电话"]] = "13912345679"
    result = run(clone, [("本镇.xlsx", S.xlsx_bytes([("结对帮扶", headers, rows)]))], scope=b)
    assert errors(result) == [] and result.written
    assert q(clone, "SELECT phone FROM helper WHERE helper_id = :h", h=rows[0][c["帮扶责任人编号"]]) == [
        ("13912345679",)]
    v_headers, v_rows = S.sheet_from_db(clone, "visits", b)
    visit = [r for r in v_rows if r[0] in own][0]
    visit = [visit[0], visit[1], "2026-06-30", visit[3], "本镇走访"]
    result = run(clone, [("走访.xlsx", S.xlsx_bytes([("走访", v_headers, [visit])]))], scope=b)
    assert errors(result) == [] and result.written
