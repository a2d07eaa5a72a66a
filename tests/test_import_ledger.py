"""County ledgers (台账) and fund sheets keyed by 文号, and money never lost quietly (issue 19 items 1 and 2).

Each test builds its workbook here (the expected rows are the ones written), imports it into an empty
database on SQLite and PostgreSQL, and checks the rows written, or the exact error and an unchanged database.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path


from data_access import db
from data_access.queries import funds
from data_access.importer.samples import write_typed_row
from data_access.report import formatting as fmt
from data_access.scope import Scope
from tests.helpers import errors, problems, rows as q, run, snapshot

ROOT = Path(__file__).resolve().parent.parent
ERR, NOTE = "错误", "提示"

PLACES = [["区划代码", "名称", "级别", "上级区划代码"],
          ["523199000000", "云岭县", "县", "523100000000"],
          ["523199101000", "青石镇", "乡镇", "523199000000"],
          ["523199101201", "白岩村", "行政村", "523199101000"],
          ["523199101202", "红岩村", "行政村", "523199101000"],
          ["523199102000", "石门乡", "乡镇", "523199000000"],
          ["523199102201", "石门村", "行政村", "523199102000"]]
DOC_A, DOC_B = "云财农〔2020〕12号", "云财农〔2020〕30号"
FUNDS = [["资金文号", "年度", "资金来源", "资金名称", "下达金额(万元)", "下达日期"],
         [DOC_A, 2020, "中央财政专项扶贫资金", "产业发展资金", 500, dt.date(2020, 3, 1)],
         [DOC_B, 2020, "省级财政专项扶贫资金", "基础设施资金", 300, dt.date(2020, 4, 15)]]
LEDGER_HEADER = ["项目编号", "项目名称", "项目类别", "实施地点区划代码", "实施地点", "年度", "总投资(万元)", "资金文号",
                 "累计安排(万元)", "累计拨付(万元)", "累计支出(万元)"]
LEDGER_OCT = [["XM2020001", "白岩村产业园", "产业发展", "523199101201", None, 2020, 260, DOC_A, 250, 226, 180.5],
              ["XM2020002", "红岩村道路硬化", "农村基础设施", None, "青石镇红岩村", 2020, 210, DOC_B, 200, 150, 120],
              ["XM2020003", "石门村饮水工程", "农村基础设施", None, "石门乡石门村", 2020, 90, DOC_B, 80.25, 60, 0]]
LEDGER_DEC = [["XM2020001", "白岩村产业园", "产业发展", "523199101201", None, 2020, 260, DOC_A, 250, 250, 240],
              ["XM2020002", "红岩村道路硬化", "农村基础设施", None, "青石镇红岩村", 2020, 210, DOC_B, 200, 200, 190],
              ["XM2020003", "石门村饮水工程", "农村基础设施", None, "石门乡石门村", 2020, 90, DOC_B, 80.25, 80.25, 70]]
COUNTY = Scope.of("523199000000")


def workbook(sheets: list[tuple[str, list[list]]], exported: str | None = None) -> bytes:
    """Sheets as a county would save them: a title line and an optional 导出时间 line above each header."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets:
        ws = book.add_worksheet(name)
        r = 0
        if exported:
            ws.write_string(0, 0, f"云岭县{name}")
            ws.write_string(1, 0, f"导出时间:{exported}")
            r = 3
        for row in rows:
            write_typed_row(ws, r, row, date)
            r += 1
    book.close()
    return out.getvalue()


def yuan(wan) -> int:
    return int((Decimal(str(wan)) * 10000).to_integral_value(ROUND_HALF_UP))


def rate(part: int, whole: int) -> str:
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.01'), ROUND_HALF_UP)}%"


def _import_ledger(empty, ledger, exported):
    base = run(empty, [("区划与资金.xlsx", workbook([("区划", PLACES), ("资金", FUNDS)]))])
    assert errors(base) == [] and base.written
    result = run(empty, [("项目台账.xlsx", workbook([("项目台账", [LEDGER_HEADER, *ledger])], exported))])
    assert errors(result) == [] and result.written, result.problems
    return result


