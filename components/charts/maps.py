"""Village choropleth map, drawn with no basemap: nothing is fetched from the web.

``village_map(ctx, values, "贫困发生率", "%", key=...)`` draws every village of the
scope as its polygon (or a small disc at its centre when it has none), coloured in
classes of ``values.value`` with a legend beside it; poor villages get a blue
outline, township boundaries and names are drawn over, and hovering shows the
village with its figures. Clicking a village (or a township name) returns its
code, so the page decides: open the village page, or zoom to the township.

When no village of the area has a boundary (a county imported from its registry, before its boundary
file: ``python -m data_access boundaries``), the map is schematic (``charts.schematic``): one equal tile
per village, grouped by township, same classes, legend, tooltips and clicks, drawn with Vega-Lite
whatever the renderer.

Two renderers draw the same model:
- ``vega`` (default): an Altair/Vega chart (SVG/canvas). It needs no WebGL, so it
  works on office PCs, remote desktops and projectors without a graphics driver
  (deck.gl under a software renderer draws garbage or takes a minute).
- ``pydeck``: deck.gl (WebGL), for deployments with a GPU and, optionally, an
  intranet basemap: ``[map]`` in .streamlit/secrets.toml or the environment:
  ``renderer = "pydeck"`` / REGISTRY_MAP_RENDERER; ``style_url`` / REGISTRY_MAP_STYLE
  (a Mapbox-GL style on the intranet); or ``image`` / REGISTRY_MAP_IMAGE (an image
  URL served by the app, e.g. "app/static/county.png") with ``image_bounds`` /
  REGISTRY_MAP_IMAGE_BOUNDS "west,south,east,north", drawn under the villages.
"""

from __future__ import annotations

import functools
import html
import json
import math
import os
from dataclasses import dataclass

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from data_access.geometry import d3_geometry, disc, rings_of
from data_access.db import read_secrets
from data_access.queries import places
from data_access.scope import Scope

from data_access.report.classify import METHODS, Classes, classify
from ..context import PageContext
from ..data import fetch
from . import schematic
from ..shell.theme import FONT_STACK

NO_DATA = "#BBBBBB"
POOR_OUTLINE = "#0072B2"  # Okabe–Ito blue: stands apart from the yellow–red classes
TOWN_LINE = "#222222"
FOCUS_LINE = "#000000"
PICKABLE_LAYERS = ("villages", "village-points", "labels", "overlay")
VEGA_PARAMS = ("pick", "name_pick", "zoom", "spot")


RENDERERS = ("vega", "pydeck")


@dataclass(frozen=True)
class Basemap:
    renderer: str = "vega"
    style_url: str = ""
    image: str = ""
    image_bounds: tuple[float, float, float, float] | None = None


def basemap_settings() -> Basemap:
    """The renderer and the optional intranet basemap (pydeck only); none by default."""
    try:
        section = read_secrets().get("map", {})
    except Exception:  # an unreadable secrets file is reported by the database setup, not here
        section = {}
    renderer = str(os.environ.get("REGISTRY_MAP_RENDERER", section.get("renderer", "vega")) or "vega").strip()
    style = os.environ.get("REGISTRY_MAP_STYLE", section.get("style_url", "")) or ""
    image = os.environ.get("REGISTRY_MAP_IMAGE", section.get("image", "")) or ""
    raw_bounds = os.environ.get("REGISTRY_MAP_IMAGE_BOUNDS", section.get("image_bounds", ""))
    bounds = None
    try:
        parts = raw_bounds.split(",") if isinstance(raw_bounds, str) else list(raw_bounds)
        if len(parts) == 4:
            bounds = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        bounds = None
    return Basemap(renderer if renderer in RENDERERS else "vega", str(style).strip(), str(image).strip(), bounds)


def rgba(hex_color: str, alpha: int = 255) -> list[int]:
    h = hex_color.lstrip("#")
    return [int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha]


