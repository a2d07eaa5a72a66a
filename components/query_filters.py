"""The query page's filter panel: every widget mirrors one URL parameter (the URL is the state).

Each run sets the widgets from the parsed ``HouseholdFilter`` (so a link, the back button or
"清除条件" shows the right values); a change writes its parameter to ``st.query_params``
and goes back to page 1. Values are validated again by ``HouseholdFilter.from_params``.

One exception: a search by ID number never enters the URL (nor the browser history or a Referer). It is
kept in this session under a random key and the URL holds only ``?qid=<key>`` (``id_search``).
"""

from __future__ import annotations

import secrets

import pandas as pd
import streamlit as st

from data_access.codes import (
    CAUSES, HOUSE_GRADES, HOUSEHOLD_ATTRIBUTES, HOUSEHOLD_STATUSES, MONITORING_KINDS, MONITORING_RISKS,
)
from data_access.queries.households import (
    COLUMNS, DEFAULT_COLUMNS, HOUSE_DANGER, PAGE_SIZES, SORTABLE, FilterError, HouseholdFilter,
    classify_search,
)

ANY = "不限"
YES_NO = {ANY: None, "是": "1", "否": "0"}
HOUSE_LABELS = {HOUSE_DANGER: "C/D级危房", "安全": "安全", "A": "A级", "B": "B级", "C": "C级", "D": "D级"}


def _set_param(name: str, value: str | None, reset_page: bool = True) -> None:
    if value in (None, ""):
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = value
    if reset_page:
        st.query_params.pop("page", None)


def _sync(key: str, value) -> None:
    """Put the URL's value into a widget before it is drawn (never together with a default)."""
    st.session_state[key] = value


def clear_filters() -> None:
    for name in HouseholdFilter.PARAMS + (ID_PARAM,):
        if name not in ("cols", "size", "sort"):
            st.query_params.pop(name, None)


ID_PARAM = "qid"
_ID_SEARCHES = "_qf_id_searches"  # {key: ID number} of this session's ID searches


def _keep_id(number: str) -> str:
    """Keep an ID number searched for in this session; returns the key the URL names it by."""
    kept = st.session_state.setdefault(_ID_SEARCHES, {})
    key = next((k for k, v in kept.items() if v == number), None) or secrets.token_urlsafe(6)
    kept[key] = number
    while len(kept) > 20:
        kept.pop(next(iter(kept)))
    return key


def _is_id_number(text: str) -> bool:
    try:
        return classify_search(text)[0] == "id_number"
    except FilterError:
        return False


def id_search(params: dict) -> tuple[dict, str | None]:
    """The filter's parameters with the session's ID search put back as ``q`` (and a Chinese warning).

    An ID number typed into a link (``?q=<ID>``) is moved out of the URL at once; a ``qid`` of another
    session (a shared or old link) finds nothing and says so.
    """
    params = dict(params)
    raw = str(params.get("q") or "").strip()
    if raw and _is_id_number(raw):
        st.query_params.pop("q", None)
        st.query_params[ID_PARAM] = params[ID_PARAM] = _keep_id(raw)
    key = params.pop(ID_PARAM, None)
    if not key:
        return params, None
    number = st.session_state.get(_ID_SEARCHES, {}).get(str(key))
    if number is None:
        st.query_params.pop(ID_PARAM, None)
        return params, "按身份证号查询的条件不随链接保存(以免号码留在地址栏和浏览记录中),请在搜索框中重新输入。"
    params["q"] = number
    return params, None


def _multi(col, label: str, param: str, options: tuple[str, ...], current: tuple[str, ...],
           labels: dict[str, str] | None = None) -> None:
    key = f"qf-{param}"
    _sync(key, list(current))

    def changed():
        _set_param(param, ",".join(st.session_state[key]))

    col.multiselect(label, options, key=key, on_change=changed, placeholder=ANY,
                    format_func=(lambda v: labels.get(v, v)) if labels else str)


def _yes_no(col, label: str, param: str, current: bool | None, help: str | None = None) -> None:
    key = f"qf-{param}"
    _sync(key, ANY if current is None else ("是" if current else "否"))

    def changed():
        _set_param(param, YES_NO[st.session_state[key]])

    col.selectbox(label, list(YES_NO), key=key, on_change=changed, help=help)


