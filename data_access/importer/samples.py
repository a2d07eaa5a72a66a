"""Files in the national-export layout, written from a registry database: for tests, the benchmark and demos.

``sheet_from_db(engine, kind, scope)`` gives ``(headers, rows)`` for one sheet
kind with the template's headers and the values as an export writes them
(labels, ISO dates, 是/否, whole 元); ``xlsx_bytes`` and ``csv_bytes`` wrap
sheets into a workbook or a CSV, optionally with a title row above the header
and a 合计 row below, as real exports have.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from .. import schema
from ..scope import Scope

PERSON_SQL = """
SELECT h.village_code, t.name AS town_name, v.name AS village_name, h.natural_village, h.hh_id, h.member_count,
       h.kind, h.attribute, h.standard, h.main_cause, h.identified_year, h.exit_year, h.returned_year, h.status,
       h.policy_status, h.relocated, h.relocation_year, h.relocation_site, h.house_grade, h.safe_water,
       h.food_clothing_ok, h.phone AS hh_phone, p.person_id, p.name, p.id_number, p.relation, p.sex, p.ethnicity,
       p.birth_date, p.education, p.schooling, p.health, p.labour_skill, p.work_status, p.work_months,
       p.medical_insurance, p.serious_illness_insurance, p.phone, p.join_date, p.leave_date, p.leave_reason
