"""Security rules of issue 24: weak sign-in secrets, single-use and bounded tokens, response headers."""

import pytest

from data_access import auth
from data_access.settings import AuthSettings, secret_problem
from tests.helpers import open_page

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
    import asyncio

    from components.shell.embedding import SecurityHeadersMiddleware

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"referrer-policy", b"unsafe-url"), (b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"ok"})

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    asyncio.run(SecurityHeadersMiddleware(inner)({"type": "http"}, receive, send))
    headers = sent[0]["headers"]
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