def _figures_match_the_file(empty, ledger):
    allocated = sum(yuan(r[4]) for r in FUNDS[1:])
    arranged, paid, spent = (sum(yuan(r[i]) for r in ledger) for i in (8, 9, 10))
    sql = q(empty, "SELECT (SELECT SUM(amount) FROM fund WHERE year = 2020), (SELECT SUM(amount) FROM arrangement), "
                   "(SELECT SUM(amount) FROM money_flow WHERE kind = '拨付'), "
                   "(SELECT SUM(amount) FROM money_flow WHERE kind = '支出')")[0]
    assert tuple(int(x) for x in sql) == (allocated, arranged, paid, spent)
    for figures in (funds.totals(empty, COUNTY, 2020), funds.execution(empty, COUNTY, 2020)):
        assert (figures["allocated"], figures["arranged"], figures["paid"], figures["spent"]) == (
            allocated, arranged, paid, spent)
        assert fmt.percent(figures["paid_rate"]) == rate(paid, allocated)
        assert fmt.percent(figures["spent_rate"]) == rate(spent, allocated)
    by_town = funds.execution(empty, Scope.of("523199101000"), 2020)
    assert (by_town["arranged"], by_town["paid"], by_town["spent"]) == tuple(
        sum(yuan(r[i]) for r in ledger[:2]) for i in (8, 9, 10))
    assert fmt.percent(by_town["paid_rate"]) == rate(by_town["paid"], by_town["arranged"])


def test_ledger_with_funds_keyed_by_doc_number(empty):
    _import_ledger(empty, LEDGER_OCT, "2020-10-31 16:02")
    got = q(empty, "SELECT fund_id, doc_no, name, source, year, region_code, amount, allocated_date FROM fund "
                   "ORDER BY fund_id")
    assert [(f, d, n, s, y, c, a, dt.date.fromisoformat(str(ad)[:10])) for f, d, n, s, y, c, a, ad in got] == [
        (r[0], r[0], r[3], r[2], r[1], "523199000000", yuan(r[4]), r[5]) for r in FUNDS[1:]]
    places = {"青石镇红岩村": "523199101202", "石门乡石门村": "523199102201"}
    assert q(empty, "SELECT project_id, name, category, region_code, village_code, year, budget, status FROM project "
                    "ORDER BY project_id") == [
        (r[0], r[1], r[2], r[3] or places[r[4]], r[3] or places[r[4]], r[5], yuan(r[6]), "在建") for r in LEDGER_OCT]
    assert q(empty, "SELECT fund_id, project_id, amount FROM arrangement ORDER BY project_id") == [
        (r[7], r[0], yuan(r[8])) for r in LEDGER_OCT]
    flows = q(empty, "SELECT fund_id, project_id, kind, flow_date, amount FROM money_flow ORDER BY project_id, kind")
    day = dt.date(2020, 10, 31)  # the file gives no dates: the export's
    expected = sorted((r[7], r[0], kind, day, yuan(r[i])) for r in LEDGER_OCT
                      for kind, i in (("拨付", 9), ("支出", 10)) if r[i])
    assert [(f, p, k, dt.date.fromisoformat(str(d)[:10]), a) for f, p, k, d, a in flows] == expected
    assert db.read_meta(empty)["data_as_of"] == "2020-10-31"
    _figures_match_the_file(empty, LEDGER_OCT)


def test_a_later_ledger_replaces_the_cumulative_amounts(empty):
    _import_ledger(empty, LEDGER_OCT, "2020-10-31 16:02")
    again = run(empty, [("项目台账.xlsx", workbook([("项目台账", [LEDGER_HEADER, *LEDGER_OCT])],
                                                  "2020-10-31 16:02"))])
    assert errors(again) == [] and again.changes == 0  # the same ledger again changes nothing
    later = run(empty, [("项目台账12月.xlsx", workbook([("项目台账", [LEDGER_HEADER, *LEDGER_DEC])],
                                                    "2020-12-31 09:00"))])
    assert errors(later) == [] and later.written
    flows = q(empty, "SELECT fund_id, project_id, kind, flow_date, amount FROM money_flow ORDER BY project_id, kind")
    day = dt.date(2020, 12, 31)
    assert [(f, p, k, dt.date.fromisoformat(str(d)[:10]), a) for f, p, k, d, a in flows] == sorted(
        (r[7], r[0], kind, day, yuan(r[i])) for r in LEDGER_DEC for kind, i in (("拨付", 9), ("支出", 10)) if r[i])
    _figures_match_the_file(empty, LEDGER_DEC)


