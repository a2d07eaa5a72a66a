"""Opening the database for the app: first-start demo generation and clear Chinese errors."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import streamlit as st
from sqlalchemy.engine import make_url

from data_access import db

_LOG = logging.getLogger(__name__)
# Addresses (host, port, user, path) that an error must not show to a visitor who has not signed in.
_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+]*://[\x21-\x7e]*[\x21-\x39\x3b-\x7e]|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|"
                      r"\bport \d+)")


def _default_db_missing(url: str) -> bool:
    if not db.is_default_sqlite(url):
        return False
    path = Path(make_url(url).database)
    return not path.exists() or path.stat().st_size == 0


@st.cache_resource(show_spinner=False)
def _generate_default_demo(url: str) -> dict:
    """Runs once per process: build the demo county in the embedded SQLite file."""
    from data_access.demo import generate as demo

    path = Path(make_url(url).database)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    tmp_url = f"sqlite:///{tmp}"
    stats = demo.generate(db.get_engine(tmp_url), scale="county", seed=1)
    db.get_engine(tmp_url).dispose()
    db.get_engine.cache_clear()
    tmp.replace(path)
    return stats


def open_database() -> tuple[str, dict]:
    """Resolve, create if needed and check the database. Shows the error and stops on failure."""
    try:
        url = db.resolve_url()
        if _default_db_missing(url):
            with st.spinner("首次启动:正在生成演示县数据(约一分钟)……"):
                _generate_default_demo(url)
        meta = db.check_database(db.get_engine(url))
        return url, meta
    except db.RegistryError as exc:
        # Visitors are not signed in yet: the database's host, port, user and path go to the server log only.
        _LOG.warning("数据库不可用:%s %s %s", exc.title, exc.message, exc.detail)
        show_error(exc.title, hide_address(exc.message), "详细信息(数据库地址、端口与账号)已写入服务器日志。")
        st.stop()
    except Exception as exc:  # e.g. the disk is full or read-only during first-start generation
        show_error("演示数据生成失败", "首次启动时无法创建演示数据库,请检查 data/ 目录的磁盘空间与写权限。",
                   f"{type(exc).__name__}: {exc}"[:500])
        st.stop()


def hide_address(message: str) -> str:
    """``message`` without the database's address: 无法连接数据库 x://u@h:p/db。 -> 无法连接数据库(地址已隐藏)。"""
    return re.sub(r"\s+(?=[,。:])", "", _ADDRESS.sub("(地址已隐藏)", message))


def show_error(title: str, message: str, detail: str = "") -> None:
    st.error(f"**{title}**\n\n{message}")
    if detail:
        with st.expander("技术细节(供管理员排查)"):
            st.code(detail, language=None)
