"""Seed 004 in the product: a small 2021–2025 county export in seed 004's shape (脱贫享受政策, 脱贫不享受政策,
即时帮扶 as a kind the deployment configures, 衔接资金 names) is imported into an empty database, and the pages
(AppTest, the real app.py) and the brief paragraph show its figures. Every expected number comes from the
export built here (``EXPORT``), never from the code under test."""

from __future__ import annotations

import datetime as dt

import pytest

from components.safe import md
from data_access.report import era as era_words
from data_access import codes
from data_access.importer import samples as S
from data_access.report import brief
from data_access.rules import id_check_char
from data_access.scope import Scope
from tests.helpers import errors, metrics, open_page, run, texts

COUNTY = "370323000000"  # 沂源县 (seed 004)
TOWNS = {"370323100000": "南鲁山镇", "370323101000": "鲁村镇"}
VILLAGES = {"370323100201": ("370323100000", "北流水村", 1200), "370323100202": ("370323100000", "东流水村", 900),
            "370323101201": ("370323101000", "安乐村", 1500)}
YEAR = 2025

# (户编号, 村, 户类型, 脱贫年度, 享受政策情况, 人数, 监测对象类型 or None, 2025年人均纯收入)
HOUSEHOLDS = [
    ("370323100201001", "370323100201", "建档立卡户", 2016, "脱贫享受政策", 3, None, 11000),
    ("370323100201002", "370323100201", "建档立卡户", 2017, "脱贫享受政策", 2, "脱贫不稳定户", 7800),
    ("370323100201003", "370323100201", "建档立卡户", 2018, "脱贫不享受政策", 4, None, 16000),
    ("370323100202001", "370323100202", "建档立卡户", 2016, "脱贫享受政策", 1, None, 9000),
    ("370323100202002", "370323100202", "建档立卡户", 2019, "脱贫不享受政策", 2, None, 15000),
    ("370323101201001", "370323101201", "建档立卡户", 2017, "脱贫享受政策", 2, None, 12500),
    ("370323101201002", "370323101201", "建档立卡户", 2020, "脱贫享受政策", 3, "脱贫不稳定户", 8100),
    ("370323100201900", "370323100201", "一般农户", None, None, 3, "即时帮扶", None),
    ("370323101201900", "370323101201", "一般农户", None, None, 2, "即时帮扶", None),
    ("370323101201901", "370323101201", "一般农户", None, None, 4, "边缘易致贫户", None),
]
# 监测对象: (户编号, 主要风险, 识别时间, 风险消除时间)
MONITORING = {
    "370323100201002": ("因病", "2022-03-10", "2023-05-20"),
    "370323101201002": ("因自然灾害·洪涝灾害", "2024-07-15", None),
    "370323100201900": ("因意外事故", "2025-02-01", None),
    "370323101201900": ("因病", "2025-06-12", None),
    "370323101201901": ("因务工就业不稳", "2023-09-01", "2025-03-01"),
}
# 风险发现时间 and 发现方式 of the export's monitoring sheet (户编号 -> (发现时间, 发现方式)); one has none.
FOUND = {"370323100201002": ("2022-03-01", "干部排查"), "370323101201002": ("2024-07-10", "部门筛查预警"),
         "370323100201900": ("2025-01-08", "农户自主申报"), "370323101201900": ("2025-06-06", "干部排查")}
# 务工状况 of a household's members by their place in it (the export's person sheet); 务工时间 for those in work.
WORK = ("县外省内务工", "未外出务工", "乡(镇)内务工", "省外务工")
FUNDS = [  # 资金编号, 来源, 年度, 金额(元)
    ("F2025C", "中央财政衔接推进乡村振兴补助资金", 2025, 6_000_000),
    ("F2025P", "省级财政衔接推进乡村振兴补助资金", 2025, 2_500_000),
    ("F2025X", "县级财政衔接推进乡村振兴补助资金", 2025, 800_000),
    ("F2025Z", "东西部协作资金", 2025, 1_000_000),
    ("F2025B", "地方政府债券", 2025, 3_000_000),
    ("F2021C", "中央财政衔接推进乡村振兴补助资金", 2021, 5_000_000),
]
PROJECTS = [  # 项目编号, 类别, 区划, 安排(资金编号, 元)
    ("P2025A", "产业发展", "370323100201", ("F2025C", 2_700_000)),
    ("P2025B", "农村基础设施", "370323100202", ("F2025C", 2_300_000)),
    ("P2025C", "产业发展", "370323101201", ("F2025C", 900_000)),
]


