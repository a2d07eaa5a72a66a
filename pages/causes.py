"""致贫原因: why households are poor, where, for whom, and which causes come together."""

import streamlit as st

from components import widgets
from components.charts import causes_exits
from data_access.report import formatting as fmt
from components.context import current
from components.data import fetch
from components.kpi import Kpi, show
from data_access.codes import HOUSEHOLD_ATTRIBUTES, HOUSEHOLD_STATUSES, REGION_LEVEL_LABELS
from data_access.queries import causes
from components.safe import md

ctx = current()

MEASURE_OPTIONS = {"households": "按户数", "persons": "按人数"}
if ctx.present:  # 汇报模式: one screen, no controls (the URL still decides)
    measure = widgets.read_choice("measure", MEASURE_OPTIONS, "households", warn=False)
else:
    measure = widgets.choice("measure", "统计口径", MEASURE_OPTIONS, "households")
unit, measure_name = causes_exits.UNITS[measure], causes_exits.MEASURES[measure]
cube = fetch(causes.cause_cube, ctx, ctx.year)  # every count of the page, added up below
mix = causes.mix_of(cube)
if mix.empty:
    st.info(f"{md(ctx.region_name)}截至{ctx.year}年没有建档立卡户,无致贫原因可分析。")
    st.stop()

order = causes.cause_order(mix["cause"])
top = mix.sort_values(measure, ascending=False).reset_index(drop=True)
first, second = top.iloc[0], top.iloc[1] if len(top) > 1 else None
base_scope, base_name = ctx.comparison_scope()
if ctx.present:
    st.markdown(f"#### 主要致贫原因(占建档立卡{measure_name}):{first['cause']} {fmt.percent(first[f'{measure}_pct'])}" +
                (f" · {second['cause']} {fmt.percent(second[f'{measure}_pct'])}" if second is not None else ""))
    left, right = st.columns(2)
    with left:
        causes_exits.cause_bars(mix, measure, key="cause-mix", height=305, compact=True,
                                title=f"主要致贫原因({measure_name})")
    with right:
        if base_scope:
            causes_exits.compare_bars(mix, fetch(causes.cause_mix, ctx, ctx.year, scope=base_scope), measure,
                                      ctx.region_name, base_name, key="cause-compare", height=305,
                                      compact=True, title=f"占比与{base_name}相差(百分点)")
        else:
            others = fetch(causes.other_cause_counts, ctx, ctx.year)
            if not others.empty:
                causes_exits.other_cause_bars(others, key="other-causes", height=305, compact=True,
                                            title="兼有的其他致贫原因(户数)")
    st.stop()

show([
    Kpi("建档立卡户数(户)", fmt.count(mix["households"].sum())),
    Kpi("建档立卡人数(人)", fmt.count(mix["persons"].sum())),
    Kpi(f"第一位:{first['cause']}(占{measure_name}%)", fmt.percent(first[f"{measure}_pct"])),
    Kpi(f"第二位:{second['cause']}(占{measure_name}%)" if second is not None else "第二位",
        fmt.percent(second[f"{measure}_pct"]) if second is not None else "—"),
])
sentence = f"{md(ctx.region_name)}{ctx.year}年主要致贫原因:" + "、".join(
    f"{c} {fmt.count(n)} {unit}({fmt.percent(p)})" for c, n, p in zip(top["cause"], top[measure], top[f"{measure}_pct"])
) + "。"


def list_link(label: str, **params) -> None:
    if causes.NO_CAUSE in params.values():
        st.caption(f"{label}:未填写致贫原因或属性的户无法按此条件查询,请在查询页按其他条件查找。")
        return
    widgets.query_link(f"查看名单:{label}", **params)


# ---- the mix, and how it differs from the comparison region ----------------------------------------
left, right = st.columns([1, 1] if base_scope else [3, 2])
with left:
    st.subheader(f"主要致贫原因构成({measure_name})")
    hit = causes_exits.cause_bars(mix, measure, key="cause-mix")
    st.caption(sentence)
    if hit:
        row = mix[mix["cause"] == hit["cause"]].iloc[0]
        list_link(f"{hit['cause']} · {fmt.count(row[measure])} {unit}", main_cause=hit["cause"])