def test_ledger_amounts_beyond_their_limits_are_refused(empty):
    base = run(empty, [("区划与资金.xlsx", workbook([("区划", PLACES), ("资金", FUNDS)]))])
    assert base.written
    before = snapshot(empty)
    bad = [list(r) for r in LEDGER_OCT]
    bad[0][9] = 260  # 拨付 over 安排
    bad[1][7] = "云财农〔2020〕99号"  # a 文号 nowhere
    bad[2][8] = 320  # 安排 of fund B (its other project refused above): 320 > 300
    result = run(empty, [("台账.xlsx", workbook([("项目台账", [LEDGER_HEADER, *bad])]))])
    assert [e[:4] for e in errors(result)] == [("台账.xlsx", "项目台账", 2, "累计拨付(万元)"),
                                              ("台账.xlsx", "项目台账", 3, "资金文号"),
                                              ("台账.xlsx", "项目台账", 4, "累计安排(万元)")]
    assert [e[5] for e in errors(result)] == [
        "累计拨付 2,600,000 元超过累计安排 2,500,000 元",
        "资金文号“云财农〔2020〕99号”在资金表和数据库中都找不到",
        "资金 云财农〔2020〕30号 安排合计 3,200,000 元,超过下达金额 3,000,000 元"]
    assert not result.written and snapshot(empty) == before


# ---- never lose money or a sheet quietly ----------------------------------------------------------------------


def test_a_money_sheet_the_importer_cannot_read_stops_the_import(empty):
    before = snapshot(empty)
    sheets = [("区划", PLACES), ("资金明细", [["资金批次", "到账金额(万元)", "备注"], ["第一批", 120, ""]])]
    result = run(empty, [("县里的表.xlsx", workbook(sheets))])
    assert problems(result) == [(
        "县里的表.xlsx", "资金明细", 1, "", "到账金额(万元)",
        "此工作表含金额(第 1 行“到账金额(万元)”),但没有找到可识别的表头:为免漏记资金,本次没有写入任何数据。"
        "请对照导入模板修改列名,或确认不需要后指明跳过此工作表(--skip-sheet 资金明细)", ERR)]
    assert not result.written and snapshot(empty) == before
    assert result.summary().startswith("未写入数据库")
    assert "有 1 个工作表或金额列未能识别,为免漏记数据,本次没有写入任何数据" in result.summary()
    # --skip-invalid does not pass it; naming the sheet does, and the last line says what was left out.
    assert not run(empty, [("县里的表.xlsx", workbook(sheets))], skip_invalid=True).written
    skipped = run(empty, [("县里的表.xlsx", workbook(sheets))], skip_sheets=["资金明细"])
    assert errors(skipped) == [] and skipped.written and skipped.incomplete
    assert skipped.summary().endswith("。注意:本次跳过了 工作表“资金明细”,这些内容没有导入。")
    assert q(empty, "SELECT COUNT(*) FROM region")[0][0] == len(PLACES) - 1


def test_an_unclassifiable_sheet_stops_the_import(empty):
    before = snapshot(empty)
    result = run(empty, [("县里的表.xlsx", workbook([("区划", PLACES), ("Sheet2", [["甲", "乙"], ["1", "2"]])]))])
    assert problems(result) == [(
        "县里的表.xlsx", "Sheet2", 1, "", "",
        "没有找到可识别的表头,无法判断此工作表的内容:本次没有写入任何数据。请对照导入模板修改列名,"
        "或确认不需要后指明跳过此工作表(--skip-sheet Sheet2)", ERR)]
    assert not result.written and snapshot(empty) == before


