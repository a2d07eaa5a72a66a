"""防返贫监测: monitoring objects, their risks, removal, and early warnings from the data."""

import altair as alt
import pandas as pd
import streamlit as st

from data_access.codes import identify_deadline_days
from data_access.report import formatting as fmt
from components import figures, widgets
from components.charts import maps
from components.charts.style import PRESENT_BAR_ROWS, kept, present_bars_height, with_table
from components.context import current
from components.data import fetch
from components.kpi import Kpi, show
from data_access.report.palette import BAD, GOOD
from data_access.queries import consolidation, monitoring
from data_access.definitions import definition
from components.tables import dataframe

MONITORING_SINCE = 2021
MARGIN_DEFAULT = 10
COUNT_AXIS = alt.Axis(tickMinStep=1, format=",d")  # whole households only

ctx = current()
on = ctx.reference_date
year = ctx.year
if year < MONITORING_SINCE:
    st.info(f"防返贫动态监测自{MONITORING_SINCE}年开始,{year}年尚无监测对象。请在左侧选择{MONITORING_SINCE}年或以后的年度。")

margin = widgets.read_number("margin", MARGIN_DEFAULT, 0, 50)
now = fetch(monitoring.totals, ctx, year)
before = fetch(monitoring.totals, ctx, year - 1) if year > ctx.first_year else None
kinds = fetch(monitoring.breakdown, ctx, year, "kind")
risks = fetch(monitoring.breakdown, ctx, year, "risk")
removal = fetch(monitoring.removal_time, ctx, year)
income = fetch(monitoring.income_warnings, ctx, year, margin)
health = fetch(monitoring.health_warnings, ctx, year, margin)


def change(key):
    return fmt.signed(now[key] - before[key]) if before is not None else None


if not ctx.present:
    show([
        Kpi("监测对象(户)", fmt.count(now["households"]), change("households"),
            help=f"{definition('监测对象')}截至{ctx.year_end}。"),
        Kpi("监测对象(人)", fmt.count(now["persons"]), change("persons")),
        Kpi("仍有风险(户)", fmt.count(now["at_risk_households"]), change("at_risk_households"), up_is_good=False,
            help=f"{ctx.year_end}尚未风险消除"),
        Kpi("风险消除率(%)", fmt.percent(now["removal_rate"]),
            fmt.signed(now["removal_rate"] - before["removal_rate"], 1)
            if before and before["removal_rate"] is not None and now["removal_rate"] is not None else None,
            help="已消除风险户数 ÷ 监测对象户数"),
        Kpi(f"{year}年新识别(户)", fmt.count(int(kinds["new_households"].sum()))),
        Kpi("消除用时(天)", fmt.number(removal["avg_days_whole"]),
            help=f"{year}年内风险消除的 {removal['removed_households']} 户,从识别到消除平均用了多少天"),
        Kpi("收入预警(户)", fmt.count(income["total"]), up_is_good=False,
            help="已脱贫、未纳入监测、最新人均纯收入低于该收入年度的标准线或高出不足预警幅度。"
                 + definition("收入对照线")),
        Kpi("健康预警(户)", fmt.count(health["total"]), up_is_good=False,
            help="有患大病或残疾成员、未纳入监测的脱贫户和一般农户"),
    ])

query_ready = widgets.page_available("query")


