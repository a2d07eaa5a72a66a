"""村档案: one village on one screen — counts and incidence by year, causes, projects and money,
helpers and visits, monitoring objects, and its households (each opens the household's file)."""

import altair as alt
import pandas as pd
import streamlit as st

from data_access.report import formatting as fmt
from data_access.report import money as amounts
from components import widgets
from components.context import current
from components.data import fetch
from components import figures
from components.figures import Figure, tiles
from components.charts.style import style, with_table
from data_access.report.palette import BAD, CATEGORICAL, GOOD
from data_access.queries import causes, places, villages
from data_access.codes import is_consolidation_year
from data_access.definitions import definition
from data_access.report.era import NO_INCIDENCE_SHORT
from components.safe import esc, md
from components.tables import dataframe

ctx = current()
if not ctx.present:  # on the projector the scope line names 县 › 乡镇 › 村, the way back sits beside the name
    widgets.back_link()
    widgets.region_path(ctx, target="map")

if ctx.scope.level != "village":
    st.info("村档案需要选定一个行政村:在“村级地图”上点击村庄,或在左侧选择乡镇和行政村。")
    if ctx.scope.level == "town":
        kids = fetch(places.children, ctx)
        if not kids.empty:
            st.markdown(f"**{md(ctx.region_name)}的行政村**")
            with st.container(horizontal=True, gap="small"):
                for code, name in zip(kids["code"], kids["name"]):
                    if st.button(name, key=f"v-{code}", type="tertiary"):
                        widgets.go("village", region=code)
    widgets.link("map", "打开村级地图 ›")
    st.stop()

as_of = ctx.as_of
row = fetch(villages.indicators, ctx, ctx.year, as_of).iloc[0]
visit_start, visit_end = villages.visit_period(ctx.year, as_of)
VISIT_RATE = villages.indicator_label("visit_rate", ctx.year, as_of)  # 近12个月入户率, 2018年入户率


def pct_text(v, digits=2):
    return fmt.percent(None if pd.isna(v) else float(v), digits)


exit_year = row["poor_village_exit_year"]
kind = ("贫困村," + (f"{int(exit_year)}年出列" if pd.notna(exit_year) else f"截至{ctx.year}年未出列")
        if row["is_poor_village"] else "非贫困村")
if row["is_poor_village"] and pd.notna(exit_year) and int(exit_year) > ctx.year:
    kind = f"贫困村,{int(exit_year)}年出列(所选{ctx.year}年尚未出列)"
official = (fetch(places.region_info, ctx) or {}).get("official_name") or row["name"]  # 香坪村村民委员会
registered = f" · 登记名称 {esc(official)}" if official != row["name"] else ""
with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
    st.html(f'<div style="font-size:{1.3 if ctx.present else 1.5}rem;font-weight:700;margin:0.1rem 0;'
            f'line-height:1.3">{esc(row["name"])}'
            f'<span style="font-weight:400;font-size:1.1rem;color:#333;margin-left:0.8rem">'
            f'{esc(row["town_name"])} · {esc(kind)} · {ctx.year}年农村户籍人口 {fmt.count(row["rural_population"])} 人'
            f'{registered}</span></div>')
    if ctx.present:
        widgets.back_link()