def test_an_unmapped_amount_column_stops_the_import(empty):
    run(empty, [("区划与资金.xlsx", workbook([("区划", PLACES), ("资金", FUNDS)]))])
    before = snapshot(empty)
    header = [*LEDGER_HEADER, "群众自筹金额(万元)"]
    rows = [[*r, 5] for r in LEDGER_OCT]
    result = run(empty, [("台账.xlsx", workbook([("项目台账", [header, *rows])]))])
    assert errors(result) == [(
        "台账.xlsx", "项目台账", 1, "群众自筹金额(万元)", "",
        "列名含“金额”,是金额一类的列,但未能识别:为免漏记资金,本次没有写入任何数据。请按导入模板修改列名,"
        "或确认不需要后指明跳过此列(--skip-column 群众自筹金额(万元))", ERR)]
    assert not result.written and snapshot(empty) == before
    skipped = run(empty, [("台账.xlsx", workbook([("项目台账", [header, *rows])]))],
                  skip_columns=["群众自筹金额(万元)"])
    assert errors(skipped) == [] and skipped.written
    assert skipped.summary().endswith("。注意:本次跳过了 列“群众自筹金额(万元)”,这些内容没有导入。")


def test_cli_exits_non_zero_when_it_skipped_anything(tmp_path, empty):
    url = empty.url.render_as_string(hide_password=False)
    path = tmp_path / "县里的表.xlsx"
    path.write_bytes(workbook([("区划", PLACES), ("资金明细", [["资金批次", "到账金额(万元)"], ["第一批", 120]])]))

    def cli(*args):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run([sys.executable, "-m", "data_access", "import", str(path), "--db", url, *args],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)

    refused = cli()
    assert refused.returncode == 1 and "为免漏记资金" in refused.stdout
    done = cli("--skip-sheet", "资金明细")
    assert done.returncode == 1
    assert done.stdout.strip().splitlines()[-1].endswith("。注意:本次跳过了 工作表“资金明细”,这些内容没有导入。")
    assert q(empty, "SELECT COUNT(*) FROM region")[0][0] == len(PLACES) - 1


def test_the_summary_refresh_follows_the_import_without_holding_it(empty, monkeypatch):
    """refresh="after": the import commits and returns while the rebuild is still running (held here by an event);
    the rows are there for any other connection meanwhile, the summaries are stale, then fresh once it ends."""
    import threading

    from data_access.importer import run as importer
    from data_access.summary import read as summary

    started, release = threading.Event(), threading.Event()
    real = importer.refresh_summaries

    def slow(engine):
        started.set()
        assert release.wait(120)
        return real(engine)

    monkeypatch.setattr(importer, "refresh_summaries", slow)
    result = run(empty, [("区划与资金.xlsx", workbook([("区划", PLACES), ("资金", FUNDS)]))], refresh="after")
    try:
        assert result.written and started.wait(60)
        assert q(empty, "SELECT COUNT(*) FROM fund")[0][0] == len(FUNDS) - 1
        assert not summary.fresh(empty)
    finally:
        release.set()
    assert importer.wait_for_refresh(120)
    assert summary.fresh(empty)


def test_a_hidden_list_sheet_is_left_out_with_a_notice_but_a_hidden_money_sheet_is_not(empty):
    import xlsxwriter

    def book(hidden_rows):
        out = io.BytesIO()
        wb = xlsxwriter.Workbook(out, {"in_memory": True})
        ws = wb.add_worksheet("区划")
        for r, row in enumerate(PLACES):
            ws.write_row(r, 0, row)
        lists = wb.add_worksheet("下拉选项")
        for r, row in enumerate(hidden_rows):
            lists.write_row(r, 0, row)
        lists.hide()
        wb.close()
        return out.getvalue()

    lists = run(empty, [("区划.xlsx", book([["是", "否"], ["县", "乡镇"]]))])
    assert errors(lists) == [] and lists.written and not lists.incomplete
    assert problems(lists) == [("区划.xlsx", "下拉选项", None, "", "",
                                "隐藏的工作表,没有可识别的表头,也没有金额(多为下拉选项列表),未导入", NOTE)]
    money = run(empty, [("区划.xlsx", book([["批次", "金额(万元)"], ["一", 5]]))])
    assert [e[:3] for e in errors(money)] == [("区划.xlsx", "下拉选项", 1)] and not money.written