@kept
def stacked_bars(df: pd.DataFrame, label_title: str, pick: str, keep_order: bool = False,
                 axis: bool = True) -> alt.Chart:
    """Horizontal bars: still at risk (red-orange) and removed (blue); at the bar's end "at risk / all".

    Sorted by households still at risk (most first) unless ``keep_order``. Without ``axis`` (the projector:
    the figures stand at the bars' ends) the bars get the axis's height.
    """
    if not keep_order:
        df = df.sort_values(["at_risk_households", "households"], ascending=False)
    order = list(df["label"])
    df = df.assign(end_text=[f"{a:,} / {n:,}" for a, n in zip(df["at_risk_households"], df["households"])])
    long = df.melt(id_vars=["label"], value_vars=["at_risk_households", "removed_households"],
                   var_name="state", value_name="户数")
    long["状态"] = long["state"].map({"at_risk_households": "仍有风险", "removed_households": "已消除风险"})
    long["顺序"] = long["state"].map({"at_risk_households": 0, "removed_households": 1})
    select = alt.selection_point(fields=["label"], name=pick)
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelFontSize=16, labelOverlap=False))
    bars = alt.Chart(long).mark_bar().encode(
        y=y, x=alt.X("sum(户数):Q", title="户数(户)", axis=COUNT_AXIS if axis else None),
        color=alt.Color("状态:N", scale=alt.Scale(domain=["仍有风险", "已消除风险"], range=[BAD, GOOD]),
                        legend=alt.Legend(title=None)),
        order=alt.Order("顺序:Q"),
        tooltip=[alt.Tooltip("label:N", title=label_title), "状态:N", alt.Tooltip("户数:Q", title="户数(户)")],
        opacity=alt.condition(select, alt.value(1.0), alt.value(0.55)),
    ).add_params(select)
    ends = alt.Chart(df).mark_text(align="left", dx=4, fontSize=15).encode(
        y=y, x="households:Q", text="end_text:N")
    return bars + ends


def picked(event, name: str, field: str = "label"):
    try:
        points = event["selection"][name]
    except (KeyError, TypeError):
        return None
    return points[0].get(field) if points else None


def breakdown_table(df: pd.DataFrame, label: str) -> pd.DataFrame:
    return df.rename(columns={
        "label": label, "households": "监测对象(户)", "persons": "监测对象(人)",
        "removed_households": "已消除风险(户)", "at_risk_households": "仍有风险(户)",
        "at_risk_persons": "仍有风险(人)", "new_households": f"{year}年新识别(户)", "removal_rate": "风险消除率(%)",
    })


if ctx.present:  # 汇报模式: one screen, the headline and where the risks are
    figures.headline(f"监测对象 {fmt.count(now['households'])} 户 · 仍有风险 {fmt.count(now['at_risk_households'])} 户"
                     f" · 消除率 {fmt.percent(now['removal_rate'])} · 收入预警 {fmt.count(income['total'])} 户")
    by_place = ctx.scope.child_level is not None
    rows = (fetch(monitoring.by_region, ctx, year).rename(columns={"name": "label"}).drop(columns=["code"])
            if by_place else risks)
    rows = rows[rows["households"] > 0].sort_values(["at_risk_households", "households"], ascending=False)
    kind_rows, shown = kinds[kinds["households"] > 0], rows.head(PRESENT_BAR_ROWS)
    label = "地区" if by_place else "主要风险"
    height = present_bars_height(len(kind_rows), len(shown))
    left, right = st.columns(2)
    with left:
        st.markdown("**按监测对象类别**(仍有风险 / 全部,户)")
        with_table(stacked_bars(kind_rows, "类别", "kind_pick", keep_order=True, axis=False),
                   breakdown_table(kinds, "监测对象类别"), key="mon-kind", height=height)
    with right:
        st.markdown(f"**{'仍有风险最多的地区' if by_place else '按主要风险'}**(前 {len(shown)} 个)")
        with_table(stacked_bars(shown, label, "place_pick", axis=False), breakdown_table(rows, label),
                   key="mon-place", height=height)
    st.stop()


# ---- 构成: kind and main risk -------------------------------------------------
st.subheader("监测对象类别与主要风险")
st.caption("条末数字:仍有风险户数 / 监测对象户数。" + ("点击条形,到“查询”页列出该类监测对象。" if query_ready else ""))
left, right = st.columns(2)
with left:
    st.markdown("**按监测对象类别**")
    kind_rows = kinds[kinds["households"] > 0]
    event = with_table(stacked_bars(kind_rows, "类别", "kind_pick", keep_order=True),
                       breakdown_table(kinds, "监测对象类别"), key="mon-kind", height=150 + 34 * len(kind_rows),
                       on_select="rerun" if query_ready else None)
    choice = picked(event, "kind_pick")
    if choice:
        widgets.go("query", monitoring_kind=choice)
