"""KPI cards: one figure, its unit, and its change from the year before."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass
class Kpi:
    label: str  # includes the unit, e.g. "建档立卡户数(户)"
    value: str  # already formatted
    delta: str | None = None  # e.g. "+12": the change from last year
    help: str | None = None
    up_is_good: bool = True


def show(cards: list[Kpi], per_row: int = 4) -> None:
    for start in range(0, len(cards), per_row):
        cols = st.columns(per_row)
        for col, card in zip(cols, cards[start:start + per_row]):
            with col:
                st.metric(
                    card.label, card.value, delta=card.delta, help=card.help, border=True,
                    delta_color="normal" if card.up_is_good else "inverse",
                    delta_description="较上年" if card.delta is not None else None,
                )
