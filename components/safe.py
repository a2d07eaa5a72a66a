"""Data values inside rendered text: escaped so a name can never become markup.

Registry data (region, household, project, unit names …) and URL parameters are untrusted: a town
named ``<style>h1{color:red}</style>`` or ``[请重新登录](http://evil)`` must show as those characters.
``esc`` is for HTML (st.html, ``unsafe_allow_html``); ``md`` is for Streamlit markdown (st.markdown,
captions, info/warning/error boxes, subheaders, widget and link labels), where it backslash-escapes every
character that could start a link, image, emphasis, heading, colour/icon directive (``:red[…]``), LaTeX
or an auto-link (``http://``, ``www.``).
"""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=\"'/@^%])")
_MD_IN_HTML = re.compile(r"([\\`*_{}\[\]()!|~:$./@])")
_SPACE = re.compile(r"[\r\n\t\f\v\u2028\u2029]+")


def esc(value) -> str:
    """``value`` as HTML text on one line (quotes too, so it is safe in an attribute; no blank line can end
    an HTML block inside ``unsafe_allow_html`` markdown)."""
    text = html.escape(_SPACE.sub(" ", "" if value is None else str(value)), quote=True)
    # markdown's punctuation as entities too: inert even where the HTML sits in markdown (unsafe_allow_html)
    return _MD_IN_HTML.sub(lambda m: f"&#{ord(m.group(1))};", text)


def md(value) -> str:
    """``value`` as literal Streamlit-markdown text on one line."""
    text = _SPACE.sub(" ", "" if value is None else str(value))
    return _MD_SPECIAL.sub(r"\\\1", text)
