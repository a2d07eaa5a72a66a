"""The overview, village map and village file pages in AppTest (the real app.py): they open for the
county, a township and a village, and the figures they show equal independent SQL on the same database."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import (DEMO_SEED, MEMBERS_AT, era_by_sql, hround, metrics, open_page, population_at, scopes, texts,
                           year_end)

YEAR = 2018


def sql_scopes(q):
    return dict(zip(("county", "town", "village"), (s.code for s in scopes(q))))


def registry(q, prefix: str, year: int) -> dict:
    base = "FROM household h WHERE kind='建档立卡户' AND identified_year <= :y AND village_code LIKE :p"
    at = {"y": year, "p": prefix + "%", "end": year_end(year)}  # people: the members at the year's end
    hh, persons = q.rows(f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}),0) {base}", **at)[0]
    ex_hh, ex_p = q.rows(f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}),0) {base} AND exit_year <= :y "
                         "AND (returned_year IS NULL OR returned_year > :y)", **at)[0]
    ret_p = q.scalar(f"SELECT COALESCE(SUM({MEMBERS_AT}),0) {base} AND returned_year <= :y", **at)
    rural = population_at(q, prefix, year)
    return {"hh": hh, "persons": persons, "exited_p": ex_p, "not_exited_p": persons - ex_p - ret_p,
            "incidence": hround(100 * (persons - ex_p) / rural, 2) if rural else None}


def count(n) -> str:
    return f"{int(n):,}"


@pytest.fixture(scope="module")
def q(sqlite_demo_url, sql):
    """This module's pages run on the SQLite demo only (conftest's ``q`` is per backend)."""
    return sql(sqlite_demo_url)


@pytest.mark.parametrize("level", ["county", "town", "village"])
def test_overview_figures(sqlite_demo_url, q, level):
    code = sql_scopes(q)[level]
    at = open_page(sqlite_demo_url, "pages/overview.py", region=code, year=YEAR)
    assert not at.exception, at.exception
    shown = metrics(at)
    prefix = code[:{"county": 6, "town": 9, "village": 12}[level]]
    want = registry(q, prefix, YEAR)
    assert shown["建档立卡户数(户)"] == count(want["hh"])
    assert shown["建档立卡人数(人)"] == count(want["persons"])
    assert shown["已脱贫人数(人)"] == count(want["exited_p"])
    assert shown["未脱贫人数(人)"] == count(want["not_exited_p"])
    assert shown["贫困发生率(%)"] == (f"{want['incidence']:.2f}%" if want["incidence"] is not None else "—")
    monitoring = q.scalar("SELECT COUNT(*) FROM monitoring_object WHERE village_code LIKE :p AND identified_date <= :d",
                          p=prefix + "%", d=dt.date(YEAR, 12, 31))
    assert shown["监测对象(户)"] == count(monitoring)
    # exits by year: the table under the chart holds the hand counts
    exits = at.dataframe[0].value
    for row in exits.itertuples(index=False):
        year, households = row[0], row[1]
        assert households == q.scalar("SELECT COUNT(*) FROM household WHERE kind='建档立卡户' AND exit_year=:y "
                                      "AND village_code LIKE :p", y=year, p=prefix + "%")
    incidence = at.dataframe[1].value.set_index("年度")
    assert incidence.loc[YEAR, "贫困发生率(%)"] == want["incidence"]
    if level == "village":
        assert "没有下级区划" in texts(at)
    else:
        ranking = at.dataframe[2].value
        kids = q.rows("SELECT code FROM region WHERE parent_code=:c", c=code)
        assert sorted(ranking["区划代码"]) == sorted(k[0] for k in kids)
        for rec in ranking.to_dict("records"):  # ranked on 贫困发生率 (≤ 2020), highest first
            assert rec["贫困发生率(%)"] == registry(q, rec["区划代码"][:9] if level == "county" else rec["区划代码"],
                                                   YEAR)["incidence"]
        values = [v for v in ranking["贫困发生率(%)"] if v == v]
        assert values == sorted(values, reverse=True)


def test_overview_presentation_and_bad_choice(sqlite_demo_url, q):
    code = sql_scopes(q)["county"]
    at = open_page(sqlite_demo_url, "pages/overview.py", region=code, year=2026, mode="present")
    assert not at.exception
    # 2026: the era's headline (components.era), no 贫困发生率; the campaign's four figures up to 2020
    shown = texts(at)  # the projector's tiles (components.era.present_tiles)
    assert "脱贫人口" in shown and "防返贫监测对象" in shown and "脱贫享受政策" in shown
    assert "贫困发生率(%)" not in metrics(at) and "不再计算贫困发生率" in shown
    at = open_page(sqlite_demo_url, "pages/overview.py", region=code, year=2020, mode="present")
    assert not at.exception
    assert set(metrics(at)) == {"建档立卡人数(人)", "已脱贫人数(人)", "未脱贫人数(人)", "贫困发生率(%)"}
    at = open_page(sqlite_demo_url, "pages/overview.py", region=code, year=2026, rank="nonsense")
    assert not at.exception
    assert any("rank=nonsense" in w.value for w in at.warning)
    ranking = at.dataframe[2].value  # default after 2020: 风险未消除监测户, most first
    column = "风险未消除监测户(户)"
    assert list(ranking[column]) == sorted(ranking[column], reverse=True)


@pytest.mark.parametrize("level", ["county", "town", "village"])
def test_map_page(sqlite_demo_url, q, level):
    code = sql_scopes(q)[level]
    at = open_page(sqlite_demo_url, "pages/village_map.py", region=code, year=2019, ind="not_exited_persons")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    area = code[:9] if level != "county" else code[:6]  # a village is shown within its township
    villages = q.rows("SELECT code FROM region WHERE level='village' AND code LIKE :p ORDER BY code", p=area + "%")
    assert sorted(table["区划代码"]) == [v[0] for v in villages]
    for rec in table.to_dict("records"):
        want = registry(q, rec["区划代码"], 2019)  # a campaign year: none after 2020
        assert rec["未脱贫人数(人)"] == want["not_exited_p"]
        assert rec["贫困发生率(%)"] == want["incidence"]
    assert list(table["未脱贫人数(人)"]) == sorted(table["未脱贫人数(人)"], reverse=True)
    page = texts(at)
    assert "未脱贫人数(人)" in page and "个村" in page  # the legend: title with unit, classes with counts
    assert len(at.get("vega_lite_chart")) == 1


@pytest.mark.parametrize("level", ["province", "city"])
def test_map_page_above_the_county_ranks_its_children_instead_of_drawing_every_village(make_db, sql, level):
    url = make_db("test_province", 7, backend="sqlite")
    q = sql(url)
    code = q.rows("SELECT code FROM region WHERE level=:l ORDER BY code", l=level)[0][0]
    at = open_page(url, "pages/village_map.py", region=code, year=2018, ind="incidence")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    children = q.rows("SELECT code, level FROM region WHERE parent_code=:c ORDER BY code", c=code)
    assert sorted(table["区划代码"]) == [c for c, _ in children]  # one row per child region, not per village
    for child, child_level in children:
        prefix = child[:{"city": 4, "county": 6}[child_level]]
        want = registry(q, prefix, 2018)
        row = table.set_index("区划代码").loc[child]
        assert row["贫困发生率(%)"] == want["incidence"] and row["未脱贫人数(人)"] == want["not_exited_p"]
    assert "村级地图" in texts(at) and "点击一个" in texts(at)


def test_map_bad_parameters(sqlite_demo_url, q):
    at = open_page(sqlite_demo_url, "pages/village_map.py", region=sql_scopes(q)["county"], ind="x'; drop", cls="?")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "ind=" in warnings and "cls=" in warnings


def test_village_page(sqlite_demo_url, q):
    code = sql_scopes(q)["village"]
    at = open_page(sqlite_demo_url, "pages/village.py", region=code, year=2026)
    assert not at.exception, at.exception
    shown = metrics(at)
    want = registry(q, code, 2026)
    assert shown["建档立卡户数(户)"] == count(want["hh"])
    # 2021 onward: 脱贫人口 and 监测对象, no 贫困发生率 (issue 17)
    era = era_by_sql(q, code, 2026)
    assert shown["脱贫人口(人)"] == count(want["exited_p"]) == count(era["exited"][1])
    assert shown["监测对象(户)"] == count(era["monitoring"][0])
    rural = population_at(q, code, 2026)
    assert shown["监测对象占比(%)"] == f"{hround(100 * era['monitoring'][1] / rural, 2):.2f}%"
    assert "贫困发生率(%)" not in shown and "未脱贫人数(人)" not in shown
    assert any("2021年起不再计算贫困发生率" in c.value for c in at.caption)
    campaign = open_page(sqlite_demo_url, "pages/village.py", region=code, year=2020)
    assert not campaign.exception, campaign.exception
    then, want_then = metrics(campaign), registry(q, code, 2020)
    assert then["未脱贫人数(人)"] == count(want_then["not_exited_p"])
    assert then["贫困发生率(%)"] == f"{want_then['incidence']:.2f}%"
    assert "脱贫人口(人)" not in then
    tables = {tuple(df.value.columns)[:2]: df.value for df in at.dataframe}
    homes = next(v for k, v in tables.items() if k == ("户编号", "户主"))
    raw = q.rows("SELECT hh_id, phone FROM household WHERE village_code=:v ORDER BY hh_id", v=code)
    assert list(homes["户编号"]) == [r[0] for r in raw]
    assert all("*" in str(p) for p in homes["联系电话"] if p)
    assert all(str(i)[4:14] == "*" * 10 for i in homes["户主证件号码"] if i)
    names = q.scalar("SELECT name FROM region WHERE code=:c", c=code)
    assert names in texts(at)


@pytest.mark.parametrize("level", ["county", "town"])
def test_village_page_needs_a_village(sqlite_demo_url, q, level):
    at = open_page(sqlite_demo_url, "pages/village.py", region=sql_scopes(q)[level])
    assert not at.exception
    assert any("村档案需要选定一个行政村" in i.value for i in at.info)


@pytest.mark.postgresql
def test_pages_on_postgresql(make_db, pg_server_url, sql):
    """The same pages open on PostgreSQL with the same figures as independent SQL there."""
    registry_url = make_db("small", DEMO_SEED, backend="postgresql")
    q = sql(registry_url)
    scopes = sql_scopes(q)
    at = open_page(registry_url, "pages/village_map.py", region=scopes["county"], year=2026)
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table["建档立卡人数(人)"].sum() == registry(q, scopes["county"][:6], 2026)["persons"]
    at = open_page(registry_url, "pages/village.py", region=scopes["village"], year=2026)
    assert not at.exception, at.exception
    assert metrics(at)["建档立卡户数(户)"] == count(registry(q, scopes["village"], 2026)["hh"])


def test_map_pydeck_renderer_has_no_basemap(sqlite_demo_url, q, monkeypatch):
    """The optional deck.gl renderer: Streamlit gets pydeck's "no basemap" sentinel, never a Carto style."""
    import json

    monkeypatch.setenv("REGISTRY_MAP_RENDERER", "pydeck")
    at = open_page(sqlite_demo_url, "pages/village_map.py", region=sql_scopes(q)["county"], year=2026)
    assert not at.exception, at.exception
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1 and not at.get("vega_lite_chart")
    spec = json.loads(decks[0].proto.json)
    assert spec.get("mapStyle") == "__MAP_STYLE__" and "mapProvider" not in spec
    assert "carto" not in decks[0].proto.json.lower() and "mapbox" not in decks[0].proto.json.lower()
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert {"villages", "town-lines", "labels"} <= set(layers)
    codes = {row["code"] for row in layers["villages"]["data"]}
    assert codes == {r[0] for r in q.rows("SELECT code FROM region WHERE level='village'")}


