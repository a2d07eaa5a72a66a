"""总览: the chosen region at a glance: headline figures, exits against targets, incidence, laggards."""

import altair as alt
import pandas as pd
import streamlit as st

from data_access.report import formatting as fmt
from data_access.report import money as amounts
from components import era, first_paint, widgets
from components.brief import meeting_section
from components.talking_points import panel as talking_points_panel
from components.charts.style import style, with_table
from components.context import current
from components.data import fetch
from components.kpi import Kpi, show
from components.charts.ranking import child_label as ranking_label
from components.charts.ranking import child_ranking, indicator_choice
from data_access.report.palette import BAD, GOOD
from data_access.queries import common, funds, monitoring, overview
from data_access.codes import is_consolidation_year
from data_access.definitions import definition, funds_rate_label
from components.safe import md

ctx = current()
if not ctx.present:
    widgets.region_path(ctx)

now = fetch(overview.headline, ctx, ctx.year)
before = fetch(overview.headline, ctx, ctx.year - 1) if ctx.year > ctx.first_year else None


def change(key):
    """The change from the year before; none shown when nothing changed (a "+0" reads as a rise)."""
    if before is None or now[key] == before[key]:
        return None
    return fmt.signed(now[key] - before[key])


money = fetch(funds.totals, ctx, ctx.year)
watch = fetch(monitoring.totals, ctx, ctx.year)
unit, _ = amounts.money_unit([money["allocated"] or money["arranged"]])
base_label = "下达" if money["base"] == "allocated" else "安排"
incidence_change = (fmt.signed(now["incidence"] - before["incidence"], 2)
                    if before and before["incidence"] is not None and now["incidence"] is not None
                    and now["incidence"] != before["incidence"] else None)

cards = [
    Kpi("建档立卡户数(户)", fmt.count(now["registered_households"]), change("registered_households"),
        help=definition("建档立卡户数")),
    Kpi("建档立卡人数(人)", fmt.count(now["registered_persons"]), change("registered_persons"),
        help=definition("建档立卡人数")),
    Kpi("已脱贫户数(户)", fmt.count(now["exited_households"]), change("exited_households"), help=definition("已脱贫")),
    Kpi("已脱贫人数(人)", fmt.count(now["exited_persons"]), change("exited_persons"), help=definition("已脱贫")),
    Kpi("未脱贫户数(户)", fmt.count(now["not_exited_households"]), change("not_exited_households"), up_is_good=False,
        help=definition("未脱贫")),
    Kpi("未脱贫人数(人)", fmt.count(now["not_exited_persons"]), change("not_exited_persons"), up_is_good=False,
        help=definition("未脱贫")),
    Kpi("返贫户数(户)", fmt.count(now["returned_households"]), change("returned_households"), up_is_good=False,
        help=definition("返贫")),
    Kpi("贫困发生率(%)", fmt.percent(now["incidence"]), incidence_change, up_is_good=False,
        help=definition("贫困发生率")),
    Kpi("贫困村(个)", fmt.count(now["poor_villages"])),
    Kpi("已出列贫困村(个)", fmt.count(now["poor_villages_exited"]), change("poor_villages_exited"),
        help=definition("已出列贫困村")),
    Kpi(f"资金{base_label}({unit})", fmt.money(money["allocated"] if money["base"] == "allocated"
                                             else money["arranged"], unit).replace(f" {unit}", "")),
    Kpi(funds_rate_label("拨付率", money["base"]), fmt.percent(money["paid_rate"]), help=definition("拨付率")),
    Kpi(funds_rate_label("支出进度", money["base"]), fmt.percent(money["spent_rate"]), help=definition("支出进度")),
    Kpi("监测对象(户)", fmt.count(watch["households"]), help=definition("监测对象")),
    Kpi("监测对象(人)", fmt.count(watch["persons"]), help=definition("监测对象")),
    Kpi("风险消除率(%)", fmt.percent(watch["removal_rate"]),
        help=f"{definition('风险消除率')}已消除风险 {fmt.count(watch['removed_households'])} 户 ÷ "
             f"监测对象 {fmt.count(watch['households'])} 户。"),
]
ERA = is_consolidation_year(ctx.year)  # 2021 onward: the 巩固衔接 headline (components.era), no 贫困发生率


def era_overview():
    """The overview's headline and charts for 2021 onward (the campaign years below are unchanged)."""
    head = era.headline(ctx)
    era.show_headline(ctx, head)
    first_paint.headline_shown()
    if not ctx.present:
        show([c for c in cards if c.label.startswith(("资金", "拨付率", "支出进度"))])
        st.caption(f"资金:{ctx.year}年{'下达到本范围' if money['base'] == 'allocated' else '安排到本范围项目'}的资金,"
                   f"拨付率 = 拨付 ÷ {base_label},支出进度 = 支出 ÷ {base_label}(含以后年度的拨付、支出)。")
        talking_points_panel(ctx)
    if not ctx.present:  # the projector screen holds the headline alone (components.era.show_headline)
        era.charts(ctx, head, 300)


if ERA:
    era_overview()
elif ctx.present:  # a projector screen: the four figures leaders quote first, then the two curves
    picks = ("建档立卡人数(人)", "已脱贫人数(人)", "未脱贫人数(人)", "贫困发生率(%)")
    show([c for c in cards if c.label in picks])
    first_paint.headline_shown()
