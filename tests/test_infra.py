"""The test infrastructure itself: demo databases, PostgreSQL, helpers, scripts."""

from __future__ import annotations

import re
import sqlite3
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy import inspect

from data_access import db, schema
from data_access.scope import Scope
from tests.browser.harness import AppServer, assert_same_origin, origin_of, outside_requests
from tests.helpers import worker_id

ROOT = Path(__file__).resolve().parent.parent
COUNTY = "523199000000"


def test_registry_url_is_the_backend_its_id_says(registry_backend, registry_url, registry_engine):
    assert registry_engine.dialect.name == registry_backend
    assert registry_url.startswith(registry_backend)


def test_demo_database_passes_the_apps_own_check(registry_engine):
    meta = db.check_database(registry_engine)
    assert meta["schema_version"] == str(schema.SCHEMA_VERSION)


def test_demo_database_has_every_table(registry_engine):
    tables = set(inspect(registry_engine).get_table_names())
    assert set(schema.metadata.tables) <= tables


def test_demo_county_row(sql, registry_engine, county_scope):
    q = sql(registry_engine)
    assert q.rows("SELECT level, parent_code FROM region WHERE code = :c", c=COUNTY) != []
    level, = q.rows("SELECT level FROM region WHERE code = :c", c=COUNTY)[0]
    assert level == "county" == county_scope.level
    towns = q.rows("SELECT code FROM region WHERE parent_code = :c AND level = 'town'", c=COUNTY)
    assert towns, "the demo county has no towns"
    assert all(Scope.of(code).within(county_scope) for code, in towns)


def test_demo_county_has_households(sql, registry_engine):
    q = sql(registry_engine)
    n = q.scalar("SELECT count(*) FROM household WHERE county_code = :c", c=COUNTY)
    assert n > 0
    # every household lies inside its own town and village codes
    bad = q.scalar(
        "SELECT count(*) FROM household WHERE substr(village_code, 1, 9) <> substr(town_code, 1, 9)"
        " OR substr(town_code, 1, 6) <> substr(county_code, 1, 6)"
    )
    assert bad == 0


def _fingerprint(q) -> dict:
    return {
        "regions": q.rows("SELECT level, count(*) FROM region GROUP BY level ORDER BY level"),
        "households": q.rows("SELECT town_code, kind, count(*), sum(member_count) FROM household"
                             " GROUP BY town_code, kind ORDER BY town_code, kind"),
        "persons": q.scalar("SELECT count(*) FROM person"),
        "hh_ids": q.rows("SELECT hh_id FROM household ORDER BY hh_id LIMIT 20"),
    }


@pytest.mark.postgresql
def test_generation_is_the_same_on_both_backends(make_db, sql):
    on_sqlite = _fingerprint(sql(make_db("small", 7, backend="sqlite")))
    on_pg = _fingerprint(sql(make_db("small", 7, backend="postgresql")))
    assert on_sqlite["households"], "no households generated"
    assert on_sqlite == on_pg


def test_generation_depends_on_the_seed(make_db, sql):
    a = _fingerprint(sql(make_db("small", 7)))
    b = _fingerprint(sql(make_db("small", 8)))
    assert a != b


@pytest.mark.postgresql
def test_pg_url_talks_to_postgresql(pg_server_url, sql):
    version = sql(pg_server_url).scalar("SELECT version()")
    assert version.startswith("PostgreSQL "), version


@pytest.mark.postgresql
def test_pg_databases_are_fresh_and_private(pg_database, sql):
    url = pg_database()
    q = sql(url)
    # the worker's name in it: pytest-xdist workers share the server, never a database
    assert re.fullmatch(rf"registry_test_{worker_id()}_[0-9a-f]{{12}}", q.scalar("SELECT current_database()"))
    assert q.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    assert q.scalar("SHOW server_encoding") == "UTF8"


def test_empty_url_is_an_empty_sqlite_file(empty_url):
    path = Path(empty_url.removeprefix("sqlite:///"))
    assert path.is_file()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    with pytest.raises(db.EmptyDatabase):
        db.check_database(db.get_engine(empty_url))


def test_sql_runner_binds_parameters(sql, empty_url):
    q = sql(empty_url)
    q.execute("CREATE TABLE t (k TEXT, v INTEGER)")
    assert q.execute("INSERT INTO t VALUES (:k, :v)", k="甲", v=2) == 1
    assert q.rows("SELECT k, v FROM t WHERE v = :v", v=2) == [("甲", 2)]
    assert q.dicts("SELECT k FROM t") == [{"k": "甲"}]
    assert q.scalar("SELECT count(*) FROM t WHERE k = :k", k="乙") == 0


