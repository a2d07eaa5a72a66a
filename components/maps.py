"""Village choropleth map (pydeck), drawn with no basemap: nothing is fetched from the web.

``village_map(ctx, values, "贫困发生率", "%", key=...)`` draws every village of the
scope as its polygon (or a point at its centroid when it has none), coloured in
classes of ``values.value`` with a legend beside it; poor villages get a blue
outline, township boundaries and names are drawn over, and hovering shows the
village with its figures. Clicking a village (or a township name) returns its
code, so the page decides: open the village page, or zoom to the township.

An intranet basemap is optional (``[map]`` in .streamlit/secrets.toml or the
environment): ``style_url`` / REGISTRY_MAP_STYLE, a Mapbox-GL style on the
intranet; or ``image`` / REGISTRY_MAP_IMAGE (an image URL served by the app,
e.g. "app/static/county.png") with ``image_bounds`` / REGISTRY_MAP_IMAGE_BOUNDS
"west,south,east,north" drawn under the villages.
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass

import pandas as pd
import pydeck as pdk
import streamlit as st

from data_access.db import read_secrets
from data_access.queries import places
from data_access.scope import Scope

from .classify import METHODS, Classes, classify
from .context import PageContext
from .data import fetch
from .theme import FONT_STACK

NO_DATA = "#BBBBBB"
POOR_OUTLINE = "#0072B2"  # Okabe–Ito blue: stands apart from the yellow–red classes
TOWN_LINE = "#222222"
FOCUS_LINE = "#000000"
PICKABLE_LAYERS = ("villages", "village-points", "labels")


@dataclass(frozen=True)
class Basemap:
    style_url: str = ""
    image: str = ""
    image_bounds: tuple[float, float, float, float] | None = None


def basemap_settings() -> Basemap:
    """The optional intranet basemap; none by default."""
    section = read_secrets().get("map", {})
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
    return Basemap(str(style).strip(), str(image).strip(), bounds)


def rgba(hex_color: str, alpha: int = 255) -> list[int]:
    h = hex_color.lstrip("#")
    return [int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha]


def rings_of(geometry_text: str | None) -> list[list[list[list[float]]]]:
    """Polygons (each a list of rings) of a GeoJSON Polygon/MultiPolygon text; [] when absent or bad."""
    if not geometry_text:
        return []
    try:
        geom = json.loads(geometry_text)
    except (TypeError, ValueError):
        return []
    if not isinstance(geom, dict):
        return []
    if geom.get("type") == "Polygon":
        return [geom.get("coordinates") or []]
    if geom.get("type") == "MultiPolygon":
        return list(geom.get("coordinates") or [])
    return []


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
    if ctx.user is None or town.within(ctx.user.root):
        return town
    return scope


def _value_text(value, unit: str, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "无数据"
    return f"{value:,.{digits}f}{unit if unit == '%' else ' ' + unit}"


def legend_html(title: str, unit: str, classes: Classes, *, method: str, missing: int, poor: int,
                points: int, higher_is_worse: bool, town_lines: bool) -> str:
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
    if town_lines:
        rows.append(f'<div class="map-legend-row"><span class="ln" style="background:{TOWN_LINE}"></span>'
                    f'乡镇界线与名称</div>')
    if points:
        rows.append(f'<div class="map-legend-row"><span class="dot"></span>'
                    f'无边界数据的村(画在中心点)<span class="n">{points} 个</span></div>')
    css = """<style>
