"""Load test over Streamlit's own websocket protocol: many sessions, no browsers.

    python bench/load.py --db sqlite:///bench/out/county.db                       # 20 users, 1 process
    python bench/load.py --db sqlite:///bench/out/county.db --replicas 2          # 2 replicas behind nginx
    python bench/load.py --db ... --scenario meeting --users 50                  # 50 open the overview at once

Each simulated user is one websocket session on ``/_stcore/stream`` speaking the browser's protobuf messages
(``BackMsg.rerun_script`` with the page, query string and widget states; it reads ``ForwardMsg`` until the
run's ``script_finished``). A session costs a few MB and almost no CPU, so the figures measure the app.

Scenarios:
- ``steady`` (default): ``--users`` sessions act for ``--duration`` seconds, each waiting an exponential think
  time (mean ``--think`` s) between actions, in a realistic mix: open the overview (new session, as a portal
  link), change township in the sidebar (the 乡镇 selectbox's widget state), open the village map, drill to a
  village's 村档案 (as its link), open 查询 with a filter. Target: 20 users, mean 10 s, p95 ≤ 1 s.
- ``meeting``: ``--users`` sessions open the overview within ``--spread`` seconds (a meeting starting).
  Target: 50 users within 10 s, p95 ≤ 4 s.
- ``cpu``: one user alone, the five actions for ``--towns`` townships, twice (first ask, then again): the app's
  CPU seconds per action type (robust to the machine's load; the before/after figure of an optimisation).

Prints p50/p95/max per action, failed actions, the app's CPU seconds (utime+stime of its processes, from
/proc) per action, and peak RSS; writes JSON with ``--out``. The app (``streamlit run serve.py``) and nginx
(``--replicas 2``, the repository's deploy/nginx.conf with the ports rewritten) are started on loopback and
stopped at the end. ``--url`` measures an app that is already running instead (no CPU figures then).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.concurrency import (  # noqa: E402  (process control shared with the browser check)
    OUT, Processes, cpu_seconds, peak_rss_mb, port_free, regions, start_app, wait_http,
)

APP_PORTS = (8701, 8702)
PROXY_PORT = 8710
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
ACTION_TIMEOUT_S = 120.0
FINISHED = ForwardMsg.ScriptFinishedStatus


class ActionFailed(Exception):
    pass


@dataclass
class Session:
    """One user's websocket session, as the browser keeps it."""

    base: str  # ws://host:port
    origin: str
    ws: websockets.ClientConnection | None = None
    pages: dict[str, str] = field(default_factory=dict)  # url path -> page_script_hash
    page_hash: str = ""
    query_string: str = ""
    widgets: dict[str, dict] = field(default_factory=dict)  # label -> {"id", "options"}
    exceptions: int = 0

    async def connect(self) -> None:
        self.ws = await websockets.connect(f"{self.base}/_stcore/stream", subprotocols=["streamlit"],
                                           origin=self.origin, max_size=None, open_timeout=ACTION_TIMEOUT_S)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def rerun(self, page: str | None, query: dict | None, widget: tuple[str, str] | None = None) -> None:
        """Send one rerun (a page open, a link, or a widget change) and read until the final run ends."""
        msg = BackMsg()
        state = msg.rerun_script
        if query is not None:
            self.query_string = urlencode(query)
        state.query_string = self.query_string
        if page is not None:
            state.page_name = page
            self.page_hash = self.pages.get(page, "")
        state.page_script_hash = self.page_hash
        state.context_info.timezone = "Asia/Shanghai"
        state.context_info.locale = "zh-CN"
        state.context_info.url = f"{self.origin}/{page or ''}"
        if widget is not None:
            label, value = widget
            found = self.widgets.get(label)
            if found is None:
                raise ActionFailed(f"页面上没有控件 {label}")
            w = state.widget_states.widgets.add()
            w.id = found["id"]
            w.string_value = value
        self.widgets = {}
        before = self.exceptions
        await self.ws.send(msg.SerializeToString())
        await self._read_until_finished()
        if self.exceptions > before:
            raise ActionFailed("页面显示了异常")

    def region(self) -> str:
        return parse_qs(self.query_string).get("region", [""])[0]

    async def _read_until_finished(self) -> None:
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), ACTION_TIMEOUT_S)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "navigation":
                for p in fwd.navigation.app_pages:
                    self.pages[p.url_pathname] = p.page_script_hash
                self.page_hash = fwd.navigation.page_script_hash or self.page_hash
            elif kind == "page_info_changed":
                self.query_string = fwd.page_info_changed.query_string  # the app wrote st.query_params
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                which = el.WhichOneof("type")
                if which == "selectbox":
                    self.widgets[el.selectbox.label] = {"id": el.selectbox.id, "options": list(el.selectbox.options)}
                elif which == "exception":
                    self.exceptions += 1
            elif kind == "page_not_found":
                raise ActionFailed(f"页面不存在: {fwd.page_not_found.page_name}")
            elif kind == "script_finished":
                if fwd.script_finished == FINISHED.FINISHED_SUCCESSFULLY:
                    return
                if fwd.script_finished == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                    raise ActionFailed("脚本编译错误")
                # FINISHED_EARLY_FOR_RERUN: st.rerun() after a URL write; the next run follows


