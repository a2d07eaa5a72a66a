"""Charts in one style: Altair (rendered locally, no web assets), large labels, CVD-safe colours.

Every chart is shown with its numbers: ``with_table`` puts the data table in a
tab beside the chart, with Chinese column names and units.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from .theme import CATEGORICAL, FONT_STACK

LABEL_SIZE = 15
TITLE_SIZE = 17


def style(chart: alt.Chart, height: int = 320) -> alt.Chart:
    return (
        chart.properties(height=height)
        .configure_axis(labelFontSize=LABEL_SIZE, titleFontSize=TITLE_SIZE, labelFont=FONT_STACK,
                        titleFont=FONT_STACK, labelLimit=220)
        .configure_legend(labelFontSize=LABEL_SIZE, titleFontSize=TITLE_SIZE, labelFont=FONT_STACK,
                          titleFont=FONT_STACK, orient="bottom")
        .configure_title(fontSize=TITLE_SIZE + 2, font=FONT_STACK, anchor="start")
        .configure_view(strokeWidth=0)
        .configure_range(category=CATEGORICAL)
    )


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
        st.dataframe(table, hide_index=True, width="stretch")
    return event
