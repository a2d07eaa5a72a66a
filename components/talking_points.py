"""讲话要点 in the UI: the ranked points (``data_access.report.talking_points``), each with a link to its proof.

``points(ctx)`` is the one call: the rules read every figure through ``components.data.fetch``, the cache
the pages share (keyed by database, data version and scope), so a point and the page it links to read one
result. ``panel`` draws them on the overview (compact) and on the 讲话要点 screen (``big``, the projector);
``sentences`` gives the text for the meeting brief. A link keeps the display mode (a projector stays in
汇报模式) and opens the page with the point's region, year and filters.
"""

from __future__ import annotations


import streamlit as st

from data_access.report import talking_points as tp

from . import widgets
from .context import PageContext
from .data import engine, fetch
from .safe import esc, md
from .shell import nav


def thresholds() -> tuple[tp.Thresholds, list[str]]:
    try:
        return tp.thresholds_from_settings()
    except Exception:  # noqa: BLE001 - an unreadable secrets.toml: the defaults, said in Chinese
        return tp.Thresholds(), ["讲话要点阈值配置无法读取,已使用默认值。"]


def points(ctx: PageContext) -> tuple[list[tp.Point], tp.Thresholds, list[str]]:
    """The top points for the page's scope and year, the thresholds used and any settings problems."""
    limits, problems = thresholds()
    found = tp.talking_points(engine(ctx), ctx.scope, ctx.year, ctx.first_year, ctx.last_year, ctx.as_of, limits,
                              fetcher=lambda fn, *args: fetch(fn, ctx, *args))
    return tp.top(found, limits.top_n), limits, problems


def sentences(ctx: PageContext) -> tuple[str, ...]:
    """The points' sentences (for the .docx and the slides' notes); empty when none or on an error."""
    try:
        shown, _, _ = points(ctx)
    except Exception:  # noqa: BLE001 - the brief is still written without them
        return ()
    return tuple(p.sentence for p in shown)


def _link(page: str, label: str, params, ctx: PageContext, key: str) -> None:
    if not widgets.page_available(page):
        st.caption(f"{label}(页面尚未启用)")
        return
    query = dict(params)
    if ctx.present:
        query["mode"] = "present"
    with st.container(key=key):
        st.page_link(nav.BY_KEY[page].file, label=label, query_params=query, icon=":material/open_in_new:")


def panel(ctx: PageContext, *, big: bool = False) -> None:
    """The numbered points; each sentence, the rule and comparison under it, and the link to its page."""
    try:
        shown, limits, problems = points(ctx)
    except Exception:  # noqa: BLE001 - a panel must not end the page with a traceback
        st.error("生成讲话要点时出错,请稍后重试或联系管理员。")
        return
    for message in problems:
        st.warning(message)
    if not big:
        st.markdown("#### 讲话要点")
    if not ctx.present:
        st.caption(f"{md(ctx.region_name)}{ctx.year}年:按规则从数据中找出变化、落后和需要决策的事项,按分值排序取前"
                   f"{limits.top_n}条;每个数字都来自所链接页面的同一查询,点击“查看依据”打开该页面核对。")
    if not shown:
        st.info(tp.NOTHING)
        return
    if ctx.present:  # the projector: the first few, two a row, so the screen holds them without scrolling
        shown = shown[:max(1, limits.present_n)]
        columns = st.columns(2, gap="small")
    size = "22px" if ctx.present else ("1.25rem" if big else "1.05rem")
    for i, p in enumerate(shown, 1):
        where = columns[(i - 1) % 2] if ctx.present else st.container()
        # the screen: a card per point; the overview: a compact list (sentence, then its links on one line)
        with where, st.container(border=big, key=f"tp-{i}", gap="small" if big else None):
            st.html(f"<div style='font-size:{size};line-height:1.5'><b>{i}.</b> {esc(p.sentence)}</div>")
            if big and not ctx.present:
                st.caption(f"{md(p.kind)} · {md(p.title)} · {md(p.comparison)} · 分值 {p.score:g}")
            with st.container(horizontal=True, gap="small"):
                title = nav.BY_KEY[p.page].title if p.page in nav.BY_KEY else p.page
                _link(p.page, f"查看依据:{title}", p.params, ctx, key=f"tp-link-{i}")
                if ctx.present:
                    continue
                others = {(f.page, f.params) for f in p.figures} - {(p.page, p.params)}
                for j, (page, params) in enumerate(sorted(others)):
                    year = dict(params).get("year", "")
                    title = nav.BY_KEY[page].title if page in nav.BY_KEY else page
                    _link(page, f"{year}年数据:{title}", params, ctx, key=f"tp-link-{i}-{j}")
    if not big:
        _link("talk", "全部讲话要点(可投影)", (("region", ctx.scope.code), ("year", str(ctx.year))), ctx,
              key="tp-screen")