with right:
    if base_scope:
        st.subheader(f"与{base_name}比较(占比)")
        base_mix = fetch(causes.cause_mix, ctx, ctx.year, scope=base_scope)
        hit = causes_exits.compare_bars(mix, base_mix, measure, ctx.region_name, base_name, key="cause-compare")
        if hit:
            list_link(f"{ctx.region_name} · {hit['cause']}", main_cause=hit["cause"])
    else:
        st.subheader("其他致贫原因(兼有)")
        others = fetch(causes.other_cause_counts, ctx, ctx.year)
        if others.empty:
            st.info("没有登记其他致贫原因。")
        else:
            hit = causes_exits.other_cause_bars(others, key="other-causes")
            if hit:
                list_link(f"其他致贫原因含{hit['cause']}", other_cause=hit["cause"])

# ---- by child region -------------------------------------------------------------------------------------
child_level = ctx.scope.child_level
if child_level:
    child_label = REGION_LEVEL_LABELS[child_level]
    st.subheader(f"各{child_label}主要致贫原因({measure_name},颜色为该{child_label}内占比)")
    by_child = causes.by_child_of(cube)
    if by_child.empty:
        st.info(f"各{child_label}没有建档立卡户。")
    else:
        names = list(by_child.drop_duplicates("code")["name"])
        hit = causes_exits.cause_matrix(
            by_child, col="name", measure=measure, col_order=names, row_order=order, col_title=child_label,
            row_title="主要致贫原因", share_within="name", key="cause-by-child", extra_fields=("code",),
            x_angle=0 if len(names) <= 16 else -40)
        if hit:
            cols = st.columns([3, 2])
            with cols[0]:
                list_link(f"{hit['name']} · {hit['cause']}", region=hit["code"], main_cause=hit["cause"])
            with cols[1]:
                if st.button(f"进入{md(hit['name'])}查看", key="cause-drill-region"):
                    widgets.set_region(hit["code"])

# ---- against attribute, status, identification year, other causes ------------------------------------
st.subheader("致贫原因与户属性、脱贫状态、识别年度、其他致贫原因")
tab_attr, tab_status, tab_year, tab_pairs = st.tabs(["按贫困户属性", "按脱贫状态", "按识别年度", "兼有其他致贫原因"])


def cross(df, col, col_title, col_order, key, param):
    """Cause × ``col`` (colour = share within the column); a click links to the household list."""
    hit = causes_exits.cause_matrix(df, col=col, measure=measure, col_order=col_order, row_order=order,
                                    col_title=col_title, row_title="主要致贫原因", share_within=col, key=key)
    if hit:
        list_link(f"{col_title}{hit[col]} · {hit['cause']}", main_cause=hit["cause"], **{param: hit[col]})


with tab_attr:
    df = causes.by_attribute_of(cube)
    cross(df, "attribute", "属性",
          list(HOUSEHOLD_ATTRIBUTES) + sorted(set(df["attribute"]) - set(HOUSEHOLD_ATTRIBUTES)),
          "cause-by-attribute", "attribute")
with tab_status:
    st.caption(f"脱贫状态为{ctx.year_end}的状态。")
    df = causes.by_status_of(cube)
    cross(df, "status", "状态", list(HOUSEHOLD_STATUSES), "cause-by-status", "status")
with tab_year:
    df = causes.by_identified_year_of(cube)
    cross(df.astype({"identified_year": str}), "identified_year", "识别年度",
          sorted(set(df["identified_year"].astype(str))), "cause-by-year", "identified_year")
with tab_pairs:
    st.caption("行:主要致贫原因;列:同一户登记的其他致贫原因(一户可有多项,“无”为未登记其他原因);颜色为该行内占比。")
    df = fetch(causes.cause_combinations, ctx, ctx.year)
    others = causes.cause_order(set(df["other_cause"]) - {causes.NO_OTHER_CAUSE}) + [causes.NO_OTHER_CAUSE]
    hit = causes_exits.cause_matrix(
        df, col="other_cause", row="main_cause", measure=measure, col_order=others, row_order=order,
        col_title="其他致贫原因", row_title="主要致贫原因", share_within="main_cause", key="cause-pairs",
        col_label=lambda c: f"兼{c}", x_title="其他致贫原因", x_angle=-35)
    if hit and hit["other_cause"] != causes.NO_OTHER_CAUSE:
        list_link(f"{hit['main_cause']} 兼 {hit['other_cause']}", main_cause=hit["main_cause"],
                  other_cause=hit["other_cause"])