def yearly_chart():
    """建档立卡人口 by year-end state (已脱贫 / 未脱贫 / 返贫) and its table."""
    years = fetch(villages.yearly_states, ctx, ctx.first_year, ctx.last_year)
    long = years.melt(id_vars=["year"], value_vars=["not_exited_persons", "returned_persons", "exited_persons"],
                      var_name="state", value_name="人数")
    names = {"not_exited_persons": "未脱贫", "returned_persons": "返贫", "exited_persons": "已脱贫"}
    long["状态"] = long["state"].map(names)
    long["年度"] = long["year"].astype(str)
    bars = alt.Chart(long).mark_bar().encode(
        x=alt.X("年度:N", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("人数:Q", title="人", stack=True),
        color=alt.Color("状态:N", scale=alt.Scale(domain=["已脱贫", "未脱贫", "返贫"],
                                                 range=[GOOD, CATEGORICAL[1], BAD]), title=None),
        order=alt.Order("state:N"),
        tooltip=["年度", "状态", alt.Tooltip("人数:Q", format=",")],
    )
    table = pd.DataFrame({
        "年度": years["year"], "建档立卡户数(户)": years["registered_households"],
        "建档立卡人数(人)": years["registered_persons"], "已脱贫人数(人)": years["exited_persons"],
        "未脱贫人数(人)": years["not_exited_persons"], "返贫人数(人)": years["returned_persons"],
        "贫困人口(人)": years["poor_persons"], "贫困发生率(%)": years["incidence"],
    })
    return bars, table


ERA = is_consolidation_year(ctx.year)  # 2021 onward: 脱贫人口 and 监测对象, no 贫困发生率 (report.era)
exited_persons = row["registered_persons"] - row["not_exited_persons"] - row["returned_persons"]

if ctx.present:  # 汇报模式: one screen, the six figures beside the village's years (the tabs are in the normal view)
    money = amounts.headline_unit(row["arranged"])
    left, right = st.columns([1, 1.2])
    with left:
        tiles([
            ("建档立卡人口", f"{fmt.count(row['registered_persons'])}人",
             f"{fmt.count(row['registered_households'])}户"),
            *([("脱贫人口", f"{fmt.count(exited_persons)}人", f"{fmt.count(row['exited_households'])}户"),
               ("监测对象占比", pct_text(row["monitoring_share"]),
                f"监测对象 {fmt.count(row['monitoring_persons'])}人")] if ERA else
              [("未脱贫人口", f"{fmt.count(row['not_exited_persons'])}人",
                f"脱贫进度 {pct_text(row['exit_progress'])}(按户)"),
               ("贫困发生率", pct_text(row["incidence"]), f"农村户籍人口 {fmt.count(row['rural_population'])}人")]),
            ("风险未消除监测户", f"{fmt.count(row['monitoring_at_risk'])}户",
             f"监测对象 {fmt.count(row['monitoring_households'])}户"),
            (VISIT_RATE, pct_text(row["visit_rate"]),
             f"已入户 {fmt.count(row['visited_households'])}/{fmt.count(row['assigned_households'])}户"),
            (f"{ctx.year}年项目资金", money.text(row["arranged"], sep=""),
             f"项目 {fmt.count(row['projects'])}个,逾期 {fmt.count(row['late_projects'])}个"),
        ], per_row=2, compact=True)
    with right:
        bars, _ = yearly_chart()
        st.markdown("**建档立卡人口按年末状态(人)**")
        st.altair_chart(style(bars, 330), width="stretch", key="village-years")
    st.stop()

figures.row([  # as wide as each value: 100.00% and long labels are never cut at 1280 px
    Figure("建档立卡户数(户)", fmt.count(row["registered_households"])),
    Figure("建档立卡人数(人)", fmt.count(row["registered_persons"])),
    *([Figure("脱贫人口(人)", fmt.count(exited_persons),
              help=f"{ctx.year_end}已脱贫的建档立卡户(不含其后返贫)的人口,{fmt.count(row['exited_households'])}户"),
       Figure("监测对象(户)", fmt.count(row["monitoring_households"]),
              help=f"截至{ctx.year_end}识别的防返贫监测对象(含已消除风险的),{fmt.count(row['monitoring_persons'])}人"),
       Figure("监测对象占比(%)", pct_text(row["monitoring_share"]),
              help=f"监测对象人数 ÷ 农村户籍人口({fmt.count(row['rural_population'])}人)")] if ERA else
      [Figure("未脱贫人数(人)", fmt.count(row["not_exited_persons"])),
       Figure("贫困发生率(%)", pct_text(row["incidence"])),
       Figure("脱贫进度(%)", pct_text(row["exit_progress"]), help="已脱贫户 ÷ 建档立卡户")]),
    Figure("风险未消除监测户(户)", fmt.count(row["monitoring_at_risk"]),
        help=f"截至{ctx.year_end}识别的监测对象 {row['monitoring_households']} 户,其中风险尚未消除的"),
    Figure(f"{VISIT_RATE}(%)", pct_text(row["visit_rate"]),
        help=f"{visit_start:%Y-%m-%d}至{visit_end:%Y-%m-%d}有入户走访的结对户 ÷ 期末结对户"),
    Figure("本年项目资金(万元)", fmt.money(row["arranged"], "万元").removesuffix(" 万元"),
        help=f"{ctx.year}年本村项目 {row['projects']} 个,其中逾期 {row['late_projects']} 个"),
], key="village-figures")
if ERA:
    st.caption(NO_INCIDENCE_SHORT + "历年贫困发生率(2014–2020年)见“历年情况”的数据表。")

tabs = st.tabs(["历年情况", "致贫原因", "项目与资金", "帮扶与走访", "监测对象", "农户名单"])

with tabs[0]:
    bars, table = yearly_chart()
    st.markdown("**建档立卡人口按年末状态(人)**")
    with_table(bars, table, key="village-years", height=280)
    st.caption(f"贫困发生率:{definition('贫困发生率')}数字见“数据表”。")

with tabs[1]:
    mix = fetch(causes.cause_mix, ctx, ctx.year)
    if mix.empty:
        st.info(f"截至{ctx.year_end}本村没有建档立卡户。")
    else:
        chart = alt.Chart(mix).mark_bar(color=GOOD).encode(
            y=alt.Y("cause:N", sort="-x", title=None), x=alt.X("households:Q", title="户"),
            tooltip=[alt.Tooltip("cause:N", title="主要致贫原因"), alt.Tooltip("households:Q", title="户数"),
                     alt.Tooltip("persons:Q", title="人数")],
        ) + alt.Chart(mix).mark_text(align="left", dx=4, fontSize=14).encode(
            y=alt.Y("cause:N", sort="-x"), x="households:Q", text="households:Q")
        table = pd.DataFrame({"主要致贫原因": mix["cause"], "户数(户)": mix["households"],
                              "占比·户(%)": mix["households_pct"], "人数(人)": mix["persons"],
                              "占比·人(%)": mix["persons_pct"]})
        st.markdown(f"**{ctx.year_end}建档立卡户的主要致贫原因(户)**")
        with_table(chart, table, key="village-causes", height=max(160, 32 * len(mix)))

with tabs[2]:
    projects = fetch(villages.projects, ctx, ctx.year, as_of)
    if projects.empty:
        st.info(f"截至{ctx.year}年本村没有项目(乡镇级项目不列在村下)。")
    else:
        this_year = projects[projects["year"] == ctx.year]
        st.markdown(f"{ctx.year}年项目 **{len(this_year)}** 个,安排资金 "
                    f"**{fmt.money(this_year['arranged'].sum(), '万元')}**,逾期 "
                    f"**{int(this_year['late'].sum())}** 个;历年项目共 {len(projects)} 个。")
        table = pd.DataFrame({
            "年度": projects["year"], "项目名称": projects["name"], "类别": projects["category"],
            "状态": projects["status"], "预算(万元)": [amounts.WAN.value(v) for v in projects["budget"]],
            "安排(万元)": [amounts.WAN.value(v) for v in projects["arranged"]],
            "拨付(万元)": [amounts.WAN.value(v) for v in projects["paid"]],
            "支出(万元)": [amounts.WAN.value(v) for v in projects["spent"]],
            "计划完工": projects["planned_end"], "实际完工": projects["actual_end"],
            "逾期": ["是" if x else "" for x in projects["late"]],
            "受益户(户)": projects["beneficiary_households"], "项目编号": projects["project_id"],
        })
        event = dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                             selection_mode="single-row", key=f"village-projects-{ctx.scope.code}")
        st.caption(f"逾期:计划完工早于{villages.late_cutoff(ctx.year, as_of):%Y-%m-%d}而未完工或晚于计划完工。"
                   "点选一行打开项目档案。")
        chosen = event.selection.rows if event else []
        if chosen:
            widgets.go("project", project=str(projects.iloc[chosen[0]]["project_id"]))

