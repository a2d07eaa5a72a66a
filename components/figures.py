"""A row of headline figures that never truncates: each card is as wide as its value."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

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


def text_em(text: str) -> float:
    """About how many em ``text`` takes in a bold CJK font (a CJK character one em, digits and Latin 0.6)."""
    return sum(1.0 if ord(c) > 0x2E80 else 0.6 for c in text) or 1.0


def fitted(text: str, rem: float) -> str:
    """CSS font-size: ``rem`` unless ``text`` would not fit its tile's width (a container query unit)."""
    return f"font-size:min({rem}rem, calc(100cqw / {text_em(text):.2f}))"


def headline(text: str) -> None:
    """The projector's one-line message ("监测对象 67,707 户 · 仍有风险 20,310 户 · ..."): large, and smaller when
    a province's figures would wrap it onto a second line (which pushes the charts below off the screen)."""
    st.html(f"<div style='container-type:inline-size'><div class='present-headline' role='heading' aria-level='3' "
            f"style='font-weight:700;white-space:nowrap;line-height:1.25;margin:0.3rem 0 0.5rem 0;"
            f"{fitted(text, 1.75)}'>{escape(text)}</div></div>")


def tiles(items: list[tuple[str, str, str]], per_row: int = 4, compact: bool = False) -> None:
    """The projector's headline figures: (label, value with its unit, note) as tiles, ``per_row`` to a row,
    sized for 1280×720 (st.metric's projector size would cut long values such as 100.00%). A value too long
    for its tile is drawn smaller (never cut); ``compact``: tighter tiles, for a column beside a chart."""
    cells = "".join(
        f"<div class='era-tile'><div class='era-label' style='{fitted(label, 1.05)}'>{escape(label)}</div>"
        f"<div class='era-value' style='{fitted(value, 1.9)}'>{escape(value)}</div>"
        f"<div class='era-note' style='{fitted(note or '', 1.0)}'>{escape(note) or '&nbsp;'}</div></div>"
        for label, value, note in items)
    pad, lead = ("2px", "1.1") if compact else ("4px", "1.15")
    st.html(f"""<style>
.era-grid {{display:grid;gap:8px;}}
.era-tile {{border:1px solid #C9D6E3;border-radius:8px;padding:{pad} 12px;background:#F7F9FC;min-width:0;
  container-type:inline-size;}}
.era-label {{color:#444;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}}
.era-value {{font-weight:700;line-height:{lead};color:#0B3C6E;white-space:nowrap;}}
.era-note {{color:#444;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}}
</style><div class='era-grid' style='grid-template-columns:repeat({per_row},minmax(0,1fr))'>{cells}</div>""")
