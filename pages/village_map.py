"""村级地图: every village coloured by one indicator; click a village for its file, a township name to zoom."""

import pandas as pd
import streamlit as st

from data_access.report import formatting as fmt
from data_access.report import money as amounts
from components import widgets
from components.context import current
from components.data import fetch
from components.charts.maps import map_scope_for, village_map
from components.charts.ranking import child_label as ranking_label
from components.charts.ranking import child_ranking, indicator_choice
from data_access.codes import is_consolidation_year
from data_access.queries import villages
from data_access.queries.villages import INDICATORS
from data_access.definitions import definition
from components.tables import dataframe

ctx = current()
if not ctx.present:
    widgets.region_path(ctx)

as_of = ctx.as_of
visit_start, visit_end = villages.visit_period(ctx.year, as_of)
VISIT_RATE = villages.indicator_label("visit_rate", ctx.year, as_of)  # the label names its period
late_cut = villages.late_cutoff(ctx.year, as_of)
DEFINITIONS = {
    "incidence": f"贫困发生率按{ctx.year_end}计:{definition('贫困发生率')}",
    "not_exited_persons": f"{ctx.year_end}仍未脱贫的建档立卡人口(不含返贫)。",
    "exit_progress": f"脱贫进度 = {ctx.year_end}已脱贫户 ÷ 建档立卡户(按户)。",
    "monitoring_households": f"截至{ctx.year_end}识别的防返贫监测对象(户),含已消除风险的。",
    "monitoring_at_risk": f"截至{ctx.year_end}识别、且当时风险尚未消除的监测对象(户)。",
    "visit_rate": f"{VISIT_RATE} = {visit_start:%Y-%m-%d}至{visit_end:%Y-%m-%d}有入户走访的结对户 ÷ 期末在结对的户"
                  f"(只计“入户走访”,不计电话联系、政策宣讲)。",
    "funds_per_person": f"{ctx.year}年安排到本村项目的资金 ÷ 本村建档立卡人数;乡镇级项目不计入各村。",
    "late_projects": f"{ctx.year}年本村项目中,计划完工早于{late_cut:%Y-%m-%d}而未完工或晚于计划完工的。",
    "monitoring_new": f"{ctx.year}年内新识别的防返贫监测对象(户)。",
    "monitoring_share": f"监测对象占比 = 截至{ctx.year_end}识别的监测对象人数(含已消除风险的)÷ 农村户籍人口。",
    "linkage_arranged": f"{ctx.year}年财政衔接推进乡村振兴补助资金(中央、省、市、县四级)安排到本村项目的金额;"
                        "乡镇级项目不计入各村。",
}
ERA = is_consolidation_year(ctx.year)  # 2021 onward: monitoring and 衔接资金, no campaign figures

# On the projector the choices made before (kept in the URL) apply, without the controls.
above_county = ctx.scope.level in ("province", "city")  # ranked child regions instead of the village map
top = st.columns([2, 3]) if not ctx.present else (st.empty(), st.empty())
with top[0]:  # eight indicators, some with long 2021– names: all visible in a drop-down
    key = indicator_choice(ctx, "ind", "着色指标", show=not ctx.present, select=True)
with top[1]:
    method = widgets.choice("cls", "分级方法", {"quantile": "分位数", "jenks": "自然断点"}, "quantile",
                            show=not ctx.present and not above_county)
_, unit, higher_is_worse, digits = INDICATORS[key]
label = villages.indicator_label(key, ctx.year, as_of)
if not ctx.present and above_county:
    st.caption(DEFINITIONS[key])
elif not ctx.present:
    st.caption(DEFINITIONS[key] + " 点击村庄打开村档案" +
               (",点击乡镇名称放大到该乡镇。" if ctx.scope.level == "county" else "。"))

if above_county:
    # Thousands of village polygons are unreadable on one screen (and slow to draw): rank the counties
    # (or cities) instead; a click opens one, down to a county's village map.
    kids = ranking_label(ctx)
    then = "查看其村级地图" if ctx.scope.level == "city" else "再选县(区)查看村级地图"
    st.markdown(f"**{ctx.year}年 {label}** · 各{kids}排名;点击一个{kids},{then}。")
    child_ranking(ctx, key, key=f"map-rank-{ctx.scope.code}-{key}")
    st.stop()

area = map_scope_for(ctx, ctx.scope)
df = fetch(villages.indicators, ctx, ctx.year, as_of, scope=area)


def shown(value, u, d):
    if value is None or pd.isna(value):
        return "—"
    if u == "%":
        return fmt.percent(value, d)
    return f"{value:,.{d}f} {u}"