def fit_view(points: list[tuple[float, float]], width_px: int = 820, height_px: int = 560) -> pdk.ViewState:
    """A view showing every point (Web-Mercator zoom from the bounding box)."""
    if not points:
        return pdk.ViewState(latitude=35.0, longitude=105.0, zoom=3)
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)

    def merc_y(lat):
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    span_x = max(east - west, 1e-4) / 360.0
    span_y = max(merc_y(north) - merc_y(south), 1e-6) / (2 * math.pi)
    zoom = min(math.log2(width_px / 512.0 / span_x), math.log2(height_px / 512.0 / span_y)) + 0.9
    mid_y = (merc_y(north) + merc_y(south)) / 2
    mid_lat = math.degrees(2 * math.atan(math.exp(mid_y)) - math.pi / 2)
    return pdk.ViewState(latitude=mid_lat, longitude=(west + east) / 2, zoom=round(min(zoom, 15.0), 2),
                         pitch=0, bearing=0)


def map_scope_for(ctx: PageContext, scope: Scope) -> Scope:
    """The area drawn: a village is shown within its township (when the user may see it)."""
    if scope.level != "village":
        return scope
    town = Scope.of(scope.code[:9] + "000")
    if ctx.allows(town):
        return town
    return scope


def _value_text(value, unit: str, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "无数据"
    return f"{value:,.{digits}f}{unit if unit == '%' else ' ' + unit}"


def legend_html(title: str, unit: str, classes: Classes, *, method: str, missing: int, poor: int,
                points: int, higher_is_worse: bool, town_lines: bool, overlay_label: str = "",
                overlay_count: int = 0, schematic: bool = False) -> str:
    """The legend as HTML: the classes with their ranges, units and village counts, then the marks."""
    unit_text = f"({unit})" if unit else ""
    rows = [f'<div class="map-legend-title">{html.escape(title)}{html.escape(unit_text)}</div>',
            f'<div class="map-legend-note">{METHODS.get(method, method)},颜色越深越需关注'
            f'{"(数值越低越深)" if not higher_is_worse else ""}</div>']
    for color, label, n in zip(classes.colors, classes.labels, classes.counts):
        rows.append(f'<div class="map-legend-row"><span class="sw" style="background:{color}"></span>'
                    f'{html.escape(label)}<span class="n">{n} 个村</span></div>')
    if missing:
        rows.append(f'<div class="map-legend-row"><span class="sw" style="background:{NO_DATA}"></span>'
                    f'无数据<span class="n">{missing} 个村</span></div>')
    if poor:
        rows.append(f'<div class="map-legend-row"><span class="sw" style="background:#fff;'
                    f'border:3px solid {POOR_OUTLINE}"></span>贫困村(蓝色边框)<span class="n">{poor} 个</span></div>')
    if schematic:
        rows.append('<div class="map-legend-note">示意图:每格一个村,按乡镇成组,格子上方为乡镇名称'
                    '(尚无村界数据,格子位置不代表实际地理位置)</div>')
    if town_lines:
        rows.append(f'<div class="map-legend-row"><span class="ln" style="background:{TOWN_LINE}"></span>'
                    f'乡镇界线与名称</div>')
    if overlay_count:
        rows.append(f'<div class="map-legend-row"><span class="dot" style="background:{OVERLAY_COLOR};'
                    f'border-color:#fff"></span>{html.escape(overlay_label or "标注")}(圆越大越多)'
                    f'<span class="n">{overlay_count} 处</span></div>')
    if points:
        rows.append(f'<div class="map-legend-row"><span class="dot"></span>'
                    f'无边界数据的村(画在中心点)<span class="n">{points} 个</span></div>')
    css = """<style>
.map-legend{font-size:1.05rem;line-height:1.5;padding:0.3rem 0 0 0.2rem}
.map-legend-title{font-weight:700;font-size:1.2rem;margin-bottom:0.1rem}
.map-legend-note{color:#444;font-size:0.95rem;margin-bottom:0.4rem}
.map-legend-row{display:flex;align-items:center;gap:0.5rem;margin:0.2rem 0;white-space:nowrap}
.map-legend .sw{display:inline-block;flex:0 0 1.6rem;width:1.6rem;height:1.1rem;border:1px solid #888;
  box-sizing:border-box}
.map-legend .ln{display:inline-block;flex:0 0 1.6rem;width:1.6rem;height:4px}
.map-legend .dot{display:inline-block;width:0.9rem;height:0.9rem;border-radius:50%;background:#888;
  border:2px solid #333;margin:0 0.35rem}
.map-legend .n{color:#555;margin-left:auto;padding-left:0.6rem;white-space:nowrap}
</style>"""
    return css + '<div class="map-legend">' + "".join(rows) + "</div>"


@dataclass
class MapModel:
    """What is drawn, independent of the renderer."""

    villages: list[dict]  # code, name, poor, color, class_label, value_text, tips [(label, text)], polys, lon, lat
    towns: list[dict]  # code, name, polys, lon, lat
    label_level: str  # "town" (county map: township names) or "village"
    classes: Classes
    focus: str | None  # the village in focus (village scope), outlined in black
    missing: int = 0
    poor: int = 0
    points: int = 0
    schematic: bool = False  # no village of the area has a boundary: tiles grouped by township (charts.schematic)

    def extent(self) -> list[tuple[float, float]]:
        pts = []
        for v in self.villages:
            if v["polys"]:
                for poly in v["polys"]:
                    pts.extend((p[0], p[1]) for p in poly[0])
            elif v["lon"] is not None:
                pts.append((v["lon"], v["lat"]))
        return pts


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x) else float(x)


