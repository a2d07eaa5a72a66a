"""The money flow (资金来源 → 项目类别 → 乡镇/村 → 项目) as a Sankey, its URL state and its path.

Drawn with ECharts' native sankey series through ``st.echarts_chart``: ECharts is
bundled in Streamlit's own static files (no CDN, works offline), its sankey lays
out nodes and ribbons with widths proportional to the amounts, and a clicked node
comes back through ``on_select``. Altair has no Sankey mark.

The selection lives in the URL beside region/year: ``source=<资金来源>``,
``category=<项目类别>`` (validated against the code lists); a township or village is
the ``region`` itself, and a project opens the project page (``project=<id>``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from data_access.codes import FUND_SOURCES, PROJECT_CATEGORIES
from data_access.queries.funds import NO_PLACE, TOWN_LEVEL, UNARRANGED
from data_access.scope import Scope

from ..widgets import breadcrumb, go
from data_access.report.money import MoneyUnit, parts_gap
from ..context import PageContext
from data_access.report.palette import BAD, CATEGORICAL, NEUTRAL
from ..shell.theme import FONT_STACK
from ..safe import md
from ..tables import dataframe

LEVEL_TITLES = ("资金来源", "项目类别", "地点", "项目")
PSEUDO_COLOURS = {UNARRANGED: BAD, NO_PLACE: BAD, TOWN_LEVEL: NEUTRAL}
# One fixed colour per source (Okabe–Ito without the vermillion kept for problems, plus brown
# and grey), so a source looks the same in every view.
SOURCE_COLOURS = dict(zip(FUND_SOURCES, (
    "#0072B2", "#56B4E9", "#F0E442", "#8C6D31", "#E69F00", "#CC79A7", "#999999", "#000000", "#009E73")))
# Short names on the chart (the tooltip and the data table keep the full name).
SHORT_SOURCES = dict(zip(FUND_SOURCES, (
    "中央专项", "省级专项", "市级专项", "县级专项", "统筹整合", "东西部协作", "定点帮扶", "社会帮扶", "金融扶贫资金")))
CATEGORY_COLOUR = "#5B7083"
PLACE_COLOUR = "#5B7083"
PROJECT_COLOUR = "#8A6FA0"


# ---- URL state -------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    source: str | None = None
    category: str | None = None

    @property
    def params(self) -> dict:
        return {k: v for k, v in (("source", self.source), ("category", self.category)) if v}


def _param(name: str, allowed: tuple[str, ...], label: str) -> str | None:
    raw = str(st.query_params.get(name, "") or "").strip()
    if not raw:
        return None
    if raw not in allowed:
        st.warning(f"链接中的{label}“{md(raw[:30])}”不在代码表中,已忽略该筛选。")
        del st.query_params[name]
        return None
    return raw


def read_selection() -> Selection:
    """source/category from the URL; an unknown value is dropped with a Chinese warning."""
    return Selection(_param("source", FUND_SOURCES, "资金来源"), _param("category", PROJECT_CATEGORIES, "项目类别"))


def apply(region: str | None = None, **changes) -> None:
    """Write the selection (``source``/``category``: a value, or None to clear) and region, then rerun."""
    for key, value in changes.items():
        if value:
            st.query_params[key] = value
        else:
            st.query_params.pop(key, None)
    if region:
        st.query_params["region"] = region
    st.rerun()


# ---- 资金路径 --------------------------------------------------------------------------


@dataclass(frozen=True)
class Crumb:
    label: str
    region: str
    source: str | None
    category: str | None


def crumbs(ctx: PageContext, sel: Selection) -> list[Crumb]:
    """The path: the top region(s) › source › category › township › village.

    Starts at the user's root region (open mode: the widest region holding all data).
    Clicking a crumb keeps everything up to it and drops what follows.
    """
    allowed = [r for r in ctx.lineage if ctx.allows(Scope.of(r["code"]))]
    upper = [r for r in allowed if r["level"] in ("province", "city", "county") or r["code"] == ctx.root.code]
    lower = [r for r in allowed if r not in upper]
    if not upper and allowed:
        upper, lower = allowed[:1], allowed[1:]
    out = [Crumb(f"{r['name']}全部资金" if i == len(upper) - 1 else r["name"], r["code"], None, None)
           for i, r in enumerate(upper)]
    top = upper[-1]["code"] if upper else ctx.scope.code
    if sel.source:
        out.append(Crumb(sel.source, top, sel.source, None))
    if sel.category:
        out.append(Crumb(sel.category, top, sel.source, sel.category))
    out += [Crumb(r["name"], r["code"], sel.source, sel.category) for r in lower]
    return out


def money_path(ctx: PageContext, sel: Selection) -> None:
    """资金路径: the crumbs as links; a click keeps what is up to it."""
    def opener(c: Crumb):
        return lambda: apply(region=c.region, source=c.source, category=c.category)

    breadcrumb([(c.label, opener(c)) for c in crumbs(ctx, sel)], key="funds-crumbs", title="资金路径:")


# ---- the Sankey ------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    name: str  # unique ECharts name
    label: str
    depth: int
    kind: str  # source / category / place / project / pseudo
    key: str | None  # the value to narrow by (source, category, region code, project id)
    amount: int  # 元 through the node


def build(flow: pd.DataFrame, with_place: bool = True) -> tuple[list[Node], list[tuple[str, str, int]]]:
    """Nodes and links (元) from the flow rows: each level sums to the level before.

    ``with_place=False`` (village scope: the place is the scope itself) goes from category
    straight to project.
    """
    if flow.empty:
        return [], []
    has_project = flow["project_id"].notna().any()
    names: dict[tuple, str] = {}
    used: set[str] = set()
    nodes: dict[tuple, dict] = {}

    def node(depth: int, kind: str, key, label: str) -> str:
        ident = (depth, kind, key, label)
        if ident not in names:
            name = label
            while name in used:
                name += "\u200b"  # same label at another node: keep ECharts names unique
            used.add(name)
            names[ident] = name
            nodes[ident] = {"name": name, "label": label, "depth": depth, "kind": kind, "key": key, "amount": 0}
        return names[ident]

    links: dict[tuple[str, str], int] = {}

    def link(a: str, b: str, amount: int) -> None:
        links[(a, b)] = links.get((a, b), 0) + amount

    for r in flow.itertuples(index=False):
        amount = int(r.amount)
        if amount <= 0:  # listed under 数据问题; a ribbon cannot be drawn for it
            continue
        src = node(0, "source", r.source, r.source)
        if r.category == UNARRANGED:
            link(src, node(1, "pseudo", None, UNARRANGED), amount)
            continue
        cat = node(1, "category", r.category, r.category)
        link(src, cat, amount)
        last = cat
        if with_place:
            last = node(2, "place" if r.place_code else "pseudo", r.place_code, r.place_name)
            link(cat, last, amount)
        if has_project and r.project_id:
            link(last, node(3 if with_place else 2, "project", r.project_id, r.project_name), amount)
    inflow: dict[str, int] = {}
    outflow: dict[str, int] = {}
    for (a, b), amount in links.items():
        inflow[b] = inflow.get(b, 0) + amount
        outflow[a] = outflow.get(a, 0) + amount
    for n in nodes.values():
        n["amount"] = outflow[n["name"]] if n["depth"] == 0 else inflow[n["name"]]
    parents: dict[str, set] = {}
    for a, b in links:
        parents.setdefault(b, set()).add(a)
    rank: dict[str, int] = {}
    ordered: list[dict] = []
    for depth in sorted({n["depth"] for n in nodes.values()}):
        level = [n for n in nodes.values() if n["depth"] == depth]
        single = depth > 0 and all(len(parents.get(n["name"], ())) == 1 for n in level)

        def order(n, single=single):
            by_parent = rank[next(iter(parents[n["name"]]))] if single else 0
            return by_parent, -n["amount"], n["label"]

        level.sort(key=order)  # biggest first; under a single parent, grouped by it
        for i, n in enumerate(level):
            rank[n["name"]] = i
        ordered += level
    return [Node(**n) for n in ordered], [(a, b, v) for (a, b), v in links.items()]


OTHER = "其他"
OTHER_COLOUR = "#A0A0A0"
LABEL_PX = 20  # a node label's line (16 px text): a node thinner than this gives its label no room


def group_small(nodes: list[Node], links: list[tuple[str, str, int]], height: int, gap: int):
    """Two or more nodes of a level too thin for a label (their share of the level under ``LABEL_PX`` of the
    drawing height) become one "其他(n项)" node at the level's end, its ribbons summed; a single thin node
    keeps its own label (a neighbour's is far enough away). Returns (nodes, links, {merged name: 其他 name})."""
    merged: dict[str, str] = {}
    out: list[Node] = []
    for depth in sorted({n.depth for n in nodes}):
        level = [n for n in nodes if n.depth == depth]
        total = sum(n.amount for n in level) or 1
        usable = max(1, height - 24 - gap * (len(level) - 1))
        thin = [n for n in level if n.amount / total * usable < LABEL_PX]
        if len(thin) < 2:
            out += level
            continue
        name = f"{OTHER}({len(thin)}项)" + "\u200b" * depth  # unique per level
        out += [n for n in level if n not in thin]
        out.append(Node(name, f"{OTHER}({len(thin)}项)", depth, "other", None, sum(n.amount for n in thin)))
        merged.update({n.name: name for n in thin})
    summed: dict[tuple[str, str], int] = {}
    for a, b, v in links:
        pair = (merged.get(a, a), merged.get(b, b))
        summed[pair] = summed.get(pair, 0) + v
    return out, [(a, b, v) for (a, b), v in summed.items()], merged


def short_label(n: Node) -> str:
    return SHORT_SOURCES.get(n.key, n.label) if n.kind == "source" else n.label


def _escape(text: str) -> str:
    return str(text).replace("{", "(").replace("}", ")").replace("|", "/")


def spec(nodes: list[Node], links: list[tuple[str, str, int]], unit: MoneyUnit, compact: bool = False) -> dict:
    """The ECharts option: each node label carries its own amount, rounded on its own (四舍五入; no part is
    nudged so that a level adds up: ``rounding_note`` says when it does not).

    ``compact``: tighter gaps for a fixed, small height (presentation mode).
    """
    unit = MoneyUnit(unit.name, unit.divisor, 2)  # read aloud: 亿元 to 2 decimals (report.money.headline_unit)
    shown = {n.name: unit.value(n.amount) for n in nodes}
    colour = {}
    for i, n in enumerate(n for n in nodes if n.depth == 0 and n.kind != "other"):
        colour[n.name] = SOURCE_COLOURS.get(n.key) or CATEGORICAL[i % len(CATEGORICAL)]
    depth_colour = {1: CATEGORY_COLOUR, 2: PLACE_COLOUR, 3: PROJECT_COLOUR}
    data = []
    for n in nodes:
        c = OTHER_COLOUR if n.kind == "other" else colour.get(n.name) \
            or PSEUDO_COLOURS.get(n.label if n.kind == "pseudo" else "", None) \
            or depth_colour.get(n.depth, NEUTRAL)
        data.append({
            "name": n.name, "depth": n.depth, "itemStyle": {"color": c, "borderColor": c},
            "label": {"formatter": f"{_escape(short_label(n))}  {shown[n.name]:,.{unit.digits}f}"},
        })
    depths = max(n.depth for n in nodes) + 1
    return {
        "tooltip": {"trigger": "item", "valueFormatter": f"%,.{unit.digits}f {unit.name}",
                    "textStyle": {"fontSize": 16}},
        "textStyle": {"fontFamily": FONT_STACK},
        "animation": False,
        "series": [{
            "type": "sankey", "selectedMode": "single", "nodeAlign": "left", "layoutIterations": 0,
            "left": 8, "right": 230 if depths > 1 else 400, "top": 12, "bottom": 12,
            "nodeWidth": 22, "nodeGap": 8 if compact else 20, "draggable": False,
            "emphasis": {"focus": "adjacency"},
            "labelLayout": {"hideOverlap": True},  # a tiny node's label gives way; its figure stays in the tooltip
            "label": {"fontSize": 18 if compact else 16, "color": "#111", "fontFamily": FONT_STACK},
            "lineStyle": {"color": "source", "opacity": 0.35, "curveness": 0.5},
            "select": {"itemStyle": {"borderColor": "#000", "borderWidth": 2}},
            "data": data,
            "links": [{"source": a, "target": b, "value": v / unit.divisor} for a, b, v in links],
        }],
    }


def rounding_note(nodes: list[Node], unit: MoneyUnit, links: list[tuple[str, str, int]] = (),
                  link_nodes: list[Node] | None = None) -> str | None:
    """A footnote when, at some level, the node labels or the 数据表's ribbons (each rounded on its own) do not
    add up to the level's rounded total; None when every level adds up. ``link_nodes``: the nodes of the
    数据表's ribbons when the chart draws others (thin nodes grouped as 其他)."""
    depth_of = {n.name: n.depth for n in (link_nodes or nodes)}
    gaps = []
    for depth in sorted(set(depth_of.values())):
        node_gap = parts_gap([n.amount for n in nodes if n.depth == depth], unit)
        link_gap = parts_gap([v for a, _, v in links if depth_of.get(a) == depth], unit)
        for gap, what in ((node_gap, f"{LEVEL_TITLES[min(depth, 3)]}各节点"),
                          (link_gap, f"数据表“{LEVEL_TITLES[min(depth, 3)]} →”各行")):
            if gap:
                gaps.append(f"{what}之和{'多' if gap > 0 else '少'} {abs(gap):,.{unit.digits}f}")
    if not gaps:
        return None
    return f"注:金额分别四舍五入,{';'.join(gaps)} {unit.name}(与该层合计相比),为舍入所致。"


def height_for(nodes: list[Node]) -> int:
    per_depth: dict[int, int] = {}
    for n in nodes:
        per_depth[n.depth] = per_depth.get(n.depth, 0) + 1
    busiest = max(per_depth.values(), default=1)
    return int(min(1400, max(300, 40 * busiest + 40)))


def _title(n: Node) -> str:
    return LEVEL_TITLES[3] if n.kind == "project" else LEVEL_TITLES[n.depth]


def links_table(nodes: list[Node], links: list[tuple[str, str, int]], unit: MoneyUnit) -> pd.DataFrame:
    """The numbers of the chart: every ribbon, by level, in ``unit`` (each rounded on its own)."""
    by_name = {n.name: n for n in nodes}
    rows = [(by_name[a].depth, _title(by_name[a]) + " → " + _title(by_name[b]),
             by_name[a].label, by_name[b].label, v) for a, b, v in links]
    rows.sort(key=lambda r: (r[0], -r[4], r[2], r[3]))
    out = []
    for depth in sorted({r[0] for r in rows}):
        level = [r for r in rows if r[0] == depth]
        for r in level:
            out.append({"层级": r[1], "从": r[2], "到": r[3], f"金额({unit.name})": unit.value(r[4])})
    return pd.DataFrame(out)


NONCE_KEY = "_funds_flow_nonce"
NOTE_HEIGHT = 70  # px a one- or two-line caption takes under the chart


def fit(nodes: list[Node], links: list[tuple[str, str, int]], max_height: int):
    """Drop the deepest levels until the chart fits ``max_height`` (levels above still add up)."""
    while nodes and height_for(nodes) > max_height and max(n.depth for n in nodes) > 1:
        deepest = max(n.depth for n in nodes)
        keep = {n.name for n in nodes if n.depth < deepest}
        nodes = [n for n in nodes if n.name in keep]
        links = [(a, b, v) for a, b, v in links if a in keep and b in keep]
    return nodes, links


def show(flow: pd.DataFrame, unit: MoneyUnit, key: str, with_place: bool = True,
         max_height: int | None = None) -> Node | None:
    """Draw the Sankey with a 数据表 tab; return the node the user clicked, if any.

    ``max_height`` (presentation mode): levels are dropped from the right until the chart
    fits, and the chart is squeezed to that height. The widget key carries a counter that
    :func:`narrow_to` bumps, so a click acted on is never read again after the rerun it causes.
    """
    nodes, links = build(flow, with_place)
    key = f"{key}-{st.session_state.get(NONCE_KEY, 0)}"
    if not nodes:
        st.info("所选范围和年度没有资金安排记录。")
        return None
    height = height_for(nodes)
    if max_height:
        nodes, links = fit(nodes, links, max_height)
        height = min(height_for(nodes), max_height)
    said = MoneyUnit(unit.name, unit.divisor, 2)
    drawn, drawn_links, merged = group_small(nodes, links, height, 8 if max_height else 20)
    label_note = rounding_note(drawn, said)  # the labels, read aloud
    if max_height and label_note:  # the footnote shares the projector's screen with the chart
        height = max(160, height - NOTE_HEIGHT)
        drawn, drawn_links, merged = group_small(nodes, links, height, 8)
        label_note = rounding_note(drawn, said)

    def draw():
        return st.echarts_chart(
            spec(drawn, drawn_links, unit, compact=bool(max_height)), key=key, on_select="rerun", height=height,
            renderer="svg", alt="资金流向桑基图:资金来源到项目类别、地点和项目,宽度与金额成正比",
        )

    if max_height:  # the projector: the chart and its footnote (the 数据表 is in the normal view)
        event = draw()
        if label_note:
            st.caption(label_note)
    else:
        tab_chart, tab_table = st.tabs(["图表", "数据表"])
        with tab_chart:
            event = draw()
            st.caption(f"金额单位:{unit.name}。点击任一节点,整页按该节点筛选;桔色节点是未安排或地点缺失的资金。"
                       + (f"“{OTHER}”合并了各层金额太小、画不下名称的节点,明细见“数据表”。" if merged else ""))
            for note in (label_note, rounding_note([], unit, links, link_nodes=nodes)):  # the 数据表, in full
                if note:
                    st.caption(note)
        with tab_table:
            dataframe(links_table(nodes, links, unit), hide_index=True, width="stretch",
                      column_config={f"金额({unit.name})": st.column_config.NumberColumn(format=unit.number_format)})
    if not event:
        return None
    for group in event.get("selection", {}).get("selected", []) or []:
        if group.get("data_type") == "node" and group.get("data_indices"):
            index = group["data_indices"][0]
            if 0 <= index < len(drawn) and drawn[index].kind != "other":
                return drawn[index]
    return None


def narrow_to(node: Node, sel: Selection, ctx: PageContext) -> None:
    """Act on a clicked node: filter by source/category, drill to the place, or open the project."""
    if node.kind in ("source", "category", "project") or (node.kind == "place" and node.key != ctx.scope.code):
        st.session_state[NONCE_KEY] = st.session_state.get(NONCE_KEY, 0) + 1
    else:
        return
    if node.kind == "source":
        apply(source=node.key, category=sel.category)
    elif node.kind == "category":
        apply(source=sel.source, category=node.key)
    elif node.kind == "place" and node.key:
        apply(region=node.key, source=sel.source, category=sel.category)
    elif node.kind == "project":
        go("project", project=node.key, **sel.params)