def person_id_number(village: str, n: int) -> str:
    body = f"{village[:6]}1980{(n % 12) + 1:02d}15{n % 1000:03d}"
    return body + id_check_char(body)


def export() -> bytes:
    places = [[COUNTY, "沂源县", "县", "370300000000", 3600, "", ""]]
    places += [[code, name, "乡镇", COUNTY, "", "", ""] for code, name in TOWNS.items()]
    places += [[code, name, "行政村", town, pop, "否", ""] for code, (town, name, pop) in VILLAGES.items()]
    persons, incomes, monitoring = [], [], []
    n = 0
    for hh, village, kind, exit_year, policy, size, _mon, income in HOUSEHOLDS:
        town = VILLAGES[village][0]
        for i in range(size):
            n += 1
            persons.append([
                village, TOWNS[town], VILLAGES[village][1], "1组", hh, size, kind, "一般贫困户" if exit_year else "",
                "国家标准" if exit_year else "", "因病" if exit_year else "", "", 2014 if exit_year else "",
                exit_year or "", "", "已脱贫" if exit_year else "", policy or "", 0, "", "", "安全", 1, 1, "",
                f"{hh}{i + 1:02d}", f"成员{n}", person_id_number(village, n), "户主" if i == 0 else "之子",
                "", "汉族", "", "初中", "非在校生", "健康", "普通劳动力", WORK[i % len(WORK)],
                "" if WORK[i % len(WORK)] == "未外出务工" else 8, 1, 1, ""])
        if income is not None:
            for year, per in ((2024, round(income * 0.94)), (2025, income)):
                incomes.append([hh, year, size, per * size, 0, 0, 0, 0, 0])
    for hh, (risk, found, removed) in MONITORING.items():
        size = next(h[5] for h in HOUSEHOLDS if h[0] == hh)
        kind = next(h[6] for h in HOUSEHOLDS if h[0] == hh)
        day, channel = FOUND.get(hh, ("", ""))
        monitoring.append([hh, kind, risk, found, "是" if removed else "否", removed or "", size, day, channel])
    funds = [[fid, f"鲁财农〔{year}〕{i + 1}号", f"{year}年{source}", source, year, COUNTY, amount, f"{year}-03-01"]
             for i, (fid, source, year, amount) in enumerate(FUNDS)]
    projects = [[pid, f"{VILLAGES[place][1]}{category}项目", category, "", place, YEAR, "在建", arr[1],
                 "2025-04-01", "2025-11-30", "2025-04-10", "", 20, 10, 60] for pid, category, place, arr in PROJECTS]
    arrangements = [[arr[0], pid, arr[1], "2025-04-05"] for pid, _c, _p, arr in PROJECTS]
    return S.xlsx_bytes([
        ("区划", ["区划代码", "名称", "级别", "上级区划代码", "农村户籍人口", "是否贫困村", "出列年度"], places),
        ("人员", PERSON_HEADERS, persons),
        ("收入", ["户编号", "年度", "家庭人口数", "工资性收入(元)", "生产经营性收入(元)", "生产经营性支出(元)",
                "财产性收入(元)", "转移性收入(元)", "不计入的转移性收入(元)"], incomes),
        ("监测对象", ["户编号", "监测对象类型", "主要风险", "识别时间", "风险是否消除", "风险消除时间", "监测人数",
                  "风险发现时间", "发现方式"], monitoring),
        ("资金", ["资金编号", "文号", "资金名称", "资金来源", "年度", "区划代码", "下达金额(元)", "下达日期"], funds),
        ("项目", ["项目编号", "项目名称", "项目类别", "项目子类", "区划代码", "年度", "项目状态", "项目预算(元)",
                "计划开工日期", "计划完工日期", "实际开工日期", "实际完工日期", "受益户数", "受益贫困户数", "受益人数"],
         projects),
        ("资金安排", ["资金编号", "项目编号", "安排金额(元)", "安排日期"], arrangements),
    ])


