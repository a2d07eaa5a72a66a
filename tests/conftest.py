"""Shared fixtures: demo databases on SQLite and PostgreSQL, scope, raw SQL.

Fixtures
- ``registry_url`` (session, params ``sqlite`` / ``postgresql``): URL of a small
  demo database, ``data_access.demo.generate.generate(engine, scale="small", seed=7)``,
  built once per session and backend. Treat it as READ-ONLY; a test that writes
  makes its own database with ``make_db`` (different seed) or ``empty_url``.
- ``registry_engine``: ``data_access.db.get_engine(registry_url)``.
- ``registry_backend``: "sqlite" or "postgresql" (the current param).
- ``demo_summary``: the dict ``generate`` returned for ``registry_url``.
- ``county_scope``: ``Scope.of("523199000000")`` (the demo county).
- ``make_db(scale="small", seed=7, backend="sqlite") -> url``: a demo database,
  cached per (backend, scale, seed) for the session.
- ``pg_database() -> url``: a fresh empty PostgreSQL database (dropped at the end).
- ``empty_url``: URL of an empty SQLite file (function scope).
- ``cloner(url) -> url``: a private writable copy of a database (SQLite backup /
  PostgreSQL ``CREATE DATABASE … TEMPLATE``), dropped at session end.
- ``import_base_url``, ``clone``, ``empty``: the importer tests' seed-11 demo
  database, a writable copy of it, an empty schema (both backends).
- ``sql(engine_or_url)``: raw SQL runner for independent checks::

      q = sql(registry_engine)
      q.scalar("SELECT count(*) FROM household WHERE town_code = :t", t="523199101000")
      q.rows("SELECT kind, count(*) FROM household GROUP BY kind")   # list of tuples
      q.dicts(...)                                                   # list of dicts
- ``q``: ``sql(registry_engine)``.

Under pytest-xdist every worker builds its own databases: SQLite files under
its own basetemp, PostgreSQL databases named ``<prefix>_<worker>_<hex>``.
Shared helper functions are in tests/helpers.py.

Without ``TEST_PG_URL`` the PostgreSQL cases are skipped, except under CI=true
where they fail (nothing needed may be silently skipped in CI).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from tests.helpers import COUNTY_CODE, DEMO_SEED, IN_CI, SqlRunner, demo_module, skip_or_fail, worker_id

try:  # Slow shared machines: database-backed properties must not trip Hypothesis deadlines.
    from hypothesis import settings as _hyp_settings

    _hyp_settings.register_profile("registry", deadline=None, print_blob=True)
    _hyp_settings.load_profile("registry")
except ImportError:  # pragma: no cover
    pass


def pytest_report_header(config):
    pg = os.environ.get("TEST_PG_URL")
    return [
        f"TEST_PG_URL: {pg or '未设置(PostgreSQL 用例将跳过)'}; CI={'true' if IN_CI else 'false'}",
    ]


# ---- raw SQL ---------------------------------------------------------------


@pytest.fixture(scope="session")
def sql():
    from data_access.db import get_engine

    def bind(engine_or_url) -> SqlRunner:
        engine = get_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
        return SqlRunner(engine)

    return bind


@pytest.fixture(scope="session")
def q(sql, registry_engine) -> SqlRunner:
    return sql(registry_engine)


# ---- PostgreSQL ------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get("TEST_PG_URL", "").strip()
    if not url:
        skip_or_fail("PostgreSQL 不可用: 未设置 TEST_PG_URL")
    return url


# scripts/test.sh's own server is removed whole after the run: dropping each database first only costs time
PG_THROWAWAY = os.environ.get("TEST_PG_THROWAWAY") == "1"


@pytest.fixture(scope="session")
def pg_database(pg_server_url):
    """Factory: a new empty database on the test server; all are dropped at session end (unless thrown away)."""
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT", pool_size=1)
    created: list[str] = []

    def create(prefix: str = "registry_test") -> str:
        name = f"{prefix}_{worker_id()}_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
        created.append(name)
        return make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)

    yield create

    from data_access.db import get_engine

    for name in [] if PG_THROWAWAY else created:
        url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ---- demo databases --------------------------------------------------------


class DemoDatabases:
    """Session cache of generated demo databases: (backend, scale, seed) -> url."""

    def __init__(self, request, tmp_path_factory):
        self._request = request
        self._tmp = tmp_path_factory
        self.urls: dict[tuple, str] = {}
        self.summaries: dict[str, dict] = {}

    def __call__(self, scale: str = "small", seed: int = DEMO_SEED, backend: str = "sqlite") -> str:
        key = (backend, scale, seed)
        if key in self.urls:
            return self.urls[key]
        demo = demo_module()
        if backend == "sqlite":
            path = self._tmp.mktemp(f"demo_{scale}_{seed}") / "registry.db"
            url = f"sqlite:///{path}"
        elif backend == "postgresql":
            url = self._request.getfixturevalue("pg_database")()
        else:
            raise ValueError(f"unknown backend {backend!r}")
        from data_access.db import get_engine

        summary = demo.generate(get_engine(url), scale=scale, seed=seed)
        self.urls[key] = url
        self.summaries[url] = summary
        return url


@pytest.fixture(scope="session")
def make_db(request, tmp_path_factory) -> DemoDatabases:
    return DemoDatabases(request, tmp_path_factory)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def registry_backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def registry_url(registry_backend, make_db) -> str:
    return make_db("small", DEMO_SEED, backend=registry_backend)


@pytest.fixture(scope="session")
def registry_engine(registry_url) -> Engine:
    from data_access.db import get_engine

    return get_engine(registry_url)


@pytest.fixture(scope="session")
def demo_summary(registry_url, make_db) -> dict:
    return make_db.summaries[registry_url]


@pytest.fixture(scope="session")
def sqlite_demo_url(make_db) -> str:
    """The small SQLite demo database alone (no backend parametrisation)."""
    return make_db("small", DEMO_SEED, backend="sqlite")


@pytest.fixture(scope="session")
def county_scope():
    from data_access.scope import Scope

    return Scope.of(COUNTY_CODE)


@pytest.fixture
def empty_url(tmp_path) -> str:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def cloner(request, tmp_path_factory):
    """Factory: a private writable copy of the database at ``url``; PostgreSQL copies are dropped at session end
    (unless the server is thrown away)."""
    from data_access.db import get_engine

    admin: list[Engine] = []
    made: list[tuple[str, str]] = []

    def clone(url: str, prefix: str = "clone") -> str:
        if url.startswith("sqlite"):
            dst = tmp_path_factory.mktemp(prefix) / "registry.db"
            with sqlite3.connect(make_url(url).database) as a, sqlite3.connect(dst) as b:
                a.backup(b)
            return f"sqlite:///{dst}"
        server = request.getfixturevalue("pg_server_url")
        if not admin:
            admin.append(create_engine(server, isolation_level="AUTOCOMMIT", pool_size=1))
        get_engine(url).dispose()  # TEMPLATE needs the source without connections
        name = f"{prefix}_{worker_id()}_{uuid.uuid4().hex[:10]}"
        source = make_url(url).database
        with admin[0].connect() as conn:
            # another engine of this worker (a test's own, an AppTest's cache) may still hold an idle connection
            # to the read-only source: end them (every engine here pings before use and reconnects)
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": source})
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
        new = make_url(server).set(database=name).render_as_string(hide_password=False)
        made.append((name, new))
        return new

    yield clone
    for name, url in [] if PG_THROWAWAY else made:
        get_engine(url).dispose()
        with admin[0].connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    for engine in admin:
        engine.dispose()


# ---- the importer's databases (tests/test_import*.py) -------------------------

IMPORT_SEED = 11


@pytest.fixture(scope="session")
def import_base_url(registry_backend, make_db):
    return make_db("small", IMPORT_SEED, backend=registry_backend)


@pytest.fixture
def clone(import_base_url, cloner):
    """A private writable copy of the seed-11 demo database."""
    from data_access import db

    return db.get_engine(cloner(import_base_url, "import_test"))


@pytest.fixture
def empty(registry_backend, tmp_path, request):
    from data_access import db

    if registry_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = request.getfixturevalue("pg_database")("import_empty")
    engine = db.get_engine(url)
    db.create_schema(engine)
    return engine


TESTS_DIR = Path(__file__).resolve().parent
# Seconds per test file in a whole run (scripts/test_durations.py writes it from a JUnit report).
DURATIONS = json.loads((TESTS_DIR / "durations.json").read_text(encoding="utf-8"))
NEW_FILE_SECONDS = 20  # a file not measured yet


def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("registry_backend") == "postgresql":
            item.add_marker(pytest.mark.postgresql)
    # Slowest files first (scripts/test.sh turns off xdist's reordering by test count): with --dist loadfile
    # the workers take whole files, and a long file handed out last would leave the other workers idle.
    def seconds(item) -> float:
        return DURATIONS.get(Path(str(item.path)).relative_to(TESTS_DIR.parent).as_posix(), NEW_FILE_SECONDS)

    items.sort(key=lambda item: -seconds(item))
