"""Cell parsing of exports: ID numbers, dates, amounts, codes, headers, file types (no database)."""

import datetime as dt
import re

import pytest

from data_access.importer import read as import_read, spec as import_spec
from data_access.importer import values as V


def id_with_check(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights)) % 11]


GOOD_ID = id_with_check("52319919800101001")


def says(error, text: str):
    """pytest.raises for an error whose Chinese message contains ``text`` literally."""
    return pytest.raises(error, match=re.escape(text))


def test_id_number_check_digit_and_date():
    assert V.id_number(GOOD_ID) == GOOD_ID
    assert V.id_number(" " + GOOD_ID.lower() + " ") == GOOD_ID  # spaces, lower-case x
    wrong = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
    with says(V.Bad, f"校验位错误(按前 17 位应为 {GOOD_ID[17]})"):
        V.id_number(wrong)
    with says(V.Bad, "出生日期 19800231 不存在"):
        V.id_number(id_with_check("52319919800231001"))
    with says(V.Bad, "应为 18 位,实为 15 位"):
        V.id_number("523199800101001")


def test_id_number_mangled_by_excel():
    with pytest.raises(V.Bad) as exc:
        V.id_number("5.22428E+17")
    assert str(exc.value) == "证件号码已被 Excel 转为科学计数法,后几位数字已丢失"
    with says(V.Bad, "存成数字"):
        V.id_number(5.22428199001011e17)
    assert V.id_number(int(GOOD_ID)) == GOOD_ID  # an exact integer written by a program keeps its digits


def test_identifiers_keep_digits():
    assert V.identifier(5231991012010001) == "5231991012010001"  # exact int from a program-written workbook
    assert V.identifier("'0012") == "0012"
    with says(V.Bad, "科学计数法"):
        V.identifier("5.23199E+15")
    with says(V.Bad, "超过 15 位"):
        V.identifier(5.231991012010001e15)


@pytest.mark.parametrize("raw", ["2019-03-01", "2019/3/1", "2019.3.1", "2019年3月1日", "20190301", 20190301,
                                 "2019-03-01 00:00:00", 43525, "43525", dt.date(2019, 3, 1),
                                 dt.datetime(2019, 3, 1, 8, 30), "2019 年 3 月 1 日", "2019-03-01"])
def test_dates(raw):
    assert V.date(raw) == dt.date(2019, 3, 1)


def test_bad_dates_and_years():
    with says(V.Bad, "日期 2019-02-30 不存在"):
        V.date("2019-02-30")
    with says(V.Bad, "日期格式无法识别"):
        V.date("三月一日")
    assert V.year("2016年") == 2016
    assert V.year("2016-05") == 2016
    assert V.year(dt.date(2015, 12, 31)) == 2015
    assert V.year(2014.0) == 2014
    assert V.year(42000) == 2014  # an Excel serial of 2014-12-27
    with says(V.Bad, "超出合理范围"):
        V.year("1900")


def test_money_units():
    assert V.money("12.5", "万元") == 125000
    assert V.money(12.5, "万元") == 125000
    assert V.money("1,234.5") == 1235  # whole 元, half up
    assert V.money("3.2万元", "元") == 32000  # the cell's own unit wins
    assert V.money(0.00005, "万元") == 1
    assert V.money(0.1 + 0.2, "万元") == 3000  # no float drift
    with says(V.Bad, "金额不能为负数"):
        V.money("-5")
    with says(V.Bad, "应为数字"):
        V.money("十万")


def test_region_codes():
    assert V.region_code("523199101201") == "523199101201"
    assert V.region_code("523199101201220") == "523199101201"  # 12 digits + urban-rural class
    assert V.region_code(523199101201) == "523199101201"
    with says(V.Bad, "科学计数法"):
        V.region_code("5.23199E+11")
    with says(V.Bad, "应为 12 位数字,实为 9 位"):
        V.region_code("523199101")


def test_codes_and_variants():
    assert V.code("因病致贫", ("因病", "因残"), "致贫原因") == "因病"
    assert V.code("五保户", ("一般贫困户", "低保贫困户", "特困供养贫困户"), "贫困户属性") == "特困供养贫困户"
    assert V.code("初一", V.codes.SCHOOLING, "在校生状况") == "七年级"
    assert V.code("乡（镇）内务工", V.codes.WORK_STATUS, "务工状况") == "乡(镇)内务工"  # full-width brackets
    with says(V.Bad, "“因穷”不在致贫原因代码表中"):
        V.code("因穷", V.codes.CAUSES, "致贫原因")
    assert V.codes_list("缺技术、缺乏资金,因病", V.codes.CAUSES, "致贫原因") == ["缺技术", "缺资金", "因病"]
    assert V.boolean("√") is True and V.boolean("否") is False and V.boolean("") is None
    with says(V.Bad, "应为“是”或“否”"):
        V.boolean("也许")


