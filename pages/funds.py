"""资金项目: where the money came from, where it went, and whether it is spent."""

import altair as alt
import pandas as pd
import streamlit as st

from components import figures, widgets
from components.charts import flow
from data_access.report import money as amounts
from data_access.report import formatting as fmt
from components.charts.style import with_table
from components.context import current
from components.data import fetch
from components.figures import Figure
from data_access.report.palette import BAD, GOOD, NEUTRAL
from data_access.codes import FUND_SOURCES, REGION_LEVEL_LABELS, industry_share_threshold, is_consolidation_year
from data_access.queries import consolidation, funds
from data_access.definitions import funds_rate_label
from components.safe import esc, md
from components.tables import dataframe

MONEY_WORDS = {"allocated": "下达", "arranged": "安排", "paid": "拨付", "spent": "支出"}
VIEWS = {"flow": "资金流向", "exec": "执行进度", "alloc": "资金下达", "projects": "项目清单",
         "benefit": "户均投入", "problems": "数据问题"}
IDLE_DAYS_DEFAULT = 90
PRESENT_FLOW_HEIGHT = 285  # presentation mode: the first screen (1280×720) holds figures and flow

ctx = current()
sel = flow.read_selection()
if not ctx.present or sel.params or ctx.scope.level not in ("province", "city", "county"):
    flow.money_path(ctx, sel)

as_of = ctx.as_of
total = fetch(funds.execution, ctx, ctx.year, sel.source, sel.category)
problems_year = fetch(funds.data_problems, ctx, ctx.year)
by_allocation = total["base"] == "allocated"
base_word = "下达" if by_allocation else "安排"
unit = amounts.unit_for(total["base_amount"], total["arranged"], total["paid"], total["spent"])  # tables
said = amounts.headline_unit(total["base_amount"], total["arranged"], total["paid"], total["spent"])  # read aloud
child_level = ctx.scope.child_level
child_word = REGION_LEVEL_LABELS.get(child_level, "下级") if child_level else None


cards = [Figure(f"资金{base_word}({said.name})", said.text(total["base_amount"], with_unit=False),
                f"{fmt.count(total['projects'])} 个项目")]
if by_allocation:
    cards.append(Figure(f"已安排({said.name})", said.text(total["arranged"], with_unit=False),
                        f"未安排 {said.text(total['unarranged'])}"))
else:
    cards.append(Figure(f"已拨付未支出({said.name})", said.text(total["paid"] - total["spent"], with_unit=False),
                        "在实施单位尚未支出", help="拨付 − 支出"))
cards += [
    Figure(funds_rate_label("拨付率", total["base"]), fmt.percent(total["paid_rate"]),
           f"已拨付 {said.text(total['paid'])}", help=f"拨付率 = 拨付 ÷ {base_word}"),
    Figure(funds_rate_label("支出进度", total["base"]), fmt.percent(total["spent_rate"]),
           f"已支出 {said.text(total['spent'])}", help=f"支出进度 = 支出 ÷ {base_word}"),
]
if ctx.present:  # one line of big figures, so the flow fits the first screen
    headline = [cards[0], *cards[2:]]
    st.html("<div style='font-size:1.4rem;line-height:1.5;white-space:nowrap'>" + " · ".join(
        f"{c.label.split('(')[0]} <b style='font-size:1.9rem'>{c.value}</b>"
        f"{'' if '(%' in c.label else ' ' + said.name}" for c in headline) + "</div>")
else:
    figures.row(cards, key="funds-figures")

if by_allocation:
    subject = sel.source or "各类扶贫资金"
    sentence = (f"{ctx.year}年,{esc(ctx.region_name)}下达{esc(subject)}{said.text(total['allocated'])},"
                f"已安排到项目{said.text(total['arranged'])};拨付{said.text(total['paid'])},"
                f"拨付率{fmt.percent(total['paid_rate'])};支出{said.text(total['spent'])},"
                f"支出进度{fmt.percent(total['spent_rate'])}。共{fmt.count(total['projects'])}个项目。")
