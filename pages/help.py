"""帮扶力量: units and cadres, 入户率 by region and unit over time, who was not visited, help measures."""

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from data_access.report import formatting as fmt
from data_access.report import money as amounts
from components import figures, widgets
from components.charts.style import PRESENT_BAR_ROWS, PRESENT_MIN_TEXT, present_bars_height, with_table
from components.context import current
from components.data import fetch
from components.kpi import Kpi, show
from data_access.report.palette import BAD, GOOD, SEQUENTIAL
from data_access.privacy import mask_phone
from data_access.queries import help as helpq
from data_access.definitions import definition
from data_access.rules import month_end_windows, visit_period, visit_rate_label, window
from components.tables import dataframe

DAYS_DEFAULT = helpq.DEFAULT_DAYS
UNITS_SHOWN = 20
PRESENT_HALF_WIDTH = 590  # a chart in one of two columns of the 1280 px projector layout

ctx = current()
year = ctx.year
on = ctx.reference_date
as_of = ctx.as_of
days = widgets.read_number("days", DAYS_DEFAULT, 7, 730)
modes = {"recent": f"近{days}天", "year": f"{year}年全年" if year < as_of.year else f"{year}年(近12个月)"}
mode = widgets.read_choice("period", modes, "recent")
RATE = visit_rate_label(year, as_of, days if mode == "recent" else None) + "(%)"  # the label names its period

if mode == "recent":
    period = window(on, days)
    previous = window(period[0] - dt.timedelta(days=1), days)
    trend = month_end_windows(on, days)
    trend_labels = [f"{end.month}月" for _, end in trend]
    trend_text = (f"{trend[0][1].year}年{trend[0][1].month}月至{trend[-1][1].year}年{trend[-1][1].month}月,"
                  f"每个月末往前{days}天的入户率")
    prev_label = f"前{days}天"
else:
    period = visit_period(year, as_of)
    previous = visit_period(year - 1, as_of)
    first = max(ctx.first_year, year - 5)
    trend = tuple(visit_period(y, as_of) for y in range(first, year + 1))
    trend_labels = [f"{y}年" for y in range(first, year + 1)]
    trend_text = f"{first}—{year}年各年度全年入户率(数据截至的年度为截至该日的12个月)"
    prev_label = "上年"
period_text = f"{period[0]:%Y-%m-%d} 至 {period[1]:%Y-%m-%d}"

if not ctx.present:
    left, right = st.columns([2, 1])
    with left:
        widgets.choice("period", "入户率统计周期", modes, "recent", warn=False)
    with right:
        widgets.number("days", "未走访天数 N(天)", DAYS_DEFAULT, 7, 730, 15, warn=False,
                       help="“近N天”入户率与“超过N天未走访”名单都用这个天数,默认90天;改动写入链接。")
    st.caption(f"入户率 = 周期末仍在结对的帮扶户中,周期内有“入户走访”记录的户数 ÷ 结对帮扶户数。"
               f"电话联系、政策宣讲不算入户。本次周期:{period_text}。")

span = fetch(helpq.visit_span, ctx)
if span["first"] is None:
    st.warning("本范围内没有走访记录,无法计算入户率。")
elif period[1] < span["first"]:
    st.warning(f"走访记录自 {span['first']:%Y-%m-%d} 起,所选周期({period_text})之前没有记录,入户率无从计算。")

rates = fetch(helpq.visit_rates, ctx, (period, previous), "total")
now, before = rates.iloc[0], rates.iloc[1]
no_hh = fetch(helpq.households_without_visit, ctx, on, days)
no_cadre = fetch(helpq.cadres_without_visit, ctx, on, days)
rate_delta = (fmt.signed(now["visit_rate"] - before["visit_rate"], 1)
              if pd.notna(now["visit_rate"]) and pd.notna(before["visit_rate"]) else None)

