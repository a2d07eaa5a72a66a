"""Sign-in by a signed link (HS256 JWT) or a trusted proxy header, and the audit trail.

Token claims: ``sub`` (user id), ``name`` (display name), ``region`` (12-digit
code: the widest region the user may see), ``role`` (领导/工作人员/管理员),
``exp`` (expiry, required), ``iat`` (issued at) and ``jti`` (a unique id: a link
signs in once, see ``use_once``). Only HS256 is accepted: ``alg=none`` and any
other algorithm are refused; ``exp`` − ``iat`` (or − now without ``iat``) may not
exceed ``max_hours`` (12 by default); an ``aud`` claim is refused.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

import jwt
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .codes import ROLES
from .schema import audit_log, used_token
from .scope import Scope, ScopeError
from .settings import MAX_TOKEN_HOURS, AuthSettings, secret_problem

ALGORITHM = "HS256"


class AuthError(Exception):
    """Sign-in refused; the message is Chinese and safe to show."""


@dataclass(frozen=True)
class Identity:
    user_id: str
    name: str
    region: str
    role: str
    # From a signed link: its one-time id. ``expires``: the session's sign-in ends then (the link's expiry, or
    # ``header_session_hours`` after a trusted-header sign-in). ``via``: "link" or "header".
    jti: str | None = field(default=None, compare=False)
    expires: dt.datetime | None = field(default=None, compare=False)
    via: str = field(default="link", compare=False)


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


def verify_token(token: str, secret: str, now: dt.datetime | None = None,
                 max_hours: int = MAX_TOKEN_HOURS) -> Identity:
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
    except jwt.InvalidAudienceError as exc:
        raise AuthError("登录链接指定了接收方(aud),本系统不接受指定接收方的链接:请门户签发不含 aud 的链接。") from exc
    except jwt.ImmatureSignatureError as exc:
        raise AuthError("登录链接尚未生效(签发时间或生效时间在将来),请检查门户服务器的时钟。") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("登录链接无效。") from exc
    if not isinstance(claims["exp"], (int, float)):
        raise AuthError("登录链接无效。")
    expires = dt.datetime.fromtimestamp(claims["exp"], dt.timezone.utc)
    if now is not None and expires <= now:
        raise AuthError("登录链接已过期,请从门户重新进入。")
    issued = claims.get("iat")
    start = (dt.datetime.fromtimestamp(issued, dt.timezone.utc) if isinstance(issued, (int, float))
             else now or dt.datetime.now(dt.timezone.utc))
    if expires - start > dt.timedelta(hours=max_hours):
        raise AuthError(f"登录链接的有效期过长(超过 {max_hours} 小时),系统不接受:请门户签发有效期更短的链接。")
    jti = claims.get("jti")
    identity = _identity(claims.get("sub"), claims.get("name"), claims.get("region"), claims.get("role"))
    return Identity(identity.user_id, identity.name, identity.region, identity.role,
                    jti=str(jti)[:64] if jti not in (None, "") else None, expires=expires, via="link")


def claimed_user(token: str) -> str | None:
    """The ``sub`` a refused token claims (unverified: for the audit trail only, never for access)."""
    try:
        sub = jwt.decode(token, options={"verify_signature": False}).get("sub")
    except (jwt.PyJWTError, AttributeError, TypeError, ValueError):
        return None
    return str(sub)[:64] if isinstance(sub, (str, int)) and str(sub).strip() else None


def new_jti() -> str:
    return secrets.token_urlsafe(16)


_used_table_ready: set[str] = set()


def _ensure_used_table(engine: Engine) -> None:
    """Create ``used_token`` in a database made before it existed (once per engine; safe when racing)."""
    key = str(engine.url)
    if key in _used_table_ready:
        return
    try:
        used_token.create(engine, checkfirst=True)
    except SQLAlchemyError:  # another process created it in between
        used_token.create(engine, checkfirst=True)
    _used_table_ready.add(key)


def use_once(engine: Engine, identity: Identity) -> None:
    """Record a signed link's ``jti`` as used; AuthError when it has none or was used before."""
    if not identity.jti:
        raise AuthError("登录链接缺少一次性标识(jti),系统不接受可重复使用的链接:请门户为每次进入签发新链接。")
    _ensure_used_table(engine)
    now = dt.datetime.now()
    expires = (identity.expires.astimezone().replace(tzinfo=None) if identity.expires
               else now + dt.timedelta(hours=MAX_TOKEN_HOURS))
    try:
        with engine.begin() as conn:
            conn.execute(used_token.insert().values(jti=identity.jti, user_id=identity.user_id, used_at=now,
                                                    expires_at=expires))
    except IntegrityError as exc:
        raise AuthError("该登录链接已使用过,每个链接只能登录一次:请从门户重新进入。") from exc
    with engine.begin() as conn:  # used links past their expiry can never be presented again
        conn.execute(delete(used_token).where(used_token.c.expires_at < now - dt.timedelta(days=1)))


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def identity_from_headers(headers, settings: AuthSettings, client_ip: str | None = None,
                          now: dt.datetime | None = None) -> Identity | None:
    """Identity from a trusted proxy's headers, only when enabled. None when absent. Its sign-in lasts
    ``settings.header_session_hours`` from ``now``.

    Anyone who reaches the app port directly could send the headers, so they count only from the proxy:
    with ``proxy_secret`` set the request must carry it in ``proxy_secret_header``; without one, the
    request must come from a loopback address (the proxy on this host, the app bound to 127.0.0.1).
    """
    if not settings.trusted_header:
        return None
    get = (lambda k: headers.get(k) or headers.get(k.lower())) if headers else (lambda k: None)
    user = get(settings.user_header)
    if not user:
        return None
    if settings.proxy_secret:
        given = get(settings.proxy_secret_header) or ""
        if not hmac.compare_digest(given.encode("utf-8"), settings.proxy_secret.encode("utf-8")):
            raise AuthError("身份请求头不是来自受信任的代理(缺少或不符的代理密钥),已拒绝。")
    elif (client_ip or "").strip() not in LOOPBACK:
        raise AuthError("身份请求头只接受来自本机代理的请求(未配置代理密钥 [auth] proxy_secret),"
                        "本次请求来自其他地址,已拒绝。")
    found = _identity(unquote(user), unquote(get(settings.name_header) or ""), get(settings.region_header),
                      unquote(get(settings.role_header) or ""))
    start = now or dt.datetime.now(dt.timezone.utc)
    return Identity(found.user_id, found.name, found.region, found.role, via="header",
                    expires=start + dt.timedelta(hours=settings.header_session_hours))


def make_token(secret: str, user_id: str, name: str, region: str, role: str, minutes: int = 60) -> str:
    """Sign a link token (for the portal side, tests and the README example)."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    exp = now + dt.timedelta(minutes=minutes)
    return jwt.encode({"sub": user_id, "name": name, "region": region, "role": role, "iat": now, "exp": exp,
                       "jti": new_jti()}, secret, algorithm=ALGORITHM)


def record(engine: Engine, action: str, identity: Identity | None, scope_code: str | None,
           detail: str = "", row_count: int | None = None, user_id: str | None = None,
           user_name: str | None = None) -> None:
    """Append to the audit trail: sign-ins (登录), refused sign-ins (登录被拒) and exports (导出)."""
    with engine.begin() as conn:
        conn.execute(audit_log.insert().values(
            at=dt.datetime.now(), user_id=identity.user_id if identity else user_id,
            user_name=identity.name if identity else (user_name or "开放演示模式"), action=action,
            scope_code=scope_code, detail=detail[:2000], row_count=row_count,
        ))
