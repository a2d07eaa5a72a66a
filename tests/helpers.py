"""Helpers shared by the tests (fixtures are in tests/conftest.py; browser helpers in tests/browser/harness.py).

Import them as ``from tests.helpers import ...``; a test module never imports another test module.

- constants and CI rules: ``ROOT``, ``IN_CI``, ``COUNTY_CODE``, ``DEMO_SEED``, ``skip_or_fail``, ``demo_module``,
  ``worker_id`` (the pytest-xdist worker, "main" without xdist)
- raw SQL on an engine, a URL or a ``SqlRunner``: ``SqlRunner``, ``rows`` (tuples), ``dicts``, ``one`` (the
  single row), ``scalar``, ``like`` (a scope's LIKE pattern), ``day`` (a date from either backend)
- the scopes tests look at: ``scopes`` (county, its second township, that township's first village),
  ``busiest_scopes`` (by monitoring objects), ``pick_scopes`` (by poor villages)
- AppTest: ``APP``, ``open_page``, ``metrics``, ``texts``, ``table_with``
- the importer tests: ``snapshot``, ``last_log``, ``run``, ``village_scope``, ``problems``, ``errors``, ``new_id``
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

COUNTY_CODE = "523199000000"
DEMO_SEED = 7


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail under CI, where every dependency must be present."""
    if IN_CI:
        pytest.fail(f"{reason}(CI=true:不允许跳过)", pytrace=False)
    pytest.skip(reason)


def demo_module():
    """``data_access.demo``, imported lazily (it may not exist yet)."""
    try:
        return importlib.import_module("data_access.demo.generate")
    except ModuleNotFoundError as exc:
        if exc.name == "data_access.demo.generate":
            skip_or_fail("data_access.demo 尚不存在,无法生成演示数据")
        raise


def worker_id() -> str:
    """``gw0``, ``gw1``... under pytest-xdist, ``main`` otherwise."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# ---- raw SQL ---------------------------------------------------------------


class SqlRunner:
    """Run raw SQL (named ``:params``) against an engine; each call is its own transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def scalar(self, query: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(query), params).scalar()

    def rows(self, query: str, **params) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query), params).all()]

    def dicts(self, query: str, **params) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(query), params).mappings().all()]

    def one(self, query: str, **params):
        """The query's only row (an error unless there is exactly one)."""
        with self.engine.connect() as conn:
            return conn.execute(text(query), params).one()

    def execute(self, query: str, **params) -> int:
        """Run a statement that changes data (committed); returns the rowcount."""
        with self.engine.begin() as conn:
            return conn.execute(text(query), params).rowcount

    __call__ = rows


def runner(db) -> SqlRunner:
    """A ``SqlRunner`` for an engine, a database URL or a runner."""
    if isinstance(db, SqlRunner):
        return db
    if isinstance(db, str):
        from data_access.db import get_engine

        return SqlRunner(get_engine(db))
    return SqlRunner(db)


def rows(db, sql: str, **params) -> list[tuple]:
    return runner(db).rows(sql, **params)


def dicts(db, sql: str, **params) -> list[dict]:
    return runner(db).dicts(sql, **params)


def one(db, sql: str, **params):
    return runner(db).one(sql, **params)


def scalar(db, sql: str, **params):
    return runner(db).scalar(sql, **params)


def like(scope) -> str:
    return scope.prefix + "%"


def day(value) -> dt.date | None:
    """A date from either backend (SQLite returns text)."""
    return None if value is None else dt.date.fromisoformat(str(value)[:10])


# ---- people and population of a past year (issue 18: members at the year's end, the year's population) ----

# Members of household ``h`` at the end of :y, from the person rows' own dates (:end = 31 December of :y):
# born, joined (blank: since identification) and not yet left (blank: still a member).
MEMBERS_AT = """(SELECT COUNT(*) FROM person p WHERE p.hh_id = h.hh_id
    AND (p.birth_date IS NULL OR p.birth_date <= :end) AND (p.join_date IS NULL OR p.join_date <= :end)
    AND (p.leave_date IS NULL OR p.leave_date > :end))"""


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def members_at(db, years) -> dict[tuple[str, int], int]:
    """{(hh_id, year): members at the year's end} for every household with members then."""
    out: dict[tuple[str, int], int] = {}
    for hh_id, born, joined, left in runner(db).rows("SELECT hh_id, birth_date, join_date, leave_date FROM person"):
        born, joined, left = day(born), day(joined), day(left)
        for y in years:
            end = year_end(y)
            if (born is None or born <= end) and (joined is None or joined <= end) and (left is None or left > end):
                out[(hh_id, y)] = out.get((hh_id, y), 0) + 1
    return out


