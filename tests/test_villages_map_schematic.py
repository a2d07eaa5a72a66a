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
from tests.helpers import COUNTY_CODE, MEMBERS_AT, POPULATION_AT, open_page, year_end

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
    _, unit, higher_is_worse, digits = INDICATORS["incidence"]
    classes = classify([v for v in expected.values() if v is not None], 5, "quantile", unit=unit, digits=digits,
                       higher_is_worse=higher_is_worse)
    for t in tiles:
        value = expected[t["code"]]
        want = classes.color(value) if value is not None else "#BBBBBB"
        assert colour_of[t["cls"]] == want, (t["code"], value, t["cls"])
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
