"""Vega-Lite specs (plain dicts) for the meeting slides, built from data_access results. No streamlit.

The look follows ``components.shell.theme`` and ``components.charts`` (Okabe–Ito colours from
``report.palette``, large type, CJK fonts) and the map follows ``components.charts.maps`` (villages
coloured in quantile classes, poor villages outlined in blue, township outlines and names; the rings
from ``data_access.geometry``): the values are repeated here because data_access never imports
components. Sizes are for a 16:9 slide seen on a projector.
"""

from __future__ import annotations

import json
import math

import pandas as pd

# colours from report.palette (Okabe–Ito; YlOrRd for classes), the app's theme too
from ..geometry import d3_geometry, disc, rings_of
from . import formatting as fmt
from .classify import Classes, classify
from .money import MoneyUnit
from .palette import BAD, CATEGORICAL, GOOD

FONT = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Noto Sans SC", sans-serif'
NO_DATA = "#BBBBBB"
POOR_OUTLINE = "#0072B2"
TOWN_LINE = "#222222"
FOCUS_LINE = "#000000"

LABEL = 22  # axis labels, px at scale 1 (the slide shows the image at about 1 px per px)
TITLE = 24
MARK_TEXT = 22


def config() -> dict:
    return {
        "font": FONT,
        "background": "#FFFFFF",
        "view": {"stroke": None},
        "axis": {"labelFontSize": LABEL, "titleFontSize": TITLE, "labelFont": FONT, "titleFont": FONT,
                 "labelLimit": 260, "titleFontWeight": "normal", "labelColor": "#222222", "titleColor": "#222222"},
        "legend": {"labelFontSize": LABEL, "titleFontSize": TITLE, "labelFont": FONT, "titleFont": FONT,
                   "orient": "bottom", "symbolSize": 300, "labelLimit": 320},
        "title": {"fontSize": TITLE + 2, "font": FONT, "anchor": "start", "color": "#111111"},
        "text": {"font": FONT},
        "range": {"category": CATEGORICAL},
    }


def _spec(body: dict, width: int, height: int) -> dict:
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": width, "height": height,
            "config": config(), "padding": 8, **body}


def _records(df: pd.DataFrame) -> list[dict]:
    """JSON-safe rows (NaN -> None, numpy numbers -> Python)."""
    return json.loads(df.to_json(orient="records", force_ascii=False))


# ---- 脱贫进度 -------------------------------------------------------------------------------


def exits_spec(yearly: pd.DataFrame, year: int, width: int = 1180, height: int = 470) -> dict:
    """Left: people exited each year (bars, the chosen year dark) with the yearly target (black ticks).
    Right: 贫困发生率 (%) at the end of each year. ``yearly`` is ``queries.common.yearly``."""
    df = pd.DataFrame({
        "年度": yearly["year"].astype(int).astype(str),
        "脱贫人数": yearly["exited_persons"].astype(int),
        "年度任务": pd.to_numeric(yearly["target_persons"], errors="coerce"),
        "贫困发生率": pd.to_numeric(yearly["incidence"], errors="coerce"),
        "选中": yearly["year"].astype(int) == int(year),
    })
    values = _records(df)
    x = {"field": "年度", "type": "nominal", "title": None, "axis": {"labelAngle": -45 if len(df) > 8 else 0}}
    half = (width - 60) // 2
    top_incidence = float(df["贫困发生率"].max()) if df["贫困发生率"].notna().any() else 0.0
    bars = {
        "title": "历年脱贫人数(人)与年度减贫任务",
        "width": half, "height": height,
        "data": {"values": values},
        "layer": [
            {"mark": {"type": "bar", "color": GOOD},
             "encoding": {"x": x, "y": {"field": "脱贫人数", "type": "quantitative", "title": "人"},
                          "opacity": {"condition": {"test": "datum['选中']", "value": 1.0}, "value": 0.6}}},
            {"transform": [{"filter": "isValid(datum['年度任务'])"}],
             "mark": {"type": "tick", "color": "#000000", "thickness": 4, "size": 30},
             "encoding": {"x": x, "y": {"field": "年度任务", "type": "quantitative"}}},
        ],
    }
    line = {
        "title": "贫困发生率(%)",
        "width": half, "height": height,
        "data": {"values": values},
        "transform": [{"filter": "isValid(datum['贫困发生率'])"}],
        "layer": [
            {"mark": {"type": "line", "color": BAD, "strokeWidth": 4,
                      "point": {"filled": True, "size": 120, "color": BAD}},
             "encoding": {"x": x, "y": {"field": "贫困发生率", "type": "quantitative", "title": "%",
                                        "scale": {"domainMax": top_incidence * 1.2 if top_incidence else 1}}}},
            {"transform": [{"filter": "datum['选中'] || datum['年度'] == '%s'" % df["年度"].iloc[0]}],
             "mark": {"type": "text", "dy": -22, "fontSize": MARK_TEXT, "color": "#111111", "fontWeight": "bold"},
             "encoding": {"x": x, "y": {"field": "贫困发生率", "type": "quantitative"},
                          "text": {"field": "贫困发生率", "type": "quantitative", "format": ".2f"}}},
        ],
    }
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "config": config(), "padding": 8,
            "hconcat": [bars, line], "spacing": 40}


