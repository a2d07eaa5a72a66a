"""Charts in one style: Altair (rendered locally, no web assets), large labels, CVD-safe colours.

Every chart is shown with its numbers: ``with_table`` puts the data table in a
tab beside the chart, with Chinese column names and units.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

import altair as alt
import pandas as pd
import streamlit as st
from altair.utils import schemapi

from data_access.report.palette import CATEGORICAL
from ..shell.theme import FONT_STACK
from ..tables import dataframe

LABEL_SIZE = 15
TITLE_SIZE = 17
INK = "#1A1A1A"  # axis and legend text: near-black (Streamlit's chart theme greys them, #808495)
PRESENT_MIN_TEXT = 18  # presentation mode (laid out for 720 px, zoomed with the window): 1/40 of its height
# The projector's bar charts (1280×720 layout): at most 6 bars each in two columns, tall enough for a label at
# the wall's text size, with no axis (the figures stand at the bars' ends); the frame is the legend and padding.
PRESENT_BAR_ROWS, _PRESENT_BAR_STEP, _PRESENT_BAR_FRAME, _PRESENT_BAR_PADDING = 6, 30, 56, 16


def present_bars_height(*bar_counts: int, legend: bool = True) -> int:
    """One height for the projector's bar charts in a row: the most bars of any (4 at least) at one step each."""
    return (_PRESENT_BAR_FRAME if legend else _PRESENT_BAR_PADDING) + _PRESENT_BAR_STEP * max((*bar_counts, 4))
PRESENT_TEXT_SCALE = 1.25
_FONT_KEYS = {"fontSize", "labelFontSize", "titleFontSize", "size"}


# Altair validates every schema object against the Vega-Lite JSON schema as it is made (its "debug mode"):
# a third of the time spent building a chart, on every rerun, for a check that only ever fails on a
# malformed spec (the page and chart tests build every chart; ``st.altair_chart`` skips its own validation,
# ``unvalidated`` below). The spec produced is the same. Process-wide, set once on import.
schemapi.disable_debug_mode()

_KEPT: OrderedDict = OrderedDict()
_KEPT_MAX = 256
_KEPT_LOCK = threading.Lock()


def _signature_part(value):
    if isinstance(value, pd.DataFrame):
        return ("df", tuple(value.columns), tuple(map(str, value.dtypes)),
                value.to_json(orient="split", date_format="iso"))
    if isinstance(value, (list, tuple)):
        return tuple(_signature_part(v) for v in value)
    return repr(value)


def kept(build):
    """Decorator for a function that builds an Altair chart from DataFrames and plain values: the chart
    is built once per distinct input and shared by later runs and sessions (building one costs
    0.03–0.1 s of Altair object work; a warm page redraws the same charts). Charts are not changed
    after building (``style`` works on a copy), so sharing them is safe."""
    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        key = (build.__module__, build.__qualname__, _signature_part(args),
               tuple(sorted((k, _signature_part(v)) for k, v in kwargs.items())))
        with _KEPT_LOCK:
            chart = _KEPT.get(key)
            if chart is not None:
                _KEPT.move_to_end(key)
                return chart
        chart = build(*args, **kwargs)
        with _KEPT_LOCK:
            _KEPT[key] = chart
            while len(_KEPT) > _KEPT_MAX:
                _KEPT.popitem(last=False)
        return chart
    return wrapper


def unvalidated(chart):
    """``chart`` whose ``to_dict`` (called by ``st.altair_chart``) skips Altair's JSON-schema validation.

    Validation only raises on a malformed spec (the page and chart tests build every chart), and it is
    most of the time a page spends drawing: ~0.15 s per chart, over a second on the causes page.
    The spec produced is the same.
    """
    object.__setattr__(chart, "to_dict", functools.partial(type(chart).to_dict, chart, validate=False))
    return chart


def _config_parts() -> dict:
    return {
        "axis": alt.AxisConfig(labelFontSize=LABEL_SIZE, titleFontSize=TITLE_SIZE, labelFont=FONT_STACK,
                               titleFont=FONT_STACK, labelLimit=220, labelColor=INK, titleColor=INK),
        "legend": alt.LegendConfig(labelFontSize=LABEL_SIZE, titleFontSize=TITLE_SIZE, labelFont=FONT_STACK,
                                   titleFont=FONT_STACK, orient="bottom", labelColor=INK, titleColor=INK),
        "title": alt.TitleConfig(fontSize=TITLE_SIZE + 2, font=FONT_STACK, anchor="start", color=INK),
        "view": alt.ViewConfig(strokeWidth=0),
        "range": alt.RangeConfig(category=CATEGORICAL),
    }


def for_the_wall(spec):
    """A chart spec for presentation mode: every text size 1.25 times as large and at least
    ``PRESENT_MIN_TEXT`` px (the screen is zoomed with the window, so text stays ≥ 1/40 of its height)."""
    if isinstance(spec, dict):
        out = {}
        for key, value in spec.items():
            if key in _FONT_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool) \
                    and (key != "size" or spec.get("type") == "text"):
                out[key] = max(PRESENT_MIN_TEXT, round(value * PRESENT_TEXT_SCALE))
            else:
                out[key] = for_the_wall(value)
        return out
    if isinstance(spec, list):
        return [for_the_wall(v) for v in spec]
    return spec


def _presenting() -> bool:
    from ..context import CONTEXT_KEY

    ctx = st.session_state.get(CONTEXT_KEY)  # None: no page context (a chart built in a unit test)
    return bool(getattr(ctx, "present", False))


def _on_the_wall(chart):
    """``chart`` whose spec is ``for_the_wall``'s."""
    plain = chart.to_dict

    def to_dict(*args, **kwargs):
        return for_the_wall(plain(*args, **kwargs))

    object.__setattr__(chart, "to_dict", to_dict)
    return chart


def style(chart: alt.Chart, height: int = 320) -> alt.Chart:
    """Height and the shared look; the same spec as chaining ``configure_axis/legend/title/view/range``
    (each of which deep-copies the whole chart: 0.1 s per chart on a layered one). In presentation mode
    the text is larger (``for_the_wall``)."""
    memo = chart.__dict__.get("_styled")  # charts kept between runs (matrix.heatmap) are styled once
    present = _presenting()
    if memo is not None and (height, present) in memo:
        return memo[(height, present)]
    out = chart.properties(height=height)
    config = alt.Config() if out.config is alt.Undefined else out.config.copy(deep=False)
    for key, part in _config_parts().items():
        config[key] = part
    if present:  # larger labels: an axis drops those that would touch (every other year...), never overlaps
        for key in ("axisX", "axisY"):
            config[key] = alt.AxisConfig(labelOverlap="greedy", labelSeparation=6)
    out.config = config
    out = unvalidated(out)
    if present:
        out = _on_the_wall(out)
    if memo is None:
        memo = {}
        object.__setattr__(chart, "_styled", memo)
    memo[(height, present)] = out
    return out


def with_table(chart: alt.Chart | None, table: pd.DataFrame, key: str, *, height: int = 320,
               on_select: str | None = None, selection_mode=None):
    """Draw ``chart`` with a 数据表 tab holding ``table`` (already renamed to Chinese headers with units).

    Returns the selection state when ``on_select="rerun"`` is given, else None.
    """
    tab_chart, tab_table = st.tabs(["图表", "数据表"])
    event = None
    with tab_chart:
        if chart is not None:
            kwargs = {"on_select": on_select, "selection_mode": selection_mode} if on_select else {}
            event = st.altair_chart(style(chart, height), width="stretch", key=key, **kwargs)
    with tab_table:
        dataframe(table, hide_index=True, width="stretch")
    return event
