"""Security rules of issue 24: weak sign-in secrets, single-use and bounded tokens, response headers."""

import datetime as dt
import secrets
import time

import jwt
import pytest

from data_access import auth
from data_access.settings import AuthSettings, secret_problem
from tests.helpers import middleware_headers, open_page

STRONG = "Zq3v9X_kT2mB7pLw4rYd8nHc1sGf6jEa0uKo5iVx"
WEAK = ["123456", "secret", "changeme", "password", "portal-secret", "a" * 40, "changeme" * 4,
        "1234567890" * 4, "short-but-random-Xq9", "abcdefghijklmnopqrstuvwxyz12345"]


@pytest.mark.parametrize("weak", WEAK)
def test_weak_secrets_are_named(weak):
    message = secret_problem(weak)
    assert message and "登录密钥" in message and "32" in message
    assert AuthSettings(secret=weak).secret_error == message


def test_strong_secret_accepted():
    assert secret_problem(STRONG) is None
    assert secret_problem("") is None  # no secret: open demo mode, not a weak secret
    assert AuthSettings(secret=STRONG).secret_error is None


@pytest.mark.parametrize("weak", ["123456", "changeme" * 4])
def test_weak_secret_refuses_tokens(weak):
    token = auth.make_token(weak, "u1", "张三", "523199101000", "管理员", minutes=5)
    with pytest.raises(auth.AuthError, match="登录密钥"):
        auth.verify_token(token, weak)


@pytest.mark.parametrize("weak", ["123456", "secret"])
def test_app_refuses_to_serve_with_a_weak_secret(registry_url, monkeypatch, weak):
    monkeypatch.setenv("REGISTRY_AUTH_SECRET", weak)
    token = auth.make_token(weak, "u1", "张三", "523199000000", "管理员", minutes=5)
    for params in ({}, {"token": token}):
        at = open_page(registry_url, None, **params)
        assert not at.exception
        shown = " ".join(e.value for e in at.error)
        assert "登录密钥不安全" in shown and "32" in shown
        assert not at.metric and not at.dataframe


# ---- response headers (serve.py's middleware and the shipped nginx) -------------------------------------


def test_security_headers_middleware():
    from components.shell.embedding import SecurityHeadersMiddleware

    headers = middleware_headers(SecurityHeadersMiddleware,
                                 [(b"referrer-policy", b"unsafe-url"), (b"content-type", b"text/html")])
    assert headers.count((b"referrer-policy", b"no-referrer")) == 1
    assert (b"referrer-policy", b"unsafe-url") not in headers
    assert (b"x-content-type-options", b"nosniff") in headers


@pytest.fixture(scope="module")
def served(sqlite_demo_url):
    from tests.browser.harness import AppServer

    server = AppServer({"REGISTRY_DB_URL": sqlite_demo_url}, script="serve.py", name="headers").start()
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/", "/query?token=abc", "/_stcore/health", "/static/no-such-file.js",
                                  "/media/no-such-file.xlsx"])
def test_every_response_of_serve_py_has_the_security_headers(served, path):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(served.base_url + path) as response:
            headers = response.headers
    except urllib.error.HTTPError as exc:  # a 404 is a response too
        headers = exc.headers
    assert headers.get_all("Referrer-Policy") == ["no-referrer"]
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert headers["Content-Security-Policy"].startswith("frame-ancestors 'self'")


def test_nginx_sends_the_headers_and_logs_no_token():
    import re

    from tests.helpers import ROOT

    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    live = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    assert re.search(r"add_header\s+Referrer-Policy\s+\"?no-referrer\"?\s+always;", live)
    assert re.search(r"add_header\s+X-Content-Type-Options\s+\"?nosniff\"?\s+always;", live)
    # Every access_log names a log format, and no format logs the raw request line, URI or query string.
    logs = re.findall(r"access_log\s+([^;]+);", live)
    assert logs and all(entry.split()[0] == "off" or len(entry.split()) >= 2 for entry in logs), logs
    formats = re.findall(r"log_format\s+\S+\s+(.*?);", live, re.S)
    assert formats
    for fmt in formats:
        for variable in ("$request ", "$request\"", "$request_uri", "$query_string", "$args", "$arg_token"):
            assert variable not in fmt + " ", (variable, fmt)


# ---- sign-in links: single use, bounded lifetime, bounded session, clear refusals ----------------------

TOWN = "523199101000"
NOW = dt.datetime.now(dt.timezone.utc)


