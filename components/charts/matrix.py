"""A clickable heat-map matrix (rows × columns, colour = share, text = count) with its data table."""

from __future__ import annotations

import threading
from collections import OrderedDict

import altair as alt
import pandas as pd

from .style import with_table
from data_access.report.palette import SEQUENTIAL
from ..shell.theme import FONT_STACK

SELECTION = "cell"


def heatmap(df: pd.DataFrame, *, x: str, y: str, count: str, share: str, x_title: str, y_title: str,
            count_title: str, share_title: str, x_order: list, y_order: list, table: pd.DataFrame,
            key: str, height: int | None = None, x_angle: int = 0, fields: list[str] | None = None,
            tooltip_extra: list | None = None, text_fn=None, share_format: str = ".1f") -> dict | None:
    """Draw the matrix with a 数据表 tab; returns the clicked cell's ``fields`` values, or None.

    ``df`` is long (one row per cell); ``share`` colours the cell (0–100 %), ``count`` is written in it
    (through ``text_fn`` when given).
    """
    fields = fields or [x, y]
    data = df.copy()
    data["_label"] = [text_fn(v) if text_fn else f"{int(v):,}" for v in data[count]]
    signature = (data.to_json(orient="split", date_format="iso"), x, y, count, share, x_title, y_title,
                 count_title, share_title, tuple(map(str, x_order)), tuple(map(str, y_order)), x_angle,
                 tuple(fields), repr(tooltip_extra), share_format)
    with _BUILT_LOCK:
        chart = _BUILT.get(signature)
        if chart is not None:
            _BUILT.move_to_end(signature)
    if chart is None:
        chart = _build(data, x=x, y=y, count=count, share=share, x_title=x_title, y_title=y_title,
                       count_title=count_title, share_title=share_title, x_order=x_order, y_order=y_order,
                       x_angle=x_angle, fields=fields, tooltip_extra=tooltip_extra, share_format=share_format)
        with _BUILT_LOCK:
            _BUILT[signature] = chart
            while len(_BUILT) > _BUILT_MAX:
                _BUILT.popitem(last=False)
    rows = max(len(y_order), 1)
    # Streamlit fits the whole chart (axis labels and legend included) into the height.
    chart_height = height or 38 * rows + 150 + (50 if x_angle else 0)
    event = with_table(chart, table, key, height=chart_height, on_select="rerun")
    return selected(event)


# Built charts by their full input (data and options): building one costs ~0.05 s of Altair object
# work, and a warm page redraws the same matrices. Charts are never changed after building (``style``
# works on a copy), so sharing them between runs and sessions is safe.
_BUILT: OrderedDict = OrderedDict()
_BUILT_MAX = 256
_BUILT_LOCK = threading.Lock()


def _build(data, *, x, y, count, share, x_title, y_title, count_title, share_title, x_order, y_order,
           x_angle, fields, tooltip_extra, share_format):
    picked = alt.selection_point(name=SELECTION, fields=fields, on="click", empty=False)
    base = alt.Chart(data).encode(
        x=alt.X(f"{x}:N", sort=x_order, title=x_title,
                axis=alt.Axis(labelAngle=x_angle, orient="top", labelLimit=160, labelOverlap=False)),
        y=alt.Y(f"{y}:N", sort=y_order, title=y_title, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
    )
    top = max(float(data[share].max() or 0), 1.0)
    rect = base.mark_rect(stroke="#FFFFFF", strokeWidth=1.5).encode(
        color=alt.Color(f"{share}:Q", title=share_title, scale=alt.Scale(range=SEQUENTIAL, domain=[0, top]),
                        legend=alt.Legend(orient="bottom", gradientLength=260)),
        opacity=alt.condition(picked, alt.value(1.0), alt.value(0.85)),
        tooltip=[alt.Tooltip(f"{y}:N", title=y_title), alt.Tooltip(f"{x}:N", title=x_title),
                 alt.Tooltip(f"{count}:Q", title=count_title, format=","),
                 alt.Tooltip(f"{share}:Q", title=share_title, format=share_format)] + (tooltip_extra or []),
    ).add_params(picked)
    text = base.mark_text(fontSize=15, font=FONT_STACK).encode(
        text="_label:N",
        color=alt.condition(alt.datum[share] > top * 0.55, alt.value("#FFFFFF"), alt.value("#1A1A1A")),
    )
    return rect + text


def selected(event) -> dict | None:
    """The first selected point of a chart event (``SELECTION`` or any other named selection)."""
    if not event:
        return None
    selection = getattr(event, "selection", None) or (event.get("selection") if isinstance(event, dict) else None)
    if not selection:
        return None
    for points in selection.values():
        if isinstance(points, list) and points:
            return dict(points[0])
    return None
