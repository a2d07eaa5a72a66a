"""The 致贫原因 page in AppTest (the real app.py): opens at every level, shows the database's numbers."""

import pytest
from sqlalchemy import text

from data_access.db import get_engine
from tests.helpers import MEMBERS_AT, hround, like, metrics, open_page, scopes, table_with, year_end

PAGE = "pages/causes.py"


@pytest.fixture(scope="module")
def levels(sqlite_demo_url):
    return scopes(get_engine(sqlite_demo_url))


@pytest.mark.parametrize("level", [0, 1, 2], ids=["county", "town", "village"])
def test_cause_page_figures(sqlite_demo_url, levels, level):
    scope, year = levels[level], 2020
    at = open_page(sqlite_demo_url, PAGE, region=scope.code, year=year)
    assert not at.exception, at.exception
    assert not at.warning
    with get_engine(sqlite_demo_url).connect() as conn:
        want = dict(conn.execute(text(
            "SELECT COALESCE(main_cause, '未填写'), COUNT(*) FROM household WHERE kind = '建档立卡户' "
            "AND identified_year <= :y AND village_code LIKE :p GROUP BY COALESCE(main_cause, '未填写')"),
            {"y": year, "p": like(scope)}).all())
        people = conn.execute(text(  # the members at the year's end (born, joined and not yet left by then)
            f"SELECT COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE h.kind = '建档立卡户' "
            "AND h.identified_year <= :y AND h.village_code LIKE :p"),
            {"y": year, "p": like(scope), "end": year_end(year)}).scalar()
        children = dict(conn.execute(text(
            "SELECT r.name, COUNT(*) FROM household h "
            "JOIN region r ON h.village_code LIKE substr(r.code, 1, :d) || '%' "
            "WHERE r.parent_code = :c AND h.kind = '建档立卡户' AND h.identified_year <= :y AND h.main_cause = '因病' "
            "GROUP BY r.name"), {"d": 9 if scope.level == "county" else 12, "c": scope.code, "y": year}).all())
    mix = table_with(at, "主要致贫原因")
    assert dict(zip(mix["主要致贫原因"], mix["户数(户)"])) == want
    shown = metrics(at)
    assert shown["建档立卡户数(户)"] == f"{sum(want.values()):,}"
    assert shown["建档立卡人数(人)"] == f"{people:,}"
    top = max(want, key=lambda c: (want[c], c))
    assert f"第一位:{top}(占户数%)" in shown
    if scope.level == "village":
        assert not children
    else:
        first_child = f"{sorted(children)[0]}(户)"
        row = table_with(at, first_child).set_index("主要致贫原因").loc["因病"]
        assert {name: int(row[f"{name}(户)"]) for name in children} == children
    if scope.level != "county":
        assert any("差异(百分点)" in f.value.columns for f in at.dataframe)  # compared with the county


def test_cause_page_persons_and_bad_parameter(sqlite_demo_url, levels):
    at = open_page(sqlite_demo_url, PAGE, region=levels[1].code, year=2026, measure="persons")
    assert not at.exception
    assert any(label.endswith("(占人数%)") for label in metrics(at))
    at = open_page(sqlite_demo_url, PAGE, year=2026, measure="人头")
    assert not at.exception
    assert any("measure" in w.value and "无效" in w.value for w in at.warning)
    assert any(label.endswith("(占户数%)") for label in metrics(at))


def test_cause_page_presentation_mode(sqlite_demo_url, levels):
    for scope in levels[:2]:
        at = open_page(sqlite_demo_url, PAGE, region=scope.code, year=2020, mode="present")
        assert not at.exception, at.exception
        assert not at.segmented_control  # one screen, no controls
        mix = table_with(at, "主要致贫原因")
        households = int(mix["户数(户)"].sum())
        top = mix.sort_values("户数(户)", ascending=False).iloc[0]
        share = hround(100 * int(top["户数(户)"]) / households, 2)
        assert any(f"主要致贫原因(占建档立卡户数):{top['主要致贫原因']} {share:.2f}%" in m.value for m in at.markdown)
