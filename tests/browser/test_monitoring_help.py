"""防返贫监测 and 帮扶力量 in headless Chromium: they settle without errors, reach nothing outside the
app's origin, keep their settings in the URL, and are screenshotted at 1280×720 section by section."""

from __future__ import annotations

from .harness import (
    EXCEPTION,
    VIEWPORT_HD,
    app_errors,
    assert_same_origin,
    expect,
    open_app,
    screenshot,
    wait_for_rerun,
)

COUNTY = "523199000000"
TOWN = "523199102000"
YEAR = 2026


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


def test_monitoring_page(page, base_url, app_server, requests_log, page_errors):
    log_start = len(app_server.log_text())
    open_app(page, base_url, "monitoring", region=COUNTY, year=YEAR)
    expect(page.get_by_text("仍有风险(户)").first).to_be_visible()
    screenshot(page, "monitoring-county-1280x720")
    show_section(page, "监测对象类别与主要风险", "monitoring-county-kinds-1280x720")
    show_section(page, "分地区", "monitoring-county-regions-1280x720")
    show_section(page, f"{YEAR}年每月新识别与风险消除", "monitoring-county-monthly-1280x720")
    show_section(page, "风险消除用时", "monitoring-county-removal-1280x720")
    show_section(page, "仍有风险时间最长的监测对象", "monitoring-county-longest-1280x720")
    show_section(page, "预警:可能需要纳入监测的农户", "monitoring-county-warnings-1280x720")

    # The warning margin is a setting kept in the URL.
    box = page.get_by_label("预警幅度:高出监测线不足(%)", exact=True).and_(page.get_by_test_id("stNumberInputField"))
    box.fill("20")
    wait_for_rerun(page, lambda: box.press("Enter"))
    assert "margin=20" in page.url
    expect(page.get_by_text("高出不足20%(户)")).to_be_visible()

    page.set_viewport_size(VIEWPORT_HD)
    open_app(page, base_url, "monitoring", region=TOWN, year=YEAR)
    screenshot(page, "monitoring-town-1920x1080")
    check_clean(page, base_url, requests_log, page_errors)
    assert "Traceback" not in app_server.log_text()[log_start:]


def test_help_page(page, base_url, app_server, requests_log, page_errors):
    log_start = len(app_server.log_text())
    open_app(page, base_url, "help", region=COUNTY, year=YEAR)
    expect(page.get_by_text("结对帮扶户(户)").first).to_be_visible()
    screenshot(page, "help-county-1280x720")
    show_section(page, "入户率分地区(近90天)", "help-county-regions-1280x720")
    show_section(page, "入户率变化(分地区)", "help-county-trend-1280x720")
    show_section(page, "帮扶单位入户率排名(近90天)", "help-county-units-1280x720")
    show_section(page, "超过90天未入户走访", "help-county-novisit-1280x720")
    show_section(page, "帮扶措施", "help-county-measures-1280x720")
    show_section(page, "措施是否对症:按主要致贫原因", "help-county-match-1280x720")

    # The period is a setting kept in the URL (the as-of year reads as the 12 months to the as-of date).
    page.evaluate("() => window.scrollTo(0, 0)")
    wait_for_rerun(page, lambda: page.get_by_text(f"{YEAR}年(近12个月)", exact=True).first.click())
    assert "period=year" in page.url
    expect(page.get_by_role("heading", name=f"入户率分地区({YEAR}年(近12个月))")).to_be_visible()
    screenshot(page, "help-county-year-1280x720")

    open_app(page, base_url, "help", region=TOWN, year=YEAR, days=30)
    expect(page.get_by_text("30天未入户(户)")).to_be_visible()
    screenshot(page, "help-town-30days-1280x720")
    check_clean(page, base_url, requests_log, page_errors)
    assert "Traceback" not in app_server.log_text()[log_start:]
