"""A fresh browser's first figure: where the seconds go between a portal link and the first number on screen.

    python bench/first_figure.py --db sqlite:///bench/out/county.db              # direct, and through nginx
    python bench/first_figure.py --url http://127.0.0.1:8501 --runs 5             # an app already running

Every run is a new Chromium context (empty HTTP cache, as a leader's browser after a portal link) opening the
county overview. Per run it records, from the navigation's start: the HTML's arrival, DOMContentLoaded, the
websocket's opening, and the first ``st.metric`` value visible (the first figure); and the bytes on the wire
(Chrome's encoded sizes, so compression counts) and the number of requests. With ``--db`` it starts the app
(``streamlit run serve.py``) and nginx with deploy/nginx.conf in front (gzip and the /static/ cache), and
measures both; a warm-up run first (module imports and the server's first cache fill are not the browser's
wait). Prints the medians and writes JSON with ``--out``.
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
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

FIRST_FIGURE = "[data-testid='stMetricValue']"
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
    page.on("websocket", lambda ws: marks.setdefault("websocket_s", time.perf_counter() - start))
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_selector(FIRST_FIGURE, state="visible", timeout=TIMEOUT_MS)
    marks["first_figure_s"] = time.perf_counter() - start
    nav = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        return {html: n.responseEnd / 1000, dom: n.domContentLoadedEventEnd / 1000}; }""")
    page.wait_for_timeout(300)  # late responses of the same load
    result = {"html_s": nav["html"], "dom_ready_s": nav["dom"], **marks,
              "kb_on_wire": round(sum(sizes) / 1024), "requests": len(sizes)}
    context.close()
    return result


def measure(browser, label: str, url: str, runs: int) -> dict:
    one_run(browser, url)  # warm-up
    rows = [one_run(browser, url) for _ in range(runs)]
    med = {k: round(statistics.median(r[k] for r in rows if k in r), 3) for k in rows[0]}
    print(f"{label:<12}" + "".join(f"{med.get(k, float('nan')):>12}" for k in KEYS))
    return {"label": label, "url": url, "median": med, "runs": rows}


KEYS = ("html_s", "dom_ready_s", "websocket_s", "first_figure_s", "kb_on_wire", "requests")


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'county.db'}")
    ap.add_argument("--url", help="measure an app already running; nothing is started")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    procs = Processes()
    targets: list[tuple[str, str]] = []
    try:
        if args.url:
            targets.append(("given", args.url))
        else:
            start_app(procs, APP_PORTS[0], args.db, "serve.py")
            start_app(procs, APP_PORTS[1], args.db, "serve.py")
            start_nginx(procs, nginx_conf(APP_PORTS, PROXY_PORT), PROXY_PORT)
            targets += [("direct", f"http://127.0.0.1:{APP_PORTS[0]}/"), ("nginx", f"http://127.0.0.1:{PROXY_PORT}/")]
        print(f"{'':<12}" + "".join(f"{k:>12}" for k in KEYS))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            out = [measure(browser, label, url, args.runs) for label, url in targets]
            browser.close()
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
