"""资金项目 in Chromium: click the flow from source to category to township to project, offline.

Each step clicks a Sankey node (ECharts drawn as SVG by Streamlit's bundled copy),
waits for the rerun, checks the URL keeps the selection, and saves a screenshot.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect
from sqlalchemy import text

from components.charts.flow import SHORT_SOURCES
from data_access.db import get_engine

from .harness import (
    VIEWPORT,
    VIEWPORT_HD,
    assert_no_app_errors,
    assert_same_origin,
    open_app,
    screenshot,
    wait_for_rerun,
)

YEAR = 2025
FLOW = "[data-testid='stEChartsChart']"


def path_to_click(db_url: str) -> dict:
    """The year's biggest arrangement to a village project: its source, category, township and project."""
    with get_engine(db_url).connect() as conn:
        row = conn.execute(text(
            "SELECT f.source, p.category, p.town_code, t.name AS town, p.project_id, p.name AS project "
            "FROM arrangement a JOIN fund f ON f.fund_id = a.fund_id JOIN project p ON p.project_id = a.project_id "
            "JOIN region t ON t.code = p.town_code WHERE f.year = :y AND p.village_code IS NOT NULL "
            "ORDER BY a.amount DESC LIMIT 1"), {"y": YEAR}).mappings().one()
    return dict(row)


def node_label(page, label: str):
    """The SVG text of the Sankey node whose label is ``label`` (labels read "<name>  <amount>")."""
    label = SHORT_SOURCES.get(label, label)
    return page.locator(f"{FLOW} svg text").filter(has_text=re.compile("^" + re.escape(label) + r"\s")).first


def settled_box(target) -> dict | None:
    """The element's box once it stops moving (ECharts animates the nodes into place after a rerun): the same
    box over five animation frames, or the last one after 5 s."""
    return target.evaluate("""el => new Promise(resolve => {
        let last = '', same = 0;
        const started = performance.now();
        const look = () => {
            const r = el.getBoundingClientRect();
            const now = [r.x, r.y, r.width, r.height].map(v => v.toFixed(1)).join();
            same = now === last ? same + 1 : 0;
            last = now;
            if (same >= 5 || performance.now() - started > 5000) {
                resolve(r.width || r.height ? {x: r.x, y: r.y, width: r.width, height: r.height} : null);
            } else {
                requestAnimationFrame(look);
            }
        };
        requestAnimationFrame(look);
    })""")


def click_node(page, label: str) -> None:
    """Click the node bar just left of its label and wait for the rerun it causes."""
    target = node_label(page, label)
    target.scroll_into_view_if_needed()
    box = settled_box(target)
    assert box, f"node {label!r} not drawn"
    wait_for_rerun(page, lambda: page.mouse.click(box["x"] - 12, box["y"] + box["height"] / 2))


def params(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def show_flow(page) -> None:
    page.locator(FLOW).first.scroll_into_view_if_needed()


def test_funds_flow_click_through(page, base_url, app_server, sqlite_demo_url, requests_log, page_errors):
    log_start = len(app_server.log_text())
    want = path_to_click(sqlite_demo_url)

    open_app(page, base_url, "funds", viewport=VIEWPORT_HD, year=YEAR)
    expect(page.locator("h1", has_text="资金项目")).to_be_visible()
    expect(page.locator(FLOW)).to_have_count(1)
    assert_no_app_errors(page)
    screenshot(page, "funds-0-county-1920x1080")
    page.set_viewport_size(VIEWPORT)
    screenshot(page, "funds-0-county-1280x720")
    show_flow(page)
    screenshot(page, "funds-0-county-flow-1280x720")

    click_node(page, want["source"])
    assert params(page).get("source") == want["source"]
    assert_no_app_errors(page)
    assert page.get_by_text("资金路径").count() == 1
    show_flow(page)
    screenshot(page, "funds-1-source-1280x720")

    click_node(page, want["category"])
    assert params(page).get("category") == want["category"] and params(page).get("source") == want["source"]
    assert_no_app_errors(page)
    show_flow(page)
    screenshot(page, "funds-2-category-1280x720")

    click_node(page, want["town"])
    now = params(page)
    assert now.get("region") == want["town_code"]
    assert (now.get("source"), now.get("category")) == (want["source"], want["category"])
    assert_no_app_errors(page)
    show_flow(page)
    screenshot(page, "funds-3-township-1280x720")

    click_node(page, want["project"])
    assert urlsplit(page.url).path.rstrip("/").endswith("/project")
    assert params(page).get("project") == want["project_id"]
    assert_no_app_errors(page)
    assert page.get_by_text(want["project"]).first.is_visible()
    screenshot(page, "funds-4-project-1280x720")

    # A copied link restores the view: the township and filters come back from the URL alone.
    open_app(page, base_url, "funds", year=YEAR, region=want["town_code"], source=want["source"],
             category=want["category"])
    assert node_label(page, want["project"]).count() == 1

    assert page_errors == [], f"uncaught JavaScript errors: {page_errors}"
    assert_same_origin(requests_log, base_url)
    assert "Traceback" not in app_server.log_text()[log_start:]


def test_funds_views_render_offline(page, base_url, app_server, requests_log, page_errors):
    for view, name in (("执行进度", "exec"), ("项目清单", "projects"), ("数据问题", "problems")):
        open_app(page, base_url, "funds", year=YEAR, view=view)
        expect(page.locator("h1", has_text="资金项目")).to_be_visible()
        assert_no_app_errors(page)
        screenshot(page, f"funds-view-{name}-1280x720")
    assert page_errors == []
    assert_same_origin(requests_log, base_url)