@dataclass
class World:
    base: str
    origin: str
    root: str
    towns: list[tuple[str, str]]
    villages: list[str]
    year: int


SEEN: set[tuple[str, str]] = set()  # (action, region) already asked once: later asks find the data cache filled
SAMPLES: list[dict] = []  # every action: start (s from the run's start), seconds, first ask of its view or not
T0 = [0.0]


async def timed(results: dict, action: str, coro, view: str = "") -> None:
    first = (action, view) not in SEEN
    SEEN.add((action, view))
    start = time.perf_counter()
    try:
        await coro
        took = time.perf_counter() - start
        results.setdefault(action, []).append(took)
        SAMPLES.append({"action": action, "t": round(start - T0[0], 2), "s": round(took, 3), "first": first})
    except (ActionFailed, asyncio.TimeoutError, OSError, websockets.WebSocketException) as exc:
        results.setdefault(f"{action}:failed", []).append(repr(exc)[:200])


async def change_town(session: Session, code: str, name: str) -> None:
    """Pick a township in the sidebar; the app writes it to the URL and reruns."""
    await session.rerun(None, None, ("乡镇", name))
    if session.region() != code:
        raise ActionFailed(f"切换乡镇后 region={session.region()!r},应为 {code}")


async def open_overview(world: World, rng: random.Random) -> Session:
    s = Session(world.base, world.origin)
    await s.connect()
    await s.rerun("", {"region": world.root, "year": world.year})
    return s


async def steady_user(world: World, results: dict, rng: random.Random, until: float, think: float) -> None:
    session: Session | None = None
    holder: list[Session] = []

    async def first_open():
        holder.append(await open_overview(world, rng))

    await asyncio.sleep(rng.expovariate(1.0 / think))  # users arrive spread out, not all in the same instant
    await timed(results, "打开总览", first_open(), world.root)
    session = holder[0] if holder else None
    while time.monotonic() < until:
        await asyncio.sleep(rng.expovariate(1.0 / think))
        if time.monotonic() >= until:
            break
        if session is None:
            await timed(results, "打开总览", first_open(), world.root)
            session = holder[-1] if holder else None
            continue
        code, name = rng.choice(world.towns)
        pick = rng.random()
        if pick < 0.15:  # a new portal link: a fresh session
            await session.close()
            holder.clear()
            await timed(results, "打开总览", first_open(), world.root)
            session = holder[0] if holder else None
        elif pick < 0.45:
            current_town = session.region()[:9] + "000"
            code, name = rng.choice([t for t in world.towns if t[0] != current_town] or world.towns)
            await timed(results, "切换乡镇", change_town(session, code, name), code)
        elif pick < 0.65:
            await timed(results, "村级地图", session.rerun("map", {"region": code, "year": world.year}), code)
        elif pick < 0.85:
            village = rng.choice([v for v in world.villages if v.startswith(code[:9])] or world.villages)
            await timed(results, "下钻村档案", session.rerun("village", {"region": village, "year": world.year}),
                        village)
        else:
            await timed(results, "查询", session.rerun("query", {"region": code, "year": world.year,
                                                                "main_cause": "因病", "page": 2}), code)
    if session is not None:
        await session.close()


