"""项目档案: one project's place, dates, money movements and beneficiary households."""

import re

import altair as alt
import pandas as pd
import streamlit as st

from components import figures, widgets
from data_access.report import money as amounts
from data_access.report import formatting as fmt
from components.charts.style import style, with_table
from components.context import current
from components.data import fetch
from components.figures import Figure, tiles
from data_access.report.palette import BAD, GOOD, NEUTRAL
from data_access.queries import funds
from components.safe import esc, md
from components.tables import dataframe

IDLE_DAYS = 90

ctx = current()
if not ctx.present:  # on the projector the way back sits beside the project's name
    widgets.back_link()

raw = str(st.query_params.get("project", "") or "").strip()
if not raw:
    st.warning("没有指定项目:请从“资金项目”页的流向图、项目清单或数据问题中点击一个项目。")
    st.stop()
if not re.fullmatch(r"[A-Za-z0-9_\-]{1,32}", raw):
    st.error(f"项目编号“{md(raw[:32])}”格式不正确。")
    st.stop()
p = fetch(funds.project_detail, ctx, raw, ctx.as_of, IDLE_DAYS)
if p is None:
    st.warning(f"在{md(ctx.scope_label)}范围内没有编号为 {md(raw)} 的项目(可能不在当前区划内,或编号有误)。")
    st.stop()

place = " › ".join(x for x in (p["town_name"], p["village_name"]) if x) or "地点缺失(数据问题)"
where = (f"编号 {esc(p['project_id'])} · {esc(p['category'])}"
         f"{' / ' + esc(p['subcategory']) if p['subcategory'] else ''} · {esc(p['year'])}年 · 地点:{esc(place)} · "
         f"状态:<b>{esc(p['status'])}</b>")
if ctx.present:
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        st.html(f"<div style='font-size:1.35rem;font-weight:700;line-height:1.3'>{esc(p['name'])}"
                f"<span style='font-size:1.05rem;font-weight:400;margin-left:0.8rem'>{esc(p['category'])} · "
                f"{esc(p['year'])}年 · {esc(place)} · {esc(p['status'])}</span></div>")
        widgets.back_link()
else:
    st.subheader(md(p["name"]))
    st.markdown(f"<div style='font-size:1.15rem'>{where}</div>", unsafe_allow_html=True)

unit = amounts.unit_for(p["budget"], p["arranged"])

flags = []
if p["region_code"] is None:
    flags.append("项目没有所在乡镇或村(数据问题)")
if p["spent"] > p["paid"]:
    flags.append(f"支出 {unit.text(p['spent'])} 超过拨付 {unit.text(p['paid'])}(数据问题)")
if p["paid"] > p["arranged"]:
    flags.append(f"拨付 {unit.text(p['paid'])} 超过安排 {unit.text(p['arranged'])}(数据问题)")
if p.get("late"):
    flags.append(f"逾期 {p['late_days']} 天" + ("(尚未完工)" if p["actual_end"] is None else "(完工晚于计划)"))
if p.get("idle_amount"):
    flags.append(f"拨付超过 {IDLE_DAYS} 天仍未支出 {unit.text(p['idle_amount'])}")
moves = fetch(funds.project_money, ctx, raw)


def money_chart():
    """Cumulative 安排 / 拨付 / 支出 by date, and the movements' table."""
    cum = moves.copy()
    cum["date"] = pd.to_datetime(cum["date"])
    series = []
    for kind in ("安排", "拨付", "支出"):
        part = cum[cum["kind"] == kind].groupby("date", as_index=False)["amount"].sum().sort_values("date")
        if part.empty:
            continue
        part["累计"] = part["amount"].cumsum().map(unit.value)
        part["类别"] = kind
        series.append(part)
    data = pd.concat(series)
    chart = alt.Chart(data).mark_line(interpolate="step-after", point=True, strokeWidth=3).encode(
        x=alt.X("date:T", title="日期", axis=alt.Axis(format="%Y-%m", tickCount="month")),
        y=alt.Y("累计:Q", title=f"累计金额({unit.name})"),
        color=alt.Color("类别:N", scale=alt.Scale(domain=["安排", "拨付", "支出"], range=[NEUTRAL, GOOD, BAD]),
                        title=None),
        tooltip=[alt.Tooltip("date:T", title="日期", format="%Y-%m-%d"), "类别:N",
                 alt.Tooltip("累计:Q", format=f".{unit.digits}f")],
    )
    table = pd.DataFrame({
        "日期": moves["date"], "类别": moves["kind"], f"金额({unit.name})": [unit.value(v) for v in moves["amount"]],
        "资金来源": moves["source"], "文号": moves["doc_no"], "资金名称": moves["fund_name"],
    })
    return chart, table