# ---- 致贫原因 -------------------------------------------------------------------------------


def causes_spec(mix: pd.DataFrame, width: int = 820, height: int = 480, top: int = 10) -> dict:
    """Registered households by main cause (``causes.cause_mix``), most first, each bar labelled
    with its households and share."""
    df = mix.head(top)
    data = pd.DataFrame({
        "致贫原因": df["cause"].astype(str),
        "户数": df["households"].astype(int),
        "标注": [f"{int(h):,}户({fmt.percent(p)})" if p is not None and p == p else f"{int(h):,}户"
               for h, p in zip(df["households"], df["households_pct"])],
    })
    order = list(data["致贫原因"])
    y = {"field": "致贫原因", "type": "nominal", "sort": order, "title": None}
    return _spec({
        "data": {"values": _records(data)},
        "layer": [
            {"mark": {"type": "bar", "color": GOOD},
             "encoding": {"y": y, "x": {"field": "户数", "type": "quantitative", "title": "建档立卡户数(户)",
                                        "scale": {"domainMax": int(data["户数"].max() * 1.35) if len(data) else 1}}}},
            {"mark": {"type": "text", "align": "left", "dx": 6, "fontSize": MARK_TEXT, "color": "#111111"},
             "encoding": {"y": y, "x": {"field": "户数", "type": "quantitative"}, "text": {"field": "标注"}}},
        ],
    }, width, height)


# ---- 资金 -------------------------------------------------------------------------------------


def funds_spec(totals: dict, unit: MoneyUnit, width: int = 760, height: int = 440) -> dict:
    """下达 (or 安排) → 已安排 → 已拨付 → 已支出 in ``unit`` (``money.unit_for``), bars labelled."""
    name = unit.name
    stages = []
    if totals["base"] == "allocated":
        stages.append(("下达", totals["allocated"]))
    stages += [("安排", totals["arranged"]), ("拨付", totals["paid"]), ("支出", totals["spent"])]
    colors = {"下达": "#56B4E9", "安排": GOOD, "拨付": "#009E73", "支出": "#E69F00"}
    data = pd.DataFrame({
        "环节": [s for s, _ in stages],
        "金额": [unit.value(v) for _, v in stages],
        "标注": [unit.text(v, with_unit=False) for _, v in stages],
        "颜色": [colors[s] for s, _ in stages],
    })
    x = {"field": "环节", "type": "nominal", "sort": list(data["环节"]), "title": None, "axis": {"labelAngle": 0}}
    top = float(data["金额"].max()) if len(data) else 1.0
    return _spec({
        "data": {"values": _records(data)},
        "layer": [
            {"mark": {"type": "bar", "size": 90},
             "encoding": {"x": x, "y": {"field": "金额", "type": "quantitative", "title": name,
                                        "scale": {"domainMax": top * 1.15 if top > 0 else 1}},
                          "color": {"field": "颜色", "type": "nominal", "scale": None}}},
            {"mark": {"type": "text", "dy": -16, "fontSize": MARK_TEXT, "color": "#111111", "fontWeight": "bold"},
             "encoding": {"x": x, "y": {"field": "金额", "type": "quantitative"}, "text": {"field": "标注"}}},
        ],
    }, width, height)


# ---- 防返贫监测 -------------------------------------------------------------------------------


