"""The child regions of the scope ranked on one indicator (the laggards in red); a click drills down."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from data_access.codes import REGION_LEVEL_LABELS
from data_access.queries import villages
from data_access.queries.villages import INDICATORS

from .style import with_table
from ..widgets import drill
from ..context import PageContext
from ..data import fetch
from data_access.report.palette import BAD, NEUTRAL


def child_label(ctx: PageContext) -> str:
    return REGION_LEVEL_LABELS.get(ctx.scope.child_level, "下级区划")


def child_ranking(ctx: PageContext, rank: str, key: str) -> None:
    """Bars of ``INDICATORS[rank]`` for each child region (villages.child_indicators) with a 数据表 tab."""
    _, unit_text, higher_is_worse, digits = INDICATORS[rank]
    label = villages.indicator_label(rank, ctx.year, ctx.as_of)
    visit_rate = villages.indicator_label("visit_rate", ctx.year, ctx.as_of)
    kid_label = child_label(ctx)
    kids = fetch(villages.child_indicators, ctx, ctx.year, ctx.as_of)
    ranked = kids.assign(value=kids[rank]).sort_values(
        ["value", "code"], ascending=[not higher_is_worse, True], na_position="last").reset_index(drop=True)
    ranked["位次"] = range(1, len(ranked) + 1)
    flag = ranked["value"].notna() & (ranked["位次"] <= 3) & (ranked["value"].nunique() > 1)
    ranked["关注"] = ["需关注" if f else "其他" for f in flag]
    fmt_value = ".2f" if digits == 2 else ",.0f"
    shown_unit = "%" if unit_text == "%" else unit_text
    chart_df = ranked[["code", "name", "value", "关注"]].rename(columns={"name": kid_label})
    chart_df["数值"] = chart_df["value"]
    pick = alt.selection_point(name="pick", fields=["code"], on="click", clear=False, empty=False)
    bars = alt.Chart(chart_df).encode(
        y=alt.Y(f"{kid_label}:N", sort=list(chart_df[kid_label]), title=None),
        x=alt.X("数值:Q", title=f"{label}({shown_unit})"),
    )
    chart = (bars.mark_bar(cursor="pointer").encode(
        color=alt.Color("关注:N", scale=alt.Scale(domain=["需关注", "其他"], range=[BAD, NEUTRAL]), legend=None),
        tooltip=[alt.Tooltip(f"{kid_label}:N"),
                 alt.Tooltip("数值:Q", title=f"{label}({shown_unit})", format=fmt_value)],
    ).add_params(pick) + bars.mark_text(align="left", dx=4, fontSize=14).encode(
        text=alt.Text("数值:Q", format=fmt_value)))
    table = pd.DataFrame({
        "位次": ranked["位次"], kid_label: ranked["name"], "区划代码": ranked["code"],
        f"{label}({shown_unit})": ranked["value"], "建档立卡人数(人)": ranked["registered_persons"],
        "未脱贫人数(人)": ranked["not_exited_persons"], "贫困发生率(%)": ranked["incidence"],
        "脱贫进度(%)": ranked["exit_progress"], "风险未消除监测户(户)": ranked["monitoring_at_risk"],
        f"{visit_rate}(%)": ranked["visit_rate"], "逾期项目(个)": ranked["late_projects"],
    })
    event = with_table(chart, table, key=key, height=max(160, 30 * len(chart_df) + 30),
                       on_select="rerun", selection_mode=["pick"])
    click = "村可打开村档案" if ctx.scope.child_level == "village" else f"{kid_label}可进入该{kid_label}"
    st.caption(f"红色为{label}最{'高' if higher_is_worse else '低'}的三个{kid_label};点击{click}。")
    if event:
        chosen = (event.get("selection") or {}).get("pick") or []
        drill(next((c.get("code") for c in chosen if isinstance(c, dict)), None))
