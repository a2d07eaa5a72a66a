"""Issue 24 item 9 (trusted headers): a header sign-in has a bounded life and the proxy must keep vouching.

A session signed in by the proxy's identity headers used to stay signed in for as long as the tab lived,
whatever the headers said later. Now it ends ``header_session_hours`` (12 by default) after sign-in, stays
ended for that session (a reload asks the proxy again), and every run (a reconnect too) re-reads the headers:
another user or no headers replace or end the sign-in.
"""

from __future__ import annotations

import datetime as dt
import dataclasses

import pytest

from data_access import auth
from data_access.settings import AuthSettings, auth_settings
from tests.helpers import open_page

TOWN = "523199101000"
HEADERS = {"X-Remote-User": "h1", "X-Remote-Name": "%E7%8E%8B%E4%BA%94", "X-Remote-Region": TOWN,
           "X-Remote-Role": "%E5%B7%A5%E4%BD%9C%E4%BA%BA%E5%91%98"}  # 王五, 工作人员


def test_a_header_identity_expires_after_the_setting(monkeypatch):
    now = dt.datetime(2026, 5, 1, 8, tzinfo=dt.timezone.utc)
    ident = auth.identity_from_headers(HEADERS, AuthSettings(trusted_header=True), "127.0.0.1", now=now)
    assert ident.via == "header" and ident.expires == now + dt.timedelta(hours=12)
    monkeypatch.setenv("REGISTRY_TRUSTED_HEADER", "1")
    monkeypatch.setenv("REGISTRY_HEADER_SESSION_HOURS", "2")
    settings = auth_settings()
    assert settings.header_session_hours == 2
    assert auth.identity_from_headers(HEADERS, settings, "127.0.0.1", now=now).expires == now + dt.timedelta(hours=2)
    monkeypatch.setenv("REGISTRY_HEADER_SESSION_HOURS", "²")  # not a number: the default
    assert auth_settings().header_session_hours == 12


@pytest.fixture
def proxied(monkeypatch):
    """What the proxy sends this session (tests change it between runs)."""
    import components.shell.auth as gate

    sent = {"headers": dict(HEADERS)}
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    monkeypatch.setenv("REGISTRY_TRUSTED_HEADER", "1")
    monkeypatch.setattr(gate, "_headers", lambda: sent["headers"])
    monkeypatch.setattr(gate, "_client_ip", lambda: "127.0.0.1")
    return sent


def _refusal(at) -> str:
    return " ".join(e.value for e in at.error if "无权访问" in e.value)


def _user(at):
    ident = at.session_state["_identity"] if "_identity" in at.session_state else None
    return ident.user_id if ident else None


def test_the_session_ends_after_its_hours_and_stays_ended(registry_url, proxied):
    at = open_page(registry_url, None)
    assert not at.exception and not _refusal(at) and _user(at) == "h1"
    ident = at.session_state["_identity"]
    at.session_state["_identity"] = dataclasses.replace(  # 12 hours later
        ident, expires=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))
    at.run()
    assert "已超过 12 小时" in _refusal(at) and _user(at) is None
    at.run()  # the proxy still sends the headers: this session stays signed out (a reload signs in again)
    assert "已超过 12 小时" in _refusal(at) and _user(at) is None
    fresh = open_page(registry_url, None)
    assert not _refusal(fresh) and _user(fresh) == "h1"


def test_every_run_rechecks_the_headers(registry_url, proxied):
    at = open_page(registry_url, None)
    assert _user(at) == "h1"
    proxied["headers"] = HEADERS | {"X-Remote-User": "h2", "X-Remote-Region": "523199000000",
                                    "X-Remote-Role": "%E7%AE%A1%E7%90%86%E5%91%98"}
    at.run()  # e.g. a reconnect carrying another user's headers: that user, not the first one's rights
    assert not _refusal(at) and _user(at) == "h2" and at.session_state["_identity"].role == "管理员"
    proxied["headers"] = {}
    at.run()  # the proxy vouches for nobody: signed out
    assert "未能确认您的身份" in _refusal(at) and _user(at) is None
    proxied["headers"] = HEADERS | {"X-Remote-Role": "bad"}
    at.run()
    assert "未知角色" in _refusal(at) and _user(at) is None