def _year_range(col, label: str, param: str, current, years: list[int]) -> None:
    lo, hi = current or (None, None)
    k_lo, k_hi = f"qf-{param}-from", f"qf-{param}-to"
    _sync(k_lo, lo if lo in years else None)
    _sync(k_hi, hi if hi in years else None)

    def changed():
        a, b = st.session_state[k_lo], st.session_state[k_hi]
        if a is not None and b is not None and a > b:
            a, b = b, a
        if a is None and b is None:
            _set_param(param, None)
        elif a == b:
            _set_param(param, str(a))
        else:
            _set_param(param, f"{a or ''}-{b or ''}")

    options = [None] + years
    fmt = lambda y: ANY if y is None else f"{y}年"  # noqa: E731
    left, right = col.columns(2)
    left.selectbox(f"{label}:从", options, key=k_lo, on_change=changed, format_func=fmt, placeholder=ANY)
    right.selectbox("至", options, key=k_hi, on_change=changed, format_func=fmt, placeholder=ANY)


def _number(col, label: str, param: str, current: float | None, help: str | None = None,
            min_value: float | None = None, max_value: float | None = None, step: float = 100.0) -> None:
    key = f"qf-{param}"
    _sync(key, current)

    def changed():
        value = st.session_state[key]
        _set_param(param, None if value is None else f"{value:g}")

    col.number_input(label, key=key, on_change=changed, help=help, min_value=min_value,
                     max_value=max_value, step=step, placeholder=ANY, format="%g")


def search_box(f: HouseholdFilter) -> str | None:
    """The search field. Returns a Chinese message when the text cannot be searched."""
    key = "qf-q"
    if st.session_state.get("_qf_q_seen") != f.q:
        st.session_state[key] = f.q or ""
        st.session_state["_qf_q_seen"] = f.q

    def changed():
        text = (st.session_state[key] or "").strip()
        if not text:
            _set_param("q", None)
            _set_param(ID_PARAM, None)
            st.session_state.pop("_qf_q_error", None)
            return
        try:
            kind, _ = classify_search(text)
        except FilterError as exc:
            st.session_state["_qf_q_error"] = exc.messages[0]
            return
        st.session_state.pop("_qf_q_error", None)
        if kind == "id_number":
            _set_param("q", None)
            _set_param(ID_PARAM, _keep_id(text))
        else:
            _set_param(ID_PARAM, None)
            _set_param("q", text)

    st.text_input("搜索(户编号、姓名或18位身份证号,回车查询)", key=key, on_change=changed,
                  placeholder="如:5231991012010001 / 张三 / 18位身份证号")
    return st.session_state.pop("_qf_q_error", None)


def filter_panel(f: HouseholdFilter, years: list[int], helpers: pd.DataFrame | None,
                 units: pd.DataFrame | None = None) -> None:
    """All filters of the URL contract, in four columns."""
    with st.container(border=True):
        st.markdown("**筛选条件**" + ("(已设置)" if not f.is_empty() else ""))
        c1, c2, c3, c4 = st.columns(4)
        _multi(c1, "主要致贫原因", "main_cause", CAUSES, f.main_cause)
        _multi(c2, "其他致贫原因", "other_cause", CAUSES, f.other_cause)
        _multi(c3, "贫困户属性", "attribute", HOUSEHOLD_ATTRIBUTES, f.attribute)
        _multi(c4, "脱贫状态(所选年度末)", "status", HOUSEHOLD_STATUSES, f.status)
        c1, c2, c3, c4 = st.columns(4)
        _year_range(c1, "识别年度", "identified_year", f.identified_year, years)
        _year_range(c2, "脱贫年度", "exit_year", f.exit_year, years)
        _number(c3, "年人均纯收入下限(元)", "income_min", f.income_min, min_value=0.0)
        _number(c4, "年人均纯收入上限(元)", "income_max", f.income_max, min_value=0.0)
        c1, c2, c3, c4 = st.columns(4)
        _number(c1, "收入高于标准线不足(%)", "line_margin", f.line_margin, step=5.0, min_value=-100.0,
                max_value=1000.0,
                help="收入低于“贫困线/监测线 ×(1+该比例)”的户。例如 20:高出标准线不到20%(含低于标准线的户)。")
        _yes_no(c2, "易地扶贫搬迁", "relocated", f.relocated)
        _multi(c3, "危房等级", "house", (HOUSE_DANGER,) + HOUSE_GRADES, f.house, HOUSE_LABELS)
        _yes_no(c4, "饮水安全", "water", f.water)
        c1, c2, c3, c4 = st.columns(4)
        _multi(c1, "监测对象类型", "monitoring_kind", tuple(MONITORING_KINDS), f.monitoring_kind)
        _multi(c2, "监测风险类型", "risk", tuple(MONITORING_RISKS), f.risk)
        _yes_no(c3, "风险已消除", "removed", f.removed, help="按所选年度末的状态")
        _helper_pickers(c4, f, helpers, units)
        if not f.is_empty():
            st.button("清除全部条件", key="qf-clear", on_click=clear_filters)


