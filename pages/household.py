"""户档案: one household — members, income against the line, causes, help, visits, money, monitoring."""

import altair as alt
import pandas as pd
import streamlit as st

from data_access.report import formatting as fmt
from components import widgets
from components.charts.style import style, with_table
from components.context import current
from components.data import fetch
from components.export import export_buttons
from components import figures
from components.figures import Figure, tiles
from data_access.report.palette import BAD, CATEGORICAL, GOOD, NEUTRAL
from data_access.queries import dossier as hq
from data_access.rules import HH_ID_RE
from components.safe import esc, md
from components.tables import dataframe

ctx = current()

hh_id = str(st.query_params.get("hh", "")).strip()
if not hh_id:
    st.info("请从“查询”页选择一户,或在链接中给出户编号(?hh=户编号)。")
    widgets.link("query", "前往查询")
    st.stop()
if not HH_ID_RE.match(hh_id):
    st.error(f"户编号格式不正确:“{md(hh_id[:32])}”。户编号由数字和字母组成。")
    widgets.link("query", "前往查询")
    st.stop()

profile = fetch(hq.household_profile, ctx, hh_id, ctx.year, masked=ctx.masked)
if profile is None:
    st.error(f"在{md(ctx.scope_label)}范围内没有户编号为 {md(hh_id)} 的农户:"
             "该户不存在,或不在当前(或本账号)的数据范围内。")
    widgets.link("query", "前往查询")
    st.stop()


def yes_no(value) -> str:
    return "—" if value is None else ("是" if value else "否")


def dash(value) -> str:
    return "—" if value is None or value != value or value == "" else str(value)


def in_wan(values) -> list:
    """元 -> 万元 with 4 decimals (exact to the 元); None stays None."""
    return [None if v is None or v != v else fmt.half_up(float(v) / 10_000, 4) for v in values]


def table_with_export(df: pd.DataFrame, name: str, key: str, empty: str) -> None:
    if df.empty:
        st.info(empty)
        return
    dataframe(df, hide_index=True, width="stretch")
    export_buttons(df, f"{profile['head_name']}户_{name}", key, ctx)


place = " › ".join(p for p in (profile["town_name"], profile["village_name"], profile["natural_village"]) if p)
with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
    st.html(f'<div style="font-size:{1.35 if ctx.present else 1.6}rem;font-weight:700;margin:0.2rem 0;'
            f'line-height:1.3">{esc(profile["head_name"])} 户'
            f'<span style="font-size:1.05rem;font-weight:400;color:#444;margin-left:0.8rem">户编号 {esc(hh_id)}'
            f' · {esc(place)}</span></div>')
    if ctx.present:  # one screen: the way back sits beside the name
        widgets.back_link()

income = fetch(hq.household_income, ctx, hh_id)
known = income[income["year"] <= ctx.year]
latest = known.iloc[-1] if not known.empty else None
status = profile["status_at_year"]


