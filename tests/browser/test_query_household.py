"""The query and household pages in Chromium: settle without errors, search updates the URL and the
count, the household dossier shows its chart, an Excel download is masked, nothing leaves the origin."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from sqlalchemy import text

from data_access.db import get_engine

from .harness import (
    EXCEPTION,
    VIEWPORT_HD,
    assert_no_app_errors,
    assert_same_origin,
    expect,
    open_app,
    screenshot,
    wait_for_app_settled,
    wait_for_rerun,
)

COUNTY = "523199000000"


def one(url, sql, **params):
    with get_engine(url).connect() as conn:
        return conn.execute(text(sql), params).first()


def metric_value(page, label: str) -> str:
    card = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return card.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_query_page(page, base_url, sqlite_demo_url, requests_log, page_errors):
    open_app(page, base_url, "query", region=COUNTY, year="2024", status="已脱贫", main_cause="因病",
             sort="-income")
    assert_no_app_errors(page)
    expected = one(sqlite_demo_url, "SELECT COUNT(*) FROM household WHERE kind='建档立卡户' "
                                    "AND identified_year <= 2024 "
                                    "AND exit_year <= 2024 AND (returned_year IS NULL OR returned_year > 2024) "
                                    "AND main_cause = '因病'")[0]
    assert metric_value(page, "符合条件的户数") == f"{expected:,}"
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
    screenshot(page, "query-1280x720")

    person = one(sqlite_demo_url, "SELECT p.name, p.hh_id FROM person p JOIN household h ON h.hh_id = p.hh_id "
                                  "WHERE h.kind='建档立卡户' ORDER BY p.person_id LIMIT 1 OFFSET 30")
    box = page.get_by_role("textbox", name=re.compile("搜索"))  # (the table toolbar has a 搜索 button too)
    box.fill(person.hh_id)
    wait_for_rerun(page, lambda: box.press("Enter"))
    wait_for_app_settled(page)
    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == [person.hh_id] and query["status"] == ["已脱贫"]  # the URL carries the query
    found = one(sqlite_demo_url, "SELECT COUNT(*) FROM household WHERE hh_id = :h AND exit_year <= 2024 "
                                 "AND main_cause = '因病' AND (returned_year IS NULL OR returned_year > 2024)",
                h=person.hh_id)[0]
    assert metric_value(page, "符合条件的户数") == str(found)

    page.set_viewport_size(VIEWPORT_HD)
    open_app(page, base_url, "query", region=COUNTY, year="2026", line_margin="20",
             cols="hh_id,head_name,village,member_count,status,income,line_margin,helper")
    assert_no_app_errors(page)
    screenshot(page, "query-1920x1080")
    page.locator("[data-testid='stDataFrame']").first.scroll_into_view_if_needed()
    screenshot(page, "query-list-1920x1080")  # the list below the filters

    # Ticking a row opens that household; going back shows the query again (not the household).
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)  # first row's selection box
    page.wait_for_url(re.compile(r"/household\?"), timeout=60_000)
    wait_for_app_settled(page)
    query = parse_qs(urlsplit(page.url).query)
    assert query["hh"][0].startswith("5231") and query["region"] == [COUNTY]
    expect(page.get_by_text("两不愁三保障").first).to_be_visible()
    page.go_back()
    page.wait_for_url(re.compile(r"/query\?"), timeout=60_000)
    wait_for_app_settled(page)
    expect(page.locator("[data-testid='stMetric']").filter(has_text="符合条件的户数").first).to_be_visible()
    assert "/query" in page.url

    open_app(page, base_url, "query", region=COUNTY, q="110105194912310021")  # wrong check digit
    expect(page.locator("[data-testid='stAlertContentError']")).to_contain_text("校验位")
    expect(page.locator(EXCEPTION)).to_have_count(0)

    assert page_errors == []
    assert_same_origin(requests_log, base_url)


@pytest.fixture(scope="module")
def export_app(start_app, make_db):
    """A server on a database of its own: downloads write to the audit log, the shared demo DB is read-only."""
    url = make_db("small", 61, backend="sqlite")
    return start_app({"REGISTRY_DB_URL": url}, name="household-export"), url


def test_household_page(page, export_app, requests_log, page_errors):
    server, sqlite_demo_url = export_app
    base_url = server.base_url
    hh = one(sqlite_demo_url, "SELECT h.hh_id FROM household h WHERE EXISTS (SELECT 1 FROM project_beneficiary b "
                              "WHERE b.hh_id = h.hh_id) ORDER BY h.member_count DESC, h.hh_id")[0]
    open_app(page, base_url, "household", region=COUNTY, hh=hh)
    assert_no_app_errors(page)
    expect(page.get_by_text("两不愁三保障").first).to_be_visible()
    screenshot(page, "household-1280x720")

    page.get_by_role("tab", name="收入").click()
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()
    screenshot(page, "household-income-1280x720")

    page.get_by_role("tab", name="家庭成员").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 Excel").first.click()
    data = open(download_info.value.path(), "rb").read()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    assert "证件号码" in header and sheet.freeze_panes == "A2"
    ids = [row[header.index("证件号码")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    with get_engine(sqlite_demo_url).connect() as conn:
        today = "SELECT id_number FROM person WHERE hh_id = :h AND leave_date IS NULL"  # today's members
        clear = {r[0] for r in conn.execute(text(today), {"h": hh})}
    assert len(ids) == len(clear) and not set(ids) & clear and all("*" in v for v in ids)
    with get_engine(sqlite_demo_url).connect() as conn:
        audit = conn.execute(text("SELECT action, row_count FROM audit_log ORDER BY id DESC")).first()
    assert tuple(audit) == ("导出", len(clear))

    page.set_viewport_size(VIEWPORT_HD)
    page.get_by_role("tab", name="收入").click()
    screenshot(page, "household-1920x1080")

    other_town = one(sqlite_demo_url, "SELECT code FROM region WHERE level = 'town' AND code <> :t ORDER BY code",
                     t=hh[:9] + "000")[0]
    open_app(page, base_url, "household", region=other_town, hh=hh)
    expect(page.locator("[data-testid='stAlertContentError']")).to_contain_text("没有户编号")
    assert page_errors == []
    assert_same_origin(requests_log, base_url)
