"""A fresh browser's first figure: where the seconds go between a portal link and the first number on screen.

    python bench/first_figure.py --db sqlite:///bench/out/county.db              # direct, and through nginx
    python bench/first_figure.py --url http://127.0.0.1:8501 --runs 5             # an app already running
    python bench/first_figure.py --url a=http://127.0.0.1:8501 --url b=http://127.0.0.1:8502   # two, alternating

Every run is a new Chromium context (empty HTTP cache, as a leader's browser after a portal link) opening the
county overview. Per run it records, from the navigation's start: the HTML's arrival, DOMContentLoaded, the
websocket's opening, the first ``st.metric`` value visible to Playwright (``first_figure_s``) and, in the
page's own clock, the frame that painted it (``first_paint_s``: the first figure on screen); and the bytes on the wire
(Chrome's encoded sizes, so compression counts) and the number of requests. With ``--db`` it starts the app
(``streamlit run serve.py``) and nginx with deploy/nginx.conf in front (gzip and the /static/ cache), and
measures both, the runs alternating between them (the same machine load for both); warm-up runs first (module
imports and the server's first cache fill are not the browser's wait). ``script_run_s`` is when the server's
"script finished" message arrived: what comes after it is the browser's own work (JavaScript chunks loaded on
demand, parsing, layout, charts). Prints the medians and writes JSON with ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.concurrency import Processes, start_app  # noqa: E402
from bench.load import APP_PORTS, PROXY_PORT, nginx_conf, start_nginx  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

FIRST_FIGURE = "[data-testid='stMetricValue']"
# The page's own clock (ms from navigation start) at the frame after the one that first laid out a figure with a
# size: when it was on screen. Playwright's "visible" check runs on the same main thread, so while the browser
# parses the next run's chart code it reports the figure later than it was painted (first_figure_s).
PAINT_MARK_JS = """
(() => {
  const frame = () => {  // once per frame, before it is painted
    const el = document.querySelector("%s");
    if (el && el.getBoundingClientRect().height > 0) {  // in this frame: painted by the next one
      requestAnimationFrame(() => { window.__firstFigurePainted = performance.now(); });
      return;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();
""" % FIRST_FIGURE
TIMEOUT_MS = 120_000


def one_run(browser, url: str) -> dict:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: list[int] = []
    cdp.on("Network.loadingFinished", lambda e: sizes.append(int(e.get("encodedDataLength", 0))))
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def on_websocket(ws):
        marks.setdefault("websocket_s", time.perf_counter() - start)

        def frame(payload):  # the server's "script finished" message: the run is over, the rest is the browser's
            if "script_run_s" in marks or isinstance(payload, str):
                return
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "script_finished":
                marks["script_run_s"] = time.perf_counter() - start
        ws.on("framereceived", frame)

    page.on("websocket", on_websocket)
    page.add_init_script(PAINT_MARK_JS)
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_selector(FIRST_FIGURE, state="visible", timeout=TIMEOUT_MS)
    marks["first_figure_s"] = time.perf_counter() - start
    page.wait_for_function("() => window.__firstFigurePainted !== undefined", timeout=TIMEOUT_MS)
    nav = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        return {html: n.responseEnd / 1000, dom: n.domContentLoadedEventEnd / 1000,
                painted: window.__firstFigurePainted / 1000}; }""")
    page.wait_for_timeout(300)  # late responses of the same load
    result = {"html_s": nav["html"], "dom_ready_s": nav["dom"], **marks, "first_paint_s": nav["painted"],
              "kb_on_wire": round(sum(sizes) / 1024), "requests": len(sizes)}
    context.close()
    return result


def measure(browser, targets: list[tuple[str, str]], runs: int) -> list[dict]:
    """Runs alternate between the targets (direct, nginx, direct, ...) so that both see the same machine load."""
    rows: dict[str, list[dict]] = {label: [] for label, _ in targets}
    for _ in range(runs):
        for label, url in targets:
            rows[label].append(one_run(browser, url))
    out = []
    for label, url in targets:
        keys = [k for k in KEYS if any(k in r for r in rows[label])]
        med = {k: round(statistics.median(r[k] for r in rows[label] if k in r), 3) for k in keys}
        print(f"{label:<12}" + "".join(f"{med.get(k, float('nan')):>14}" for k in KEYS))
        out.append({"label": label, "url": url, "median": med, "runs": rows[label]})
    return out


KEYS = ("html_s", "dom_ready_s", "websocket_s", "script_run_s", "first_figure_s", "first_paint_s", "kb_on_wire",
        "requests")


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'county.db'}")
    ap.add_argument("--url", action="append", metavar="[LABEL=]URL",
                    help="measure an app already running; nothing is started (repeat it: the runs alternate)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    procs = Processes()
    targets: list[tuple[str, str]] = []
    try:
        if args.url:
            for given in args.url:
                label, url = given.split("=", 1) if not given.startswith("http") else ("given", given)
                targets.append((label, url))
        else:
            start_app(procs, APP_PORTS[0], args.db, "serve.py")
            start_app(procs, APP_PORTS[1], args.db, "serve.py")
            start_nginx(procs, nginx_conf(APP_PORTS, PROXY_PORT), PROXY_PORT)
            targets += [("direct", f"http://127.0.0.1:{APP_PORTS[0]}/"), ("nginx", f"http://127.0.0.1:{PROXY_PORT}/")]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            # warm-up, not counted: every app process's imports and first cache fill, and nginx's /static/ cache
            warm = [url for _, url in targets] if args.url else [f"http://127.0.0.1:{p}/" for p in APP_PORTS]
            for url in warm + [url for _, url in targets]:
                one_run(browser, url)
            print(f"负载 {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
            print(f"{'':<12}" + "".join(f"{k:>14}" for k in KEYS))
            out = {"load_average_start": Path("/proc/loadavg").read_text().split()[:3],
                   "targets": measure(browser, targets, args.runs)}
            out["load_average_end"] = Path("/proc/loadavg").read_text().split()[:3]
            print(f"负载 {' '.join(out['load_average_end'])}")
            browser.close()
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