.map-legend{font-size:1.05rem;line-height:1.5;padding:0.3rem 0 0 0.2rem}
.map-legend-title{font-weight:700;font-size:1.2rem;margin-bottom:0.1rem}
.map-legend-note{color:#444;font-size:0.95rem;margin-bottom:0.4rem}
.map-legend-row{display:flex;align-items:center;gap:0.5rem;margin:0.2rem 0}
.map-legend .sw{display:inline-block;width:1.6rem;height:1.1rem;border:1px solid #888;box-sizing:border-box}
.map-legend .ln{display:inline-block;width:1.6rem;height:4px}
.map-legend .dot{display:inline-block;width:0.9rem;height:0.9rem;border-radius:50%;background:#888;
  border:2px solid #333;margin:0 0.35rem}
.map-legend .n{color:#555;margin-left:auto;padding-left:0.6rem;white-space:nowrap}
</style>"""
    return css + '<div class="map-legend">' + "".join(rows) + "</div>"


def village_map(ctx: PageContext, values: pd.DataFrame, indicator_label: str, unit: str, key: str, *,
                higher_is_worse: bool = True, method: str = "quantile", classes: int = 5,
                digits: int = 0, tooltip_columns: dict[str, str] | None = None,
                extra_layers: list | None = None, scope: Scope | None = None,
                height: int = 560, show_legend: bool = True) -> str | None:
    """Draw the villages of the scope coloured by ``values`` and return the clicked code, if any.

    values: DataFrame with ``code`` (12-digit village code) and ``value`` (number or NaN); any
    column named in ``tooltip_columns`` ({column: 中文标签}) is shown in the tooltip as it is.
    ``extra_layers``: more pydeck layers drawn on top (each with an ``id``; a picked object with
    a ``code`` field is returned like a village). The returned code is a village code (open its
    page) or a township code (zoom to it), or None when nothing was clicked in this run.
    """
    scope = scope or ctx.scope
    area = map_scope_for(ctx, scope)
    villages = fetch(places.geometries, ctx, "village", scope=area)
    towns = fetch(places.geometries, ctx, "town", scope=area) if area.level in (
        "province", "city", "county", "town") else villages.iloc[0:0]
    if villages.empty:
        st.info("本范围内没有行政村的区划数据,无法绘制地图。")
        return None

    by_code = {}
    if values is not None and not values.empty:
        by_code = {str(r["code"]): r for r in values.to_dict("records")}
    raw_values = []
    for code in villages["code"]:
        v = by_code.get(code, {}).get("value")
        raw_values.append(None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v))
    present = [v for v in raw_values if v is not None]
    cls = classify(present, classes, method, unit=unit, digits=digits, higher_is_worse=higher_is_worse)

    tips = tooltip_columns or {}
    polygons, outlines_poor, points, all_points, focus = [], [], [], [], []
    n_poor = 0
    for row, value in zip(villages.to_dict("records"), raw_values):
        code = row["code"]
        color = cls.color(value) if value is not None else None
        extra = by_code.get(code, {})
        poor = bool(row["is_poor_village"])
        n_poor += poor
        lines = [f"<b style='font-size:1.1em'>{html.escape(str(row['name']))}</b>"
                 f"{'(贫困村' + ('，' + str(int(row['poor_village_exit_year'])) + '年出列' if pd.notna(row['poor_village_exit_year']) else '，未出列') + ')' if poor else ''}",
                 f"{html.escape(indicator_label)}:<b>{_value_text(value, unit, digits)}</b>"]
        for col, label in tips.items():
            if col in extra and col != "value":
                shown = extra[col]
                shown = "—" if shown is None or (isinstance(shown, float) and math.isnan(shown)) else shown
                lines.append(f"{html.escape(label)}:{html.escape(str(shown))}")
        lines.append("<span style='opacity:.8'>点击打开村档案</span>")
        base = {"code": code, "name": row["name"], "tip": "<br/>".join(lines),
                "fill": rgba(color or NO_DATA, 235)}
        polys = rings_of(row["geometry"])
        if polys:
            for poly in polys:
                if not poly:
                    continue
                polygons.append({**base, "polygon": poly})
                all_points.extend((p[0], p[1]) for p in poly[0])
                if poor:
                    outlines_poor.extend({"path": ring} for ring in poly[:1])
                if code == scope.code:
                    focus.extend({"path": ring} for ring in poly[:1])
        elif pd.notna(row["lon"]) and pd.notna(row["lat"]):
            points.append({**base, "position": [float(row["lon"]), float(row["lat"])],
                           "outline": rgba(POOR_OUTLINE if poor else "#333333")})
            all_points.append((float(row["lon"]), float(row["lat"])))

    town_paths, labels = [], []
    label_level = "town" if area.level in ("province", "city", "county") else "village"
    for row in towns.to_dict("records"):
        for poly in rings_of(row["geometry"]):
            town_paths.extend({"path": ring} for ring in poly[:1])
    label_rows = towns if label_level == "town" else villages
    for row in label_rows.to_dict("records"):
        if pd.isna(row["lon"]) or pd.isna(row["lat"]):
            continue
        hint = "点击放大到本乡镇" if label_level == "town" else "点击打开村档案"
        labels.append({"code": row["code"], "name": row["name"], "position": [float(row["lon"]), float(row["lat"])],
                       "tip": f"<b style='font-size:1.1em'>{html.escape(str(row['name']))}</b><br/>{hint}"})

    basemap = basemap_settings()
    layers = []
    if basemap.image and basemap.image_bounds:
        w, s, e, n = basemap.image_bounds
        layers.append(pdk.Layer("BitmapLayer", id="basemap-image", image=basemap.image,
                                bounds=[[w, s], [w, n], [e, n], [e, s]], pickable=False))
    layers.append(pdk.Layer(
        "PolygonLayer", id="villages", data=polygons, get_polygon="polygon", get_fill_color="fill",
        get_line_color=[255, 255, 255, 255], get_line_width=1, line_width_units="pixels",
        stroked=True, filled=True, pickable=True, auto_highlight=True,
        highlight_color=[0, 0, 0, 60],
    ))
    if outlines_poor:
        layers.append(pdk.Layer("PathLayer", id="poor-outlines", data=outlines_poor, get_path="path",
                                get_color=rgba(POOR_OUTLINE), get_width=3, width_units="pixels",
                                pickable=False))
    if points:
        layers.append(pdk.Layer("ScatterplotLayer", id="village-points", data=points, get_position="position",
                                get_fill_color="fill", get_line_color="outline", stroked=True,
                                line_width_units="pixels", get_line_width=2, radius_units="pixels",
                                get_radius=9, pickable=True))
    if town_paths:
        layers.append(pdk.Layer("PathLayer", id="town-lines", data=town_paths, get_path="path",
                                get_color=rgba(TOWN_LINE, 230), get_width=3 if label_level == "town" else 2,
                                width_units="pixels", pickable=False))
    if focus:
        layers.append(pdk.Layer("PathLayer", id="focus", data=focus, get_path="path", get_color=rgba(FOCUS_LINE),
                                get_width=5, width_units="pixels", pickable=False))
    if labels:
        layers.append(pdk.Layer(
            "TextLayer", id="labels", data=labels, get_position="position", get_text="name",
            get_size=18 if label_level == "town" else 14, size_units="pixels", get_color=[20, 20, 20, 255],
            font_family=FONT_STACK, font_weight=700 if label_level == "town" else 400, character_set="auto",
            background=True, get_background_color=[255, 255, 255, 215], background_padding=[4, 2],
            get_text_anchor='"middle"', get_alignment_baseline='"center"', pickable=True,
        ))
    layers.extend(extra_layers or [])

    deck_args = dict(
        layers=layers, initial_view_state=fit_view(all_points, height_px=height),
        tooltip={"html": "{tip}", "style": {"fontSize": "16px", "backgroundColor": "#1f1f1f",
                                            "color": "#ffffff", "padding": "8px 10px", "lineHeight": "1.5"}},
    )
    if basemap.style_url:
        deck = pdk.Deck(map_provider="carto", map_style=basemap.style_url, **deck_args)
    else:
        # map_provider=None alone leaves the style at pydeck's sentinel, which Streamlit reads as
        # "no basemap"; passing map_style=None as well would make it load Carto tiles from the web.
        deck = pdk.Deck(map_provider=None, **deck_args)

    def draw():
        return st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object",
                               key=f"{key}-{scope.code}", height=height, width="stretch",
                               alt=f"{indicator_label}分级地图")

    if show_legend:
        left, right = st.columns([3.2, 1])
        with left:
            event = draw()
        with right:
            st.html(legend_html(indicator_label, unit, cls, method=method,
                                missing=sum(v is None for v in raw_values), poor=n_poor, points=len(points),
                                higher_is_worse=higher_is_worse, town_lines=bool(town_paths)))
    else:
        event = draw()
    return picked_code(event)


def picked_code(event) -> str | None:
    """The ``code`` of the object clicked in a pydeck selection event, if any."""
    if not event:
        return None
    try:
        objects = event["selection"]["objects"]
    except (KeyError, TypeError):
        return None
    for layer_id in list(PICKABLE_LAYERS) + [k for k in objects if k not in PICKABLE_LAYERS]:
        for obj in objects.get(layer_id) or []:
            if isinstance(obj, dict):
                code = obj.get("code") or (obj.get("properties") or {}).get("code")
                if isinstance(code, str) and len(code) == 12 and code.isdigit():
                    return code
    return None
