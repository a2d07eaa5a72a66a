"""Issue 24 (low): a 管理员's unmasked export under /media/… is fetched by the session that made it, is gone
seconds after that fetch, and is not served at all once that session ended (it used to download without a
session, 300 s after the tab closed).

Runs serve.py (its middleware guards the downloads) on a copy of the demo database with sign-in on.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request

import pytest

from data_access import auth
from tests.browser.harness import AppServer, open_app
from tests.helpers import rows

SECRET = "private-downloads-secret-Zq3v9XkT2mB7pLw4rYd8nHc1sGf6j"


@pytest.fixture(scope="module")
def served(sqlite_demo_url, cloner):
    url = cloner(sqlite_demo_url, "private_dl")
    village = rows(url, "SELECT code FROM region WHERE level='village' ORDER BY code LIMIT 1")[0][0]
    server = AppServer({"REGISTRY_DB_URL": url, "REGISTRY_AUTH_SECRET": SECRET}, script="serve.py",
                       name="private-dl").start()
    yield server, village
    server.stop()


def _status(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _open_export(page, base_url: str, village: str, role: str):
    token = auth.make_token(SECRET, f"u-{role}", "测试", village, role)
    open_app(page, base_url, "query", token=token, region=village)
    page.get_by_role("button", name="生成导出文件").click()
    button = page.get_by_role("button", name=re.compile(r"下载 XLSX 文件"))
    button.wait_for(timeout=60_000)
    return button


def _url_without_fetching(page, button) -> str:
    """Click the download button with the page's link clicks held: the URL the browser would fetch."""
    page.evaluate("""() => { window.__held = [];
        HTMLAnchorElement.prototype.click = function () { window.__held.push(this.href); }; }""")
    button.click()
    page.wait_for_function("() => window.__held.some(h => h.includes('/media/'))", timeout=60_000)
    return next(h for h in page.evaluate("() => window.__held") if "/media/" in h)


def _until_gone(url: str, timeout: float = 20) -> bool:
    """HEAD (which never uses up the file) until the server answers 404."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _status(url, "HEAD") == 404:
            return True
        time.sleep(0.2)
    return False


def test_an_unmasked_export_is_fetched_once_by_its_own_session(served, context):
    server, village = served
    page = context.new_page()
    button = _open_export(page, server.base_url, village, "管理员")
    with page.expect_download(timeout=60_000) as info:
        button.click()
    download = info.value
    assert download.failure() is None and download.path().stat().st_size > 1000  # the admin got the file
    assert re.search(r"/media/", download.url)
    assert _until_gone(download.url), "the URL still served the unmasked file well after it was fetched"
    assert _status(download.url) == 404
    with page.expect_download(timeout=60_000) as again:  # a second click builds it anew
        button.click()
    assert again.value.failure() is None and again.value.path().stat().st_size > 1000
    page.close()


def test_an_unmasked_export_is_gone_once_its_session_ends(served, context):
    server, village = served
    masked_page = context.new_page()
    with masked_page.expect_download(timeout=60_000) as masked:
        _open_export(masked_page, server.base_url, village, "工作人员").click()
    masked_url = masked.value.url
    masked_page.close()
    page = context.new_page()
    url = _url_without_fetching(page, _open_export(page, server.base_url, village, "管理员"))
    assert _status(url, "HEAD") == 200  # while the tab is open the file waits for its one fetch
    page.close()  # the tab closes: the session ends
    assert _until_gone(url), "the unmasked file was still served after its session ended"
    assert _status(url) == 404
    # the method is sound: a masked file (Streamlit's own clean-up) is still served at this point
    assert _status(masked_url) == 200