if not ctx.present:
    show([
        Kpi("帮扶单位(个)", fmt.count(now["units"]), help=f"{period[1]:%Y-%m-%d} 有干部在本范围结对帮扶的单位"),
        Kpi("帮扶责任人(人)", fmt.count(now["cadres"])),
        Kpi("结对帮扶户(户)", fmt.count(now["assigned_households"])),
        Kpi("每人结对(户)", fmt.number(now["households_per_cadre"], 1),
            help="结对关系数 ÷ 帮扶责任人数"),
        Kpi(RATE, fmt.percent(now["visit_rate"]), rate_delta if mode == "year" else None,
            help=f"{definition('入户率')}{modes[mode]}:{period_text};"
                 f"{prev_label}为 {fmt.percent(before['visit_rate'])}"),
        Kpi("已入户(户)", fmt.count(now["visited_households"]), help=f"{period_text} 有入户走访的结对帮扶户"),
        Kpi(f"{days}天未入户(户)", fmt.count(no_hh["total"]), up_is_good=False,
            help=f"截至 {on:%Y-%m-%d},近{days}天没有入户走访记录的结对帮扶户"),
        Kpi("未入户干部(人)", fmt.count(no_cadre["total"]), up_is_good=False,
            help=f"截至 {on:%Y-%m-%d},近{days}天没有任何入户走访记录的帮扶责任人"),
    ])


def rate_scale(values) -> alt.Scale:
    """Low 入户率 dark (needs attention), high light."""
    lo = min([v for v in values if pd.notna(v)], default=0)
    return alt.Scale(domain=[min(lo, 99.0), 100], range=list(reversed(SEQUENTIAL)))


def picked(event, name: str, field: str = "key"):
    try:
        points = event["selection"][name]
    except (KeyError, TypeError):
        return None
    return points[0].get(field) if points else None


