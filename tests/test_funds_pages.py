"""资金项目 and 项目档案 pages in AppTest: they open at every scope and show the figures of independent SQL.

Also the seed-001 county-year (73.398 亿元 and its parts), built here on SQLite and
PostgreSQL, found on the page in 亿元.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert

from tests.helpers import metrics, open_page, texts
from data_access.report.money import headline_unit, unit_for
from data_access import db, schema

FUNDS = "pages/funds.py"
PROJECT = "pages/project.py"
YEAR = 2025


def notes(at) -> dict[str, str]:
    """label -> the second figure under a metric's value."""
    return {m.label: m.delta for m in at.metric}


def rate_text(n, d) -> str:
    return f"{100 * n / d:.2f}%" if d else "—"


def no_exception(at):
    assert not at.exception, [e.value for e in at.exception]


def frames(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def frame_with(at, column: str) -> pd.DataFrame:
    for df in frames(at):
        if column in df.columns:
            return df
    raise AssertionError(f"no table with column {column!r}: {[list(d.columns) for d in frames(at)]}")


def busiest_town_and_village(q, year):
    town = q.scalar("SELECT substr(region_code, 1, 9) || '000' AS t FROM project WHERE year = :y "
                    "AND region_code IS NOT NULL GROUP BY substr(region_code, 1, 9) ORDER BY COUNT(*) DESC, t LIMIT 1",
                    y=year)
    village = q.scalar("SELECT region_code FROM project WHERE year = :y AND region_code LIKE :p "
                       "AND region_code NOT LIKE '%000' ORDER BY region_code LIMIT 1", y=year, p=town[:9] + "%")
    return town, village


def money_sql(q, prefix: str, year: int, county: bool) -> dict:
    where = ("f.region_code LIKE :p AND f.year = :y" if county else "p.region_code LIKE :p AND p.year = :y")
    base = ("FROM {t} m JOIN fund f ON f.fund_id = m.fund_id JOIN project p ON p.project_id = m.project_id "
            f"WHERE {where}")
    out = {"arranged": int(q.scalar(f"SELECT COALESCE(SUM(m.amount), 0) {base.format(t='arrangement')}",
                                    p=prefix + "%", y=year))}
    for kind, key in (("拨付", "paid"), ("支出", "spent")):
        out[key] = int(q.scalar(f"SELECT COALESCE(SUM(m.amount), 0) {base.format(t='money_flow')} AND m.kind = :k",
                                p=prefix + "%", y=year, k=kind))
    if county:
        out["allocated"] = int(q.scalar("SELECT COALESCE(SUM(amount), 0) FROM fund WHERE region_code LIKE :p "
                                        "AND year = :y", p=prefix + "%", y=year))
    return out


# ---- the demo database -------------------------------------------------------------------


def test_funds_page_county_town_village(registry_url, sql):
    q = sql(registry_url)
    county = q.scalar("SELECT code FROM region WHERE level = 'county'")
    town, village = busiest_town_and_village(q, YEAR)
    for code in (county, town, village):
        at = open_page(registry_url, FUNDS, region=code, year=YEAR)
        no_exception(at)
        prefix = {county: code[:6], town: code[:9], village: code}[code]
        m = money_sql(q, prefix, YEAR, county=code == county)
        base = m.get("allocated", m["arranged"])
        unit = headline_unit(base, m["arranged"], m["paid"], m["spent"])  # headline cards: 亿元 to 2 decimals
        shown = metrics(at)
        word = "下达" if code == county else "安排"
        assert shown[f"资金{word}({unit.name})"] == unit.text(base, with_unit=False)
        assert "拨付率(%)" not in shown  # the label names its base (issue 18)
        assert shown[f"拨付率(%,占{word})"] == rate_text(m["paid"], base)
        assert shown[f"支出进度(%,占{word})"] == rate_text(m["spent"], base)
        assert notes(at)[f"拨付率(%,占{word})"] == f"已拨付 {unit.text(m['paid'])}"
        assert notes(at)[f"支出进度(%,占{word})"] == f"已支出 {unit.text(m['spent'])}"
        if code == county:
            assert shown[f"已安排({unit.name})"] == unit.text(m["arranged"], with_unit=False)
        else:
            assert shown[f"已拨付未支出({unit.name})"] == unit.text(m["paid"] - m["spent"], with_unit=False)
        # the flow's numbers (数据表 tab): each ribbon rounded on its own; the first level adds up to the base
        # within half a unit a ribbon, and a footnote says so when the rounded ribbons miss the rounded base
        links = frame_with(at, "层级")
        first = links[links["层级"] == links["层级"].iloc[0]]
        gap = abs(round(first[f"金额({unit.name})"].sum() - unit.value(base), unit.digits))
        assert gap <= len(first) * unit.step / unit.divisor / 2
        assert (gap == 0) or "分别四舍五入" in texts(at)
        assert f"{unit.text(m['spent'])}" in texts(at)


def test_funds_page_views_at_county(sqlite_demo_url, sql):
    registry_url = sqlite_demo_url  # every view once; the backends are compared by the tests above and below
    q = sql(registry_url)
    county = q.scalar("SELECT code FROM region WHERE level = 'county'")
    m = money_sql(q, county[:6], YEAR, county=True)

    at = open_page(registry_url, FUNDS, region=county, year=YEAR, view="执行进度")
    no_exception(at)
    by_source = frame_with(at, "资金来源")
    unit = unit_for(*[int(v) for v, in q.rows("SELECT amount FROM fund WHERE year = :y", y=YEAR)] or [1])
    total_row = by_source[by_source["资金来源"] == "合计"].iloc[0]
    assert total_row[f"支出({unit.name})"] == unit.value(m["spent"])
    assert total_row[f"下达({unit.name})"] == unit.value(m["allocated"])
    parts = by_source[by_source["资金来源"] != "合计"]
    adds_up = round(parts[f"支出({unit.name})"].sum(), unit.digits) == unit.value(m["spent"])
    assert adds_up or "分别四舍五入" in texts(at)
    months = frame_with(at, "均衡进度(%)")
    assert list(months["均衡进度(%)"])[-1] == 100.0

    at = open_page(registry_url, FUNDS, region=county, year=YEAR, view="资金下达")
    no_exception(at)
    detail = frame_with(at, "文号")
    n_funds = q.scalar("SELECT COUNT(*) FROM fund WHERE county_code = :c AND year = :y", c=county, y=YEAR)
    assert len(detail) == n_funds + 1 and detail.iloc[-1]["资金来源"] == "合计"
    adds_up = round(detail.iloc[:-1][f"下达({unit.name})"].sum(), unit.digits) == detail.iloc[-1][f"下达({unit.name})"]
    assert adds_up or "分别四舍五入" in texts(at)

    at = open_page(registry_url, FUNDS, region=county, year=YEAR, view="项目清单")
    no_exception(at)
    plist = frame_with(at, "项目名称")
    n_projects = q.scalar("SELECT COUNT(*) FROM project WHERE county_code = :c AND year = :y", c=county, y=YEAR)
    assert len(plist) == n_projects
    names = {r[0] for r in q.rows("SELECT name FROM project WHERE county_code = :c AND year = :y", c=county, y=YEAR)}
    assert set(plist["项目名称"]) == names

    at = open_page(registry_url, FUNDS, region=county, year=YEAR, view="户均投入")
    no_exception(at)
    per = frame_with(at, "户均(元/户)")
    towns = q.scalar("SELECT COUNT(*) FROM region WHERE parent_code = :c", c=county)
    assert per.iloc[-1]["地区"] == "合计" and len(per[per["建档立卡户(户)"].notna()]) >= towns

    problem_year = q.scalar("SELECT year FROM project WHERE region_code IS NULL ORDER BY year LIMIT 1")
    at = open_page(registry_url, FUNDS, region=county, year=problem_year, view="数据问题")
    no_exception(at)
    table = frame_with(at, "问题")
    no_place = {r[0] for r in q.rows("SELECT project_id FROM project WHERE region_code IS NULL AND year = :y",
                                     y=problem_year)}
    assert no_place and no_place <= set(table["编号"])
    assert f"数据问题:{len(table)} 条" in [s.value for s in at.subheader][0]


def test_funds_page_filters_and_bad_params(sqlite_demo_url, sql):
    q = sql(sqlite_demo_url)
    source = q.scalar("SELECT source FROM fund WHERE year = :y GROUP BY source ORDER BY SUM(amount) DESC LIMIT 1",
                      y=YEAR)
    at = open_page(sqlite_demo_url, FUNDS, year=YEAR, source=source)
    no_exception(at)
    allocated = int(q.scalar("SELECT SUM(amount) FROM fund WHERE year = :y AND source = :s", y=YEAR, s=source))
    unit = unit_for(allocated)
    assert metrics(at)[f"资金下达({unit.name})"] == unit.text(allocated, with_unit=False)
    crumbs = [b.label for b in at.button if b.key and b.key.startswith("funds-crumb")]
    assert crumbs and crumbs[0].endswith("全部资金 ›")

    at = open_page(sqlite_demo_url, FUNDS, year=YEAR, source="不存在的资金", category="乱码")
    no_exception(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "资金来源“不存在的资金”" in warnings and "项目类别“乱码”" in warnings

    at = open_page(sqlite_demo_url, PROJECT, year=YEAR, project="x' OR 1=1 --")
    no_exception(at)
    assert at.error and "格式不正确" in at.error[0].value
    at = open_page(sqlite_demo_url, PROJECT, year=YEAR)
    no_exception(at)
    assert at.warning


def test_project_page(registry_url, sql, demo_summary):
    q = sql(registry_url)
    problem = demo_summary["problems"]["spent_over_paid"][0]
    normal = q.scalar("SELECT p.project_id FROM project p WHERE p.region_code LIKE '%2__' AND EXISTS (SELECT 1 FROM "
                      "project_beneficiary b WHERE b.project_id = p.project_id) ORDER BY p.budget DESC LIMIT 1")
    for pid in (problem, normal, demo_summary["problems"]["no_place"][0]):
        at = open_page(registry_url, PROJECT, year=YEAR, project=pid)
        no_exception(at)
        arranged = int(q.scalar("SELECT COALESCE(SUM(amount), 0) FROM arrangement WHERE project_id = :p", p=pid))
        budget = int(q.scalar("SELECT budget FROM project WHERE project_id = :p", p=pid))
        paid, spent = (int(q.scalar("SELECT COALESCE(SUM(amount), 0) FROM money_flow WHERE project_id = :p "
                                    "AND kind = :k", p=pid, k=k)) for k in ("拨付", "支出"))
        unit = unit_for(budget, arranged)
        shown = metrics(at)
        assert shown[f"已安排({unit.name})"] == unit.text(arranged, with_unit=False)
        assert notes(at)[f"已安排({unit.name})"] == f"预算 {unit.text(budget)}"
        assert shown["拨付率(%,占安排)"] == rate_text(paid, arranged)
        assert notes(at)["拨付率(%,占安排)"] == f"已拨付 {unit.text(paid)}"
        assert shown["支出进度(%,占安排)"] == rate_text(spent, arranged)
        assert notes(at)["支出进度(%,占安排)"] == f"已支出 {unit.text(spent)}"
        moves = frame_with(at, "类别")
        n = q.scalar("SELECT COUNT(*) FROM money_flow WHERE project_id = :p", p=pid) + \
            q.scalar("SELECT COUNT(*) FROM arrangement WHERE project_id = :p", p=pid)
        assert len(moves) == n
        listed = q.scalar("SELECT COUNT(*) FROM project_beneficiary WHERE project_id = :p", p=pid)
        if listed:
            people = frame_with(at, "户主")
            assert len(people) == listed and "证件号码" not in people.columns
        if pid == problem:
            assert any("超过拨付" in w.value for w in at.warning)
    # a project outside the chosen region is not shown
    region = q.scalar("SELECT region_code FROM project WHERE project_id = :p", p=normal)
    other = q.scalar("SELECT code FROM region WHERE level = 'town' AND code NOT LIKE :p ORDER BY code",
                     p=region[:9] + "%")
    at = open_page(registry_url, PROJECT, region=other, year=YEAR, project=normal)
    no_exception(at)
    assert not at.metric and any("没有编号为" in w.value for w in at.warning)


# ---- seed 001: the county-year of 73.398 亿元 --------------------------------------------

SEED_COUNTY, SEED_TOWN, SEED_VILLAGE = "529901000000", "529901101000", "529901101201"
YI = 100_000_000
# (source, name, 亿元): the seed's figures, mapped onto the code list's sources.
SEED_FUNDS = [
    ("中央财政专项扶贫资金", "财政专项扶贫资金(第1批)", "1.2"),
    ("中央财政专项扶贫资金", "财政专项扶贫资金(第2批)", "0.59"),
    ("统筹整合财政涉农资金", "统筹整合财政涉农资金(第1批)", "3.0"),
    ("统筹整合财政涉农资金", "统筹整合财政涉农资金(第2批)", "2.5"),
    ("统筹整合财政涉农资金", "统筹整合财政涉农资金(第3批)", "3.0"),
    ("社会帮扶资金", "涉农资金撬动贵阳银行扶贫基金", "5.4"),
    ("东西部扶贫协作资金", "对口帮扶、世行项目等资金", "0.2"),
    ("金融扶贫资金", "极贫乡镇脱贫攻坚基金", "11.488"),
    ("金融扶贫资金", "扶贫产业子基金", "9.16"),
    ("金融扶贫资金", "“特惠贷”贷款", "5.1"),
    ("金融扶贫资金", "国开行农村环境整治项目基金", "10.6"),
    ("金融扶贫资金", "浦发银行一期扶贫基金", "6.8"),
    ("金融扶贫资金", "浦发银行二期扶贫基金", "11.16"),
    ("金融扶贫资金", "“组组通”资金", "3.2"),
]
SEED_BY_SOURCE = {"中央财政专项扶贫资金": 1.79, "统筹整合财政涉农资金": 8.5, "社会帮扶资金": 5.4,
                  "东西部扶贫协作资金": 0.2, "金融扶贫资金": 57.508}
SEED_PARTS = {"极贫乡镇脱贫攻坚基金": 11.488, "扶贫产业子基金": 9.16, "“特惠贷”贷款": 5.1,
              "国开行农村环境整治项目基金": 10.6, "浦发银行一期扶贫基金": 6.8, "浦发银行二期扶贫基金": 11.16,
              "“组组通”资金": 3.2}


def yuan(yi: str) -> int:
    whole, _, frac = yi.partition(".")
    return int(whole) * YI + int((frac + "00000000")[:8])


def build_seed_001(url: str) -> None:
    engine = db.get_engine(url)
    db.create_schema(engine)
    d = dt.date
    with engine.begin() as conn:
        db.set_meta(conn, data_as_of="2019-12-31", is_demo="0", data_version="seed-001", county_name="示例县")
        conn.execute(insert(schema.region), [
            {"code": SEED_COUNTY, "name": "示例县", "level": "county", "parent_code": None, "is_poor_village": False},
            {"code": SEED_TOWN, "name": "甲镇", "level": "town", "parent_code": SEED_COUNTY, "is_poor_village": False},
            {"code": SEED_VILLAGE, "name": "甲村", "level": "village", "parent_code": SEED_TOWN,
             "is_poor_village": True, "rural_population": 1000},
        ])
        conn.execute(insert(schema.fund), [
            {"fund_id": f"S{i:02d}", "doc_no": f"示财〔2019〕{i}号", "name": name, "source": source, "year": 2019,
             "region_code": SEED_COUNTY, "county_code": SEED_COUNTY, "amount": yuan(yi),
             "allocated_date": d(2019, 1 + i % 12, 10)}
            for i, (source, name, yi) in enumerate(SEED_FUNDS, 1)])
        conn.execute(insert(schema.project), [
            {"project_id": "SP1", "name": "甲村产业路项目", "category": "农村基础设施", "region_code": SEED_VILLAGE,
             "county_code": SEED_COUNTY, "town_code": SEED_TOWN, "village_code": SEED_VILLAGE, "year": 2019,
             "status": "完工", "budget": 1 * YI, "planned_start": d(2019, 3, 1), "planned_end": d(2019, 10, 1),
             "actual_start": d(2019, 3, 5), "actual_end": d(2019, 9, 20)},
            {"project_id": "SP2", "name": "甲镇光伏扶贫项目", "category": "产业发展", "region_code": SEED_TOWN,
             "county_code": SEED_COUNTY, "town_code": SEED_TOWN, "village_code": None, "year": 2019,
             "status": "在建", "budget": 5 * YI, "planned_start": d(2019, 4, 1), "planned_end": d(2020, 6, 30),
             "actual_start": d(2019, 4, 10), "actual_end": None},
        ])
        conn.execute(insert(schema.arrangement), [
            {"fund_id": "S03", "project_id": "SP1", "amount": 1 * YI, "arranged_date": d(2019, 2, 1)},
            {"fund_id": "S08", "project_id": "SP2", "amount": 5 * YI, "arranged_date": d(2019, 3, 1)},
        ])
        conn.execute(insert(schema.money_flow), [
            {"id": 1, "fund_id": "S03", "project_id": "SP1", "kind": "拨付", "amount": 80_000_000,
             "flow_date": d(2019, 5, 10)},
            {"id": 2, "fund_id": "S03", "project_id": "SP1", "kind": "支出", "amount": 60_000_000,
             "flow_date": d(2019, 8, 1)},
            {"id": 3, "fund_id": "S08", "project_id": "SP2", "kind": "拨付", "amount": 400_000_000,
             "flow_date": d(2019, 6, 1)},
            {"id": 4, "fund_id": "S08", "project_id": "SP2", "kind": "支出", "amount": 200_000_000,
             "flow_date": d(2019, 11, 15)},
        ])


@pytest.fixture(params=["sqlite", "postgresql"])
def seed_001_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'seed001.db'}"
    else:
        url = request.getfixturevalue("pg_database")("seed001")
    build_seed_001(url)
    return url


def test_seed_001_county_year_on_the_page(seed_001_url, sql, monkeypatch):
    monkeypatch.setenv("REGISTRY_ALLOW_OPEN", "1")  # not the demo database, no sign-in configured
    q = sql(seed_001_url)
    total = int(q.scalar("SELECT SUM(amount) FROM fund WHERE year = 2019"))
    assert total == 7_339_800_000  # the seed's 73.398 亿元, as built above

    at = open_page(seed_001_url, FUNDS, year=2019)
    no_exception(at)
    shown = metrics(at)
    assert shown["资金下达(亿元)"] == "73.40"  # read aloud: 亿元 to 2 decimals (issue 20); tables keep 4
    assert shown["已安排(亿元)"] == "6.00"
    assert shown["拨付率(%,占下达)"] == rate_text(480_000_000, total)
    assert shown["支出进度(%,占下达)"] == rate_text(260_000_000, total)
    assert "下达各类扶贫资金73.40 亿元" in texts(at)
    links = frame_with(at, "层级")
    first = links[links["层级"] == "资金来源 → 项目类别"]
    assert first.groupby("从")["金额(亿元)"].sum().round(4).to_dict() == SEED_BY_SOURCE

    at = open_page(seed_001_url, FUNDS, year=2019, view="资金下达")
    no_exception(at)
    by_source = frame_with(at, "资金来源")
    got = dict(zip(by_source["资金来源"], by_source["下达(亿元)"]))
    assert got == {**SEED_BY_SOURCE, "合计": 73.398}
    detail = frame_with(at, "文号")
    named = dict(zip(detail["资金名称"], detail["下达(亿元)"]))
    for name, yi in SEED_PARTS.items():
        assert named[name] == yi
    assert round(sum(SEED_PARTS.values()), 4) == SEED_BY_SOURCE["金融扶贫资金"]
    assert detail.iloc[-1]["下达(亿元)"] == 73.398

    at = open_page(seed_001_url, FUNDS, year=2019, view="执行进度")
    no_exception(at)
    rates = frame_with(at, "资金来源")
    row = rates[rates["资金来源"] == "金融扶贫资金"].iloc[0]
    assert row["拨付率(%,占下达)"] == round(100 * 400_000_000 / yuan("57.508"), 2)