async def meeting_user(world: World, results: dict, rng: random.Random, delay: float) -> None:
    await asyncio.sleep(delay)
    holder: list[Session] = []

    async def first_open():
        holder.append(await open_overview(world, rng))

    await timed(results, "打开总览", first_open(), world.root)
    for s in holder:
        await s.close()


def village_codes(db_url: str) -> list[str]:
    from sqlalchemy import select

    from data_access import schema
    from data_access.db import get_engine

    engine = get_engine(db_url)
    with engine.connect() as conn:
        codes = [r[0] for r in conn.execute(select(schema.region.c.code).where(schema.region.c.level == "village"))]
    engine.dispose()
    return codes


def nginx_conf(ports: tuple[int, ...], proxy_port: int) -> Path:
    """deploy/nginx.conf with this run's replica and proxy ports."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    text = text.replace("127.0.0.1:8661", f"127.0.0.1:{ports[0]}").replace("127.0.0.1:8662", f"127.0.0.1:{ports[1]}")
    text = text.replace("listen 127.0.0.1:8670", f"listen 127.0.0.1:{proxy_port}")
    path = OUT / "nginx-load" / "nginx.conf"
    for sub in ("logs", "cache"):
        (path.parent / sub).mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def start_nginx(procs: Processes, conf: Path, proxy_port: int):
    import os
    import shutil

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        raise SystemExit("没有 nginx(apt-get install nginx-light)")
    if not port_free(proxy_port):
        raise SystemExit(f"端口 {proxy_port} 已被占用")
    prefix = conf.parent
    cmd = [nginx, "-p", str(prefix), "-c", str(conf), "-g", f"daemon off; pid {prefix / 'nginx.pid'};"]
    proc = procs.start(cmd, prefix / "logs" / "stdout.log")
    wait_http(f"http://127.0.0.1:{proxy_port}/_stcore/health", 30, proc)
    return proc


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def report(results: dict, cpu: float | None, rss: list[float | None], args, wall: float) -> dict:
    rows, failures = [], {}
    for action, values in sorted(results.items()):
        if action.endswith(":failed"):
            failures[action[:-7]] = values
            continue
        again = [x["s"] for x in SAMPLES if x["action"] == action and not x["first"]]
        rows.append({"action": action, "n": len(values), "p50_s": round(statistics.median(values), 3),
                     "p95_s": round(percentile(values, 0.95), 3), "max_s": round(max(values), 3),
                     "first_asks": len(values) - len(again),
                     "p95_again_s": round(percentile(again, 0.95), 3) if again else None})
    every = [v for a, vs in results.items() if not a.endswith(":failed") for v in vs]
    actions = len(every)
    summary = {
        "scenario": args.scenario, "users": args.users, "replicas": args.replicas, "wall_s": round(wall, 1),
        "actions": actions, "failed": sum(len(v) for v in failures.values()),
        "p95_all_s": round(percentile(every, 0.95), 3) if every else None,
        "app_cpu_s": round(cpu, 1) if cpu is not None else None,
        "app_cpu_per_action_s": round(cpu / actions, 3) if cpu is not None and actions else None,
        "peak_rss_mb": rss, "rows": rows, "failures": {k: v[:5] for k, v in failures.items()},
        "load_average": _loadavg(), "samples": SAMPLES,
    }
    print(f"\n场景 {args.scenario}: {args.users} 个会话, {args.replicas} 个进程, 用时 {wall:.1f} s, "
          f"{actions} 次操作, 失败 {summary['failed']}")
    print(f"{'操作':<10}{'次数':>6}{'p50 s':>9}{'p95 s':>9}{'max s':>9}{'首次':>6}{'再次 p95':>10}")
    for r in rows:
        again = f"{r['p95_again_s']:>10.3f}" if r["p95_again_s"] is not None else f"{'—':>10}"
        print(f"{r['action']:<10}{r['n']:>6}{r['p50_s']:>9.3f}{r['p95_s']:>9.3f}{r['max_s']:>9.3f}"
              f"{r['first_asks']:>6}{again}")
    if every:
        print(f"{'全部':<10}{actions:>6}{statistics.median(every):>9.3f}{summary['p95_all_s']:>9.3f}{max(every):>9.3f}")
    if cpu is not None:
        print(f"应用 CPU {cpu:.1f} s, 每次操作 {summary['app_cpu_per_action_s']} s; 峰值内存 {rss} MB")
    for action, errs in failures.items():
        print(f"失败 {action}: {len(errs)} 次, 例如 {errs[0]}")
    return summary


async def cpu_walk(world: World, args, pids: list[int]) -> dict:
    """One user alone, action after action: the app's CPU seconds for each (robust to the machine's load).
    Two passes over the same views: the first fills the data cache (a first ask), the second finds it filled."""
    rows: dict[str, list[float]] = {}
    towns = world.towns[1: args.towns + 1]  # the warm-up opened the first

    async def measured(label: str, coro) -> None:
        before = cpu_seconds(_tree(pids))
        start = time.perf_counter()
        await coro
        await asyncio.sleep(0.05)  # the last messages leave the server
        rows.setdefault(f"{label}|cpu", []).append(cpu_seconds(_tree(pids)) - before)
        rows.setdefault(f"{label}|wall", []).append(time.perf_counter() - start)

    for pass_name in ("首次", "再次"):
        for code, name in towns:
            village = next(v for v in world.villages if v.startswith(code[:9]))
            s = Session(world.base, world.origin)
            await s.connect()
            await measured(f"{pass_name}|打开总览", s.rerun("", {"region": world.root, "year": world.year}))
            await measured(f"{pass_name}|切换乡镇", change_town(s, code, name))
            await measured(f"{pass_name}|村级地图", s.rerun("map", {"region": code, "year": world.year}))
            await measured(f"{pass_name}|下钻村档案", s.rerun("village", {"region": village, "year": world.year}))
            await measured(f"{pass_name}|查询", s.rerun("query", {"region": code, "year": world.year,
                                                                "main_cause": "因病", "page": 2}))
            await s.close()
    table = []
    print(f"\n每次操作的应用 CPU(单用户逐个操作,{len(towns)} 个乡镇,两遍), 秒")
    print(f"{'':<6}{'操作':<10}{'CPU 均值':>10}{'CPU 中位':>10}{'用时中位':>10}")
    for key in [k for k in rows if k.endswith("|cpu")]:
        pass_name, action, _ = key.split("|")
        cpu, wall = rows[key], rows[f"{pass_name}|{action}|wall"]
        table.append({"pass": pass_name, "action": action, "n": len(cpu),
                      "cpu_mean_s": round(statistics.mean(cpu), 3), "cpu_median_s": round(statistics.median(cpu), 3),
                      "wall_median_s": round(statistics.median(wall), 3)})
        t = table[-1]
        print(f"{pass_name:<6}{action:<10}{t['cpu_mean_s']:>10.3f}{t['cpu_median_s']:>10.3f}{t['wall_median_s']:>10.3f}")
    for pass_name in ("首次", "再次"):
        every = [v for k, vs in rows.items() if k.startswith(pass_name) and k.endswith("|cpu") for v in vs]
        print(f"{pass_name:<6}{'全部':<10}{statistics.mean(every):>10.3f}")
    return {"scenario": "cpu", "towns": len(towns), "rows": table, "load_average": _loadavg()}


async def drive(world: World, args) -> tuple[dict, float]:
    results: dict = {}
    rng = random.Random(args.seed)
    start = time.monotonic()
    T0[0] = time.perf_counter()
    if args.scenario == "meeting":
        tasks = [meeting_user(world, results, random.Random(rng.random()), rng.uniform(0, args.spread))
                 for _ in range(args.users)]
    else:
        until = start + args.duration
        tasks = [steady_user(world, results, random.Random(rng.random()), until, args.think)
                 for _ in range(args.users)]
    await asyncio.gather(*tasks)
    return results, time.monotonic() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'county.db'}")
    ap.add_argument("--url", help="an app already running (http://host:port); nothing is started")
    ap.add_argument("--scenario", choices=("steady", "meeting", "cpu"), default="steady")
    ap.add_argument("--towns", type=int, default=8, help="cpu: townships walked (each: the five actions)")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=float, default=120.0, help="steady: seconds of activity")
    ap.add_argument("--think", type=float, default=10.0, help="steady: mean seconds between a user's actions")
    ap.add_argument("--spread", type=float, default=10.0, help="meeting: all sessions open within this")
    ap.add_argument("--replicas", type=int, choices=(1, 2), default=1)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    root, towns, year = regions(args.db, 1000)
    towns = list(dict.fromkeys(towns))
    villages = village_codes(args.db)
    procs = Processes()
    pids: list[int] = []
    try:
        if args.url:
            base_http = args.url.rstrip("/")
        else:
            for port in APP_PORTS[: args.replicas]:
                pids.append(start_app(procs, port, args.db, "serve.py").pid)
            if args.replicas == 2:
                start_nginx(procs, nginx_conf(APP_PORTS, PROXY_PORT), PROXY_PORT)
                base_http = f"http://127.0.0.1:{PROXY_PORT}"
            else:
                base_http = f"http://127.0.0.1:{APP_PORTS[0]}"
        world = World(base_http.replace("http", "ws", 1), base_http, root, towns, villages, year)
        # warm-up, not counted: one user opens every page once in every app process (module imports, first
        # cache fill). Each replica directly: through nginx a cookie-less websocket lands on a random replica,
        # and a replica left cold made its first visitors wait for the imports (p95 8.9 s instead of 1.8 s).
        warm: dict = {}
        bases = [f"http://127.0.0.1:{port}" for port in APP_PORTS[: args.replicas]] if pids else [base_http]
        for base in bases:
            asyncio.run(_warm(World(base.replace("http", "ws", 1), base, root, towns, villages, year), warm))
        print(f"负载 {_loadavg()}")
        if args.scenario == "cpu":
            if not pids:
                raise SystemExit("--scenario cpu 需要本脚本启动的应用(不能用 --url)")
            summary = asyncio.run(cpu_walk(world, args, pids))
            summary["peak_rss_mb"] = [peak_rss_mb(p) for p in pids]
            if args.out:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
            return
        cpu0 = cpu_seconds(_tree(pids)) if pids else None
        results, wall = asyncio.run(drive(world, args))
        cpu = cpu_seconds(_tree(pids)) - cpu0 if pids else None
        rss = [peak_rss_mb(p) for p in pids]
        summary = report(results, cpu, rss, args, wall)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        procs.stop_all()


async def _warm(world: World, results: dict) -> None:
    s = await open_overview(world, random.Random(0))
    code, name = world.towns[0]
    await timed(results, "warm", change_town(s, code, name))
    village = next(v for v in world.villages if v.startswith(code[:9]))
    for page in ("map", "village", "query"):
        region = code if page != "village" else village
        await timed(results, "warm", s.rerun(page, {"region": region, "year": world.year}))
    await s.close()
    SEEN.update({("打开总览", world.root), ("切换乡镇", code), ("村级地图", code), ("下钻村档案", village),
                 ("查询", code)})
    if any(k.endswith(":failed") for k in results):
        raise SystemExit(f"预热失败: {results}")


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _tree(pids: list[int]) -> list[int]:
    from bench.concurrency import descendants

    out = list(pids)
    for pid in pids:
        out += descendants(pid)
    return out


if __name__ == "__main__":
    main()
