"""Importer on both backends: round trips, updates by key, all-or-nothing, skip-invalid, the log, the CLI.

Every test writes into its own copy of a small demo database (seed 11, never
the shared read-only seed-7 one): ``clone`` copies it (SQLite backup API /
PostgreSQL ``CREATE DATABASE … TEMPLATE``); ``empty`` is a new empty schema.
Files are written from the database with ``importer.samples`` (the template's
headers), so "nothing changes" can be checked table by table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_access import db, schema
from data_access.importer import samples as S, run as importer
from data_access.scope import Scope
from tests.helpers import errors, last_log, new_id, run, scalar, snapshot, village_scope
from tests.helpers import rows as q

ROOT = Path(__file__).resolve().parent.parent


# ---- helpers ------------------------------------------------------------------------------------------------


def bad_flow_projects(engine) -> set[str]:
    """Projects whose 支出 exceeds 拨付 (the demo's deliberate problem): a real export would be refused."""
    return {r[0] for r in q(engine, """
        SELECT project_id FROM money_flow GROUP BY fund_id, project_id
        HAVING SUM(CASE WHEN kind='支出' THEN amount ELSE 0 END) > SUM(CASE WHEN kind='拨付' THEN amount ELSE 0 END)
    """)}


def full_export(engine, scope=None) -> tuple[bytes, int]:
    sheets = []
    for kind, title in (("places", "区划"), ("population", "农村户籍人口"), ("targets", "年度减贫任务"),
                        ("persons", "人员"), ("incomes", "收入"),
                        ("monitoring", "监测对象"), ("funds", "资金"), ("projects", "项目"),
                        ("arrangements", "资金安排"), ("flows", "拨付支出"), ("lines", "贫困线与监测线"),
                        ("helpers", "结对帮扶"), ("visits", "走访记录"), ("measures", "帮扶措施")):
        headers, rows = S.sheet_from_db(engine, kind, scope)
        if kind == "flows":
            skip = bad_flow_projects(engine)
            rows = [r for r in rows if r[1] not in skip]
        sheets.append((title, headers, rows))
    return S.xlsx_bytes(sheets, title="云岭县扶贫数据导出"), sum(len(rows) for _, _, rows in sheets)


# ---- round trips ------------------------------------------------------------------------------------------------


def test_reimporting_an_export_changes_nothing(clone):
    town = Scope.of(village_scope(clone).code[:9] + "000")
    data, n_rows = full_export(clone, town)
    before = snapshot(clone)
    logs_before = scalar(clone, "SELECT COUNT(*) FROM import_log")
    version = db.read_meta(clone)["data_version"]
    result = run(clone, [("导出.xlsx", data)])
    assert errors(result) == []
    assert result.changes == 0 and result.rows_written == 0 and not result.written
    assert snapshot(clone) == before
    assert db.read_meta(clone)["data_version"] == version  # nothing written: caches stay valid
    log = last_log(clone)
    assert scalar(clone, "SELECT COUNT(*) FROM import_log") == logs_before + 1
    assert (log["file_name"], log["file_hash"], log["rows_read"], log["rows_written"], log["rows_rejected"],
            bool(log["dry_run"]), log["user_id"]) == (
        "导出.xlsx", hashlib.sha256(data).hexdigest(), n_rows, 0, 0, False, "测试")


def test_empty_database_filled_from_files_then_reimport_is_a_no_op(import_base_url, empty):
    source = db.get_engine(import_base_url)
    data, n_rows = full_export(source)
    result = run(empty, [("全县.xlsx", data)], as_of=dt.date(2026, 10, 31))
    assert errors(result) == [] and result.written and result.rows_read == n_rows
    # Independent checks against the source database, table by table.
    for sql in (
        "SELECT code, name, level, parent_code, rural_population, is_poor_village, poor_village_exit_year FROM region "
        "WHERE level IN ('county','town','village')",
        "SELECT hh_id, county_code, town_code, village_code, natural_village, head_name, member_count, kind, attribute,"
        " standard, main_cause, identified_year, exit_year, returned_year, status, policy_status, relocated,"
        " relocation_year, relocation_site, house_grade, safe_water, food_clothing_ok, phone FROM household",
        "SELECT * FROM person", "SELECT * FROM other_cause",
        "SELECT hh_id, year, members, wage, business_income, business_cost, property_income, transfer_income,"
        " transfer_excluded, per_capita_net FROM income",
        "SELECT hh_id, village_code, kind, main_risk, identified_date, removed_date, persons FROM monitoring_object",
        "SELECT * FROM exit_target", "SELECT * FROM village_population", "SELECT * FROM fund",
        "SELECT * FROM project WHERE region_code IS NOT NULL", "SELECT * FROM arrangement a WHERE EXISTS "
        "(SELECT 1 FROM project p WHERE p.project_id = a.project_id AND p.region_code IS NOT NULL)",
        "SELECT * FROM poverty_line", "SELECT * FROM help_unit WHERE unit_id IN (SELECT h.unit_id FROM helper h "
        "JOIN assignment a ON a.helper_id = h.helper_id)",
        "SELECT helper_id, name, unit_id, phone FROM helper WHERE helper_id IN (SELECT helper_id FROM assignment)",
        "SELECT * FROM assignment", "SELECT helper_id, hh_id, village_code, visit_date, kind, note FROM visit",
        "SELECT hh_id, village_code, year, measure, amount FROM help_measure",
    ):
        assert sorted(q(empty, sql), key=repr) == sorted(q(source, sql), key=repr), sql
    flows = ("SELECT fund_id, project_id, kind, amount, flow_date FROM money_flow m WHERE project_id NOT IN "
             "(SELECT project_id FROM project WHERE region_code IS NULL) AND project_id NOT IN ({})".format(
                 ",".join(f"'{p}'" for p in bad_flow_projects(source)) or "''"))
    assert sorted(q(empty, flows), key=repr) == sorted(q(source, flows), key=repr)
    # The figures a leader reads, by township, computed independently.
    per_town = ("SELECT town_code, COUNT(*), SUM(member_count), SUM(CASE WHEN exit_year <= 2019 THEN member_count "
                "ELSE 0 END) FROM household WHERE kind = '建档立卡户' GROUP BY town_code ORDER BY town_code")
    assert q(empty, per_town) == q(source, per_town)
    assert scalar(empty, "SELECT COUNT(*) FROM household h WHERE member_count <> "
                      "(SELECT COUNT(*) FROM person p WHERE p.hh_id = h.hh_id AND p.leave_date IS NULL)") == 0
    assert db.read_meta(empty)["data_as_of"] == "2026-10-31"
    # Importing the same file again changes nothing and is logged with 0 rows written.
    before = snapshot(empty)
    again = run(empty, [("全县.xlsx", data)])
    assert errors(again) == [] and again.changes == 0
    assert snapshot(empty) == before
    log = last_log(empty)
    assert (log["rows_written"], log["rows_rejected"], log["rows_read"]) == (0, 0, result.rows_read)


# ---- newer exports ----------------------------------------------------------------------------------------------


def test_newer_export_updates_changed_records_and_deletes_nothing(clone):
    village = village_scope(clone)
    headers, rows = S.sheet_from_db(clone, "persons", village)
    c = {h: i for i, h in enumerate(headers)}
    rows = [r for r in rows if not r[c["减员日期"]]]  # today's members, as a current 名单 lists them
    households = {}
    for r in rows:
        households.setdefault(r[c["户编号"]], []).append(r)
    exited = [h for h, rs in households.items() if rs[0][c["脱贫状态"]] == "已脱贫" and rs[0][c["脱贫年度"]] < 2020]
    other = [h for h in households if h not in exited[:1]]
    exiting, growing, edited = exited[0], other[0], other[1]
    new_exit = households[exiting][0][c["脱贫年度"]] + 1
    for r in households[exiting]:
        r[c["脱贫年度"]] = new_exit
    person_edit = households[edited][0]
    person_edit[c["文化程度"]] = "大专及以上" if person_edit[c["文化程度"]] != "大专及以上" else "高中"
    size = len(households[growing]) + 1
    for r in households[growing]:
        r[c["人数"]] = size
    baby = list(households[growing][0])
    baby_id = new_id("20260301", 17, "女")
    for h, v in (("人编号", growing + "99"), ("姓名", "新生儿"), ("证件号码", baby_id), ("与户主关系", "之孙女"),
                 ("性别", ""), ("出生日期", ""), ("文化程度", "学龄前儿童"), ("在校生状况", "非在校生"),
                 ("健康状况", "健康"), ("劳动技能", "无劳动力"), ("务工状况", "未外出务工"), ("务工时间(月)", 0),
                 ("人联系电话", "")):
        baby[c[h]] = v
    rows.append(baby)
    # Only this village's rows, and only some of them: the rest of the county must stay as it is.
    kept = [r for r in rows if r[c["户编号"]] in (exiting, growing, edited)]
    before = snapshot(clone)
    result = run(clone, [("新导出.xlsx", S.xlsx_bytes([("人员", headers, kept)]))])
    assert errors(result) == []
    after = snapshot(clone)
    changed = {t for t in before if before[t] != after[t]}
    assert changed == {"household", "person"}
    assert result.tables == {"户": {"新增": 0, "更新": 2}, "人": {"新增": 1, "更新": 1}}
    h = q(clone, "SELECT hh_id, exit_year, status, member_count FROM household WHERE hh_id IN (:a, :b) ORDER BY hh_id",
          a=exiting, b=growing)
    assert dict((x[0], x[1:]) for x in h) == {
        exiting: (new_exit, "已脱贫", len(households[exiting])),
        growing: (household_value(before, growing, "exit_year"), household_value(before, growing, "status"), size)}
    baby_row = q(clone, "SELECT name, sex, birth_date, birth_year, village_code FROM person WHERE id_number = :i",
                 i=baby_id)
    assert [(r[0], r[1], str(r[2])[:10], r[3], r[4]) for r in baby_row] == [
        ("新生儿", "女", "2026-03-01", 2026, village.code)]  # sex and birth date from the ID number
    assert scalar(clone, "SELECT education FROM person WHERE person_id = :p", p=person_edit[c["人编号"]]) == \
        person_edit[c["文化程度"]]
    # Everything else is byte-for-byte the same: other households and people, other villages.
    assert [r for r in after["household"] if r[0] not in (exiting, growing)] == \
        [r for r in before["household"] if r[0] not in (exiting, growing)]
    assert len(after["person"]) == len(before["person"]) + 1
    # rows written = rows whose records changed: both changed households' rows (with the newborn) + the edited person
    assert result.rows_written == len(households[exiting]) + size + 1
    assert last_log(clone)["rows_written"] == result.rows_written


def household_value(snap, hh_id, column):
    row = next(r for r in snap["household"] if r[0] == hh_id)
    return row[list(schema.household.c.keys()).index(column)]


def test_moving_a_person_keeps_both_member_counts_true(clone):
    village = village_scope(clone)
    headers, rows = S.sheet_from_db(clone, "persons", village)
    c = {h: i for i, h in enumerate(headers)}
    by_hh = {}
    for r in rows:
        if not r[c["减员日期"]]:  # today's members (former members stay where they were)
            by_hh.setdefault(r[c["户编号"]], []).append(r)
    src, dst = [h for h, rs in by_hh.items() if len(rs) >= 3][:2]
    mover = next(r for r in by_hh[src] if r[c["与户主关系"]] != "户主")
    moved = list(by_hh[dst][0])
    for h in ("人编号", "姓名", "证件号码", "性别", "出生日期", "文化程度", "在校生状况", "健康状况", "劳动技能",
              "务工状况", "务工时间(月)", "是否参加城乡居民基本医疗保险", "是否参加大病保险", "人联系电话"):
        moved[c[h]] = mover[c[h]]
    moved[c["与户主关系"]] = "其他"
    dst_rows = by_hh[dst] + [moved]
    for r in dst_rows:
        r[c["人数"]] = len(dst_rows)
    result = run(clone, [("迁入.xlsx", S.xlsx_bytes([("人员", headers, dst_rows)]))])
    assert errors(result) == []
    counts = dict(q(clone, "SELECT hh_id, member_count FROM household WHERE hh_id IN (:a, :b)", a=src, b=dst))
    persons = dict(q(clone, "SELECT hh_id, COUNT(*) FROM person WHERE hh_id IN (:a, :b) AND leave_date IS NULL "
                            "GROUP BY hh_id", a=src, b=dst))
    assert counts == persons == {src: len(by_hh[src]) - 1, dst: len(by_hh[dst]) + 1}
    assert scalar(clone, "SELECT hh_id FROM person WHERE person_id = :p", p=mover[c["人编号"]]) == dst


def test_a_household_over_two_sheets_takes_the_columns_of_both(clone):
    """One household's rows in two 人员 sheets of one file, each with columns the other lacks: the household's
    values come from both sheets (the 户联系电话 only the second has, the 户类型 and 人数 only the first has)."""
    village = village_scope(clone)
    headers, rows = S.sheet_from_db(clone, "persons", village)
    c = {h: i for i, h in enumerate(headers)}
    by_hh = {}
    for r in rows:
        if not r[c["减员日期"]]:
            by_hh.setdefault(r[c["户编号"]], []).append(r)
    hh, members = next((h, rs) for h, rs in by_hh.items() if len(rs) >= 2)
    if len(members) != len([r for r in rows if r[c["户编号"]] == hh]):
        pytest.skip("the household has former members")
    first = [h for h in headers if h != "户联系电话"]
    second = [h for h in headers if h not in ("户类型", "人数")]
    members[0][c["人数"]] = len(members)
    for r in members[1:]:
        r[c["户联系电话"]] = "13912345678"
    result = run(clone, [("两表.xlsx", S.xlsx_bytes([
        ("人员", first, [[r[c[h]] for h in first] for r in members[:1]]),
        ("人员2", second, [[r[c[h]] for h in second] for r in members[1:]])]))])
    assert errors(result) == []
    assert q(clone, "SELECT phone, member_count FROM household WHERE hh_id = :h", h=hh) == [
        ("13912345678", len(members))]


# ---- all or nothing -----------------------------------------------------------------------------------------------


def _one_bad_one_changed(engine):
    village = village_scope(engine)
    headers, rows = S.sheet_from_db(engine, "persons", village)
    c = {h: i for i, h in enumerate(headers)}
    hh_ids = list(dict.fromkeys(r[c["户编号"]] for r in rows))
    bad_hh, good_hh = hh_ids[0], hh_ids[1]
    bad_row = next(i for i, r in enumerate(rows) if r[c["户编号"]] == bad_hh)
    good_id = rows[bad_row][c["证件号码"]]
    broken = good_id[:17] + ("1" if good_id[17] != "1" else "2")
    rows[bad_row][c["证件号码"]] = broken
    for r in rows:
        if r[c["户编号"]] == good_hh:
            r[c["户联系电话"]] = "13900000000"
    return headers, rows, c, bad_hh, good_hh, bad_row, broken, good_id


def test_one_invalid_row_means_nothing_is_written(clone):
    headers, rows, c, bad_hh, good_hh, bad_row, broken, good_id = _one_bad_one_changed(clone)
    before = snapshot(clone)
    data = S.xlsx_bytes([("人员", headers, rows)])
    result = run(clone, [("有错.xlsx", data)])
    assert errors(result) == [("有错.xlsx", "人员", bad_row + 2, "证件号码", broken,
                               f"证件号码校验位错误(按前 17 位应为 {good_id[17]})", "错误")]
    assert not result.written and result.tables == {}
    assert snapshot(clone) == before
    log = last_log(clone)
    assert (log["rows_read"], log["rows_written"], log["rows_rejected"]) == (len(rows), 0, 1)
    assert "未写入" in log["message"]
    assert "没有写入任何数据" in result.summary()


def test_skip_invalid_writes_the_valid_rows_only(clone):
    headers, rows, c, bad_hh, good_hh, bad_row, broken, good_id = _one_bad_one_changed(clone)
    before = snapshot(clone)
    result = run(clone, [("有错.xlsx", S.xlsx_bytes([("人员", headers, rows)]))], skip_invalid=True)
    mates = [i for i, r in enumerate(rows) if r[c["户编号"]] == bad_hh and i != bad_row]
    assert errors(result) == [("有错.xlsx", "人员", bad_row + 2, "证件号码", broken,
                               f"证件号码校验位错误(按前 17 位应为 {good_id[17]})", "错误")] + [
        ("有错.xlsx", "人员", i + 2, "户编号", bad_hh, "同一户的其他行有错误,整户未导入", "错误") for i in mates]
    assert result.written and result.tables == {"户": {"新增": 0, "更新": 1}}
    after = snapshot(clone)
    assert {t for t in before if before[t] != after[t]} == {"household"}
    assert scalar(clone, "SELECT phone FROM household WHERE hh_id = :h", h=good_hh) == "13900000000"
    log = last_log(clone)
    n_good = sum(1 for r in rows if r[c["户编号"]] == good_hh)
    assert (log["rows_written"], log["rows_rejected"]) == (n_good, len(mates) + 1)


def test_dry_run_reports_changes_but_writes_nothing(clone):
    headers, rows, *_ = _one_bad_one_changed(clone)
    before = snapshot(clone)
    result = run(clone, [("试.xlsx", S.xlsx_bytes([("人员", headers, rows)]))], dry_run=True, skip_invalid=True)
    assert result.tables == {"户": {"新增": 0, "更新": 1}} and not result.written
    assert snapshot(clone) == before
    assert bool(last_log(clone)["dry_run"]) is True


def test_scope_limits_what_a_township_admin_may_import(clone):
    village = village_scope(clone)
    other_town = q(clone, "SELECT code FROM region WHERE level='town' AND code <> :t ORDER BY code",
                   t=village.code[:9] + "000")[0][0]
    headers, rows = S.sheet_from_db(clone, "persons", village)
    before = snapshot(clone)
    result = run(clone, [("越权.xlsx", S.xlsx_bytes([("人员", headers, rows[:1])]))], scope=Scope.of(other_town))
    assert [e[5] for e in errors(result)] == [f"地点 {village.code} 超出本账号可导入的范围({other_town})"]
    assert snapshot(clone) == before


# ---- the log, the query for the page, the CLI ---------------------------------------------------------------------


def test_history_matches_the_log_at_every_scope(clone):
    run(clone, [("a.csv", "户编号,姓名\n".encode())])
    run(clone, [("b.xlsx", b"not a workbook")])
    expected = q(clone, "SELECT id, file_name, rows_read, rows_written, rows_rejected FROM import_log "
                        "ORDER BY imported_at DESC, id DESC")
    county = Scope.of("523199000000")
    df = importer.history(clone, county, limit=50)  # unlimited runs are the county's (see test_security_import_log)
    assert [tuple(r) for r in df[["id", "file_name", "rows_read", "rows_written", "rows_rejected"]]
            .itertuples(index=False)] == expected
    assert list(importer.history(clone, county, limit=1)["id"]) == [expected[0][0]]


def test_report_workbook_lists_every_problem(clone):
    headers, rows, c, bad_hh, good_hh, bad_row, broken, good_id = _one_bad_one_changed(clone)
    result = run(clone, [("有错.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    from data_access.importer.read import read

    book = read("report.xlsx", importer.report_xlsx(result))
    listed = book.sheets[0].rows
    assert listed[0][1] == importer.PROBLEM_COLUMNS
    assert [tuple(r) for _, r in listed[1:]] == [
        ("有错.xlsx", "人员", bad_row + 2, "证件号码", broken,
         f"证件号码校验位错误(按前 17 位应为 {good_id[17]})", "错误")]
    assert book.sheets[1].name == "汇总" and book.sheets[1].rows[0][1][0] == result.summary()


def test_cli_exit_codes_and_chinese_messages(tmp_path, registry_backend, cloner, import_base_url):
    if registry_backend != "sqlite":
        pytest.skip("the command line is the same on both backends; run once")
    url = cloner(import_base_url, "import_test")
    engine = db.get_engine(url)
    headers, rows, *_ = _one_bad_one_changed(engine)
    bad = tmp_path / "有错.xlsx"
    bad.write_bytes(S.xlsx_bytes([("人员", headers, rows)]))
    good = tmp_path / "区划.csv"
    good.write_bytes(S.csv_bytes(*S.sheet_from_db(engine, "places"), encoding="gbk"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "data_access", "import", *args, "--db", url],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)

    out = cli(str(bad), "--report", str(tmp_path / "问题.xlsx"))
    assert out.returncode == 1 and "Traceback" not in out.stderr + out.stdout
    assert "证件号码校验位错误" in out.stdout and "本次没有写入任何数据" in out.stdout
    assert (tmp_path / "问题.xlsx").stat().st_size > 0
    out = cli(str(good))
    assert out.returncode == 0 and "编码 GB18030/GBK" in out.stdout and "没有需要更新的内容" in out.stdout
    out = cli(str(tmp_path / "没有这个文件.xlsx"))
    assert out.returncode == 2 and "找不到文件" in out.stderr and "Traceback" not in out.stderr
