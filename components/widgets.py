"""The pages' common controls and links, one way each.

Settings kept in the URL (the URL is the state: a copied link reopens the view):
``choice`` (a segmented control), ``number`` (a number input) and ``toggle``; ``read_choice`` and
``read_number`` read a setting where its control is not drawn (presentation mode) or not yet drawn.
A bad value in the URL gives one Chinese warning and the default is used. ``url_whole`` is the one parse
of a whole number from the URL (ASCII digits only: '²'.isdigit() is true and int('²') fails).

A control whose URL text is what it shows (numbers, switches, options named by their label) is bound
with Streamlit's ``bind="query-params"``. A choice whose URL value is a code (``?measure=persons``,
shown as 按人数) writes ``st.query_params`` itself: a bound control would put its label in the URL and
break every link that names the code.

Links between pages keep region, year and display mode (``go``, ``link``, ``set_region``, ``drill``,
``query_link``); ``page_available`` says whether a page is enabled; ``region_path`` and ``breadcrumb``
draw a clickable path; ``pager`` and ``household_table`` show a list of households.
"""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlencode

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from data_access.codes import ascii_number, ascii_whole
from data_access.scope import Scope, level_of_code

from .context import PageContext
from .shell import nav
from .safe import md
from .tables import dataframe

PATH_LEVELS = ("county", "town", "village")


# ---- settings kept in the URL ----------------------------------------------------------


def url_whole(text, low: int | None = None, high: int | None = None) -> int | None:
    """The one parse of a whole number from the URL: ASCII digits only ('²', '①', '５０', '+3', ' 3' are not
    numbers), within ``low``–``high``; None otherwise. (``data_access.codes.ascii_whole``, which the query
    filter's own parse uses too.)"""
    return ascii_whole(text, low, high)


def _warn(param: str, raw, instead: str) -> None:
    st.warning(f"链接参数 {md(param)}={md(str(raw).strip()[:24])} 无效,已改用“{md(instead)}”。")


def _raw(param: str) -> str | None:
    raw = st.query_params.get(param)
    return None if raw is None or str(raw).strip() == "" else str(raw).strip()


def read_choice(param: str, options: dict, default, *, warn: bool = True):
    """``?param=`` if it is one of ``options`` ({URL value: 中文}, compared as text), else ``default``."""
    raw = _raw(param)
    if raw is None:
        return default
    match = [k for k in options if str(k) == raw]
    if match:
        return match[0]
    if warn:
        _warn(param, raw, options[default] if default is not None else "不选")
    return default


def read_number(param: str, default: int | float, low: int | float, high: int | float, *, warn: bool = True):
    """``?param=`` as a number within ``low``–``high`` (a whole number when ``default`` is an int), else
    ``default``. After its control has been drawn, the control's value."""
    if st.session_state.get(_DRAWN + param) == _page() and st.session_state.get(param) is not None:
        return st.session_state[param]
    raw = _raw(param)
    if raw is None:
        return default
    number = ascii_number(raw)
    whole = isinstance(default, int)
    if number is None or not low <= number <= high or (whole and not number.is_integer()):
        if warn:
            _warn(param, raw, f"默认值 {default:g}")
        return default
    return int(number) if whole else number


_DRAWN = "_url_number_drawn_on:"


def _page() -> str:
    """The page being run (a bound control's value in session state belongs to the page that drew it)."""
    ctx = get_script_run_ctx()
    return ctx.page_script_hash if ctx is not None else ""


def _write(param: str, value, default) -> None:
    if value == default or value is None:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = str(value)
    st.rerun()


def choice(param: str, label: str, options: dict, default, *, allow_none: bool = False, help: str | None = None,
           label_visibility: str = "visible", show: bool = True, warn: bool = True, select: bool = False):
    """A segmented control over ``options`` ({URL value: 中文}) whose value lives in ``?param=``
    (``select=True``: a drop-down, for options too many or too long for one row).

    Returns the chosen URL value (None only with ``allow_none``). ``show=False`` only reads the URL
    (presentation mode: the choice made before applies, without the control). ``warn=False`` when the
    page has read the setting (and warned) already.
    """
    value = read_choice(param, options, default, warn=warn)
    if not show:
        return value
    if not select and all(str(k) == v for k, v in options.items()):  # the URL shows the label: Streamlit binds it
        picked = st.segmented_control(label, list(options), default=default, format_func=options.get,
                                      required=not allow_none, key=param, bind="query-params", help=help,
                                      label_visibility=label_visibility)
        return picked if picked is not None or allow_none else default
    if select:
        keys = list(options)
        picked = st.selectbox(label, keys, index=keys.index(value) if value in options else None,
                              format_func=options.get, key=f"{param}={value}", help=help,
                              label_visibility=label_visibility)
    else:
        picked = st.segmented_control(label, list(options), default=value, format_func=options.get,
                                      required=not allow_none, key=f"{param}={value}", help=help,
                                      label_visibility=label_visibility)
    if picked != value and (picked is not None or allow_none):
        _write(param, picked, default)
    return value