else:
    subject = (sel.source or "扶贫资金") + (f"中{sel.category}类项目" if sel.category else "")
    sentence = (f"{ctx.year}年,{esc(ctx.region_name)}{esc(subject)}安排资金{said.text(total['arranged'])};"
                f"拨付{said.text(total['paid'])},拨付率{fmt.percent(total['paid_rate'])};"
                f"支出{said.text(total['spent'])},支出进度{fmt.percent(total['spent_rate'])}(均以安排为基数)。"
                f"共{fmt.count(total['projects'])}个项目。")

# 2021 onward: 衔接资金 by level and its 产业发展 share (linkage_view)
views = dict(VIEWS, linkage="衔接资金") if is_consolidation_year(ctx.year) else VIEWS
view_names = {label: key for key, label in views.items()}
picked_view = widgets.choice("view", "查看", {label: label for label in view_names}, VIEWS["flow"],
                             label_visibility="collapsed")
view = view_names.get(picked_view, "flow")
if len(problems_year) and view != "problems" and not ctx.present:
    st.caption(f"{ctx.year}年发现 {len(problems_year)} 条数据问题(如项目无地点、支出超过拨付),见“数据问题”。")
state_key = f"{ctx.scope.code}-{ctx.year}-{sel.source}-{sel.category}"


def rate_chart(df: pd.DataFrame, overall: float | None, title: str) -> alt.Chart:
    """支出进度 bars (slowest on top, orange below the overall pace) with 拨付率 ticks."""
    data = df.assign(label=df["name"], 支出进度=df["spent_rate"], 拨付率=df["paid_rate"],
                     behind=[(r is not None and overall is not None and r < overall) for r in df["spent_rate"]])
    order = list(data["label"])
    pick = alt.selection_point(name="pick", fields=["key"], on="click")
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelFontSize=16, labelLimit=260))
    bars = alt.Chart(data).mark_bar(height={"band": 0.7}).encode(
        y=y, x=alt.X("支出进度:Q", title="支出进度(%)  ▏黑色竖线:拨付率", scale=alt.Scale(domain=[0, 100])),
        color=alt.condition("datum.behind", alt.value(BAD), alt.value(GOOD)),
        tooltip=[alt.Tooltip("label:N", title=title), alt.Tooltip("支出进度:Q", format=".2f"),
                 alt.Tooltip("拨付率:Q", format=".2f")],
    ).add_params(pick)
    ticks = alt.Chart(data).mark_tick(color="#000", thickness=3, size=22).encode(y=y, x="拨付率:Q")
    text = alt.Chart(data).mark_text(align="left", dx=4, fontSize=15).encode(
        y=y, x="支出进度:Q", text=alt.Text("支出进度:Q", format=".2f"))
    layers = [bars, ticks, text]
    if overall is not None:
        layers.append(alt.Chart(pd.DataFrame({"x": [overall]})).mark_rule(strokeDash=[6, 4], color=NEUTRAL,
                                                                           size=2).encode(x="x:Q"))
    return alt.layer(*layers)


def execution_table(df: pd.DataFrame, first: str, tunit: amounts.MoneyUnit) -> pd.DataFrame:
    cols = ["allocated", "arranged", "paid", "spent"] if df["allocated"].notna().any() else ["arranged", "paid",
                                                                                                "spent"]
    table = amounts.with_total(df[["name", *cols, "paid_rate", "spent_rate"]], "name", cols, tunit,
                               rate_cols={"paid_rate": ("paid", cols[0]), "spent_rate": ("spent", cols[0])})
    base = "allocated" if cols[0] == "allocated" else "arranged"
    names = {"name": first, "allocated": f"下达({tunit.name})", "arranged": f"安排({tunit.name})",
             "paid": f"拨付({tunit.name})", "spent": f"支出({tunit.name})",
             "paid_rate": funds_rate_label("拨付率", base), "spent_rate": funds_rate_label("支出进度", base)}
    return table.rename(columns=names)


def execution_note(df: pd.DataFrame, tunit: amounts.MoneyUnit) -> None:
    """The footnote when the rows, each rounded on its own, do not add up to the 合计 row."""
    cols = ["allocated", "arranged", "paid", "spent"] if df["allocated"].notna().any() else ["arranged", "paid",
                                                                                                "spent"]
    note = amounts.columns_note(df, cols, tunit, MONEY_WORDS)
    if note:
        st.caption(note)