with right:
    st.markdown("**按主要风险**")
    risk_rows = risks[risks["households"] > 0]
    event = with_table(stacked_bars(risk_rows, "主要风险", "risk_pick"), breakdown_table(risks, "主要风险"),
                       key="mon-risk", height=150 + 34 * len(risk_rows),
                       on_select="rerun" if query_ready else None)
    choice = picked(event, "risk_pick")
    if choice:
        widgets.go("query", risk=choice)
if query_ready:
    st.markdown("**到查询页列出名单:**")
    cols = st.columns(3)
    links = [(f"{kind}·仍有风险", {"monitoring_kind": kind, "removed": 0}) for kind in kinds["label"]]
    links += [("全部仍有风险", {"removed": 0}), ("全部已消除风险", {"removed": 1})]
    for i, (label, params) in enumerate(links):
        with cols[i % 3]:
            widgets.query_link(label, **params)

# ---- 分地区 and the map ---------------------------------------------------------
st.subheader("分地区")
regions = fetch(monitoring.by_region, ctx, year)
if not regions.empty:
    st.caption("按仍有风险户数排列;条末数字:仍有风险户数 / 监测对象户数。点击条形下钻到该地区。")
    region_rows = regions.rename(columns={"name": "label"})
    event = with_table(
        stacked_bars(region_rows[["label", "code", "households", "at_risk_households", "removed_households"]],
                     "地区", "region_pick"),
        breakdown_table(region_rows.drop(columns=["code"]), "地区"), key="mon-region",
        height=150 + 32 * len(region_rows), on_select="rerun")
    name = picked(event, "region_pick")
    if name:
        match = regions.loc[regions["name"] == name, "code"]
        if not match.empty:
            widgets.set_region(match.iloc[0])

if ctx.scope.level in ("province", "city"):  # thousands of villages: unreadable, and slow to draw
    st.caption("村级地图请进入县(区)后查看:点击上面的条形下钻。")
else:
    villages = fetch(monitoring.by_region, ctx, year, "village", scope=maps.map_scope_for(ctx, ctx.scope))
    values = villages.assign(value=villages["at_risk_households"],
                             total=villages["households"].map(lambda v: f"{v:,} 户"),
                             removed=villages["removed_households"].map(lambda v: f"{v:,} 户"))
    st.markdown(f"**{ctx.year_end}仍有风险的监测对象(户),按村**  点击村下钻到该村的名单,点击乡镇名称放大到该乡镇。")
    clicked = maps.village_map(ctx, values, "仍有风险监测对象", "户", key="mon-map", method="quantile",
                               tooltip_columns={"total": "监测对象", "removed": "已消除风险"}, height=480)
    if clicked and clicked != ctx.scope.code:
        widgets.set_region(clicked)

# ---- 每月 -----------------------------------------------------------------------
st.subheader(f"{year}年每月新识别与风险消除")
months = fetch(monitoring.monthly, ctx, year)
month_long = months.melt(id_vars=["month"], value_vars=["identified_households", "removed_households"],
                         var_name="what", value_name="户数")
month_long["类别"] = month_long["what"].map({"identified_households": "新识别", "removed_households": "风险消除"})
month_long["月份"] = month_long["month"].map(lambda m: f"{m}月")
month_chart = alt.Chart(month_long).mark_bar().encode(
    x=alt.X("月份:N", sort=[f"{m}月" for m in range(1, 13)], title=None, axis=alt.Axis(labelAngle=0)),
    xOffset=alt.XOffset("类别:N", sort=["新识别", "风险消除"]),
    y=alt.Y("户数:Q", title="户数(户)", axis=COUNT_AXIS),
    color=alt.Color("类别:N", scale=alt.Scale(domain=["新识别", "风险消除"], range=[BAD, GOOD]),
                    legend=alt.Legend(title=None)),
    tooltip=["月份:N", "类别:N", alt.Tooltip("户数:Q", title="户数(户)")],
)
with_table(month_chart, months.assign(month=months["month"].map(lambda m: f"{m}月")).rename(columns={
    "month": "月份", "identified_households": "新识别(户)", "identified_persons": "新识别(人)",
    "removed_households": "风险消除(户)"}), key="mon-month", height=300)

