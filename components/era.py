"""The overview for 2021 onward (巩固衔接): the era's headline cards, the note on 贫困发生率, and its two charts
(监测对象 by kind; 脱贫户年人均纯收入 by year). Figures from ``queries.consolidation``, words from
``report.era``; the campaign years keep the overview as it was."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from data_access.queries import consolidation
from data_access.report import era as words
from data_access.report.palette import BAD, GOOD

from .charts.style import style, with_table
from .context import PageContext
from .data import engine, fetch
from .figures import tiles
from .kpi import Kpi, show


def headline(ctx: PageContext) -> dict:
    """The 2021– headline, each figure through the page cache (shared with the 讲话要点 and the 会议材料)."""
    return words.headline(engine(ctx), ctx.scope, ctx.year, fetcher=lambda fn, *args: fetch(fn, ctx, *args))


def cards(head: dict, cutoff: str | None = None) -> list[Kpi]:
    return [Kpi(label, value, delta, help=tip, up_is_good=good)
            for label, value, delta, tip, good in words.cards(head, cutoff)]


def kind_cards(head: dict, cutoff: str | None = None) -> list[Kpi]:
    """One card per monitoring kind (the deployment's own kinds, e.g. 即时帮扶, included)."""
    at = cutoff or f"{head['year']}年底"
    return [Kpi(f"{k['label']}({k['households']:,}户)", f"{k['persons']:,}人",
                help=f"截至{at}识别的{k['label']},其中风险未消除 {k['at_risk_households']:,} 户。")
            for k in words.kinds_list(head)]


def show_headline(ctx: PageContext, head: dict) -> None:
    """The cards (two rows of five on the projector, then the kinds in one line), and the note saying why
    there is no 贫困发生率 after 2020."""
    if ctx.present:  # 1280×720: the tiles, the kinds in one line and the note; the charts are in the normal view
        present_tiles(head)
        kinds = ";".join(f"{k['label']} {k['households']:,}户 / {k['persons']:,}人" for k in words.kinds_list(head))
        st.markdown(f"**监测对象按类型:** {kinds}")
        st.caption(words.NO_INCIDENCE_SHORT)
        return
    show(cards(head, ctx.year_end), per_row=5)
    show(kind_cards(head, ctx.year_end), per_row=5)
    st.caption(f"脱贫人口为{ctx.year_end}已脱贫的建档立卡户(不含其后返贫),监测对象为截至{ctx.year_end}识别的。"
               + ("" if head["policy"]["marked"] else words.policy_note(head["policy"], ctx.year)))
    st.caption(words.NO_INCIDENCE_NOTE)
    if head["returned_outside"] and not ctx.present:
        st.warning(f"有 {head['returned_outside']:,} 户2020年后返贫而未纳入防返贫监测(数据问题),"
                   "见“防返贫监测”页的数据问题清单。")


def present_tiles(head: dict) -> None:
    """The projector's headline: the eight figures of the slide (``report.era.slide_figures``) as tiles."""
    tiles(words.slide_figures(head), per_row=4)


def charts(ctx: PageContext, head: dict, height: int) -> None:
    """监测对象 by kind (风险已消除 / 未消除) and 脱贫户年人均纯收入 2021– by income year."""
    left, right = st.columns(2)
    kinds = pd.DataFrame(words.kinds_list(head))
    with left:
        st.markdown("**监测对象按类型(户)**")
        long = pd.concat([
            pd.DataFrame({"类型": kinds["label"], "状态": "风险未消除", "户数": kinds["at_risk_households"]}),
            pd.DataFrame({"类型": kinds["label"], "状态": "风险已消除",
                          "户数": kinds["households"] - kinds["at_risk_households"]}),
        ])
        chart = alt.Chart(long).mark_bar(size=34).encode(
            x=alt.X("类型:N", title=None, sort=list(kinds["label"]), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("户数:Q", title="户", stack=True),
            color=alt.Color("状态:N", scale=alt.Scale(domain=["风险未消除", "风险已消除"], range=[BAD, GOOD]),
                            legend=alt.Legend(orient="right", title=None)),
            order=alt.Order("状态:N", sort="descending"),
            tooltip=["类型", "状态", alt.Tooltip("户数:Q", format=",")])
        table = kinds.rename(columns={"label": "类型", "households": "监测对象(户)", "persons": "监测对象(人)",
                                      "at_risk_households": "风险未消除(户)"})
        _block(ctx, chart, table, "ov-era-kinds", height)
    with right:
        series = fetch(consolidation.income_series, ctx, 2020, ctx.year)
        st.markdown("**脱贫户年人均纯收入(元)**")
        if series.empty:
            st.info("没有脱贫户收入数据。")
            return
        data = pd.DataFrame({"年度": series["year"].astype(str), "人均纯收入": series["average"].round(0),
                             "选中": series["year"] == head["income"]["year"]})
        base = alt.Chart(data).encode(x=alt.X("年度:N", title=None, axis=alt.Axis(labelAngle=0)),
                                      y=alt.Y("人均纯收入:Q", title="元"))
        chart = base.mark_bar(color=GOOD, size=26).encode(
            opacity=alt.condition("datum.选中", alt.value(1.0), alt.value(0.55)),
            tooltip=["年度", alt.Tooltip("人均纯收入:Q", format=",.0f")]) + base.mark_text(
            dy=-10, fontSize=14, color="#333333").encode(text=alt.Text("人均纯收入:Q", format=",.0f"))
        table = pd.DataFrame({"年度": series["year"], "脱贫户(户)": series["households"],
                              "人数(人)": series["persons"],
                              "人均纯收入(元)": [words.yuan(v) for v in series["average"]],
                              "增长(%)": series["growth_pct"]})
        _block(ctx, chart, table, "ov-era-income", height)
    if not ctx.present:
        st.caption("人均纯收入 = 当年已脱贫户家庭纯收入合计 ÷ 人数;收入按年度登记,当年数据在次年录入。")


def _block(ctx: PageContext, chart, table, key: str, height: int) -> None:
    if ctx.present:
        st.altair_chart(style(chart, height), width="stretch", key=key)
    else:
        with_table(chart, table, key=key, height=height)