def income_chart():
    """年人均纯收入 against the 贫困线/监测线 by year, and its table."""
    long = pd.concat([
        pd.DataFrame({"year": income["year"], "series": "年人均纯收入", "yuan": income["per_capita_net"]}),
        pd.DataFrame({"year": income["year"], "series": income["line_kind"].fillna("标准线"),
                      "yuan": income["line"]}).dropna(subset=["yuan"]),
    ])
    order = ["年人均纯收入", "贫困线", "监测线"]
    colour = alt.Color("series:N", title=None, sort=order,
                       scale=alt.Scale(domain=order, range=[CATEGORICAL[0], CATEGORICAL[3], CATEGORICAL[1]]))
    base = alt.Chart(long).encode(
        x=alt.X("year:O", title="年度", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("yuan:Q", title="元/人·年"),
        color=colour,
        tooltip=[alt.Tooltip("year:O", title="年度"), alt.Tooltip("series:N", title="系列"),
                 alt.Tooltip("yuan:Q", title="元", format=",.0f")],
    )
    is_income = alt.datum.series == "年人均纯收入"
    chart = (base.transform_filter(is_income).mark_line(point=True, strokeWidth=3)
             + base.transform_filter(~is_income).mark_line(strokeDash=[6, 4], strokeWidth=2,
                                                           interpolate="step-after"))
    table = income.rename(columns={
        "year": "年度", "members": "家庭人口(人)", "wage": "工资性收入(元)",
        "business_income": "生产经营性收入(元)", "business_cost": "生产经营性支出(元)",
        "property_income": "财产性收入(元)",
        "transfer_income": "转移性收入(元)", "transfer_excluded": "不计入的转移性收入(元)",
        "per_capita_net": "年人均纯收入(元)", "line": "标准线(元)", "line_kind": "标准线类型",
        "above_line_pct": "高于标准线(%)",
    })
    return chart, table


if ctx.present:  # 汇报模式: one screen, six facts beside the income against the line (the tabs: normal view)
    guarantees = fetch(hq.household_guarantees, ctx, hh_id, ctx.year)
    unmet = list(guarantees.loc[guarantees["state"] == hq.UNMET, "item"])
    met = int((guarantees["state"] == hq.MET).sum())
    watch = fetch(hq.household_monitoring, ctx, hh_id)
    last_watch = watch.iloc[-1] if not watch.empty else None
    above = latest["above_line_pct"] if latest is not None else None
    left, right = st.columns([1, 1.2])
    with left:
        tiles([
            ("家庭人口", f"{fmt.count(profile['members_at_year'])}人", dash(profile["kind"])),
            (f"{ctx.year_end}状态", status or "—",
             f"{profile['exit_year']}年脱贫" if profile["exit_year"] else dash(profile["attribute"])),
            ("人均纯收入" + (f"({int(latest['year'])}年)" if latest is not None else ""),
             f"{fmt.number(latest['per_capita_net'])}元" if latest is not None else "—",
             f"高于{latest['line_kind']} {fmt.percent(above)}" if above is not None and above == above else ""),
            ("主要致贫原因", dash(profile["main_cause"]), "其他:" + ("、".join(profile["other_causes"]) or "无")),
            ("两不愁三保障", f"{met}/{len(guarantees)}项达标", ("未达标:" + "、".join(unmet)) if unmet else ""),
            ("防返贫监测", dash(last_watch["kind"]) if last_watch is not None else "未纳入",
             ("风险未消除" if last_watch["removed_date"] is None or last_watch["removed_date"] != last_watch[
                 "removed_date"] else f"风险已消除 {last_watch['removed_date']}") if last_watch is not None else ""),
        ], per_row=2, compact=True)
    with right:
        if income.empty:
            st.info("没有收入记录。")
        else:
            st.markdown("**年人均纯收入与贫困线/监测线(元)**")
            st.altair_chart(style(income_chart()[0], 330), width="stretch", key="hh-income-chart")
    st.stop()

figures.row([  # as wide as each value: 100.00% and long labels are never cut at 1280 px
    Figure("家庭人口(人)", fmt.count(profile["members_at_year"]),
           help=f"{ctx.year_end}的家庭成员(已出生、已入户、尚未减员);下方成员表为现有成员。"),
    Figure(f"{ctx.year_end}状态", status or "—"),
    Figure("人均纯收入(元)", fmt.number(latest["per_capita_net"]) if latest is not None else "—",
        help=f"{int(latest['year'])}年年人均纯收入(最近一个有收入记录的年度)" if latest is not None else None),
    Figure("高于标准线(%)", fmt.percent(latest["above_line_pct"]) if latest is not None
        and latest["above_line_pct"] is not None else "—",
        help=f"{latest['line_kind']} {latest['line']:,} 元" if latest is not None and latest["line"] else None),
], key="household-figures")

facts = {
    "户类型": profile["kind"], "贫困户属性": profile["attribute"], "识别标准": profile["standard"],
    "识别年度": profile["identified_year"], "脱贫年度": profile["exit_year"], "返贫年度": profile["returned_year"],
    "脱贫后政策": profile["policy_status"], "脱贫程序": profile["exit_step"],
    "主要致贫原因": profile["main_cause"], "其他致贫原因": "、".join(profile["other_causes"]) or "无",
    "易地扶贫搬迁": (f"是({profile['relocation_year']}年,{profile['relocation_site']})"
                   if profile["relocated"] else "否"),
    "户联系电话": profile["phone"],
}
if latest is not None:
    st.caption(f"收入为 {int(latest['year'])} 年数据;状态按 {ctx.year_end}计。")
cols = st.columns(4)
for i, (label, value) in enumerate(facts.items()):
    cols[i % 4].markdown(f"**{label}**:{md(dash(value))}")

tabs = st.tabs(["两不愁三保障", "家庭成员", "收入", "帮扶措施", "帮扶责任人与走访", "项目与资金", "防返贫监测"])

with tabs[0]:
    guarantees = fetch(hq.household_guarantees, ctx, hh_id, ctx.year)
    marks = {hq.MET: ("✔", GOOD), hq.UNMET: ("✘", BAD), hq.UNKNOWN: ("?", NEUTRAL)}
    cards = st.columns(len(guarantees)) if len(guarantees) else []
    for col, row in zip(cards, guarantees.itertuples()):
        sign, colour = marks[row.state]
        col.html(
            f'<div style="border:2px solid {colour};border-radius:8px;padding:0.6rem;min-height:8.5rem">'
            f'<div style="font-size:1.2rem;font-weight:700">{esc(row.item)}</div>'
            f'<div style="font-size:1.6rem;font-weight:700;color:{colour}">{sign} {esc(row.state)}</div>'
            f'<div style="font-size:1rem;color:#333">{esc(row.detail)}</div></div>'
        )
    st.caption(f"义务教育按 {ctx.year} 年年龄(6–15岁)判断;住房、饮水、参保为最新登记情况。")
    export_buttons(guarantees.rename(columns={"item": "项目", "state": "状态", "detail": "说明"}),
                   f"{profile['head_name']}户_两不愁三保障", "hh-guarantees", ctx)

with tabs[1]:
    members = fetch(hq.household_members, ctx, hh_id, masked=ctx.masked)
    shown = members.assign(
        medical_insurance=[yes_no(v) for v in members["medical_insurance"]],
        serious_illness_insurance=[yes_no(v) for v in members["serious_illness_insurance"]],
        phone=[v if isinstance(v, str) and v else "" for v in members["phone"]],
    ).rename(columns={
        "person_id": "人编号", "name": "姓名", "id_number": "证件号码", "relation": "与户主关系", "sex": "性别",
        "ethnicity": "民族", "birth_date": "出生日期", "birth_year": "出生年份", "education": "文化程度",
        "schooling": "在校生状况",
        "health": "健康状况", "labour_skill": "劳动技能", "work_status": "务工状况", "work_months": "务工时间(月)",
        "medical_insurance": "基本医疗保险", "serious_illness_insurance": "大病保险", "phone": "联系电话",
    })
    if ctx.masked:
        st.caption("证件号码、联系电话已脱敏显示;出生日期只显示年份。")
    table_with_export(shown, "家庭成员", "hh-members", "没有登记家庭成员。")

with tabs[2]:
    if income.empty:
        st.info("没有收入记录。")
    else:
        chart, table = income_chart()
        st.markdown("**年人均纯收入与贫困线/监测线(元)**")
        with_table(chart, table, "hh-income-chart", height=340)
        export_buttons(table, f"{profile['head_name']}户_收入", "hh-income", ctx)

with tabs[3]:
    measures = fetch(hq.household_measures, ctx, hh_id)
    total = measures["amount"].dropna().sum() if not measures.empty else 0
    if not measures.empty:
        st.markdown(f"帮扶措施 **{len(measures):,}** 项,涉及资金 **{fmt.money(total)}**。")
    table_with_export(measures.assign(amount=in_wan(measures["amount"])).rename(
        columns={"year": "年度", "measure": "帮扶措施", "amount": "金额(万元)"}),
                      "帮扶措施", "hh-measures", "没有帮扶措施记录。")

with tabs[4]:
    helpers = fetch(hq.household_helpers, ctx, hh_id, masked=ctx.masked)
    st.markdown("**帮扶责任人**")
    table_with_export(helpers.drop(columns=["helper_id"]).rename(columns={
        "helper_name": "帮扶责任人", "unit_name": "帮扶单位", "unit_level": "单位层级", "phone": "联系电话",
        "start_date": "结对开始", "end_date": "结对结束"}), "帮扶责任人", "hh-helpers", "没有结对帮扶记录。")
    visits = fetch(hq.household_visits, ctx, hh_id)
    in_year = visits[[d.year == ctx.year for d in visits["visit_date"]]] if not visits.empty else visits
    st.markdown(f"**走访记录**(共 {len(visits):,} 次,其中 {ctx.year} 年 {len(in_year):,} 次)")
    table_with_export(visits.rename(columns={"visit_date": "走访日期", "helper_name": "帮扶责任人",
                                             "kind": "方式", "note": "内容"}),
                      "走访记录", "hh-visits", "没有走访记录。")

with tabs[5]:
    projects = fetch(hq.household_projects, ctx, hh_id)
    if not projects.empty:
        known_amount = projects["amount"].dropna()
        st.markdown(f"受益项目 **{len(projects):,}** 个,到户资金 **{fmt.money(known_amount.sum())}**"
                    + (f"({len(projects) - len(known_amount)} 个项目未登记到户金额)"
                       if len(known_amount) < len(projects) else "") + "。")
    table_with_export(projects.assign(amount=in_wan(projects["amount"])).rename(columns={
        "project_id": "项目编号", "name": "项目名称", "category": "项目类别", "year": "年度", "status": "状态",
        "amount": "到户资金(万元)"}), "受益项目", "hh-projects", "没有受益项目记录。")

with tabs[6]:
    watch = fetch(hq.household_monitoring, ctx, hh_id)
    table_with_export(watch.rename(columns={
        "kind": "监测对象类型", "main_risk": "主要风险", "identified_date": "识别日期",
        "removed_date": "风险消除日期", "persons": "人数(人)"}), "防返贫监测", "hh-monitoring",
        "该户未被纳入防返贫监测。")

widgets.back_link()
