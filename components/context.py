"""What the current page is showing: scope, year, data dates, the user. Set by app.py."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from data_access.scope import Scope

CONTEXT_KEY = "_page_context"


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    role: str  # codes.ROLES
    root: Scope  # the widest region this user may see

    @property
    def masked(self) -> bool:
        """Personal data (ID and phone numbers) is masked for every role but 管理员."""
        return self.role != "管理员"


@dataclass(frozen=True)
class PageContext:
    db_url: str
    data_version: str
    scope: Scope
    year: int
    first_year: int
    last_year: int
    as_of: str
    is_demo: bool
    region_name: str
    lineage: tuple = field(default_factory=tuple)  # ({code,name,level}, ...) from the top down
    user: User | None = None
    present: bool = False
    open_mode: bool = True  # no sign-in secret configured

    @property
    def masked(self) -> bool:
        """Show ID and phone numbers masked: always, unless the user is a 管理员."""
        return self.user is None or self.user.masked

    @property
    def can_export(self) -> bool:
        """工作人员 and 管理员 export lists; 领导 read aggregates and lists only."""
        return self.user is None or self.user.role in ("工作人员", "管理员")

    @property
    def scope_label(self) -> str:
        return " › ".join(r["name"] for r in self.lineage) or self.region_name


def current() -> PageContext:
    ctx = st.session_state.get(CONTEXT_KEY)
    if ctx is None:
        _hand_over_to_app()
        raise RuntimeError("页面上下文未设置:请通过 app.py 打开本页面")
    return ctx


def _hand_over_to_app() -> None:
    """A deep link opened before any session ran app.py makes Streamlit run the page alone
    (its legacy pages/-folder mode). Switch to app.py's st.navigation and run again."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def set_current(ctx: PageContext) -> None:
    st.session_state[CONTEXT_KEY] = ctx