POPULATION_AT = """COALESCE((SELECT vp.population FROM village_population vp WHERE vp.village_code = r.code
    AND vp.year = (SELECT MAX(v2.year) FROM village_population v2 WHERE v2.village_code = r.code AND v2.year <= :y)),
    r.rural_population)"""


def population_at(db, prefix: str, year: int) -> int:
    """农村户籍人口 of the villages whose code starts with ``prefix`` at ``year``: each village's figure of the
    year, else of its latest earlier year, else the undated region.rural_population."""
    return int(runner(db).scalar(f"SELECT COALESCE(SUM({POPULATION_AT}), 0) FROM region r "
                                 "WHERE r.level = 'village' AND r.code LIKE :p", y=year, p=prefix + "%"))


# ---- scopes ----------------------------------------------------------------


def scopes(db) -> list:
    """The county, its second township and that township's first village."""
    from data_access.scope import Scope

    q = runner(db)
    county = q.scalar("SELECT code FROM region WHERE level = 'county' ORDER BY code")
    town = q.rows("SELECT code FROM region WHERE level = 'town' AND parent_code = :c ORDER BY code", c=county)[1][0]
    village = q.scalar("SELECT code FROM region WHERE level = 'village' AND parent_code = :t ORDER BY code", t=town)
    return [Scope.of(county), Scope.of(town), Scope.of(village)]


def busiest_scopes(db) -> list:
    """The county, the township of the village with most monitoring objects, and that village."""
    from data_access.scope import Scope

    q = runner(db)
    county = q.scalar("SELECT code FROM region WHERE level = 'county' ORDER BY code")
    village = q.rows("SELECT village_code, COUNT(*) AS n FROM monitoring_object "
                     "GROUP BY village_code ORDER BY n DESC, village_code")[0][0]
    return [Scope.of(county), Scope.of(village[:9] + "000"), Scope.of(village)]


def hand_lines(q, scope) -> dict[int, float]:
    """year -> the line an income of that year is judged against: 贫困线 up to 2020, 监测线 after (the other
    kind where one is missing), the province's row before the national one."""
    province_name = q.scalar("SELECT value FROM meta WHERE key = 'province_name'") or ""
    best: dict[int, tuple] = {}
    for year, kind, prov, amount in q.rows("SELECT year, kind, province, amount FROM poverty_line"):
        prov = (prov or "").strip()
        own = bool(prov) and (scope.code.startswith(prov) or prov == province_name)
        if prov and not own:
            continue
        rank = (kind != ("贫困线" if year <= 2020 else "监测线"), not own)
        if year not in best or rank < best[year][0]:
            best[year] = (rank, float(amount))
    return {y: a for y, (_, a) in best.items()}


def pick_scopes(db) -> dict[str, str]:
    """The county, its township with the most poor villages, and a poor village there that has exited."""
    q = runner(db)
    town = q.scalar(
        "SELECT parent_code FROM region WHERE level = 'village' AND is_poor_village = :t "
        "GROUP BY parent_code ORDER BY count(*) DESC, parent_code LIMIT 1", t=True)
    village = q.scalar(
        "SELECT code FROM region WHERE level = 'village' AND is_poor_village = :t AND parent_code = :p "
        "AND poor_village_exit_year IS NOT NULL ORDER BY code LIMIT 1", t=True, p=town)
    return {"county": COUNTY_CODE, "town": town, "village": village}


# ---- AppTest ---------------------------------------------------------------


