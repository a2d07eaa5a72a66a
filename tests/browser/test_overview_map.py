"""Overview, village map and village file in headless Chromium: nothing leaves the app's origin,
the map draws with its legend and names, clicking a village opens its file, clicking a township
name zooms to it, and the browser's back button returns to the map."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

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
VILLAGE_SHAPES = f"{MAP_SVG} g.mark-shape path[aria-label*='行政村: ']"
TOWN_NAMES = f"{MAP_SVG} g.mark-text text[aria-label*='乡镇: ']"


def region_of(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("region", [""])[0]


def clickable_centre(page, selector: str) -> dict:
    """The first element of ``selector`` whose centre is not covered by anything else (a label...)."""
    found = page.evaluate("""(sel) => {
        for (const el of document.querySelectorAll(sel)) {
            const r = el.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
            if (document.elementFromPoint(x, y) === el) return {x, y, label: el.getAttribute('aria-label')};
        }
        return null;
    }""", selector)
    assert found, f"nothing clickable for {selector}"
    return found


def label_value(label: str, key: str) -> str:
    match = re.search(rf"{key}: ([^;]+)", label)
    assert match, label
    return match.group(1).strip()


def open_view(page, base_url, path, **query):
    """open_app, then close Streamlit's "Page not found" notice that a deep link into a page of the
    pages/ folder may raise on a fresh session before app.py's navigation takes over (the page
    itself is right; the notice only covers it)."""
    open_app(page, base_url, path, **query)
    notice = page.locator("[data-testid='stDialog']").filter(has_text="Page not found")
    if notice.count():
        page.keyboard.press("Escape")
        expect(notice).to_have_count(0)


def settle_map(page) -> None:
    page.locator(MAP_SVG).first.scroll_into_view_if_needed()
    expect(page.locator(VILLAGE_SHAPES).first).to_be_visible(timeout=60_000)


def check_clean(page, requests_log, base_url, page_errors) -> None:
    expect(page.locator(EXCEPTION)).to_have_count(0)
    assert app_errors(page) == []
    assert page_errors == [], f"uncaught JavaScript errors: {page_errors}"
    assert_same_origin(requests_log, base_url)


def test_map_offline_legible_and_clickable(page, base_url, requests_log, page_errors, sqlite_demo_url, sql):
    q = sql(sqlite_demo_url)
    open_view(page, base_url, "map", region=COUNTY, year=2026)
    settle_map(page)
    n_villages = q.scalar("SELECT COUNT(*) FROM region WHERE level='village'")
    expect(page.locator(VILLAGE_SHAPES)).to_have_count(n_villages)
    expect(page.locator(TOWN_NAMES)).to_have_count(q.scalar("SELECT COUNT(*) FROM region WHERE level='town'"))
    legend = page.locator(".map-legend")
    expect(legend).to_contain_text("风险未消除监测户(户)")  # 2026: a present-era default, no 贫困发生率
    expect(legend).to_contain_text("个村")
    expect(legend).to_contain_text("贫困村")
    screenshot(page, "map-county-1280x720")
    page.set_viewport_size(VIEWPORT_HD)
    settle_map(page)
    screenshot(page, "map-county-1920x1080")
    check_clean(page, requests_log, base_url, page_errors)

    # Click a village: its file opens, for that village.
    target = clickable_centre(page, VILLAGE_SHAPES)
    name = label_value(target["label"], "行政村")
    town = label_value(target["label"], "所属乡镇")
    code = q.scalar("SELECT v.code FROM region v JOIN region t ON t.code = v.parent_code "
                    "WHERE v.name = :n AND t.name = :t", n=name, t=town)
    wait_for_rerun(page, lambda: page.mouse.click(target["x"], target["y"]))
    page.wait_for_url(re.compile(r"/village\?"), timeout=60_000)
    wait_for_app_settled(page)
    assert region_of(page.url) == code
    expect(page.locator("h1")).to_contain_text("村档案")
    expect(page.get_by_text(name, exact=True).first).to_be_visible()
    screenshot(page, "village-from-map-1920x1080")

    # Back, once: the county map the click came from (one history entry per step).
    page.go_back()
    page.wait_for_function(f"() => location.search.includes('region={COUNTY}')", timeout=60_000)
    wait_for_app_settled(page)
    settle_map(page)
    assert urlsplit(page.url).path.endswith("/map")
    expect(page.locator(VILLAGE_SHAPES)).to_have_count(n_villages)
    check_clean(page, requests_log, base_url, page_errors)


def test_map_township_name_zooms(page, base_url, requests_log, page_errors, sqlite_demo_url, sql):
    q = sql(sqlite_demo_url)
    open_view(page, base_url, "map", region=COUNTY, year=2026, ind="visit_rate", cls="jenks")
    settle_map(page)
    target = clickable_centre(page, TOWN_NAMES)
    town = label_value(target["label"], "乡镇")
    code = q.scalar("SELECT code FROM region WHERE level='town' AND name=:n", n=town)
    wait_for_rerun(page, lambda: page.mouse.click(target["x"], target["y"]))
    wait_for_app_settled(page)
    assert urlsplit(page.url).path.endswith("/map") and region_of(page.url) == code
    params = parse_qs(urlsplit(page.url).query)
    assert params.get("ind") == ["visit_rate"] and params.get("cls") == ["jenks"]  # the view is kept
    settle_map(page)
    n_villages = q.scalar("SELECT COUNT(*) FROM region WHERE parent_code=:t", t=code)
    expect(page.locator(VILLAGE_SHAPES)).to_have_count(n_villages)
    expect(page.locator(".map-legend")).to_contain_text("入户率(%)")
    screenshot(page, "map-town-1280x720")
    check_clean(page, requests_log, base_url, page_errors)


def test_overview_and_village_pages(page, base_url, requests_log, page_errors, sqlite_demo_url, sql):
    q = sql(sqlite_demo_url)
    open_view(page, base_url, "overview", region=COUNTY, year=2018)
    expect(page.locator("[data-testid='stMetric']").first).to_be_visible()
    count = q.scalar("SELECT COUNT(*) FROM household WHERE kind='建档立卡户' AND identified_year <= 2018")
    expect(page.locator("[data-testid='stMetric']").filter(has_text="建档立卡户数(户)")).to_contain_text(f"{count:,}")
    screenshot(page, "overview-county-1280x720")
    check_clean(page, requests_log, base_url, page_errors)

    # The ranking: click the top bar (the township with the highest incidence) to drill into it.
    bars = page.locator("[data-testid='stVegaLiteChart'] svg.marks g.mark-rect path[aria-label]")
    bars.last.scroll_into_view_if_needed()
    top = q.rows("SELECT code FROM region WHERE level='town'")
    target = clickable_centre(page, "[data-testid='stVegaLiteChart'] svg.marks g.mark-rect path[aria-label*='乡镇: ']")
    town = label_value(target["label"], "乡镇")
    code = q.scalar("SELECT code FROM region WHERE level='town' AND name=:n", n=town)
    assert code in {t[0] for t in top}
    wait_for_rerun(page, lambda: page.mouse.click(target["x"], target["y"]))
    wait_for_app_settled(page)
    assert region_of(page.url) == code and urlsplit(page.url).path in ("/", "/overview")  # the default page
    check_clean(page, requests_log, base_url, page_errors)

    # The 2026 headline: five cards a row at 1280 px, every figure, label and "较上年" whole (not "脱贫人口…",
    # "7,343,7…", "较…")
    open_view(page, base_url, "overview", region=COUNTY, year=2026)
    expect(page.locator("[data-testid='stMetric']").first).to_be_visible()
    wait_for_app_settled(page)
    cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetric"]')].flatMap(card => {
        const edge = card.getBoundingClientRect().right;
        return [...card.querySelectorAll('[data-testid="stMetricValue"], [data-testid="stMetricLabel"], '
                                         + '[data-testid="stMetricValue"] *, [data-testid="stMetricLabel"] *, '
                                         + '[data-testid="stMetricDeltaDescription"] *')]
            .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > edge + 1)
            .map(e => e.textContent.trim().slice(0, 30));
    })""")
    longest = page.evaluate("""() => Math.max(...[...document.querySelectorAll('[data-testid="stMetricValue"]')]
        .map(e => e.textContent.trim().length))""")
    assert longest >= 6 and not cut, (longest, cut)  # 6: a figure like 12,345人 is on the screen
    screenshot(page, "overview-2026-1280x720")

    village = q.rows("SELECT code, name FROM region WHERE level='village' ORDER BY code")[0]
    open_view(page, base_url, "village", region=village[0], year=2026)
    expect(page.get_by_text(village[1], exact=True).first).to_be_visible()
    screenshot(page, "village-1280x720")
    check_clean(page, requests_log, base_url, page_errors)


def test_every_colouring_indicator_can_be_picked(page, base_url):
    """着色指标 lists all its indicators (a drop-down: a segmented row showed 5 of 8 at 1280 px), and picking
    one recolours the map by it, kept in the URL."""
    from data_access.queries import villages

    open_app(page, base_url, "map", region=COUNTY, year=2026)
    control = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").filter(has_text="着色指标")
    control.locator("input").click()
    options = page.get_by_role("option")
    offered = villages.indicators_for(2026)  # the present era's list (no 贫困发生率 after 2020)
    expect(options).to_have_count(len(offered))
    labels = options.all_inner_texts()
    names = [v[0] for k, v in offered.items() if k != "visit_rate"]  # 入户率 names its period
    assert [x for x in labels if "入户率" not in x] == names
    for label in labels:
        box = options.filter(has_text=label).first.bounding_box()
        assert box and box["width"] > 0 and box["y"] + box["height"] <= 720, f"{label} not visible"
    wait_for_rerun(page, lambda: options.filter(has_text=labels[2]).first.click())
    assert parse_qs(urlsplit(page.url).query)["ind"] == [list(offered)[2]]
    expect(page.get_by_text(f"2026年 {labels[2]}").first).to_be_visible()
    assert not app_errors(page)
