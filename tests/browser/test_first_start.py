"""README command 1 on a fresh checkout: no data/ directory, no REGISTRY_DB_URL. The app builds the demo county
in data/registry.db on first start (with a spinner saying so) and then shows its figures."""

from __future__ import annotations

import shutil
import sqlite3

from .harness import ROOT, AppServer, app_errors, assert_same_origin, english_on_screen, expect, open_app, screenshot

NOT_IN_A_CHECKOUT = {".git", "data", "artifacts", "out", "__pycache__", ".pytest_cache", ".hypothesis", "docs"}
BUILD_TIMEOUT_MS = 300_000  # the county takes 20–30 s on an idle 2-core machine; CI may be slower


def test_first_start_builds_the_demo_county_and_shows_it(tmp_path, page, requests_log):
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=lambda _dir, names: [n for n in names if n in NOT_IN_A_CHECKOUT])
    assert not (checkout / "data").exists()
    server = AppServer(env={}, cwd=checkout, name="first-start").start()
    try:
        open_app(page, server.base_url, "", wait=False)
        expect(page.get_by_text("首次启动")).to_be_visible(timeout=60_000)  # the spinner while it builds
        assert english_on_screen(page) == []  # no "Running..." / "Stop" from Streamlit's status widget
        expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=BUILD_TIMEOUT_MS)
        assert not app_errors(page), app_errors(page)
        database = checkout / "data" / "registry.db"
        assert database.exists() and not database.with_suffix(".building").exists()
        with sqlite3.connect(database) as conn:
            households = conn.execute("SELECT COUNT(*) FROM household WHERE kind = '建档立卡户'").fetchone()[0]
            # the page opens on 2026 (the latest year with data): the 巩固衔接 headline leads with 脱贫人口
            exited, persons = conn.execute(
                "SELECT COUNT(*), SUM(member_count) FROM household WHERE kind = '建档立卡户' "
                "AND identified_year <= 2026 AND exit_year <= 2026 "
                "AND (returned_year IS NULL OR returned_year > 2026)").fetchone()
            demo = conn.execute("SELECT value FROM meta WHERE key = 'demo_scale'").fetchone()[0]
        assert demo == "county" and households > 10_000 and exited > 10_000
        card = page.get_by_test_id("stMetric").filter(has_text=f"脱贫人口({exited:,}户)")
        expect(card).to_contain_text(f"{persons:,}人")
        expect(page.get_by_text("演示数据").first).to_be_visible()
        screenshot(page, "first-start-overview")
        assert_same_origin(requests_log, server.base_url)
    finally:
        server.stop()
