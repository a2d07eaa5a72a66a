"""Sign-in gate: a signed link (?token=) or a trusted proxy header; open demo mode without a secret."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from data_access import auth
from data_access.scope import Scope
from data_access.settings import auth_settings

from ..context import User

IDENTITY_KEY = "_identity"
ENDED_KEY = "_sign_in_ended"  # why this session's header sign-in ended (it stays signed out)


@st.cache_data(show_spinner=False, ttl=3600)
def open_root(db_url: str, data_version: str) -> Scope:
    """Where an open (no sign-in) session starts: the widest region holding all data."""
    from data_access.db import get_engine
    from data_access.queries.places import default_scope_code

    return Scope.of(default_scope_code(get_engine(db_url)))


def _no_access(message: str) -> None:
    st.error(f"**无权访问**\n\n{message}\n\n请从单位门户重新进入本系统。")
    st.stop()


def _refused(engine, message: str, identity, token: str) -> None:
    """Audit a refused sign-in (best effort: the refusal is shown even if the trail cannot be written)."""
    try:
        auth.record(engine, "登录被拒", identity, identity.region if identity else None, detail=message,
                    user_id=auth.claimed_user(token), user_name="未确认身份")
    except SQLAlchemyError:
        pass
    _no_access(message)


def _headers():
    return st.context.headers


def _client_ip() -> str | None:
    try:
        return st.context.ip_address
    except Exception:  # no request context (e.g. a bare script run)
        return None


def sign_in(engine, meta: dict | None = None) -> User | None:
    """The signed-in user, None in open demo mode. Stops the page with 无权访问 otherwise.

    ``meta`` is the database's meta table (read here when not given): open mode serves only the demo.
    """
    settings = auth_settings()
    token = st.query_params.get("token")
    if settings.secret_error:
        if token:
            del st.query_params["token"]
        st.error(f"**登录密钥不安全,系统拒绝提供数据**\n\n{settings.secret_error}")
        st.stop()
    if settings.open_mode:
        if token:
            del st.query_params["token"]
        if meta is None:
            from data_access.db import read_meta

            meta = read_meta(engine)
        refusal = settings.open_refusal(meta.get("is_demo") == "1")
        if refusal:
            st.error(f"**未配置登录,系统拒绝提供数据**\n\n{refusal}")
            st.stop()
        return None
    identity = st.session_state.get(IDENTITY_KEY)
    if token:
        del st.query_params["token"]  # never leave the token in the visible URL
        st.session_state.pop(IDENTITY_KEY, None)
        identity = None
        try:
            identity = auth.verify_token(token, settings.secret, max_hours=settings.max_token_hours)
            auth.use_once(engine, identity)
        except auth.AuthError as exc:
            _refused(engine, str(exc), identity, token)
        st.session_state[IDENTITY_KEY] = identity
        st.session_state.pop(ENDED_KEY, None)
        auth.record(engine, "登录", identity, identity.region, detail="签名链接")
    elif st.session_state.get(ENDED_KEY):
        _no_access(st.session_state[ENDED_KEY])
    elif identity is not None and identity.expires is not None \
            and identity.expires <= dt.datetime.now(dt.timezone.utc):
        st.session_state.pop(IDENTITY_KEY, None)  # the session's sign-in lives no longer than its link
        if identity.via == "header":  # the proxy's headers sign this session in no more: a reload asks again
            st.session_state[ENDED_KEY] = (f"本次登录已超过 {settings.header_session_hours} 小时,已自动退出。"
                                           "请刷新页面,经门户重新确认身份。")
            _no_access(st.session_state[ENDED_KEY])
        _no_access("登录已过期(登录链接的有效期已到),请从门户重新进入。")
    elif identity is not None and identity.via == "header":
        # every run (a reconnect too) must still carry the same identity from the proxy
        try:
            now_from_proxy = auth.identity_from_headers(_headers(), settings, _client_ip())
        except auth.AuthError as exc:
            st.session_state.pop(IDENTITY_KEY, None)
            _no_access(str(exc))
        if now_from_proxy != identity:
            st.session_state.pop(IDENTITY_KEY, None)
            identity = None
    if identity is None:
        try:
            identity = auth.identity_from_headers(_headers(), settings, _client_ip())
        except auth.AuthError as exc:
            _no_access(str(exc))
        if identity is not None:
            st.session_state[IDENTITY_KEY] = identity
            auth.record(engine, "登录", identity, identity.region, detail="可信请求头")
    if identity is None:
        _no_access("未能确认您的身份。")
    return User(identity.user_id, identity.name, identity.role, Scope.of(identity.region))