FROM person p JOIN household h ON h.hh_id = p.hh_id
JOIN region v ON v.code = h.village_code JOIN region t ON t.code = h.town_code
WHERE h.village_code BETWEEN :lo AND :hi
ORDER BY h.hh_id, p.person_id
"""
PERSON_HEADERS = [
    "区划代码", "乡(镇)", "行政村", "自然村", "户编号", "人数", "户类型", "贫困户属性", "识别标准", "主要致贫原因",
    "其他致贫原因", "识别年度", "脱贫年度", "返贫年度", "脱贫状态", "享受政策情况", "易地扶贫搬迁", "搬迁年度",
    "安置点", "危房等级", "是否解决安全饮用水", "不愁吃不愁穿", "户联系电话", "人编号", "姓名", "证件号码",
    "与户主关系", "性别", "民族", "出生日期", "文化程度", "在校生状况", "健康状况", "劳动技能", "务工状况",
    "务工时间(月)", "是否参加城乡居民基本医疗保险", "是否参加大病保险", "人联系电话", "入户日期", "减员日期",
    "减员原因",
]


def cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


def _bounds(scope: Scope | None) -> dict:
    lo, hi = scope.bounds if scope else ("000000000000", "999999999999")
    return {"lo": lo, "hi": hi}


def sheet_from_db(engine: Engine, kind: str, scope: Scope | None = None) -> tuple[list[str], list[list]]:
    b = _bounds(scope)
    with engine.connect() as conn:
        if kind == "persons":
            others: dict[str, list[str]] = {}
            for hh_id, cause in conn.execute(text(
                    "SELECT o.hh_id, o.cause FROM other_cause o JOIN household h ON h.hh_id = o.hh_id "
                    "WHERE h.village_code BETWEEN :lo AND :hi ORDER BY o.hh_id, o.cause"), b):
                others.setdefault(hh_id, []).append(cause)
            rows = []
            for r in conn.execute(text(PERSON_SQL), b).mappings():
                rows.append([cell(x) for x in (
                    r["village_code"], r["town_name"], r["village_name"], r["natural_village"], r["hh_id"],
                    r["member_count"], r["kind"], r["attribute"], r["standard"], r["main_cause"],
                    "、".join(others.get(r["hh_id"], [])), r["identified_year"], r["exit_year"], r["returned_year"],
                    r["status"], r["policy_status"], r["relocated"], r["relocation_year"], r["relocation_site"],
                    r["house_grade"], r["safe_water"], r["food_clothing_ok"], r["hh_phone"], r["person_id"], r["name"],
                    r["id_number"], r["relation"], r["sex"], r["ethnicity"], r["birth_date"], r["education"],
                    r["schooling"], r["health"], r["labour_skill"], r["work_status"], r["work_months"],
                    r["medical_insurance"], r["serious_illness_insurance"], r["phone"], r["join_date"],
                    r["leave_date"], r["leave_reason"])])
            return PERSON_HEADERS, rows
        if kind == "places":
            t = schema.region
            stmt = select(t.c.code, t.c.name, t.c.level, t.c.parent_code, t.c.rural_population, t.c.is_poor_village,
                          t.c.poor_village_exit_year).where(t.c.code.between(b["lo"], b["hi"]),
                                                           t.c.level.in_(("county", "town", "village"))
                                                           ).order_by(t.c.code)
            labels = {"county": "县", "town": "乡镇", "village": "行政村"}
            rows = [[r.code, r.name, labels[r.level], r.parent_code, cell(r.rural_population),
                     cell(r.is_poor_village) if r.level == "village" else "", cell(r.poor_village_exit_year)]
                    for r in conn.execute(stmt)]
            return ["区划代码", "名称", "级别", "上级区划代码", "农村户籍人口", "是否贫困村", "出列年度"], rows
        if kind == "population":
            t = schema.village_population
            stmt = (select(t.c.village_code, t.c.year, t.c.population)
                    .where(t.c.village_code.between(b["lo"], b["hi"])).order_by(t.c.village_code, t.c.year))
            return ["区划代码", "年度", "农村户籍人口"], [[r[0], r[1], r[2]] for r in conn.execute(stmt)]
        if kind == "incomes":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT i.hh_id, i.year, i.members, i.wage, i.business_income, i.business_cost, i.property_income, "
                "i.transfer_income, i.transfer_excluded FROM income i JOIN household h ON h.hh_id = i.hh_id "
                "WHERE h.village_code BETWEEN :lo AND :hi ORDER BY i.hh_id, i.year"), b)]
            return ["户编号", "年度", "家庭人口数", "工资性收入(元)", "生产经营性收入(元)", "生产经营性支出(元)",
                    "财产性收入(元)", "转移性收入(元)", "不计入的转移性收入(元)"], rows
        if kind == "monitoring":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT hh_id, kind, main_risk, identified_date, removed_date IS NOT NULL, removed_date, persons "
                "FROM monitoring_object WHERE village_code BETWEEN :lo AND :hi ORDER BY hh_id, identified_date"), b)]
            for r in rows:
                r[4] = "是" if r[4] in (1, True, "是") else "否"
            return ["户编号", "监测对象类型", "主要风险", "识别时间", "风险是否消除", "风险消除时间", "监测人数"], rows
        if kind == "targets":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT region_code, year, households, persons, villages FROM exit_target "
                "WHERE region_code BETWEEN :lo AND :hi ORDER BY region_code, year"), b)]
            return ["区划代码", "年度", "减贫户数", "减贫人数", "出列贫困村数"], rows
        if kind == "funds":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT fund_id, doc_no, name, source, year, region_code, amount, allocated_date FROM fund "
                "WHERE county_code BETWEEN :lo AND :hi ORDER BY fund_id"), _county_bounds(scope))]
            return ["资金编号", "文号", "资金名称", "资金来源", "年度", "区划代码", "下达金额(元)", "下达日期"], rows
        if kind == "projects":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT project_id, name, category, subcategory, region_code, year, status, budget, planned_start, "
                "planned_end, actual_start, actual_end, beneficiary_households, beneficiary_poor_households, "
                "beneficiary_persons FROM project WHERE region_code BETWEEN :lo AND :hi ORDER BY project_id"), b)]
            return ["项目编号", "项目名称", "项目类别", "项目子类", "区划代码", "年度", "项目状态", "项目预算(元)",
                    "计划开工日期", "计划完工日期", "实际开工日期", "实际完工日期", "受益户数", "受益贫困户数",
                    "受益人数"], rows
        if kind == "arrangements":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT a.fund_id, a.project_id, a.amount, a.arranged_date FROM arrangement a "
                "JOIN project p ON p.project_id = a.project_id WHERE p.region_code BETWEEN :lo AND :hi "
                "ORDER BY a.fund_id, a.project_id"), b)]
            return ["资金编号", "项目编号", "安排金额(元)", "安排日期"], rows
        if kind == "flows":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT m.fund_id, m.project_id, m.kind, m.amount, m.flow_date FROM money_flow m "
                "JOIN project p ON p.project_id = m.project_id WHERE p.region_code BETWEEN :lo AND :hi "
                "ORDER BY m.id"), b)]
            return ["资金编号", "项目编号", "类型", "金额(元)", "日期"], rows
        if kind == "helpers":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT a.helper_id, h.name, h.phone, u.unit_id, u.name, u.level, a.hh_id, a.start_date, a.end_date "
                "FROM assignment a JOIN helper h ON h.helper_id = a.helper_id "
                "JOIN help_unit u ON u.unit_id = h.unit_id "
                "WHERE a.village_code BETWEEN :lo AND :hi ORDER BY a.helper_id, a.hh_id, a.start_date"), b)]
            return ["帮扶责任人编号", "帮扶责任人", "帮扶责任人联系电话", "帮扶单位编号", "帮扶单位", "单位级别",
                    "户编号", "结对日期", "结束日期"], rows
        if kind == "visits":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT helper_id, hh_id, visit_date, kind, note FROM visit WHERE village_code BETWEEN :lo AND :hi "
                "ORDER BY visit_id"), b)]
            return ["帮扶责任人编号", "户编号", "走访日期", "走访方式", "走访内容"], rows
        if kind == "measures":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT hh_id, year, measure, amount FROM help_measure WHERE village_code BETWEEN :lo AND :hi "
                "ORDER BY id"), b)]
            return ["户编号", "年度", "帮扶措施", "金额(元)"], rows
        if kind == "lines":
            rows = [[cell(x) for x in r] for r in conn.execute(text(
                "SELECT year, kind, province, amount, source, verified FROM poverty_line "
                "ORDER BY year, kind, province"))]
            return ["年度", "类别", "省份", "金额(元)", "来源", "是否核实"], rows
    raise ValueError(kind)


def _county_bounds(scope: Scope | None) -> dict:
    if scope is None:
        return _bounds(None)
    code = scope.code[:6] + "000000"
    return {"lo": code, "hi": code}


def write_typed_row(ws, r: int, row, date_format) -> None:
    """One worksheet row as a county's workbook holds it: text stays text (IDs keep their digits), dates are dates
    (``date_format``), numbers numbers; blanks are left empty. The one cell writer of the samples and fixtures."""
    for c, value in enumerate(row):
        if value == "" or value is None:
            continue
        if isinstance(value, str):
            ws.write_string(r, c, value)
        elif isinstance(value, (dt.date, dt.datetime)):
            when = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
            ws.write_datetime(r, c, when, date_format)
        else:
            ws.write_number(r, c, value)


def xlsx_bytes(sheets: list[tuple[str, list[str], list[list]]], title: str | None = None,
               total_row: bool = False) -> bytes:
    """A workbook with one sheet per (name, headers, rows); text cells stay text (IDs keep their digits)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})  # shared strings, as Excel writes
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, headers, rows in sheets:
        ws = book.add_worksheet(name)
        r = 0
        if title:
            ws.write_string(r, 0, title)
            r += 2
        ws.write_row(r, 0, headers)
        r += 1
        for row in rows:
            write_typed_row(ws, r, row, date)
            r += 1
        if total_row:
            ws.write_string(r, 0, "合计")
            ws.write_number(r, 5, len(rows))
    book.close()
    return out.getvalue()


def csv_bytes(headers: list[str], rows: list[list], encoding: str = "utf-8-sig", title: str | None = None,
              delimiter: str = ",") -> bytes:
    out = io.StringIO()
    if title:
        out.write(title + "\r\n")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue().encode(encoding)
