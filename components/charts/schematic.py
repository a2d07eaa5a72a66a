"""The schematic village map, for a scope with no village boundaries (a county imported from its
registry, before any boundary file): every village a tile of the same size, the tiles of a township
together in a block under the township's name, coloured by the same indicator classes as the real map.

``layout(towns, villages, aspect)`` places the blocks (pure: no streamlit, no Altair);
``chart(model, height, aspect)`` is the Vega-Lite spec. The selections are those of the real map
(``pick``: a village's code; ``zoom``: a township's code, on a county map), so the page drills the
same way. Townships are laid out in code order, or, when every township has a centre point, in rows
from north to south and west to east within a row (their rough position). Nothing is fetched from the web.
"""

from __future__ import annotations

import json
import math

import altair as alt

from ..shell.theme import FONT_STACK

GAP = 0.7  # between township blocks, in tiles
LABEL_ROWS = 1.0  # the township's name above its block, in tiles
CHAR_TILES = 0.5  # the width of one character of a township name, in tiles (county map)
SHOW_VILLAGE_NAMES = 120  # names in the tiles when there are at most this many villages


def _block_shape(n: int, name: str, with_label: bool, aspect: float = 1.3) -> tuple[int, int, float]:
    """(columns, rows, width) of a township's block of ``n`` tiles, about ``aspect`` times wider than high
    (a little wider than square when blocks are packed; the whole chart's shape for a township alone),
    wide enough for its name."""
    cols = max(1, min(n, math.ceil(math.sqrt(n * aspect))))
    if with_label:
        cols = max(cols, min(n, 3)) if n else 1
    rows = max(1, math.ceil(n / cols))
    width = max(float(cols), len(name) * CHAR_TILES if with_label else 0.0)
    return cols, rows, width


def _shelves(blocks: list[dict], row_width: float) -> list[list[dict]]:
    shelves: list[list[dict]] = [[]]
    used = 0.0
    for b in blocks:
        need = b["width"] + (GAP if shelves[-1] else 0.0)
        if shelves[-1] and used + need > row_width:
            shelves.append([])
            used, need = 0.0, b["width"]
        shelves[-1].append(b)
        used += need
    return shelves


def _size(shelves: list[list[dict]]) -> tuple[float, float]:
    width = max((sum(b["width"] for b in s) + GAP * (len(s) - 1) for s in shelves), default=0.0)
    height = sum(max(b["height"] for b in s) for s in shelves) + GAP * (len(shelves) - 1)
    return width, height


def layout(towns: list[dict], villages: list[dict], aspect: float = 2.0) -> dict:
    """Tiles and township labels in tile units (y grows downwards).

    towns: [{code, name, lon, lat}] (in code order); villages: [{code, ...}] whose code's first 9
    digits name their township. Returns {"tiles": [{code, x0, x1, y0, y1, cx, cy}],
    "labels": [{code, name, x, y}], "width", "height"}; a village whose township is not in ``towns``
    is put in a block of its own under its township's code.
    """
    by_town: dict[str, list[dict]] = {}
    for v in sorted(villages, key=lambda v: v["code"]):
        by_town.setdefault(v["code"][:9] + "000", []).append(v)
    names = {t["code"]: t["name"] for t in towns}
    order = [t["code"] for t in towns if t["code"] in by_town] + sorted(c for c in by_town if c not in names)
    with_label = len(order) > 1
    blocks = []
    for code in order:
        cols, rows, width = _block_shape(len(by_town[code]), names.get(code, code), with_label,
                                         1.3 if with_label else aspect)
        blocks.append({"code": code, "name": names.get(code, code), "cols": cols, "rows": rows, "width": width,
                       "height": rows + (LABEL_ROWS if with_label else 0.0), "villages": by_town[code]})
    if not blocks:
        return {"tiles": [], "labels": [], "width": 1.0, "height": 1.0}
    # The row width whose packing comes closest to the wanted aspect ratio (width / height).
    widest = max(b["width"] for b in blocks)
    total = sum(b["width"] for b in blocks) + GAP * (len(blocks) - 1)
    candidates = sorted({widest, total} | {widest + (total - widest) * i / 40 for i in range(41)})
    best = min(candidates, key=lambda w: abs(math.log(max(_size(_shelves(blocks, w))[0], 1e-6) /
                                                       max(_size(_shelves(blocks, w))[1], 1e-6) / aspect)))
    shelves = _shelves(blocks, best)
    centres = {t["code"]: (t.get("lon"), t.get("lat")) for t in towns}
    located = all(centres.get(b["code"], (None, None))[0] is not None for b in blocks)
    if located and len(shelves) > 1:  # rough position: rows north to south, west to east in each row
        sizes = [len(s) for s in shelves]
        north_first = sorted(blocks, key=lambda b: (-centres[b["code"]][1], b["code"]))
        shelves, i = [], 0
        for k in sizes:
            shelves.append(sorted(north_first[i:i + k], key=lambda b: (centres[b["code"]][0], b["code"])))
            i += k
    tiles, labels = [], []
    y = 0.0
    for shelf in shelves:
        x = 0.0
        for b in shelf:
            top = y
            if with_label:
                labels.append({"code": b["code"], "name": b["name"], "x": x, "y": y + LABEL_ROWS * 0.55})
                top += LABEL_ROWS
            for i, v in enumerate(b["villages"]):
                r, c = divmod(i, b["cols"])
                x0, y0 = x + c, top + r
                tiles.append({"code": v["code"], "x0": x0, "x1": x0 + 1, "y0": y0, "y1": y0 + 1,
                              "cx": x0 + 0.5, "cy": y0 + 0.5})
            x += b["width"] + GAP
        y += max(b["height"] for b in shelf) + GAP
    width, height = _size(shelves)
    return {"tiles": tiles, "labels": labels, "width": max(width, 1.0), "height": max(height, 1.0)}