def number(param: str, label: str, default: int | float, low: int | float, high: int | float,
           step: int | float = 1, *, help: str | None = None, show: bool = True, warn: bool = True):
    """A number input bound to ``?param=`` (``low``–``high``; whole numbers when ``default`` is an int)."""
    value = read_number(param, default, low, high, warn=warn)
    if not show:
        return value
    whole = isinstance(default, int)
    kind = int if whole else float
    st.session_state[_DRAWN + param] = _page()
    picked = st.number_input(label, min_value=kind(low), max_value=kind(high), value=kind(default),
                             step=kind(step), format=None if whole else "%g", help=help, key=param,
                             bind="query-params")
    return value if picked is None else picked


def toggle(param: str, label: str, *, help: str | None = None) -> bool:
    """A switch bound to ``?param=`` (off by default)."""
    return bool(st.toggle(label, key=param, bind="query-params", help=help))


# ---- links between pages ---------------------------------------------------------------


def state_params(**extra) -> dict:
    """The current region/year (and display mode) plus ``extra``, for a link's query string."""
    params = {k: st.query_params[k] for k in ("region", "year", "mode") if k in st.query_params}
    params.update({k: str(v) for k, v in extra.items() if v is not None})
    return params


CURRENT_PAGE_KEY = "_current_page"
ORIGINS_KEY = "_came_from"
# What names the thing a dossier page shows: a 返回 link on it leads back only to where *this* one was opened.
DOSSIER_PARAMS = {"household": ("hh",), "village": ("region",), "project": ("project",)}


def set_current_page(key: str) -> None:
    """app.py names the page it runs (a link opened from here remembers where it came from)."""
    st.session_state[CURRENT_PAGE_KEY] = key


def _dossier_id(key: str, params: dict) -> tuple | None:
    names = DOSSIER_PARAMS.get(key)
    return (key, *(str(params.get(n, "")) for n in names)) if names else None


def _remember_origin(key: str, target: dict) -> None:
    """Opening a dossier: remember the page (and its whole URL: filters, page, selection) it is opened from."""
    ident = _dossier_id(key, target)
    here = st.session_state.get(CURRENT_PAGE_KEY)
    if ident is None or here is None or here == key and _dossier_id(here, st.query_params) == ident:
        return
    origins = st.session_state.setdefault(ORIGINS_KEY, {})
    origins[ident] = (here, st.query_params.to_dict())
    while len(origins) > 50:  # a long session opens many files: keep the latest
        origins.pop(next(iter(origins)))


def go(key: str, **params) -> None:
    """Switch to page ``key`` keeping region/year unless overridden."""
    target = state_params(**params)
    _remember_origin(key, target)
    st.switch_page(nav.BY_KEY[key].file, query_params=target)


def link(key: str, label: str, **params) -> None:
    target = state_params(**params)
    _remember_origin(key, target)
    st.page_link(nav.BY_KEY[key].file, label=md(label), query_params=target)


def back_link() -> bool:
    """``‹ 返回<page>`` on a dossier page opened from another page of this session: back to that page with
    all its settings (filters, page, selection). Nothing when the dossier was opened from a link or typed
    (no page to go back to). Returns whether it was drawn."""
    here = st.session_state.get(CURRENT_PAGE_KEY)
    ident = _dossier_id(here, st.query_params) if here else None
    origin = st.session_state.get(ORIGINS_KEY, {}).get(ident) if ident else None
    if origin is None or origin[0] not in nav.BY_KEY or not page_available(origin[0]):
        return False
    page_key, params = origin
    if "mode" in st.query_params:
        params = {**params, "mode": st.query_params["mode"]}
    else:
        params = {k: v for k, v in params.items() if k != "mode"}
    st.page_link(nav.BY_KEY[page_key].file, label=f"‹ 返回{nav.BY_KEY[page_key].title}", query_params=params)
    return True


