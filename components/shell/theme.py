"""Look and feel: CJK system fonts, large type, a colour-blind-safe palette, presentation mode."""

from __future__ import annotations

import streamlit as st


FONT_STACK = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Noto Sans SC", sans-serif'

_BASE_CSS = f"""
<style>
html, body, [class*="st-"], .stMarkdown, .stMetric {{ font-family: {FONT_STACK}; }}
/* Streamlit's own icons (bundled font, served locally) must keep their icon font. */
[data-testid="stIconMaterial"], [data-testid="stIconMaterial"] * {{
  font-family: "Material Symbols Rounded" !important; }}
/* A card's figure is sized to its card (cqi: % of the card's width) up to 2.3rem, so that 7,343,740人 in one of five
   cards at 1280 px is shown whole, never cut to "7,4…"; a long label wraps instead of ending in "…". */
/* Only a card in a column is a size container: one sized to its content (width="content") would collapse to 0. */
[data-testid="stColumn"] [data-testid="stMetric"] {{ container-type: inline-size; }}
[data-testid="stMetricValue"] {{ font-size: min(2.3rem, 15cqi); font-weight: 700; }}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {{ overflow: visible !important;
  text-overflow: clip !important; }}
[data-testid="stMetricLabel"] p {{ font-size: 1.05rem; }}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {{ white-space: normal !important;
  text-overflow: clip !important; overflow: visible !important; }}
/* The change and its "较上年" share a line while they fit; in a narrow card "较上年" goes below, never "较…". */
[data-testid="stMetric"] div:has(> [data-testid="stMetricDeltaDescription"]) {{ flex-wrap: wrap; row-gap: 2px; }}
[data-testid="stMetricDeltaDescription"], [data-testid="stMetricDeltaDescription"] * {{ white-space: nowrap !important;
  text-overflow: clip !important; overflow: visible !important; }}
.demo-badge {{ display:inline-block; background:#D55E00; color:#fff; font-weight:700;
  padding:2px 10px; border-radius:4px; margin-left:8px; font-size:0.95rem; }}
.scope-line {{ color:#333; font-size:1.05rem; margin:-0.4rem 0 0.6rem 0; }}
.breadcrumb {{ font-size:1.05rem; }}
</style>
"""

_PRESENT_CSS = """
<style>
html, body { font-size: 21px; }
/* Laid out for 1280x720, then zoomed to the window (components/shell/client.py sets --present-zoom from the
   window size): at 1920x1080 and 3840x2160 the same screen, 1.5 and 3 times as large. */
[data-testid="stMainBlockContainer"] { zoom: var(--present-zoom, 1); }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], footer { display: none !important; }
.block-container, [data-testid="stMainBlockContainer"] { padding: 0.8rem 1.6rem 0.4rem 1.6rem !important;
  max-width: 100% !important; }
[data-testid="stMetricValue"] { font-size: min(3.2rem, 18cqi) !important; line-height: 1.1; }
[data-testid="stMetricLabel"] p { font-size: 1.35rem !important; }
/* A long label wraps (on the wall a cut "累计脱贫(户,含其后…" hides the unit and what is counted). */
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * { white-space: normal !important;
  text-overflow: clip !important; overflow: visible !important; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li, label p,
[data-testid="stCaptionContainer"], .scope-line, [data-testid="stTab"] p { font-size: 21px !important; }
[data-testid="stDataFrame"] { font-size: 20px; }
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p { font-size: min(3.2rem, 18cqi) !important;
  line-height: 1.1; }
h1 { font-size: 2.2rem !important; padding: 0.2rem 0 !important; }
</style>
"""


def apply(present: bool = False) -> None:
    st.html(_BASE_CSS + (_PRESENT_CSS if present else ""))
