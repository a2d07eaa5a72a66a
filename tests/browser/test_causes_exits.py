"""致贫原因 and 脱贫进度 in headless Chromium: they settle without errors, reach nothing outside the
app's origin, keep their settings in the URL, and are screenshotted at 1280×720 section by section."""

from __future__ import annotations

from .harness import (
    EXCEPTION,
    app_errors,
    assert_same_origin,
    expect,
    open_app,
    screenshot,
    wait_for_rerun,
)

COUNTY = "523199000000"
TOWN = "523199102000"


def show_section(page, heading: str, name: str) -> None:
    """Scroll the section titled ``heading`` to the top of the view and screenshot it."""
    page.get_by_role("heading", name=heading).first.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    screenshot(page, name)


def check_clean(page, base_url, requests_log, page_errors) -> None:
    expect(page.locator(EXCEPTION)).to_have_count(0)
    assert app_errors(page) == []
    assert page_errors == [], f"uncaught JavaScript errors: {page_errors}"
    assert_same_origin(requests_log, base_url)


def test_causes_page(page, base_url, app_server, requests_log, page_errors):
    log_start = len(app_server.log_text())
    open_app(page, base_url, "causes", region=COUNTY, year=2020)
    expect(page.get_by_text("主要致贫原因构成(户数)")).to_be_visible()
    screenshot(page, "causes-county-1280x720")
    show_section(page, "主要致贫原因构成(户数)", "causes-county-mix-1280x720")
    show_section(page, "各乡镇主要致贫原因(户数,颜色为该乡镇内占比)", "causes-county-towns-1280x720")
    show_section(page, "致贫原因与户属性、脱贫状态、识别年度、其他致贫原因", "causes-county-cross-1280x720")

    page.evaluate("() => window.scrollTo(0, 0)")
    wait_for_rerun(page, lambda: page.get_by_role("radio", name="按人数").click())
    expect(page.get_by_text("主要致贫原因构成(人数)")).to_be_visible()
    assert "measure=persons" in page.url  # the view is in the URL: a copied link reopens it

    open_app(page, base_url, "causes", region=TOWN, year=2020)
    expect(page.get_by_text("与云岭县比较(占比)")).to_be_visible()
    show_section(page, "主要致贫原因构成(户数)", "causes-town-compare-1280x720")
    check_clean(page, base_url, requests_log, page_errors)
    assert "Traceback" not in app_server.log_text()[log_start:]


def test_exits_page(page, base_url, app_server, requests_log, page_errors):
    log_start = len(app_server.log_text())
    open_app(page, base_url, "exits", region=COUNTY, year=2018)
    expect(page.get_by_text("各年脱贫户数与年度任务")).to_be_visible()
    screenshot(page, "exits-county-1280x720")
    show_section(page, "各年脱贫户数与年度任务", "exits-county-progress-1280x720")
    show_section(page, "预警(2018年底)", "exits-county-warnings-1280x720")

    wait_for_rerun(page, lambda: page.get_by_role("radio", name="未脱贫").first.click())
    assert "list=not_exited" in page.url
    expect(page.get_by_text("点选一行可打开户档案")).to_be_visible()
    show_section(page, "预警(2018年底)", "exits-county-list-1280x720")
    show_section(page, "各乡镇贫困发生率(%)", "exits-county-incidence-1280x720")
    show_section(page, "贫困村出列", "exits-county-villages-1280x720")
    show_section(page, "2018年脱贫程序进展", "exits-county-procedure-1280x720")
    check_clean(page, base_url, requests_log, page_errors)
    assert "Traceback" not in app_server.log_text()[log_start:]