def build_model(ctx: PageContext, values: pd.DataFrame, indicator_label: str, unit: str, *, scope: Scope,
                higher_is_worse: bool, method: str, classes: int, digits: int,
                tooltip_columns: dict[str, str] | None) -> MapModel | None:
    area = map_scope_for(ctx, scope)
    villages = fetch(places.geometries, ctx, "village", scope=area)
    if villages.empty:
        return None
    towns = fetch(places.geometries, ctx, "town", scope=area) if area.level != "village" else villages.iloc[0:0]
    by_code = {str(r["code"]): r for r in values.to_dict("records")} if values is not None and not values.empty else {}
    raw = [_num(by_code.get(code, {}).get("value")) for code in villages["code"]]
    cls = classify([v for v in raw if v is not None], classes, method, unit=unit, digits=digits,
                   higher_is_worse=higher_is_worse)
    out, n_poor, n_points = [], 0, 0
    schematic = not any(rings_of(g) for g in villages["geometry"])
    for row, value in zip(villages.to_dict("records"), raw):
        extra = by_code.get(row["code"], {})
        poor = bool(row["is_poor_village"])
        n_poor += poor
        exit_year = _num(row["poor_village_exit_year"])
        status = ("贫困村," + (f"{int(exit_year)}年出列" if exit_year else "未出列")) if poor else "非贫困村"
        tips = [("类别", status), (indicator_label, _value_text(value, unit, digits))]
        for col, label in (tooltip_columns or {}).items():
            shown = extra.get(col)
            if not isinstance(shown, str):
                shown = "—" if shown is None or pd.isna(shown) else str(shown)
            tips.append((label, shown))
        polys = [poly for poly in rings_of(row["geometry"]) if poly]
        lon, lat = _num(row["lon"]), _num(row["lat"])
        if not polys and lon is None and not schematic:
            continue
        n_points += not polys and not schematic
        index = cls.index(value) if value is not None else None
        out.append({
            "code": row["code"], "name": str(row["name"]), "poor": poor, "tips": tips, "polys": polys,
            "lon": lon, "lat": lat, "value_text": _value_text(value, unit, digits),
            "color": cls.colors[index] if index is not None else NO_DATA,
            "class_label": cls.labels[index] if index is not None else "无数据",
        })
    out.sort(key=lambda v: v["poor"])  # poor villages last: their outline is drawn over the neighbours'
    town_rows = [{"code": r["code"], "name": str(r["name"]), "polys": [p for p in rings_of(r["geometry"]) if p],
                  "lon": _num(r["lon"]), "lat": _num(r["lat"])} for r in towns.to_dict("records")]
    return MapModel(
        villages=out, towns=town_rows,
        label_level="town" if area.level in ("province", "city", "county") else "village",
        classes=cls, focus=scope.code if scope.level == "village" else None,
        missing=sum(v is None for v in raw), poor=n_poor, points=n_points, schematic=schematic,
    )


