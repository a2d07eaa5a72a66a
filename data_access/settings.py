"""Deployment settings, from the environment or ``.streamlit/secrets.toml`` (no streamlit import).

[auth]
secret = "…"                 # HS256 key shared with the portal (>= 32 random bytes); none = open demo mode
max_token_hours = 12         # longest a sign-in link may be valid (exp − iat)
allow_open = false           # serve a database other than the demo without sign-in (explicit opt-in)
trusted_header = false       # honour identity headers set by an authenticating proxy
header_session_hours = 12    # longest a session signed in by trusted headers lives (then: reload to sign in again)
user_header = "X-Remote-User"
name_header = "X-Remote-Name"
region_header = "X-Remote-Region"
role_header = "X-Remote-Role"
proxy_secret = "…"           # trusted headers count only with this value in proxy_secret_header (>= 32 bytes);
proxy_secret_header = "X-Proxy-Secret"   # without a proxy secret, only from a loopback address (proxy on this host)

[embed]
frame_ancestors = ["https://portal.example.gov.cn"]   # origins allowed to frame the app

Environment overrides: REGISTRY_AUTH_SECRET, REGISTRY_TOKEN_MAX_HOURS, REGISTRY_TRUSTED_HEADER (1/0),
REGISTRY_HEADER_SESSION_HOURS,
REGISTRY_ALLOW_OPEN (1/0), REGISTRY_PROXY_SECRET,
REGISTRY_FRAME_ANCESTORS (space-separated origins).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .codes import ascii_whole
from .db import read_secrets


MIN_SECRET_BYTES = 32
# Defaults and words an attacker tries first (compared without case, spaces, "-" and "_").
KNOWN_WEAK_SECRETS = frozenset({
    "123456", "12345678", "123456789", "1234567890", "111111", "000000", "qwerty", "abc123",
    "secret", "mysecret", "yoursecret", "secretkey", "jwtsecret", "authsecret", "changeme", "changeit",
    "password", "passw0rd", "admin", "default", "test", "portal", "portalsecret", "registry",
    "registrysecret", "registryauthsecret", "sharedsecret", "portalsharedsecret",
})
MAX_TOKEN_HOURS = 12
HEADER_SESSION_HOURS = 12
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is too weak to sign links with (Chinese), or None. An empty secret is open mode."""
    if not secret:
        return None
    folded = re.sub(r"[\s_\-]", "", secret.lower())
    repeated = re.fullmatch(r"(.{1,16}?)\1+", secret) is not None
    if (len(secret.encode("utf-8")) < MIN_SECRET_BYTES or folded in KNOWN_WEAK_SECRETS or repeated
            or len(set(secret)) < 10):
        return ("登录密钥(REGISTRY_AUTH_SECRET 或 [auth] secret)太短或是常见默认值,"
                f"可被轻易猜出:密钥至少须为 {MIN_SECRET_BYTES} 字节的随机字符。"
                f"请用 {MAKE_SECRET} 生成新密钥,同时更新门户与本系统的配置。")
    return None


@dataclass(frozen=True)
class AuthSettings:
    secret: str = ""
    max_token_hours: int = MAX_TOKEN_HOURS
    trusted_header: bool = False
    header_session_hours: int = HEADER_SESSION_HOURS
    user_header: str = "X-Remote-User"
    name_header: str = "X-Remote-Name"
    region_header: str = "X-Remote-Region"
    role_header: str = "X-Remote-Role"
    allow_open: bool = False
    proxy_secret: str = ""
    proxy_secret_header: str = "X-Proxy-Secret"

    @property
    def open_mode(self) -> bool:
        return not self.secret and not self.trusted_header

    def open_refusal(self, is_demo: bool) -> str | None:
        """Why open mode (no sign-in) may not serve this database (Chinese), or None.

        Open mode is for the demo database; real data needs sign-in unless ``allow_open`` says otherwise.
        """
        if not self.open_mode or is_demo or self.allow_open:
            return None
        return ("本系统连接的不是演示数据库,但没有配置登录(签名链接密钥 REGISTRY_AUTH_SECRET / [auth] secret,"
                "或可信请求头 [auth] trusted_header),任何人都能看到全部数据,因此系统拒绝提供数据。"
                "请配置登录后重新启动;如确需在受控内网中不登录使用,请明确设置 REGISTRY_ALLOW_OPEN=1"
                "(或 .streamlit/secrets.toml 中 [auth] allow_open = true)。")

    @property
    def secret_error(self) -> str | None:
        """Why the configured secret may not be used (the app refuses to serve), or None."""
        return secret_problem(self.secret)


def auth_settings() -> AuthSettings:
    section = read_secrets().get("auth", {})
    secret = os.environ.get("REGISTRY_AUTH_SECRET", section.get("secret", "")) or ""
    trusted = os.environ.get("REGISTRY_TRUSTED_HEADER")
    trusted_on = ((trusted.strip() in ("1", "true", "yes")) if trusted is not None
                  else bool(section.get("trusted_header", False)))
    allow = os.environ.get("REGISTRY_ALLOW_OPEN")
    allow_open = ((allow.strip().lower() in ("1", "true", "yes")) if allow is not None
                  else section.get("allow_open", False) is True)
    defaults = AuthSettings()
    hours = str(os.environ.get("REGISTRY_TOKEN_MAX_HOURS", section.get("max_token_hours", ""))).strip()
    hours = ascii_whole(hours, 1, 24 * 30) or MAX_TOKEN_HOURS
    header_hours = str(os.environ.get("REGISTRY_HEADER_SESSION_HOURS",
                                      section.get("header_session_hours", ""))).strip()
    header_hours = ascii_whole(header_hours, 1, 24 * 30) or HEADER_SESSION_HOURS
    return AuthSettings(
        secret=str(secret), max_token_hours=int(hours), trusted_header=trusted_on, allow_open=allow_open,
        header_session_hours=int(header_hours),
        user_header=str(section.get("user_header", defaults.user_header)),
        name_header=str(section.get("name_header", defaults.name_header)),
        region_header=str(section.get("region_header", defaults.region_header)),
        role_header=str(section.get("role_header", defaults.role_header)),
        proxy_secret=str(os.environ.get("REGISTRY_PROXY_SECRET", section.get("proxy_secret", "")) or ""),
        proxy_secret_header=str(section.get("proxy_secret_header", defaults.proxy_secret_header)),
    )


def frame_ancestors() -> list[str]:
    env = os.environ.get("REGISTRY_FRAME_ANCESTORS")
    if env is not None:
        return [o for o in env.split() if o]
    value = read_secrets().get("embed", {}).get("frame_ancestors", [])
    return [str(o) for o in value] if isinstance(value, list) else []