def test_overview_funds_and_monitoring_cards(sqlite_demo_url, q):
    """拨付率, 支出进度 and 风险消除率 on the county overview equal independent SQL (one figure per card)."""
    code = sql_scopes(q)["county"]
    at = open_page(sqlite_demo_url, "pages/overview.py", region=code, year=2026)
    assert not at.exception, at.exception
    shown = metrics(at)
    funds = "SELECT fund_id FROM fund WHERE year=2026 AND county_code=:c"
    allocated = q.scalar(f"SELECT SUM(amount) FROM fund WHERE fund_id IN ({funds})", c=code)
    flows = dict(q.rows(f"SELECT kind, SUM(amount) FROM money_flow WHERE fund_id IN ({funds}) GROUP BY kind", c=code))
    assert allocated and flows
    assert shown["拨付率(%,占下达)"] == f"{hround(100 * flows['拨付'] / allocated, 2):.2f}%"
    assert shown["支出进度(%,占下达)"] == f"{hround(100 * flows['支出'] / allocated, 2):.2f}%"
    objects, removed = q.rows("SELECT COUNT(*), SUM(CASE WHEN removed_date <= '2026-12-31' THEN 1 ELSE 0 END) "
                              "FROM monitoring_object WHERE village_code LIKE :p AND identified_date <= '2026-12-31'",
                              p=code[:6] + "%")[0]
    assert objects and removed
    # 2026 leads with the era's cards: 监测对象(N户) and 风险已消除(N户) (components.era)
    assert f"监测对象({count(objects)}户)" in shown
    assert f"风险已消除({count(removed)}户)" in shown
