"""Issue 24 item 5: data values and URL parameters never become live HTML, CSS or markdown on a page.

Names carrying ``<style>`` and markdown links are written into a copy of the demo database (town, village,
household head, project) and into URL parameters; every element the pages send is then checked: the
payload appears only escaped (HTML entities, or backslash-escaped markdown), never as markup.
"""

from __future__ import annotations

import pytest

from tests.helpers import open_page
from tests.helpers import rows as q

STYLE = "<style>h1{color:red}</style>"
LINK = "[请重新登录](http://evil.example/login)"
EVIL = f"{STYLE}{LINK}"
# Elements whose text is never rendered as markup (table cells, chart data, option lists).
TEXT_ONLY = {"arrow_data_frame", "dataframe", "arrow_vega_lite_chart", "vega_lite_chart", "selectbox", "multiselect",
             "code", "echarts_chart"}


def elements(node):
    proto = getattr(node, "proto", None)
    if proto is not None and getattr(node, "type", None) not in TEXT_ONLY:
        yield getattr(node, "type", "?"), str(proto)
    for child in getattr(node, "children", {}).values():
        yield from elements(child)


def live_markup(at) -> list[tuple[str, str]]:
    """(element type, excerpt) of every element carrying the payload as live markup."""
    found = []
    for kind, text in [*elements(at.main), *elements(at.sidebar)]:
        for bad in ("<style>h1", "](http", "://evil", "evil.example"):
            if bad in text:
                at_ = text.index(bad)
                found.append((kind, text[max(0, at_ - 60):at_ + 60]))
    return found


@pytest.fixture
def evil_db(clone):
    town, village = q(clone, "SELECT parent_code, code FROM region WHERE level='village' ORDER BY code")[0]
    hh = q(clone, "SELECT hh_id FROM household WHERE village_code = :v ORDER BY hh_id", v=village)[0][0]
    project = q(clone, "SELECT project_id FROM project WHERE village_code = :v OR town_code = :t ORDER BY project_id",
                v=village, t=town)[0][0]
    with clone.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE region SET name = :n WHERE code = :c"), {"n": f"{EVIL}镇", "c": town})
        conn.execute(text("UPDATE region SET name = :n WHERE code = :c"), {"n": f"{EVIL}村", "c": village})
        conn.execute(text("UPDATE household SET head_name = :n WHERE hh_id = :h"), {"n": EVIL, "h": hh})
        conn.execute(text("UPDATE person SET name = :n WHERE hh_id = :h AND relation = '户主'"), {"n": EVIL, "h": hh})
        conn.execute(text("UPDATE project SET name = :n, subcategory = :s WHERE project_id = :p"),
                     {"n": EVIL, "s": "[x](http://e.v)", "p": project})
        conn.execute(text("UPDATE meta SET value = value || 'x' WHERE key = 'data_version'"))
    return clone.url.render_as_string(hide_password=False), town, village, hh, project


def test_names_and_url_echoes_are_escaped(evil_db, monkeypatch):
    monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
    url, town, village, hh, project = evil_db
    visits = [
        (None, {}), (None, {"region": town}), ("pages/village.py", {"region": village}),
        ("pages/household.py", {"hh": hh}), ("pages/project.py", {"project": project}),
        ("pages/causes.py", {"region": town}), ("pages/exits.py", {"region": town}),
        ("pages/funds.py", {"region": town}),
        ("pages/query.py", {"region": town, "q": LINK}), ("pages/household.py", {"hh": LINK}),
        ("pages/project.py", {"project": LINK}), ("pages/query.py", {"size": LINK, "sort": STYLE}),
        ("pages/funds.py", {"source": LINK}),
    ]
    leaks = []
    for page, params in visits:
        at = open_page(url, page, **params)
        assert not at.exception, (page, params, at.exception)
        leaks += [(page, params, *hit) for hit in live_markup(at)]
    assert leaks == [], "\n".join(map(str, leaks))


def test_escapers():
    from components.safe import esc, md

    assert md("a[b](http://c.d)*e*\n# f") == r"a\[b\]\(http\:\/\/c\.d\)\*e\* \# f"
    out = esc('<style>x</style>[a](http://b.c) "q"')
    assert "<" not in out and "[" not in out and "(" not in out and "://" not in out and '"' not in out
    assert esc(None) == md(None) == ""