def _outline_rows(shapes: list) -> list[dict]:
    """Vertices of the outer rings of ``shapes`` (each a list of polygons), one line per ring."""
    rows = []
    for n, polys in enumerate(shapes):
        for m, poly in enumerate(polys):
            ring_id = f"{n}-{m}"
            rows += [{"ring": ring_id, "i": i, "lon": pt[0], "lat": pt[1]} for i, pt in enumerate(poly[0])]
    return rows


def _outline_chart(dataset: str, color: str, width: float) -> alt.Chart:
    return (alt.Chart(alt.NamedData(dataset))
            .mark_line(color=color, strokeWidth=width, strokeOpacity=0.9, strokeJoin="round")
            .encode(longitude="lon:Q", latitude="lat:Q", detail="ring:N", order="i:Q")
            .project(type="mercator"))


OVERLAY_COLOR = "#CC79A7"  # Okabe–Ito reddish purple: apart from the yellow–red classes and the blue outlines


def _overlay_rows(overlay: pd.DataFrame | None) -> list[dict]:
    """Points drawn over the villages: lon, lat, tip (text shown on hover), size (optional), code (optional)."""
    if overlay is None or overlay.empty:
        return []
    rows = []
    for rec in overlay.to_dict("records"):
        lon, lat = _num(rec.get("lon")), _num(rec.get("lat"))
        if lon is None or lat is None:
            continue
        size = _num(rec.get("size"))
        rows.append({"lon": lon, "lat": lat, "tip": str(rec.get("tip", "")), "size": size if size else 1.0,
                     "code": str(rec.get("code") or "")})
    return rows


def vega_chart(model: MapModel, indicator_label: str, height: int, overlay: pd.DataFrame | None = None,
               overlay_label: str = "") -> dict:
    """The map as a Vega-Lite spec built with Altair (Mercator, fitted to the villages), with click selections.

    Selections: ``pick`` (a village: field ``code``) and, on a county map, ``zoom`` (a township name).
    """
    pts = model.extent()
    span = max((max(p[0] for p in pts) - min(p[0] for p in pts)) if pts else 0.1, 0.01)
    radius = span * (0.012 if model.label_level == "town" else 0.03)
    n_tips = max((len(v["tips"]) for v in model.villages), default=0)
    records = []
    for v in model.villages:
        geometry = d3_geometry(v["polys"]) if v["polys"] else disc(v["lon"], v["lat"], radius, digits=6)
        rec = {"type": "Feature", "geometry": geometry, "properties": {}, "code": v["code"], "name": v["name"],
               "cls": v["class_label"], "poor": v["poor"], "focus": v["code"] == model.focus}
        for i, (_, text) in enumerate(v["tips"]):
            rec[f"tip{i}"] = text
        records.append(rec)
    tip_titles = model.villages[0]["tips"] if model.villages else []
    datasets = {"villages": records}
    datasets["towns"] = _outline_rows([t["polys"] for t in model.towns if t["polys"]])
    datasets["focus"] = _outline_rows([v["polys"] for v in model.villages if v["code"] == model.focus and v["polys"]])
    label_source = model.towns if model.label_level == "town" else model.villages
    datasets["labels"] = [{"code": r["code"], "name": r["name"], "lon": r["lon"], "lat": r["lat"]}
                          for r in label_source if r["lon"] is not None]
    datasets["overlay"] = _overlay_rows(overlay)
    skeleton = _vega_skeleton(
        tuple(label for label, _ in tip_titles[:n_tips]), tuple(model.classes.labels), tuple(model.classes.colors),
        model.label_level, bool(datasets["towns"]), bool(datasets["focus"]), bool(datasets["labels"]),
        bool(datasets["overlay"]), overlay_label, height)
    spec = json.loads(skeleton)
    # The data goes in after Altair's schema validation, which would walk every coordinate (seconds).
    for layer in spec["layer"]:
        name = (layer.get("data") or {}).get("name")
        if name in datasets:
            layer["data"] = {"values": datasets[name]}
    return spec


