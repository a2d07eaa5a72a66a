"""An import killed at any moment (SIGKILL: no handler runs) loses nothing (issue 24: "12 SIGKILLs during import
with nothing lost" held before and must keep holding): afterwards the data tables are exactly as before the run
or exactly as after a complete run, never in between, and the next import runs (no lock or half-written state
is left behind; checked after the first kill that left the data as before). Four kills per backend, spread over
the run's own measured duration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from data_access import db
from data_access.importer import samples as S
from tests.helpers import ROOT, snapshot

KILL_AT = (0.3, 0.55, 0.8, 0.95)  # fractions of a complete run's wall time


def data_tables(engine) -> dict:
    """The registry's rows; the summaries are left out (a refresh may or may not have followed, and a summary
    whose version is not the data's is never read: tests/test_summary.py)."""
    return {name: rows for name, rows in snapshot(engine).items() if not name.startswith("summary")}


def every_phone_changed(engine) -> tuple[list[str], list[list]]:
    """The county's person list with every 人联系电话 changed: an import that rewrites thousands of rows."""
    headers, rows = S.sheet_from_db(engine, "persons")
    phone = headers.index("人联系电话")
    for i, row in enumerate(rows):
        row[phone] = f"139{i:08d}"
    return headers, rows


def cli(url: str, path, **popen):
    return subprocess.Popen([sys.executable, "-m", "data_access", "import", str(path), "--db", url],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_a_killed_import_leaves_the_data_as_before_or_as_after(tmp_path, cloner, import_base_url):
    done_url = cloner(import_base_url, "kill_done")
    done_engine = db.get_engine(done_url)
    before = data_tables(done_engine)
    headers, rows = every_phone_changed(done_engine)
    path = tmp_path / "人员.xlsx"
    path.write_bytes(S.xlsx_bytes([("人员", headers, rows)]))

    started = time.monotonic()
    out, err = cli(done_url, path).communicate(timeout=600)
    took = time.monotonic() - started
    assert "Traceback" not in out + err, err
    after = data_tables(done_engine)
    assert after != before  # the run changes data, so a kill has something to cut short

    outcomes = []
    for fraction in KILL_AT:
        url = cloner(import_base_url, "kill")
        proc = cli(url, path)
        time.sleep(took * fraction)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        engine = db.get_engine(url)
        now = data_tables(engine)
        assert now in (before, after), f"killed at {fraction:.0%} of {took:.1f} s: the data are half-written"
        if now == before and "before" not in outcomes:
            # the next import runs and completes (no lock, no half state left behind); once is proof enough
            out, err = cli(url, path).communicate(timeout=600)
            assert "Traceback" not in out + err, err
            assert data_tables(engine) == after
        outcomes.append("before" if now == before else "after")
        engine.dispose()
    print(f"import {took:.1f} s; killed at {KILL_AT}: {outcomes}")
    assert "before" in outcomes, outcomes  # at least one kill landed inside the run
