"""The schematic village map (components.charts.schematic): drawn when no village of the scope has a
boundary, one equal tile per village grouped by township, coloured by the indicator's classes.

The colours are checked against the indicator counted with independent SQL; the layout against the
region tree (every village once, blocks of a township disjoint, townships in code order or north first)."""

from __future__ import annotations

import json

import pytest

from components.charts.schematic import layout
from data_access.names import display_name
from data_access.queries.villages import INDICATORS
from data_access.report.classify import classify
from tests.county_shapes import officialise
from tests.helpers import COUNTY_CODE, MEMBERS_AT, POPULATION_AT, hround, open_page, texts, year_end

YEAR = 2018  # incidence still varies from village to village (by 2026 most are 0)


@pytest.fixture
def bare_county(registry_url, cloner):
    """A copy of the demo database with official names and no geometry (a county before its boundary file)."""
    url = cloner(registry_url, prefix="schematic")
    officialise(url)
    return url


def incidence_by_sql(q, town_prefix: str = "") -> dict[str, float | None]:
    """贫困发生率 per village: (建档立卡 people not exited, or returned, at year end) ÷ 农村户籍人口, by hand."""
    rows = q.rows(  # people: the members at the year's end; the year's own 农村户籍人口
        f"SELECT r.code, {POPULATION_AT}, "
        f"  (SELECT COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE h.village_code = r.code "
        "     AND h.kind = '建档立卡户' AND h.identified_year <= :y) - "
        f"  (SELECT COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE h.village_code = r.code "
        "     AND h.kind = '建档立卡户' AND h.identified_year <= :y AND h.exit_year <= :y "
        "     AND (h.returned_year IS NULL OR h.returned_year > :y)) "
        "FROM region r WHERE r.level = 'village' AND r.code LIKE :p ORDER BY r.code", y=YEAR, p=town_prefix + "%",
        end=year_end(YEAR))
    return {code: (round(100.0 * int(poor) / int(rural), 2) if rural else None) for code, rural, poor in rows}


def schematic_spec(at) -> dict:
    assert not at.exception, at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    found = [s for s in specs if (s.get("usermeta") or {}).get("schematic")]
    assert found, "no schematic map on the page"
    return found[0]


def tiles_and_colours(spec) -> tuple[list[dict], dict[str, str]]:
    rect = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "rect")
    scale = rect["encoding"]["color"]["scale"]
    return rect["data"]["values"], dict(zip(scale["domain"], scale["range"]))


def assert_tiles_coloured_by_class(tiles, colour_of, expected: dict, key: str) -> None:
    """Each tile has the colour of its value's quantile class (grey without a value), classes made from the
    independent SQL values as the map makes them."""
    _, unit, higher_is_worse, digits = INDICATORS[key]
    classes = classify([v for v in expected.values() if v is not None], 5, "quantile", unit=unit, digits=digits,
                       higher_is_worse=higher_is_worse)
    for t in tiles:
        value = expected[t["code"]]
        want = classes.color(value) if value is not None else "#BBBBBB"
        assert colour_of[t["cls"]] == want, (t["code"], value, t["cls"])


@pytest.mark.parametrize("scope_kind", ["county", "town"])
def test_schematic_colours_are_the_indicator_classes(bare_county, sql, scope_kind):
    q = sql(bare_county)
    assert q.scalar("SELECT COUNT(*) FROM region WHERE geometry IS NOT NULL") == 0
    town = q.rows("SELECT code FROM region WHERE level = 'town' ORDER BY code")[1][0]
    scope = COUNTY_CODE if scope_kind == "county" else town
    at = open_page(bare_county, "pages/village_map.py", region=scope, year=YEAR, ind="incidence", cls="quantile")
    spec = schematic_spec(at)
    tiles, colour_of = tiles_and_colours(spec)
    expected = incidence_by_sql(q, "" if scope_kind == "county" else town[:9])
    assert sorted(t["code"] for t in tiles) == sorted(expected)  # every village of the scope, once
    assert_tiles_coloured_by_class(tiles, colour_of, expected, "incidence")
    assert len({colour_of[t["cls"]] for t in tiles}) > 2  # the classes differ (the test could fail)
    # Display names on the tiles, official ones in the database; equal tiles that do not overlap.
    official = dict(q.rows("SELECT code, name FROM region WHERE level = 'village'"))
    assert all(t["name"] == display_name(official[t["code"]]) != official[t["code"]] for t in tiles)
    assert {(t["x1"] - t["x0"], t["y1"] - t["y0"]) for t in tiles} == {(1.0, 1.0)}
    assert len({(t["x0"], t["y0"]) for t in tiles}) == len(tiles)
    legend = "".join(h.proto.body for h in at.get("html"))
    assert "示意图" in legend
    params = {p["name"] for p in spec["params"]}
    assert "pick" in params and (("zoom" in params) == (scope_kind == "county"))
    labels = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text" and
              layer["mark"].get("fontWeight") == "bold"]
    if scope_kind == "county":
        towns = q.rows("SELECT code, name FROM region WHERE level = 'town' ORDER BY code")
        assert [(r["code"], r["name"]) for r in labels[0]["data"]["values"]] == towns


