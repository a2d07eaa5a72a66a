"""What real exports do, fed deliberately: each file's exact report, and the database unchanged (both backends).

Files are built from one village of the writable seed-11 copy (``clone``), so
a well-read file changes nothing and a broken one is reported row by row.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
import xlsxwriter
from sqlalchemy import text

from data_access import codes
from data_access.importer import samples as S
from tests.helpers import errors, last_log, new_id, problems, run, snapshot, village_scope
from tests.helpers import rows as q

ERR, NOTE = "错误", "提示"


def village_sheet(engine):
    headers, rows = S.sheet_from_db(engine, "persons", village_scope(engine))
    return headers, rows, {h: i for i, h in enumerate(headers)}


def households_of(rows, c):
    out: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        out.setdefault(r[c["户编号"]], []).append(i)
    return out


def xlsx(layout: list, sheet: str = "人员", extra: list[tuple[str, list]] = ()) -> bytes:
    """A workbook from rows of cells exactly as given (None = empty cell, [] = empty row)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in [(sheet, layout), *extra]:
        ws = book.add_worksheet(name)
        for r, cells in enumerate(rows):
            for col, value in enumerate(cells or []):
                if value is None or value == "":
                    continue
                if isinstance(value, (dt.date, dt.datetime)):
                    ws.write_datetime(r, col, value, dates)
                elif isinstance(value, str):
                    ws.write_string(r, col, value)
                else:
                    ws.write_number(r, col, value)
    book.close()
    return out.getvalue()


def unchanged(engine, before, result) -> None:
    assert snapshot(engine) == before
    assert result.changes == 0


# ---- tolerated -------------------------------------------------------------------------------------------------------


def test_title_rows_empty_rows_total_row_and_footnote(clone):
    headers, rows, c = village_sheet(clone)
    layout = [["云岭县建档立卡人员名单(2024年)"], [None, None, "单位:户、人"], [], headers]
    layout += rows[:3] + [[], [None] * 5] + rows[3:]
    layout += [["合计", None, None, None, None, len(rows)], ["制表人:张三    审核人:李四"]]
    before = snapshot(clone)
    result = run(clone, [("名单.xlsx", xlsx(layout))])
    assert problems(result) == []
    assert result.rows_read == len(rows) and result.files[0].sheets[0]["header_row"] == 4
    unchanged(clone, before, result)


def test_headers_with_spaces_full_width_characters_and_synonyms(clone):
    headers, rows, c = village_sheet(clone)
    renamed = {"主要致贫原因": "致贫原因1", "乡(镇)": "乡\uff08镇\uff09", "证件号码": " 证件\n号码 ",
               "姓名": "姓\u3000名", "务工时间(月)": "务工时间\uff08月\uff09",
               "是否参加城乡居民基本医疗保险": "是否参加基本医疗保险",
               "识别年度": "首次识别时间", "户编号": "*户编号"}
    headers = [renamed.get(h, h) for h in headers] + ["县(市、区、旗)"]
    for r in rows:
        r[c["识别年度"]] = f"{r[c['识别年度']]}-03-01" if r[c["识别年度"]] != "" else ""
        r.append("云岭县")
    before = snapshot(clone)
    result = run(clone, [("名单.xlsx", S.xlsx_bytes([("Sheet1", headers, rows)]))])
    assert problems(result) == []
    unchanged(clone, before, result)