else:
    show(cards)
    first_paint.headline_shown()
    st.caption(f"资金:{ctx.year}年{'下达到本范围' if money['base'] == 'allocated' else '安排到本范围项目'}的资金,"
               f"拨付率 = 拨付 ÷ {base_label},支出进度 = 支出 ÷ {base_label}(含以后年度的拨付、支出)。"
               + (f"以安排为基数(与乡镇、村可比):拨付率 {fmt.percent(money['paid_rate_arranged'])},"
                  f"支出进度 {fmt.percent(money['spent_rate_arranged'])}。" if money["base"] == "allocated" else "")
               + f"监测对象为截至{ctx.year_end}识别的。")
    talking_points_panel(ctx)



def chart_block(chart, table, key, height):
    """The chart with its table in a tab; on the projector the chart alone (the table is one click away
    in the normal view)."""
    if ctx.present:
        st.altair_chart(style(chart, height), width="stretch", key=key)
    else:
        with_table(chart, table, key=key, height=height)


# ---- exits against the yearly targets, and the incidence curve ---------------------------------


def campaign_charts():
    """Exits against the yearly targets and the incidence curve (2014–2020 views)."""
    years = fetch(common.yearly, ctx, ctx.first_year, ctx.last_year)
    chart_height = 190 if ctx.present else 300
    left, right = st.columns(2)
    with left:
        per = widgets.choice("per", "脱贫与年度任务", {"hh": "按户", "p": "按人"}, "hh",
                             label_visibility="collapsed") if not ctx.present else "p"
        noun = "户" if per == "hh" else "人"
        done_col, goal_col = ("exited_households", "target_households") if per == "hh" else \
            ("exited_persons", "target_persons")
        st.markdown(f"**历年脱贫{noun}数与年度减贫任务({noun})**")
        bars = pd.DataFrame({
            "年度": years["year"].astype(str), "实际脱贫": years[done_col],
            "年度任务": pd.to_numeric(years[goal_col], errors="coerce"),
            "选中": years["year"] == ctx.year,
        })
        x = alt.X("年度:N", title=None, axis=alt.Axis(labelAngle=0))
        bar = alt.Chart(bars).mark_bar(color=GOOD, size=22).encode(
            x=x, y=alt.Y("实际脱贫:Q", title=noun),
            opacity=alt.condition("datum.选中", alt.value(1.0), alt.value(0.55)),
            tooltip=["年度", alt.Tooltip("实际脱贫:Q", format=","), alt.Tooltip("年度任务:Q", format=",")])
        goal = alt.Chart(bars).transform_filter("isValid(datum.年度任务)").mark_tick(
            color="#000000", thickness=3, size=34).encode(x=x, y="年度任务:Q",
                                                          tooltip=["年度", alt.Tooltip("年度任务:Q", format=",")])
        table = pd.DataFrame({
            "年度": years["year"], "脱贫户数(户)": years["exited_households"],
            "任务户数(户)": years["target_households"],
            "完成率·户(%)": years["target_pct_households"], "脱贫人数(人)": years["exited_persons"],
            "任务人数(人)": years["target_persons"], "完成率·人(%)": years["target_pct_persons"],
        })
        chart_block(alt.layer(bar, goal), table, "ov-exits", chart_height)
        if not ctx.present:
            st.caption("柱为当年实际脱贫,黑色短横为年度减贫任务;深色柱为所选年度。")
    with right:
        st.markdown("**贫困发生率(%)**")
        curve = pd.DataFrame({"年度": years["year"].astype(str), "贫困发生率": years["incidence"],
                              "选中": years["year"] == ctx.year})
        base = alt.Chart(curve).encode(x=alt.X("年度:N", title=None, axis=alt.Axis(labelAngle=0)),
                                       y=alt.Y("贫困发生率:Q", title="%"))
        line = base.mark_line(color=BAD, strokeWidth=3) + base.mark_point(filled=True, size=70, color=BAD).encode(
            size=alt.condition("datum.选中", alt.value(220), alt.value(70)),
            tooltip=["年度", alt.Tooltip("贫困发生率:Q", format=".2f")])
        labels = base.mark_text(dy=-14, fontSize=14, color="#333333").encode(
            text=alt.Text("贫困发生率:Q", format=".2f"))
        table = pd.DataFrame({"年度": years["year"], "年末贫困人口(人)": years["poor_persons"],
                              "农村户籍人口(人)": years["rural_population"], "贫困发生率(%)": years["incidence"]})
        chart_block(line + labels, table, "ov-incidence", chart_height)
        if not ctx.present:
            st.caption(f"贫困发生率:{definition('贫困发生率')}")


if not ERA:
    campaign_charts()

# ---- the child regions ranked: the laggards stand out -----------------------------------------
if ctx.present:
    st.stop()
if ctx.scope.child_level is None:
    st.markdown(f"**{md(ctx.region_name)}** 是行政村,下面没有下级区划可排名。")
    widgets.link("village", f"打开{ctx.region_name}村档案 ›", region=ctx.scope.code)
    meeting_section(ctx)
    st.stop()

st.markdown(f"#### 各{ranking_label(ctx)}排名")
rank = indicator_choice(ctx, "rank", "排名指标", label_visibility="collapsed")
child_ranking(ctx, rank, key=f"ov-rank-{ctx.scope.code}-{rank}")

# ---- 会议材料: the 基本情况 paragraph, .docx/.txt and the slides -----------------------------------
meeting_section(ctx)