def money_config(table: pd.DataFrame, tunit: amounts.MoneyUnit) -> dict:
    return {c: st.column_config.NumberColumn(format=tunit.number_format) for c in table.columns
            if c.endswith(f"({tunit.name})")} | {
        c: st.column_config.NumberColumn(format="%.2f") for c in table.columns if c.startswith(("拨付率", "支出进度"))}


def show_table(table: pd.DataFrame, tunit: amounts.MoneyUnit, **kw):
    return dataframe(table, hide_index=True, width="stretch", column_config=money_config(table, tunit), **kw)


def picked(event) -> str | None:
    try:
        values = event["selection"]["pick"]
    except (KeyError, TypeError):
        return None
    return values[0].get("key") if values else None


def linkage_view():
    """衔接资金 (2021–) by level, and the share of 中央衔接资金 arranged to 产业发展 projects against the
    deployment's threshold (codes.industry_share_threshold), for the scope and per child region, laggards named."""
    levels = fetch(consolidation.linkage_by_level, ctx, ctx.year)
    threshold = industry_share_threshold(ctx.year)
    share = fetch(consolidation.industry_share, ctx, ctx.year, threshold)
    lunit = amounts.unit_for(*levels["allocated"].dropna(), *levels["arranged"])
    st.subheader(f"{ctx.year}年财政衔接推进乡村振兴补助资金(衔接资金)")
    cols = ["allocated", "arranged", "paid", "spent"] if levels["allocated"].notna().any() else \
        ["arranged", "paid", "spent"]
    base = cols[0]
    table = amounts.with_total(levels[["level", *cols, "spent_rate"]], "level", cols, lunit,
                               rate_cols={"spent_rate": ("spent", base)})
    table = table.rename(columns={"level": "级次", "allocated": f"下达({lunit.name})",
                                  "arranged": f"安排({lunit.name})", "paid": f"拨付({lunit.name})",
                                  "spent": f"支出({lunit.name})", "spent_rate": "支出进度(%)"})
    show_table(table, lunit, key="linkage-levels")
    rule = (f"{ctx.year}年对照要求 {threshold:g}%(部署配置;默认值为中央一号文件的力争目标:2022年“力争提高到55%以上”,"
            "2023年“力争提高到60%以上”,此后沿用;以本省当年文件为准)") if threshold is not None else \
        f"{ctx.year}年未设定产业发展比重要求"
    st.markdown(f"**中央衔接资金用于产业发展的比重:{fmt.percent(share['central_share'])}**(按安排到项目的金额计);"
                f"全部衔接资金 {fmt.percent(share['linkage_share'])}。{rule}。")
    if share["below"]:
        st.warning(f"{ctx.region_name}中央衔接资金产业发展比重 {fmt.percent(share['central_share'])},"
                   f"低于 {threshold:g}%。")
    if child_level is None:
        return
    per = fetch(consolidation.industry_share_by_region, ctx, ctx.year, threshold)
    punit = amounts.unit_for(*per["central_arranged"], *per["linkage_arranged"])
    shown = pd.DataFrame({
        child_word: per["name"],
        f"中央衔接资金安排({punit.name})": [punit.value(v) for v in per["central_arranged"]],
        f"其中产业发展({punit.name})": [punit.value(v) for v in per["central_industry"]],
        "产业发展比重(%)": per["central_share"],
        "全部衔接资金产业比重(%)": per["linkage_share"],
        "低于要求": ["是" if b else "" for b in per["below"]],
    })
    show_table(shown, punit, key="linkage-regions")
    laggards = per[per["below"]].sort_values("central_share")
    if threshold is not None and not laggards.empty:
        st.markdown(f"**产业发展比重低于 {threshold:g}% 的{child_word}:**" + "、".join(
            f"{n}({fmt.percent(s)})" for n, s in zip(laggards["name"], laggards["central_share"])))
    elif threshold is not None:
        st.success(f"各{child_word}中央衔接资金产业发展比重均不低于 {threshold:g}%(无中央衔接资金的不计)。")


