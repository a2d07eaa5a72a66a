"""Summary tables (汇总表): pre-grouped households so province-wide pages read thousands of rows, not millions.

Every registry state in ``queries.common`` (in_registry, exited_by, not_exited_by, returned_by,
poor_at) depends only on (kind, identified_year, exit_year, returned_year), and those predicates take
the table as an argument. So a table grouped by those columns (plus the place and the few dimensions
a page groups by) with ``households`` (count) and ``member_count`` (sum) answers the same SQL:
``count_if(cond, h)`` becomes SUM(CASE WHEN cond THEN households), ``people_if(cond, h)`` stays
SUM(CASE WHEN cond THEN member_count).

Tables (standard SQL, built with INSERT … SELECT … GROUP BY, the same on SQLite and PostgreSQL):

- ``summary_household``: per village × kind × identified/exit/returned year (village grain; serves
  any scope and grouping by town or village);
- ``summary_household_cause``: per county × the states × main cause × attribute × exit step (county
  grain; serves a county or larger scope that groups by cause, attribute, status or exit step);
- ``summary_other_cause``: per county × kind × identified year × main cause × other cause (NULL for
  "no other cause"), for the cause combinations;
- ``summary_latest_income``: each household's latest income record up to the as-of year;
- ``summary_person``: per household the members who are 患有大病/残疾, uninsured, or 非在校生 children
  (by birth year), for the health warning and the 两不愁三保障 check;
- ``summary_helper_village``: households assigned per cadre and village (the query page's cadre picker);
- ``summary_measure``: 帮扶措施 per county, year and measure (households reached, records, amount);
- ``summary_cause_match`` / ``summary_cause_match_year``: households by main cause with the first year
  (and each year) they had a measure matching the cause;
- ``summary_visit_span``: first and last visit date per county;
- ``summary_help_window``: 入户率 and the help force per town and unit for the help page's default periods;
- ``summary_village_visit``: the village map's 入户率 (assigned and visited households) per village and
  year, for the visit periods of the as-of date the data had when it was built.

Freshness: ``refresh(engine)`` rebuilds all of them and records in ``meta.summary_version`` the
``meta.data_version`` it read *before* reading the base tables. A query uses a summary only when
``summary_version == data_version`` (``fresh``): any write bumps data_version, so a stale summary is
never used and the query falls back to the base tables (slower, never wrong). Databases without the
tables (older files) have no summary_version and simply use the base tables; summaries built by a
program with another table layout (``meta.summary_layout`` != ``LAYOUT``) are not used either.

``refresh`` runs at the end of the demo generator, after a successful import, and on
``python -m data_access summarize [--db URL]``.
"""

from __future__ import annotations

import time

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, and_, case, func, literal, or_, select
from sqlalchemy.engine import Connection, Engine

from . import schema
from .codes import REGION_LEVEL_DIGITS
from .scope import Scope

SUMMARY_KEY = "summary_version"
# The tables' layout: bump when a table or column is added or changed. A database summarised by another
# layout counts as not summarised (base tables) until ``refresh`` runs with this program.
LAYOUT = "2"
LAYOUT_KEY = "summary_layout"

metadata = MetaData()
CODE = String(12)


def _state_columns():
    return [
        Column("kind", String(16), nullable=False),
        Column("identified_year", Integer),
        Column("exit_year", Integer),
        Column("returned_year", Integer),
    ]


household_summary = Table(
    "summary_household", metadata,
    Column("county_code", CODE, nullable=False),
    Column("town_code", CODE, nullable=False),
    Column("village_code", CODE, nullable=False),
    *_state_columns(),
    Column("households", Integer, nullable=False),
    Column("member_count", Integer, nullable=False),
)

cause_summary = Table(
    "summary_household_cause", metadata,
    Column("county_code", CODE, nullable=False),
    *_state_columns(),
    Column("main_cause", String(16)),
    Column("attribute", String(16)),
    Column("exit_step", String(16)),
    Column("households", Integer, nullable=False),
    Column("member_count", Integer, nullable=False),
)

