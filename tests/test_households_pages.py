"""The query (查询) and household (户档案) pages in AppTest: they open at every level, show the
query's figures, and answer bad input with a Chinese message."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from data_access.db import get_engine
from data_access.rules import is_valid_id
from data_access.queries import households as hq
from data_access.scope import Scope
from tests.helpers import MEMBERS_AT, metrics, open_page, scalar, scopes, year_end

QUERY, HOUSEHOLD = "pages/query.py", "pages/household.py"


def first(url, sql, **params):
    with get_engine(url).connect() as conn:
        return conn.execute(text(sql), params).first()


def all_values(url, sql, **params):
    with get_engine(url).connect() as conn:
        return {r[0] for r in conn.execute(text(sql), params)}


def levels(url):
    return [s.code for s in scopes(url)]


def number(text_: str) -> int:
    return int(text_.replace(",", ""))


def chinese(text_: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text_)


@pytest.mark.parametrize("level", [0, 1, 2])
def test_query_page_shows_the_query(sqlite_demo_url, level):
    region = levels(sqlite_demo_url)[level]
    params = {"status": "已脱贫", "main_cause": "因病,缺资金", "sort": "-income", "size": "20"}
    at = open_page(sqlite_demo_url, QUERY, region=region, year=2024, **params)
    assert not at.exception, at.exception
    shown = metrics(at)
    like = Scope.of(region).prefix
    expected = scalar(
        sqlite_demo_url,
        "SELECT COUNT(*) FROM household WHERE village_code LIKE :p AND kind='建档立卡户' AND identified_year <= 2024 "
        "AND exit_year <= 2024 AND (returned_year IS NULL OR returned_year > 2024) AND main_cause IN ('因病','缺资金')",
        p=like + "%")
    persons = scalar(
        sqlite_demo_url,
        "SELECT COUNT(*) FROM person p JOIN household h ON h.hh_id = p.hh_id WHERE h.village_code LIKE :p "
        "AND h.kind='建档立卡户' AND h.identified_year <= 2024 AND h.exit_year <= 2024 "
        "AND (h.returned_year IS NULL OR h.returned_year > 2024) AND h.main_cause IN ('因病','缺资金') "
        "AND p.birth_year <= 2024 AND (p.join_date IS NULL OR p.join_date <= :end) "
        "AND (p.leave_date IS NULL OR p.leave_date > :end)",  # the members at the year's end
        p=like + "%", end=year_end(2024))
    assert number(shown["符合条件的户数(户)"]) == expected
    assert number(shown["符合条件的人数(人)"]) == persons
    if expected:
        table = at.dataframe[0].value
        f = hq.HouseholdFilter.from_params(params)
        rows = hq.list_page(get_engine(sqlite_demo_url), Scope.of(region), f, 2024, masked=True)
        assert list(table.columns) == [hq.COLUMNS[c].header for c in f.columns]
        assert list(table["户编号"]) == list(rows["hh_id"]) and len(table) <= 20
        assert list(table["年人均纯收入(元)"]) == list(rows["income"])


def test_query_page_without_filters_counts_everything(sqlite_demo_url):
    at = open_page(sqlite_demo_url, QUERY, region="523199000000")
    assert not at.exception
    expected = scalar(sqlite_demo_url, "SELECT COUNT(*) FROM household h WHERE (kind='建档立卡户') OR EXISTS "
                                       "(SELECT 1 FROM monitoring_object m WHERE m.hh_id = h.hh_id)")
    assert number(metrics(at)["符合条件的户数(户)"]) == expected
    assert len(at.dataframe[0].value) == hq.DEFAULT_PAGE_SIZE  # one page, never the whole list


@pytest.mark.parametrize("params", [
    {"main_cause": "不存在的原因"}, {"exit_year": "20x9"}, {"income_min": "abc", "water": "2"},
    {"q": "110105194912310021"}, {"sort": "id_number"},
])
def test_query_page_bad_links_get_chinese_messages(sqlite_demo_url, params):
    at = open_page(sqlite_demo_url, QUERY, region="523199000000", **params)
    assert not at.exception
    assert at.error and chinese(at.error[0].value)
    assert not at.dataframe  # no data on a broken query


def test_query_page_search_without_match(sqlite_demo_url):
    at = open_page(sqlite_demo_url, QUERY, region="523199000000", q="5231990000009999")
    assert not at.exception
    assert number(metrics(at)["符合条件的户数(户)"]) == 0
    assert any("没有找到户编号" in i.value for i in at.info)


def test_query_page_search_by_id_finds_household(sqlite_demo_url, monkeypatch):
    from data_access import auth

    secret = "households-pages-secret-Zq3v9XkT2mB7pLw4rYd8nHc1"
    monkeypatch.setenv("REGISTRY_AUTH_SECRET", secret)
    person = first(sqlite_demo_url, "SELECT hh_id, id_number FROM person ORDER BY person_id LIMIT 1 OFFSET 40")
    assert is_valid_id(person.id_number)
    at = open_page(sqlite_demo_url, QUERY, region="523199000000", q=person.id_number,  # only 管理员 may
                   token=auth.make_token(secret, "a1", "测试", "523199000000", "管理员"))
    assert not at.exception
    assert number(metrics(at)["符合条件的户数(户)"]) == 1
    assert list(at.dataframe[0].value["户编号"]) == [person.hh_id]
    assert person.id_number not in str(at.dataframe[0].value.to_dict())


def sample_household(url):
    return scalar(url, "SELECT hh_id FROM household WHERE village_code LIKE :p ORDER BY member_count DESC, hh_id",
                  p=levels(url)[2] + "%")


@pytest.mark.parametrize("level", [0, 1, 2])
def test_household_page_opens_at_every_level(sqlite_demo_url, level):
    hh = sample_household(sqlite_demo_url)
    at = open_page(sqlite_demo_url, HOUSEHOLD, region=levels(sqlite_demo_url)[level], hh=hh)
    assert not at.exception, at.exception
    assert not at.error
    shown = metrics(at)
    members = scalar(sqlite_demo_url, "SELECT COUNT(*) FROM person WHERE hh_id = :h AND leave_date IS NULL", h=hh)
    assert number(shown["家庭人口(人)"]) == members  # the as-of year: today's members
    if level == 2:  # a past year: the members at that year's end
        past = open_page(sqlite_demo_url, HOUSEHOLD, region=levels(sqlite_demo_url)[level], hh=hh, year=2015)
        then = scalar(sqlite_demo_url, f"SELECT {MEMBERS_AT} FROM household h WHERE h.hh_id = :h", h=hh,
                      end=year_end(2015))
        assert number(metrics(past)["家庭人口(人)"]) == then
    latest = first(sqlite_demo_url, "SELECT year, per_capita_net FROM income WHERE hh_id = :h AND year <= 2026 "
                                    "ORDER BY year DESC", h=hh)
    assert shown["人均纯收入(元)"] == f"{float(latest.per_capita_net):,.0f}"
    assert f"收入为 {latest.year} 年数据" in " ".join(c.value for c in at.caption)
    frames = [d.value for d in at.dataframe]
    member_table = next(df for df in frames if "证件号码" in df.columns)
    assert len(member_table) == members
    assert all("*" in v for v in member_table["证件号码"])  # masked in open mode
    clear = all_values(sqlite_demo_url, "SELECT id_number FROM person WHERE hh_id = :h", h=hh)
    assert not clear & set(member_table["证件号码"])
    measures = next(df for df in frames if "帮扶措施" in df.columns)
    assert len(measures) == scalar(sqlite_demo_url, "SELECT COUNT(*) FROM help_measure WHERE hh_id = :h", h=hh)


def test_household_outside_scope_is_refused(sqlite_demo_url):
    hh = sample_household(sqlite_demo_url)
    town = scalar(sqlite_demo_url, "SELECT code FROM region WHERE level='town' AND code <> :t ORDER BY code",
                  t=hh[:9] + "000")
    at = open_page(sqlite_demo_url, HOUSEHOLD, region=town, hh=hh)
    assert not at.exception
    assert at.error and hh in at.error[0].value and chinese(at.error[0].value)
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize("hh, kind", [("'; DROP TABLE household; --", "error"), ("12", "error"), ("", "info")])
def test_household_bad_or_missing_id(sqlite_demo_url, hh, kind):
    at = open_page(sqlite_demo_url, HOUSEHOLD, region="523199000000", hh=hh or None)
    assert not at.exception
    messages = at.error if kind == "error" else at.info
    assert messages and chinese(messages[0].value)
    assert not at.dataframe


def test_query_page_above_the_county_lists_units_then_one_units_cadres(make_db, sql):
    url = make_db("test_province", 7, backend="sqlite")
    q = sql(url)
    province = q.scalar("SELECT code FROM region WHERE level='province'")
    at = open_page(url, "pages/query.py", region=province, year=2024)
    assert not at.exception, at.exception
    unit_box = next(s for s in at.selectbox if s.label == "帮扶单位")
    helper_box = next(s for s in at.selectbox if s.label == "帮扶责任人")
    units = q.rows("SELECT DISTINCT hp.unit_id FROM assignment a JOIN helper hp ON hp.helper_id = a.helper_id "
                   "ORDER BY 1")
    assert [o for o in unit_box.options if o != "不限"] and len(unit_box.options) == len(units) + 1
    assert helper_box.disabled and helper_box.options == ["请先选择帮扶单位"]
    unit = units[1][0]
    at = open_page(url, "pages/query.py", region=province, year=2024, unit=unit)
    assert not at.exception, at.exception
    helper_box = next(s for s in at.selectbox if s.label == "帮扶责任人")
    cadres = q.scalar("SELECT COUNT(DISTINCT hp.helper_id) FROM assignment a "
                      "JOIN helper hp ON hp.helper_id = a.helper_id "
                      "WHERE hp.unit_id = :u", u=unit)
    assert not helper_box.disabled and len(helper_box.options) == cadres + 1  # 不限 + the unit's cadres


@pytest.mark.parametrize("params", [{"size": "²"}, {"page": "²"}, {"page": "①"}, {"size": "５０"}, {"page": "٣"},
                                    {"page": "abc"}, {"size": "7"}])
def test_bad_page_or_size_in_the_url_warns_and_lists_page_one(sqlite_demo_url, params):
    """Only ASCII digits are a number ('²'.isdigit() is true and int('²') fails): a warning, the default, a list."""
    import os

    from streamlit.testing.v1 import AppTest

    from tests.helpers import APP

    os.environ.pop("REGISTRY_AUTH_SECRET", None)
    os.environ["REGISTRY_DB_URL"] = sqlite_demo_url
    at = AppTest.from_file(APP, default_timeout=120)
    name, value = next(iter(params.items()))
    at.query_params[name] = value  # open_page's own "page" argument is the page file
    at.run()
    at.switch_page(QUERY).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    warnings = " ".join(w.value for w in at.warning)
    assert f"{name}={value}" in warnings and "无效" in warnings
    assert "符合条件的户数(户)" in metrics(at)


@pytest.mark.parametrize("text_", ["²", "①", "５０", "٣", "+3", "-1", " 3", "3.0", "1e3", "1_000", ""])
def test_url_whole_number_is_ascii_digits_only(text_):
    from components.widgets import url_whole

    assert url_whole(text_) is None
    assert url_whole("0050") == 50 and url_whole("7", 1, 6) is None and url_whole("6", 1, 6) == 6