PERSON_HEADERS = ['区划代码', '乡(镇)', '行政村', '自然村', '户编号', '人数', '户类型', '贫困户属性', '识别标准',
                  '主要致贫原因', '其他致贫原因', '识别年度', '脱贫年度', '返贫年度', '脱贫状态', '享受政策情况',
                  '易地扶贫搬迁', '搬迁年度', '安置点', '危房等级', '是否解决安全饮用水', '不愁吃不愁穿', '户联系电话',
                  '人编号', '姓名', '证件号码', '与户主关系', '性别', '民族', '出生日期', '文化程度', '在校生状况',
                  '健康状况', '劳动技能', '务工状况', '务工时间(月)', '是否参加城乡居民基本医疗保险',
                  '是否参加大病保险', '人联系电话']


# ---- what the export holds, counted here --------------------------------------------------------------------


def expected() -> dict:
    exited = [h for h in HOUSEHOLDS if h[3] is not None]
    out = {"exited": (len(exited), sum(h[5] for h in exited))}
    for key, label in (("policy", "脱贫享受政策"), ("no_policy", "脱贫不享受政策")):
        mine = [h for h in exited if h[4] == label]
        out[key] = (len(mine), sum(h[5] for h in mine))
    kinds = {}
    for h in HOUSEHOLDS:
        if h[6]:
            n, p = kinds.get(h[6], (0, 0))
            kinds[h[6]] = (n + 1, p + h[5])
    out["kinds"] = kinds
    end = dt.date(YEAR, 12, 31).isoformat()
    removed = [hh for hh, (_r, _f, rem) in MONITORING.items() if rem and rem <= end]
    out["monitoring"] = (len(MONITORING), sum(next(h[5] for h in HOUSEHOLDS if h[0] == hh) for hh in MONITORING))
    out["removed"] = (len(removed), sum(next(h[5] for h in HOUSEHOLDS if h[0] == hh) for hh in removed))
    new = [hh for hh, (_r, found, _rem) in MONITORING.items() if found.startswith(str(YEAR))]
    out["new"] = (len(new), sum(next(h[5] for h in HOUSEHOLDS if h[0] == hh) for hh in new))
    people = sum(h[5] for h in exited)
    out["income"] = round(sum(h[7] * h[5] for h in exited) / people)
    before = sum(round(h[7] * 0.94) * h[5] for h in exited) / people
    out["growth"] = round(100 * (sum(h[7] * h[5] for h in exited) / people / before - 1), 2)
    statuses = [WORK[i % len(WORK)] for h in exited for i in range(h[5])]  # the export's year is YEAR (as of)
    out["work"] = (len(statuses), sum(w != "未外出务工" for w in statuses))
    day = dt.date.fromisoformat
    new_found = [(day(MONITORING[hh][1]) - day(FOUND[hh][0])).days for hh in FOUND
                 if MONITORING[hh][1].startswith(str(YEAR))]
    out["found"] = (len(new_found), round(sum(new_found) / len(new_found), 1), sum(d > 15 for d in new_found))
    gone = [(day(rem) - day(ident)).days for _r, ident, rem in MONITORING.values() if rem and rem.startswith(str(YEAR))]
    out["removal_days"] = round(sum(gone) / len(gone), 1)
    central = [p for p in PROJECTS if p[3][0] == "F2025C"]
    out["industry_share"] = round(100 * sum(p[3][1] for p in central if p[1] == "产业发展")
                                  / sum(p[3][1] for p in central), 2)
    return out


@pytest.fixture
def seed004(empty, monkeypatch):
    """The export imported into an empty database (both backends), with 即时帮扶 configured."""
    monkeypatch.setenv("REGISTRY_MONITORING_KINDS", "即时帮扶")
    monkeypatch.setenv("REGISTRY_ALLOW_OPEN", "1")  # not the demo database, no sign-in configured
    result = run(empty, [("沂源县2021-2025年防返贫监测数据.xlsx", export())], as_of=dt.date(2025, 12, 31))
    assert errors(result) == [], errors(result)[:5]
    assert result.written
    return empty


