"""The 防返贫监测 page in AppTest (the real app.py): opens at every level and shows the query figures,
which tests/test_monitoring_queries.py checks against hand counts of raw SQL rows."""

import datetime as dt

import pytest

from data_access.db import get_engine
from data_access.queries import monitoring
from tests.helpers import busiest_scopes, metrics, open_page, table_with

PAGE = "pages/monitoring.py"
YEAR = 2026
AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def levels(sqlite_demo_url, sql):
    return busiest_scopes(sql(get_engine(sqlite_demo_url)))


@pytest.mark.parametrize("level", [0, 1, 2], ids=["county", "town", "village"])
def test_monitoring_page_figures(sqlite_demo_url, levels, level):
    scope = levels[level]
    engine = get_engine(sqlite_demo_url)
    at = open_page(sqlite_demo_url, PAGE, region=scope.code, year=YEAR)
    assert not at.exception, at.exception
    assert not at.error and not at.warning
    shown = metrics(at)
    totals = monitoring.totals(engine, scope, YEAR)
    kinds = monitoring.breakdown(engine, scope, YEAR, "kind")
    income = monitoring.income_warnings(engine, scope, YEAR, 10)
    health = monitoring.health_warnings(engine, scope, YEAR, 10)
    assert shown["监测对象(户)"] == f"{totals['households']:,}"
    assert shown["监测对象(人)"] == f"{totals['persons']:,}"
    assert shown["仍有风险(户)"] == f"{totals['at_risk_households']:,}"
    assert shown["风险消除率(%)"] == f"{totals['removal_rate']:.2f}%"
    assert shown[f"{YEAR}年新识别(户)"] == f"{int(kinds['new_households'].sum()):,}"
    assert shown["收入预警(户)"] == f"{income['total']:,}"
    assert shown["健康预警(户)"] == f"{health['total']:,}"
    assert shown["低于监测线(户)"] == f"{income['below']:,}"
    assert shown["有患大病成员(户)"] == f"{health['with_illness']:,}"

    by_kind = table_with(at, "监测对象类别")
    assert list(by_kind["监测对象类别"]) == list(kinds["label"])
    assert list(by_kind["仍有风险(户)"]) == list(kinds["at_risk_households"])
    risks = monitoring.breakdown(engine, scope, YEAR, "risk")
    by_risk = table_with(at, "主要风险")
    assert dict(zip(by_risk["主要风险"], by_risk["监测对象(户)"])) == dict(zip(risks["label"], risks["households"]))

    village = scope.level == "village"
    objects = monitoring.object_list(engine, scope, YEAR, AS_OF, not village)
    listed = table_with(at, "风险天数(天)")
    assert list(listed["户主"]) == list(objects["head_name"])
    assert list(listed["风险天数(天)"]) == list(objects["days_at_risk"])
    warned = table_with(at, "高于监测线(%)")
    assert list(warned["户主"]) == list(income["rows"]["head_name"])
    assert list(warned["人均纯收入(元)"]) == list(income["rows"]["per_capita_net"])
    if not village:
        regions = monitoring.by_region(engine, scope, YEAR)
        table = table_with(at, "地区")
        assert dict(zip(table["地区"], table["仍有风险(户)"])) == dict(
            zip(regions["name"], regions["at_risk_households"]))


def test_monitoring_page_settings_in_the_url(sqlite_demo_url, levels):
    engine = get_engine(sqlite_demo_url)
    county = levels[0]
    at = open_page(sqlite_demo_url, PAGE, region=county.code, year=YEAR, margin=25)
    assert not at.exception
    income = monitoring.income_warnings(engine, county, YEAR, 25)
    assert metrics(at)["高出不足25%(户)"] == f"{income['near']:,}"
    assert metrics(at)["收入预警(户)"] == f"{income['total']:,}"

    at = open_page(sqlite_demo_url, PAGE, region=county.code, year=YEAR, margin="很多")
    assert not at.exception
    assert any("margin" in w.value and "默认值 10" in w.value for w in at.warning)
    assert "高出不足10%(户)" in metrics(at)


def test_monitoring_page_before_monitoring_began(sqlite_demo_url, levels):
    at = open_page(sqlite_demo_url, PAGE, region=levels[0].code, year=2018)
    assert not at.exception
    assert any("2021年开始" in i.value for i in at.info)
    assert metrics(at)["监测对象(户)"] == "0"


def test_province_scope_lists_its_cities_and_draws_no_village_map(make_db, sql):
    url = make_db("test_province", 7, backend="sqlite")
    q = sql(url)
    province = q.scalar("SELECT code FROM region WHERE level='province'")
    at = open_page(url, PAGE, region=province, year=2024)
    assert not at.exception, at.exception
    page = " ".join(m.value for m in at.caption)
    assert "村级地图请进入县(区)后查看" in page
    regions = next(f.value for f in at.dataframe if "地区" in f.value.columns)
    cities = q.rows("SELECT name FROM region WHERE parent_code=:p", p=province)
    assert sorted(regions["地区"]) == sorted(c[0] for c in cities)
    identified = q.scalar("SELECT COUNT(*) FROM monitoring_object WHERE identified_date <= '2024-12-31'")
    assert int(regions.filter(like="监测对象").iloc[:, 0].sum()) == identified