if ctx.present:  # 汇报模式: one screen, the money and the households beside the money over time
    said = amounts.headline_unit(p["budget"], p["arranged"])
    left, right = st.columns([1, 1.2])
    with left:
        over_paid = "(超过安排)" if p["paid"] > p["arranged"] else ""
        over_spent = "(超过拨付)" if p["spent"] > p["paid"] else ""
        tiles([
            ("已安排", said.text(p["arranged"], sep=""), f"预算 {said.text(p['budget'], sep='')}"),
            ("拨付率(占安排)", fmt.percent(p["paid_rate"]), f"已拨付 {said.text(p['paid'], sep='')}{over_paid}"),
            ("支出进度(占安排)", fmt.percent(p["spent_rate"]), f"已支出 {said.text(p['spent'], sep='')}{over_spent}"),
            ("受益户", f"{fmt.count(p['beneficiary_households'])}户",
             f"其中贫困户 {fmt.count(p['beneficiary_poor_households'])}户"),
            ("计划完工", str(p["planned_end"] or "—"), f"计划开工 {p['planned_start'] or '—'}"),
            ("实际完工", str(p["actual_end"] or "未完工"),
             f"逾期 {p['late_days']} 天" if p.get("late") else f"实际开工 {p['actual_start'] or '—'}"),
        ], per_row=2, compact=True)
        if p.get("idle_amount"):
            st.html(f"<div style='color:#B3261E;font-size:1.05rem;line-height:1.3'>⚠ 拨付超过 {IDLE_DAYS} 天仍未支出 "
                    f"{said.text(p['idle_amount'], sep='')}</div>")
    with right:
        if moves.empty:
            st.info("本项目没有资金安排或拨付、支出记录。")
        else:
            st.markdown(f"**资金往来({unit.name},累计)**")
            st.altair_chart(style(money_chart()[0], 330), width="stretch", key=f"moves-{raw}")
    st.stop()

figures.row([
    Figure(f"已安排({unit.name})", unit.text(p["arranged"], with_unit=False), f"预算 {unit.text(p['budget'])}"),
    Figure("拨付率(%,占安排)", fmt.percent(p["paid_rate"]), f"已拨付 {unit.text(p['paid'])}"),
    Figure("支出进度(%,占安排)", fmt.percent(p["spent_rate"]), f"已支出 {unit.text(p['spent'])}"),
    Figure("受益户(户)", fmt.count(p["beneficiary_households"]),
           f"其中贫困户 {fmt.count(p['beneficiary_poor_households'])} 户"),
], key="project-figures")
for text in flags:
    st.warning(text)

dates = pd.DataFrame({
    "": ["开工", "完工"],
    "计划": [p["planned_start"], p["planned_end"]],
    "实际": [p["actual_start"], p["actual_end"]],
})
c1, c2 = st.columns([1, 2])
with c1:
    st.markdown("**工期**")
    dataframe(dates, hide_index=True, width="stretch")
with c2:
    st.markdown("**受益对象**")
    st.markdown(f"受益 {fmt.count(p['beneficiary_households'], '户')}"
                f"(其中贫困户 {fmt.count(p['beneficiary_poor_households'], '户')})、"
                f"{fmt.count(p['beneficiary_persons'], '人')};名单登记 {fmt.count(p['beneficiaries_listed'], '户')}。")

st.subheader(f"资金往来({unit.name})")
if moves.empty:
    st.info("本项目没有资金安排或拨付、支出记录。")
else:
    chart, table = money_chart()
    with_table(chart, table, key=f"moves-{raw}", height=300)

st.subheader("受益户")
people = fetch(funds.project_beneficiaries, ctx, raw)
if people.empty:
    st.info("没有登记受益户名单。")
else:
    table = pd.DataFrame({
        "户编号": people["hh_id"], "户主": people["head_name"], "村": people["village_name"],
        "人口(人)": people["member_count"], "户类型": people["kind"], "脱贫状态": people["status"],
        "贫困户属性": people["attribute"],
        "到户金额(元)": pd.to_numeric(people["amount"]),
    })
    has_household_page = widgets.page_available("household")
    if has_household_page:
        st.caption(f"共 {len(people)} 户;点击一行打开户档案。")
    event = dataframe(table, hide_index=True, width="stretch", key=f"ben-{raw}",
                         on_select="rerun" if has_household_page else "ignore", selection_mode="single-row",
                         column_config={"到户金额(元)": st.column_config.NumberColumn(format="%,d")})
    rows = event.selection.rows if has_household_page and event is not None else []
    if rows:
        widgets.go("household", hh=people.iloc[rows[0]]["hh_id"])