# ---- 资金流向 ----------------------------------------------------------------------------
if view == "flow":
    if not ctx.present:
        st.subheader(f"资金从哪里来、到哪里去({unit.name})")
    rows = fetch(funds.flow, ctx, ctx.year, sel.source, sel.category)
    if not ctx.present:
        st.markdown(f"<div style='font-size:1.15rem;margin:0 0 0.4rem 0'>{sentence}</div>", unsafe_allow_html=True)
    clicked = flow.show(rows, unit, key=f"flow-{state_key}", with_place=ctx.scope.level != "village",
                        max_height=PRESENT_FLOW_HEIGHT if ctx.present else None)
    if not ctx.present and not rows.empty and rows["project_id"].isna().all() and ctx.scope.level != "village":
        st.caption(f"项目较多(超过{funds.MAX_PROJECT_NODES}个),流向图画到{child_word or '地点'};"
                   "点击来源、类别或地点继续细分,全部项目见“项目清单”。")
    if clicked is not None:
        flow.narrow_to(clicked, sel, ctx)

# ---- 执行进度 ----------------------------------------------------------------------------
elif view == "exec":
    parts = [("source", "资金来源"), ("category", "项目类别")]
    if child_level:
        parts.append(("region", child_word))
    for by, title in parts:
        overall = total["spent_rate"] if by == "source" else total["spent_rate_arranged"]
        df = fetch(funds.execution_by, ctx, ctx.year, by, sel.source, sel.category)
        st.subheader(f"按{title}:支出进度,慢的在上")
        if df.empty:
            st.info("没有资金记录。")
            continue
        tunit = amounts.unit_for(*df["arranged"], *df["allocated"].dropna())
        event = with_table(rate_chart(df, overall, title), execution_table(df, title, tunit),
                           key=f"exec-{by}-{state_key}", height=max(160, 44 * len(df)),
                           on_select="rerun", selection_mode="pick")
        choice = picked(event)
        if choice:
            if by == "source":
                flow.apply(source=choice, category=sel.category)
            elif by == "category":
                flow.apply(source=sel.source, category=choice)
            else:
                flow.apply(region=choice, source=sel.source, category=sel.category)
        st.caption(f"橙色:支出进度低于{md(ctx.region_name)}整体({fmt.percent(overall)},灰色虚线);"
                   f"{'以下达为基数' if by == 'source' and by_allocation else '以安排为基数'};点击条形可筛选。")
        execution_note(df, tunit)

    st.subheader(f"{ctx.year}年逐月累计进度与均衡进度")
    months = fetch(funds.monthly_progress, ctx, ctx.year, sel.source, sel.category)
    if ctx.year == as_of.year:
        months = months[months["month"] <= as_of.month]
    long = pd.concat([
        pd.DataFrame({"月份": months["month"], "指标": "拨付进度", "进度(%)": months["cum_paid_rate"]}),
        pd.DataFrame({"月份": months["month"], "指标": "支出进度", "进度(%)": months["cum_spent_rate"]}),
        pd.DataFrame({"月份": months["month"], "指标": "均衡进度", "进度(%)": months["even_pace"]}),
    ])
    line = alt.Chart(long).mark_line(point=True, strokeWidth=3).encode(
        x=alt.X("月份:O", title="月份", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("进度(%):Q", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("指标:N", scale=alt.Scale(domain=["拨付进度", "支出进度", "均衡进度"],
                                                   range=[GOOD, BAD, NEUTRAL]), title=None),
        strokeDash=alt.StrokeDash("指标:N", scale=alt.Scale(domain=["拨付进度", "支出进度", "均衡进度"],
                                                              range=[[1, 0], [1, 0], [6, 4]]), legend=None),
        tooltip=["月份:O", "指标:N", alt.Tooltip("进度(%):Q", format=".2f")],
    )
    munit = amounts.unit_for(total["base_amount"])
    table = pd.DataFrame({
        "月份": months["month"],
        f"当月拨付({munit.name})": amounts.own_values(months["paid"], munit),
        f"当月支出({munit.name})": amounts.own_values(months["spent"], munit),
        f"累计拨付({munit.name})": [munit.value(v) for v in months["cum_paid"]],
        f"累计支出({munit.name})": [munit.value(v) for v in months["cum_spent"]],
        "拨付进度(%)": months["cum_paid_rate"], "支出进度(%)": months["cum_spent_rate"],
        "均衡进度(%)": months["even_pace"],
    })
    with_table(line, table, key=f"months-{state_key}", height=340)
    st.caption(f"进度 = 截至当月末累计金额 ÷ {base_word}金额;均衡进度 = 月份 ÷ 12。")

# ---- 资金下达 ----------------------------------------------------------------------------
elif view == "alloc":
    by_source = fetch(funds.execution_by, ctx, ctx.year, "source", sel.source, sel.category)
    order = {s: i for i, s in enumerate(FUND_SOURCES)}
    by_source = by_source.sort_values("key", key=lambda s: s.map(lambda v: order.get(v, 99))).reset_index(drop=True)
    st.subheader(f"按资金来源汇总({unit.name})")
    if by_source.empty:
        st.info("没有资金记录。")
    else:
        show_table(execution_table(by_source, "资金来源", unit), unit)
        execution_note(by_source, unit)
        st.caption(f"拨付率、支出进度以{'下达' if by_source['allocated'].notna().any() else '安排'}为基数。")
    detail = fetch(funds.allocations, ctx, ctx.year, sel.source, sel.category)
    st.subheader(f"资金下达明细(按文号,{unit.name})")
    if not by_allocation:
        st.caption("本范围不是资金下达单位:下列为各笔资金安排到本范围项目的部分,进度以安排为基数。")
    if not detail.empty:
        cols = ["allocated", "arranged", "paid", "spent"] if by_allocation else ["arranged", "paid", "spent"]
        shown = detail[["source", "doc_no", "name", "allocated_date", *cols, "paid_rate", "spent_rate"]]
        table = amounts.with_total(shown, "source", cols, unit,
                                   rate_cols={"paid_rate": ("paid", cols[0]), "spent_rate": ("spent", cols[0])})
        table = table.rename(columns={
            "source": "资金来源", "doc_no": "文号", "name": "资金名称", "allocated_date": "下达日期",
            "allocated": f"下达({unit.name})", "arranged": f"安排({unit.name})", "paid": f"拨付({unit.name})",
            "spent": f"支出({unit.name})", "paid_rate": funds_rate_label("拨付率", total["base"]),
            "spent_rate": funds_rate_label("支出进度", total["base"])})
        show_table(table, unit)
        st.caption(f"拨付率、支出进度以{base_word}为基数。")
        note = amounts.columns_note(shown, cols, unit, MONEY_WORDS, "明细各行")
        if note:
            st.caption(note)

# ---- 项目清单 ----------------------------------------------------------------------------
elif view == "projects":
    c1, c2 = st.columns([1, 2])
    with c1:
        days = widgets.number("days", "拨付后未支出超过(天)", IDLE_DAYS_DEFAULT, 1, 3650, 30)
    with c2:
        only_flagged = widgets.toggle("flagged", "只看预警项目(逾期或资金滞留)")
    plist = fetch(funds.projects, ctx, ctx.year, as_of, int(days), sel.source, sel.category)
    if plist.empty:
        st.info("所选范围和年度没有项目。")
    else:
        late, idle = plist["late"], plist["idle_amount"] > 0
        punit = amounts.unit_for(*plist["arranged"], *plist["budget"])
        figures.row([
            Figure("项目(个)", fmt.count(len(plist))),
            Figure("逾期项目(个)", fmt.count(int(late.sum())),
                   help=f"计划完工日已过(截至{as_of})仍未完工,或实际完工晚于计划"),
            Figure("资金滞留项目(个)", fmt.count(int(idle.sum())), help=f"拨付超过{int(days)}天仍未支出的资金"),
            Figure(f"滞留资金({punit.name})", punit.text(int(plist.loc[idle, 'idle_amount'].sum()), with_unit=False),
                   help=f"拨付超过{int(days)}天仍未支出的金额合计"),
        ], key="projects-figures")
        if only_flagged:
            plist = plist[late | idle].reset_index(drop=True)

        def warning(r) -> str:
            parts = []
            if r.late:
                parts.append(f"逾期{int(r.late_days)}天" + ("" if r.actual_end else "未完工"))
            if r.idle_amount > 0:
                parts.append(f"拨付超{int(days)}天未支出{punit.text(r.idle_amount)}")
            return ";".join(parts)

        table = pd.DataFrame({
            "预警": [warning(r) for r in plist.itertuples()],
            "项目名称": plist["name"], "项目类别": plist["category"], "地点": plist["place_name"],
            "乡镇": plist["town_name"], "年度": plist["year"], "状态": plist["status"],
            f"预算({punit.name})": [punit.value(v) for v in plist["budget"]],
            f"安排({punit.name})": amounts.own_values(plist["arranged"], punit),
            f"拨付({punit.name})": amounts.own_values(plist["paid"], punit),
            f"支出({punit.name})": amounts.own_values(plist["spent"], punit),
            "计划开工": plist["planned_start"], "计划完工": plist["planned_end"],
            "实际开工": plist["actual_start"], "实际完工": plist["actual_end"],
            "受益户(户)": plist["beneficiary_households"], "受益贫困户(户)": plist["beneficiary_poor_households"],
            "受益人口(人)": plist["beneficiary_persons"],
        })
        st.caption(f"共 {len(plist)} 个项目;点击一行打开项目档案(资金往来与受益户)。")
        event = show_table(table, punit, key=f"plist-{state_key}-{int(days)}-{only_flagged}", on_select="rerun",
                           selection_mode="single-row", height=min(640, 38 + 35 * len(table)))
        rows = event.selection.rows if event is not None else []
        if rows:
            widgets.go("project", project=plist.iloc[rows[0]]["project_id"], **sel.params)

# ---- 户均投入 ----------------------------------------------------------------------------
elif view == "benefit":
    span = widgets.choice("span", "口径", {"累计": "累计", "当年": "当年"}, "累计",
                          help=f"累计:{ctx.first_year}–{ctx.year}年各年资金合计;当年:{ctx.year}年")
    cumulative = span != "当年"
    when = f"截至{ctx.year}年累计" if cumulative else f"{ctx.year}年"
    per = fetch(funds.per_beneficiary, ctx, ctx.year, sel.source, sel.category, "child", cumulative)
    st.subheader(f"{when}安排资金:户均与人均(元)")
    regional = per[per["households"].notna() & (per["households"] > 0)]
    if regional.empty:
        st.info("没有建档立卡户。")
    else:
        data = regional.assign(户均=regional["per_household"], 人均=regional["per_person"], 地区=regional["name"])
        median = float(data.loc[data["arranged"] > 0, "户均"].median()) if (data["arranged"] > 0).any() else None
        bars = alt.Chart(data).mark_bar().encode(
            y=alt.Y("地区:N", sort=list(data["地区"]), title=None),
            x=alt.X("户均:Q", title="户均安排资金(元/户)"),
            color=alt.condition("datum.outlier", alt.value(BAD), alt.value(GOOD)),
            tooltip=["地区:N", alt.Tooltip("户均:Q", format=",.0f"), alt.Tooltip("人均:Q", format=",.0f")],
        )
        layers = [bars, alt.Chart(data).mark_text(align="left", dx=4, fontSize=15).encode(
            y=alt.Y("地区:N", sort=list(data["地区"])), x="户均:Q", text=alt.Text("户均:Q", format=",.0f"))]
        if median:
            layers.append(alt.Chart(pd.DataFrame({"x": [median]})).mark_rule(strokeDash=[6, 4], color=NEUTRAL,
                                                                               size=2).encode(x="x:Q"))
        bunit = amounts.unit_for(*per["arranged"])
        table = amounts.with_total(per[["name", "arranged", "households", "persons", "per_household", "per_person",
                                        "outlier"]], "name", ["arranged"], bunit)
        table["households"] = pd.to_numeric(table["households"])
        table["persons"] = pd.to_numeric(table["persons"])
        tot = table.index[-1]
        table.loc[tot, ["households", "persons"]] = [per["households"].sum(), per["persons"].sum()]
        arranged_total = int(per["arranged"].sum())
        table.loc[tot, "per_household"] = fmt.ratio(arranged_total, per["households"].sum()) \
            if per["households"].sum() else None
        table.loc[tot, "per_person"] = fmt.ratio(arranged_total, per["persons"].sum())
        table["outlier"] = table["outlier"].map(lambda v: "明显偏高" if v is True else "")
        table = table.rename(columns={"name": "地区", "arranged": f"安排资金({bunit.name})",
                                      "households": "建档立卡户(户)", "persons": "建档立卡人口(人)",
                                      "per_household": "户均(元/户)", "per_person": "人均(元/人)",
                                      "outlier": f"户均超过中位数{funds.OUTLIER_FACTOR:g}倍"})
        event = with_table(alt.layer(*layers), table, key=f"benefit-{state_key}-{cumulative}",
                           height=max(160, 36 * len(data)))
        st.caption(f"灰色虚线:有资金的{child_word or '地区'}户均中位数;橙色:超过中位数{funds.OUTLIER_FACTOR:g}倍。"
                   "户数为截至当年的建档立卡户(含已脱贫)。")
        note = amounts.columns_note(per, ["arranged"], bunit, MONEY_WORDS)
        if note:
            st.caption(note)
    if ctx.scope.level != "village":
        villages = fetch(funds.per_beneficiary, ctx, ctx.year, sel.source, sel.category, "village", cumulative)
        odd = villages[villages["outlier"]]
        st.subheader(f"户均投入明显偏高的村({len(odd)}个,超过有资金村中位数{funds.OUTLIER_FACTOR:g}倍)")
        if odd.empty:
            st.info("没有户均投入明显偏高的村。")
        else:
            vunit = amounts.unit_for(*odd["arranged"])
            dataframe(pd.DataFrame({
                "村": odd["name"], f"安排资金({vunit.name})": [vunit.value(v) for v in odd["arranged"]],
                "建档立卡户(户)": odd["households"], "户均(元/户)": odd["per_household"],
                "人均(元/人)": odd["per_person"],
            }), hide_index=True, width="stretch", column_config={
                f"安排资金({vunit.name})": st.column_config.NumberColumn(format=vunit.number_format),
                "户均(元/户)": st.column_config.NumberColumn(format="%.0f"),
                "人均(元/人)": st.column_config.NumberColumn(format="%.0f")})

# ---- 数据问题 ----------------------------------------------------------------------------
elif view == "problems":
    every_year = widgets.toggle("all_years", "检查全部年度")
    found = fetch(funds.data_problems, ctx, None) if every_year else problems_year
    st.subheader(f"数据问题:{len(found)} 条({'全部年度' if every_year else f'{ctx.year}年'})")
    st.caption("规则:支出 ≤ 拨付 ≤ 安排 ≤ 下达;每个项目须有所在乡镇或村;资金流水须有对应安排;金额为正。"
               "这些记录在图表中单独标出(如“地点缺失”),不会被悄悄计入某个地方。")
    if found.empty:
        st.success("未发现数据问题。")
    else:
        punit = amounts.unit_for(*found["amount"].dropna(), *found["compared_to"].dropna())

        def explain(r) -> str:
            if pd.notna(r.amount) and pd.notna(r.compared_to):
                return f"{r.detail}:{punit.text(r.amount)} > {punit.text(r.compared_to)}"
            if pd.notna(r.amount):
                return f"{r.detail}:{punit.text(r.amount)}"
            return r.detail

        table = pd.DataFrame({
            "问题": found["problem"], "对象": found["object_kind"], "编号": found["object_id"],
            "名称": found["name"], "说明": [explain(r) for r in found.itertuples()],
        })
        event = show_table(table, punit, key=f"problems-{state_key}-{every_year}", on_select="rerun",
                           selection_mode="single-row")
        st.caption("点击项目所在行,打开项目档案。")
        rows = event.selection.rows if event is not None else []
        if rows and found.iloc[rows[0]]["object_kind"] == "项目":
            widgets.go("project", project=found.iloc[rows[0]]["object_id"], **sel.params)

elif view == "linkage":
    linkage_view()