other_cause_summary = Table(
    "summary_other_cause", metadata,
    Column("county_code", CODE, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("identified_year", Integer),
    Column("main_cause", String(16)),
    Column("other_cause", String(16)),  # NULL: the household lists no other cause
    Column("households", Integer, nullable=False),
    Column("member_count", Integer, nullable=False),
)

# 入户率 of the village map (``queries.villages.indicators``) per village and year, for the periods
# ``villages.visit_period(year, as_of)`` with as_of = meta.data_as_of at refresh time (kept in
# meta.summary_visit_as_of); only villages with an assigned household have a row.
village_visit_summary = Table(
    "summary_village_visit", metadata,
    Column("village_code", CODE, nullable=False),
    Column("year", Integer, nullable=False),
    Column("assigned_households", Integer, nullable=False),
    Column("visited_households", Integer, nullable=False),
)
# Each household's latest income record up to the as-of year (meta.summary_income_year): the
# "最新年人均纯收入" of the income lists (exits.near_line, monitoring.income_warnings/health_warnings)
# without a correlated MAX(year) over 24 million income rows. Households without income then: no row.
latest_income_summary = Table(
    "summary_latest_income", metadata,
    Column("hh_id", String(32), primary_key=True),
    Column("village_code", CODE, nullable=False),  # the household's (for a scope without a join)
    Column("year", Integer, nullable=False),
    Column("per_capita_net", schema.income.c.per_capita_net.type, nullable=False),
    *_state_columns(),  # the household's registry state columns and size, for counting without a join
    Column("member_count", Integer, nullable=False),
)
INCOME_YEAR_KEY = "summary_income_year"

# People who matter to the health warning (患有大病/残疾) and the 两不愁三保障 check (no basic medical
# insurance; 非在校生 born from PERSON_FROM_YEAR − 15 on, i.e. possibly of compulsory-school age in a
# year from PERSON_FROM_YEAR), per household, village and birth year (NULL unless such a child).
person_summary = Table(
    "summary_person", metadata,
    Column("hh_id", String(32), nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("birth_year", Integer),
    Column("ill", Integer, nullable=False),
    Column("disabled", Integer, nullable=False),
    Column("nonschool", Integer, nullable=False),
    Column("uninsured", Integer, nullable=False),
)
PERSON_FROM_KEY = "summary_person_from_year"

# Households assigned (any time) per cadre and village, for the query page's cadre picker. Summing
# villages gives the cadre's distinct households only while no cadre–household pair spans two
# villages; refresh checks that and records it in meta.summary_helper_exact ("1" or "0").
helper_summary = Table(
    "summary_helper_village", metadata,
    Column("helper_id", String(32), nullable=False),
    Column("village_code", CODE, nullable=False),
    Column("households", Integer, nullable=False),
)
HELPER_EXACT_KEY = "summary_helper_exact"

# 帮扶措施 per county, year and measure: households reached (distinct), records, amount. Summing
# counties gives the distinct households of a larger scope only while no household has the same
# measure in the same year in two counties; refresh checks that (meta.summary_measure_exact).
measure_summary = Table(
    "summary_measure", metadata,
    Column("county_code", CODE, nullable=False),
    Column("year", Integer, nullable=False),
    Column("measure", String(16), nullable=False),
    Column("households", Integer, nullable=False),
    Column("measures", Integer, nullable=False),
    Column("amount", schema.help_measure.c.amount.type, nullable=False),
)
MEASURE_EXACT_KEY = "summary_measure_exact"

# "措施是否对症" (queries.help.cause_match): registered households by county, state columns and main
# cause with the first year they had a measure matching the cause (NULL: never), and with each year
# they had one.
cause_match_summary = Table(
    "summary_cause_match", metadata,
    Column("county_code", CODE, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("identified_year", Integer),
    Column("main_cause", String(16), nullable=False),
    Column("first_year", Integer),
    Column("households", Integer, nullable=False),
)
cause_match_year_summary = Table(
    "summary_cause_match_year", metadata,
    Column("county_code", CODE, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("identified_year", Integer),
    Column("main_cause", String(16), nullable=False),
    Column("year", Integer, nullable=False),
    Column("households", Integer, nullable=False),
)
SERIOUS_HEALTH = ("患有大病", "残疾")  # = queries.monitoring.SERIOUS_HEALTH
NOT_IN_SCHOOL = "非在校生"
# 入户率 and the help force (queries.help.visit_rates) per town and 帮扶单位 for the periods the help
# page opens with at the as-of date (near 90 days, the one before, the 12 month-end windows, each
# year's period), in meta.summary_help_windows. unit_id NULL rows: distinct households over all units.
# Summing towns is exact only while no household is assigned in two villages, no cadre in two towns
# and every home visit lies in the town of the household's assignment (meta.summary_help_exact).
help_window_summary = Table(
    "summary_help_window", metadata,
    Column("county_code", CODE, nullable=False),
    Column("town_code", CODE, nullable=False),
    Column("unit_id", String(32)),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("assigned_households", Integer, nullable=False),
    Column("visited_households", Integer, nullable=False),
    Column("cadres", Integer, nullable=False),
    Column("assignments", Integer, nullable=False),
)
# First and last visit date (any kind) per county, for the help page's header (queries.help.visit_span).
visit_span_summary = Table(
    "summary_visit_span", metadata,
    Column("county_code", CODE, nullable=False),
    Column("first_date", Date, nullable=False),
    Column("last_date", Date, nullable=False),
)
HELP_WINDOWS_KEY = "summary_help_windows"
HELP_EXACT_KEY = "summary_help_exact"
HELP_DAYS = 90  # queries.help.DEFAULT_DAYS, the page's default
VISIT_AS_OF_KEY = "summary_visit_as_of"
VISIT_YEARS_KEY = "summary_visit_years"

# No indexes on purpose: at province scale the largest one holds ~300,000 rows and every use
# aggregates a large part of it; a county's rows are found by a scan in milliseconds.
TABLES = (household_summary, cause_summary, other_cause_summary, village_visit_summary, latest_income_summary,
          person_summary, helper_summary, measure_summary,
          cause_match_summary, cause_match_year_summary, help_window_summary,
          visit_span_summary)


# ---- building -----------------------------------------------------------------


def _grouped(target: Table, select_from, columns: dict) -> tuple:
    """INSERT INTO target (columns…, households, member_count) SELECT … GROUP BY columns."""
    H = schema.household
    exprs = list(columns.values())
    stmt = select(*exprs, func.count(), func.coalesce(func.sum(H.c.member_count), 0)) \
        .select_from(select_from).group_by(*exprs)
    return target.insert().from_select([*columns, "households", "member_count"], stmt)


def _statements():
    H, OC = schema.household, schema.other_cause
    states = {name: H.c[name] for name in ("kind", "identified_year", "exit_year", "returned_year")}
    place = {name: H.c[name] for name in ("county_code", "town_code", "village_code")}
    yield household_summary, _grouped(household_summary, H, {**place, **states})
    yield cause_summary, _grouped(cause_summary, H, {
        "county_code": H.c.county_code, **states,
        "main_cause": H.c.main_cause, "attribute": H.c.attribute, "exit_step": H.c.exit_step})
    yield other_cause_summary, _grouped(other_cause_summary, H.outerjoin(OC, OC.c.hh_id == H.c.hh_id), {
        "county_code": H.c.county_code, "kind": H.c.kind, "identified_year": H.c.identified_year,
        "main_cause": H.c.main_cause, "other_cause": OC.c.cause})


def _visit_rows(conn: Connection, as_of_text: str | None):
    """(rows for summary_village_visit, as_of, (first, last)) — one pass over visits and assignments."""
    import datetime as dt

    from .queries.help import HOME_VISIT_KINDS, assigned_on
    from .queries.villages import visit_period

    H, V, AS = schema.household, schema.visit, schema.assignment
    try:
        as_of = dt.date.fromisoformat(as_of_text or "")
    except ValueError:
        return [], None, None
    first = conn.execute(select(func.min(H.c.identified_year))).scalar()
    first = min(int(first), as_of.year) if first is not None else as_of.year
    years = list(range(first, as_of.year + 1))
    periods = [visit_period(y, as_of) for y in years]
    visited = (
        select(V.c.hh_id, *[func.max(case((V.c.visit_date.between(s, e), 1), else_=0)).label(f"v{i}")
                            for i, (s, e) in enumerate(periods)])
        .where(V.c.kind.in_(HOME_VISIT_KINDS),
               V.c.visit_date.between(min(s for s, _ in periods), max(e for _, e in periods)))
        .group_by(V.c.hh_id).subquery("visited")
    )
    assigned = (
        select(AS.c.village_code, AS.c.hh_id,
               *[func.max(case((assigned_on(e), 1), else_=0)).label(f"a{i}") for i, (_, e) in enumerate(periods)])
        .group_by(AS.c.village_code, AS.c.hh_id).subquery("assigned")
    )
    cols = []
    for i in range(len(years)):
        a, v = assigned.c[f"a{i}"], visited.c[f"v{i}"]
        cols += [func.sum(a), func.sum(case((and_(a == 1, v == 1), 1), else_=0))]
    stmt = (select(assigned.c.village_code, *cols)
            .select_from(assigned.outerjoin(visited, visited.c.hh_id == assigned.c.hh_id))
            .group_by(assigned.c.village_code))
    rows = []
    for village_code, *figures in conn.execute(stmt):
        for i, year in enumerate(years):
            n_assigned, n_visited = int(figures[2 * i] or 0), int(figures[2 * i + 1] or 0)
            if n_assigned:
                rows.append({"village_code": village_code, "year": year,
                             "assigned_households": n_assigned, "visited_households": n_visited})
    return rows, as_of, (years[0], years[-1])


def _latest_income_insert(year: int):
    I, H = schema.income, schema.household
    latest = (select(I.c.hh_id, func.max(I.c.year).label("year")).where(I.c.year <= year)
              .group_by(I.c.hh_id).subquery("latest"))
    extra = ["kind", "identified_year", "exit_year", "returned_year", "member_count"]
    stmt = (select(I.c.hh_id, H.c.village_code, I.c.year, I.c.per_capita_net, *[H.c[c] for c in extra])
            .join(latest, and_(latest.c.hh_id == I.c.hh_id, latest.c.year == I.c.year))
            .join(H, H.c.hh_id == I.c.hh_id))
    return latest_income_summary.insert().from_select(
        ["hh_id", "village_code", "year", "per_capita_net", *extra], stmt)


def _person_insert(from_year: int):
    P = schema.person
    child = and_(P.c.schooling == NOT_IN_SCHOOL, P.c.birth_year.is_not(None), P.c.birth_year >= from_year - 15)
    ill, disabled = P.c.health == SERIOUS_HEALTH[0], P.c.health == SERIOUS_HEALTH[1]
    uninsured = P.c.medical_insurance.is_(False)
    birth = case((child, P.c.birth_year), else_=None)

    def n(cond):
        return func.sum(case((cond, 1), else_=0))

    stmt = (select(P.c.hh_id, P.c.village_code, birth, n(ill), n(disabled), n(child), n(uninsured))
            .where(or_(ill, disabled, child, uninsured))
            .group_by(P.c.hh_id, P.c.village_code, birth))
    return person_summary.insert().from_select(
        ["hh_id", "village_code", "birth_year", "ill", "disabled", "nonschool", "uninsured"], stmt)


def _cause_match_inserts():
    from .queries.help import MATCHING_MEASURES

    H, HM = schema.household, schema.help_measure
    matching = or_(*[and_(H.c.main_cause == cause, HM.c.measure.in_(measures))
                     for cause, measures in MATCHING_MEASURES.items()])
    dims = [H.c.county_code, H.c.kind, H.c.identified_year, H.c.main_cause]
    first = (select(HM.c.hh_id, func.min(HM.c.year).label("first_year"))
             .select_from(HM.join(H, H.c.hh_id == HM.c.hh_id)).where(matching)
             .group_by(HM.c.hh_id).subquery("first"))
    yield cause_match_summary, cause_match_summary.insert().from_select(
        ["county_code", "kind", "identified_year", "main_cause", "first_year", "households"],
        select(*dims, first.c.first_year, func.count())
        .select_from(H.outerjoin(first, first.c.hh_id == H.c.hh_id))
        .where(H.c.main_cause.in_(list(MATCHING_MEASURES)))
        .group_by(*dims, first.c.first_year))
    yield cause_match_year_summary, cause_match_year_summary.insert().from_select(
        ["county_code", "kind", "identified_year", "main_cause", "year", "households"],
        select(*dims, HM.c.year, func.count(func.distinct(H.c.hh_id)))
        .select_from(HM.join(H, H.c.hh_id == HM.c.hh_id)).where(matching)
        .group_by(*dims, HM.c.year))


def _help_windows(as_of, years) -> list:
    """The periods the help page asks for at the as-of date with its default settings."""
    import datetime as dt

    from .queries.help import month_end_windows, window
    from .queries.villages import visit_period

    period = window(as_of, HELP_DAYS)
    found = [period, window(period[0] - dt.timedelta(days=1), HELP_DAYS), *month_end_windows(as_of, HELP_DAYS)]
    if years:
        found += [visit_period(y, as_of) for y in range(years[0] - 1, years[1] + 1)]
    return sorted(set(found))


def _help_rows(conn: Connection, windows: list) -> list[dict]:
    """summary_help_window rows: one pass over the home visits and the assignments for all windows."""
    from .queries.help import HOME_VISIT_KINDS, assigned_on

    V, A, C = schema.visit, schema.assignment, schema.helper
    town = func.substr(A.c.village_code, 1, 9).concat(literal("000"))
    visited = (
        select(V.c.hh_id, *[func.max(case((V.c.visit_date.between(s, e), 1), else_=0)).label(f"v{i}")
                            for i, (s, e) in enumerate(windows)])
        .where(V.c.kind.in_(HOME_VISIT_KINDS),
               V.c.visit_date.between(min(s for s, _ in windows), max(e for _, e in windows)))
        .group_by(V.c.hh_id).subquery("visited")
    )
    flags = [func.max(case((assigned_on(e), 1), else_=0)).label(f"a{i}") for i, (_, e) in enumerate(windows)]
    per_hh = (select(A.c.hh_id, town.label("town_code"), *flags)
              .select_from(A.join(C, C.c.helper_id == A.c.helper_id))
              .group_by(A.c.hh_id, town).subquery("per_hh"))
    per_unit = (select(A.c.hh_id, town.label("town_code"), C.c.unit_id, *flags)
                .select_from(A.join(C, C.c.helper_id == A.c.helper_id))
                .group_by(A.c.hh_id, town, C.c.unit_id).subquery("per_unit"))
    cadres = (select(A.c.helper_id, C.c.unit_id, town.label("town_code"),
                     *[func.sum(case((assigned_on(e), 1), else_=0)).label(f"p{i}") for i, (_, e) in enumerate(windows)])
              .select_from(A.join(C, C.c.helper_id == A.c.helper_id))
              .group_by(A.c.helper_id, C.c.unit_id, town).subquery("cadres"))
    n = len(windows)

    def household_cols(t):
        cols = []
        for i in range(n):
            a, v = t.c[f"a{i}"], visited.c[f"v{i}"]
            cols += [func.sum(a), func.sum(case((and_(a == 1, v == 1), 1), else_=0))]
        return cols

    out: dict[tuple, dict] = {}

    def put(town_code, unit_id, i, **values):
        s, e = windows[i]
        key = (town_code, unit_id, i)
        row = out.setdefault(key, {"county_code": town_code[:6] + "000000", "town_code": town_code,
                                   "unit_id": unit_id, "start_date": s, "end_date": e, "assigned_households": 0,
                                   "visited_households": 0, "cadres": 0, "assignments": 0})
        row.update(values)

    stmt = (select(per_hh.c.town_code, *household_cols(per_hh))
            .select_from(per_hh.outerjoin(visited, visited.c.hh_id == per_hh.c.hh_id)).group_by(per_hh.c.town_code))
    for town_code, *figures in conn.execute(stmt):
        for i in range(n):
            put(town_code, None, i, assigned_households=int(figures[2 * i] or 0),
                visited_households=int(figures[2 * i + 1] or 0))
    stmt = (select(per_unit.c.town_code, per_unit.c.unit_id, *household_cols(per_unit))
            .select_from(per_unit.outerjoin(visited, visited.c.hh_id == per_unit.c.hh_id))
            .group_by(per_unit.c.town_code, per_unit.c.unit_id))
    for town_code, unit_id, *figures in conn.execute(stmt):
        for i in range(n):
            put(town_code, unit_id, i, assigned_households=int(figures[2 * i] or 0),
                visited_households=int(figures[2 * i + 1] or 0))
    cols = []
    for i in range(n):
        p = cadres.c[f"p{i}"]
        cols += [func.sum(case((p > 0, 1), else_=0)), func.coalesce(func.sum(p), 0)]
    stmt = select(cadres.c.town_code, cadres.c.unit_id, *cols).group_by(cadres.c.town_code, cadres.c.unit_id)
    for town_code, unit_id, *figures in conn.execute(stmt):
        for i in range(n):
            put(town_code, unit_id, i, cadres=int(figures[2 * i] or 0), assignments=int(figures[2 * i + 1] or 0))
    return list(out.values())  # every town (and unit) with an assignment, as visit_rates lists them


def _help_exact(conn: Connection) -> bool:
    """Town sums equal the scope's distinct counts: no household assigned in two villages, no cadre in
    two towns, no home visit outside the town of its household's assignment."""
    from .queries.help import HOME_VISIT_KINDS

    V, A = schema.visit, schema.assignment
    town = func.substr(A.c.village_code, 1, 9)
    if conn.execute(select(A.c.hh_id).group_by(A.c.hh_id)
                    .having(func.count(func.distinct(A.c.village_code)) > 1).limit(1)).first():
        return False
    if conn.execute(select(A.c.helper_id).group_by(A.c.helper_id)
                    .having(func.count(func.distinct(town)) > 1).limit(1)).first():
        return False
    home = select(A.c.hh_id, func.min(town).label("town")).group_by(A.c.hh_id).subquery("home")
    stray = (select(V.c.hh_id).join(home, home.c.hh_id == V.c.hh_id)
             .where(V.c.kind.in_(HOME_VISIT_KINDS), func.substr(V.c.village_code, 1, 9) != home.c.town).limit(1))
    return conn.execute(stray).first() is None


def refresh(engine: Engine) -> dict:
    """Rebuild every summary table from the base tables; record the data version they show.

    Returns {"seconds": elapsed, "rows": {table: rows}, "version": data_version}.
    """
    started = time.perf_counter()
    _drop_outdated(engine)
    metadata.create_all(engine)
    rows = {}
    with engine.begin() as conn:
        version = _meta(conn, "data_version") or "0"  # read first: a write after this makes the result stale
        _set_meta(conn, SUMMARY_KEY, "")  # while rebuilding, nothing uses the summaries
        for table, insert in _statements():
            conn.execute(table.delete())
            conn.execute(insert)
            rows[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        visit_rows, as_of, years = _visit_rows(conn, _meta(conn, "data_as_of"))
        conn.execute(village_visit_summary.delete())
        for start in range(0, len(visit_rows), 20000):
            conn.execute(village_visit_summary.insert(), visit_rows[start:start + 20000])
        rows[village_visit_summary.name] = len(visit_rows)
        conn.execute(latest_income_summary.delete())
        if as_of:
            conn.execute(_latest_income_insert(as_of.year))
        rows[latest_income_summary.name] = int(
            conn.execute(select(func.count()).select_from(latest_income_summary)).scalar_one())
        _set_meta(conn, INCOME_YEAR_KEY, str(as_of.year) if as_of else "")
        conn.execute(person_summary.delete())
        from_year = conn.execute(select(func.min(schema.household.c.identified_year))).scalar()
        if from_year is not None:
            conn.execute(_person_insert(int(from_year)))
        rows[person_summary.name] = int(conn.execute(select(func.count()).select_from(person_summary)).scalar_one())
        _set_meta(conn, PERSON_FROM_KEY, str(from_year) if from_year is not None else "")
        AS = schema.assignment
        conn.execute(helper_summary.delete())
        conn.execute(helper_summary.insert().from_select(
            ["helper_id", "village_code", "households"],
            select(AS.c.helper_id, AS.c.village_code, func.count(func.distinct(AS.c.hh_id)))
            .group_by(AS.c.helper_id, AS.c.village_code)))
        rows[helper_summary.name] = int(conn.execute(select(func.count()).select_from(helper_summary)).scalar_one())
        pairs = select(AS.c.helper_id, AS.c.hh_id).group_by(AS.c.helper_id, AS.c.hh_id).having(
            func.count(func.distinct(AS.c.village_code)) > 1).limit(1)
        _set_meta(conn, HELPER_EXACT_KEY, "0" if conn.execute(pairs).first() else "1")
        HM = schema.help_measure
        county = func.substr(HM.c.village_code, 1, 6).concat(literal("000000"))
        conn.execute(measure_summary.delete())
        conn.execute(measure_summary.insert().from_select(
            ["county_code", "year", "measure", "households", "measures", "amount"],
            select(county, HM.c.year, HM.c.measure, func.count(func.distinct(HM.c.hh_id)), func.count(),
                   func.coalesce(func.sum(HM.c.amount), 0))
            .group_by(county, HM.c.year, HM.c.measure)))
        rows[measure_summary.name] = int(conn.execute(select(func.count()).select_from(measure_summary)).scalar_one())
        split = select(HM.c.hh_id).group_by(HM.c.hh_id, HM.c.year, HM.c.measure).having(
            func.count(func.distinct(func.substr(HM.c.village_code, 1, 6))) > 1).limit(1)
        _set_meta(conn, MEASURE_EXACT_KEY, "0" if conn.execute(split).first() else "1")
        for table, insert in _cause_match_inserts():
            conn.execute(table.delete())
            conn.execute(insert)
            rows[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        _set_meta(conn, VISIT_AS_OF_KEY, as_of.isoformat() if as_of else "")
        conn.execute(help_window_summary.delete())
        windows = _help_windows(as_of, years) if as_of else []
        help_rows = _help_rows(conn, windows) if windows else []
        for start in range(0, len(help_rows), 20000):
            conn.execute(help_window_summary.insert(), help_rows[start:start + 20000])
        rows[help_window_summary.name] = len(help_rows)
        _set_meta(conn, HELP_WINDOWS_KEY, ";".join(f"{s.isoformat()},{e.isoformat()}" for s, e in windows))
        _set_meta(conn, HELP_EXACT_KEY, "1" if windows and _help_exact(conn) else "0")
        V = schema.visit
        county = func.substr(V.c.village_code, 1, 6).concat(literal("000000"))
        conn.execute(visit_span_summary.delete())
        conn.execute(visit_span_summary.insert().from_select(
            ["county_code", "first_date", "last_date"],
            select(county, func.min(V.c.visit_date), func.max(V.c.visit_date)).group_by(county)))
        rows[visit_span_summary.name] = int(conn.execute(select(func.count()).select_from(visit_span_summary)).scalar_one())
        _set_meta(conn, VISIT_YEARS_KEY, f"{years[0]},{years[1]}" if years else "")
        _set_meta(conn, LAYOUT_KEY, LAYOUT)
        _set_meta(conn, SUMMARY_KEY, version)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in TABLES:
                conn.exec_driver_sql(f"ANALYZE {table.name}")
    return {"seconds": round(time.perf_counter() - started, 2), "rows": rows, "version": version}


def _drop_outdated(engine: Engine) -> None:
    """Drop a summary table whose columns differ from this program's (a rebuild refills it anyway)."""
    from sqlalchemy import inspect

    inspector = inspect(engine)
    existing = set(inspector.get_table_names())
    for table in TABLES:
        if table.name in existing:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            if columns != set(table.c.keys()):
                table.drop(engine)


def _meta(conn: Connection, key: str) -> str | None:
    M = schema.meta
    return conn.execute(select(M.c.value).where(M.c.key == key)).scalar()


def _set_meta(conn: Connection, key: str, value: str) -> None:
    M = schema.meta
    if not conn.execute(M.update().where(M.c.key == key).values(value=value)).rowcount:
        conn.execute(M.insert().values(key=key, value=value))


# ---- using ----------------------------------------------------------------------


def fresh(conn_or_engine) -> bool:
    """True when the summaries were built from the data as it is now (meta versions equal)."""
    M = schema.meta
    stmt = select(M.c.key, M.c.value).where(M.c.key.in_(("data_version", SUMMARY_KEY, LAYOUT_KEY)))
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            values = dict(conn.execute(stmt).all())
    else:
        values = dict(conn_or_engine.execute(stmt).all())
    return _fresh(values)


def _fresh(values: dict) -> bool:
    built = values.get(SUMMARY_KEY)
    return bool(built) and built == values.get("data_version", "0") and values.get(LAYOUT_KEY) == LAYOUT


def village_visits_for(engine: Engine, year: int, as_of) -> Table | None:
    """summary_village_visit when fresh and built for this as-of date and year, else None."""
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, VISIT_AS_OF_KEY, VISIT_YEARS_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values):
        return None
    if values.get(VISIT_AS_OF_KEY) != as_of.isoformat() or not values.get(VISIT_YEARS_KEY):
        return None
    first, last = (int(x) for x in values[VISIT_YEARS_KEY].split(","))
    return village_visit_summary if first <= year <= last else None


def latest_income_for(engine: Engine, year: int) -> Table | None:
    """summary_latest_income when fresh and built for ``year`` (the as-of year), else None."""
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, INCOME_YEAR_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values):
        return None
    return latest_income_summary if values.get(INCOME_YEAR_KEY) == str(year) else None


def persons_for(engine: Engine, year: int | None = None) -> Table | None:
    """summary_person when fresh (and, for a school-age check in ``year``, built far enough back)."""
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, PERSON_FROM_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values) or not values.get(PERSON_FROM_KEY):
        return None
    if year is not None and year < int(values[PERSON_FROM_KEY]):
        return None
    return person_summary


def helpers_for(engine: Engine) -> Table | None:
    """summary_helper_village when fresh and exact (no cadre–household pair in two villages), else None."""
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, HELPER_EXACT_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values) or values.get(HELPER_EXACT_KEY) != "1":
        return None
    return helper_summary


def measures_for(engine: Engine, scope: Scope) -> Table | None:
    """summary_measure for a county or larger scope when fresh and exact, else None."""
    if REGION_LEVEL_DIGITS[scope.level] > REGION_LEVEL_DIGITS["county"]:
        return None
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, MEASURE_EXACT_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values) or values.get(MEASURE_EXACT_KEY) != "1":
        return None
    return measure_summary


def cause_match_for(engine: Engine, scope: Scope) -> bool:
    """Whether the cause-match summaries answer ``scope`` (a county or larger, fresh)."""
    return REGION_LEVEL_DIGITS[scope.level] <= REGION_LEVEL_DIGITS["county"] and fresh(engine)


def help_windows_for(engine: Engine, scope: Scope, periods, by: str) -> Table | None:
    """summary_help_window when it answers ``visit_rates(scope, periods, by)``: fresh and exact, every
    period among those built, grouped in total, by child region or by unit, for a county or larger."""
    if by not in ("total", "child", "unit") or REGION_LEVEL_DIGITS[scope.level] > REGION_LEVEL_DIGITS["county"]:
        return None
    M = schema.meta
    keys = ("data_version", SUMMARY_KEY, LAYOUT_KEY, HELP_WINDOWS_KEY, HELP_EXACT_KEY)
    with engine.connect() as conn:
        values = dict(conn.execute(select(M.c.key, M.c.value).where(M.c.key.in_(keys))).all())
    if not _fresh(values) or values.get(HELP_EXACT_KEY) != "1":
        return None
    have = set(values.get(HELP_WINDOWS_KEY, "").split(";"))
    if all(f"{s.isoformat()},{e.isoformat()}" in have for s, e in periods):
        return help_window_summary
    return None


_GRAIN = {household_summary.name: "village", cause_summary.name: "county", other_cause_summary.name: "county"}


def covers(table: Table, scope: Scope, group_level: str | None = None) -> bool:
    """Whether ``table``'s place grain can restrict to ``scope`` (and group by ``group_level``)."""
    grain = REGION_LEVEL_DIGITS[_GRAIN[table.name]]
    if REGION_LEVEL_DIGITS[scope.level] > grain:
        return False
    return group_level is None or REGION_LEVEL_DIGITS[group_level] <= grain


def households_for(engine_or_conn, scope: Scope, table: Table = household_summary,
                   group_level: str | None = None) -> Table:
    """The table to read households from: ``table`` when it is fresh and fine enough, else ``household``."""
    if covers(table, scope, group_level) and fresh(engine_or_conn):
        return table
    return schema.household


def smallest_households(engine_or_conn, scope: Scope, group_level: str | None = None) -> Table:
    """The coarsest fresh summary that can answer registry states for ``scope`` grouped by
    ``group_level``: the county grain (64,000 rows at province scale), else the village grain
    (300,000), else ``household``. Only for queries that read the state columns, member_count and the
    place columns the grain has (``child_key`` for grouping)."""
    if not fresh(engine_or_conn):
        return schema.household
    for table in (cause_summary, household_summary):
        if covers(table, scope, group_level):
            return table
    return schema.household


def is_summary(h: Table) -> bool:
    return "households" in h.c


def household_count(h: Table):
    """COUNT(*) of households: SUM(households) on a summary."""
    return func.sum(h.c.households) if is_summary(h) else func.count()


def child_key(scope: Scope, h: Table):
    """``scope.child_key`` that also works on the county-grain tables (cities of a province)."""
    child = scope.child_level
    name = f"{child}_code"
    if name in h.c or "village_code" in h.c:
        return scope.child_key(h)
    digits = REGION_LEVEL_DIGITS[child]
    return func.substr(h.c.county_code, 1, digits).concat(literal("0" * (12 - digits)))