def chart(model, height: int, aspect: float, no_data: str, poor_outline: str, focus_line: str) -> dict:
    """The schematic map of ``model`` (a ``maps.MapModel``) as a Vega-Lite spec with the real map's selections."""
    placed = layout(model.towns, model.villages, aspect)
    where = {t["code"]: t for t in placed["tiles"]}
    n_tips = max((len(v["tips"]) for v in model.villages), default=0)
    tip_titles = [label for label, _ in (model.villages[0]["tips"] if model.villages else [])][:n_tips]
    records = []
    for v in model.villages:
        rec = {**where[v["code"]], "code": v["code"], "name": v["name"], "cls": v["class_label"],
               "poor": v["poor"], "focus": v["code"] == model.focus}
        for i, (_, text) in enumerate(v["tips"]):
            rec[f"tip{i}"] = text
        records.append(rec)
    records.sort(key=lambda r: (r["poor"], r["focus"]))  # thick outlines drawn last
    domain = list(model.classes.labels) + ["无数据"]
    colors = list(model.classes.colors) + [no_data]
    xs = alt.Scale(domain=[-0.1, placed["width"] + 0.1], nice=False, zero=False)
    ys = alt.Scale(domain=[-0.1, placed["height"] + 0.1], nice=False, zero=False, reverse=True)
    x, y = alt.X("x0:Q", axis=None, scale=xs), alt.Y("y0:Q", axis=None, scale=ys)
    pick = alt.selection_point(name="pick", fields=["code"], on="click", clear=False, empty=False)
    tooltip = [alt.Tooltip("name:N", title="行政村")] + [
        alt.Tooltip(f"tip{i}:N", title=label) for i, label in enumerate(tip_titles)]
    stroke = alt.when("datum.focus").then(alt.value(focus_line)).when("datum.poor").then(
        alt.value(poor_outline)).otherwise(alt.value("#FFFFFF"))
    width = alt.when("datum.focus").then(alt.value(4)).when("datum.poor").then(alt.value(3)).otherwise(
        alt.value(1.5))
    tiles = (alt.Chart(alt.Data(values=records)).mark_rect(cursor="pointer")
             .encode(x=x, x2="x1:Q", y=y, y2="y1:Q",
                     color=alt.Color("cls:N", scale=alt.Scale(domain=domain, range=colors), legend=None),
                     stroke=stroke, strokeWidth=width, tooltip=tooltip)
             .add_params(pick))
    layers = [tiles]
    if len(records) <= SHOW_VILLAGE_NAMES:
        size = 15 if len(records) <= 40 else 12
        dark = json.dumps(list(model.classes.labels[-2:]) if len(model.classes.labels) > 2 else [],
                          ensure_ascii=False)  # white names on the two darkest classes
        layers.append(alt.Chart(alt.Data(values=records)).mark_text(
            fontSize=size, font=FONT_STACK, cursor="pointer")
            .encode(x=alt.X("cx:Q", axis=None, scale=xs), y=alt.Y("cy:Q", axis=None, scale=ys), text="name:N",
                    fill=alt.when(f"indexof({dark}, datum.cls) >= 0").then(alt.value("#FFFFFF"))
                    .otherwise(alt.value("#111111")),
                    tooltip=tooltip)
            # the name catches the click meant for its tile: a selection of its own, read like ``pick``
            .add_params(alt.selection_point(name="name_pick", fields=["code"], on="click", clear=False,
                                            empty=False)))
    if placed["labels"]:
        town_map = model.label_level == "town"
        text = (alt.Chart(alt.Data(values=placed["labels"]))
                .mark_text(fontSize=16, fontWeight="bold", font=FONT_STACK, fill="#111111", align="left",
                           baseline="middle", cursor="pointer" if town_map else "default")
                .encode(x=alt.X("x:Q", axis=None, scale=xs), y=alt.Y("y:Q", axis=None, scale=ys), text="name:N",
                        tooltip=[alt.Tooltip("name:N", title="乡镇")]))
        if town_map:
            text = text.add_params(alt.selection_point(name="zoom", fields=["code"], on="click", clear=False,
                                                       empty=False))
        layers.append(text)
    spec = alt.layer(*layers).properties(height=height).configure_view(stroke=None).to_dict()
    spec["usermeta"] = {"schematic": True}
    return spec
