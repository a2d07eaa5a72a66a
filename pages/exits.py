"""脱贫进度: exits against targets, incidence by place, poor villages, warnings and the exit procedure."""

import pandas as pd
import streamlit as st

from components import widgets
from components.charts import causes_exits
from data_access.report import formatting as fmt
from components.context import current
from components.data import fetch
from components.kpi import Kpi, show
from data_access.codes import LAST_CAMPAIGN_YEAR, REGION_LEVEL_LABELS, is_consolidation_year
from data_access.report.era import NO_INCIDENCE_SHORT
from data_access.queries import exits
from data_access.definitions import definition
from components.safe import md
from components.tables import dataframe

ctx = current()

MEASURE_OPTIONS = {"households": "按户数", "persons": "按人数"}
THRESHOLD_OPTIONS = {int(t): f"{t:g}%" for t in exits.VILLAGE_THRESHOLDS}
if ctx.present:  # 汇报模式: one screen, no controls (the URL still decides)
    measure = widgets.read_choice("measure", MEASURE_OPTIONS, "households", warn=False)
    threshold, margin = 3, 10.0
else:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        measure = widgets.choice("measure", "统计口径", MEASURE_OPTIONS, "households")
        threshold = widgets.choice("threshold", "贫困村出列标准(贫困发生率低于)", THRESHOLD_OPTIONS, 3,
                                   help="贫困村出列:贫困发生率降至2%以下(西部地区3%以下)。")
        margin = widgets.number("margin", "收入临界幅度(高于标准线 %)", 10.0, 0.0, 100.0, 1.0,
                                help="已脱贫户最新年人均纯收入低于“标准线×(1+幅度)”即列入收入临界预警。")
unit, measure_name = causes_exits.UNITS[measure], causes_exits.MEASURES[measure]

# ---- this year against the target ------------------------------------------------------------------------
progress = fetch(exits.progress, ctx, ctx.first_year, ctx.last_year)
now = progress[progress["year"] == ctx.year].iloc[0]
before = progress[progress["year"] == ctx.year - 1]
before = before.iloc[0] if len(before) else None
target = now[f"target_{measure}"]


def known(value) -> bool:
    return value is not None and value == value


has_target = known(target)
incidence_change = None
if before is not None and known(before["incidence"]) and known(now["incidence"]):
    incidence_change = fmt.signed(now["incidence"] - before["incidence"], 2)
    incidence_change = None if incidence_change in ("+0.00", "-0.00") else incidence_change
exited_now = now[f"exited_{measure}"]
cards = [
    Kpi(f"本年脱贫({unit})", fmt.count(exited_now), help=f"{ctx.year}年脱贫的{measure_name}。"),
    Kpi("任务完成率(%)", fmt.percent(now[f"target_pct_{measure}"]) if has_target else "无任务",
        help=f"{ctx.year}年减贫任务 {fmt.count(target)} {unit}。" if has_target else f"{ctx.year}年未下达减贫任务。"),
    Kpi(f"累计脱贫({unit},含其后返贫)", fmt.count(now[f"cum_exited_{measure}"]),
        help=f"{definition('累计脱贫(含其后返贫)')}截至{ctx.year_end};{ctx.year_end}的已脱贫(不含返贫)见总览。"),
    Kpi("贫困发生率(%)", fmt.percent(now["incidence"]) if known(now["incidence"]) else "—", incidence_change,
        up_is_good=False,
        help=f"{definition('贫困发生率')}按{ctx.year_end}计。"),
]
if is_consolidation_year(ctx.year):  # no exits, targets or incidence after 2020: the campaign's end instead
    end = progress[progress["year"] == LAST_CAMPAIGN_YEAR]
    end_incidence = end.iloc[0]["incidence"] if len(end) else None
    cards = ([] if not exited_now and not has_target else cards[:2]) + [
        cards[2],
        Kpi(f"{LAST_CAMPAIGN_YEAR}年贫困发生率(%)", fmt.percent(end_incidence) if known(end_incidence) else "—",
            help=f"{definition('贫困发生率')}按{LAST_CAMPAIGN_YEAR}年底计(脱贫攻坚期最后一年)。{NO_INCIDENCE_SHORT}"),
    ]
if ctx.present:  # one screen: the four figures beside this year's progress against the targets
    left, right = st.columns(2)
    with left:
        show(cards, per_row=2)
        if is_consolidation_year(ctx.year):
            st.caption(NO_INCIDENCE_SHORT)
    with right:
        causes_exits.exits_vs_target(progress, measure, key="exits-target", height=360,
                                     title=f"各年脱贫{measure_name}与年度任务", year=ctx.year)
    st.stop()