def test_without_the_configured_kind_the_import_is_refused(empty, monkeypatch):
    monkeypatch.delenv("REGISTRY_MONITORING_KINDS", raising=False)
    assert "即时帮扶" not in codes.MONITORING_KINDS
    result = run(empty, [("沂源县.xlsx", export())], as_of=dt.date(2025, 12, 31))
    assert any("即时帮扶" in " ".join(map(str, e)) for e in errors(result))
    assert not result.written


def test_the_import_keeps_the_new_names(seed004):
    from tests.helpers import rows

    assert sorted(rows(seed004, "SELECT DISTINCT kind FROM monitoring_object")) == sorted(
        (k,) for k in {h[6] for h in HOUSEHOLDS if h[6]})
    assert ("因自然灾害·洪涝灾害",) in rows(seed004, "SELECT DISTINCT main_risk FROM monitoring_object")
    assert sorted(r[0] for r in rows(seed004, "SELECT source FROM fund")) == sorted(f[1] for f in FUNDS)
    found = rows(seed004, "SELECT o.hh_id, f.found_date, f.channel FROM monitoring_found f "
                          "JOIN monitoring_object o ON o.id = f.object_id")
    assert sorted((h, str(d)[:10], c) for h, d, c in found) == sorted((h, d, c) for h, (d, c) in FOUND.items())
    work = rows(seed004, "SELECT year, work_status, COUNT(*) FROM work_year GROUP BY year, work_status")
    persons = [WORK[i % len(WORK)] for h in HOUSEHOLDS if h[2] == "建档立卡户" for i in range(h[5])]  # 劳动力
    assert sorted(work) == sorted((YEAR, w, persons.count(w)) for w in set(persons))


def test_headline_and_brief_show_seed004_figures(seed004):

    want = expected()
    scope = Scope.of(COUNTY)
    head = era_words.headline(seed004, scope, YEAR)
    assert (head["policy"]["exited_households"], head["policy"]["exited_persons"]) == want["exited"]
    assert (head["policy"]["policy_households"], head["policy"]["policy_persons"]) == want["policy"]
    assert (head["policy"]["no_policy_households"], head["policy"]["no_policy_persons"]) == want["no_policy"]
    kinds = head["kinds"].set_index("label")
    for kind, (n, p) in want["kinds"].items():
        assert (kinds.loc[kind, "households"], kinds.loc[kind, "persons"]) == (n, p)
    text = brief.brief_paragraph(brief.brief_facts(seed004, scope, YEAR, 2014))

    def pair(x):
        return f"{x[0]:,}户{x[1]:,}人"

    assert f"有脱贫人口{pair(want['exited'])}" in text
    assert f"脱贫享受政策{pair(want['policy'])}" in text and f"脱贫不享受政策{pair(want['no_policy'])}" in text
    assert f"即时帮扶{pair(want['kinds']['即时帮扶'])}" in text
    assert f"累计识别防返贫监测对象{pair(want['monitoring'])}" in text
    assert f"风险已消除{pair(want['removed'])}" in text
    assert f"{YEAR}年新识别{pair(want['new'])}" in text
    assert f"{YEAR}年脱贫户人均纯收入{want['income']:,}元,比上年增长{want['growth']:.2f}%" in text
    assert "贫困发生率" not in text