def open_page(db_url: str, page: str | None = None, timeout: float = 120, **query):
    """Run app.py against ``db_url`` with ``query`` in the URL, on page ``page`` (e.g. "pages/causes.py").

    Returns the AppTest after the run; check ``at.exception`` and read elements.
    """
    from streamlit.testing.v1 import AppTest

    os.environ["REGISTRY_DB_URL"] = db_url
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update({k: str(v) for k, v in query.items() if v is not None})
    wanted = page_hash(page) if page and page != "pages/overview.py" else None
    if wanted:  # the first run opens the page, as a browser's first request for /<url path> does
        at._page_hash = wanted  # what AppTest.switch_page sets; it only works after a first run
    at.run()
    registered = at._registered_pages  # st.navigation's pages; app.py and pages/ when the shell stopped first
    navigated = bool(registered) and all(info.get("script_path") != APP for info in registered.values())
    if wanted and navigated and wanted not in registered:
        raise ValueError(f"Could not find a navigation page for {page!r}: not registered for this user")
    return at


def page_hash(page: str) -> str:
    """The script hash Streamlit gives the page of file ``page`` (st.Page hashes its url path, app.py)."""
    from streamlit.util import calc_hash

    from components.shell import nav

    spec = next(s for s in nav.PAGES if s.file == page)
    return calc_hash(spec.key)


def metrics(at) -> dict[str, str]:
    """Every st.metric on the page, label -> displayed value."""
    return {m.label: m.value for m in at.metric}


def texts(at) -> str:
    """All markdown, caption and html text of the page, joined (for figure checks)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [getattr(h, "body", "") or "" for h in at.get("html")]
    return "\n".join(str(p) for p in parts)


def table_with(at, column):
    """The first data table having ``column``."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with column {column}")


# ---- the importer tests ------------------------------------------------------

SKIP_TABLES = ("import_log", "audit_log", "meta")


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every data table's rows (sorted), to show that an import changed nothing."""
    from data_access import schema

    out = {}
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            if table.name in SKIP_TABLES:
                continue
            stmt = table.select().order_by(*table.primary_key.columns)
            out[table.name] = conn.exec_driver_sql(str(stmt.compile(conn))).fetchall()
    return out


