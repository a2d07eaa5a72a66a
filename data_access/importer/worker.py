"""``run_import`` in a process of its own, as the 数据管理 page runs it.

Run inside the Streamlit server, a 100,000-person import held that process's interpreter (the GIL) for
about 10 s, so every other user of the replica waited for it, and it ran in a heap fragmented by the
pages' work (the same import 1–1.5 s slower than in a fresh process). Here it runs in a child forked from
a fork server (multiprocessing "forkserver", the importer preloaded, so a child starts in milliseconds
with a clean heap): progress comes back over a pipe, the ``ImportResult`` once the import has committed
(or rolled back), and the child then finishes the summary rebuild before it exits, holding neither the
server nor the caller. A child that dies mid-import leaves the database as it was (its transaction is
never committed) and the caller gets a result that says so.

The command line (``python -m data_access import``) is a fresh process already and calls ``run_import``.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import threading
import time
import traceback
import types
from multiprocessing import forkserver

from sqlalchemy.engine import make_url

from .. import db
from ..progress import Progress
from ..scope import Scope
from . import run

PRELOAD = ["data_access.importer.run"]
_LOCK = threading.Lock()
_CHILDREN: list = []  # children that sent their result and may still be rebuilding the summaries
_context = None
_warmed = False
last_child: dict = {}  # the last child's {"pid", "cpu"}: its CPU seconds up to its result (for bench/)


def isolated(db_url: str) -> bool:
    """Whether an import into ``db_url`` can run in another process: not for an in-memory SQLite database
    (another process would see an empty one of its own), nor where there is no fork (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        name = url.database or ""
        return bool(name) and name != ":memory:" and "mode=memory" not in str(url)
    return True


def _get_context():
    global _context
    with _LOCK:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


def warm_up() -> None:
    """Start the fork server in the background (it imports the importer, ~1 s), so the first import after
    the server starts does not wait for it. Once per process: a fork server that died is restarted by the
    next import itself."""
    global _warmed
    _get_context()
    with _LOCK:
        if _warmed:
            return
        _warmed = True
    threading.Thread(target=forkserver.ensure_running, name="import-forkserver", daemon=True).start()


def run_import_isolated(db_url: str, scope: Scope | None, files: list[tuple[str, bytes]], *,
                        progress: Progress | None = None, **options) -> run.ImportResult:
    """``run.run_import(get_engine(db_url), scope, files, progress=progress, **options)`` in a child process.

    Same arguments and result; the refresh the options ask for ("after" by default) runs in the child.
    If the caller stops waiting (e.g. the page is left), the child still finishes the import, which is
    logged as every import is."""
    if not isolated(db_url):
        return run.run_import(db.get_engine(db_url), scope, files, progress=progress, **options)
    ctx = _get_context()
    _reap()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, db_url, scope, files, options), name="registry-import")
    _start_without_main(child)
    send.close()
    try:
        while True:
            if not receive.poll(0.1):
                if not child.is_alive() and not receive.poll(0):
                    return _died(child, files, options)
                continue
            try:
                kind, *payload = receive.recv()
            except EOFError:
                return _died(child, files, options)
            if kind == "progress":
                if progress is not None:
                    progress(*payload)
            elif kind == "result":
                with _LOCK:
                    _CHILDREN.append(child)
                last_child.update(payload[1])
                return payload[0]
            else:  # "error": an unexpected exception in the importer; its transaction was rolled back
                print(payload[0], file=sys.stderr, flush=True)
                child.join()
                return _failed(files, options, "导入程序内部出错,本次导入已全部撤销,数据库未作任何修改。"
                                               "请把文件与出错时间告知系统管理员。")
    finally:
        receive.close()


def _start_without_main(child) -> None:
    """``child.start()`` with a bare ``__main__``: multiprocessing's children otherwise run the caller's main
    script again (as ``__mp_main__``; for the app that is Streamlit's command line, which imports all of
    Streamlit, ~1 s per import), and the child needs nothing from it (its target is this module's)."""
    with _LOCK:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            child.start()
        finally:
            sys.modules["__main__"] = main


def _child(send, db_url: str, scope: Scope | None, files, options) -> None:
    connected = True

    def tell(message) -> None:
        nonlocal connected
        if connected:
            try:
                send.send(message)
            except OSError:  # the caller stopped listening: the import goes on without it
                connected = False

    try:
        result = run.run_import(db.get_engine(db_url), scope, files,
                                progress=lambda fraction, text: tell(("progress", fraction, text)), **options)
    except BaseException:
        tell(("error", traceback.format_exc()))
        raise
    tell(("result", result, {"pid": os.getpid(), "cpu": time.process_time()}))
    send.close()
    run.wait_for_refresh()  # the summary rebuild ("after") runs in this process's background thread


def _died(child, files, options) -> run.ImportResult:
    child.join()
    return _failed(files, options, f"导入进程意外退出(退出码 {child.exitcode}),本次导入已全部撤销,数据库未作任何修改。")


def _failed(files, options, reason: str) -> run.ImportResult:
    reports = [run.FileReport(name, hashlib.sha256(data).hexdigest(), len(data)) for name, data in files]
    return run.ImportResult(reports, [], {}, bool(options.get("dry_run")), bool(options.get("skip_invalid")),
                            fatal=reason)


def _reap() -> None:
    """Forget (and join) the children that have exited."""
    with _LOCK:
        done = [c for c in _CHILDREN if not c.is_alive()]
        for c in done:
            c.join()
            _CHILDREN.remove(c)


def wait_for_refresh(timeout: float | None = None) -> bool:
    """Wait for the children's summary rebuilds (and this process's own); True when none is left running."""
    with _LOCK:
        children = list(_CHILDREN)
    for c in children:
        c.join(timeout)
    _reap()
    return run.wait_for_refresh(timeout) and not any(c.is_alive() for c in children)
