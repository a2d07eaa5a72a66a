"""Server-side speed of every page and of typical interactions, cold and warm, against the naive way.

    python bench/run.py                                   # county on SQLite (built on first use, ~1–4 min)
    python bench/run.py --province-db postgresql+psycopg://postgres@127.0.0.1:55470/province
    python bench/run.py --scales county --pages overview,causes --repeat 3
    python bench/run.py --concurrency                     # + 20 headless Chromium sessions (bench/concurrency.py)

For each scale a fresh subprocess (so its peak memory is the app's alone) runs the real ``app.py``
through ``streamlit.testing.v1.AppTest`` and times ``AppTest.run()``:

- **cold**: ``st.cache_data`` emptied just before the run (app shell + page + every query);
- **warm**: the same view again (median of ``--repeat`` runs), as the next leader opening the link gets it;
- **SQL**: the time between SQLAlchemy's ``before_cursor_execute`` and ``after_cursor_execute`` (plus the
  number of statements: a page issuing hundreds would be a per-row query);
- **CPU**: this process's CPU time for the run (on a loaded machine it shows the work the app itself did,
  where wall time also counts waiting for the CPU);
- **peak RSS** of the process (``ru_maxrss``), reported per scale.

Interactions start from an opened page (not timed) and time the rerun after the URL changes, as a click does:
region change, year change, drill-down on the map, a query filter. "Naive" runs in another subprocess: the same
headline figures computed by reading whole tables with ``pd.read_sql`` and grouping in pandas, with its own
time and peak memory; the ratio naive ÷ cold is printed per page. The table is printed and written as JSON
(``--out``, default ``bench/out/bench-<scale>.json`` and ``bench/out/bench.json`` for all).

Databases: county = ``python -m data_access demo --db sqlite:///bench/out/county.db --scale county``;
province = ``python -m data_access demo --db postgresql+psycopg://…/province --scale province`` (≈2 million
households, 7 million people; PostgreSQL only). ``--build`` generates a missing database.

At province scale the naive way runs on a sample of pages (``PROVINCE_NAIVE_PAGES``: those whose naive figures
read the household-sized tables); ``--naive-pages`` chooses others.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.objects import samples  # noqa: E402

OUT = ROOT / "bench" / "out"
DEFAULT_COUNTY_URL = f"sqlite:///{OUT / 'county.db'}"
TARGETS = {  # seconds, server-side (issue 10)
    "county": {"warm": 0.3, "cold": 1.5, "rss_mb": None, "naive_ratio": None},
    "province": {"warm": 0.5, "cold": 2.0, "rss_mb": 500, "naive_ratio": 10.0},
}
# The naive way at province scale: the pages whose naive figures read the household, region, fund and
# monitoring tables. Help, query, household and project read visit/income/person whole (22–24 million
# rows each: several GB in pandas and minutes per page), so they are left out there (``--naive-pages``).
PROVINCE_NAIVE_PAGES = ("overview", "map", "causes", "exits", "funds", "monitoring")
# Pages that need an object of their own in the URL (filled from the database by ``samples``).
OBJECT_PARAMS = {"household": "hh", "project": "project"}


# ---------------------------------------------------------------------------
# the app under AppTest (runs inside the worker subprocess)


def _always_run_app_py() -> None:
    """Make every AppTest run execute app.py (the real server does).

    AppTest builds a fresh PagesManager per run and resets ``uses_pages_directory``; with a ``pages/``
    folder present that means Streamlit's legacy mode, in which a rerun executes the page file alone and
    skips app.py (database check, region tree, sign-in). ``st.navigation`` sets the flag to False in a
    real server, so we keep it False here too.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__
    if getattr(original, "_bench_patched", False):
        return

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    init._bench_patched = True
    PagesManager.__init__ = init


