"""查询: filter the registry's households, see how many, page through the list, open one, export."""

import math

import streamlit as st

from data_access.report import formatting as fmt
from components import widgets
from components import query_filters as qf
from components.context import current
from components.data import fetch
from components.export import export_buttons, streamed
from components.kpi import Kpi, show
from data_access.queries import households as hq
from components.safe import md
from components.tables import dataframe

ctx = current()

params = st.query_params.to_dict()
# Paging is a display setting: a bad page or size in a link gives the one warning and the default, not an error.
if widgets.read_number("page", 1, 1, 1_000_000) == 1:
    params.pop("page", None)
if widgets.read_choice("size", {str(s): f"每页 {s} 户" for s in hq.PAGE_SIZES}, str(hq.DEFAULT_PAGE_SIZE)) \
        == str(hq.DEFAULT_PAGE_SIZE):
    params.pop("size", None)
params, id_warning = qf.id_search(params)
if id_warning:
    st.warning(id_warning)
try:
    flt = hq.HouseholdFilter.from_params(params)
except hq.FilterError as exc:
    st.error("**查询条件有误**\n\n" + "\n".join(f"- {md(m)}" for m in exc.messages))
    st.button("清除查询条件", on_click=qf.clear_filters, type="primary")
    st.stop()

search_error = qf.search_box(flt)
if search_error:
    st.warning(search_error)

years = list(range(ctx.first_year, ctx.last_year + 1))


def show_filters() -> None:
    """The filter panel; above the county (hundreds of thousands of cadres) 帮扶责任人 lists one unit's cadres."""
    if ctx.scope.level in ("province", "city"):
        units = fetch(hq.unit_options, ctx)
        helpers = fetch(hq.helper_options, ctx, flt.unit) if flt.unit else None
        qf.filter_panel(flt, years, helpers, units)
    else:
        qf.filter_panel(flt, years, fetch(hq.helper_options, ctx))

try:
    result = fetch(hq.query_page, ctx, flt, ctx.year, masked=ctx.masked)
except hq.FilterError as exc:
    st.warning("\n".join(exc.messages))
    show_filters()
    st.stop()
totals = result

show([
    Kpi("符合条件的户数(户)", fmt.count(totals["households"])),
    Kpi("符合条件的人数(人)", fmt.count(totals["persons"])),
], per_row=2)
notes = [f"脱贫状态、监测与帮扶按 {ctx.year_end}计"]
if result["income_year"]:
    line = f",{result['line_kind']} {result['line']:,} 元" if result["line"] else ",该年无标准线数据"
    notes.append(f"收入为 {result['income_year']} 年年人均纯收入{line}")
elif {"income", "line_margin"} & set(flt.columns):
    notes.append("本范围没有收入数据")
st.caption(";".join(notes) + "。")
if totals["households"] == 0:
    if flt.q:
        kind, _ = hq.classify_search(flt.q)
        what = {"hh_id": "户编号", "id_number": "身份证号", "name": "姓名"}[kind]
        st.info(f"在{md(ctx.region_name)}范围内没有找到{what}为“{md(flt.q) if kind != 'id_number' else '该号码'}”的农户"
                "(或该户不满足其他筛选条件)。")
    else:
        st.info("没有符合条件的农户。可放宽或清除筛选条件。")
if ctx.present and totals["households"]:  # one projector screen: the counts and the first households
    first_rows = result["rows"].head(2)
    dataframe(first_rows.rename(columns=hq.headers(first_rows.columns)), hide_index=True, height=110)
    st.stop()
show_filters()
if totals["households"] == 0:
    st.stop()

qf.list_controls(flt, totals["households"])
pages = max(1, math.ceil(totals["households"] / flt.page_size))
rows = result["rows"]
page_no = flt.page
if flt.page > pages:
    st.warning(f"第 {flt.page} 页超出范围(共 {pages:,} 页),已显示最后一页。")
    page_no = pages
    rows = fetch(hq.list_page, ctx, flt, ctx.year, masked=ctx.masked, page=page_no)
table = rows.rename(columns=hq.headers(rows.columns))

first = (page_no - 1) * flt.page_size + 1
st.markdown(f"第 **{first:,}–{first + len(rows) - 1:,}** 户,共 **{totals['households']:,}** 户。"
            "勾选行首方框打开该户档案。")
event = dataframe(
    table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
    key=f"query-list-{page_no}", height=min(38 + 35 * len(table), 720),
    column_config={"年人均纯收入(元)": st.column_config.NumberColumn(format="%.2f"),
                   "高于标准线(%)": st.column_config.NumberColumn(format="%.2f")},
)
qf.pager(flt, pages)
picked = event.selection.rows if event is not None else []
if picked:
    hh = rows.iloc[picked[0]]["hh_id"]
    widgets.go("household", hh=hh)
if totals["households"] == 1:
    widgets.link("household", f"打开户档案:{rows.iloc[0].get('head_name') or rows.iloc[0]['hh_id']}",
             hh=rows.iloc[0]["hh_id"])

st.divider()
export_buttons(streamed(hq.iter_export, ctx, flt, ctx.year, masked=ctx.masked), "农户查询名单",
               "query-export", ctx, total=totals["households"])