tips = pd.DataFrame({
    "code": df["code"],
    "value": df[key],
    "t_town": df["town_name"],
    "t_reg": [f"{fmt.count(h)} 户 / {fmt.count(p)} 人"
              for h, p in zip(df.registered_households, df.registered_persons)],
    "t_inc": [shown(v, "%", 2) for v in df.incidence],
    "t_notex": [shown(v, "人", 0) for v in df.not_exited_persons],
    "t_prog": [shown(v, "%", 2) for v in df.exit_progress],
    "t_mon": [f"{m} 户(风险未消除 {r} 户)" for m, r in zip(df.monitoring_households, df.monitoring_at_risk)],
    "t_new": [f"{n} 户" for n in df.monitoring_new],
    "t_share": [shown(v, "%", 2) for v in df.monitoring_share],
    "t_visit": [shown(v, "%", 2) for v in df.visit_rate],
    "t_link": [amounts.WAN.text(v) for v in df.linkage_yuan],
    "t_fund": [shown(v, "元/人", 0) for v in df.funds_per_person],
    "t_late": [f"{n} 个(本年项目 {p} 个)" for n, p in zip(df.late_projects, df.projects)],
})
if ERA:
    tooltip_columns = {"t_town": "所属乡镇", "t_reg": "建档立卡", "t_mon": "监测对象", "t_new": "本年新识别",
                       "t_share": "监测对象占比", "t_visit": VISIT_RATE, "t_link": "衔接资金安排",
                       "t_fund": "人均资金投入", "t_late": "逾期项目"}
else:
    tooltip_columns = {"t_town": "所属乡镇", "t_reg": "建档立卡", "t_inc": "贫困发生率", "t_notex": "未脱贫人数",
                       "t_prog": "脱贫进度", "t_mon": "监测对象", "t_visit": VISIT_RATE, "t_fund": "人均资金投入",
                       "t_late": "逾期项目"}

ranked = df.dropna(subset=[key]).sort_values([key, "code"], ascending=[not higher_is_worse, True])
if ranked.empty:
    message = f"本范围内各村暂无“{label}”数据。"
elif ranked[key].nunique() == 1:
    message = f"本范围 {len(ranked)} 个村的{label}均为 {shown(ranked[key].iloc[0], unit, digits)}。"
else:
    worst = ranked.head(3)
    message = "最需关注:" + "、".join(f"{n}({shown(v, unit, digits)})" for n, v in zip(worst.name, worst[key]))


def data_table():
    places = {
        "乡镇": df["town_name"], "行政村": df["name"], "区划代码": df["code"],
        "贫困村": ["是" if p else "否" for p in df.is_poor_village],
        "出列年度": [str(int(y)) if pd.notna(y) else "" for y in df.poor_village_exit_year],
        "农村户籍人口(人)": df["rural_population"], "建档立卡户数(户)": df["registered_households"],
        "建档立卡人数(人)": df["registered_persons"],
    }
    campaign = {"未脱贫人数(人)": df["not_exited_persons"], "返贫人数(人)": df["returned_persons"],
                "贫困发生率(%)": df["incidence"], "脱贫进度(%)": df["exit_progress"]}
    watch = {"监测对象(户)": df["monitoring_households"], "监测对象(人)": df["monitoring_persons"],
             "风险未消除(户)": df["monitoring_at_risk"]}
    if ERA:
        watch |= {"本年新识别(户)": df["monitoring_new"], "监测对象占比(%)": df["monitoring_share"]}
    rest = {"结对户(户)": df["assigned_households"], "入户走访户(户)": df["visited_households"],
            f"{VISIT_RATE}(%)": df["visit_rate"], "安排资金(万元)": [amounts.WAN.value(v) for v in df["arranged"]]}
    if ERA:
        rest["衔接资金安排(万元)"] = df["linkage_arranged"]
    rest |= {"人均资金投入(元/人)": fmt.half_up_all(df["funds_per_person"]), "本年项目(个)": df["projects"],
             "逾期项目(个)": df["late_projects"]}
    table = pd.DataFrame({**places, **({} if ERA else campaign), **watch, **rest})
    order = df[key].rank(method="first", ascending=not higher_is_worse, na_option="bottom")
    dataframe(table.assign(_o=order).sort_values("_o").drop(columns="_o"), hide_index=True, width="stretch")


if ctx.present:
    st.markdown(f"**{ctx.year}年 {label}** · {message}")
    picked = village_map(ctx, tips, label, unit, key="village-map", higher_is_worse=higher_is_worse,
                         method=method, digits=digits, tooltip_columns=tooltip_columns, scope=ctx.scope, height=390)
else:
    tab_map, tab_table = st.tabs(["地图", "数据表"])
    with tab_map:
        st.markdown(f"**{ctx.year}年 {label}** · {message}")
        picked = village_map(ctx, tips, label, unit, key="village-map", higher_is_worse=higher_is_worse,
                             method=method, digits=digits, tooltip_columns=tooltip_columns, scope=ctx.scope,
                             height=540)
    with tab_table:
        data_table()

widgets.drill(picked)