def last_log(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM import_log ORDER BY id DESC")).mappings().first())


def run(engine, files, **kw):
    from data_access.importer import run as importer

    return importer.run_import(engine, kw.pop("scope", None), files, user=kw.pop("user", "测试"), **kw)


def village_scope(engine):
    """The first village of the second township (as ``scopes``)."""
    return scopes(engine)[2]


def problems(result) -> list[tuple]:
    return [p.as_tuple() for p in result.problems]


def errors(result) -> list[tuple]:
    return [p.as_tuple() for p in result.errors]


def new_id(birth: str, seq: int, sex: str = "男") -> str:
    """A valid 18-digit ID number of the demo county born on ``birth`` (yyyymmdd)."""
    from data_access.rules import id_check_char

    seq = seq * 2 + (1 if sex == "男" else 0)
    body = f"523199{birth}{seq:03d}"
    return body + id_check_char(body)


def middleware_headers(middleware, upstream: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers an ASGI ``middleware(app)`` sends for one HTTP response whose app sent ``upstream``."""
    import asyncio

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": upstream})
        await send({"type": "http.response.body", "body": b"ok"})

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    asyncio.run(middleware(app)({"type": "http"}, receive, send))
    return sent[0]["headers"]


# ---- rounding ----------------------------------------------------------------


def hround(x, digits: int = 0):
    """An expected figure rounded as the product rounds: 四舍五入 (half up; ``round`` rounds half to even, so
    an independent check must not use it). An int result for ``digits`` 0, like ``round(x)``."""
    from decimal import ROUND_HALF_UP, Decimal

    q = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return int(q) if digits == 0 else float(q)


# ---- the 2021– headline counted by hand (tests of the overview, the brief and the slides) -------------------


def era_by_sql(db, prefix: str, year: int) -> dict:
    """Every figure of the 2021– headline for the region whose codes start with ``prefix``, at the end of
    ``year``, with raw SQL: exited (户, 人); policy / no_policy (户, 人), or None unless ``year`` is the data's
    as-of year (the marks are the registry's current ones); monitoring, removed, at_risk, new (户, 人); kinds
    {kind: (户, 人)}; help (base, helped); income_year, income (元, float), income_before, growth (%);
    work (labour, working) or None, work_change (or None)."""
    q = runner(db)
    p, end, start = prefix + "%", f"{year}-12-31", f"{year}-01-01"
    exited = ("kind = '建档立卡户' AND identified_year <= :y AND exit_year <= :y "
              "AND (returned_year IS NULL OR returned_year > :y) AND village_code LIKE :p")
    members = f"COALESCE(SUM({MEMBERS_AT}), 0) FROM household h"  # people: the members at the year's end
    out = {"exited": tuple(q.rows(f"SELECT COUNT(*), {members} WHERE {exited}", y=year, p=p, end=year_end(year))[0])}
    marked = int(str(q.scalar("SELECT value FROM meta WHERE key = 'data_as_of'"))[:4]) == year
    for key, label in (("policy", "脱贫享受政策"), ("no_policy", "脱贫不享受政策")):
        out[key] = tuple(q.rows(f"SELECT COUNT(*), COALESCE(SUM(member_count), 0) FROM household WHERE {exited} "
                                "AND policy_status = :s", y=year, p=p, s=label)[0]) if marked else None
    mo = "FROM monitoring_object WHERE village_code LIKE :p AND identified_date <= :d"
    count = "SELECT COUNT(*), COALESCE(SUM(persons), 0) "
    out["monitoring"] = tuple(q.rows(count + mo, p=p, d=end)[0])
    out["removed"] = tuple(q.rows(count + mo + " AND removed_date IS NOT NULL AND removed_date <= :d",
                                  p=p, d=end)[0])
    out["at_risk"] = (out["monitoring"][0] - out["removed"][0], out["monitoring"][1] - out["removed"][1])
    out["new"] = tuple(q.rows(count + mo + " AND identified_date >= :a", p=p, d=end, a=start)[0])
    out["kinds"] = {k: (int(n), int(pp)) for k, n, pp in q.rows(
        "SELECT kind, COUNT(*), SUM(persons) " + mo + " GROUP BY kind", p=p, d=end)}
    out["help"] = tuple(int(v or 0) for v in q.rows(
        "SELECT COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM help_measure m WHERE m.hh_id = o.hh_id "
        "AND m.year = :y) THEN 1 ELSE 0 END) FROM monitoring_object o WHERE o.village_code LIKE :p "
        "AND o.identified_date <= :d AND (o.removed_date IS NULL OR o.removed_date >= :a)",
        y=year, p=p, d=end, a=start)[0])
    iy = q.scalar("SELECT MAX(i.year) FROM income i JOIN household h ON h.hh_id = i.hh_id "
                  "WHERE i.year <= :y AND h.village_code LIKE :p", y=year, p=p) or year
    exited_h = ("h.kind = '建档立卡户' AND h.identified_year <= :y AND h.exit_year <= :y "
                "AND (h.returned_year IS NULL OR h.returned_year > :y) AND h.village_code LIKE :p")

    def income(y):
        total, people = q.rows(f"SELECT SUM(i.per_capita_net * i.members), SUM(i.members) FROM income i "
                               f"JOIN household h ON h.hh_id = i.hh_id WHERE i.year = :y AND {exited_h}",
                               y=y, p=p)[0]
        return float(total) / float(people) if people else None

    out["income_year"], out["income"], out["income_before"] = int(iy), income(iy), income(iy - 1)
    out["growth"] = (round(100.0 * (out["income"] / out["income_before"] - 1.0), 2)
                     if out["income"] is not None and out["income_before"] else None)

    def work(y):
        labour, working = q.rows(f"SELECT COUNT(*), SUM(CASE WHEN w.work_status <> '未外出务工' THEN 1 ELSE 0 END) "
                                 f"FROM work_year w JOIN household h ON h.hh_id = w.hh_id WHERE w.year = :y "
                                 f"AND {exited_h}", y=y, p=p)[0]
        return (int(labour), int(working or 0)) if labour else None

    out["work"], before = work(year), work(year - 1)
    out["work_change"] = out["work"][1] - before[1] if out["work"] and before else None
    return out
