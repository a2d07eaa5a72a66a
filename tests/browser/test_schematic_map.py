"""The schematic village map in headless Chromium, on a county with official names and no geometry:
the tiles and township names are drawn, nothing leaves the app's origin, a click on a tile (or on the
name in it) opens that village's file, a click on a township name zooms to the township."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.county_shapes import officialise

from .harness import (
    EXCEPTION,
    VIEWPORT_HD,
    app_errors,
    assert_same_origin,
    expect,
    open_app,
    screenshot,
    wait_for_app_settled,
    wait_for_rerun,
)

COUNTY = "523199000000"
MAP_SVG = "[data-testid='stVegaLiteChart'] svg.marks"
TILES = f"{MAP_SVG} g.mark-rect path[aria-label*='行政村: ']"
TILE_NAMES = f"{MAP_SVG} g.mark-text text[aria-label*='行政村: ']"
TOWN_NAMES = f"{MAP_SVG} g.mark-text text[aria-label*='; 乡镇: ']"


@pytest.fixture(scope="module")
def bare(sqlite_demo_url, cloner, start_app):
    url = cloner(sqlite_demo_url, prefix="schematic-browser")
    officialise(url)
    return url, start_app({"REGISTRY_DB_URL": url}, name="schematic").base_url


def region_of(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("region", [""])[0]


def open_map(page, base_url, **query):
    open_app(page, base_url, "map", **query)
    notice = page.locator("[data-testid='stDialog']").filter(has_text="Page not found")
    if notice.count():
        page.keyboard.press("Escape")
        expect(notice).to_have_count(0)
    page.locator(MAP_SVG).first.scroll_into_view_if_needed()
    expect(page.locator(TILES).first).to_be_visible(timeout=60_000)


def uncovered_point(page, selector: str, corner: bool) -> dict:
    """A point of the first element of ``selector`` that nothing covers: its centre, or near its top-left
    corner (a tile's centre holds the village's name)."""
    found = page.evaluate("""([sel, corner]) => {
        for (const el of document.querySelectorAll(sel)) {
            const r = el.getBoundingClientRect();
            const x = corner ? r.left + 4 : r.left + r.width / 2, y = corner ? r.top + 4 : r.top + r.height / 2;
            if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
            if (document.elementFromPoint(x, y) === el) return {x, y, label: el.getAttribute('aria-label')};
        }
        return null;
    }""", [selector, corner])
    assert found, f"nothing clickable for {selector}"
    return found


def label_value(label: str, key: str) -> str:
    match = re.search(rf"{key}: ([^;]+)", label)
    assert match, label
    return match.group(1).strip()


def check_clean(page, requests_log, base_url, page_errors) -> None:
    expect(page.locator(EXCEPTION)).to_have_count(0)
    assert app_errors(page) == []
    assert page_errors == [], f"uncaught JavaScript errors: {page_errors}"
    assert_same_origin(requests_log, base_url)


def village_code(q, name: str, town: str) -> str:
    """The village shown as ``name`` in township ``town`` (display names: the stored ones carry the suffix)."""
    from data_access.names import display_name

    rows = q.rows("SELECT v.code, v.name, t.name FROM region v JOIN region t ON t.code = v.parent_code "
                  "WHERE v.level = 'village'")
    found = [c for c, vn, tn in rows if display_name(vn) == name and display_name(tn) == town]
    assert len(found) == 1, (name, town, found)
    return found[0]


@pytest.mark.parametrize("where", ["tile", "name"])
def test_click_on_a_tile_opens_the_village(page, bare, requests_log, page_errors, sql, where):
    url, base_url = bare
    q = sql(url)
    page.set_viewport_size(VIEWPORT_HD)
    open_map(page, base_url, region=COUNTY, year=2018)
    expect(page.locator(TILES)).to_have_count(q.scalar("SELECT COUNT(*) FROM region WHERE level='village'"))
    expect(page.locator(TOWN_NAMES)).to_have_count(q.scalar("SELECT COUNT(*) FROM region WHERE level='town'"))
    expect(page.locator(".map-legend")).to_contain_text("示意图")
    check_clean(page, requests_log, base_url, page_errors)
    target = uncovered_point(page, TILES if where == "tile" else TILE_NAMES, corner=where == "tile")
    name, town = label_value(target["label"], "行政村"), label_value(target["label"], "所属乡镇")
    assert "委员会" not in name and "委会" not in name
    code = village_code(q, name, town)
    wait_for_rerun(page, lambda: page.mouse.click(target["x"], target["y"]))
    page.wait_for_url(re.compile(r"/village\?"), timeout=60_000)
    wait_for_app_settled(page)
    assert region_of(page.url) == code
    expect(page.locator("h1")).to_contain_text("村档案")
    check_clean(page, requests_log, base_url, page_errors)


def test_township_name_zooms_to_the_township(page, bare, requests_log, page_errors, sql):
    url, base_url = bare
    q = sql(url)
    open_map(page, base_url, region=COUNTY, year=2018)
    target = uncovered_point(page, TOWN_NAMES, corner=False)
    code = q.scalar("SELECT code FROM region WHERE level='town' AND name=:n", n=label_value(target["label"], "乡镇"))
    wait_for_rerun(page, lambda: page.mouse.click(target["x"], target["y"]))
    wait_for_app_settled(page)
    assert urlsplit(page.url).path.endswith("/map") and region_of(page.url) == code
    expect(page.locator(TILES)).to_have_count(q.scalar("SELECT COUNT(*) FROM region WHERE parent_code=:t", t=code))
    screenshot(page, "maps-schematic-town-browser-1280x720")
    check_clean(page, requests_log, base_url, page_errors)