ERA_YEAR = 2026


def monitoring_by_sql(q, town_prefix: str, key: str) -> dict[str, float | None]:
    """2021–: 风险未消除监测户 or 监测对象占比 per village at the end of ERA_YEAR, by hand."""
    rows = q.rows(
        "SELECT r.code, r.rural_population, "
        "  (SELECT COUNT(*) FROM monitoring_object m WHERE m.village_code = r.code AND m.identified_date <= :d "
        "     AND (m.removed_date IS NULL OR m.removed_date > :d)), "
        "  (SELECT COALESCE(SUM(m.persons), 0) FROM monitoring_object m WHERE m.village_code = r.code "
        "     AND m.identified_date <= :d) "
        "FROM region r WHERE r.level = 'village' AND r.code LIKE :p ORDER BY r.code",
        d=f"{ERA_YEAR}-12-31", p=town_prefix + "%")
    if key == "monitoring_at_risk":
        return {code: at_risk for code, _, at_risk, _ in rows}
    return {code: (float(hround(100.0 * persons / rural, 2)) if rural else None) for code, rural, _, persons in rows}


@pytest.mark.parametrize("ind, key", [(None, "monitoring_at_risk"), ("incidence", "monitoring_at_risk"),
                                      ("monitoring_share", "monitoring_share")])
def test_present_era_map_offers_monitoring_indicators(bare_county, sql, ind, key):
    """2026: no 贫困发生率 on the map; the default is a present-era indicator; a link asking for 贫困发生率 gets a
    Chinese note and the default; the colours are the classes of the indicator counted by hand."""
    q = sql(bare_county)
    town = q.rows("SELECT code FROM region WHERE level = 'town' ORDER BY code")[1][0]
    at = open_page(bare_county, "pages/village_map.py", region=COUNTY_CODE, year=ERA_YEAR, ind=ind, cls="quantile")
    assert not at.exception, at.exception
    options = [str(o) for box in at.selectbox if box.label == "着色指标" for o in box.options]
    assert any("监测对象占比" in o for o in options) and not any("贫困发生率" in o or "脱贫进度" in o for o in options)
    assert "贫困发生率" not in texts(at)
    notes = [i.value for i in at.info]
    if ind == "incidence":
        assert any("贫困发生率" in n and "2021年起" in n and "风险未消除监测户" in n for n in notes), notes
        assert not at.warning  # the note, not the generic bad-link warning
    else:
        assert not any("贫困发生率" in n for n in notes)
    spec = schematic_spec(at)
    tiles, colour_of = tiles_and_colours(spec)
    expected = monitoring_by_sql(q, "", key)
    assert sorted(t["code"] for t in tiles) == sorted(expected)
    assert_tiles_coloured_by_class(tiles, colour_of, expected, key)
    assert len({colour_of[t["cls"]] for t in tiles}) > 1
    legend = "".join(h.proto.body for h in at.get("html"))
    assert INDICATORS[key][0] in legend and "贫困发生率" not in legend
    assert town  # the county's townships are drawn


