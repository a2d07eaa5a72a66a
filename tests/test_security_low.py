"""Issue 24, low items: no call to an outside service at start, no database address shown to visitors."""

from __future__ import annotations


from tests.helpers import open_page



def test_no_external_ip_lookup(monkeypatch):
    from streamlit import net_util

    import components.shell.embedding  # noqa: F401  (serve.py imports it before the server starts)

    calls = []
    monkeypatch.setattr(net_util, "_make_blocking_http_get", lambda *a, **k: calls.append(a))
    assert not net_util.get_external_ip() and calls == []


def test_outage_message_hides_the_database_address(monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    at = open_page("postgresql+psycopg://registry_user:pw@127.0.0.1:1/registry", None)
    assert not at.exception
    shown = " ".join(str(e.proto) for e in [*at.error, *at.get("code"), *at.get("expander")])
    assert "无法连接数据库" in shown
    for secret in ("127.0.0.1", "registry_user", ":1/", "registry", "port 1"):
        assert secret not in shown, secret


def test_hide_address():
    from components.shell.bootstrap import hide_address

    text = hide_address("无法连接数据库 postgresql+psycopg://u:***@db.example:5432/reg。请检查地址、网络与权限。")
    assert "db.example" not in text and "5432" not in text and "请检查地址" in text
    assert "nonexistent" not in hide_address("无法连接数据库 sqlite:////nonexistent/x.db:数据库文件不存在。")


def test_trusted_headers_need_the_proxy():
    import pytest

    from data_access import auth
    from data_access.settings import AuthSettings

    headers = {"X-Remote-User": "u9", "X-Remote-Name": "x", "X-Remote-Region": "523199000000",
               "X-Remote-Role": "%E7%AE%A1%E7%90%86%E5%91%98"}
    plain = AuthSettings(trusted_header=True)
    with pytest.raises(auth.AuthError, match="本机代理"):
        auth.identity_from_headers(headers, plain, "10.1.2.3")  # straight to the app port from elsewhere
    assert auth.identity_from_headers(headers, plain, "127.0.0.1").role == "管理员"
    secret = "Zq3v9X_kT2mB7pLw4rYd8nHc1sGf6jEa0uKo5iVx"
    guarded = AuthSettings(trusted_header=True, proxy_secret=secret)
    with pytest.raises(auth.AuthError, match="代理密钥"):
        auth.identity_from_headers(headers, guarded, "127.0.0.1")
    with pytest.raises(auth.AuthError, match="代理密钥"):
        auth.identity_from_headers(headers | {"X-Proxy-Secret": secret[:-1]}, guarded, "10.1.2.3")
    assert auth.identity_from_headers(headers | {"X-Proxy-Secret": secret}, guarded, "10.1.2.3").user_id == "u9"
