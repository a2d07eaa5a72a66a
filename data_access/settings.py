"""Deployment settings, from the environment or ``.streamlit/secrets.toml`` (no streamlit import).

[auth]
secret = "…"                 # HS256 key shared with the portal; none = open demo mode
trusted_header = false       # honour identity headers set by an authenticating proxy
user_header = "X-Remote-User"
name_header = "X-Remote-Name"
region_header = "X-Remote-Region"
role_header = "X-Remote-Role"

[embed]
frame_ancestors = ["https://portal.example.gov.cn"]   # origins allowed to frame the app

Environment overrides: REGISTRY_AUTH_SECRET, REGISTRY_TRUSTED_HEADER (1/0),
REGISTRY_FRAME_ANCESTORS (space-separated origins).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .db import read_secrets


@dataclass(frozen=True)
class AuthSettings:
    secret: str = ""
    trusted_header: bool = False
    user_header: str = "X-Remote-User"
    name_header: str = "X-Remote-Name"
    region_header: str = "X-Remote-Region"
    role_header: str = "X-Remote-Role"

    @property
    def open_mode(self) -> bool:
        return not self.secret and not self.trusted_header


def auth_settings() -> AuthSettings:
    section = read_secrets().get("auth", {})
    secret = os.environ.get("REGISTRY_AUTH_SECRET", section.get("secret", "")) or ""
    trusted = os.environ.get("REGISTRY_TRUSTED_HEADER")
    trusted_on = ((trusted.strip() in ("1", "true", "yes")) if trusted is not None
                  else bool(section.get("trusted_header", False)))
    defaults = AuthSettings()
    return AuthSettings(
        secret=str(secret), trusted_header=trusted_on,
        user_header=str(section.get("user_header", defaults.user_header)),
        name_header=str(section.get("name_header", defaults.name_header)),
        region_header=str(section.get("region_header", defaults.region_header)),
        role_header=str(section.get("role_header", defaults.role_header)),
    )


def frame_ancestors() -> list[str]:
    env = os.environ.get("REGISTRY_FRAME_ANCESTORS")
    if env is not None:
        return [o for o in env.split() if o]
    value = read_secrets().get("embed", {}).get("frame_ancestors", [])
    return [str(o) for o in value] if isinstance(value, list) else []