def test_present_era_ranking_has_no_incidence(bare_county, sql):
    """The overview's township ranking in 2026: a link asking for 贫困发生率 gets the note and 风险未消除监测户,
    whose values equal the count by hand; the table has no campaign columns."""
    q = sql(bare_county)
    at = open_page(bare_county, None, region=COUNTY_CODE, year=ERA_YEAR, rank="incidence")
    assert not at.exception, at.exception
    assert any("贫困发生率" in i.value and "风险未消除监测户" in i.value for i in at.info)
    want = dict(q.rows(
        "SELECT t.code, (SELECT COUNT(*) FROM monitoring_object m "
        "WHERE m.village_code LIKE SUBSTR(t.code, 1, 9) || '%' AND m.identified_date <= :d "
        "AND (m.removed_date IS NULL OR m.removed_date > :d)) "
        "FROM region t WHERE t.level = 'town' ORDER BY t.code", d=f"{ERA_YEAR}-12-31"))
    table = next(f.value for f in at.dataframe if "位次" in f.value.columns)  # the bars' own data, as a table
    assert dict(zip(table["区划代码"], table["风险未消除监测户(户)"])) == want
    assert list(table["风险未消除监测户(户)"]) == sorted(want.values(), reverse=True)  # worst first
    assert "风险未消除监测户(户)" in table.columns and "监测对象占比(%)" in table.columns
    assert not any("贫困发生率" in c or "未脱贫" in c for c in table.columns)


def test_village_scope_is_drawn_in_its_township_outlined(bare_county, sql):
    q = sql(bare_county)
    village = q.rows("SELECT code FROM region WHERE level = 'village' ORDER BY code")[-1][0]
    at = open_page(bare_county, "pages/village_map.py", region=village, year=YEAR)
    tiles, _ = tiles_and_colours(schematic_spec(at))
    assert sorted(t["code"] for t in tiles) == [r[0] for r in q.rows(
        "SELECT code FROM region WHERE parent_code = :t ORDER BY code", t=village[:9] + "000")]
    assert [t["code"] for t in tiles if t["focus"]] == [village]


def _towns(n_villages: list[int], centres=None):
    towns, villages = [], []
    for i, n in enumerate(n_villages):
        code = f"5231991{i:02d}000"
        lon, lat = centres[i] if centres else (None, None)
        towns.append({"code": code, "name": f"第{i}镇", "lon": lon, "lat": lat})
        villages += [{"code": f"{code[:9]}{201 + j:03d}"} for j in range(n)]
    return towns, villages


def _blocks(placed):
    boxes = {}
    for t in placed["tiles"]:
        x0, y0, x1, y1 = boxes.get(t["code"][:9], (1e9, 1e9, -1e9, -1e9))
        boxes[t["code"][:9]] = (min(x0, t["x0"]), min(y0, t["y0"]), max(x1, t["x1"]), max(y1, t["y1"]))
    return boxes


@pytest.mark.parametrize("sizes", [[16] * 30, [3, 40, 1, 12, 25, 7], [5]])
def test_layout_groups_each_township_apart(sizes):
    towns, villages = _towns(sizes)
    placed = layout(towns, villages, aspect=2.5)
    assert sorted(t["code"] for t in placed["tiles"]) == sorted(v["code"] for v in villages)
    boxes = _blocks(placed)
    for a, ra in boxes.items():  # the bounding boxes of two townships never overlap
        for b, rb in boxes.items():
            if a < b:
                assert ra[2] <= rb[0] or rb[2] <= ra[0] or ra[3] <= rb[1] or rb[3] <= ra[1], (a, b)
    # Townships read in code order: left to right, then the next row.
    order = sorted(boxes, key=lambda c: (round(boxes[c][1]), boxes[c][0]))
    if len(sizes) > 1:
        assert [lab["code"][:9] for lab in placed["labels"]] == sorted(boxes)
    assert order == sorted(boxes)
    shelf_tops = sorted({round(b[1]) for b in boxes.values()})
    if len(sizes) == 30:  # many townships: several rows, near the wanted shape
        assert len(shelf_tops) > 1 and 1.2 < placed["width"] / placed["height"] < 5


def test_layout_uses_rough_position_when_towns_have_centres():
    # Four townships of 9 villages; the codes run south to north, so code order and position disagree.
    centres = [(105.0, 26.0), (105.2, 26.1), (105.0, 27.0), (105.2, 27.1)]
    towns, villages = _towns([9, 9, 9, 9], centres)
    placed = layout(towns, villages, aspect=1.2)
    boxes = _blocks(placed)
    top = {c: b[1] for c, b in boxes.items()}
    north, south = [t["code"][:9] for t in towns[2:]], [t["code"][:9] for t in towns[:2]]
    assert max(top[c] for c in north) < min(top[c] for c in south)  # the northern ones in the upper row
    assert boxes[north[0]][0] < boxes[north[1]][0]  # west before east