def text_px(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at ``size`` px (CJK a full em, Latin and digits a bit over half)."""
    return sum(size if ord(c) > 0x2E80 else 0.58 * size for c in text)


def rate_bars(df: pd.DataFrame, pick: str, label_title: str, width: float | None = None) -> alt.Chart:
    """Horizontal bars of 入户率, lowest first, with "rate%(visited/assigned)" at the end.

    ``width`` (presentation mode: the chart's width in the 1280 px layout): the scale leaves room for every
    end label at the projector's text size, so none runs past the right edge, and there is no axis (the
    figures stand at the bars' ends; the bars get its height)."""
    df = df.sort_values(["visit_rate", "key"], na_position="first")
    df = df.assign(end_text=[f"{fmt.percent(r)}({v:,}/{n:,}户)" for r, v, n in
                             zip(df["visit_rate"], df["visited_households"], df["assigned_households"])])
    top = 118.0
    if width and len(df):
        size = PRESENT_MIN_TEXT  # for_the_wall: labels at 1.25× and at least this
        plot = width - max(text_px(str(n), 20) for n in df["name"]) - 12
        for rate, text in zip(df["visit_rate"].fillna(0), df["end_text"]):
            room = plot - text_px(text, size) - 8
            if room > 0:
                top = max(top, float(rate) * plot / room)
    select = alt.selection_point(fields=["key"], name=pick)
    y = alt.Y("name:N", title=None, sort=list(df["name"]), axis=alt.Axis(labelFontSize=16, labelOverlap=False))
    bars = alt.Chart(df).mark_bar().encode(
        y=y, x=alt.X("visit_rate:Q", title=RATE, scale=alt.Scale(domain=[0, top]),
                     axis=None if width else alt.Axis(values=[0, 20, 40, 60, 80, 100])),
        color=alt.Color("visit_rate:Q", scale=rate_scale(df["visit_rate"]), legend=None),
        opacity=alt.condition(select, alt.value(1.0), alt.value(0.6)),
        tooltip=[alt.Tooltip("name:N", title=label_title), alt.Tooltip("visit_rate:Q", title=RATE),
                 alt.Tooltip("visited_households:Q", title="已入户(户)"),
                 alt.Tooltip("assigned_households:Q", title="结对帮扶户(户)"),
                 alt.Tooltip("cadres:Q", title="帮扶责任人(人)")],
    ).add_params(select)
    ends = alt.Chart(df).mark_text(align="left", dx=4, fontSize=14).encode(
        y=y, x="visit_rate:Q", text="end_text:N")
    return bars + ends


def rate_table(df: pd.DataFrame, name_title: str) -> pd.DataFrame:
    return df.rename(columns={
        "name": name_title, "assigned_households": "结对帮扶户(户)", "visited_households": "已入户(户)",
        "visit_rate": RATE, "cadres": "帮扶责任人(人)", "households_per_cadre": "人均结对户数(户/人)",
    })[[name_title, RATE, "已入户(户)", "结对帮扶户(户)", "帮扶责任人(人)", "人均结对户数(户/人)"]]


if ctx.present:  # 汇报模式: one screen, the headline and who lags behind
    figures.headline(f"结对帮扶 {fmt.count(now['assigned_households'])} 户 · 入户率 {fmt.percent(now['visit_rate'])}"
                     f"({modes[mode]}) · {days}天未入户 {fmt.count(no_hh['total'])} 户")
    by_child = (fetch(helpq.visit_rates, ctx, (period,), "child") if ctx.scope.child_level is not None else None)
    units = fetch(helpq.visit_rates, ctx, (period,), "unit")
    lowest = {name: df[df["assigned_households"] > 0].sort_values("visit_rate").head(PRESENT_BAR_ROWS)
              for name, df in (("child", by_child), ("unit", units)) if df is not None}
    height = present_bars_height(*[len(df) for df in lowest.values()])
    left, right = st.columns(2)
    with left:
        if by_child is not None:
            st.markdown(f"**入户率最低的地区**(前 {len(lowest['child'])} 个)")
            with_table(rate_bars(lowest["child"], "region_pick", "地区", PRESENT_HALF_WIDTH),
                       rate_table(by_child, "地区"), key="help-region", height=height)
    with right:
        st.markdown(f"**入户率最低的帮扶单位**(前 {len(lowest['unit'])} 个)")
        with_table(rate_bars(lowest["unit"], "unit_pick", "帮扶单位", PRESENT_HALF_WIDTH),
                   rate_table(units, "帮扶单位"), key="help-unit", height=height)
    st.stop()


def heatmap(df: pd.DataFrame, row_title: str, labels: list[str], rows_order: list[str]) -> alt.Chart:
    df = df.assign(时段=[labels[i] for i in df["period"]],
                   text=[fmt.share(v, n) for v, n in zip(df["visited_households"], df["assigned_households"])])
    base = alt.Chart(df).encode(
        x=alt.X("时段:N", sort=labels, title=None, axis=alt.Axis(labelAngle=0, labelFontSize=14,
                                                                 labelOverlap=False, orient="top")),
        y=alt.Y("name:N", sort=rows_order, title=None, axis=alt.Axis(labelFontSize=15, labelOverlap=False)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("visit_rate:Q", scale=rate_scale(df["visit_rate"]), title="入户率(%)"),
        tooltip=[alt.Tooltip("name:N", title=row_title), "时段:N", alt.Tooltip("visit_rate:Q", title="入户率(%)"),
                 alt.Tooltip("visited_households:Q", title="已入户(户)"),
                 alt.Tooltip("assigned_households:Q", title="结对帮扶户(户)")],
    )
    text = base.mark_text(fontSize=13).encode(
        text="text:N",
        color=alt.condition(alt.datum.visit_rate < 75, alt.value("#ffffff"), alt.value("#111111")))
    return cells + text


def over_time_table(df: pd.DataFrame, row_title: str, labels: list[str]) -> pd.DataFrame:
    """Rows × periods of 入户率 (%), lowest in the latest period first."""
    wide = df.assign(时段=[labels[i] for i in df["period"]]).pivot_table(
        index="name", columns="时段", values="visit_rate", aggfunc="first", sort=False)
    wide = wide[[lab for lab in labels if lab in wide.columns]]
    if len(wide.columns):
        wide = wide.sort_values(wide.columns[-1], na_position="first")
    wide.columns = [f"{c}入户率(%)" for c in wide.columns]
    return wide.reset_index().rename(columns={"name": row_title})  # pct(): 2 decimals, not rounded again


# ---- by region ------------------------------------------------------------------------
period_name = modes[mode]
if ctx.scope.child_level is not None:
    st.subheader(f"入户率分地区({period_name})")
    st.caption("从低到高排列,颜色越深越需关注;条末为 入户率(已入户/结对户)。点击条形下钻到该地区。")
    by_child = fetch(helpq.visit_rates, ctx, (period,), "child")
    shown = by_child[by_child["assigned_households"] > 0]
    event = with_table(rate_bars(shown, "region_pick", "地区"), rate_table(by_child, "地区"), key="help-region",
                       height=110 + 32 * len(shown), on_select="rerun")
    code = picked(event, "region_pick")
    if code:
        widgets.set_region(code)

    st.subheader("入户率变化(分地区)")
    st.caption(trend_text + ";颜色越深越需关注。")
    child_trend = fetch(helpq.visit_rates, ctx, trend, "child")
    total_trend = fetch(helpq.visit_rates, ctx, trend, "total").assign(name="合计")
    both = pd.concat([child_trend, total_trend], ignore_index=True)
    order = list(by_child.sort_values("visit_rate", na_position="first")["name"]) + ["合计"]
    with_table(heatmap(both, "地区", trend_labels, order), over_time_table(both, "地区", trend_labels),
               key="help-region-trend", height=120 + 32 * len(order))
else:
    st.subheader("入户率变化")
    total_trend = fetch(helpq.visit_rates, ctx, trend, "total").assign(
        时段=lambda d: [trend_labels[i] for i in d["period"]])
    line = alt.Chart(total_trend).mark_line(point=True, color=GOOD).encode(
        x=alt.X("时段:N", sort=trend_labels, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("visit_rate:Q", title="入户率(%)", scale=alt.Scale(domain=[0, 100])),
        tooltip=["时段:N", alt.Tooltip("visit_rate:Q", title="入户率(%)")])
    with_table(line, total_trend.rename(columns={"visit_rate": "入户率(%)", "visited_households": "已入户(户)",
                                                 "assigned_households": "结对帮扶户(户)"})[
        ["时段", "入户率(%)", "已入户(户)", "结对帮扶户(户)"]], key="help-trend", height=260)

# ---- units --------------------------------------------------------------------------
st.subheader(f"帮扶单位入户率排名({period_name})")
units = fetch(helpq.visit_rates, ctx, (period,), "unit")
units = units[units["assigned_households"] > 0]
if units.empty:
    st.info("本范围内没有结对帮扶的单位。")
else:
    query_ready = widgets.page_available("query")
    lowest = units.sort_values(["visit_rate", "key"], na_position="first").head(UNITS_SHOWN)
    note = f"入户率最低的 {len(lowest)} 个单位(共 {len(units)} 个,全部排名见“数据表”)" \
        if len(units) > UNITS_SHOWN else f"共 {len(units)} 个单位"
    st.caption(note + "。" + ("点击条形到“查询”页列出该单位帮扶的农户。" if query_ready else ""))
    ranking = rate_table(units.sort_values(["visit_rate", "key"], ascending=[False, True]), "帮扶单位")
    ranking.insert(0, "排名", range(1, len(ranking) + 1))
    event = with_table(rate_bars(lowest, "unit_pick", "帮扶单位"), ranking, key="help-unit",
                       height=110 + 32 * len(lowest), on_select="rerun" if query_ready else None)
    unit_id = picked(event, "unit_pick")
    if unit_id:
        widgets.go("query", unit=unit_id)
    st.markdown(f"**各单位入户率变化**({trend_text})")
    unit_trend = fetch(helpq.visit_rates, ctx, trend, "unit")
    dataframe(over_time_table(unit_trend, "帮扶单位", trend_labels), hide_index=True, width="stretch",
                 height=300)

# ---- not visited --------------------------------------------------------------------------
st.subheader(f"超过{days}天未入户走访")
st.caption(f"截至 {on:%Y-%m-%d}:近{days}天({window(on, days)[0]:%Y-%m-%d} 起)没有“入户走访”记录。"
           "天数可在页首修改。")
tab_hh, tab_cadre = st.tabs([f"农户({fmt.count(no_hh['total'])} 户)", f"帮扶责任人({fmt.count(no_cadre['total'])} 人)"])
with tab_hh:
    rows = no_hh["rows"]
    if rows.empty:
        st.success(f"所有结对帮扶户近{days}天都有入户走访。")
    else:
        more = f",列出最久未走访的前 {len(rows)} 户" if no_hh["total"] > len(rows) else ""
        st.caption(f"共 {fmt.count(no_hh['total'])} 户{more};“从未入户”指没有任何入户走访记录。")
        shown = rows.assign(last_visit=[str(d) if pd.notna(d) else "从未入户" for d in rows["last_visit"]])
        widgets.household_table(shown, {
            "hh_id": "户编号", "head_name": "户主", "town": "乡镇", "village": "行政村", "cadre": "帮扶责任人",
            "unit": "帮扶单位", "last_visit": "最近入户日期", "days_since": "距今(天)",
        }, key="help-no-hh", height=360, column_config={"距今(天)": st.column_config.NumberColumn(format="%d")})
with tab_cadre:
    rows = no_cadre["rows"]
    if rows.empty:
        st.success(f"所有帮扶责任人近{days}天都有入户走访。")
    else:
        more = f",列出前 {len(rows)} 人" if no_cadre["total"] > len(rows) else ""
        st.caption(f"共 {fmt.count(no_cadre['total'])} 人{more}。" + ("电话号码已脱敏。" if ctx.masked else ""))
        shown = rows.assign(phone=[mask_phone(v) for v in rows["phone"]] if ctx.masked else list(rows["phone"]),
                            last_visit=[str(d) if pd.notna(d) else "从未入户" for d in rows["last_visit"]])
        dataframe(shown.rename(columns={
            "name": "帮扶责任人", "unit": "帮扶单位", "phone": "联系电话", "town": "所在乡镇",
            "households": "结对户数(户)", "last_visit": "最近入户日期", "days_since": "距今(天)",
        })[["帮扶责任人", "帮扶单位", "联系电话", "所在乡镇", "结对户数(户)", "最近入户日期", "距今(天)"]],
            hide_index=True, width="stretch",
            column_config={"距今(天)": st.column_config.NumberColumn(format="%d")})

# ---- measures ----------------------------------------------------------------------------
st.subheader("帮扶措施")
mspan = fetch(helpq.measure_span, ctx)
if mspan["last"] is None:
    st.info("本范围内没有帮扶措施记录。")
else:
    m_year = min(year, int(mspan["last"]))
    if m_year != year:
        st.caption(f"{year}年尚无帮扶措施记录,以下显示有记录的最近年度 {m_year}年。")
    all_years = fetch(helpq.measures, ctx, int(mspan["first"]), m_year)
    this_year = all_years[all_years["year"] == m_year].sort_values("households", ascending=False)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{m_year}年各类措施覆盖户数**")
        bars = alt.Chart(this_year).mark_bar(color=GOOD).encode(
            y=alt.Y("measure:N", sort=list(this_year["measure"]), title=None,
                    axis=alt.Axis(labelFontSize=15, labelOverlap=False)),
            x=alt.X("households:Q", title="户数(户)"),
            tooltip=[alt.Tooltip("measure:N", title="措施"), alt.Tooltip("households:Q", title="户数(户)"),
                     alt.Tooltip("measures:Q", title="措施条数(条)")],
        ) + alt.Chart(this_year).mark_text(align="left", dx=4, fontSize=14).encode(
            y=alt.Y("measure:N", sort=list(this_year["measure"])), x="households:Q",
            text=alt.Text("households:Q", format=","))
        unit, _ = amounts.money_unit(list(this_year["amount"]))
        table = this_year.assign(amount=[fmt.money(a, unit).replace(f" {unit}", "") for a in this_year["amount"]])
        with_table(bars, table.rename(columns={"measure": "措施", "households": "覆盖户数(户)",
                                               "measures": "措施条数(条)", "amount": f"金额({unit})"})[
            ["措施", "覆盖户数(户)", "措施条数(条)", f"金额({unit})"]], key="help-measures",
            height=90 + 30 * len(this_year))
    with right:
        st.markdown("**逐年覆盖户数(户)**")
        order = list(this_year["measure"]) + sorted(set(all_years["measure"]) - set(this_year["measure"]))
        grid = alt.Chart(all_years.assign(年度=all_years["year"].astype(str))).encode(
            x=alt.X("年度:N", title=None, axis=alt.Axis(labelAngle=-45, labelFontSize=13, labelOverlap=False)),
            y=alt.Y("measure:N", sort=order, title=None, axis=alt.Axis(labelFontSize=14, labelOverlap=False)),
        )
        heat = grid.mark_rect().encode(
            color=alt.Color("households:Q", scale=alt.Scale(range=SEQUENTIAL[:4]), title="户数(户)"),
            tooltip=["年度:N", alt.Tooltip("measure:N", title="措施"), alt.Tooltip("households:Q", title="户数(户)")])
        wide = all_years.pivot_table(index="measure", columns="year", values="households", aggfunc="sum",
                                     fill_value=0).reindex(order)
        wide.columns = [f"{c}年(户)" for c in wide.columns]
        with_table(heat, wide.reset_index().rename(columns={"measure": "措施"}), key="help-measures-years",
                   height=150 + 30 * len(order))

    st.subheader("措施是否对症:按主要致贫原因")
    match = fetch(helpq.cause_match, ctx, m_year)
    match = match[match["households"] > 0]
    st.caption(f"建档立卡户按主要致贫原因,截至{m_year}年是否得到过对应措施(如因病户有健康帮扶)。"
               "缺水、交通条件落后主要靠村级基础设施项目解决,户级措施只能看到易地扶贫搬迁。")
    if not match.empty:
        match = match.sort_values("matched_ever_rate").assign(
            end_text=lambda d: [f"{fmt.percent(r)}({m:,}/{n:,}户)" for r, m, n in
                                zip(d["matched_ever_rate"], d["matched_ever"], d["households"])])
        chart = alt.Chart(match).mark_bar().encode(
            y=alt.Y("cause:N", sort=list(match["cause"]), title=None,
                    axis=alt.Axis(labelFontSize=15, labelOverlap=False)),
            x=alt.X("matched_ever_rate:Q", title="有对应措施的户占比(%)", scale=alt.Scale(domain=[0, 118])),
            color=alt.condition(alt.datum.matched_ever_rate < 80, alt.value(BAD), alt.value(GOOD)),
            tooltip=[alt.Tooltip("cause:N", title="主要致贫原因"), alt.Tooltip("measures:N", title="对应措施"),
                     alt.Tooltip("matched_ever:Q", title="有对应措施(户)"),
                     alt.Tooltip("households:Q", title="户数(户)")],
        ) + alt.Chart(match).mark_text(align="left", dx=4, fontSize=14).encode(
            y=alt.Y("cause:N", sort=list(match["cause"])), x="matched_ever_rate:Q", text="end_text:N")
        with_table(chart, match.rename(columns={
            "cause": "主要致贫原因", "measures": "对应措施", "households": "户数(户)",
            "matched_ever": f"截至{m_year}年有对应措施(户)", "matched_ever_rate": "占比(%)",
            "unmatched_ever": "从未有对应措施(户)", "matched_year": f"{m_year}年有对应措施(户)",
            "matched_year_rate": f"{m_year}年占比(%)",
        }).drop(columns=["end_text"]), key="help-match", height=90 + 32 * len(match))