def test_pages_show_seed004(seed004, monkeypatch):
    want = expected()
    url = str(seed004.url.render_as_string(hide_password=False))
    at = open_page(url, "pages/overview.py", region=COUNTY, year=YEAR)
    assert not at.exception, at.exception
    shown = metrics(at)
    assert shown[f"脱贫人口({want['exited'][0]:,}户)"] == f"{want['exited'][1]:,}人"
    assert shown[f"脱贫享受政策({want['policy'][0]:,}户)"] == f"{want['policy'][1]:,}人"
    assert shown[f"脱贫不享受政策({want['no_policy'][0]:,}户)"] == f"{want['no_policy'][1]:,}人"
    n, p = want["kinds"]["即时帮扶"]
    assert shown[f"即时帮扶({n:,}户)"] == f"{p:,}人"
    assert shown[f"{YEAR}年脱贫户人均纯收入(元)"] == f"{want['income']:,}"
    assert "贫困发生率(%)" not in shown and "不再计算贫困发生率" in texts(at)
    assert shown["脱贫劳动力务工(人)"] == f"{want['work'][1]:,}"  # 务工 by year, from the person sheet
    paragraph = "\n".join(m.value for m in at.markdown)  # the 会议材料 paragraph (components.brief, markdown-escaped)
    assert md(f"即时帮扶{n:,}户{p:,}人") in paragraph
    assert md(f"脱贫劳动力务工{want['work'][1]:,}人") in paragraph
    # 防返贫监测: the configured kind is a row of the breakdown; the risk subtype is kept
    at = open_page(url, "pages/monitoring.py", region=COUNTY, year=YEAR)
    assert not at.exception, at.exception
    shown = metrics(at)  # 识别时限 from the export's 风险发现时间
    with_found, avg_days, late = want["found"]
    assert shown["有风险发现时间(户)"] == f"{with_found:,}" and shown["超过15天识别(户)"] == f"{late:,}"
    assert shown["平均识别用时(天)"] == f"{avg_days:.1f}" and late > 0
    assert shown["平均消除用时(天)"] == f"{want['removal_days']:.1f}"
    tables = [d.value for d in at.dataframe]
    assert any("即时帮扶" in set(map(str, t.iloc[:, 0])) for t in tables)
    # 资金项目: 衔接资金 by level and the 产业发展 share
    at = open_page(url, "pages/funds.py", region=COUNTY, year=YEAR, view="衔接资金")
    assert not at.exception, at.exception
    levels = at.dataframe[0].value.set_index("级次")
    assert levels.loc["中央", "下达(万元)"] == 600.0
    assert f"中央衔接资金用于产业发展的比重:{want['industry_share']:.2f}%" in texts(at)


def test_query_filter_offers_the_configured_kind(seed004):
    url = str(seed004.url.render_as_string(hide_password=False))
    at = open_page(url, "pages/query.py", region=COUNTY, year=YEAR)
    assert not at.exception, at.exception
    kinds = [m for m in at.multiselect if m.label == "监测对象类型"]
    assert kinds and "即时帮扶" in kinds[0].options


def test_a_risk_found_after_identification_is_refused(empty, monkeypatch):
    monkeypatch.setenv("REGISTRY_MONITORING_KINDS", "即时帮扶")
    monkeypatch.setitem(FOUND, "370323100201900", ("2025-02-09", "干部排查"))  # identified 2025-02-01
    result = run(empty, [("沂源县.xlsx", export())], as_of=dt.date(2025, 12, 31))
    assert any("风险发现时间晚于识别时间 2025-02-01" in " ".join(map(str, e)) for e in errors(result))
    assert not result.written


def test_a_database_made_before_the_later_tables_gets_them_on_import(seed004, monkeypatch):
    """work_year and monitoring_found came within schema version 1: an older database has neither; its next
    import creates them and fills them, and the pages read them."""
    from sqlalchemy import inspect, text

    from data_access.queries import consolidation, monitoring as M
    from tests.helpers import rows

    with seed004.begin() as conn:
        conn.execute(text("DROP TABLE work_year"))
        conn.execute(text("DROP TABLE monitoring_found"))
    assert not consolidation.has_work_table(seed004) and not M.has_found_table(seed004)
    monkeypatch.setenv("REGISTRY_MONITORING_KINDS", "即时帮扶")
    result = run(seed004, [("沂源县.xlsx", export())], as_of=dt.date(2025, 12, 31))
    assert errors(result) == [] and result.written
    assert {"work_year", "monitoring_found"} <= set(inspect(seed004).get_table_names())
    assert consolidation.has_work_table(seed004) and M.has_found_table(seed004)  # seen without a restart
    assert rows(seed004, "SELECT COUNT(*) FROM monitoring_found") == [(len(FOUND),)]
    head = era_words.headline(seed004, Scope.of(COUNTY), YEAR)
    assert head["work"]["working"] == expected()["work"][1]