def test_integers_in_range():
    assert V.integer("4人") == 4
    with says(V.Bad, "数值 13 超出合理范围(0–12)"):
        V.integer("13", 0, 12)
    with says(V.Bad, "应为整数"):
        V.integer("2.5")


def test_header_normalisation_and_synonyms():
    persons = import_spec.PERSONS
    assert import_spec.match_header(persons, " 主要致贫原因 ")[0] == "main_cause"
    assert import_spec.match_header(persons, "致贫原因1")[0] == "main_cause"
    assert import_spec.match_header(persons, "致贫原因")[0] == "main_cause"
    assert import_spec.match_header(persons, "县（市、区、旗）")[0] == "county_name"
    assert import_spec.match_header(persons, "证件\n号码")[0] == "id_number"
    assert import_spec.match_header(persons, "＊姓名")[0] == "name"
    assert import_spec.match_header(import_spec.FUNDS, "下达金额（万元）") == ("amount", "万元")
    assert import_spec.match_header(import_spec.FUNDS, "下达金额(单位:元)") == ("amount", "元")


def test_header_row_found_below_titles():
    rows = [(1, ["云岭县2022年已脱贫人口名单"]), (2, [None, "单位:户、人"]), (3, []),
            (4, ["县(市、区、旗)", "乡(镇)", "行政村", "户编号", "姓名", "证件号码", "与户主关系"]),
            (5, ["云岭县", "青石镇", "白岩村", "1", "张三", GOOD_ID, "户主"])]
    header = import_spec.detect_header(rows, "Sheet1")
    assert header.kind.key == "persons" and header.row_index == 3
    assert [c[1] for c in header.columns] == ["county_name", "town_name", "village_name", "hh_id", "name",
                                              "id_number", "relation"]


def test_every_2022_export_header_is_recognised():
    headers = ("县(市、区、旗), 乡(镇), 行政村, 自然村, 户编号, 人编号, 姓名, 证件号码, 人数, 与户主关系, "
               "民族, 文化程度, "
               "在校生状况, 健康状况, 劳动技能, 务工时间(月), 是否参加大病保险, 致贫原因1, 危房户, 是否解决安全饮用水, "
               "人均纯收入, 户联系电话, 人联系电话, 首次识别时间, 人员识别时间, 户类型, 易返贫致贫户(监测对象)类型, "
               "风险是否消除, 风险识别时间, 风险消除时间").split(", ")
    header = import_spec.detect_header([(1, headers)])
    assert header.kind.key == "persons"
    assert header.unknown == [] and header.duplicates == []
    form_2014 = ["户编号", "姓名", "证件号码", "与户主关系", "识别标准", "贫困户属性", "主要致贫原因", "其他致贫原因",
                 "脱贫年度", "识别年度", "脱贫状态"]
    header = import_spec.detect_header([(1, form_2014)])
    assert header.kind.key == "persons" and header.unknown == []


def test_file_types():
    with says(import_read.FileError, "旧版 Excel(.xls)工作簿内容已损坏或不完整"):
        import_read.read("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with says(import_read.FileError, "PDF"):
        import_read.read("a.pdf", b"%PDF-1.4 ...")
    with says(import_read.FileError, "扩展名是 .xlsx,但内容不是 Excel 或 ODS 工作簿"):
        import_read.read("a.xlsx", "姓名,证件号码\n".encode())
    with says(import_read.FileError, "空的"):
        import_read.read("a.csv", b"")
    text = "户编号,姓名\n1,张三\n"
    for encoding, label in (("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8(带 BOM)"), ("gb18030", "GB18030/GBK"),
                            ("gbk", "GB18030/GBK"), ("utf-16", "UTF-16")):
        raw = import_read.read("a.csv", text.encode(encoding))
        assert raw.encoding == label
        assert raw.sheets[0].rows == [(1, ["户编号", "姓名"]), (2, ["1", "张三"])]
    tabbed = import_read.read("a.txt", "户编号\t姓名\n=\"0012\"\t李四\n".encode("gbk"))
    assert tabbed.sheets[0].rows[1] == (2, ["0012", "李四"])