# ---- 消除用时 and those at risk longest -------------------------------------------
st.subheader("风险消除用时")
left, right = st.columns([1, 2])
with left:
    if removal["removed_households"]:
        st.metric(f"{year}年风险消除(户)", fmt.count(removal["removed_households"]))
        st.metric("平均用时(天)", fmt.number(removal["avg_days_whole"]))
        st.metric("最长用时(天)", fmt.count(removal["max_days"]))
    else:
        st.info(f"{year}年没有风险消除的监测对象。")
with right:
    classes = removal["classes"]
    class_chart = alt.Chart(classes).mark_bar(color=GOOD).encode(
        y=alt.Y("label:N", sort=list(classes["label"]), title=None),
        x=alt.X("households:Q", title="户数(户)", axis=COUNT_AXIS),
        tooltip=[alt.Tooltip("label:N", title="用时"), alt.Tooltip("households:Q", title="户数(户)"),
                 alt.Tooltip("share:Q", title="占比(%)")],
    ) + alt.Chart(classes).mark_text(align="left", dx=4, fontSize=15).encode(
        y=alt.Y("label:N", sort=list(classes["label"])), x="households:Q", text="households:Q")
    with_table(class_chart, classes.rename(columns={"label": "从识别到消除用时", "households": "户数(户)",
                                                    "share": "占比(%)"}), key="mon-removal", height=220)



def lifecycle_section():
    """识别时限: days from the risk being found to identification against the deployment's deadline, and days
    to 风险消除, per township (child region), with the slow cases listed (queries.monitoring.lifecycle*)."""
    deadline = identify_deadline_days()
    life = fetch(monitoring.lifecycle, ctx, year, deadline)
    st.subheader(f"识别时限与消除用时({year}年)")
    if not life["has_found"]:
        st.info("数据库中没有风险发现时间,无法计算识别用时。")
        return
    show([
        Kpi("有风险发现时间(户)", fmt.count(life["with_found"]),
            help=f"{year}年新识别的 {fmt.count(life['identified'])} 户中登记了风险发现时间的"),
        Kpi("平均识别用时(天)", "—" if life["avg_identify_days"] is None else f"{life['avg_identify_days']:.1f}",
            help="从发现风险到识别为监测对象的天数(有风险发现时间的)"),
        Kpi(f"超过{deadline}天识别(户)", fmt.count(life["late_identified"]), up_is_good=False,
            help=f"识别时限 {deadline} 天(由部署配置设定,默认15天)"),
        Kpi("平均消除用时(天)", "—" if life["avg_removal_days"] is None else f"{life['avg_removal_days']:.1f}",
            help=f"{year}年内风险消除的,从识别到消除的平均天数"),
    ])
    if ctx.scope.child_level is not None:
        per = fetch(monitoring.lifecycle_by_region, ctx, year, deadline)
        dataframe(per.drop(columns=["code"]).rename(columns={
            "name": "区划", "identified": "新识别(户)", "with_found": "有发现时间(户)",
            "avg_identify_days": "平均识别用时(天)", "late_identified": f"超{deadline}天识别(户)",
            "late_pct": "超时占比(%)", "removed": "风险消除(户)", "avg_removal_days": "平均消除用时(天)"}),
            hide_index=True, width="stretch", key="mon-lifecycle")
        slow = per[per["late_identified"] > 0].sort_values(["late_identified", "code"], ascending=[False, True])
        if not slow.empty:
            st.caption("超时识别较多:" + "、".join(f"{n} {c} 户" for n, c in
                                                   zip(slow["name"][:5], slow["late_identified"][:5])) + "。")
    late = fetch(monitoring.late_identifications, ctx, year, deadline)
    if late.empty:
        st.success(f"{year}年新识别的监测对象均在{deadline}天内识别。")
    else:
        st.markdown(f"**超过{deadline}天才识别的监测对象({fmt.count(life['late_identified'])} 户)**")
        widgets.household_table(late, {
            "hh_id": "户编号", "head_name": "户主", "town": "乡镇", "village": "行政村", "kind": "监测对象类别",
            "main_risk": "主要风险", "found_date": "发现日期", "identified_date": "识别日期", "days": "识别用时(天)",
            "channel": "发现途径",
        }, key="mon-late", height=260)


