"""No English where a user looks: every page, in normal and presentation mode, with the chart and table
toolbars showing (hover), a multiselect's list open, the file uploader and Streamlit's "page not found" notice."""

from __future__ import annotations

import pytest

from components.shell import nav

from .harness import english_on_screen, expect, open_app, screenshot

COUNTY = "523199000000"
PAGES = [p.key for p in nav.available(is_admin=True)]


def dossier_query(key: str, sql_runner) -> dict:
    if key == "village":
        return {"region": sql_runner.scalar("SELECT MIN(code) FROM region WHERE level='village'")}
    if key == "household":
        return {"hh": sql_runner.scalar("SELECT MIN(hh_id) FROM household WHERE kind='建档立卡户'")}
    if key == "project":
        return {"project": sql_runner.scalar("SELECT MIN(project_id) FROM project WHERE village_code IS NOT NULL")}
    return {"region": COUNTY}


def show_toolbars(page) -> None:
    """Hover the first chart and the first table: their toolbars (and a toolbar button's tooltip) appear."""
    for testid in ("stVegaLiteChart", "stDataFrame"):
        element = page.get_by_test_id(testid).first
        if element.count() and element.is_visible():
            element.scroll_into_view_if_needed()
            box = element.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 10)
            button = page.get_by_test_id("stBaseButton-elementToolbar").first
            if button.count() and button.is_visible():
                box = button.bounding_box()
                if box:
                    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                    page.wait_for_timeout(800)  # the tooltip opens after a hover delay


# Presentation mode: tests/browser/test_present_sizes.py reads every page's screen text at three sizes for English.
@pytest.mark.parametrize("mode", ["normal"])
@pytest.mark.parametrize("key", PAGES)
def test_no_streamlit_english_on_any_page(page, base_url, sqlite_demo_url, sql, key, mode):
    query = dossier_query(key, sql(sqlite_demo_url))
    open_app(page, base_url, key, **query)
    assert english_on_screen(page) == [], f"{key} ({mode})"
    show_toolbars(page)
    found = english_on_screen(page)
    if found:
        screenshot(page, f"english-{key}-{mode}")
    assert found == [], f"{key} ({mode}) with toolbars showing"


def test_multiselect_uploader_and_missing_page_in_chinese(page, base_url):
    open_app(page, base_url, "query", region=COUNTY, year=2026)
    select = page.get_by_test_id("stMultiSelect").first
    select.scroll_into_view_if_needed()
    select.locator("input").first.click()
    expect(page.locator("[role='listbox'], [data-baseweb='menu']").first).to_be_visible()
    assert english_on_screen(page) == []
    page.keyboard.press("Escape")

    open_app(page, base_url, "admin")
    expect(page.get_by_test_id("stFileUploaderDropzone").first).to_contain_text("单个文件不超过")
    assert english_on_screen(page) == []

    open_app(page, base_url, "no-such-page")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("页面不存在")
    assert english_on_screen(page) == []
    screenshot(page, "chinese-page-not-found")