def set_region(code: str) -> None:
    """Drill to ``code`` on the current page."""
    st.query_params["region"] = code
    st.rerun()


def page_available(key: str) -> bool:
    """Whether page ``key`` is enabled (its file exists)."""
    return (nav.ROOT / nav.BY_KEY[key].file).exists()


def drill(code: str | None) -> None:
    """Open what a click picked: a village's file, or a township (or county) on the current page."""
    if not code:
        return
    if level_of_code(code) == "village":
        go("village", region=code)
    else:
        set_region(code)


def query_link(label: str, **params) -> None:
    """Link to the household query page with ``params`` as its filters (region/year kept unless given)."""
    if page_available("query"):
        link("query", label, **params)
    else:
        st.caption(f"{md(label)}(查询页尚未启用)")


# ---- paths -----------------------------------------------------------------------------


def breadcrumb(steps: list[tuple[str, Callable[[], None]]], key: str, title: str | None = None) -> None:
    """``title`` then the steps, each but the last a link (``label ›``) that calls its action."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=key):
        if title:
            st.markdown(f"**{md(title)}**")
        for i, (label, action) in enumerate(steps):
            if i == len(steps) - 1:
                st.markdown(f"**{md(label)}**")
            elif st.button(f"{md(label)} ›", key=f"{key}-{i}", type="tertiary"):
                action()


def region_path(ctx: PageContext, target: str | None = None) -> None:
    """县 › 乡镇 › 村 down to the current scope; each step above it opens that region.

    ``target`` is the page a step opens (a nav key); None keeps the current page.
    Steps above the user's own region are not shown.
    """
    steps = [r for r in ctx.lineage if r.get("level") in PATH_LEVELS and ctx.allows(Scope.of(r["code"]))]
    if not steps:
        return

    def opener(code: str):
        return (lambda: go(target, region=code)) if target else (lambda: set_region(code))

    breadcrumb([(r["name"], opener(r["code"])) for r in steps], key="region-path")


# ---- lists of households ---------------------------------------------------------------


def pager(total: int, limit: int, key: str) -> int:
    """Page picker for a list of ``total`` rows, ``limit`` a page; returns the offset."""
    pages = max(1, -(-total // limit))
    if pages == 1:
        return 0
    page = st.number_input(f"页码(共 {pages} 页,每页 {limit} 户)", min_value=1, max_value=pages, value=1,
                           step=1, key=key)
    return (int(page) - 1) * limit


def household_table(rows: pd.DataFrame, columns: dict[str, str], key: str, *, height: int | str | None = None,
                    column_config: dict | None = None, formats: dict | None = None, id_links: bool = True) -> None:
    """A list of households that opens the household file (户档案).

    ``rows`` holds ``hh_id`` and ``head_name``; ``columns`` maps its columns to Chinese headers (with
    units), in order (absent columns are skipped); ``formats`` ({header: fn}) turns values into text.
    ``id_links``: 户编号 is a link to the file and selecting a row opens it; otherwise selecting a row
    shows a link to the file under the list.
    """
    shown = rows[[c for c in columns if c in rows.columns]].rename(columns=columns)
    for col, fn in (formats or {}).items():
        if col in shown:
            shown[col] = [fn(v) for v in shown[col]]
    config = dict(column_config or {})
    linked = page_available("household")
    if linked and id_links:
        id_header = columns.get("hh_id", "户编号")
        state = state_params()  # read the URL once, not once per row (0.2 s for 600 rows)
        shown[id_header] = [f"household?{urlencode({**state, **({'hh': str(h)} if h is not None else {})})}"
                            for h in rows["hh_id"]]
        config[id_header] = st.column_config.LinkColumn(id_header, display_text=r"hh=(\w+)", help="点击打开户档案")
    selectable = linked or not id_links
    kwargs = {"on_select": "rerun", "selection_mode": "single-row"} if selectable else {}
    event = dataframe(shown, hide_index=True, width="stretch", column_config=config, key=key,
                         height=height or "auto", **kwargs)
    picked = event.selection.rows if selectable and event is not None else []
    if not picked:
        return
    row = rows.iloc[picked[0]]
    if id_links:
        go("household", hh=row["hh_id"])
    elif linked:
        link("household", f"打开户档案:{row['head_name']}(户编号 {row['hh_id']})", hh=row["hh_id"])
    else:
        st.caption("户档案页尚未启用。")
