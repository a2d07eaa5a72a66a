"""The child regions of the scope ranked on one indicator (the laggards in red); a click drills down."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from data_access.codes import REGION_LEVEL_LABELS, is_consolidation_year
from data_access.queries import villages
from data_access.queries.villages import INDICATORS

from .style import kept, present_bars_height, with_table
from .. import widgets
from ..widgets import drill
from ..context import PageContext
from ..data import fetch
from data_access.report.palette import BAD, NEUTRAL


def child_label(ctx: PageContext) -> str:
    return REGION_LEVEL_LABELS.get(ctx.scope.child_level, "下级区划")


def indicator_choice(ctx: PageContext, param: str, label: str, *, show: bool = True,
                     label_visibility: str = "visible", select: bool = False) -> str:
    """The map's / ranking's indicator, kept in ``?param=``: the year's list (``villages.indicators_for``).
    A campaign indicator (贫困发生率…) asked for after 2020 gets a note saying why, and the year's default."""
    offered = villages.indicators_for(ctx.year)
    default = villages.default_indicator(ctx.year)
    raw = str(st.query_params.get(param) or "").strip()
    old = raw in INDICATORS and raw not in offered
    if old:
        instead = villages.indicator_label(default, ctx.year, ctx.as_of)
        st.info(f"“{INDICATORS[raw][0]}”是2014–2020年脱贫攻坚期的指标,{ctx.year}年不再统计"
                f"(2021年起返贫致贫风险纳入防返贫监测),已改用“{instead}”。" if is_consolidation_year(ctx.year) else
                f"“{INDICATORS[raw][0]}”是2021年起的指标,{ctx.year}年没有,已改用“{instead}”。")
    options = {k: villages.indicator_label(k, ctx.year, ctx.as_of) for k in offered}
    return widgets.choice(param, label, options, default, show=show, warn=not old,
                          label_visibility=label_visibility, select=select)


# The projector's ranking: one screen holds this many bars with every name at the wall's text size (the rest:
# 数据表). An axis would drop every other name (labelOverlap) and take the room of three bars.
PRESENT_RANK_ROWS = 8


def _room_for_ends(values: pd.Series) -> float:
    """The scale's end without an axis: an eighth beyond the longest bar, for the figure at its end."""
    top = values.max()
    return float(top) * 1.125 if pd.notna(top) and top > 0 else 1.0


@kept
def _ranking_chart(chart_df: pd.DataFrame, kid_label: str, label: str, shown_unit: str, fmt_value: str,
                   axis: bool = True):
    """The bars with their values; built once per distinct table (a warm page redraws the same chart).
    Without ``axis`` (the projector) the values at the bars' ends say it all."""
    pick = alt.selection_point(name="pick", fields=["code"], on="click", clear=False, empty=False)
    bars = alt.Chart(chart_df).encode(
        y=alt.Y(f"{kid_label}:N", sort=list(chart_df[kid_label]), title=None,
                axis=alt.Undefined if axis else alt.Axis(labelOverlap=False)),
        x=alt.X("数值:Q", title=f"{label}({shown_unit})", axis=alt.Undefined if axis else None,
                scale=alt.Undefined if axis else alt.Scale(domain=[0, _room_for_ends(chart_df["数值"])])),
    )
    return (bars.mark_bar(cursor="pointer").encode(
        color=alt.Color("关注:N", scale=alt.Scale(domain=["需关注", "其他"], range=[BAD, NEUTRAL]), legend=None),
        tooltip=[alt.Tooltip(f"{kid_label}:N"),
                 alt.Tooltip("数值:Q", title=f"{label}({shown_unit})", format=fmt_value)],
    ).add_params(pick) + bars.mark_text(align="left", dx=4, fontSize=14).encode(
        text=alt.Text("数值:Q", format=fmt_value)))


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
    shown = chart_df.head(PRESENT_RANK_ROWS) if ctx.present else chart_df
    chart = _ranking_chart(shown, kid_label, label, shown_unit, fmt_value, axis=not ctx.present)
    head = {"位次": ranked["位次"], kid_label: ranked["name"], "区划代码": ranked["code"],
            f"{label}({shown_unit})": ranked["value"], "建档立卡人数(人)": ranked["registered_persons"]}
    if is_consolidation_year(ctx.year):  # no campaign figures after 2020
        era = {"监测对象(户)": ranked["monitoring_households"], "风险未消除监测户(户)": ranked["monitoring_at_risk"],
               "本年新识别监测户(户)": ranked["monitoring_new"], "监测对象占比(%)": ranked["monitoring_share"],
               "衔接资金安排(万元)": ranked["linkage_arranged"]}
    else:
        era = {"未脱贫人数(人)": ranked["not_exited_persons"], "贫困发生率(%)": ranked["incidence"],
               "脱贫进度(%)": ranked["exit_progress"], "风险未消除监测户(户)": ranked["monitoring_at_risk"]}
    tail = {f"{visit_rate}(%)": ranked["visit_rate"], "逾期项目(个)": ranked["late_projects"]}
    table = pd.DataFrame({**head, **{k: v for k, v in era.items() if k not in head}, **tail})
    height = present_bars_height(len(shown), legend=False) if ctx.present else max(160, 30 * len(chart_df) + 30)
    event = with_table(chart, table, key=key, height=height, on_select="rerun", selection_mode=["pick"])
    click = "村可打开村档案" if ctx.scope.child_level == "village" else f"{kid_label}可进入该{kid_label}"
    part = f"图中为前 {len(shown)} 个(共 {len(chart_df)} 个,见数据表);" if len(shown) < len(chart_df) else ""
    st.caption(f"红色为{label}最{'高' if higher_is_worse else '低'}的三个{kid_label};{part}点击{click}。")
    if event:
        chosen = (event.get("selection") or {}).get("pick") or []
        drill(next((c.get("code") for c in chosen if isinstance(c, dict)), None))
