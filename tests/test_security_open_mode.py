"""Issue 24 item 3: open mode (no sign-in) serves the demo database only.

On any other database the app refuses to serve figures until sign-in is configured, unless
REGISTRY_ALLOW_OPEN / ``[auth] allow_open`` says so explicitly; the refusal is in Chinese.
"""

from __future__ import annotations

import pytest

from data_access import db
from data_access.settings import AuthSettings, auth_settings
from tests.helpers import open_page


def _errors(at) -> str:
    return " ".join(e.value for e in at.error)


@pytest.fixture
def real_db(clone):
    """A copy of the demo database marked as real data (as an import into an empty database leaves it)."""
    with clone.begin() as conn:
        db.set_meta(conn, is_demo="0")
    return clone.url.render_as_string(hide_password=False)


def test_open_mode_refuses_a_real_database(real_db, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    monkeypatch.delenv("REGISTRY_TRUSTED_HEADER", raising=False)
    monkeypatch.delenv("REGISTRY_ALLOW_OPEN", raising=False)
    for page in (None, "pages/query.py", "pages/data_admin.py"):
        at = open_page(real_db, page)
        assert not at.exception, at.exception
        shown = _errors(at)
        assert "未配置登录,系统拒绝提供数据" in shown and "REGISTRY_ALLOW_OPEN" in shown
        assert not at.metric and not at.dataframe and not at.get("file_uploader")


def test_explicit_setting_allows_open_mode(real_db, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    monkeypatch.setenv("REGISTRY_ALLOW_OPEN", "1")
    at = open_page(real_db, None)
    assert not at.exception and at.metric and "拒绝" not in _errors(at)


def test_demo_database_stays_open(registry_url, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    monkeypatch.delenv("REGISTRY_ALLOW_OPEN", raising=False)
    at = open_page(registry_url, None)
    assert not at.exception and at.metric


def test_settings(monkeypatch):
    assert AuthSettings().open_refusal(is_demo=True) is None
    assert "拒绝" in AuthSettings().open_refusal(is_demo=False)
    assert AuthSettings(allow_open=True).open_refusal(is_demo=False) is None
    assert AuthSettings(secret="x" * 40).open_refusal(is_demo=False) is None  # signed in: not open mode
    for value, allowed in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv("REGISTRY_ALLOW_OPEN", value)
        assert auth_settings().allow_open is allowed