def monitoring_spec(kinds: pd.DataFrame, width: int = 760, height: int = 400) -> dict:
    """Monitoring objects by kind (``monitoring.breakdown(..., "kind")``): still at risk (vermilion)
    and risk removed (blue), stacked, with "仍有风险 / 全部" at the bar's end."""
    rows = []
    for r in kinds.to_dict("records"):
        rows.append({"类别": r["label"], "状态": "仍有风险", "户数": int(r["at_risk_households"]), "顺序": 0})
        rows.append({"类别": r["label"], "状态": "已消除风险", "户数": int(r["removed_households"]), "顺序": 1})
    ends = pd.DataFrame({"类别": kinds["label"], "合计": kinds["households"].astype(int),
                         "标注": [f"{int(a):,} / {int(n):,}户" for a, n in
                                zip(kinds["at_risk_households"], kinds["households"])]})
    order = list(kinds["label"])
    y = {"field": "类别", "type": "nominal", "sort": order, "title": None}
    top = int(ends["合计"].max()) if len(ends) else 1
    return _spec({
        "layer": [
            {"data": {"values": rows},
             "mark": {"type": "bar", "size": 60},
             "encoding": {"y": y, "x": {"field": "户数", "type": "quantitative", "stack": "zero",
                                        "title": "监测对象(户)", "scale": {"domainMax": max(top * 1.45, 1)},
                                        "axis": {"tickMinStep": 1, "format": ",d"}},
                          "color": {"field": "状态", "type": "nominal", "title": None,
                                    "scale": {"domain": ["仍有风险", "已消除风险"], "range": [BAD, GOOD]}},
                          "order": {"field": "顺序", "type": "quantitative"}}},
            {"data": {"values": _records(ends)},
             "mark": {"type": "text", "align": "left", "dx": 8, "fontSize": MARK_TEXT, "color": "#111111"},
             "encoding": {"y": y, "x": {"field": "合计", "type": "quantitative"}, "text": {"field": "标注"}}},
        ],
    }, width, height)


# ---- 地图 -------------------------------------------------------------------------------------


def classes(values: list[float], k: int = 5, digits: int = 2,
            unit: str = "%") -> tuple[list[float], list[str], list[str]]:
    """(breaks, colours, labels) of quantile classes, light (low) to dark (high), as the map page draws them."""
    cls = classify(values, k, "quantile", unit=unit, digits=digits)
    return list(cls.breaks), list(cls.colors), list(cls.labels)


def class_of(value, breaks: list[float]) -> int | None:
    if not breaks:
        return None
    return Classes(tuple(breaks), (), (), ()).index(value)


def _num(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x) else float(x)