def signed(secret=STRONG, **overrides):
    now = dt.datetime.now(dt.timezone.utc)
    claims = {"sub": "u1", "name": "张三", "region": TOWN, "role": "工作人员", "jti": secrets.token_urlsafe(16),
              "iat": now, "exp": now + dt.timedelta(minutes=5)}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


def test_make_token_carries_jti_and_iat():
    claims = jwt.decode(auth.make_token(STRONG, "u1", "张三", TOWN, "领导"), STRONG, algorithms=["HS256"])
    assert len(claims["jti"]) >= 16 and claims["exp"] - claims["iat"] == 3600
    other = jwt.decode(auth.make_token(STRONG, "u1", "张三", TOWN, "领导"), STRONG, algorithms=["HS256"])
    assert other["jti"] != claims["jti"]
    assert auth.verify_token(auth.make_token(STRONG, "u1", "张三", TOWN, "领导"), STRONG).jti


@pytest.mark.parametrize("iat, hours", [(NOW, 13), (None, 13), (NOW - dt.timedelta(hours=20), 1)])
def test_token_lifetime_is_bounded(iat, hours):
    now = dt.datetime.now(dt.timezone.utc)
    long_lived = signed(iat=iat, exp=now + dt.timedelta(hours=hours))
    with pytest.raises(auth.AuthError, match="有效期.*12 小时"):
        auth.verify_token(long_lived, STRONG)
    if iat is not None and hours == 13:
        assert auth.verify_token(long_lived, STRONG, max_hours=24).user_id == "u1"
    assert auth.verify_token(signed(iat=now, exp=now + dt.timedelta(hours=11)), STRONG).user_id == "u1"


def test_max_token_hours_setting(monkeypatch):
    from data_access.settings import auth_settings

    monkeypatch.setenv("REGISTRY_TOKEN_MAX_HOURS", "2")
    assert auth_settings().max_token_hours == 2
    monkeypatch.setenv("REGISTRY_TOKEN_MAX_HOURS", "²")
    assert auth_settings().max_token_hours == 12


def test_audience_claim_gets_a_clear_refusal():
    with pytest.raises(auth.AuthError, match="接收方"):
        auth.verify_token(signed(aud="https://other-system.example"), STRONG)


@pytest.fixture
def own_db(registry_backend, make_db, monkeypatch):
    """A database of its own: sign-ins write to it."""
    from data_access.db import get_engine

    monkeypatch.setenv("REGISTRY_AUTH_SECRET", STRONG)
    url = make_db("small", 11, backend=registry_backend)
    return url, get_engine(url)


def audit(engine, action):
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT user_id, detail FROM audit_log WHERE action = :a ORDER BY id"),
                            {"a": action}).all()


def refusal(at):
    return " ".join(e.value for e in at.error)


def test_sign_in_link_is_single_use(own_db):
    url, engine = own_db
    token = signed()
    first = open_page(url, None, token=token)
    assert not first.exception and not first.error and first.metric
    again = open_page(url, None, token=token)  # a second browser (or session) with the same link
    assert not again.exception
    assert "无权访问" in refusal(again) and "已使用" in refusal(again)
    assert not again.metric and not again.dataframe
    refused = audit(engine, "登录被拒")
    assert refused and refused[-1][0] == "u1" and "已使用" in refused[-1][1]


def test_sign_in_without_jti_is_refused(own_db):
    url, _ = own_db
    at = open_page(url, None, token=signed(jti=None))
    assert "无权访问" in refusal(at) and "jti" in refusal(at) and not at.metric


def test_refused_sign_ins_are_audited(own_db):
    url, engine = own_db
    before = len(audit(engine, "登录被拒"))
    for bad in (signed(secret="another-strong-secret-for-forging-0123456789"), "abc",
                signed(exp=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))):
        at = open_page(url, None, token=bad)
        assert "无权访问" in refusal(at) and not at.metric
    rows = audit(engine, "登录被拒")
    assert len(rows) == before + 3
    assert any("签名无效" in detail for _, detail in rows) and any("过期" in detail for _, detail in rows)


def test_session_ends_when_the_token_expires(own_db):
    url, _ = own_db
    exp = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=4)
    at = open_page(url, None, token=signed(exp=exp))
    assert not at.exception and not at.error and at.metric
    time.sleep(max(0.0, (exp - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 0.5)
    at.run()  # the same session, any later interaction
    assert not at.exception
    assert "过期" in refusal(at) and not at.metric and not at.dataframe
