"""What the current page is showing: scope, year, data dates, the user. Set by app.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import streamlit as st

from data_access.definitions import year_end_words
from data_access.scope import Scope

CONTEXT_KEY = "_page_context"


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    role: str  # codes.ROLES
    root: Scope  # the widest region this user may see

    @property
    def year_end(self) -> str:
        """The moment the year's figures stand at, in words: "2025年底", or "2026年10月31日" in a year the data
        stop before its end (``definitions.year_end_words``; never "年底" then)."""
        return year_end_words(self.year, self.as_of)

    @property
    def masked(self) -> bool:
        """Personal data (ID and phone numbers) is masked for every role but 管理员."""
        return self.role != "管理员"


@dataclass(frozen=True)
class PageContext:
    """``as_of`` may be given as the meta text (``data_as_of``): it is parsed here, once, into a date
    (the end of ``last_year`` when missing or bad); ``as_of_text`` keeps the text for display.
    ``root`` is the widest region the viewer may see: the user's region, or in open mode the region
    holding all data (app.py passes it); a context built without it (a component test) is rooted
    at its own scope."""

    db_url: str
    data_version: str
    scope: Scope
    year: int
    first_year: int
    last_year: int
    as_of: dt.date
    is_demo: bool
    region_name: str
    lineage: tuple = field(default_factory=tuple)  # ({code,name,level}, ...) from the top down
    user: User | None = None
    present: bool = False
    open_mode: bool = True  # no sign-in secret configured
    root: Scope | None = None
    as_of_text: str = ""

    def __post_init__(self):
        if not isinstance(self.as_of, dt.date):
            text = str(self.as_of)
            try:
                day = dt.date.fromisoformat(text[:10])
            except ValueError:
                day = dt.date(self.last_year, 12, 31)
            object.__setattr__(self, "as_of", day)
            object.__setattr__(self, "as_of_text", self.as_of_text or text)
        elif not self.as_of_text:
            object.__setattr__(self, "as_of_text", self.as_of.isoformat())
        if self.root is None:
            object.__setattr__(self, "root", self.user.root if self.user else self.scope)

    def allows(self, scope: Scope) -> bool:
        """Whether ``scope`` lies inside the region this viewer may see."""
        return scope.within(self.root)

    def comparison_scope(self) -> tuple[Scope | None, str]:
        """The region a township or village is compared with: its county, or the viewer's own top
        region when the county lies outside it. (None, "") for a county or wider scope."""
        if self.scope.level not in ("town", "village"):
            return None, ""
        base = Scope.of(self.scope.code[:6] + "000000")
        if not self.allows(base):
            base = self.root
        if base == self.scope:
            return None, ""
        names = {r["code"]: r["name"] for r in self.lineage}
        return base, names.get(base.code, base.code)

    @property
    def reference_date(self) -> dt.date:
        """The date the year is read at: its 31 December, or the data's as-of date when earlier."""
        return min(dt.date(self.year, 12, 31), self.as_of)

    @property
    def year_end(self) -> str:
        """The moment the year's figures stand at, in words: "2025年底", or "2026年10月31日" in a year the data
        stop before its end (``definitions.year_end_words``; never "年底" then)."""
        return year_end_words(self.year, self.as_of)

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
