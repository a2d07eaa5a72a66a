"""The page registry: every page, its URL path, title and section (links between pages: ``components.widgets``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
    PageSpec("talk", "pages/talking_points.py", "讲话要点", "总览"),
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
