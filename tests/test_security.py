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
