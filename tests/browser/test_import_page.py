"""数据管理 in Chromium: a 管理员 uploads an export, validates it, imports it; nothing leaves the origin.

The server runs on a private copy of the seed-11 demo (imports write to it)
with sign-in configured; the 管理员 arrives with a signed link.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from data_access import auth, db
from data_access.importer import samples as S
from data_access.scope import Scope

from .harness import (
    VIEWPORT_HD,
    assert_same_origin,
    expect,
    open_app,
    screenshot,
    wait_for_rerun,
)

SECRET = "browser-import-secret-browser-import-secret-0123"
COUNTY = "523199000000"
UPLOAD = "[data-testid='stFileUploaderDropzoneInput']"


@pytest.fixture(scope="module")
def admin_app(start_app, make_db, tmp_path_factory):
    src = make_db("small", 11, backend="sqlite")
    path = tmp_path_factory.mktemp("import_browser") / "registry.db"
    with sqlite3.connect(make_url(src).database) as a, sqlite3.connect(path) as b:
        a.backup(b)
    url = f"sqlite:///{path}"
    server = start_app({"REGISTRY_DB_URL": url, "REGISTRY_AUTH_SECRET": SECRET}, name="import-admin")
    return server, url


def export_with_one_bad_row(url: str) -> tuple[bytes, str, str]:
    engine = db.get_engine(url)
    with engine.connect() as conn:
        village = conn.execute(text("SELECT MIN(code) FROM region WHERE level='village'")).scalar()
    headers, rows = S.sheet_from_db(engine, "persons", Scope.of(village))
    c = {h: i for i, h in enumerate(headers)}
    rows[0][c["证件号码"]] = "5.22428E+17"
    bad_hh = rows[0][c["户编号"]]
    good_hh = next(r[c["户编号"]] for r in rows if r[c["户编号"]] != bad_hh)
    for r in rows:
        if r[c["户编号"]] == good_hh:
            r[c["户联系电话"]] = "13912345678"
    return S.xlsx_bytes([("人员", headers, rows)], title="建档立卡人员名单"), good_hh, bad_hh


def test_admin_validates_then_imports_offline(page, admin_app, requests_log, page_errors):
    server, url = admin_app
    data, good_hh, bad_hh = export_with_one_bad_row(url)
    token = auth.make_token(SECRET, "admin1", "管理员甲", COUNTY, "管理员", minutes=30)
    open_app(page, server.base_url, "", token=token)  # sign in on the front page, then open 数据管理 from the menu
    wait_for_rerun(page, lambda: page.get_by_role("link", name="数据管理").click())
    expect(page.get_by_role("tab", name="导入数据")).to_be_visible()
    page.mouse.move(900, 650)  # off the sidebar: no hover controls in the pictures
    page.evaluate("document.fonts.ready")
    screenshot(page, "import-admin-start-1280x720")

    wait_for_rerun(page, lambda: page.locator(UPLOAD).set_input_files(files=[{
        "name": "人员名单.xlsx", "buffer": data,
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}]))
    wait_for_rerun(page, lambda: page.get_by_text("只写入正确的行").click())
    wait_for_rerun(page, lambda: page.get_by_role("button", name="校验(不写入)").click())
    expect(page.get_by_text("试导入(未写入数据库)").first).to_be_visible()
    expect(page.get_by_text("下载问题清单(Excel)")).to_be_visible()
    screenshot(page, "import-admin-checked-1280x720")
    with db.get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT phone FROM household WHERE hh_id=:h"), {"h": good_hh}).scalar() != \
            "13912345678"

    wait_for_rerun(page, lambda: page.get_by_role("button", name="校验并导入").click())
    expect(page.get_by_text("已写入数据库").first).to_be_visible()
    screenshot(page, "import-admin-written-1280x720")
    page.set_viewport_size(VIEWPORT_HD)
    screenshot(page, "import-admin-written-1920x1080")
    with db.get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT phone FROM household WHERE hh_id=:h"), {"h": good_hh}).scalar() == \
            "13912345678"
        log = conn.execute(text("SELECT user_id, dry_run, rows_rejected FROM import_log ORDER BY id DESC")).all()
    assert [tuple(r[:2]) for r in log[:2]] == [("admin1", False), ("admin1", True)]

    page.get_by_role("tab", name="导入记录").click()
    expect(page.get_by_text("最近 50 次导入").first).to_be_visible()
    screenshot(page, "import-admin-log-1920x1080")
    assert page_errors == [], page_errors
    assert_same_origin(requests_log, server.base_url)
    assert "Traceback" not in server.log_text()