@functools.lru_cache(maxsize=64)
def _vega_skeleton(tip_labels: tuple, class_labels: tuple, class_colors: tuple, label_level: str, towns: bool,
                   focus: bool, labels: bool, overlay: bool, overlay_label: str, height: int) -> str:
    """The map's Vega-Lite spec with named (empty) datasets, as JSON: it depends only on these
    arguments, so Altair builds it once per kind of map (~0.3 s) and each run fills in the data."""
    tooltip = [alt.Tooltip("name:N", title="行政村")] + [
        alt.Tooltip(f"tip{i}:N", title=label) for i, label in enumerate(tip_labels)]
    domain = list(class_labels) + ["无数据"]
    colors = list(class_colors) + [NO_DATA]
    pick = alt.selection_point(name="pick", fields=["code"], on="click", clear=False, empty=False)
    villages = (
        alt.Chart(alt.NamedData("villages"))
        .mark_geoshape(strokeJoin="round")
        .encode(
            color=alt.Color("cls:N", scale=alt.Scale(domain=domain, range=colors), legend=None),
            stroke=alt.condition("datum.poor", alt.value(POOR_OUTLINE), alt.value("#FFFFFF")),
            strokeWidth=alt.condition("datum.poor", alt.value(2.6), alt.value(0.7)),
            tooltip=tooltip,
        )
        .add_params(pick)
        .project(type="mercator")
    )
    layers = [villages]
    # Outlines as lines, not unfilled shapes: an unfilled shape still catches the clicks and the
    # hovering meant for the villages under it.
    if towns:
        layers.append(_outline_chart("towns", TOWN_LINE, 2.4 if label_level == "town" else 1.6))
    if focus:
        layers.append(_outline_chart("focus", FOCUS_LINE, 4))
    if labels:
        size = 17 if label_level == "town" else 15
        weight = "bold" if label_level == "town" else "normal"
        base = alt.Chart(alt.NamedData("labels")).encode(
            longitude="lon:Q", latitude="lat:Q", text="name:N")
        halo = base.mark_text(fontSize=size, fontWeight=weight, font=FONT_STACK, stroke="#FFFFFF",
                              strokeWidth=4, strokeOpacity=0.9, fill="#FFFFFF").project(type="mercator")
        hint = "点击放大到本乡镇" if label_level == "town" else "点击打开村档案"
        text = base.mark_text(fontSize=size, fontWeight=weight, font=FONT_STACK, fill="#111111", cursor="pointer") \
            .encode(tooltip=[alt.Tooltip("name:N", title="乡镇" if label_level == "town" else "行政村"),
                             alt.Tooltip("hint:N", title="操作")]) \
            .transform_calculate(hint=f"'{hint}'").project(type="mercator")
        if label_level == "town":
            text = text.add_params(alt.selection_point(name="zoom", fields=["code"], on="click", clear=False,
                                                       empty=False))
        layers += [halo, text]
    if overlay:
        layers.append(
            alt.Chart(alt.NamedData("overlay"))
            .mark_circle(color=OVERLAY_COLOR, opacity=0.85, stroke="#FFFFFF", strokeWidth=1)
            .encode(longitude="lon:Q", latitude="lat:Q",
                    size=alt.Size("size:Q", legend=None, scale=alt.Scale(range=[60, 600])),
                    tooltip=[alt.Tooltip("tip:N", title=overlay_label or "标注")])
            .add_params(alt.selection_point(name="spot", fields=["code"], on="click", clear=False, empty=False))
            .project(type="mercator"))
    return json.dumps(alt.layer(*layers).properties(height=height).configure_view(stroke=None).to_dict(),
                      ensure_ascii=False)


