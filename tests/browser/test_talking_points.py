"""讲话要点 in headless Chromium: every point's "查看依据" link names its page with the point's region, year and
filters; clicking one opens that page, which shows the point's figures (every figure a metric shows)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from data_access.db import get_engine
from data_access.queries import places
from data_access.report import talking_points as tp
from tests.helpers import scopes

from .harness import EXCEPTION, app_errors, assert_same_origin, expect, open_app, screenshot, wait_for_rerun


def shown_points(url: str, year: int):
    engine = get_engine(url)
    county = scopes(engine)[0]
    first, last = places.year_range(engine, county)
    as_of = dt.date.fromisoformat(places.data_meta(engine)["data_as_of"][:10])
    found = tp.talking_points(engine, county, year, first, last, as_of)
    return county, tp.top(found, tp.Thresholds().top_n)


def metric_value(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=label))
    return box.first.locator("[data-testid='stMetricValue']").inner_text().strip()


def check_proof(page, point) -> None:
    """The page a point's link opened: its path and settings, and the point's figures on it."""
    here = urlsplit(page.url)
    assert here.path.rstrip("/").endswith("/" + point.page), (page.url, point.url)
    query = {k: v[0] for k, v in parse_qs(here.query).items()}
    for key, value in point.params:  # a setting equal to the page's default is dropped from the URL by the page
        assert query.get(key, value if key not in ("region", "year") else None) == value, (key, page.url)
    here_figs = [f for f in point.figures if (f.page, f.params) == (point.page, point.params)]
    assert here_figs
    for fig in here_figs:
        if fig.proof[0] == "metric":
            expect(page.locator("[data-testid='stMetricLabel']", has_text=fig.proof[1]).first).to_be_visible()
            assert metric_value(page, fig.proof[1]) == fig.text, (point.rule, fig.label)
        elif fig.proof[0] == "caption":  # the caption's text is on the page
            expect(page.get_by_text(fig.text).first).to_be_attached()
        elif fig.proof[0] == "table":  # a table cell: the column's unit is in its header, the cell is the number
            expect(page.get_by_text(fig.text.removesuffix("%"), exact=True).first).to_be_attached()


# Every point's link is checked by its address; one is clicked (the same st.page_link for all). That every linked
# page shows every figure of its point, at each level and year on both backends: tests/test_talking_points.py.
@pytest.mark.parametrize("year", [2018, 2025])
def test_clicking_a_point_opens_its_proof(page, base_url, app_server, sqlite_demo_url, requests_log, page_errors,
                                          year):
    log_start = len(app_server.log_text())
    county, shown = shown_points(sqlite_demo_url, year)
    assert shown
    open_app(page, base_url, "talk", region=county.code, year=year)
    screenshot(page, f"talking-points-county-{year}-1280x720")
    for i, point in enumerate(shown, 1):
        expect(page.locator(f".st-key-tp-{i}")).to_contain_text(point.sentence)
        link = page.locator(f".st-key-tp-link-{i} a")
        expect(link).to_have_count(1)
        href = urlsplit(urljoin(page.url, link.get_attribute("href")))
        assert href.path.rstrip("/").endswith("/" + point.page), (href, point.url)
        assert {k: v[0] for k, v in parse_qs(href.query).items()} == dict(point.params), (href, point.params)
    wait_for_rerun(page, page.locator(".st-key-tp-link-1 a").click)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    check_proof(page, shown[0])
    screenshot(page, f"talking-points-county-{year}-proof-1280x720")
    assert app_errors(page) == []
    assert page_errors == [], f"uncaught JavaScript errors: {page_errors}"
    assert_same_origin(requests_log, base_url)
    assert "Traceback" not in app_server.log_text()[log_start:]


def test_presentation_screen_keeps_the_mode(page, base_url, sqlite_demo_url):
    county, shown = shown_points(sqlite_demo_url, 2025)
    open_app(page, base_url, "talk", region=county.code, year=2025, mode="present")
    expect(page.locator(".st-key-tp-1")).to_contain_text(shown[0].sentence)
    screenshot(page, "talking-points-present-2025-1280x720")
    link = page.locator(".st-key-tp-link-1 a")
    wait_for_rerun(page, link.click)
    assert "mode=present" in page.url and urlsplit(page.url).path.rstrip("/").endswith("/" + shown[0].page)


def test_the_meeting_cycle_shows_the_screen(page, base_url):
    """?cycle=5&pages=overview,talk: the overview, then the 讲话要点 screen, in presentation mode."""
    open_app(page, base_url, "overview", mode="present", cycle=5, pages="overview,talk", region="523199000000")
    page.wait_for_url("**/talk?**", timeout=30_000)
    assert "mode=present" in page.url and "region=523199000000" in page.url
    expect(page.locator(".st-key-tp-1")).to_be_visible(timeout=30_000)
