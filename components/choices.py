"""Page options kept in the URL (``?ind=incidence``), so a copied link restores the view,
and a 县 › 乡镇 › 村 path whose steps are links."""

from __future__ import annotations

import streamlit as st

from data_access.scope import level_of_code

from . import nav
from .context import PageContext

PATH_LEVELS = ("county", "town", "village")


def url_choice(param: str, options: dict[str, str], default: str, label: str, *, key: str,
               label_visibility: str = "visible", show: bool = True) -> str:
    """A segmented control over ``options`` ({value: 中文}) whose value lives in ``?param=``.

    An unknown value in the URL gives a warning and the default. ``show=False`` only reads the
    URL (presentation mode: the choice made before applies, without the control).
    """
    raw = st.query_params.get(param, "")
    current = raw if raw in options else default
    if raw and raw not in options:
        st.warning(f"链接参数 {param}={raw[:24]} 无效,已改用“{options[default]}”。")
    if not show:
        return current
    picked = st.segmented_control(label, list(options), default=current, format_func=options.get, required=True,
                                  key=f"{key}-{current}", label_visibility=label_visibility)
    if picked and picked != current:
        st.query_params[param] = picked
        st.rerun()
    return current


def region_path(ctx: PageContext, target: str | None = None) -> None:
    """县 › 乡镇 › 村 for the current scope; each step above the current one is a link.

    ``target`` is the page a step opens (a nav key); None keeps the current page.
    Steps above the user's own region are not shown.
    """
    steps = [r for r in ctx.lineage if r.get("level") in PATH_LEVELS
             and (ctx.user is None or r["code"].startswith(ctx.user.root.prefix))]
    if not steps:
        return
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key="region-path"):
        for i, step in enumerate(steps):
            last = step["code"] == ctx.scope.code
            if last:
                st.markdown(f"**{step['name']}**")
            elif st.button(step["name"], key=f"path-{step['code']}", type="tertiary"):
                if target:
                    nav.go(target, region=step["code"])
                else:
                    nav.set_region(step["code"])
            if not last:
                st.markdown("›")


def drill(code: str | None) -> None:
    """Open what a click picked: a village's file, or a township (or county) on the current page."""
    if not code:
        return
    if level_of_code(code) == "village":
        nav.go("village", region=code)
    else:
        nav.set_region(code)


def as_of_date(ctx: PageContext):
    """The data's as-of date (meta data_as_of); the end of the last year when it is missing or bad."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(str(ctx.as_of)[:10])
    except ValueError:
        return dt.date(ctx.last_year, 12, 31)