if not ctx.present:
    lifecycle_section()

village_scope = ctx.scope.level == "village"
title = "本村监测对象名单" if village_scope else "仍有风险时间最长的监测对象"
st.subheader(title)
objects = fetch(monitoring.object_list, ctx, year, on, not village_scope)
total_listed = now["households"] if village_scope else now["at_risk_households"]
if objects.empty:
    st.info("没有符合条件的监测对象。")
else:
    more = f",列出前 {len(objects)} 户" if total_listed > len(objects) else ""
    st.caption(f"共 {fmt.count(total_listed)} 户{more};风险天数计至 {on:%Y-%m-%d}(已消除的计至消除日)。"
               "点击户编号或选中一行打开户档案。")
    objects = objects.assign(removed_date=[str(d) if pd.notna(d) else "—" for d in objects["removed_date"]])
    widgets.household_table(objects, {
        "hh_id": "户编号", "head_name": "户主", "town": "乡镇", "village": "行政村", "kind": "监测对象类别",
        "main_risk": "主要风险", "identified_date": "识别日期", "removed_date": "风险消除日期",
        "days_at_risk": "风险天数(天)", "persons": "人数(人)",
    }, key="mon-objects", height=380)

# ---- 预警 -------------------------------------------------------------------------
st.subheader("预警:可能需要纳入监测的农户")
st.caption("预警由数据比对得出,只是线索,需入户核实后按程序识别为监测对象。")
tab_income, tab_health = st.tabs([f"收入预警({fmt.count(income['total'])} 户)",
                                  f"健康预警({fmt.count(health['total'])} 户)"])
with tab_income:
    lines = income["lines"]
    if not lines:
        st.info(f"数据库中没有{year}年及以前的标准线(监测线自{MONITORING_SINCE}年设立),无法计算收入预警。")
    else:
        shown_lines = "、".join(f"{y}年{kind} {fmt.count(a)} 元" for y, (a, kind) in sorted(lines.items())[-2:])
        st.markdown(
            f"**含义**:{ctx.year_end}已脱贫、当时不是监测对象(从未纳入或已风险消除)的建档立卡户中,"
            f"最新一年人均纯收入低于**该收入年度**的标准线,或高出不足 **{margin}%** 的农户"
            f"(收入按其所属年度的标准线判断,与户档案、查询、脱贫进度的收入临界同一规则;{shown_lines})。"
        )
        c1, c2, c3 = st.columns([1, 1, 1.3])
        with c1:
            st.metric("低于监测线(户)", fmt.count(income["below"]))
        with c2:
            st.metric(f"高出不足{margin}%(户)", fmt.count(income["near"]))
        with c3:
            widgets.number("margin", "预警幅度:高出监测线不足(%)", MARGIN_DEFAULT, 0, 50, 5, warn=False,
                           help="默认10%。改动会写入链接,复制链接即可还原。")
        rows = income["rows"]
        if rows.empty:
            st.success("没有收入预警的农户。")
        else:
            more = f",列出收入最低的前 {len(rows)} 户" if income["total"] > len(rows) else ""
            st.caption(f"共 {fmt.count(income['total'])} 户{more}。“曾为监测对象”指此前识别、已风险消除。")
            shown = rows.assign(was_monitored=rows["was_monitored"].map({True: "是", False: "否"}))
            widgets.household_table(shown, {
                "hh_id": "户编号", "head_name": "户主", "town": "乡镇", "village": "行政村",
                "member_count": "人数(人)", "income_year": "收入年度", "per_capita_net": "人均纯收入(元)",
                "above_line_pct": "高于监测线(%)", "main_cause": "原致贫原因", "policy_status": "政策享受",
                "was_monitored": "曾为监测对象",
            }, key="mon-income", height=380, column_config={
                "人均纯收入(元)": st.column_config.NumberColumn(format="%d"),
                "高于监测线(%)": st.column_config.NumberColumn(format="%.1f"),
                "收入年度": st.column_config.NumberColumn(format="%d"),
            })