show(cards)
if is_consolidation_year(ctx.year):
    st.caption(f"{NO_INCIDENCE_SHORT}{ctx.year}年不再下达减贫任务;巩固衔接情况见“防返贫监测”。")

left, right = st.columns(2)
with left:
    st.subheader(f"各年脱贫{measure_name}与年度任务")
    hit = causes_exits.exits_vs_target(progress, measure, key="exits-target", year=ctx.year)
    if hit:
        widgets.query_link(f"查看名单:{hit['year']}年脱贫的户", exit_year=hit["year"], year=ctx.last_year)
with right:
    st.subheader(f"累计脱贫{measure_name}(含其后返贫)")
    causes_exits.cumulative_curve(progress, measure, key="exits-cumulative")


# ---- warnings ----------------------------------------------------------------------------------------------
st.subheader(f"预警({ctx.year_end})")
limit = exits.LIST_LIMIT
lists = {
    "not_exited": fetch(exits.not_exited_list, ctx, ctx.year, limit=limit),
    "returned": fetch(exits.returned_list, ctx, ctx.year, limit=limit),
    "near_line": fetch(exits.near_line, ctx, ctx.year, margin, limit=limit),
    "unmet": fetch(exits.unmet_guarantees, ctx, ctx.year, limit=limit),
}
near, unmet = lists["near_line"], lists["unmet"]
UNMET_CURRENT_ONLY = (f"住房、饮水、就学、参保状态只登记当前值(历史状态未保存),只判断{unmet['status_year']}年;"
                      f"{ctx.year}年不判定,请选择{unmet['status_year']}年查看。")
show([
    Kpi("未脱贫(户)", fmt.count(lists["not_exited"]["households"]),
        help=f"{fmt.count(lists['not_exited']['persons'])} 人"),
    Kpi("返贫(户)", fmt.count(lists["returned"]["households"]),
        help=f"{fmt.count(lists['returned']['persons'])} 人"),
    Kpi("收入临界(户)", fmt.count(near["households"]),
        help=f"已脱贫户中最新年人均纯收入低于标准线或高出不足{margin:g}%:低于标准线 "
             f"{fmt.count(near['below_households'])} 户,高出不足{margin:g}% {fmt.count(near['near_households'])} 户。"),
    Kpi("三保障缺项(户)", fmt.count(unmet["households"]),
        help=("已脱贫户中两不愁三保障尚有未达标项:" + ";".join(
            f"{exits.GUARANTEE_ITEMS[k]} {fmt.count(v)} 户" for k, v in unmet["by_item"].items()) + "。")
        if unmet["judged"] else UNMET_CURRENT_ONLY),
])
if not unmet["judged"]:
    st.caption(f"三保障缺项:{UNMET_CURRENT_ONLY}")
if near["unjudged_households"]:
    st.caption(f"另有 {fmt.count(near['unjudged_households'])} 户已脱贫户缺少收入记录或当年标准线,未作收入判断。")

names = {
    "not_exited": f"未脱贫({fmt.count(lists['not_exited']['households'])} 户)",
    "returned": f"返贫({fmt.count(lists['returned']['households'])} 户)",
    "near_line": f"收入临界({fmt.count(near['households'])} 户)",
    "unmet": f"三保障缺项({fmt.count(unmet['households'])} 户)",
}
if not unmet["judged"]:
    del names["unmet"]
LIST_COLUMNS = {
    "hh_id": "户编号", "head_name": "户主姓名", "town_name": "乡镇", "village_name": "行政村",
    "member_count": "家庭人口(人)", "main_cause": "主要致贫原因", "attribute": "贫困户属性",
    "identified_year": "识别年度", "exit_year": "脱贫年度", "returned_year": "返贫年度",
}


def year_text(y) -> str:
    return str(int(y)) if y is not None and y == y else ""


def listing(result: dict, key: str, offset: int, extra: dict | None = None, formats: dict | None = None) -> None:
    """One page of a warning list: how many in all, then the households (a selected row links to its file)."""
    rows = result["rows"]
    if result["households"] == 0:
        st.success("没有符合条件的农户。")
        return
    st.caption(f"共 {fmt.count(result['households'])} 户 {fmt.count(result['persons'])} 人;"
               f"本页显示第 {offset + 1}–{offset + len(rows)} 户(点选一行可打开户档案)。")
    years = {"识别年度": year_text, "脱贫年度": year_text, "返贫年度": year_text}
    widgets.household_table(rows, {**LIST_COLUMNS, **(extra or {})}, key, formats={**years, **(formats or {})},
                            id_links=False, height=min(38 + 35 * len(rows), 420))


