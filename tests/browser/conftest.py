"""Fixtures for browser tests (see harness.py for the helpers).

- ``app_server`` (session): ``streamlit run app.py`` on a free port with
  REGISTRY_DB_URL = the session's small SQLite demo database (seed 7).
- ``base_url``: ``http://127.0.0.1:<port>`` of that server.
- ``start_app(env=..., name=...)`` (session factory): another server, e.g. on
  an empty database or on PostgreSQL; stopped at session end.
- ``browser`` (module): Debian's Chromium through Playwright.
- ``page``: a fresh 1280×720 page (zh-CN, Asia/Shanghai) recording every
  request in ``requests_log`` and uncaught JS errors in ``page_errors``. A
  failing test leaves artifacts/screenshots/FAILED-<module>-<test>.png.

Under pytest-xdist each worker starts its own servers (free ports, see
``AppServer``), browsers and databases; server logs are
artifacts/logs/streamlit-<worker>-<name>-<port>.log.

A browser test (tests/browser/test_*.py)::

    from .harness import assert_no_app_errors, assert_same_origin, expect, open_app, screenshot, wait_for_rerun

    def test_funds_page(page, base_url, requests_log):
        open_app(page, base_url, "funds", year=2020)       # waits until the app has settled
        assert_no_app_errors(page)
        wait_for_rerun(page, lambda: page.get_by_role("button", name="下一年").click())
        expect(page.get_by_test_id("stMetric").first).to_contain_text("资金")
        screenshot(page, "funds-2021")                      # artifacts/screenshots/funds-2021.png
        assert_same_origin(requests_log, base_url)

Never sleep: ``open_app``/``wait_for_app_loaded`` after a navigation,
``wait_for_rerun(page, action)`` around anything that makes the script rerun.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import skip_or_fail

from .harness import (
    CHROMIUM,
    ROOT,
    APP_SCRIPT,
    VIEWPORT,
    AppServer,
    RequestLog,
    launch_chromium,
    screenshot,
    track_page,
)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


_call_failed = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_call_failed] = report.failed
    return report


@pytest.fixture(scope="session")
def _chromium_available():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("浏览器测试不可用: 未安装 playwright(pip install -r requirements.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"浏览器测试不可用: 没有 {CHROMIUM}(apt-get install chromium)")


# Playwright's sync API keeps an asyncio loop marked "running" on the main thread
# while it is started, which breaks asyncio.run() in any later test: so it lives
# per module (stopped after the module's last test).
@pytest.fixture(scope="module")
def _playwright(_chromium_available):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="module")
def browser(_playwright):
    browser = launch_chromium(_playwright)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def start_app(_chromium_available):
    if not (ROOT / APP_SCRIPT).exists():
        skip_or_fail(f"{APP_SCRIPT} 尚不存在,无法启动应用")
    servers: list[AppServer] = []

    def start(env: dict[str, str] | None = None, name: str = "app") -> AppServer:
        server = AppServer(env, name=name)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:  # all asked to end at once, so a slow one does not delay the others
        server.terminate()
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def app_server(start_app, sqlite_demo_url) -> AppServer:
    return start_app({"REGISTRY_DB_URL": sqlite_demo_url}, name="demo")


@pytest.fixture(scope="session")
def base_url(app_server) -> str:
    return app_server.base_url


@pytest.fixture
def requests_log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def context(browser):
    ctx = browser.new_context(
        viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai", device_scale_factor=1,
    )
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, requests_log, page_errors, request):
    page = context.new_page()
    track_page(page, requests_log, page_errors)
    yield page
    if request.node.stash.get(_call_failed, False):
        try:
            screenshot(page, f"FAILED-{Path(str(request.node.path)).stem}-{request.node.name}")
        except Exception:  # the page may be gone; the failure itself matters more
            pass
