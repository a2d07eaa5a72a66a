"""Opening the database for the app: first-start demo generation and clear Chinese errors."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from sqlalchemy.engine import make_url

from data_access import db


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
        show_error(exc.title, exc.message, exc.detail)
        st.stop()
    except Exception as exc:  # e.g. the disk is full or read-only during first-start generation
        show_error("演示数据生成失败", "首次启动时无法创建演示数据库,请检查 data/ 目录的磁盘空间与写权限。",
                   f"{type(exc).__name__}: {exc}"[:500])
        st.stop()


def show_error(title: str, message: str, detail: str = "") -> None:
    st.error(f"**{title}**\n\n{message}")
    if detail:
        with st.expander("技术细节(供管理员排查)"):
            st.code(detail, language=None)