def _deck(model: MapModel, height: int, basemap: Basemap, extra_layers: list | None,
          overlay: pd.DataFrame | None = None) -> pdk.Deck:
    polygons, points, focus = [], [], []
    for v in model.villages:
        tip = "<br/>".join([f"<b style='font-size:1.1em'>{html.escape(v['name'])}</b>"] +
                           [f"{html.escape(label)}:{html.escape(text)}" for label, text in v["tips"]])
        base = {"code": v["code"], "name": v["name"], "tip": tip, "fill": rgba(v["color"], 235),
                "line": rgba(POOR_OUTLINE if v["poor"] else "#FFFFFF"), "lw": 3 if v["poor"] else 1}
        if v["polys"]:
            for poly in v["polys"]:
                polygons.append({**base, "polygon": poly})
                if v["code"] == model.focus:
                    focus.append({"path": poly[0]})
        else:
            points.append({**base, "position": [v["lon"], v["lat"]]})
    town_paths = [{"path": poly[0]} for t in model.towns for poly in t["polys"]]
    label_source = model.towns if model.label_level == "town" else model.villages
    hint = "点击放大到本乡镇" if model.label_level == "town" else "点击打开村档案"
    labels = [{"code": r["code"], "name": r["name"], "position": [r["lon"], r["lat"]],
               "tip": f"<b>{html.escape(r['name'])}</b><br/>{hint}"} for r in label_source if r["lon"] is not None]
    layers = []
    if basemap.image and basemap.image_bounds:
        w, s, e, n = basemap.image_bounds
        layers.append(pdk.Layer("BitmapLayer", id="basemap-image", image=basemap.image,
                                bounds=[[w, s], [w, n], [e, n], [e, s]], pickable=False))
    layers.append(pdk.Layer("PolygonLayer", id="villages", data=polygons, get_polygon="polygon",
                            get_fill_color="fill", get_line_color="line", get_line_width="lw",
                            line_width_units="pixels", stroked=True, filled=True, pickable=True))
    if points:
        layers.append(pdk.Layer("ScatterplotLayer", id="village-points", data=points, get_position="position",
                                get_fill_color="fill", get_line_color="line", stroked=True, line_width_units="pixels",
                                get_line_width=2, radius_units="pixels", get_radius=9, pickable=True))
    if town_paths:
        layers.append(pdk.Layer("PathLayer", id="town-lines", data=town_paths, get_path="path",
                                get_color=rgba(TOWN_LINE, 230), get_width=3, width_units="pixels"))
    if focus:
        layers.append(pdk.Layer("PathLayer", id="focus", data=focus, get_path="path", get_color=rgba(FOCUS_LINE),
                                get_width=5, width_units="pixels"))
    if labels:
        layers.append(pdk.Layer("TextLayer", id="labels", data=labels, get_position="position", get_text="name",
                                get_size=18 if model.label_level == "town" else 14, size_units="pixels",
                                get_color=[20, 20, 20, 255], font_family=FONT_STACK, character_set="auto",
                                pickable=True))
    points = [{**r, "tip": html.escape(r["tip"])} for r in _overlay_rows(overlay)]
    if points:
        largest = max(r["size"] for r in points) or 1.0
        for r in points:
            r["radius"] = 5 + 14 * (r["size"] / largest) ** 0.5
        layers.append(pdk.Layer("ScatterplotLayer", id="overlay", data=points, get_position="[lon, lat]",
                                get_radius="radius", radius_units="pixels", get_fill_color=rgba(OVERLAY_COLOR, 215),
                                pickable=True))
    layers.extend(extra_layers or [])
    args = dict(layers=layers, initial_view_state=fit_view(model.extent(), height_px=height),
                tooltip={"html": "{tip}", "style": {"fontSize": "16px", "backgroundColor": "#1f1f1f",
                                                    "color": "#ffffff", "padding": "8px 10px", "lineHeight": "1.5"}})
    if basemap.style_url:
        return pdk.Deck(map_provider="carto", map_style=basemap.style_url, **args)
    # map_provider=None alone leaves the style at pydeck's sentinel, which Streamlit reads as "no
    # basemap"; passing map_style=None as well would make Streamlit load Carto tiles from the web.
    return pdk.Deck(map_provider=None, **args)


