"""Unmasked exports are private to the session that made them (serve.py's ``PrivateDownloadsMiddleware``).

Streamlit serves a download under ``/media/<id>`` to anyone holding the URL, without a session, until its
clean-up drops it (minutes after the tab closed). A 管理员's unmasked file is registered here when it is built
(on the click, as a deferred download); the middleware then serves it only while the session that built it is
connected, and removes it from the media storage ``FETCH_GRACE_S`` after its first complete fetch (the browser's
download manager may ask twice), ``UNFETCHED_TTL_S`` after it was built if never fetched, or at the first request
after the session ended. A second click builds the file again.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time

from streamlit.runtime import Runtime
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.runtime.scriptrunner import get_script_run_ctx

FETCH_GRACE_S = 5
UNFETCHED_TTL_S = 120
_private: dict[str, tuple[str, float]] = {}  # media file id -> (the session that may fetch it, built at)
_lock = threading.Lock()
_MEDIA = re.compile(r"/media/([0-9A-Za-z]+)(?:\.[0-9A-Za-z]+)?$")


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def register(data: bytes, mimetype: str, filename: str, owner: str) -> str:
    """Mark the download Streamlit stores for these bytes as ``owner``'s only; returns its media id."""
    file_id = _calculate_file_id(data, mimetype, filename)
    with _lock:
        _private[file_id] = (owner, time.monotonic())
        while len(_private) > 500:
            _private.pop(next(iter(_private)))
    return file_id


def drop(file_id: str) -> None:
    """Forget a private download and delete it from Streamlit's media storage."""
    with _lock:
        _private.pop(file_id, None)
    if not Runtime.exists():
        return
    manager = Runtime.instance().media_file_mgr
    with manager._lock:
        manager._storage.delete_file(file_id)
        manager._file_metadata.pop(file_id, None)


def _owner_connected(owner: str) -> bool:
    return bool(owner) and Runtime.exists() and Runtime.instance().is_active_session(owner)


class PrivateDownloadsMiddleware:
    """Serve a private download once, to a connected owner session; otherwise 404 and delete it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        match = _MEDIA.search(scope.get("path", "")) if scope["type"] == "http" else None
        with _lock:
            entry = _private.get(match.group(1)) if match else None
        if entry is None:
            await self.app(scope, receive, send)
            return
        file_id, (owner, built) = match.group(1), entry
        if not _owner_connected(owner) or time.monotonic() - built > UNFETCHED_TTL_S:
            drop(file_id)
            await _gone(send)
            return
        status = {}

        async def watch(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if scope.get("method") == "GET" and status.get("code") == 200:
            asyncio.get_running_loop().call_later(FETCH_GRACE_S, drop, file_id)


async def _gone(send) -> None:
    body = "下载链接已失效:未脱敏的导出文件只能在生成它的会话中下载一次。请回到页面重新导出。".encode("utf-8")
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
