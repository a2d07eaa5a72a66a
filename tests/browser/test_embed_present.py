"""Portal embedding (CSP frame-ancestors through serve.py) and presentation mode on a projector."""

from __future__ import annotations

import http.server
import re
import threading
from urllib.parse import urlsplit

import pytest


from .harness import (
    AppServer, open_app, screenshot, wait_for_app_loaded,
)

@pytest.fixture(scope="module")
def framed_app(sqlite_demo_url, _chromium_available):
    page_html = []  # the portal's port is bound first (no other worker can take it), the page follows the app's

    class Portal(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = page_html[0].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    portal = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    portal_port = portal.server_address[1]
    server = AppServer({"REGISTRY_DB_URL": sqlite_demo_url,
                        "REGISTRY_FRAME_ANCESTORS": f"http://localhost:{portal_port}"},
                       script="serve.py", name="embed").start()
    page_html.append(f'<!doctype html><meta charset="utf-8"><title>门户</title><h1>单位门户</h1>'
                     f'<iframe id="dash" src="{server.base_url}/?embed=true" width="1200" height="650"></iframe>')
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    yield server, portal_port
    portal.shutdown()
    server.stop()


def dashboard_frame(page):
    return next(f for f in page.frames if f != page.main_frame)


def test_allowed_portal_can_frame_the_app(page, framed_app):
    server, portal_port = framed_app
    page.goto(f"http://localhost:{portal_port}/", wait_until="load")
    frame = dashboard_frame(page)
    wait_for_app_loaded(frame)  # on the app's state, as every page (Frame has the same waits)
    frame.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    assert "脱贫人口" in frame.locator("[data-testid='stMetric']").first.inner_text()  # 2026: the 巩固衔接 headline
    screenshot(page, "embed-allowed-portal")


def test_other_origin_cannot_frame_the_app(page, framed_app):
    server, portal_port = framed_app
    # Same portal page, served from another origin (127.0.0.1 instead of localhost).
    page.goto(f"http://127.0.0.1:{portal_port}/", wait_until="load")
    frame = dashboard_frame(page)
    assert frame.url.startswith("chrome-error://") or frame.locator("[data-testid='stApp']").count() == 0
    screenshot(page, "embed-blocked-portal")


def test_csp_header_is_sent(framed_app):
    import urllib.request

    server, portal_port = framed_app
    with urllib.request.urlopen(server.base_url + "/") as response:
        csp = response.headers["Content-Security-Policy"]
    assert csp == f"frame-ancestors 'self' http://localhost:{portal_port}"


# Presentation mode at 1280×720, 1920×1080 and 4K on every page: tests/browser/test_present_sizes.py.


def test_meeting_cycle_steps_through_the_pages_and_wraps(page, base_url):
    """?cycle=5&pages=overview,map: /overview → /map → back to the overview (at "/" or /overview)."""
    open_app(page, base_url, "overview", mode="present", cycle=5, pages="overview,map", region="523199000000")
    page.wait_for_url("**/map?**", timeout=30_000)
    assert "region=523199000000" in page.url and "mode=present" in page.url and "cycle=5" in page.url
    wait_for_app_loaded(page)
    assert page.get_by_text("村级地图").count() > 0
    page.wait_for_function("() => !location.pathname.endsWith('/map')", timeout=30_000)
    assert urlsplit(page.url).path in ("/", "/overview")
    wait_for_app_loaded(page)
    page.get_by_role("button", name=re.compile("暂停轮播")).click()
    page.wait_for_function("() => location.search.includes('paused=1')", timeout=30_000)
    wait_for_app_loaded(page)
    paused_at = page.url
    page.wait_for_timeout(8_000)  # longer than one interval: a paused cycle stays put
    assert page.url == paused_at