def village_map(ctx: PageContext, values: pd.DataFrame, indicator_label: str, unit: str, key: str, *,
                higher_is_worse: bool = True, method: str = "quantile", classes: int = 5,
                digits: int = 0, tooltip_columns: dict[str, str] | None = None,
                extra_layers: list | None = None, scope: Scope | None = None,
                height: int = 560, show_legend: bool = True, renderer: str | None = None,
                overlay: pd.DataFrame | None = None, overlay_label: str = "") -> str | None:
    """Draw the villages of the scope coloured by ``values`` and return the clicked code, if any.

    values: DataFrame with ``code`` (12-digit village code) and ``value`` (number or NaN); any
    column named in ``tooltip_columns`` ({column: 中文标签}) is shown, as it is, in the tooltip.
    A village scope is drawn within its township, the village outlined in black.
    ``overlay``: points drawn over the villages with either renderer (e.g. monitoring objects):
    DataFrame with lon, lat, tip (hover text), optional size (scaled to the circle area) and code
    (12 digits: a click on the point returns it like a village); ``overlay_label`` names them in
    the legend and the tooltip.
    ``extra_layers``: more pydeck layers (pydeck renderer only; each with an ``id``; a picked object
    with a ``code`` field is returned like a village).
    Returns a village code (open its page), a township code (zoom to it), or None.
    """
    scope = scope or ctx.scope
    model = build_model(ctx, values, indicator_label, unit, scope=scope, higher_is_worse=higher_is_worse,
                        method=method, classes=classes, digits=digits, tooltip_columns=tooltip_columns)
    if model is None or not model.villages:
        st.info("本范围内没有行政村的边界或位置数据,无法绘制地图。")
        return None
    settings = basemap_settings()
    use = renderer or settings.renderer
    widget_key = f"{key}-{scope.code}"  # a new widget per region: an old click never fires twice

    def draw():
        if model.schematic:  # Vega-Lite with either renderer (no WebGL, nothing from the web)
            aspect = (1350 if ctx.present else 900) / max(height, 200)
            spec = schematic.chart(model, height, aspect, NO_DATA, POOR_OUTLINE, FOCUS_LINE)
            params = [p["name"] for p in spec.get("params", []) if p.get("name") in VEGA_PARAMS]
            return st.vega_lite_chart(spec, on_select="rerun", selection_mode=params, key=widget_key,
                                      width="stretch")
        if use == "pydeck":
            return st.pydeck_chart(_deck(model, height, settings, extra_layers, overlay), on_select="rerun",
                                   selection_mode="single-object", key=widget_key, height=height, width="stretch",
                                   alt=f"{indicator_label}分级地图")
        spec = vega_chart(model, indicator_label, height, overlay, overlay_label)
        params = [p["name"] for p in spec.get("params", []) if p.get("name") in VEGA_PARAMS]
        return st.vega_lite_chart(spec, on_select="rerun", selection_mode=params, key=widget_key, width="stretch")

    if show_legend:
        left, right = st.columns([2.6, 1] if ctx.present else [3.2, 1])
        with left:
            event = draw()
        with right:
            st.html(legend_html(indicator_label, unit, model.classes, method=method, missing=model.missing,
                                poor=model.poor, points=model.points, higher_is_worse=higher_is_worse,
                                town_lines=bool(model.towns) and not model.schematic, overlay_label=overlay_label,
                                overlay_count=0 if model.schematic else len(_overlay_rows(overlay)),
                                schematic=model.schematic))
    else:
        event = draw()
    return picked_code(event)


def picked_code(event) -> str | None:
    """The ``code`` of what was clicked, from a pydeck or an Altair selection event (None if nothing)."""
    if not event:
        return None
    try:
        selection = event["selection"]
    except (KeyError, TypeError):
        return None
    candidates = []
    objects = selection.get("objects") if isinstance(selection, dict) or hasattr(selection, "get") else None
    if objects:  # pydeck: {"objects": {layer_id: [obj, ...]}}
        for layer_id in list(PICKABLE_LAYERS) + [k for k in objects if k not in PICKABLE_LAYERS]:
            candidates += list(objects.get(layer_id) or [])
    for name in VEGA_PARAMS:  # altair: {"pick": [{"code": ...}], "zoom": [...]}
        value = selection.get(name) if hasattr(selection, "get") else None
        if isinstance(value, list):
            candidates += value
    for obj in candidates:
        if isinstance(obj, dict):
            code = obj.get("code") or (obj.get("properties") or {}).get("code")
            if isinstance(code, str) and len(code) == 12 and code.isdigit():
                return code
    return None
