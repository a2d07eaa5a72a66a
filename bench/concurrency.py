"""Concurrency check: N simultaneous headless Chromium sessions open the overview, then change the region.

    python bench/concurrency.py --db sqlite:///bench/out/county.db                 # one replica, 20 sessions
    python bench/concurrency.py --db sqlite:///bench/out/county.db --replicas 2    # two replicas behind nginx
                                                                                    # (deploy/nginx.conf)

Starts the app (``streamlit run serve.py``) on 127.0.0.1:8661 (and :8662 …), and with ``--replicas 2`` nginx on
127.0.0.1:8670 with the repository's deploy/nginx.conf. One browser session first opens the overview (module
imports and the first figures, not timed). Then N browser contexts at once each open the overview at the top
region in a fresh browser context (no HTTP cache), then pick the i-th township in the sidebar (a rerun in the
same session, as a leader's click; most townships' figures are computed while the others wait), timing each
from navigation (or the click) to a settled page:
connected, script run over, no skeleton/spinner (the condition of tests/browser/harness.py). Prints p50/p95 of
the open and of the change, and of both together, every request's origin (none may leave the app's), and the
peak RSS of each app process; writes JSON (``--out``). Everything it starts it stops, on loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.harness import (  # noqa: E402  (the settled condition and Chromium flags of the test suite)
    APP_CONNECTED, APP_SETTLED, CHROMIUM, CHROMIUM_ARGS, EXCEPTION, PENDING, origin_of,
)

OUT = ROOT / "bench" / "out"
APP_PORTS = range(8661, 8670)
PROXY_PORT = 8670
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
SETTLE_TIMEOUT_MS = 120_000
TARGET_P95_S = 2.0


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is not "in use"
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling a subprocess's port
    raise RuntimeError(f"{url} not up after {timeout:.0f} s")


class Processes:
    """Everything started here, stopped (process group, TERM then KILL) on exit."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def start_app(procs: Processes, port: int, db_url: str, entry: str) -> subprocess.Popen:
    if not port_free(port):
        raise RuntimeError(f"端口 {port} 已被占用")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env.update({"REGISTRY_DB_URL": db_url, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "PYTHONUNBUFFERED": "1"})
    cmd = [sys.executable, "-m", "streamlit", "run", entry, "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--global.developmentMode", "false"]
    proc = procs.start(cmd, OUT / "logs" / f"app-{port}.log", env)
    wait_http(f"http://127.0.0.1:{port}/_stcore/health", 90, proc)
    return proc


def start_nginx(procs: Processes) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        raise RuntimeError("没有 nginx(apt-get install nginx-light)")
    if not port_free(PROXY_PORT):
        raise RuntimeError(f"端口 {PROXY_PORT} 已被占用")
    prefix = OUT / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    cmd = [nginx, "-p", str(prefix), "-c", str(NGINX_CONF), "-g", f"daemon off; pid {prefix / 'nginx.pid'};"]
    proc = procs.start(cmd, prefix / "logs" / "stdout.log")
    wait_http(f"http://127.0.0.1:{PROXY_PORT}/_stcore/health", 30, proc)
    return proc


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a process and its children's biggest, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        return None
    return None


def regions(db_url: str, n: int) -> tuple[str, list[tuple[str, str]], int]:
    """The top region, n townships to change to ((code, name), repeated if fewer), and the last year."""
    from sqlalchemy import select

    from data_access import schema
    from data_access.db import get_engine
    from data_access.queries import places
    from data_access.scope import Scope

    engine = get_engine(db_url)
    root = places.default_scope_code(engine)
    R = schema.region
    county = root if Scope.of(root).level == "county" else "523199000000"
    with engine.connect() as conn:
        towns = [tuple(r) for r in conn.execute(
            select(R.c.code, R.c.name).where(R.c.parent_code == county).order_by(R.c.code))]
    _, last = places.year_range(engine, Scope.of(root))
    engine.dispose()
    return root, [towns[i % len(towns)] for i in range(n)], last


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of processes (all their threads), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def descendants(root_pid: int) -> list[int]:
    """Every process below ``root_pid`` (Chromium's renderers under Playwright's driver)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root_pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


async def settle(page) -> None:
    await page.wait_for_selector(APP_CONNECTED, state="attached", timeout=SETTLE_TIMEOUT_MS)
    await page.wait_for_selector(APP_SETTLED, state="attached", timeout=SETTLE_TIMEOUT_MS)
    await page.wait_for_function(f"() => !document.querySelector({json.dumps(PENDING)})",
                                 timeout=SETTLE_TIMEOUT_MS, polling="raf")
    await page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    await page.wait_for_selector(APP_SETTLED, state="attached", timeout=SETTLE_TIMEOUT_MS)


async def open_overview(page, url: str) -> dict:
    """A fresh browser (empty HTTP cache) opens the link: to connected, to the script's end, to settled."""
    started = time.perf_counter()
    await page.goto(url, wait_until="domcontentloaded", timeout=SETTLE_TIMEOUT_MS)
    await page.wait_for_selector(APP_CONNECTED, state="attached", timeout=SETTLE_TIMEOUT_MS)
    connected = time.perf_counter() - started
    await settle(page)
    return {"open": time.perf_counter() - started, "open_connected": connected}