with tabs[3]:
    helpers = fetch(villages.helpers, ctx, ctx.year, as_of, masked=ctx.masked)
    st.markdown(f"{VISIT_RATE} **{pct_text(row['visit_rate'])}**:{visit_start:%Y-%m-%d}至{visit_end:%Y-%m-%d},"
                f"结对户 {fmt.count(row['assigned_households'])} 户中有入户走访的 "
                f"{fmt.count(row['visited_households'])} 户(只计“入户走访”)。帮扶责任人 {len(helpers)} 人。")
    if not helpers.empty:
        dataframe(pd.DataFrame({
            "帮扶责任人": helpers["name"], "帮扶单位": helpers["unit"], "联系电话": helpers["phone"],
            "结对户(户)": helpers["households"], "已入户(户)": helpers["visited_households"],
            "入户走访(次)": helpers["visits"],
            f"{VISIT_RATE}(%)": helpers["visit_rate"], "最近走访": helpers["last_visit"],
        }), hide_index=True, width="stretch")

with tabs[4]:
    objects = fetch(villages.monitoring_objects, ctx, ctx.year)
    if objects.empty:
        st.info(f"截至{ctx.year_end}本村没有防返贫监测对象。")
    else:
        at_risk = objects[objects["at_risk"]]
        st.markdown(f"截至{ctx.year_end}识别监测对象 **{len(objects)}** 户 {int(objects['persons'].sum())} 人,"
                    f"风险未消除 **{len(at_risk)}** 户 {int(at_risk['persons'].sum())} 人。")
        dataframe(pd.DataFrame({
            "户主": objects["head_name"], "户编号": objects["hh_id"], "监测类型": objects["kind"],
            "主要风险": objects["main_risk"], "识别日期": objects["identified_date"],
            "风险消除日期": objects["removed_date"], "人数(人)": objects["persons"],
            "风险状态": ["未消除" if r else "已消除" for r in objects["at_risk"]],
        }), hide_index=True, width="stretch")

with tabs[5]:
    homes = fetch(villages.households, ctx, ctx.year, masked=ctx.masked)
    if homes.empty:
        st.info("本村没有农户记录。")
    else:
        table = pd.DataFrame({
            "户编号": homes["hh_id"], "户主": homes["head_name"], "户主证件号码": homes["head_id_number"],
            "联系电话": homes["phone"], "村民小组": homes["natural_village"], "户类型": homes["kind"],
            "人数(人)": homes["member_count"], "贫困户属性": homes["attribute"], "主要致贫原因": homes["main_cause"],
            "识别年度": homes["identified_year"].astype("Int64"), "脱贫年度": homes["exit_year"].astype("Int64"),
            f"{ctx.year_end}状态": homes["status"], "监测对象": ["是" if m else "" for m in homes["monitoring"]],
        })
        st.markdown(f"共 {len(homes)} 户(含非建档立卡的监测户)。点选一行打开户档案。"
                    + ("证件号码和电话已脱敏。" if ctx.masked else ""))
        event = dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                             selection_mode="single-row", key=f"village-households-{ctx.scope.code}")
        chosen = event.selection.rows if event else []
        if chosen:
            widgets.go("household", hh=str(homes.iloc[chosen[0]]["hh_id"]))
