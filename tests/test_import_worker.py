"""The 数据管理 page's import runs in a process of its own (importer.worker), on both backends: the same rows,
problems and log as run_import in this process; progress comes back; a child that fails or dies leaves the
database as it was and says so in Chinese."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading

import pytest

from data_access import db
from data_access.importer import samples as S, run as importer, worker
from tests.helpers import last_log, problems, snapshot, village_scope


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def mixed_file(engine) -> bytes:
    """One village's people, with a phone changed (a write) and one bad ID number (an error)."""
    headers, rows = S.sheet_from_db(engine, "persons", village_scope(engine))
    c = {h: i for i, h in enumerate(headers)}
    rows[0][c["证件号码"]] = "5.22428E+17"
    for r in rows[1:]:
        if r[c["户编号"]] != rows[0][c["户编号"]]:
            r[c["户联系电话"]] = "13912345678"
    return S.xlsx_bytes([("人员", headers, rows)], title="建档立卡人员名单")


def test_a_child_writes_what_run_import_writes(clone, cloner):
    twin = db.get_engine(cloner(url_of(clone), "import_worker_twin"))
    data = mixed_file(clone)
    assert worker.isolated(url_of(clone))
    here = importer.run_import(twin, None, [("名单.xlsx", data)], user="甲", skip_invalid=True, refresh="no")
    seen = []
    there = worker.run_import_isolated(url_of(clone), None, [("名单.xlsx", data)], user="甲", skip_invalid=True,
                                       refresh="no", progress=lambda f, m: seen.append((f, m)))
    assert there.written and there.rows_written == here.rows_written > 0 and there.rows_rejected > 0
    assert (there.summary(), there.tables, problems(there)) == (here.summary(), here.tables, problems(here))
    assert snapshot(clone) == snapshot(twin)
    log, twin_log = last_log(clone), last_log(twin)
    assert [log[k] for k in ("user_id", "rows_read", "rows_written", "rows_rejected", "file_hash")] == \
        [twin_log[k] for k in ("user_id", "rows_read", "rows_written", "rows_rejected", "file_hash")]
    fractions = [f for f, _ in seen]
    assert seen[0] == (0.0, "读取文件 名单.xlsx") and seen[-1] == (1.0, "完成") and fractions == sorted(fractions)


def test_the_import_runs_in_another_process(clone, monkeypatch):
    """This process's run_import is never called: the child has its own."""
    def not_here(*args, **kwargs):
        raise AssertionError("run_import ran in the caller's process")

    monkeypatch.setattr(importer, "run_import", not_here)
    before = snapshot(clone)
    result = worker.run_import_isolated(url_of(clone), None, [("名单.xlsx", mixed_file(clone))], dry_run=True,
                                        skip_invalid=True)
    assert result.dry_run and not result.written and result.rows_written > 0 and result.errors
    assert worker.last_child["pid"] != os.getpid()
    assert snapshot(clone) == before


def test_a_failing_child_leaves_the_database_as_it_was(clone):
    before = snapshot(clone)
    # an option run_import does not take: the child's call raises; nothing was begun
    result = worker.run_import_isolated(url_of(clone), None, [("名单.xlsx", mixed_file(clone))], no_such_option=1)
    assert result.fatal == "导入程序内部出错,本次导入已全部撤销,数据库未作任何修改。请把文件与出错时间告知系统管理员。"
    assert result.summary().startswith("导入失败:") and not result.written
    assert snapshot(clone) == before


def test_a_child_killed_mid_import_leaves_the_database_as_it_was(clone):
    before = snapshot(clone)
    headers, rows = S.sheet_from_db(clone, "persons")  # the county's people: checking them takes a while
    c = {h: i for i, h in enumerate(headers)}
    for r in rows:
        r[c["户联系电话"]] = "13912345678"
    data = S.xlsx_bytes([("人员", headers, rows)])
    out = {}
    started = threading.Event()

    def say(fraction, message):
        if message == "校验数据":  # the file is read: kill it while it checks (its transaction has begun)
            started.set()

    thread = threading.Thread(target=lambda: out.update(result=worker.run_import_isolated(
        url_of(clone), None, [("名单.xlsx", data)], progress=say)))
    thread.start()
    assert started.wait(60)
    child = next(p for p in multiprocessing.active_children() if p.name == "registry-import")
    os.kill(child.pid, signal.SIGKILL)
    thread.join(60)
    result = out["result"]
    assert result.fatal == f"导入进程意外退出(退出码 {-signal.SIGKILL}),本次导入已全部撤销,数据库未作任何修改。"
    assert snapshot(clone) == before
    again = worker.run_import_isolated(url_of(clone), None, [("名单.xlsx", data)], refresh="no")
    assert again.written and not again.errors  # the next import is not held by the dead one


def test_the_summaries_are_rebuilt_by_the_child_after_it_returns(clone):
    from data_access.summary import read as summary

    result = worker.run_import_isolated(url_of(clone), None, [("名单.xlsx", mixed_file(clone))], skip_invalid=True,
                                        refresh="after")
    assert result.written
    assert worker.wait_for_refresh(120)
    assert summary.fresh(clone)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_is_imported_in_this_process(url):
    assert not worker.isolated(url)


MAIN_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
with open({marks!r}, "a") as f:
    f.write("main ran\\n")
from data_access import db
from data_access.importer import samples as S, worker

if __name__ == "__main__":
    places = S.csv_bytes(*S.sheet_from_db(db.get_engine({source!r}), "places"), encoding="gbk")
    db.create_schema(db.get_engine({target!r}))
    result = worker.run_import_isolated({target!r}, None, [("区划.csv", places)], user="脚本")
    print(result.summary())
"""


def test_the_child_does_not_run_the_callers_main_script_again(sqlite_demo_url, tmp_path):
    """multiprocessing's children re-run the caller's main script; the app's is Streamlit's command line."""
    import subprocess
    import sys
    from pathlib import Path

    marks = tmp_path / "marks.txt"
    script = tmp_path / "main.py"
    script.write_text(MAIN_SCRIPT.format(root=str(Path(__file__).resolve().parent.parent), marks=str(marks),
                                         source=sqlite_demo_url, target=f"sqlite:///{tmp_path / 'new.db'}"))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("已写入数据库:读取 ")
    assert marks.read_text() == "main ran\n"  # once: the caller; not again in the child


def test_a_caller_that_stops_waiting_does_not_stop_the_import(clone):
    """Streamlit stops a page's script (the user went elsewhere) with an exception from the next st call,
    here the progress bar's: the child still imports the file and logs it."""
    from sqlalchemy import text

    class Left(Exception):
        pass

    def leave(fraction, message):
        raise Left

    with clone.connect() as conn:
        runs = conn.execute(text("SELECT COUNT(*) FROM import_log")).scalar()
    with pytest.raises(Left):
        worker.run_import_isolated(url_of(clone), None, [("名单.xlsx", mixed_file(clone))], skip_invalid=True,
                                   refresh="no", progress=leave)
    child = next(p for p in multiprocessing.active_children() if p.name == "registry-import")
    child.join(60)
    assert child.exitcode == 0
    with clone.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM import_log")).scalar() == runs + 1
        assert conn.execute(text("SELECT COUNT(*) FROM household WHERE phone = '13912345678'")).scalar() > 0
