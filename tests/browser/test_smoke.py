"""The app's front page in a real browser: it settles, shows no error, reaches nothing outside."""

from __future__ import annotations

import re

from .harness import (
    EXCEPTION,
    VIEWPORT_HD,
    app_errors,
    assert_same_origin,
    expect,
    open_app,
    screenshot,
)

APP_TITLE = "扶贫数据驾驶舱"


def test_front_page_settles_offline(page, base_url, app_server, requests_log, page_errors):
    log_start = len(app_server.log_text())
    open_app(page, base_url)

    expect(page.locator(EXCEPTION)).to_have_count(0)
    assert app_errors(page) == []
    expect(page).to_have_title(re.compile(APP_TITLE))
    assert page_errors == [], f"uncaught JavaScript errors: {page_errors}"
    screenshot(page, "smoke-front-1280x720")

    page.set_viewport_size(VIEWPORT_HD)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    screenshot(page, "smoke-front-1920x1080")

    # The app's own websocket must be among the recorded requests, and nothing
    # (usage stats, icon fonts, map tiles, CDNs) may go anywhere else.
    assert any(r.kind == "websocket" and r.url.endswith("/_stcore/stream") for r in requests_log)
    assert_same_origin(requests_log, base_url)
    new_log = app_server.log_text()[log_start:]
    assert "Traceback" not in new_log, new_log[-3000:]
