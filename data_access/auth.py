"""Sign-in by a signed link (HS256 JWT) or a trusted proxy header, and the audit trail.

Token claims: ``sub`` (user id), ``name`` (display name), ``region`` (12-digit
code: the widest region the user may see), ``role`` (领导/工作人员/管理员),
``exp`` (expiry, required). Only HS256 is accepted: ``alg=none`` and any other
algorithm are refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import unquote

import jwt
from sqlalchemy.engine import Engine

from .codes import ROLES
from .schema import audit_log
from .scope import Scope, ScopeError
from .settings import AuthSettings, secret_problem

ALGORITHM = "HS256"


class AuthError(Exception):
    """Sign-in refused; the message is Chinese and safe to show."""


@dataclass(frozen=True)
class Identity:
    user_id: str
    name: str
    region: str
    role: str


def _identity(user_id, name, region, role) -> Identity:
    user_id, name, region, role = (str(v or "").strip() for v in (user_id, name, region, role))
    if not user_id:
        raise AuthError("身份信息缺少用户标识。")
    if role not in ROLES:
        raise AuthError(f"未知角色“{role[:20]}”:应为 领导、工作人员 或 管理员。")
    try:
        Scope.of(region)
    except ScopeError as exc:
        raise AuthError(f"身份信息中的区划代码无效:{exc}") from exc
    return Identity(user_id[:64], (name or user_id)[:64], region, role)


def verify_token(token: str, secret: str, now: dt.datetime | None = None) -> Identity:
    if not secret:
        raise AuthError("未配置登录密钥,无法验证登录链接。")
    weak = secret_problem(secret)
    if weak:
        raise AuthError(weak)
    if not token or len(token) > 4096:
        raise AuthError("登录链接无效。")
    options = {"require": ["exp", "sub", "region", "role"]}
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options=options)
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("登录链接已过期,请从门户重新进入。") from exc
    except jwt.InvalidSignatureError as exc:
        raise AuthError("登录链接签名无效。") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise AuthError("登录链接的签名算法不被接受。") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError(f"登录链接缺少必要信息({exc.claim})。") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("登录链接无效。") from exc
    if now is not None and dt.datetime.fromtimestamp(claims["exp"], dt.timezone.utc) <= now:
        raise AuthError("登录链接已过期,请从门户重新进入。")
    return _identity(claims.get("sub"), claims.get("name"), claims.get("region"), claims.get("role"))


def identity_from_headers(headers, settings: AuthSettings) -> Identity | None:
    """Identity from a trusted proxy's headers, only when enabled. None when absent."""
    if not settings.trusted_header:
        return None
    get = (lambda k: headers.get(k) or headers.get(k.lower())) if headers else (lambda k: None)
    user = get(settings.user_header)
    if not user:
        return None
    return _identity(unquote(user), unquote(get(settings.name_header) or ""), get(settings.region_header),
                     unquote(get(settings.role_header) or ""))


def make_token(secret: str, user_id: str, name: str, region: str, role: str, minutes: int = 60) -> str:
    """Sign a link token (for the portal side, tests and the README example)."""
    exp = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return jwt.encode({"sub": user_id, "name": name, "region": region, "role": role, "exp": exp},
                      secret, algorithm=ALGORITHM)


def record(engine: Engine, action: str, identity: Identity | None, scope_code: str | None,
           detail: str = "", row_count: int | None = None) -> None:
    """Append to the audit trail: sign-ins (登录) and exports (导出)."""
    with engine.begin() as conn:
        conn.execute(audit_log.insert().values(
            at=dt.datetime.now(), user_id=identity.user_id if identity else None,
            user_name=identity.name if identity else "开放演示模式", action=action,
            scope_code=scope_code, detail=detail[:2000], row_count=row_count,
        ))