with tab_health:
    st.markdown(
        f"**含义**:家中有成员健康状况登记为**患有大病**或**残疾**、{ctx.year_end}不是监测对象"
        "(从未纳入或已风险消除)的已脱贫户和一般农户(未脱贫、返贫户已按贫困户帮扶,不在此列)。"
        "健康状况取最新登记;数据中没有登记日期,因而无法区分“新发”与早已有之,也没有灾情登记。"
    )
    c1, c2, c3 = st.columns(3)
    with c1:
        st.metric("有患大病成员(户)", fmt.count(health["with_illness"]))
    with c2:
        st.metric("有残疾成员(户)", fmt.count(health["with_disability"]))
    with c3:
        st.metric("其中收入也在预警线下(户)", fmt.count(health["low_income"]),
                  help=f"最新人均纯收入低于监测线加{margin}%")
    rows = health["rows"]
    if rows.empty:
        st.success("没有健康预警的农户。")
    else:
        more = f",列出人均纯收入最低的前 {len(rows)} 户" if health["total"] > len(rows) else ""
        st.caption(f"共 {fmt.count(health['total'])} 户{more};一般农户没有收入记录,排在后面。")
        shown = rows.assign(was_monitored=rows["was_monitored"].map({True: "是", False: "否"}))
        widgets.household_table(shown, {
            "hh_id": "户编号", "head_name": "户主", "town": "乡镇", "village": "行政村", "kind": "农户类别",
            "member_count": "人数(人)", "ill_persons": "患大病(人)", "disabled_persons": "残疾(人)",
            "income_year": "收入年度", "per_capita_net": "人均纯收入(元)", "was_monitored": "曾为监测对象",
        }, key="mon-health", height=380, column_config={
            "人均纯收入(元)": st.column_config.NumberColumn(format="%d"),
            "收入年度": st.column_config.NumberColumn(format="%d"),
        })


# ---- 数据问题: 返贫 after 2020 is a monitoring matter --------------------------------------------------------


def returned_problems():
    """Households marked 返贫 in 2021 or later with no monitoring record (queries.consolidation)."""
    listed = fetch(consolidation.returned_outside_monitoring, ctx, year)
    st.subheader(f"数据问题:2020年后返贫而未纳入监测的户({fmt.count(len(listed))} 户)")
    st.caption("2021年起,返贫致贫风险户应识别为防返贫监测对象(脱贫不稳定户等),不再按“返贫”计入贫困人口;"
               "以下农户登记为2021年以后返贫,但截至本年底没有监测对象记录,请核实后纳入监测或更正返贫登记。")
    if listed.empty:
        st.success("没有2020年后返贫而未纳入监测的农户。")
        return
    widgets.household_table(listed, {
        "hh_id": "户编号", "head_name": "户主", "town": "乡镇", "village": "行政村", "member_count": "人数(人)",
        "returned_year": "返贫年度",
    }, key="mon-returned", height=220, column_config={"返贫年度": st.column_config.NumberColumn(format="%d")})


if not ctx.present:
    returned_problems()