class SqlClock:
    """Sums the time spent in the database (cursor execute) and counts statements."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.seconds = 0.0
        self.statements = 0
        self._start: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._start[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = self._start.pop(id(cursor), None)
        if started is not None:
            self.seconds += time.perf_counter() - started
            self.statements += 1

    def reset(self) -> None:
        self.seconds, self.statements = 0.0, 0


# Helpers of queries.common that build SQL or run a query's statement for it (``frame``): not queries. Timed, their
# time was counted twice, inside each caller and again under their own name (round 5's "common.frame 1.6 s" on the
# overview was the statements of child_indicators, funds.projects, … run through it).
NOT_QUERIES = {"common": {"frame", "count_if", "people_if", "pct", "people_year", "region_in", "population_stmt"}}


class QueryClock:
    """Wall time per data_access query function (wrapped in place; fetch looks them up by name). A query called by
    another (``headline`` calls ``registry_counts``) is counted under both names."""

    def __init__(self):
        self.calls: dict[str, list[float]] = {}
        self.enabled = True

    def install(self) -> None:
        import functools
        import importlib
        import inspect
        import pkgutil

        import data_access.queries as package

        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, fn in list(vars(module).items()):
                if (name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__
                        or getattr(fn, "_bench_wrapped", False) or name in NOT_QUERIES.get(info.name, ())):
                    continue
                qualname = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"

                def make(fn=fn, qualname=qualname):
                    @functools.wraps(fn)
                    def timed(*args, **kwargs):
                        started = time.perf_counter()
                        try:
                            return fn(*args, **kwargs)
                        finally:
                            if self.enabled:
                                self.calls.setdefault(qualname, []).append(time.perf_counter() - started)

                    timed._bench_wrapped = True
                    return timed

                setattr(module, name, make())

    def reset(self) -> dict[str, list[float]]:
        calls, self.calls = self.calls, {}
        return calls


def cases(pages: list, s: dict) -> list[dict]:
    """What to time: every page opened at the root region, then the typical interactions."""
    out = []
    for spec in pages:
        params = {"region": s["root"], "year": s["last_year"]}
        if spec.key in OBJECT_PARAMS:
            params = {"region": s["county"], "year": s["last_year"],
                      OBJECT_PARAMS[spec.key]: s["hh" if spec.key == "household" else "project"]}
        elif spec.key == "village":  # 村档案 is a village's page
            params = {"region": s["village"], "year": s["last_year"]}
        out.append({"name": f"页面 {spec.title}", "kind": "page", "page": spec.key, "file": spec.file,
                    "before": None, "after": params})
    by_key = {p.key: p for p in pages}
    root = {"region": s["root"], "year": s["last_year"]}
    interactions = [
        ("切换区域(总览:顶层 → 乡镇)", "overview", root, {**root, "region": s["town"]}),
        ("切换年度(总览:末年 → 2019)", "overview", root, {**root, "year": min(2019, s["last_year"])}),
        ("下钻(村级地图:顶层 → 下一级)", "map", root, {**root, "region": s["child"]}),
        ("下钻(致贫原因:乡镇 → 村)", "causes", {**root, "region": s["town"]}, {**root, "region": s["village"]}),
        ("查询筛选(因病·已脱贫)", "query", root, {**root, "main_cause": "因病", "status": "已脱贫"}),
    ]
    for name, key, before, after in interactions:
        if key in by_key:
            out.append({"name": name, "kind": "interaction", "page": key, "file": by_key[key].file,
                        "before": before, "after": after})
    return out


class Bench:
    def __init__(self, url: str, repeat: int, timeout: float):
        os.environ["REGISTRY_DB_URL"] = url
        for key in [k for k in os.environ if k.startswith("REGISTRY_") and k != "REGISTRY_DB_URL"]:
            os.environ.pop(key)  # no sign-in secret or other settings from the caller: open demo mode
        _always_run_app_py()
        from data_access.db import get_engine

        self.url = url
        self.engine = get_engine(url)
        self.sql = SqlClock(self.engine)
        self.queries = QueryClock()
        self.queries.install()
        self.repeat = repeat
        self.timeout = timeout

    def _app(self, params: dict):
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=self.timeout)
        at.query_params.update({k: str(v) for k, v in params.items()})
        return at

    def _timed_run(self, at) -> dict:
        self.sql.reset()
        self.queries.reset()
        wall, cpu = time.perf_counter(), time.process_time()
        at.run()
        out = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
               "sql": self.sql.seconds, "statements": self.sql.statements,
               "error": _first_error(at)}
        out["queries"] = {k: sum(v) for k, v in self.queries.reset().items()}
        return out

    def _set_params(self, at, params: dict) -> None:
        at.query_params.clear()
        at.query_params.update({k: str(v) for k, v in params.items()})

    def measure(self, case: dict) -> dict:
        import streamlit as st

        start = case["before"] or {"region": case["after"]["region"], "year": case["after"]["year"]}
        at = self._app(start)
        at.run()  # the session's first run (registers the pages), not timed
        if case["page"] != "overview":
            at.switch_page(case["file"])
            if case["kind"] == "interaction":
                at.run()  # the page the interaction starts from, not timed
        self._set_params(at, case["after"])
        st.cache_data.clear()
        cold = self._timed_run(at)
        warm_runs = []
        for _ in range(self.repeat):
            if case["kind"] == "interaction":  # back to the starting view, then the same change again
                self._set_params(at, start)
                at.run()
                self._set_params(at, case["after"])
            warm_runs.append(self._timed_run(at))
        warm = min(warm_runs, key=lambda r: r["wall"]) if len(warm_runs) == 1 else _median_run(warm_runs)
        return {"name": case["name"], "kind": case["kind"], "page": case["page"], "params": case["after"],
                "cold": cold, "warm": warm, "warm_walls": [r["wall"] for r in warm_runs]}


def _median_run(runs: list[dict]) -> dict:
    ordered = sorted(runs, key=lambda r: r["wall"])
    return ordered[len(ordered) // 2]


def _first_error(at) -> str | None:
    """An exception, or an st.error box (a page that only says "链接参数有误" is fast for the wrong reason)."""
    if at.exception:
        return str(at.exception[0].value)[:300]
    if at.error:
        return "st.error: " + str(at.error[0].value)[:300]
    return None


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def database_size(engine) -> dict:
    from sqlalchemy import func, select

    from data_access import schema

    with engine.connect() as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (schema.household, schema.person, schema.income, schema.visit, schema.region)}


def run_worker(url: str, scale: str, page_keys: list[str] | None, repeat: int, timeout: float) -> dict:
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    bench = Bench(url, repeat, timeout)
    from components.shell import nav

    pages = [p for p in nav.available(is_admin=True) if not page_keys or p.key in page_keys]
    s = samples(bench.engine)
    todo = cases(pages, s)
    if page_keys:
        todo = [c for c in todo if c["page"] in page_keys]
    # Import every page's modules once (not timed): the first run of a process compiles and imports.
    warmup = bench._app({"region": s["root"], "year": s["last_year"]})
    warmup.run()
    results = []
    for case in todo:
        started = time.perf_counter()
        result = bench.measure(case)
        results.append(result)
        print(f"  [{scale}] {case['name']}: cold {result['cold']['wall']:.2f} s, warm {result['warm']['wall']:.3f} s"
              f" ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    return {
        "scale": scale, "url": _redact(url), "backend": bench.engine.dialect.name, "samples": s,
        "rows": database_size(bench.engine), "results": results, "peak_rss_mb": round(peak_rss_mb(), 1),
        "repeat": repeat,
    }


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# ---------------------------------------------------------------------------
# the orchestrator


def spawn(args: list[str], timeout: float) -> dict:
    """Run ``bench/run.py <args>`` in a subprocess and read the JSON it writes."""
    OUT.mkdir(parents=True, exist_ok=True)
    result_path = OUT / f".worker-{os.getpid()}-{time.time_ns()}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), *args, "--result", str(result_path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    try:
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, timeout=timeout)
        return json.loads(result_path.read_text(encoding="utf-8"))
    finally:
        result_path.unlink(missing_ok=True)


def ensure_database(scale: str, url: str, build: bool) -> bool:
    from data_access import db

    try:
        db.check_database(db.get_engine(url))
        return True
    except db.RegistryError as exc:
        if not build:
            print(f"[{scale}] 数据库不可用({exc.message});加 --build 生成,或给出 --{scale}-db。", file=sys.stderr)
            return False
    print(f"[{scale}] 正在生成演示数据库 {_redact(url)}……", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "data_access", "demo", "--db", url, "--scale", scale], cwd=ROOT, check=True)
    return True


def summarise(report: dict, naive: dict | None) -> dict:
    """Verdicts against the targets, per result and for the scale."""
    scale = report["scale"]
    target = TARGETS.get(scale, TARGETS["county"])
    naive_by_page = {n["page"]: n for n in (naive or {}).get("results", [])}
    misses = []
    for r in report["results"]:
        r["cold_ok"] = r["cold"]["wall"] < target["cold"]
        r["warm_ok"] = r["warm"]["wall"] < target["warm"]
        n = naive_by_page.get(r["page"]) if r["kind"] == "page" else None
        if n and n.get("seconds"):
            r["naive"] = n["seconds"]
            r["naive_ratio"] = round(n["seconds"] / max(r["cold"]["wall"], 1e-9), 1)  # the whole page, cold
            r["figure_ratio"] = n.get("figure_ratio")  # the same figures: naive ÷ data_access
        if not r["cold_ok"]:
            misses.append(f"{r['name']}: 冷 {r['cold']['wall']:.2f} s ≥ {target['cold']} s")
        if not r["warm_ok"]:
            misses.append(f"{r['name']}: 热 {r['warm']['wall']:.3f} s ≥ {target['warm']} s")
        if r["cold"].get("error") or r["warm"].get("error"):
            misses.append(f"{r['name']}: 页面异常 {r['cold'].get('error') or r['warm'].get('error')}")
        if target["naive_ratio"] and r.get("naive_ratio") is not None and r["naive_ratio"] < target["naive_ratio"]:
            misses.append(f"{r['name']}: 仅比朴素做法快 {r['naive_ratio']} 倍(目标 ≥ {target['naive_ratio']} 倍)")
    if target["rss_mb"] and report["peak_rss_mb"] >= target["rss_mb"]:
        misses.append(f"应用进程峰值内存 {report['peak_rss_mb']} MB ≥ {target['rss_mb']} MB")
    report["targets"] = target
    report["misses"] = misses
    report["naive"] = naive
    return report


def print_table(report: dict) -> None:
    t = report["targets"]
    rows = report["rows"]
    print(f"\n== {report['scale']} · {report['backend']} · {rows['household']:,} 户 {rows['person']:,} 人 · "
          f"目标:热 < {t['warm']} s,冷 < {t['cold']} s ==")
    head = (f"{'场景':<30}{'冷(s)':>8}{'SQL':>7}{'CPU':>7}{'语句':>5}{'热(s)':>8}{'CPU':>7}{'语句':>5}"
            f"{'朴素(s)':>9}{'页倍数':>7}{'同图倍数':>9}  判定")
    print(head)
    for r in report["results"]:
        c, w = r["cold"], r["warm"]
        verdict = "达标" if r["cold_ok"] and r["warm_ok"] and not c.get("error") else "未达标"
        naive = (f"{r['naive']:>9.2f}{r['naive_ratio']:>7.1f}{r.get('figure_ratio') or 0:>9.1f}" if r.get("naive")
                 else f"{'':>9}{'':>7}{'':>9}")
        print(f"{_pad(r['name'], 30)}{c['wall']:>8.2f}{c['sql']:>7.2f}{c['cpu']:>7.2f}{c['statements']:>5}"
              f"{w['wall']:>8.3f}{w['cpu']:>7.3f}{w['statements']:>5}{naive}  {verdict}")
    print("页倍数 = 朴素做法 ÷ 整页冷启动;同图倍数 = 朴素做法 ÷ data_access 算同样的图(均无缓存)。")
    print(f"应用进程峰值内存(RSS):{report['peak_rss_mb']:.0f} MB"
          + (f";朴素做法进程:{report['naive']['peak_rss_mb']:.0f} MB" if report.get("naive") else ""))
    slow = {}
    for r in report["results"]:
        for q, sec in r["cold"]["queries"].items():
            slow[q] = max(slow.get(q, 0.0), sec)
    top = sorted(slow.items(), key=lambda kv: -kv[1])[:8]
    if top:
        print("最慢的查询函数(冷,单页内合计):" + ",".join(f"{q} {s:.2f} s" for q, s in top))
    if report["misses"]:
        print("未达标:\n  " + "\n  ".join(report["misses"]))
    else:
        print("全部达标。")


def _pad(text: str, width: int) -> str:
    """Left-justify counting CJK characters as two columns."""
    cols = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(1, width - cols)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--county-db", default=os.environ.get("BENCH_COUNTY_URL", DEFAULT_COUNTY_URL))
    parser.add_argument("--province-db", default=os.environ.get("BENCH_PROVINCE_URL", ""))
    parser.add_argument("--scales", default="county,province", help="county,province(逗号分隔)")
    parser.add_argument("--pages", default="", help="只测这些页面(nav 键,逗号分隔),默认全部")
    parser.add_argument("--repeat", type=int, default=3, help="热运行次数(取中位数)")
    parser.add_argument("--no-naive", action="store_true", help="不测朴素做法")
    parser.add_argument("--naive-pages", default=None,
                        help="朴素做法只测这些页面(逗号分隔);省级默认只测读农户表的页面,"
                             "不测整表读入走访/收入/人口(2千多万行)的帮扶力量、查询、户档案、项目档案")
    parser.add_argument("--build", action="store_true", help="数据库缺失时生成演示数据")
    parser.add_argument("--timeout", type=float, default=600.0, help="单次页面运行的超时(秒)")
    parser.add_argument("--out", default=str(OUT / "bench.json"))
    parser.add_argument("--concurrency", action="store_true", help="另测 20 个浏览器会话并发(见 bench/concurrency.py)")
    # internal: one scale in a subprocess
    parser.add_argument("--worker", choices=["app", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--scale", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    page_keys = [p for p in args.pages.split(",") if p] or None

    if args.worker:
        if args.worker == "app":
            out = run_worker(args.db, args.scale, page_keys, args.repeat, args.timeout)
        else:
            from bench import naive

            out = naive.run(args.db, page_keys)
        Path(args.result).write_text(json.dumps(out, ensure_ascii=False, default=str), encoding="utf-8")
        return 0

    urls = {"county": args.county_db, "province": args.province_db}
    reports = []
    for scale in [s for s in args.scales.split(",") if s]:
        url = urls.get(scale)
        if not url:
            print(f"[{scale}] 未给出数据库地址(--{scale}-db 或 BENCH_{scale.upper()}_URL),跳过。", file=sys.stderr)
            continue
        if not ensure_database(scale, url, args.build):
            continue
        common = ["--db", url, "--scale", scale, "--pages", ",".join(page_keys or [])]
        report = spawn(["--worker", "app", *common, "--repeat", str(args.repeat), "--timeout", str(args.timeout)],
                       timeout=args.timeout * 40)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).with_name(f"bench-{scale}-app.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        naive = None
        if not args.no_naive:
            try:
                naive_pages = args.naive_pages if args.naive_pages is not None else \
                    ",".join(page_keys or []) if scale != "province" else ",".join(
                        p for p in PROVINCE_NAIVE_PAGES if not page_keys or p in page_keys)
                naive_common = ["--db", url, "--scale", scale, "--pages", naive_pages]
                naive = spawn(["--worker", "naive", *naive_common], timeout=args.timeout * 20)
            except (subprocess.SubprocessError, OSError) as exc:
                print(f"[{scale}] 朴素做法的测量失败:{exc}", file=sys.stderr)
        report = summarise(report, naive)
        report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "load_avg": os.getloadavg(), "at": time.strftime("%Y-%m-%d %H:%M:%S")}
        print_table(report)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).with_name(f"bench-{scale}.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        reports.append(report)
    Path(args.out).write_text(json.dumps({"scales": reports}, ensure_ascii=False, indent=1, default=str),
                              encoding="utf-8")
    print(f"\nJSON:{args.out}")
    rc = 0 if reports and all(not r["misses"] for r in reports) else 1
    if args.concurrency:
        from bench import concurrency

        url = urls["county"] if "county" in args.scales else next(iter(u for u in urls.values() if u))
        rc = concurrency.main(["--db", url]) or rc
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
