"""Page settings kept in the URL, drill-through links and household lists (致贫原因 / 脱贫进度 pages).

A setting lives in ``st.query_params`` under its own name, so a copied link reopens the same view.
A bad value in the URL gives a Chinese warning and the default is used.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import format as fmt
from . import nav
from data_access.scope import Scope


def _warn_bad(param: str, raw: str, shown: str) -> None:
    st.warning(f"链接参数 {param}=“{str(raw)[:24]}” 无效,已按“{shown}”显示。")


def _write_param(param: str, value, default) -> None:
    if value == default:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = str(value)
    st.rerun()


def url_value(param: str, options: dict, default, *, allow_none: bool = False, warn: bool = True):
    """The URL parameter ``param`` if it is one of ``options`` (compared as text), else ``default``."""
    raw = st.query_params.get(param)
    if raw is None:
        return default
    match = [k for k in options if str(k) == raw]
    if match:
        return match[0]
    if warn and not (allow_none and raw == ""):
        _warn_bad(param, raw, options.get(default, "不选") if default is not None else "不选")
    return default


def url_choice(param: str, label: str, options: dict, default, *, allow_none: bool = False,
               help: str | None = None):
    """A segmented control whose value is the URL parameter ``param`` (keys of ``options`` are the
    values written to the URL, its values the labels). Returns the chosen key (None if allowed)."""
    value = url_value(param, options, default, allow_none=allow_none)
    picked = st.segmented_control(
        label, list(options), default=value, format_func=lambda k: options[k], key=f"{param}={value}",
        required=not allow_none, help=help,
    )
    if picked != value and (picked is not None or allow_none):
        _write_param(param, picked if picked is not None else "", default if default is not None else "")
    return value


def url_number(param: str, label: str, default: float, low: float, high: float, step: float = 1.0,
               help: str | None = None) -> float:
    """A number input whose value is the URL parameter ``param`` (checked against ``low``–``high``)."""
    raw = st.query_params.get(param)
    value = default
    if raw is not None:
        try:
            number = float(raw)
        except ValueError:
            number = None
        if number is not None and low <= number <= high:
            value = number
        else:
            _warn_bad(param, raw, f"{default:g}")
    typed = st.number_input(label, min_value=float(low), max_value=float(high), value=float(value),
                            step=float(step), format="%g", key=f"{param}={value}", help=help)
    if typed is not None and typed != value:
        _write_param(param, f"{typed:g}", f"{default:g}")
    return value


def page_available(key: str) -> bool:
    return (nav.ROOT / nav.BY_KEY[key].file).exists()


def drill_link(label: str, **params) -> None:
    """Link to the household query page with ``params`` (region/year kept unless given)."""
    if page_available("query"):
        nav.link("query", label, **params)
    else:
        st.caption(f"{label}(查询页尚未启用)")


def household_table(result: dict, key: str, extra: dict | None = None, *, limit: int, offset: int,
                    formats: dict | None = None) -> None:
    """A list of households (``result`` from a list query: households, persons, rows) with Chinese
    headers; selecting a row shows a link to its 户档案."""
    rows: pd.DataFrame = result["rows"]
    total = result["households"]
    if total == 0:
        st.success("没有符合条件的农户。")
        return
    shown_to = offset + len(rows)
    st.caption(f"共 {fmt.count(total)} 户 {fmt.count(result['persons'])} 人;本页显示第 {offset + 1}–{shown_to} 户"
               "(点选一行可打开户档案)。")
    columns = {
        "hh_id": "户编号", "head_name": "户主姓名", "town_name": "乡镇", "village_name": "行政村",
        "member_count": "家庭人口(人)", "main_cause": "主要致贫原因", "attribute": "贫困户属性",
        "identified_year": "识别年度", "exit_year": "脱贫年度", "returned_year": "返贫年度",
    }
    columns.update(extra or {})
    table = rows[[c for c in columns if c in rows.columns]].rename(columns=columns)
    for col in ("识别年度", "脱贫年度", "返贫年度"):
        if col in table:
            table[col] = [str(int(y)) if y is not None and y == y else "" for y in table[col]]
    for col, fn in (formats or {}).items():
        if col in table:
            table[col] = [fn(v) for v in table[col]]
    event = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=key, height=min(38 + 35 * len(table), 420))
    picked = event.selection.rows if event is not None else []
    if picked:
        row = rows.iloc[picked[0]]
        if page_available("household"):
            nav.link("household", f"打开户档案:{row['head_name']}(户编号 {row['hh_id']})", hh=row["hh_id"])
        else:
            st.caption("户档案页尚未启用。")


def pager(total: int, limit: int, key: str) -> int:
    """Page picker for a list of ``total`` rows; returns the offset."""
    pages = max(1, -(-total // limit))
    if pages == 1:
        return 0
    page = st.number_input(f"页码(共 {pages} 页,每页 {limit} 户)", min_value=1, max_value=pages, value=1,
                           step=1, key=key)
    return (int(page) - 1) * limit


def comparison_scope(ctx) -> tuple:
    """The region a township or village is compared with: its county, or the user's own top region
    when the county lies outside it. (None, "") for a county or wider scope."""
    if ctx.scope.level not in ("town", "village"):
        return None, ""
    base = Scope.of(ctx.scope.code[:6] + "000000")
    if ctx.user is not None and not base.within(ctx.user.root):
        base = ctx.user.root
    if base == ctx.scope:
        return None, ""
    names = {r["code"]: r["name"] for r in ctx.lineage}
    return base, names.get(base.code, base.code)
