"""The page registry and links between pages (drill-down keeps region and year in the URL)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    key: str  # url path
    file: str
    title: str
    section: str
    visible: bool = True
    admin_only: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "pages/overview.py", "总览", "总览"),
    PageSpec("map", "pages/village_map.py", "村级地图", "总览"),
    PageSpec("causes", "pages/causes.py", "致贫原因", "专题"),
    PageSpec("exits", "pages/exits.py", "脱贫进度", "专题"),
    PageSpec("funds", "pages/funds.py", "资金项目", "专题"),
    PageSpec("monitoring", "pages/monitoring.py", "防返贫监测", "专题"),
    PageSpec("help", "pages/help.py", "帮扶力量", "专题"),
    PageSpec("query", "pages/query.py", "查询", "查询与档案"),
    PageSpec("village", "pages/village.py", "村档案", "查询与档案", visible=False),
    PageSpec("household", "pages/household.py", "户档案", "查询与档案", visible=False),
    PageSpec("project", "pages/project.py", "项目档案", "查询与档案", visible=False),
    PageSpec("admin", "pages/data_admin.py", "数据管理", "管理", admin_only=True),
)
BY_KEY = {p.key: p for p in PAGES}
DEFAULT_KEY = "overview"  # served at "/" (and at /overview)


def available(is_admin: bool) -> list[PageSpec]:
    """Pages whose file exists and that this user may open."""
    return [p for p in PAGES if (ROOT / p.file).exists() and (is_admin or not p.admin_only)]


def state_params(**extra) -> dict:
    """The current region/year (and display mode) plus ``extra``, for a link's query string."""
    params = {k: st.query_params[k] for k in ("region", "year", "mode") if k in st.query_params}
    params.update({k: str(v) for k, v in extra.items() if v is not None})
    return params


def go(key: str, **params) -> None:
    """Switch to page ``key`` keeping region/year unless overridden."""
    st.switch_page(BY_KEY[key].file, query_params=state_params(**params))


def link(key: str, label: str, **params) -> None:
    st.page_link(BY_KEY[key].file, label=label, query_params=state_params(**params))


def set_region(code: str) -> None:
    """Drill to ``code`` on the current page."""
    st.query_params["region"] = code
    st.rerun()
