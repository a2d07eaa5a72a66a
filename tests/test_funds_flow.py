"""The Sankey built from the flow: every level sums to the one above; each label shows its own amount rounded
half up (四舍五入), never nudged, and a footnote says when a level's rounded labels do not add up."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from data_access.report import money as amounts
from components.charts import flow as flow_view
from data_access.queries import funds
from data_access.scope import Scope


def town_and_village(q, year):
    town = q.scalar("SELECT substr(region_code, 1, 9) || '000' AS t FROM project WHERE year = :y "
                    "AND region_code IS NOT NULL GROUP BY substr(region_code, 1, 9) ORDER BY COUNT(*) DESC, t LIMIT 1",
                    y=year)
    village = q.scalar("SELECT region_code FROM project WHERE year = :y AND region_code LIKE :p "
                       "AND region_code NOT LIKE '%000' ORDER BY region_code LIMIT 1", y=year, p=town[:9] + "%")
    return Scope.of(town), Scope.of(village)


def check_levels(nodes, links, base: int) -> None:
    inflow, outflow = {}, {}
    for a, b, v in links:
        assert v > 0
        outflow[a] = outflow.get(a, 0) + v
        inflow[b] = inflow.get(b, 0) + v
    depths = sorted({n.depth for n in nodes})
    assert depths == list(range(len(depths)))
    by_depth = {d: [n for n in nodes if n.depth == d] for d in depths}
    assert sum(n.amount for n in by_depth[0]) == base
    for d in depths[1:]:
        feeding = [n for n in by_depth[d - 1] if n.name in outflow]
        assert sum(n.amount for n in by_depth[d]) == sum(n.amount for n in feeding), f"level {d}"
    for n in nodes:
        if n.name in inflow and n.name in outflow:
            assert inflow[n.name] == outflow[n.name], n.label  # what comes in goes on
        assert n.amount == (outflow[n.name] if n.depth == 0 else inflow[n.name])
    for n in nodes:  # terminal nodes other than projects are only the labelled pseudo nodes
        if n.name not in outflow and n.kind not in ("project",):
            assert n.kind == "pseudo" or n.depth == max(depths), n.label


@pytest.mark.parametrize("year", (2019, 2025, 2026))
def test_flow_nodes_conserve_money(registry_engine, sql, county_scope, year):
    q = sql(registry_engine)
    town, village = town_and_village(q, year)
    top_source = q.scalar("SELECT source FROM fund WHERE year = :y GROUP BY source ORDER BY SUM(amount) DESC LIMIT 1",
                          y=year)
    for scope in (county_scope, town, village):
        for source in (None, top_source):
            rows = funds.flow(registry_engine, scope, year, source)
            nodes, links = flow_view.build(rows, with_place=scope.level != "village")
            total = funds.execution(registry_engine, scope, year, source)
            if not total["base_amount"]:
                assert not nodes
                continue
            check_levels(nodes, links, total["base_amount"])
            sources = {n.key: n.amount for n in nodes if n.depth == 0}
            if scope.level == "county":
                want = dict(q.rows("SELECT source, SUM(amount) FROM fund WHERE county_code = :c AND year = :y"
                                   + (" AND source = :s" if source else "") + " GROUP BY source",
                                   c=scope.code, y=year, **({"s": source} if source else {})))
                assert sources == {k: int(v) for k, v in want.items()}
                unarranged = [n for n in nodes if n.label == funds.UNARRANGED]
                assert sum(n.amount for n in unarranged) == total["unarranged"]
            else:
                assert sum(sources.values()) == total["arranged"]
            if scope.level == "village":
                assert all(n.kind != "place" for n in nodes)
            # the spec's labels: each its own amount rounded half up on the exact 元 (no largest remainder)
            unit = amounts.headline_unit(total["base_amount"])  # labels are read aloud: 亿元 to 2 decimals
            spec = flow_view.spec(nodes, links, amounts.unit_for(total["base_amount"]))
            labels = {d["name"]: d["label"]["formatter"].rsplit(" ", 1)[1] for d in spec["series"][0]["data"]}
            gaps = False
            for depth in {n.depth for n in nodes}:
                level = [n for n in nodes if n.depth == depth]
                for n in level:
                    assert labels[n.name] == half_up_text(n.amount, unit), n.label
                exact = sum(Decimal(labels[n.name].replace(",", "")) for n in level)
                gaps |= exact != Decimal(half_up_text(sum(n.amount for n in level), unit).replace(",", ""))
            assert (flow_view.rounding_note(nodes, unit) is not None) == gaps
            table = flow_view.links_table(nodes, links, unit)
            assert len(table) == len(links)


@pytest.mark.parametrize("height", (285, 600))
def test_thin_nodes_become_one_other_node_per_level(registry_engine, county_scope, height):
    """Nodes too thin for a label are drawn as one 其他(n项) per level: every level keeps its money, each
    ribbon's money goes on, and at most one thin node per level keeps its own (far enough) label."""
    rows = funds.flow(registry_engine, county_scope, 2026)
    nodes, links = flow_view.build(rows)
    drawn, drawn_links, merged = flow_view.group_small(nodes, links, height, 8)
    for depth in {n.depth for n in nodes}:
        level = [n for n in nodes if n.depth == depth]
        shown = [n for n in drawn if n.depth == depth]
        assert sum(n.amount for n in shown) == sum(n.amount for n in level)
        total = sum(n.amount for n in level)
        usable = height - 24 - 8 * (len(level) - 1)
        thin = [n for n in level if n.amount / total * usable < flow_view.LABEL_PX]
        others = [n for n in shown if n.kind == "other"]
        if len(thin) >= 2:
            assert [o.label for o in others] == [f"其他({len(thin)}项)"] and others[0].amount == sum(
                n.amount for n in thin)
            assert all(merged[n.name] == others[0].name for n in thin)
        else:
            assert not others and shown == level
    assert sum(v for *_, v in drawn_links) == sum(v for *_, v in links)
    names = {n.name for n in drawn}
    assert all(a in names and b in names for a, b, _ in drawn_links)
    assert len({(a, b) for a, b, _ in drawn_links}) == len(drawn_links)
    assert any(n.kind == "other" for n in flow_view.group_small(nodes, links, 285, 8)[0])  # the demo has thin ones


