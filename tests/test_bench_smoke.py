"""The benchmark's machinery (bench/run.py, bench/naive.py, bench/concurrency.py) on the small demo database.

No timing assertions: these check that a run produces a complete table and JSON, that every number is a
sane measurement, that a run really executes app.py (the SQL clock sees the shell's queries), that the naive
baseline computes the same figures as data_access, and the verdict and percentile logic.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import concurrency, run
from tests.helpers import MEMBERS_AT, hround, population_at, year_end

ROOT = run.ROOT


@pytest.fixture(scope="module")
def small_sqlite(make_db) -> str:
    return make_db("small", 7, backend="sqlite")


@pytest.fixture(scope="module")
def bench_report(small_sqlite, tmp_path_factory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--scales", "county", "--county-db", small_sqlite,
         "--pages", "overview", "--repeat", "1", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1 = a target missed, which is not this test's business
    return json.loads(out.read_text(encoding="utf-8")), proc.stdout


def test_report_has_every_case_with_sane_measurements(bench_report):
    report, _ = bench_report
    (scale,) = report["scales"]
    assert scale["scale"] == "county" and scale["backend"] == "sqlite"
    names = [r["name"] for r in scale["results"]]
    assert names[0] == "页面 总览"
    assert any(n.startswith("切换区域") for n in names) and any(n.startswith("切换年度") for n in names)
    assert all(r["page"] == "overview" for r in scale["results"])  # --pages overview keeps only its cases
    for r in scale["results"]:
        for key in ("cold", "warm"):
            m = r[key]
            assert m["wall"] > 0 and m["cpu"] >= 0 and m["sql"] >= 0 and m["statements"] >= 0, (r["name"], m)
            assert m["sql"] <= m["wall"] + 0.05, (r["name"], m)
            assert m["error"] is None, (r["name"], m["error"])
        assert len(r["warm_walls"]) == 1
        # Cold starts with empty caches: the page's figures are queried (more statements than warm).
        assert r["cold"]["statements"] > r["warm"]["statements"], r["name"]
        assert isinstance(r["cold_ok"], bool) and isinstance(r["warm_ok"], bool)
    assert 50 < scale["peak_rss_mb"] < 4000
    assert scale["rows"]["household"] > 0 and scale["rows"]["person"] >= scale["rows"]["household"]


def test_each_run_executes_app_py(bench_report):
    """Warm runs still check the database and read the region tree (app.py), so the warm SQL clock is not 0:
    AppTest alone would rerun only the page file after the first run."""
    report, _ = bench_report
    page = report["scales"][0]["results"][0]
    assert page["warm"]["statements"] >= 3
    assert "overview.headline" in page["cold"]["queries"]  # the per-function clock sees the page's queries
    assert "overview.headline" not in page["warm"]["queries"]  # served from st.cache_data


def test_region_change_shows_the_town(bench_report, small_sqlite, sql):
    report, _ = bench_report
    scale = report["scales"][0]
    change = next(r for r in scale["results"] if r["name"].startswith("切换区域"))
    town = change["params"]["region"]
    assert town == scale["samples"]["town"]
    expected = sql(small_sqlite).scalar("SELECT min(town_code) FROM household WHERE village_code LIKE :p",
                                        p=scale["samples"]["county"][:6] + "%")
    assert town == expected


def test_naive_baseline_agrees_with_data_access(bench_report):
    report, _ = bench_report
    naive = report["scales"][0]["naive"]
    assert naive["agrees"] and all(naive["agrees"].values()), naive["agrees"]
    (overview,) = [n for n in naive["results"] if n["page"] == "overview"]
    assert overview["seconds"] > 0
    page = report["scales"][0]["results"][0]
    assert page["naive_ratio"] == pytest.approx(page["naive"] / page["cold"]["wall"], abs=0.051)


def test_table_is_printed(bench_report):
    _, stdout = bench_report
    assert "== county · sqlite" in stdout and "页面 总览" in stdout and "应用进程峰值内存" in stdout


def test_summarise_flags_missed_targets():
    def result(cold, warm, error=None):
        m = {"wall": cold, "cpu": 0.1, "sql": 0.0, "statements": 1, "error": error, "queries": {}}
        return {"name": "页面 X", "kind": "page", "page": "x", "cold": m, "warm": {**m, "wall": warm}}

    report = {"scale": "province", "peak_rss_mb": 600.0,
              "results": [result(1.0, 0.1), result(2.5, 0.1), result(1.0, 0.7), result(0.5, 0.1, "boom")]}
    naive = {"results": [{"page": "x", "seconds": 5.0}], "peak_rss_mb": 100.0}
    out = run.summarise(report, naive)
    ok, slow_cold, slow_warm, broken = out["results"]
    assert ok["cold_ok"] and ok["warm_ok"]
    assert not slow_cold["cold_ok"] and not slow_warm["warm_ok"]
    assert ok["naive_ratio"] == 5.0 and slow_cold["naive_ratio"] == 2.0
    joined = "\n".join(out["misses"])
    assert "冷 2.50 s" in joined and "热 0.700 s" in joined and "boom" in joined
    assert "峰值内存 600.0 MB" in joined and "仅比朴素做法快 2.0 倍" in joined
    assert broken["naive_ratio"] == 10.0 and "快 10.0 倍" not in joined  # 10× meets the target
    assert sum("仅比朴素做法快" in m for m in out["misses"]) == 3  # 5×, 2×, 5×


def test_percentiles_and_foreign_requests():
    assert concurrency.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert concurrency.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == pytest.approx(4.8)
    assert concurrency.percentile([], 0.5) is None
    results = [{"session": 0, "open": 1.0, "open_connected": 0.5, "change": 2.0, "exceptions": 0},
               {"session": 1, "error": "TimeoutError: x"}]
    base = "http://127.0.0.1:8670"
    requests = [f"{base}/overview", "ws://127.0.0.1:8670/_stcore/stream", "https://fonts.example.com/x.woff2",
                "data:image/png;base64,AAAA"]
    s = concurrency.summarise(results, requests, base)
    assert s["all"]["n"] == 2 and s["open"]["p50"] == 1.0 and s["change"]["max"] == 2.0
    assert s["foreign_requests"] == ["https://fonts.example.com/x.woff2"]
    assert len(s["failed"]) == 1


# ---- province-scale shell: the fixes the benchmark led to ------------------------------------


@pytest.fixture(scope="module")
def province_sqlite(make_db) -> str:
    return make_db("test_province", 7, backend="sqlite")


@pytest.mark.parametrize("level", ["province", "city"])
def test_province_and_city_regions_open_from_the_url(province_sqlite, sql, level):
    """A province database starts at the province; ?region= may name it or a city (drill-down from the
    province map, the breadcrumb) — they used to be rejected as "not in the database"."""
    from tests.helpers import metrics, open_page

    from data_access.db import get_engine
    from data_access.queries import overview
    from data_access.scope import Scope

    code = sql(province_sqlite).scalar("SELECT min(code) FROM region WHERE level = :l", l=level)
    at = open_page(province_sqlite, region=code, year=2020)
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = metrics(at)
    expected = overview.headline(get_engine(province_sqlite), Scope.of(code), 2020)
    households = sql(province_sqlite).scalar(
        "SELECT count(*) FROM household WHERE village_code LIKE :p AND kind = '建档立卡户' AND identified_year <= 2020",
        p=Scope.of(code).prefix + "%")
    assert expected["registered_households"] == households > 0
    assert shown["建档立卡户数(户)"] == f"{households:,}"


def test_region_tree_lists_every_level_inside_the_scope(province_sqlite, sql):
    from data_access.db import get_engine
    from data_access.queries import places
    from data_access.scope import Scope

    root = Scope.of(sql(province_sqlite).scalar("SELECT code FROM region WHERE parent_code IS NULL"))
    tree = places.region_tree(get_engine(province_sqlite), root)
    by_level = dict(sql(province_sqlite).rows("SELECT level, count(*) FROM region GROUP BY level"))
    assert tree["level"].value_counts().to_dict() == by_level
    assert tree["code"].is_monotonic_increasing


@pytest.mark.parametrize("level", ["province", "city"])
def test_child_incidence_at_province_and_city_scope(province_sqlite, sql, level):
    """The rural population of a province's cities (and a city's counties) — it was 0 for cities, so their
    incidence was missing on the overview ranking and the exits page."""
    import datetime as dt

    from data_access.db import get_engine
    from data_access.queries import exits, villages
    from data_access.scope import Scope

    q = sql(province_sqlite)
    scope = Scope.of(q.scalar("SELECT min(code) FROM region WHERE level = :l", l=level))
    engine = get_engine(province_sqlite)
    ranking = villages.child_indicators(engine, scope, 2016, dt.date(2016, 12, 31)).set_index("code")
    by_year = exits.child_incidence(engine, scope, 2014, 2016)
    by_year = by_year[by_year["year"] == 2016].set_index("code")
    children = q.rows("SELECT code, level FROM region WHERE parent_code = :c", c=scope.code)
    assert len(children) >= 2 and set(ranking.index) == set(by_year.index) == {c for c, _ in children}
    for code, _level in children:
        prefix = Scope.of(code).prefix
        rural = population_at(q, prefix, 2016)  # the year's own 农村户籍人口, its members at the year's end
        poor = q.scalar(
            f"SELECT coalesce(sum({MEMBERS_AT}), 0) FROM household h WHERE village_code LIKE :p "
            "AND kind = '建档立卡户' AND identified_year <= 2016 AND (exit_year IS NULL OR exit_year > 2016 "
            "OR (returned_year IS NOT NULL AND returned_year <= 2016))", p=prefix + "%", end=year_end(2016))
        assert rural > 0
        assert int(ranking.loc[code, "rural_population"]) == rural == int(by_year.loc[code, "rural_population"])
        assert int(ranking.loc[code, "poor_persons"]) == poor == int(by_year.loc[code, "poor_persons"])
        assert ranking.loc[code, "incidence"] == pytest.approx(hround(100 * poor / rural, 2))
