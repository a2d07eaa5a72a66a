"""A row of headline figures that never truncates: each card is as wide as its value."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Figure:
    label: str  # with its unit, e.g. "资金下达(亿元)"
    value: str  # formatted
    note: str | None = None  # a second figure under the value (not a change: no arrow, no colour)
    help: str | None = None


def row(figures: list[Figure], key: str) -> None:
    with st.container(horizontal=True, gap="small", key=key):
        for f in figures:
            st.metric(f.label, f.value, delta=f.note, delta_color="off", delta_arrow="off", help=f.help,
                      border=True, width="content")
