"""汇报模式 (presentation mode) switch and the meeting auto-advance (?cycle=<s>&pages=a,b,c)."""

from __future__ import annotations

import streamlit as st

from .. import widgets
from . import nav


def is_on() -> bool:
    return st.query_params.get("mode") == "present"


SWITCH_KEY = "present-switch"


def _turn_on() -> None:
    if st.session_state.get(SWITCH_KEY):
        st.query_params["mode"] = "present"
    st.session_state[SWITCH_KEY] = False  # the switch is off again whenever it is drawn (after the exit)


def switch() -> None:
    """Sidebar toggle that turns presentation mode on (its own state never outlives the change: an
    exit that finds the switch still on would turn presentation mode straight back on)."""
    st.sidebar.toggle("汇报模式(投影)", key=SWITCH_KEY, on_change=_turn_on, help="大字号、隐藏侧栏,适合会议投影")


def _exit() -> None:
    for key in ("mode", "cycle", "pages", "paused"):
        st.query_params.pop(key, None)
    st.session_state[SWITCH_KEY] = False


def exit_button() -> None:
    st.button("退出汇报模式", key="exit-present", on_click=_exit)


def cycle_plan() -> tuple[int, list[str]] | None:
    """(seconds, page keys) when ?cycle= is set and valid, else None."""
    raw = st.query_params.get("cycle", "")
    if not raw:
        return None
    seconds = widgets.url_whole(raw, 5, 3600)
    if seconds is None:
        st.warning("轮播间隔 cycle 应为 5–3600 秒的整数,已停用轮播。")
        return None
    keys = [k for k in st.query_params.get("pages", "overview").split(",") if k in nav.BY_KEY]
    return (seconds, keys) if keys else None


def next_page(current_key: str, keys: list[str]) -> str:
    """The page after ``current_key`` in the cycle (wrapping); the first one from a page outside it."""
    return keys[(keys.index(current_key) + 1) % len(keys)] if current_key in keys else keys[0]


def auto_advance(current_key: str) -> None:
    """Step to the next page every N seconds, with a visible pause control."""
    plan = cycle_plan()
    if plan is None:
        return
    seconds, keys = plan
    paused = st.query_params.get("paused") == "1"
    label = "继续轮播" if paused else f"暂停轮播(每 {seconds} 秒)"
    if st.button(label, key="cycle-pause"):
        if paused:
            del st.query_params["paused"]
        else:
            st.query_params["paused"] = "1"
        st.rerun()
    if paused:
        return
    following = next_page(current_key, keys)

    @st.fragment(run_every=seconds)
    def _ticker():
        ticks = st.session_state.get("_cycle_ticks", 0) + 1
        st.session_state["_cycle_ticks"] = ticks
        if ticks > 1:  # the first run is the page load itself
            st.session_state["_cycle_ticks"] = 0
            widgets.go(following, cycle=seconds, pages=",".join(keys))  # the cycle goes on on the next page

    _ticker()