async def change_region(page, town_code: str, town_name: str) -> float:
    """Pick the township in the sidebar (a rerun in the same session, as a leader's click), to settled."""
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="乡镇")
    started = time.perf_counter()
    await box.click()
    await page.keyboard.type(town_name)  # the option list is virtualised: filter it to the one township
    await page.get_by_role("option", name=town_name, exact=True).click()
    await page.wait_for_function(f"() => location.search.includes('region={town_code}')",
                                 timeout=SETTLE_TIMEOUT_MS)
    await settle(page)
    return time.perf_counter() - started


async def session(browser, base: str, root: str, town: tuple[str, str], year: int, requests: list,
                  index: int) -> dict:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN",
                                    timezone_id="Asia/Shanghai")
    try:
        page = await ctx.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("websocket", lambda ws: requests.append(ws.url))
        out = await open_overview(page, f"{base}/overview?region={root}&year={year}")
        out["change"] = await change_region(page, *town)
        out.update({"session": index, "town": town[0], "exceptions": await page.locator(EXCEPTION).count()})
        return out
    except Exception as exc:  # noqa: BLE001 - one failed session is reported, the others still count
        return {"session": index, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    finally:
        await ctx.close()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def run_sessions(base: str, root: str, towns: list, year: int, app_pids: list[int]) -> dict:
    from playwright.async_api import async_playwright

    requests: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            warm = await session(browser, base, root, towns[0], year, [], -1)  # imports, first figures: not timed
            if "error" in warm:
                raise RuntimeError(f"预热会话失败:{warm['error']}")
            browser_pids = descendants(os.getpid())
            app_cpu, browser_cpu = cpu_seconds(app_pids), cpu_seconds(browser_pids)
            started = time.perf_counter()
            results = await asyncio.gather(*[session(browser, base, root, town, year, requests, i)
                                             for i, town in enumerate(towns)])
            elapsed = time.perf_counter() - started
            browser_pids = descendants(os.getpid())
            app_cpu = cpu_seconds(app_pids) - app_cpu
            browser_cpu = max(cpu_seconds(browser_pids) - browser_cpu, 0.0)
        finally:
            await browser.close()
    return {"results": list(results), "requests": requests, "elapsed": elapsed, "warm_session": warm,
            "app_cpu_s": round(app_cpu, 1), "browser_cpu_s": round(browser_cpu, 1)}


def summarise(results: list[dict], requests: list[str], base: str) -> dict:
    ok = [r for r in results if "error" not in r]
    opens = [r["open"] for r in ok]
    changes = [r["change"] for r in ok]
    connected = [r["open_connected"] for r in ok if "open_connected" in r]
    both = opens + changes
    foreign = sorted({u for u in requests if origin_of(u) not in (None, origin_of(base))})

    def stats(values):
        return {"n": len(values), "p50": _round(percentile(values, 0.5)), "p95": _round(percentile(values, 0.95)),
                "max": _round(max(values) if values else None)}

    return {"open": stats(opens), "change": stats(changes), "all": stats(both), "connected": stats(connected),
            "failed": [r for r in results if "error" in r], "exceptions": sum(r.get("exceptions", 0) for r in ok),
            "requests": len(requests), "foreign_requests": foreign[:20]}


def _round(x):
    return None if x is None else round(x, 3)


def run(db_url: str, sessions: int, replicas: int, entry: str) -> dict:
    procs = Processes()
    try:
        apps = [start_app(procs, port, db_url, entry) for port in list(APP_PORTS)[:replicas]]
        if replicas > 1:
            start_nginx(procs)
            base = f"http://127.0.0.1:{PROXY_PORT}"
        else:
            base = f"http://127.0.0.1:{APP_PORTS[0]}"
        root, towns, year = regions(db_url, sessions)
        load_before = os.getloadavg()
        got = asyncio.run(run_sessions(base, root, towns, year, [p.pid for p in apps]))
        results = got["results"]
        report = summarise(results, got["requests"], base)
        report.update({
            "sessions": sessions, "replicas": replicas, "entry": entry, "base_url": base, "root": root,
            "wall_s": round(got["elapsed"], 2), "load_avg_before": load_before, "load_avg_after": os.getloadavg(),
            "app_cpu_s": got["app_cpu_s"], "browser_cpu_s": got["browser_cpu_s"],
            "single_session": {k: got["warm_session"].get(k) for k in ("open", "open_connected", "change")},
            "app_peak_rss_mb": [peak_rss_mb(p.pid) for p in apps], "cpus": os.cpu_count(),
            "per_session": results,
        })
        if replicas > 1:
            report["per_replica_requests"] = replica_shares(OUT / "nginx" / "logs" / "access.log")
        return report
    finally:
        procs.stop_all()


def replica_shares(access_log: Path) -> dict:
    """How many websocket sessions each replica got, from nginx's access log (upstream not logged: use
    the apps' own logs instead if needed); here: count of /_stcore/stream requests in total."""
    try:
        lines = access_log.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    return {"stream_connections": sum("/_stcore/stream" in line for line in lines), "requests": len(lines)}


def print_report(r: dict) -> None:
    where = f"{r['replicas']} 个副本经 nginx" if r["replicas"] > 1 else "1 个应用进程"
    print(f"\n== 并发:{r['sessions']} 个浏览器会话同时打开总览并切换区域({where},{r['cpus']} 核;"
          f"负载 {r['load_avg_before'][0]:.1f}) ==")
    single = r["single_session"]
    print(f"  单个会话(预热,无并发):打开 {single['open']:.2f} s(其中连上 {single['open_connected']:.2f} s),"
          f"切换 {single['change']:.2f} s")
    for key, label in (("open", "打开总览(新浏览器,无缓存)"), ("connected", "  其中到连上服务器"),
                       ("change", "切换乡镇(侧栏,会话内重跑)"), ("all", "合计")):
        s = r[key]
        print(f"  {label}: n={s['n']} p50 {s['p50']} s  p95 {s['p95']} s  最慢 {s['max']} s")
    print(f"  并发期间 CPU:应用进程 {r['app_cpu_s']} s,浏览器 {r['browser_cpu_s']} s(共 {r['cpus']} 核 × "
          f"{r['wall_s']} s)")
    print(f"  全部会话完成用时 {r['wall_s']} s;应用进程峰值内存 {r['app_peak_rss_mb']} MB;"
          f"失败会话 {len(r['failed'])};页面异常 {r['exceptions']};请求 {r['requests']} 个,"
          f"离开本站的 {len(r['foreign_requests'])} 个")
    p95 = r["all"]["p95"]
    verdict = "达标" if p95 is not None and p95 < TARGET_P95_S and not r["failed"] else "未达标"
    print(f"  p95 目标 < {TARGET_P95_S} s:{verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=f"sqlite:///{OUT / 'county.db'}")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--replicas", type=int, default=1, choices=range(1, len(APP_PORTS) + 1))
    parser.add_argument("--entry", default="serve.py", help="serve.py(带 CSP 头)或 app.py")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    if args.replicas > 2:
        parser.error("deploy/nginx.conf 列出两个副本(8661、8662);更多副本请先在其中增加 server 行")
    report = run(args.db, args.sessions, args.replicas, args.entry)
    print_report(report)
    out = Path(args.out or OUT / f"concurrency-{args.replicas}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"  JSON:{out}")
    p95 = report["all"]["p95"]
    return 0 if p95 is not None and p95 < TARGET_P95_S and not report["failed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