@pytest.mark.parametrize("encoding,label", [("gb18030", "GB18030/GBK"), ("gbk", "GB18030/GBK"),
                                            ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8(带 BOM)")])
def test_csv_encodings_are_detected(clone, encoding, label):
    headers, rows, c = village_sheet(clone)
    before = snapshot(clone)
    result = run(clone, [("名单.csv", S.csv_bytes(headers, rows, encoding=encoding, title="云岭县人员名单"))])
    assert problems(result) == [] and result.files[0].encoding == label
    unchanged(clone, before, result)


def test_dates_as_text_and_excel_serials(clone):
    headers, rows, c = village_sheet(clone)
    for i, r in enumerate(rows):
        born = dt.date.fromisoformat(r[c["出生日期"]])
        r[c["出生日期"]] = (f"{born.year}/{born.month}/{born.day}", f"{born.year}年{born.month}月{born.day}日",
                          born.strftime("%Y%m%d"), (born - dt.date(1899, 12, 30)).days, born,
                          f"{born.isoformat()} 00:00:00")[i % 6]
    before = snapshot(clone)
    result = run(clone, [("日期.xlsx", xlsx([headers, *rows]))])
    assert problems(result) == []
    unchanged(clone, before, result)


def income_sheet(engine, divide: int):
    headers, rows = S.sheet_from_db(engine, "incomes", village_scope(engine))
    for r in rows:
        for i in range(3, 9):
            r[i] = r[i] / divide if divide != 1 else r[i]
    return headers, rows


def test_amounts_in_wan_yuan_as_the_header_says(clone):
    headers, rows = income_sheet(clone, 10_000)
    before = snapshot(clone)
    wan = [h.replace("(元)", "(万元)") for h in headers]
    result = run(clone, [("收入.xlsx", S.xlsx_bytes([("收入", wan, rows)]))])
    assert problems(result) == []
    unchanged(clone, before, result)
    bare = [h.replace("(元)", "") for h in headers]
    result = run(clone, [("收入.xlsx", xlsx([["2023年收入台账"], ["单位:万元"], bare, *rows]))])
    assert problems(result) == []
    unchanged(clone, before, result)


def test_amounts_without_a_unit_are_read_in_yuan_with_a_notice(clone):
    headers, rows = income_sheet(clone, 1)
    bare = [h.replace("(元)", "") for h in headers]
    before = snapshot(clone)
    result = run(clone, [("收入.xlsx", xlsx([bare, *rows], sheet="收入"))])
    assert problems(result) == [
        ("收入.xlsx", "收入", None, h, "", "表头未注明金额单位,按“元”读取(如为万元,请把表头写成“金额(万元)”)", NOTE)
        for h in bare[3:]]
    unchanged(clone, before, result)


def test_known_variants_are_normalised(clone):
    headers, rows, c = village_sheet(clone)
    variants = {"因病": "因病致贫", "缺劳力": "缺劳动力", "缺资金": "缺乏资金", "特困供养贫困户": "五保户",
                "配偶": "妻", "七年级": "初一", "弱劳动力或半劳动力": "半劳动力"}
    touched = 0
    for r in rows:
        for col in ("主要致贫原因", "贫困户属性", "与户主关系", "在校生状况", "劳动技能"):
            if r[c[col]] in variants:
                r[c[col]] = variants[r[c[col]]]
                touched += 1
    assert touched > 5
    before = snapshot(clone)
    result = run(clone, [("别写.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    assert problems(result) == []
    unchanged(clone, before, result)


def test_free_text_relations_become_other_with_one_notice(clone):
    with clone.begin() as conn:  # make sure the village has someone recorded as 其他
        conn.execute(text("UPDATE person SET relation = '其他' WHERE person_id = (SELECT MIN(person_id) FROM person "
                             "WHERE relation <> '户主' AND village_code = :v)"), {"v": village_scope(clone).code})
    headers, rows, c = village_sheet(clone)
    others = [i for i, r in enumerate(rows) if r[c["与户主关系"]] == "其他"]
    for i in others:
        rows[i][c["与户主关系"]] = "之曾孙女"
    before = snapshot(clone)
    result = run(clone, [("名单.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    assert others
    expected = [("名单.xlsx", "人员", None, "与户主关系", f"之曾孙女({len(others)} 行)",
                 f"与户主关系中有 {len(others)} 行不是标准称谓,已记为“其他”", NOTE)]
    assert problems(result) == expected
    unchanged(clone, before, result)


# ---- refused, row by row ---------------------------------------------------------------------------------------------


def test_id_number_in_scientific_notation_is_refused(clone):
    headers, rows, c = village_sheet(clone)
    rows[4][c["证件号码"]] = "5.22428E+17"
    before = snapshot(clone)
    result = run(clone, [("名单.csv", S.csv_bytes(headers, rows))])
    assert problems(result) == [("名单.csv", "", 6, "证件号码", "5.22428E+17",
                                 "证件号码已被 Excel 转为科学计数法,后几位数字已丢失", ERR)]
    unchanged(clone, before, result)
    assert last_log(clone)["rows_rejected"] == 1


def test_id_number_stored_as_a_number_is_refused(clone):
    headers, rows, c = village_sheet(clone)
    number = float(rows[2][c["证件号码"]].replace("X", "0"))
    rows[2][c["证件号码"]] = number
    before = snapshot(clone)
    result = run(clone, [("名单.xlsx", xlsx([headers, *rows]))])
    assert problems(result) == [("名单.xlsx", "人员", 4, "证件号码", str(number),
                                 "证件号码已被 Excel 存成数字,超过 15 位的部分(后几位)已丢失,"
                                 "请把该列设为文本格式后重新导出", ERR)]
    unchanged(clone, before, result)


def test_region_code_that_does_not_exist(clone):
    headers, rows, c = village_sheet(clone)
    hh = households_of(rows, c)
    target = list(hh)[1]
    for i in hh[target]:
        rows[i][c["区划代码"]] = "523199109299"
    head = next(i for i in hh[target] if rows[i][c["与户主关系"]] == "户主")
    before = snapshot(clone)
    result = run(clone, [("名单.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    assert problems(result) == [("名单.xlsx", "人员", head + 2, "区划代码", "523199109299",
                                 "区划代码 523199109299 在数据库和本次文件的区划表中都不存在", ERR)]
    unchanged(clone, before, result)


def test_place_by_names_that_do_not_exist(clone):
    headers, rows, c = village_sheet(clone)
    keep = [i for i, h in enumerate(headers) if h != "区划代码"]
    headers = [headers[i] for i in keep]
    rows = [[r[i] for i in keep] for r in rows]
    c = {h: i for i, h in enumerate(headers)}
    hh = households_of(rows, c)
    target = list(hh)[0]
    for i in hh[target]:
        rows[i][c["行政村"]] = "不存在村"
    head = next(i for i in hh[target] if rows[i][c["与户主关系"]] == "户主")
    town = rows[head][c["乡(镇)"]]
    before = snapshot(clone)
    result = run(clone, [("名单.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    assert problems(result) == [("名单.xlsx", "人员", head + 2, "行政村", "不存在村",
                                 f"在{town}找不到行政村“不存在村”", ERR)]
    unchanged(clone, before, result)


def test_values_outside_the_code_lists(clone):
    headers, rows, c = village_sheet(clone)
    hh = households_of(rows, c)
    target = list(hh)[2]
    for i in hh[target]:
        rows[i][c["主要致贫原因"]] = "因穷"
    rows[0][c["文化程度"]] = "硕士"
    before = snapshot(clone)
    result = run(clone, [("名单.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    causes = "、".join(codes.CAUSES)
    education = "、".join(codes.EDUCATION)
    expected = [("名单.xlsx", "人员", 2, "文化程度", "硕士", f"“硕士”不在文化程度代码表中(可用:{education})", ERR)]
    expected += [("名单.xlsx", "人员", i + 2, "主要致贫原因", "因穷", f"“因穷”不在致贫原因代码表中(可用:{causes})", ERR)
                 for i in hh[target]]
    assert sorted(problems(result), key=lambda p: p[2]) == sorted(expected, key=lambda p: p[2])
    unchanged(clone, before, result)


def test_numbers_out_of_range(clone):
    headers, rows, c = village_sheet(clone)
    hh = households_of(rows, c)
    target = list(hh)[3]
    for i in hh[target]:
        rows[i][c["人数"]] = 0
    rows[1][c["务工时间(月)"]] = 13
    before = snapshot(clone)
    result = run(clone, [("名单.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    expected = [("名单.xlsx", "人员", 3, "务工时间(月)", "13", "数值 13 超出合理范围(0–12)", ERR)]
    expected += [("名单.xlsx", "人员", i + 2, "人数", "0", "数值 0 超出合理范围(1–40)", ERR) for i in hh[target]]
    assert sorted(problems(result), key=lambda p: p[2]) == sorted(expected, key=lambda p: p[2])
    unchanged(clone, before, result)


def test_rows_of_one_household_disagree(clone):
    headers, rows, c = village_sheet(clone)
    hh = households_of(rows, c)
    target = next(h for h, ix in hh.items() if len(ix) >= 3 and rows[ix[0]][c["贫困户属性"]])
    head = next(i for i in hh[target] if rows[i][c["与户主关系"]] == "户主")
    other = next(i for i in hh[target] if i != head)
    was = rows[head][c["贫困户属性"]]
    now = "低保贫困户" if was != "低保贫困户" else "一般贫困户"
    rows[other][c["贫困户属性"]] = now
    before = snapshot(clone)
    result = run(clone, [("名单.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    assert problems(result) == [("名单.xlsx", "人员", other + 2, "贫困户属性", now,
                                 f"同一户各行的“贫困户属性”不一致:本行为“{now}”,第 {head + 2} 行为“{was}”", ERR)]
    unchanged(clone, before, result)


def test_members_whose_household_is_missing(clone):
    headers, rows, c = village_sheet(clone)
    orphan = list(rows[1])
    orphan_hh = rows[1][c["户编号"]][:12] + "9999"
    orphan[c["户编号"]], orphan[c["人编号"]] = orphan_hh, orphan_hh + "02"
    orphan[c["证件号码"]], orphan[c["与户主关系"]], orphan[c["人数"]] = new_id("19900101", 11), "之子", 1
    orphan[c["性别"]] = orphan[c["出生日期"]] = ""
    persons = [headers, orphan]
    income_headers, _ = S.sheet_from_db(clone, "incomes", village_scope(clone))
    incomes = [income_headers, [orphan_hh, 2024, 1, 100, 0, 0, 0, 0, 0], ["523199000000" + "0001", 2024, 1, 0, 0, 0,
                                                                        0, 0, 0]]
    before = snapshot(clone)
    result = run(clone, [("缺户.xlsx", xlsx(persons, extra=[("收入", incomes)]))])
    assert problems(result) == [
        ("缺户.xlsx", "人员", 2, "与户主关系", "",
         "该户没有“与户主关系”为户主的行,也未填户主姓名;数据库中也没有此户", ERR),
        ("缺户.xlsx", "收入", 2, "户编号", orphan_hh,
         f"户编号 {orphan_hh} 的人员行有错误未导入,数据库中也没有此户", ERR),
        ("缺户.xlsx", "收入", 3, "户编号", "5231990000000001",
         "户编号 5231990000000001 在数据库和本次文件中都不存在", ERR),
    ]
    unchanged(clone, before, result)


def test_duplicates_within_the_file(clone):
    headers, rows, c = village_sheet(clone)
    rows.append(list(rows[3]))
    before = snapshot(clone)
    result = run(clone, [("重复.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    assert problems(result) == [("重复.xlsx", "人员", len(rows) + 1, "", rows[3][c["人编号"]],
                                 "与第 5 行重复(同一人编号)", ERR)]
    unchanged(clone, before, result)


def test_member_count_must_match_the_persons(clone):
    headers, rows, c = village_sheet(clone)
    hh = households_of(rows, c)
    target = list(hh)[0]
    size = len(hh[target])
    for i in hh[target]:
        rows[i][c["人数"]] = size + 1
    before = snapshot(clone)
    left = sum(1 for i in hh[target] if rows[i][c["减员日期"]])  # former members are rows, not members
    result = run(clone, [("人数.xlsx", S.xlsx_bytes([("人员", headers, rows)]))])
    said = f"文件中该户 {size} 行" + (f",其中 {left} 人已减员" if left else "")
    assert problems(result) == [("人数.xlsx", "人员", i + 2, "人数", str(size + 1),
                                 f"人数为 {size + 1},但该户导入后共有 {size - left} 人({said})", ERR)
                                for i in hh[target]]
    unchanged(clone, before, result)


# ---- refused, whole files ----------------------------------------------------------------------------------


def _good_xlsx(engine) -> bytes:
    headers, rows, _ = village_sheet(engine)
    return S.xlsx_bytes([("人员", headers, rows)])


BROKEN = {
    "truncated": ("名单.xlsx", lambda good: good[: len(good) // 2],
                  "文件不是有效的 Excel 工作簿,或已损坏、不完整(例如下载未完成)"),
    "old_xls": ("名单.xls", lambda good: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
                "旧版 Excel(.xls)工作簿内容已损坏或不完整,无法读取(CalamineError)"),
    "pdf": ("名单.pdf", lambda good: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
            "这是 PDF 文件,无法导入:请从系统导出 Excel 或 CSV"),
    "binary": ("名单.dat", lambda good: bytes(range(256)) * 4, "文件不是文本(CSV)也不是 Excel 工作簿,无法导入"),
    "renamed": ("名单.xlsx", lambda good: "户编号,姓名\n1,张三\n".encode("gbk"),
                "扩展名是 .xlsx,但内容不是 Excel 或 ODS 工作簿(文件可能已损坏、不完整或被改了扩展名)"),
    "docx": ("名单.xlsx", lambda good: _zip({"word/document.xml": b"<w/>"}),
             "这是 Word 文档(.docx),不是 Excel 工作簿:请从系统导出 Excel 或 CSV"),
    "empty": ("名单.csv", lambda good: b"", "文件是空的(0 字节)"),
    "no_header": ("名单.csv", lambda good: "甲,乙,丙\n1,2,3\n".encode(),
                  "文件中没有可导入的内容:没有找到任何可识别的表头(请对照导入模板的列名)"),
}


def _zip(files: dict[str, bytes]) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_and_foreign_files_are_refused(clone, case):
    name, make, reason = BROKEN[case]
    before = snapshot(clone)
    result = run(clone, [(name, make(_good_xlsx(clone)))])
    expected = [(name, "", None, "", "", reason, ERR)]
    if case == "no_header":
        expected.insert(0, (name, "", 1, "", "", "没有找到可识别的表头,无法判断此工作表的内容:本次没有写入任何数据。"
                            "请对照导入模板修改列名,或确认不需要后指明跳过此工作表(--skip-sheet 名单.csv)", ERR))
    assert problems(result) == expected
    unchanged(clone, before, result)
    log = last_log(clone)
    assert (log["file_name"], log["rows_read"], log["rows_written"], log["message"]) == (name, 0, 0, reason)


def test_a_missing_required_column_refuses_the_sheet(clone):
    headers, rows = S.sheet_from_db(clone, "funds")
    drop = headers.index("年度")
    before = snapshot(clone)
    data = xlsx([["资金下达台账"], [h for i, h in enumerate(headers) if i != drop],
                 *[[v for i, v in enumerate(r) if i != drop] for r in rows]], sheet="资金")
    result = run(clone, [("资金.xlsx", data)])
    assert problems(result) == [("资金.xlsx", "资金", 2, "年度", "", "缺少必需的列:年度", ERR)]
    unchanged(clone, before, result)


# ---- the 2022 national export -------------------------------------------------------------------------------

EXPORT_2022 = ("县(市、区、旗)", "乡(镇)", "行政村", "自然村", "户编号", "人编号", "姓名", "证件号码", "人数",
               "与户主关系", "民族", "文化程度", "在校生状况", "健康状况", "劳动技能", "务工时间(月)",
               "是否参加大病保险", "致贫原因1", "危房户",
               "是否解决安全饮用水", "人均纯收入", "户联系电话", "人联系电话", "首次识别时间", "人员识别时间", "户类型",
               "易返贫致贫户(监测对象)类型", "风险是否消除", "风险识别时间", "风险消除时间")


def export_2022(engine) -> tuple[list[str], list[list], int]:
    rows = q(engine, """
        SELECT h.hh_id, t.name, v.name, h.natural_village, p.person_id, p.name, p.id_number, h.member_count, p.relation,
               p.ethnicity, p.education, p.schooling, p.health, p.labour_skill, p.work_months,
               p.serious_illness_insurance, h.main_cause, h.house_grade, h.safe_water, h.phone, p.phone,
               h.identified_year, h.kind, h.status, m.kind, m.identified_date, m.removed_date
        FROM person p JOIN household h ON h.hh_id = p.hh_id JOIN region v ON v.code = h.village_code
        JOIN region t ON t.code = h.town_code LEFT JOIN monitoring_object m ON m.hh_id = h.hh_id
        ORDER BY h.hh_id, p.person_id""")
    yes = lambda b: "" if b is None else ("是" if b else "否")  # noqa: E731
    out = []
    for (hh, town, village, group, pid, name, idn, n, rel, eth, edu, school, health, skill, months, serious, cause,
         grade, water, hh_phone, phone, iy, kind, status, mkind, mdate, mremoved) in rows:
        if kind == "一般农户":
            htype = "监测户" if mkind else "一般农户"
        else:
            htype = {"已脱贫": "脱贫户", "未脱贫": "贫困户", "返贫": "返贫户"}[status]
        out.append(["云岭县", town, village, group or "", hh, pid, name, idn, n, rel, eth, edu, school, health, skill,
                    months, yes(serious), cause or "", "" if grade is None else yes(grade in ("C", "D")), yes(water),
                    "8000", hh_phone or "", phone or "", f"{iy}-06-01" if iy else "", "2014-06-01", htype,
                    mkind or "", yes(mremoved is not None) if mkind else "", str(mdate or "")[:10],
                    str(mremoved or "")[:10]])
    monitored = len({r[4] for r in out if r[26]})
    return list(EXPORT_2022), out, monitored


def test_the_2022_export_layout_reads_without_changes(clone):
    headers, rows, monitored = export_2022(clone)
    before = snapshot(clone)
    result = run(clone, [("已脱贫人口名单.xlsx", S.xlsx_bytes([("Sheet1", headers, rows)], title="已脱贫人口名单"))])
    expected = [
        ("已脱贫人口名单.xlsx", "Sheet1", None, "人均纯收入", "",
         "“人均纯收入”列未导入:收入请用“收入”表导入(需有年度与各项收入)", NOTE),
        ("已脱贫人口名单.xlsx", "Sheet1", None, "人员识别时间", "", "“人员识别时间”列未导入:库中无此字段", NOTE),
    ]
    tally = [p for p in problems(result)
             if p[3] == "易返贫致贫户(监测对象)类型" or p[5].startswith("文件没有“主要风险”")]
    assert [p for p in problems(result) if p not in tally] == expected
    assert monitored > 0 and len(tally) == 1 and tally[0][5].startswith(f"文件没有“主要风险”:{monitored} 户监测对象")
    unchanged(clone, before, result)


def test_the_2022_export_without_exit_years_is_refused_on_an_empty_database(clone, empty):
    headers, rows, _ = export_2022(clone)
    places = S.sheet_from_db(clone, "places")
    before = snapshot(empty)
    result = run(empty, [("区划.xlsx", S.xlsx_bytes([("区划", *places)])),
                         ("已脱贫人口名单.xlsx", S.xlsx_bytes([("Sheet1", headers, rows)]))])
    exited = {r[4] for r in rows if r[25] == "脱贫户"}
    reason = ("户类型为脱贫户(或状态已脱贫),但没有脱贫年度:文件没有“脱贫年度”列,数据库中也没有此户的脱贫年度,"
              "请在文件中增加“脱贫年度”列")
    returned = {r[4] for r in rows if r[25] == "返贫户"}
    refused = [e for e in errors(result) if e[5] == reason]
    assert [e[4] for e in errors(result) if e[5] != reason] == ["返贫户"] * len(returned)
    assert {e[5] for e in errors(result) if e[5] != reason} <= {"脱贫状态为返贫,但没有返贫年度"}
    assert len(refused) == len(exited) > 0
    assert snapshot(empty) == before and not result.written