def _helper_pickers(col, f: HouseholdFilter, helpers: pd.DataFrame | None, units: pd.DataFrame | None) -> None:
    """帮扶单位 then 帮扶责任人. ``helpers`` is None when the scope has too many cadres to list and no unit is
    chosen yet (``units`` then lists the units)."""
    if units is None:
        units = helpers.drop_duplicates("unit_id")[["unit_id", "unit_name"]]
    unit_names = dict(zip(units["unit_id"], units["unit_name"]))
    k_unit = "qf-unit"
    _sync(k_unit, f.unit)
    unit_options = [None] + list(unit_names) + ([f.unit] if f.unit and f.unit not in unit_names else [])
    col.selectbox("帮扶单位", unit_options, key=k_unit,
                  on_change=lambda: _set_param("unit", st.session_state[k_unit]),
                  format_func=lambda u: ANY if u is None else unit_names.get(u, f"{u}(本范围内无此单位)"),
                  placeholder=ANY)
    k_helper = "qf-helper"
    if helpers is None:
        st.session_state.pop(k_helper, None)
        col.selectbox("帮扶责任人", [f.helper], key=k_helper, disabled=True,
                      format_func=lambda h: f"编号 {h}" if h else "请先选择帮扶单位",
                      help="本范围帮扶责任人过多,先选帮扶单位再按姓名选人")
        return
    shown = helpers if not f.unit else helpers[helpers["unit_id"] == f.unit]
    names = {h: f"{n}({u})" for h, n, u in zip(shown["helper_id"], shown["name"], shown["unit_name"])}
    _sync(k_helper, f.helper)
    options = [None] + list(names) + ([f.helper] if f.helper and f.helper not in names else [])
    col.selectbox("帮扶责任人", options, key=k_helper,
                  on_change=lambda: _set_param("helper", st.session_state[k_helper]),
                  format_func=lambda h: ANY if h is None else names.get(h, f"{h}(本范围内无此人)"),
                  placeholder=ANY)


def list_controls(f: HouseholdFilter, total: int) -> None:
    """Columns shown, sort, page size and page number (all in the URL)."""
    c1, c2, c3 = st.columns([5, 3, 2])
    k_cols = "qf-cols"
    _sync(k_cols, list(f.columns))

    def cols_changed():
        chosen = [c for c in COLUMNS if c in st.session_state[k_cols]] or list(DEFAULT_COLUMNS)
        _set_param("cols", None if tuple(chosen) == DEFAULT_COLUMNS else ",".join(chosen), reset_page=False)

    c1.multiselect("显示的列", list(COLUMNS), key=k_cols, on_change=cols_changed,
                   format_func=lambda c: COLUMNS[c].header)
    k_sort, k_dir = "qf-sort", "qf-dir"
    _sync(k_sort, f.sort_key)
    _sync(k_dir, "降序" if f.descending else "升序")

    def sort_changed():
        key = st.session_state[k_sort]
        value = ("-" if st.session_state[k_dir] == "降序" else "") + key
        _set_param("sort", None if value == "hh_id" else value)

    s1, s2 = c2.columns([3, 2])
    s1.selectbox("排序", list(SORTABLE), key=k_sort, on_change=sort_changed,
                 format_func=lambda c: COLUMNS[c].header)
    s2.selectbox("顺序", ["升序", "降序"], key=k_dir, on_change=sort_changed)
    k_size = "qf-size"
    _sync(k_size, f.page_size)
    c3.selectbox("每页行数", list(PAGE_SIZES), key=k_size,
                 on_change=lambda: _set_param("size", None if st.session_state[k_size] == 50
                                              else str(st.session_state[k_size])))


def pager(f: HouseholdFilter, pages: int) -> None:
    """Previous / page number / next; writes ``page`` to the URL."""
    if pages <= 1:
        return
    k_page = "qf-page"
    _sync(k_page, min(f.page, pages))

    def go(page: int):
        page = max(1, min(page, pages))
        _set_param("page", None if page == 1 else str(page), reset_page=False)

    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        st.button("‹ 上一页", key="qf-prev", disabled=f.page <= 1, on_click=go, args=(f.page - 1,))
        st.number_input(f"页码(共 {pages:,} 页)", min_value=1, max_value=pages, step=1, key=k_page,
                        on_change=lambda: go(int(st.session_state[k_page])), width=160)
        st.button("下一页 ›", key="qf-next", disabled=f.page >= pages, on_click=go, args=(f.page + 1,))