def half_up_text(yuan: int, unit) -> str:
    """Independent 四舍五入 of an amount in 元 to the unit's digits, as text with separators."""
    q = (Decimal(int(yuan)) / unit.divisor).quantize(Decimal(1).scaleb(-unit.digits), rounding=ROUND_HALF_UP)
    return f"{q:,}"


def test_each_part_is_its_own_rounded_value_and_a_note_says_when_they_do_not_add_up():
    rng = random.Random(5)
    for unit in (amounts.MoneyUnit("亿元", 100_000_000, 4), amounts.MoneyUnit("万元", 10_000, 2)):
        for _ in range(300):
            values = [rng.randint(0, 5 * 10 ** 9) for _ in range(rng.randint(1, 25))]
            parts = amounts.own_values(values, unit)
            assert [f"{p:,.{unit.digits}f}" for p in parts] == [half_up_text(v, unit) for v in values]
            adds_up = sum(Decimal(half_up_text(v, unit).replace(",", "")) for v in values) == Decimal(
                half_up_text(sum(values), unit).replace(",", ""))
            assert (amounts.parts_note(values, unit) is None) == adds_up
    # 3 × 0.33335 亿: each part reads 0.3334 (its own value, not nudged to 0.3333), the total 1.0001
    unit = amounts.unit_for(10 ** 8)
    assert amounts.own_values([33_335_000] * 3, unit) == [0.3334] * 3
    assert amounts.parts_gap([33_335_000] * 3, unit) == 0.0001
    assert "1.0001 亿元" in amounts.parts_note([33_335_000] * 3, unit)
    # the 0.1068 亿元 (10,675,000 元) shows 0.1068, not 0.1067
    assert amounts.own_values([10_675_000], unit) == [0.1068]


def test_same_label_at_two_nodes_keeps_both(registry_engine, county_scope):
    import pandas as pd

    rows = pd.DataFrame([
        {"source": "金融扶贫资金", "category": "产业发展", "place_code": "523199101000", "place_name": "其他",
         "project_id": "P1", "project_name": "其他", "amount": 5},
        {"source": "金融扶贫资金", "category": "其他", "place_code": "523199102000", "place_name": "乙镇",
         "project_id": "P2", "project_name": "其他", "amount": 3},
    ])
    nodes, links = flow_view.build(rows)
    assert len({n.name for n in nodes}) == len(nodes) == 7
    check_levels(nodes, links, 8)
