"""bench/load.py's websocket client against a running app: it speaks Streamlit's protocol well enough that its
timings measure real page runs (a page opens, a sidebar widget change reaches the script and the URL, a page
switch runs that page). No timing assertions."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import create_engine, text

from bench import load


def _world(base_url: str, db_url: str) -> load.World:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        county = conn.execute(text("select code from region where level = 'county' order by code")).scalar()
        towns = [tuple(r) for r in conn.execute(
            text("select code, name from region where parent_code = :c order by code"), {"c": county})]
        villages = [r[0] for r in conn.execute(text("select code from region where level = 'village'"))]
        year = conn.execute(text("select max(year) from poverty_line")).scalar()
    engine.dispose()
    return load.World(base_url.replace("http", "ws", 1), base_url, county, towns, villages, int(year))


def test_a_session_opens_changes_township_and_switches_page(app_server, sqlite_demo_url):
    world = _world(app_server.base_url.rstrip("/"), sqlite_demo_url)
    code, name = world.towns[1]

    async def scenario():
        s = await load.open_overview(world, random.Random(0))
        assert {"map", "village", "query"} <= set(s.pages), "the navigation message lists the app's pages"
        assert "乡镇" in s.widgets, "the sidebar's township picker came in the deltas"
        assert name in s.widgets["乡镇"]["options"]
        assert s.region() == world.root
        await load.change_town(s, code, name)  # raises ActionFailed when the URL did not follow
        village = next(v for v in world.villages if v.startswith(code[:9]))
        await s.rerun("village", {"region": village, "year": world.year})
        assert s.region() == village and s.exceptions == 0
        await s.close()

    asyncio.run(scenario())


def test_report_counts_failures_and_percentiles(capsys):
    class Args:
        scenario, users, replicas = "steady", 2, 1

    results = {"打开总览": [0.1, 0.2, 0.3, 0.4], "查询": [1.0], "查询:failed": ["TimeoutError()"]}
    summary = load.report(results, 2.5, [100.0], Args, 10.0)
    rows = {r["action"]: r for r in summary["rows"]}
    assert rows["打开总览"]["p50_s"] == 0.25 and rows["打开总览"]["max_s"] == 0.4
    assert summary["failed"] == 1 and summary["actions"] == 5
    assert summary["app_cpu_per_action_s"] == 0.5
    assert "失败 查询" in capsys.readouterr().out