def map_spec(village_rows: pd.DataFrame, values: dict, town_rows: pd.DataFrame | None = None,
             focus: str | None = None, label_level: str = "town", title: str = "贫困发生率",
             unit: str = "%", digits: int = 2, width: int = 760, height: int = 520) -> dict | None:
    """Villages (``places.geometries(..., "village")``) coloured by ``values`` ({code: value}) in
    quantile classes with a legend; poor villages outlined blue; township outlines and names
    (``town_rows``) over them; ``focus`` (a village code) outlined black. None without any shape."""
    raw = {str(r["code"]): _num(values.get(str(r["code"]))) for r in village_rows.to_dict("records")}
    breaks, colors, labels = classes([v for v in raw.values() if v is not None], 5, digits, unit)
    pts = []
    for r in village_rows.to_dict("records"):
        for poly in rings_of(r["geometry"]):
            pts.extend((p[0], p[1]) for p in poly[0])
        if _num(r["lon"]) is not None:
            pts.append((_num(r["lon"]), _num(r["lat"])))
    if not pts:
        return None
    span = max(max(p[0] for p in pts) - min(p[0] for p in pts), 0.01)
    radius = span * (0.012 if label_level == "town" else 0.03)
    feats, outlines = [], []
    for r in village_rows.to_dict("records"):
        polys = [p for p in rings_of(r["geometry"]) if p]
        lon, lat = _num(r["lon"]), _num(r["lat"])
        if not polys and lon is None:
            continue
        i = class_of(raw[str(r["code"])], breaks)
        poor = bool(r["is_poor_village"])
        feats.append({"type": "Feature", "properties": {},
                      "geometry": d3_geometry(polys) if polys else disc(lon, lat, radius),
                      "cls": labels[i] if i is not None else "无数据", "poor": poor, "name": str(r["name"]),
                      "lon": lon, "lat": lat})
        if str(r["code"]) == focus:
            for m, poly in enumerate(polys):
                outlines += [{"ring": f"f{m}", "i": k, "lon": pt[0], "lat": pt[1], "kind": "focus"}
                             for k, pt in enumerate(poly[0])]
    feats.sort(key=lambda f: f["poor"])  # poor villages last: their outline over the neighbours'
    towns = town_rows if town_rows is not None else pd.DataFrame(columns=["code", "name", "geometry", "lon", "lat"])
    for n, t in enumerate(towns.to_dict("records")):
        for m, poly in enumerate(rings_of(t["geometry"])):
            if poly:
                outlines += [{"ring": f"t{n}-{m}", "i": k, "lon": pt[0], "lat": pt[1], "kind": "town"}
                             for k, pt in enumerate(poly[0])]
    label_rows = towns if label_level == "town" else village_rows
    names = [{"name": str(r["name"]), "lon": _num(r["lon"]), "lat": _num(r["lat"])}
             for r in label_rows.to_dict("records") if _num(r["lon"]) is not None]
    domain = labels + ["无数据"]
    palette = colors + [NO_DATA]
    projection = {"type": "mercator"}
    layers = [{
        "data": {"values": feats},
        "mark": {"type": "geoshape", "strokeJoin": "round"},
        "encoding": {
            "color": {"field": "cls", "type": "nominal", "title": f"{title}({unit})" if unit else title,
                      "scale": {"domain": domain, "range": palette},
                      "legend": {"orient": "bottom", "direction": "vertical", "symbolType": "square",
                                 "values": domain if any(f["cls"] == "无数据" for f in feats) else labels}},
            "stroke": {"condition": {"test": "datum.poor", "value": POOR_OUTLINE}, "value": "#FFFFFF"},
            "strokeWidth": {"condition": {"test": "datum.poor", "value": 3.5}, "value": 0.8},
        },
        "projection": projection,
    }]
    for kind, color, width_px in (("town", TOWN_LINE, 2.6), ("focus", FOCUS_LINE, 5)):
        rows = [o for o in outlines if o["kind"] == kind]
        if rows:  # lines of fixed colour: a colour encoding here would share the villages' scale
            layers.append({
                "data": {"values": rows},
                "mark": {"type": "line", "strokeJoin": "round", "color": color, "strokeWidth": width_px},
                "encoding": {"longitude": {"field": "lon", "type": "quantitative"},
                             "latitude": {"field": "lat", "type": "quantitative"},
                             "detail": {"field": "ring", "type": "nominal"},
                             "order": {"field": "i", "type": "quantitative"}},
                "projection": projection,
            })
    if names:
        size = 24 if label_level == "town" else 20
        weight = "bold" if label_level == "town" else "normal"
        base = {"data": {"values": names},
                "encoding": {"longitude": {"field": "lon", "type": "quantitative"},
                             "latitude": {"field": "lat", "type": "quantitative"},
                             "text": {"field": "name", "type": "nominal"}},
                "projection": projection}
        layers.append({**base, "mark": {"type": "text", "fontSize": size, "fontWeight": weight, "font": FONT,
                                        "stroke": "#FFFFFF", "strokeWidth": 5, "strokeOpacity": 0.9}})
        layers.append({**base, "mark": {"type": "text", "fontSize": size, "fontWeight": weight, "font": FONT,
                                        "fill": "#111111"}})
    return _spec({"layer": layers}, width, height)


def to_png(spec: dict, scale: float = 2.0) -> bytes:
    """Render ``spec`` to PNG offline (vl-convert, with the Noto CJK fonts registered when present)."""
    import vl_convert as vlc

    _register_fonts(vlc)
    return vlc.vegalite_to_png(spec, scale=scale)


_FONTS_DONE = False
FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto")


def _register_fonts(vlc) -> None:
    global _FONTS_DONE
    if _FONTS_DONE:
        return
    import os

    for d in FONT_DIRS:
        if os.path.isdir(d):
            vlc.register_font_directory(d)
    _FONTS_DONE = True