# ---- browser helpers (no browser needed) -------------------------------------


def test_same_origin_accepts_the_apps_own_traffic():
    base = "http://127.0.0.1:8765"
    own = [
        "http://127.0.0.1:8765/",
        "http://127.0.0.1:8765/static/js/index.js",
        "ws://127.0.0.1:8765/_stcore/stream",
        "blob:http://127.0.0.1:8765/0b6c1f3e",
        "data:image/svg+xml;base64,AAAA",
    ]
    assert outside_requests(own, base) == []
    assert_same_origin(own, base)


@pytest.mark.parametrize("url", [
    "https://fonts.googleapis.com/css2?family=Material+Symbols",
    "https://webhooks.fivetran.com/webhooks/usage",
    "http://localhost:8765/",  # same server, other origin: the app must use relative URLs
    "http://127.0.0.1:8766/",
    "wss://127.0.0.1:8765/_stcore/stream",
    "blob:https://tiles.example.org/abc",
])
def test_same_origin_rejects_anything_else(url):
    base = "http://127.0.0.1:8765"
    assert origin_of(url) != origin_of(base)
    with pytest.raises(AssertionError, match="left the app's origin"):
        assert_same_origin(["http://127.0.0.1:8765/", url], base)


def test_same_origin_refuses_an_empty_log():
    with pytest.raises(AssertionError, match="no request was recorded"):
        assert_same_origin([], "http://127.0.0.1:8765")


# ---- the project's own files ---------------------------------------------------


def test_sqlite_demo_databases_are_this_workers_own(make_db, tmp_path_factory):
    path = Path(make_db("small", 7).removeprefix("sqlite:///"))
    assert tmp_path_factory.getbasetemp() in path.parents  # per xdist worker: popen-gwN


def test_a_server_that_is_not_ours_does_not_count_as_started(tmp_path):
    """Another worker's server answering on the port we picked is not our app."""
    import http.server
    import subprocess
    import sys
    import threading

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    server = AppServer(name="not-ours")
    server.port = other.server_address[1]
    server.log_path = tmp_path / "app.log"
    server.log_path.write_text("", encoding="utf-8")
    server.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(RuntimeError, match="not ok after"):
            server.wait_healthy(timeout=2)
        server.log_path.write_text(f"  URL: {server.base_url}\n", encoding="utf-8")
        server.wait_healthy(timeout=10)  # once our own log says it listens there, it is ours
    finally:
        server.proc.kill()
        server.proc.wait()
        other.shutdown()


def test_requirements_pins_are_what_is_installed():
    wrong = []
    lines = []
    for name in ("requirements.txt", "requirements-test.txt"):
        lines += (ROOT / name).read_text(encoding="utf-8").splitlines()
    for line in lines:
        line = line.split("#")[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==([\w.]+)", line)
        assert m, f"requirements.txt: not an exact pin: {line!r}"
        name, _, version = m.groups()
        installed = metadata.version(name)
        if installed != version:
            wrong.append(f"{name}: pinned {version}, installed {installed}")
    assert not wrong, wrong


def test_locks_pin_pyprojects_dependencies_as_declared():
    """requirements*.txt are compiled from pyproject.toml: a direct dependency changed there without
    `bash scripts/lock.sh` fails here."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def pins(name: str) -> dict[str, str]:
        found = {}
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
            if m:
                found[m[1].lower().replace("_", "-")] = m[2]
        return found

    runtime, test = pins("requirements.txt"), pins("requirements-test.txt")
    assert {k: v for k, v in test.items() if k in runtime} == runtime  # the test lock keeps the runtime pins
    for deps, lock in ((project["dependencies"], runtime), (project["optional-dependencies"]["test"], test)):
        for dep in deps:
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==(\S+)", dep)
            assert m, f"pyproject.toml: not an exact pin: {dep!r}"
            assert lock.get(m[1].lower().replace("_", "-")) == m[3], dep


def test_ci_runs_exactly_the_readme_test_command():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [ln.strip() for ln in run.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert commands[0] == "set -euo pipefail"
    assert commands[-1] == "bash scripts/test.sh"
