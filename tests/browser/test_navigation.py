"""Moving around in Chromium: one history entry per drill step (the app's own URL syncs replace the entry),
Back finds each earlier view with its filters and page, a 返回 link appears only where it leads back (with
the filters), and presentation mode switched on from the sidebar always exits."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from .harness import (
    app_errors,
    expect,
    open_app,
    wait_for_app_settled,
    wait_for_rerun,
)
from .test_overview_map import (
    COUNTY, TOWN_NAMES, VILLAGE_SHAPES, clickable_centre, label_value, settle_map,
)


def params(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def path(url: str) -> str:
    return urlsplit(url).path


def history_length(page) -> int:
    return page.evaluate("() => history.length")


def back(page, url_pattern: str) -> None:
    page.go_back()
    page.wait_for_url(re.compile(url_pattern), timeout=60_000)
    wait_for_app_settled(page)


def tick_first_row(page, grid) -> None:
    grid.evaluate("""e => { e.scrollIntoView({block: 'start'});
        const main = document.querySelector('[data-testid="stMain"]'); if (main) main.scrollBy(0, -120); }""")
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)  # first row's selection box


def clickable_point(page, selector: str) -> dict:
    """A point of the first element of ``selector`` not covered by anything else (a name label...)."""
    found = page.evaluate("""(sel) => {
        for (const el of document.querySelectorAll(sel)) {
            const r = el.getBoundingClientRect();
            for (const fy of [0.5, 0.3, 0.7, 0.4, 0.6]) for (const fx of [0.5, 0.3, 0.7, 0.4, 0.6]) {
                const x = r.left + r.width * fx, y = r.top + r.height * fy;
                if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
                if (document.elementFromPoint(x, y) === el) return {x, y, label: el.getAttribute('aria-label')};
            }
        }
        return null;
    }""", selector)
    assert found, f"nothing clickable for {selector}"
    return found


def metric_value(page, label: str) -> str:
    card = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return card.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_drill_map_town_village_household_back_once_per_step(page, base_url, sqlite_demo_url, sql):
    q = sql(sqlite_demo_url)
    open_app(page, base_url, "map", region=COUNTY, year=2026)
    settle_map(page)
    start = history_length(page)
    steps = [page.url]

    target = clickable_centre(page, TOWN_NAMES)  # map → township
    town = q.scalar("SELECT code FROM region WHERE level='town' AND name=:n", n=label_value(target["label"], "乡镇"))
    wait_for_rerun(page, lambda: page.mouse.click(target["x"], target["y"]))
    page.wait_for_function(f"() => location.search.includes('region={town}')", timeout=60_000)
    wait_for_app_settled(page)
    settle_map(page)
    assert history_length(page) == start + 1, "one drill step, one history entry"
    steps.append(page.url)

    target = clickable_point(page, VILLAGE_SHAPES)  # township → village
    wait_for_rerun(page, lambda: page.mouse.click(target["x"], target["y"]))
    page.wait_for_url(re.compile(r"/village\?"), timeout=60_000)
    wait_for_app_settled(page)
    village = params(page.url)["region"]
    assert village[:9] == town[:9]
    assert history_length(page) == start + 2, "one drill step, one history entry"
    steps.append(page.url)

    page.get_by_role("tab", name="农户名单").click()  # village → household
    grid = page.locator("[data-testid='stDataFrame']").last
    expect(grid).to_be_visible()
    tick_first_row(page, grid)
    page.wait_for_url(re.compile(r"/household\?"), timeout=60_000)
    wait_for_app_settled(page)
    assert params(page.url)["hh"].startswith(village[:9])
    assert history_length(page) == start + 3, "one drill step, one history entry"
    expect(page.get_by_role("link", name=re.compile("返回村档案"))).to_have_count(1)
    expect(page.get_by_role("link", name=re.compile("返回查询"))).to_have_count(0)  # it did not come from 查询

    back(page, r"/village\?")
    assert params(page.url)["region"] == village and page.url == steps[2]
    expect(page.locator("h1")).to_contain_text("村档案")
    back(page, rf"/map\?.*region={town}")
    assert page.url == steps[1]
    settle_map(page)
    expect(page.locator(VILLAGE_SHAPES)).to_have_count(
        q.scalar("SELECT COUNT(*) FROM region WHERE parent_code=:t", t=town))
    back(page, rf"/map\?.*region={COUNTY}")
    assert page.url == steps[0]
    assert app_errors(page) == []


def test_query_filtered_page_two_household_back_and_return_link(page, base_url, sqlite_demo_url, sql):
    q = sql(sqlite_demo_url)
    expected = q.scalar("SELECT COUNT(*) FROM household WHERE kind='建档立卡户' AND identified_year <= 2026 "
                        "AND exit_year <= 2026 AND (returned_year IS NULL OR returned_year > 2026)")
    open_app(page, base_url, "query", region=COUNTY, year=2026, status="已脱贫", size=20)
    assert metric_value(page, "符合条件的户数") == f"{expected:,}"
    start = history_length(page)
    wait_for_rerun(page, lambda: page.get_by_role("button", name="下一页 ›").click())
    page.wait_for_function("() => location.search.includes('page=2')", timeout=60_000)
    wait_for_app_settled(page)
    page_two = page.url
    assert history_length(page) == start + 1
    assert params(page_two)["status"] == "已脱贫"

    tick_first_row(page, page.locator("[data-testid='stDataFrame']").first)
    page.wait_for_url(re.compile(r"/household\?"), timeout=60_000)
    wait_for_app_settled(page)
    assert history_length(page) == start + 2, "one step to the household, one history entry"
    household = page.url
    link = page.get_by_role("link", name=re.compile("返回查询"))
    expect(link).to_have_count(1)
    expect(page.get_by_role("link", name=re.compile("返回村档案"))).to_have_count(0)

    back(page, r"/query\?")
    assert page.url == page_two  # its filters and its page
    assert metric_value(page, "符合条件的户数") == f"{expected:,}"
    back(page, r"/query\?")
    assert "page" not in params(page.url) and params(page.url)["status"] == "已脱贫"

    # The 返回查询 link, too, leads to the filtered page two.
    page.go_forward()
    page.wait_for_url(re.compile(r"/query\?.*page=2"), timeout=60_000)
    wait_for_app_settled(page)
    page.go_forward()
    page.wait_for_url(re.compile(r"/household\?"), timeout=60_000)
    wait_for_app_settled(page)
    assert page.url == household
    wait_for_rerun(page, lambda: page.get_by_role("link", name=re.compile("返回查询")).click())
    page.wait_for_url(re.compile(r"/query\?"), timeout=60_000)
    wait_for_app_settled(page)
    got = params(page.url)
    assert got["status"] == "已脱贫" and got["page"] == "2" and got["size"] == "20"
    assert metric_value(page, "符合条件的户数") == f"{expected:,}"


def sidebar_visible(page) -> bool:
    return page.evaluate("""() => { const s = document.querySelector('[data-testid="stSidebar"]');
        return !!s && getComputedStyle(s).display !== 'none'; }""")


def test_presentation_mode_from_the_sidebar_always_exits(page, base_url):
    for i in range(6):
        where = ("", "overview", "causes")[i % 3]
        if i <= 3:  # a fresh load of each page, then the same session on and off again
            open_app(page, base_url, where, region=COUNTY)
        switch = page.locator("[data-testid='stSidebar']").get_by_text("汇报模式(投影)")
        wait_for_rerun(page, switch.click)
        page.wait_for_function("() => location.search.includes('mode=present')", timeout=60_000)
        wait_for_app_settled(page)
        assert not sidebar_visible(page), f"round {i}: presentation mode keeps the sidebar"
        wait_for_rerun(page, lambda: page.get_by_role("button", name="退出汇报模式").click())
        page.wait_for_function("() => !location.search.includes('mode=')", timeout=60_000)
        wait_for_app_settled(page)
        assert "mode" not in params(page.url), f"round {i}: {page.url}"
        expect(page.get_by_role("button", name="退出汇报模式")).to_have_count(0)
        assert sidebar_visible(page), f"round {i}: the sidebar did not come back"
