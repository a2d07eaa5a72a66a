"""Browser test harness: a real ``streamlit run app.py`` driven by Debian's Chromium.

Modelled on Streamlit's own e2e suite (e2e_playwright/conftest.py): the app
runs as a subprocess on a free port, health is polled on ``/_stcore/health``,
and "the app has settled" means

    [data-testid='stApp'][data-test-connection-state='CONNECTED']   websocket up
    [data-testid='stApp'][data-test-script-state='notRunning']      script run over
    no stSkeleton / stSpinner / stStatusWidgetRunningIcon           nothing pending

(``data-test-script-state`` reads ``initial`` until the first run starts, then
``running`` / ``rerunRequested`` / ``notRunning``; checked in Streamlit 1.67's
frontend bundle.) Nothing here sleeps on the clock: waits are on DOM state, on
the app's websocket messages or on animation frames.

Helpers for tests: ``open_app``, ``wait_for_app_loaded``, ``wait_for_rerun``,
``assert_same_origin``, ``assert_no_app_errors``, ``screenshot``, ``expect``
(playwright's, imported lazily: import it from here, not from playwright).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode, urlsplit

from tests.helpers import worker_id

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOT_DIR = ARTIFACTS / "screenshots"
LOG_DIR = ARTIFACTS / "logs"
APP_SCRIPT = "serve.py"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 720}
VIEWPORT_HD = {"width": 1920, "height": 1080}

SERVER_START_TIMEOUT_S = 60
APP_LOAD_TIMEOUT_MS = 90_000  # generous: a loaded 2-core machine; waits end as soon as the state is reached

APP_VIEW = "[data-testid='stAppViewContainer']"
APP_CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
APP_SETTLED = "[data-testid='stApp'][data-test-script-state='notRunning']"
PENDING = (
    "[data-testid='stSkeleton'], [data-testid='stSpinner'], "
    "[data-testid='stStatusWidgetRunningIcon'], "
    ".st-key-first-paint-continue"  # a fresh browser: the headline before the page (components.first_paint)
)
EXCEPTION = "[data-testid='stException']"
ERROR_ALERT = "[data-testid='stAlertContentError']"


# ---- the app server --------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``python -m streamlit run app.py`` from the repo root on a free port.

    Under pytest-xdist several workers start servers at once: the server counts as up only when
    /_stcore/health answers *and* its own log says it listens on the port (else the answer may
    come from another worker's server that took the port first).
    """

    def __init__(self, env: dict[str, str] | None = None, *, script: str = APP_SCRIPT,
                 cwd: Path = ROOT, name: str = "app"):
        self.env = dict(env or {})
        self.script = script
        self.cwd = Path(cwd)
        self.name = name
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "streamlit", "run", self.script,
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
            "--global.developmentMode", "false",
        ]

    def start(self, attempts: int = 3) -> "AppServer":
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        last = ""
        for _ in range(attempts):  # a fresh port each time: another process may win the race
            self.port = free_port()
            self.log_path = LOG_DIR / f"streamlit-{worker_id()}-{self.name}-{self.port}.log"
            # The app's settings come only from ``env``: none of the caller's REGISTRY_*
            # variables (a sign-in secret, another database) leaks into the test app.
            env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
            env.update({"STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "PYTHONUNBUFFERED": "1", **self.env})
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    self.command(), cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )
            try:
                self.wait_healthy()
                return self
            except RuntimeError as exc:
                last = str(exc)
                self.stop()
        raise RuntimeError(f"Streamlit 未能启动({attempts} 次尝试):{last}")

    def listening(self) -> bool:
        """Our process has bound the port (Streamlit prints the URL once it listens)."""
        return f"URL: {self.base_url}" in self.log_text()

    def wait_healthy(self, timeout: float = SERVER_START_TIMEOUT_S) -> None:
        url = f"{self.base_url}/_stcore/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200 and resp.read().strip() == b"ok" and self.listening():
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)  # polling a subprocess we cannot observe otherwise
        raise RuntimeError(f"{url} not ok after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path else ""

    def terminate(self) -> None:
        """Ask the server to end (SIGTERM to its process group); ``stop`` waits for it."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """End the server: SIGTERM, then SIGKILL if it is still there after 10 s (noted in its log)."""
        self.terminate()
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write("[harness] no exit 10 s after SIGTERM: SIGKILL\n")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# ---- the browser -----------------------------------------------------------


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@dataclass(frozen=True)
class Request:
    kind: str  # "http" or "websocket"
    method: str
    url: str
    resource_type: str

    def __str__(self) -> str:
        return f"{self.kind} {self.method} {self.url} ({self.resource_type})"


class RequestLog(list):
    """Every request of the pages it is attached to, websockets included."""

    def attach(self, page) -> None:
        page.on("request", lambda r: self.append(Request("http", r.method, r.url, r.resource_type)))
        page.on("websocket", lambda ws: self.append(Request("websocket", "GET", ws.url, "websocket")))

    @property
    def urls(self) -> list[str]:
        return [r.url for r in self]


_SCHEME_EQUIV = {"ws": "http", "wss": "https"}
_LOCAL_SCHEMES = {"data", "about", "chrome-error"}


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of a URL (ws/wss as http/https), None for local-only URLs."""
    if url.startswith("blob:"):
        url = url[5:]
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _LOCAL_SCHEMES:
        return None
    scheme = _SCHEME_EQUIV.get(scheme, scheme)
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def outside_requests(requests, base_url: str) -> list:
    own = origin_of(base_url)
    return [r for r in requests if origin_of(getattr(r, "url", r)) not in (None, own)]


def assert_same_origin(requests, base_url: str) -> None:
    """Fail when any recorded request went to another origin than the app's."""
    __tracebackhide__ = True
    assert requests, "no request was recorded: is the request log attached to the page?"
    foreign = outside_requests(requests, base_url)
    assert not foreign, (
        f"{len(foreign)} request(s) left the app's origin {origin_of(base_url)}:\n"
        + "\n".join(f"  {r}" for r in foreign[:30])
    )


def expect(*args, **kwargs):
    """``playwright.sync_api.expect``, imported lazily so that collecting the
    browser tests never needs playwright (without it they are skipped)."""
    from playwright.sync_api import expect as _expect

    return _expect(*args, **kwargs)


# ---- waiting ---------------------------------------------------------------

_stream_sockets: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def track_page(page, requests: RequestLog | None = None, errors: list | None = None) -> None:
    """Record requests and uncaught page errors; remember the app's websocket."""
    if requests is not None:
        requests.attach(page)
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_ws(ws):
        if ws.url.endswith("/_stcore/stream"):
            _stream_sockets[page] = ws

    page.on("websocket", on_ws)


def _next_frames(page) -> None:
    """Let the browser commit and paint what it has (two animation frames)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def wait_for_app_settled(page, timeout: int = APP_LOAD_TIMEOUT_MS) -> None:
    """Connected, the script run over, and nothing pending on the page."""
    page.wait_for_selector(APP_CONNECTED, state="attached", timeout=timeout)
    page.wait_for_selector(APP_SETTLED, state="attached", timeout=timeout)
    expect(page.locator(PENDING)).to_have_count(0, timeout=timeout)
    _next_frames(page)
    # The state may have flipped again while we looked (e.g. st.rerun): check it once more.
    page.wait_for_selector(APP_SETTLED, state="attached", timeout=timeout)


def wait_for_app_loaded(page, timeout: int = APP_LOAD_TIMEOUT_MS) -> None:
    """After a navigation: the app view is there and the first run has settled."""
    page.wait_for_selector(APP_VIEW, state="attached", timeout=timeout)
    wait_for_app_settled(page, timeout)


def _is_run_end(payload) -> bool:
    if isinstance(payload, str):
        return False
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    try:
        msg = ForwardMsg.FromString(payload)
    except Exception:  # not a ForwardMsg: ignore
        return False
    return msg.WhichOneof("type") == "script_finished" and (
        msg.script_finished != ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
    )


def wait_for_rerun(page, action: Callable[[], object], timeout: int = APP_LOAD_TIMEOUT_MS):
    """Do ``action`` (a click, a fill...) and wait for the rerun it causes to finish.

    Waits for the server's ``script_finished`` message on the app's websocket
    (a run cut short by another rerun does not count), then for the page to settle.
    The page must come from the ``page`` fixture (or have been passed to
    ``track_page`` before opening the app).
    """
    ws = _stream_sockets.get(page)
    if ws is None:
        raise RuntimeError("wait_for_rerun: page not tracked or app not opened (use the page fixture + open_app)")
    with ws.expect_event("framereceived", predicate=_is_run_end, timeout=timeout):
        result = action()
    wait_for_app_settled(page, timeout)
    return result


# ---- opening, checking, screenshots -----------------------------------------


def app_url(base_url: str, path: str = "", **query) -> str:
    url = base_url.rstrip("/") + "/" + path.lstrip("/")
    if query:
        url += "?" + urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)
    return url


def open_app(page, base_url: str, path: str = "", *, viewport: dict | None = None,
             wait: bool = True, **query):
    """Open ``base_url/path?query`` and wait until the app has settled. Returns the page."""
    if viewport:
        page.set_viewport_size(viewport)
    url = app_url(base_url, path, **query)
    response = page.goto(url, wait_until="domcontentloaded", timeout=APP_LOAD_TIMEOUT_MS)
    assert response is not None and response.ok, f"GET {url} -> {response and response.status}"
    if wait:
        wait_for_app_loaded(page)
    return page


def open_app_hd(page, base_url: str, path: str = "", **query):
    """``open_app`` at 1920×1080."""
    return open_app(page, base_url, path, viewport=VIEWPORT_HD, **query)


def app_errors(page) -> list[str]:
    """Texts of exceptions and st.error boxes on the page."""
    texts = []
    for sel in (EXCEPTION, ERROR_ALERT):
        texts += [t.strip()[:500] for t in page.locator(sel).all_inner_texts()]
    texts += [t.strip()[:200] for t in page.locator('[role="dialog"]').all_inner_texts()
              if "Page not found" in t or "页面不存在" in t]  # Streamlit's modal for a URL path no page has
    return texts


def assert_no_app_errors(page) -> None:
    __tracebackhide__ = True
    errors = app_errors(page)
    assert not errors, "the page shows errors:\n" + "\n---\n".join(errors)


# Streamlit's own English (widgets, toolbars, notices): none may reach the screen (components/shell/client.py).
STREAMLIT_ENGLISH = (
    "Drag and drop", "per file", "Browse files", "Upload", "Select all", "Deselect all", "Choose an option",
    "No results", "Clear all", "Remove", "Page not found", "Running the app", "main page", "Show data",
    "Download as", "Copy Vega", "Vega-Lite", "Fullscreen", "Search", "Show/hide", "Sort ascending", "Stop",
    "Running...", "Main menu", "Collapse sidebar", "Copy to clipboard", "Link to heading", "Help for",
    "Press Enter", "Skip to main content", "App pages", "This app has encountered an error", "Ask Google",
    "Ask ChatGPT",
)


# What a user can read: the visible text (icon ligatures such as ``upload`` are glyphs, not words), tooltips
# (title), placeholders and the labels of buttons and inputs, one string.
SCREEN_TEXT_JS = """() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!el || el.closest('script, style, [data-testid="stIconMaterial"], svg')) continue;
        out.push(n.nodeValue);
    }
    for (const el of document.querySelectorAll('[title], [placeholder], button[aria-label], input[aria-label]')) {
        if (el.closest('svg')) continue;
        out.push(el.getAttribute('title') || '', el.getAttribute('placeholder') || '',
                 el.getAttribute('aria-label') || '');
    }
    return out.join('\\n');
}"""


def english_in(text: str) -> list[str]:
    """Streamlit's default English phrases found in ``text``."""
    return [w for w in STREAMLIT_ENGLISH if w in text]


def english_on_screen(page) -> list[str]:
    """Streamlit's default English phrases in what a user can read (``SCREEN_TEXT_JS``)."""
    return english_in(page.evaluate(SCREEN_TEXT_JS))


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-\[\]]+", "_", name).strip("_") or "screenshot"


def screenshot(page, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG to artifacts/screenshots/<name>.png (repo root) and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{_safe(name)}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path
