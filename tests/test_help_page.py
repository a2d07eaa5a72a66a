"""The 帮扶力量 page in AppTest (the real app.py): opens at every level and shows the query figures,
which tests/test_help_queries.py checks against hand counts of raw SQL rows."""

import datetime as dt

import pytest

from data_access.db import get_engine
from data_access.queries import help as helpq
from data_access.rules import visit_period, window
from tests.helpers import metrics, open_page, scopes, table_with

PAGE = "pages/help.py"
YEAR = 2026
AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def levels(sqlite_demo_url):
    return scopes(get_engine(sqlite_demo_url))


def pct1(value):
    return f"{value:.2f}%"


@pytest.mark.parametrize("level", [0, 1, 2], ids=["county", "town", "village"])
def test_help_page_figures(sqlite_demo_url, levels, level):
    scope = levels[level]
    engine = get_engine(sqlite_demo_url)
    at = open_page(sqlite_demo_url, PAGE, region=scope.code, year=YEAR)
    assert not at.exception, at.exception
    assert not at.error and not at.warning
    shown = metrics(at)
    period = window(AS_OF, 90)
    total = helpq.visit_rates(engine, scope, (period,), "total").iloc[0]
    no_hh = helpq.households_without_visit(engine, scope, AS_OF, 90)
    no_cadre = helpq.cadres_without_visit(engine, scope, AS_OF, 90)
    assert shown["帮扶单位(个)"] == f"{total['units']:,}"
    assert shown["帮扶责任人(人)"] == f"{total['cadres']:,}"
    assert shown["结对帮扶户(户)"] == f"{total['assigned_households']:,}"
    assert shown["每人结对(户)"] == f"{total['households_per_cadre']:.1f}"
    assert shown["近90天入户率(%)"] == pct1(total["visit_rate"])
    assert shown["已入户(户)"] == f"{total['visited_households']:,}"
    assert shown["90天未入户(户)"] == f"{no_hh['total']:,}"
    assert shown["未入户干部(人)"] == f"{no_cadre['total']:,}"

    listed = table_with(at, "最近入户日期")
    assert list(listed["户主"]) == list(no_hh["rows"]["head_name"])
    units = helpq.visit_rates(engine, scope, (period,), "unit")
    ranking = table_with(at, "排名")
    assert sorted(zip(ranking["帮扶单位"], ranking["结对帮扶户(户)"])) == sorted(
        zip(units["name"], units["assigned_households"]))
    assert list(ranking["近90天入户率(%)"]) == sorted(units["visit_rate"], reverse=True)
    if scope.level != "village":
        children = helpq.visit_rates(engine, scope, (period,), "child")
        by_region = table_with(at, "地区")
        assert dict(zip(by_region["地区"], by_region["已入户(户)"])) == dict(
            zip(children["name"], children["visited_households"]))
    span = helpq.measure_span(engine, scope)
    m_year = min(YEAR, span["last"])
    measures = helpq.measures(engine, scope, span["first"], m_year)
    this_year = measures[measures["year"] == m_year]
    table = table_with(at, "覆盖户数(户)")
    assert dict(zip(table["措施"], table["覆盖户数(户)"])) == dict(zip(this_year["measure"], this_year["households"]))
    match = helpq.cause_match(engine, scope, m_year)
    match = match[match["households"] > 0]
    table = table_with(at, "对应措施")
    assert dict(zip(table["主要致贫原因"], table["从未有对应措施(户)"])) == dict(
        zip(match["cause"], match["unmatched_ever"]))


def test_help_page_settings_in_the_url(sqlite_demo_url, levels):
    engine = get_engine(sqlite_demo_url)
    town = levels[1]
    at = open_page(sqlite_demo_url, PAGE, region=town.code, year=YEAR, days=30)
    assert not at.exception
    shown = metrics(at)
    assert shown["30天未入户(户)"] == f"{helpq.households_without_visit(engine, town, AS_OF, 30)['total']:,}"
    rate = helpq.visit_rates(engine, town, (window(AS_OF, 30),), "total").iloc[0]
    assert shown["近30天入户率(%)"] == pct1(rate["visit_rate"])

    at = open_page(sqlite_demo_url, PAGE, region=town.code, year=2025, period="year")
    assert not at.exception
    rates = helpq.visit_rates(engine, town, (visit_period(2025, AS_OF), visit_period(2024, AS_OF)), "total")
    assert metrics(at)["2025年入户率(%)"] == pct1(rates["visit_rate"][0])

    at = open_page(sqlite_demo_url, PAGE, region=town.code, year=YEAR, days="九十", period="month")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "days" in warnings and "period" in warnings
    assert "90天未入户(户)" in metrics(at)


def test_help_page_before_visits_were_logged(sqlite_demo_url, levels):
    at = open_page(sqlite_demo_url, PAGE, region=levels[1].code, year=2022)
    assert not at.exception
    assert any("走访记录自" in w.value for w in at.warning)
    assert metrics(at)["已入户(户)"] == "0"