shown = widgets.choice("list", "查看名单", names, None, allow_none=True)
if shown:
    query = {"not_exited": exits.not_exited_list, "returned": exits.returned_list,
             "near_line": exits.near_line, "unmet": exits.unmet_guarantees}[shown]
    offset = widgets.pager(lists[shown]["households"], limit, key=f"pager-{shown}")
    args = (ctx.year, margin) if shown == "near_line" else (ctx.year,)
    result = lists[shown] if offset == 0 else fetch(query, ctx, *args, limit=limit, offset=offset)
    if shown == "near_line":
        st.caption(f"按{ctx.year}年及以前最近一年的年人均纯收入,对照该收入年度的标准线"
                   "(2020年及以前为贫困线,2021年起为监测线)判断;最低的排在前面。")
        listing(
            result, "list-near-line", offset,
            {"income_year": "收入年度", "per_capita_net": "年人均纯收入(元)", "line": "标准线(元/人·年)",
             "line_kind": "标准线类别", "above_line_pct": "高于标准线(%)"},
            formats={"年人均纯收入(元)": fmt.number, "收入年度": lambda v: str(int(v))})
    elif shown == "unmet":
        listing(
            result, "list-unmet", offset,
            {**exits.GUARANTEE_ITEMS, "children_out": "失学辍学儿童(人)", "uninsured": "未参保(人)"},
            formats={label: (lambda v: "是" if v else "") for label in exits.GUARANTEE_ITEMS.values()})
    else:
        listing(result, f"list-{shown}", offset)

# ---- incidence by child region -------------------------------------------------------------------------------
child_level = ctx.scope.child_level
if child_level:
    child_label = REGION_LEVEL_LABELS[child_level]
    last = min(ctx.last_year, LAST_CAMPAIGN_YEAR)  # the campaign's years only: no incidence after 2020
    inc = (fetch(exits.child_incidence, ctx, ctx.first_year, last) if ctx.first_year <= last
           else pd.DataFrame())
    if not inc.empty:
        st.subheader(f"各{child_label}贫困发生率(%)")
        if last < ctx.last_year:
            st.caption(f"{ctx.first_year}–{last}年。{NO_INCIDENCE_SHORT}")
        hit = causes_exits.incidence_matrix(inc, child_label, key="exits-child-incidence")
        if hit and st.button(f"进入{md(hit['name'])}查看", key="exits-drill-region"):
            widgets.set_region(hit["code"])

# ---- poor villages -------------------------------------------------------------------------------------------
villages = fetch(exits.poor_villages, ctx, ctx.year, threshold)
st.subheader("贫困村出列")
if villages.empty:
    st.info(f"{md(ctx.region_name)}没有贫困村。")
else:
    left_v, right_v = st.columns([2, 3])
    remaining = villages[~villages["exited"]]
    with left_v:
        show([
            Kpi("贫困村(个)", fmt.count(len(villages))),
            Kpi("已出列(个)", fmt.count(int(villages["exited"].sum())), help=f"{ctx.year_end}已出列的贫困村。"),
            Kpi("未出列(个)", fmt.count(len(remaining)), up_is_good=False),
            Kpi("可出列(个)", fmt.count(int(remaining["below_threshold"].sum())),
                help=f"未出列贫困村中贫困发生率已低于{threshold:g}%的,可列入出列计划。"),
        ], per_row=2)
    with right_v:
        by_year = fetch(exits.village_exits_by_year, ctx, ctx.first_year, ctx.last_year)
        causes_exits.village_exits(by_year, key="exits-villages-by-year")
    table = causes_exits.village_table(villages, threshold)
    if len(remaining):
        st.markdown(f"**未出列贫困村的贫困发生率(虚线为出列标准 {threshold:g}%)**")
        hit = causes_exits.incidence_bars(remaining, threshold, table, key="exits-remaining", label="行政村")
        if hit and st.button("进入该村查看", key="exits-drill-village"):
            widgets.set_region(hit["code"])
    else:
        st.success(f"{ctx.year_end}全部 {len(villages)} 个贫困村均已出列。")
        dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 320))

# ---- exit procedure -------------------------------------------------------------------------------------------
st.subheader(f"{ctx.year}年脱贫程序进展")
pipeline = fetch(exits.exit_pipeline, ctx, ctx.year, ctx.last_year)
if ctx.year < ctx.last_year:
    done = pipeline[pipeline["step"] == "销号"].iloc[0]
    show([Kpi(f"{ctx.year}年销号(户)", fmt.count(done["households"])),
          Kpi(f"{ctx.year}年销号(人)", fmt.count(done["persons"]))])
    st.caption("系统只保存每户当前所处环节,往年各环节的在途户数无从还原;选择最新年度可查看各环节在途户数。")
else:
    causes_exits.step_bars(pipeline, key="exits-pipeline")
