"""帮扶力量: help units (帮扶单位), cadres (帮扶责任人), their households, visits (入户率) and help measures.

Definitions: what an assigned household, a home visit (入户), 入户率 and "no visit in N days" are is
written once, in ``data_access.rules``; every function here uses those rules.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, distinct, exists, func, or_, select
from sqlalchemy.engine import Engine

from ..codes import CAUSES, HELP_MEASURES, REGION_LEVEL_DIGITS
from ..names import display_name_sql
from ..schema import assignment as A
from ..schema import help_measure as HM
from ..schema import help_unit as U
from ..schema import helper as C
from ..schema import household as H
from ..schema import region as R
from ..schema import visit as V
from ..summary import read as summary
from ..scope import Scope
from ..rules import HOME_VISIT_KINDS, MATCHING_MEASURES, assigned_on, home_visited, in_registry, window
from .common import count_if, frame, pct, ratios, region_in

LIST_LIMIT = 200
DEFAULT_DAYS = 90

BY_KEYS = ("total", "child", "village", "unit")
RATE_COLUMNS = ["key", "name", "period", "start", "end", "assigned_households", "visited_households",
                "visit_rate", "cadres", "units", "assignments", "households_per_cadre"]


def visit_rates(engine: Engine, scope: Scope, periods: tuple[tuple[dt.date, dt.date], ...],
                by: str = "total") -> pd.DataFrame:
    """入户率 and the help force for each period ``(start, end)``, in total or per group.

    ``by``: "total" (one row per period, key = scope code), "child" (per child region of the scope,
    every child listed), "village" (per village of the scope, every village listed) or "unit" (per
    帮扶单位 with a cadre assigned in the scope).
    Columns: key, name, period (index into ``periods``), start, end, assigned_households (at ``end``),
    visited_households, visit_rate (%), cadres and units with an assignment at ``end``,
    assignments (cadre–household pairs), households_per_cadre (assignments ÷ cadres).
    """
    if by not in BY_KEYS:
        raise ValueError(f"unknown grouping {by!r}")
    names_stmt = None
    if by == "total":
        key = None
    elif by == "unit":
        key = C.c.unit_id
    elif by == "village":
        key = A.c.village_code
        names_stmt = select(R.c.code.label("key"), display_name_sql(R.c.name).label("name")) \
            .where(R.c.level == "village", region_in(scope))
    else:
        if scope.child_level is None:
            return pd.DataFrame(columns=RATE_COLUMNS)
        key = scope.child_key(A)
        names_stmt = select(R.c.code.label("key"), display_name_sql(R.c.name).label("name")) \
            .where(R.c.parent_code == scope.code)
    keys = [key.label("key")] if key is not None else []
    joined = A.join(C, C.c.helper_id == A.c.helper_id)
    n = len(periods)
    hw = summary.help_windows_for(engine, scope, periods, by)
    if hw is not None:  # the same figures summed over towns (data_access.summary)
        got, crew = _rates_from_summary(engine, scope, periods, by, hw)
        return _rates_table(engine, scope, periods, by, key, names_stmt, got, crew)

    # Households: a 0/1 "assigned at the period's end" flag per household (and group), and one pass
    # over the home visits giving a 0/1 "visited in the period" flag per household.
    first = min(start for start, _ in periods)
    last = max(end for _, end in periods)
    visited = (select(V.c.hh_id, *[func.max(case((V.c.visit_date.between(s, e), 1), else_=0)).label(f"v{i}")
                                   for i, (s, e) in enumerate(periods)])
               .where(scope.where(V), V.c.kind.in_(HOME_VISIT_KINDS), V.c.visit_date.between(first, last))
               .group_by(V.c.hh_id).subquery("visited"))
    households = (select(A.c.hh_id, *keys, *[func.max(case((assigned_on(e), 1), else_=0)).label(f"a{i}")
                                             for i, (_, e) in enumerate(periods)])
                  .select_from(joined).where(scope.where(A))
                  .group_by(A.c.hh_id, *([key] if key is not None else [])).subquery("assigned"))
    hh_cols = []
    for i in range(n):
        hh_cols += [func.coalesce(func.sum(households.c[f"a{i}"]), 0).label(f"assigned_{i}"),
                    count_if(and_(households.c[f"a{i}"] == 1, visited.c[f"v{i}"] == 1)).label(f"visited_{i}")]
    hh_stmt = (select(*([households.c.key] if key is not None else []), *hh_cols)
               .select_from(households.outerjoin(visited, visited.c.hh_id == households.c.hh_id)))
    # Cadres: per cadre (and group), a flag and the number of households assigned at each period's end.
    cadres = (select(A.c.helper_id, C.c.unit_id, *keys,
                     *[count_if(assigned_on(e)).label(f"p{i}") for i, (_, e) in enumerate(periods)])
              .select_from(joined).where(scope.where(A))
              .group_by(A.c.helper_id, C.c.unit_id, *([key] if key is not None else [])).subquery("cadres"))
    cadre_cols = []
    for i in range(n):
        cadre_cols += [count_if(cadres.c[f"p{i}"] > 0).label(f"cadres_{i}"),
                       func.count(distinct(case((cadres.c[f"p{i}"] > 0, cadres.c.unit_id)))).label(f"units_{i}"),
                       func.coalesce(func.sum(cadres.c[f"p{i}"]), 0).label(f"assignments_{i}")]
    cadre_stmt = select(*([cadres.c.key] if key is not None else []), *cadre_cols)
    if key is not None:
        hh_stmt = hh_stmt.group_by(households.c.key)
        cadre_stmt = cadre_stmt.group_by(cadres.c.key)
    got = frame(engine, hh_stmt)
    crew = frame(engine, cadre_stmt)
    return _rates_table(engine, scope, periods, by, key, names_stmt, got, crew)


def _rates_from_summary(engine: Engine, scope: Scope, periods, by: str, hw):
    """``visit_rates``' two frames (households, cadres) from summary_help_window: one GROUP BY key and period
    (numbered in SQL) over the rows of the periods asked for, spread into the per-period columns after (a CASE
    per period and figure made 60 sums over every row for the 12 windows of the trend)."""
    if by == "unit":
        return _rates_pivoted(engine, scope, periods, by, hw)
    key = None if by == "total" else summary.child_key(scope, hw)
    keys = [key.label("key")] if key is not None else []
    number: dict = {}  # each distinct (start, end) asked for -> its number in the statement
    for s, e in periods:
        number.setdefault((s, e), len(number))
    matches = [(and_(hw.c.start_date == s, hw.c.end_date == e), u) for (s, e), u in number.items()]
    period = case(*matches, else_=-1).label("u")
    wanted = or_(*[m for m, _ in matches])
    households = hw.c.unit_id.is_(None)  # the rows of distinct households over all units
    group = [*([key] if key is not None else []), period]
    hh_stmt = (select(*keys, period, func.sum(hw.c.assigned_households), func.sum(hw.c.visited_households))
               .where(scope.where(hw), households, wanted).group_by(*group))
    cadre_stmt = (select(*keys, period, func.sum(hw.c.cadres),
                         func.count(distinct(case((hw.c.cadres > 0, hw.c.unit_id)))), func.sum(hw.c.assignments))
                  .where(scope.where(hw), hw.c.unit_id.is_not(None), wanted).group_by(*group))
    with engine.connect() as conn:
        hh_rows, cadre_rows = conn.execute(hh_stmt).all(), conn.execute(cadre_stmt).all()
    order = [number[p] for p in periods]
    return (_spread(hh_rows, order, ("assigned", "visited"), key is not None),
            _spread(cadre_rows, order, ("cadres", "units", "assignments"), key is not None))


def _rates_pivoted(engine: Engine, scope: Scope, periods, by: str, hw):
    """``_rates_from_summary`` by 帮扶单位, pivoted in SQL (a CASE per period and figure): for ~2,000 units at
    province scale one row a unit costs less to fetch than one a unit and period (24,000 rows for the 12
    windows of the trend)."""
    key = hw.c.unit_id
    keys = [key.label("key")]

    def at(i):
        s, e = periods[i]
        return and_(hw.c.start_date == s, hw.c.end_date == e)

    hh_cols, cadre_cols = [], []
    for i in range(len(periods)):
        hh_cols += [func.coalesce(func.sum(case((at(i), hw.c.assigned_households), else_=0)), 0).label(f"assigned_{i}"),
                    func.coalesce(func.sum(case((at(i), hw.c.visited_households), else_=0)), 0).label(f"visited_{i}")]
        # grouped by the unit, its count of units is 1 when one of its rows has a cadre (a MAX, not a
        # COUNT(DISTINCT), which sorts each group once per period)
        cadre_cols += [func.coalesce(func.sum(case((at(i), hw.c.cadres), else_=0)), 0).label(f"cadres_{i}"),
                       func.max(case((and_(at(i), hw.c.cadres > 0), 1), else_=0)).label(f"units_{i}"),
                       func.coalesce(func.sum(case((at(i), hw.c.assignments), else_=0)), 0).label(f"assignments_{i}")]
    wanted = or_(*[at(i) for i in range(len(periods))])  # only the rows of the periods asked for
    both = frame(engine, select(*keys, *hh_cols, *cadre_cols)  # one pass for the households and the cadres
                 .where(scope.where(hw), hw.c.unit_id.is_not(None), wanted).group_by(key))
    for col in both.columns:
        if col != "key":
            both[col] = both[col].astype("int64")
    return both[["key", *(c.name for c in hh_cols)]], both[["key", *(c.name for c in cadre_cols)]]


def _spread(rows, order: list[int], names: tuple[str, ...], keyed: bool) -> pd.DataFrame:
    """Rows of ([key,] period number, *values) as one row per key with ``<name>_<i>`` for each period i, whose
    number is ``order[i]`` (0 where the key has no row of that period); without a key one row (zeros when
    there are none)."""
    columns = [f"{name}_{i}" for i in range(len(order)) for name in names]
    width = max(order) + 1 if order else 0
    columns_in = list(zip(*[tuple(r) for r in rows]))  # plain tuples: a Row's slice costs ~25 µs
    if keyed:
        codes, keys = pd.factorize(pd.Series(columns_in[0] if rows else [], dtype=object))
        columns_in = columns_in[1:]
    else:
        keys, codes = [None], [0] * len(rows)
    grid = np.zeros((len(names), len(keys) if keyed else 1, width), dtype="int64")
    if rows:
        u = np.asarray(columns_in[0], dtype="int64")
        codes = np.asarray(codes, dtype="int64")
        ok = (u >= 0) & (u < width)
        for j in range(len(names)):
            values = np.asarray([v or 0 for v in columns_in[1 + j]], dtype="int64")
            grid[j, codes[ok], u[ok]] = values[ok]
    out = pd.DataFrame({"key": list(keys)}) if keyed else pd.DataFrame(index=[0])
    for i, u in enumerate(order):
        for j, name in enumerate(names):
            out[f"{name}_{i}"] = grid[j, :, u]
    return out[(["key"] if keyed else []) + columns].reset_index(drop=True)


def _rates_table(engine: Engine, scope: Scope, periods, by: str, key, names_stmt, got: pd.DataFrame,
                 crew: pd.DataFrame) -> pd.DataFrame:
    if key is None:
        got = pd.concat([got, crew], axis=1)
        got.insert(0, "key", scope.code)
        names = pd.DataFrame({"key": [scope.code], "name": [None]})
    else:
        got = got.merge(crew, on="key", how="outer")
        if names_stmt is None:
            # every unit's name: the right merge below keeps got's units only (binding the 4,000 ids of a
            # province as an IN list cost more than reading the whole table)
            names = frame(engine, select(U.c.unit_id.label("key"), U.c.name))
        else:
            names = frame(engine, names_stmt.order_by(R.c.code))
    table = names.merge(got, on="key", how="left" if by in ("child", "village") else "right")
    if by == "unit":
        table = table.sort_values("key")
    n, rows = len(periods), len(table)
    if not rows or not n:
        return pd.DataFrame.from_records([], columns=RATE_COLUMNS)

    def counts(name: str) -> np.ndarray:  # row-major (each row's periods in order), as the records run
        return np.stack([table[f"{name}_{i}"].fillna(0).to_numpy().astype("int64") for i in range(n)],
                        axis=1).ravel()

    assigned, visited_n, cadres_n, units, pairs = (counts(name) for name in (
        "assigned", "visited", "cadres", "units", "assignments"))
    return pd.DataFrame({
        "key": np.repeat(table["key"].to_numpy(dtype=object), n).tolist(),
        "name": np.repeat(table["name"].to_numpy(dtype=object), n).tolist(),
        "period": np.tile(np.arange(n, dtype="int64"), rows),
        "start": [start for _ in range(rows) for start, _ in periods],
        "end": [end for _ in range(rows) for _, end in periods],
        "assigned_households": assigned, "visited_households": visited_n,
        "visit_rate": ratios(visited_n, assigned, 2, 100), "cadres": cadres_n, "units": units,
        "assignments": pairs, "households_per_cadre": ratios(pairs, cadres_n, 1, 1),
    }, columns=RATE_COLUMNS)


def visit_kinds(engine: Engine, scope: Scope, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Contacts logged in the period by kind (走访记录: 入户走访 / 电话联系 / 政策宣讲).

    Columns: kind, visits (records), households (distinct), counts_as_visit (True for the kinds
    that count toward 入户率).
    """
    stmt = (select(V.c.kind, func.count().label("visits"), func.count(distinct(V.c.hh_id)).label("households"))
            .where(scope.where(V), V.c.visit_date.between(start, end)).group_by(V.c.kind).order_by(V.c.kind))
    df = frame(engine, stmt)
    df["counts_as_visit"] = df["kind"].isin(HOME_VISIT_KINDS)
    return df


def visit_span(engine: Engine, scope: Scope) -> dict:
    """First and last date of the visit records in the scope (None when there are none)."""
    stmt = select(func.min(V.c.visit_date), func.max(V.c.visit_date)).where(scope.where(V))
    if REGION_LEVEL_DIGITS[scope.level] <= REGION_LEVEL_DIGITS["county"] and summary.fresh(engine):
        vs = summary.visit_span_summary  # the same dates from the per-county summary (data_access.summary)
        stmt = select(func.min(vs.c.first_date), func.max(vs.c.last_date)).where(scope.where(vs))
    with engine.connect() as conn:
        first, last = conn.execute(stmt).one()
    return {"first": first, "last": last}


def _last_home_visit_of_household(on: dt.date, hh_id):
    return (select(func.max(V.c.visit_date))
            .where(V.c.hh_id == hh_id, V.c.visit_date <= on, V.c.kind.in_(HOME_VISIT_KINDS))
            .scalar_subquery())


def households_without_visit(engine: Engine, scope: Scope, on: dt.date, days: int = DEFAULT_DAYS,
                             limit: int = LIST_LIMIT) -> dict:
    """Households assigned at ``on`` with no home visit in the ``days`` days ending on ``on``.

    Keys: total, rows: DataFrame (longest without a visit first, never visited first; at most
    ``limit``) with hh_id, head_name, town, village, cadre (a household with several cadres shows
    the first by name), unit, last_visit (date or None), days_since (None if never).
    """
    start, end = window(on, days)
    found = summary.last_visits_for(engine, on)
    if found is not None:  # the same list from the per-household last visit (data_access.summary)
        return _households_without_visit_from_summary(engine, scope, on, start, found[0], limit)
    a = A.alias("a")
    assigned = select(a.c.hh_id, func.min(C.c.name).label("cadre"), func.min(U.c.name).label("unit")) \
        .join(C, C.c.helper_id == a.c.helper_id).join(U, U.c.unit_id == C.c.unit_id) \
        .where(scope.where(a), assigned_on(on, a), ~home_visited(start, end, a.c.hh_id)) \
        .group_by(a.c.hh_id).subquery("unvisited")
    village, town = R.alias("village"), R.alias("town")
    last = _last_home_visit_of_household(on, H.c.hh_id).label("last_visit")
    stmt = (
        select(H.c.hh_id, H.c.head_name, town.c.name.label("town"), village.c.name.label("village"),
               assigned.c.cadre, assigned.c.unit, last)
        .join(assigned, assigned.c.hh_id == H.c.hh_id)
        .outerjoin(village, village.c.code == H.c.village_code)
        .outerjoin(town, town.c.code == H.c.town_code)
        .order_by(case((last.is_(None), 0), else_=1), last, H.c.hh_id)
        .limit(limit)
    )
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(assigned)).scalar_one())
    rows = frame(engine, stmt)
    rows["days_since"] = pd.array([(on - d).days if d is not None and d == d else None for d in rows["last_visit"]],
                                  dtype="Int64")
    return {"total": total, "rows": rows}


def _days_since(on: dt.date, rows: pd.DataFrame) -> pd.DataFrame:
    rows["days_since"] = pd.array([(on - d).days if d is not None and d == d else None for d in rows["last_visit"]],
                                  dtype="Int64")
    return rows


def _households_without_visit_from_summary(engine: Engine, scope: Scope, on: dt.date, start: dt.date, lv,
                                           limit: int) -> dict:
    """``households_without_visit`` from summary_household_last_visit: a household had no home visit in
    [start, on] exactly when its last home visit up to ``on`` is before ``start`` (or there is none)."""
    where = and_(scope.where(lv), or_(lv.c.last_visit.is_(None), lv.c.last_visit < start))
    top = (select(lv.c.hh_id, lv.c.cadre, lv.c.unit, lv.c.last_visit).where(where)
           .order_by(lv.c.last_visit.asc().nulls_first(), lv.c.hh_id)  # the table's index, never visited first
           .limit(limit).subquery("top"))
    village, town = R.alias("village"), R.alias("town")
    stmt = (
        select(top.c.hh_id, H.c.head_name, town.c.name.label("town"), village.c.name.label("village"),
               top.c.cadre, top.c.unit, top.c.last_visit)
        .select_from(top.join(H, H.c.hh_id == top.c.hh_id)
                     .outerjoin(village, village.c.code == H.c.village_code)
                     .outerjoin(town, town.c.code == H.c.town_code))
        .order_by(case((top.c.last_visit.is_(None), 0), else_=1), top.c.last_visit, top.c.hh_id)
    )
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).where(where)).scalar_one())
    return {"total": total, "rows": _days_since(on, frame(engine, stmt))}


def _cadres_without_visit_from_summary(engine: Engine, scope: Scope, on: dt.date, start: dt.date, cv,
                                       limit: int) -> dict:
    """``cadres_without_visit`` from summary_cadre_last_visit: a cadre made no home visit in [start, on]
    exactly when the cadre's last home visit up to ``on`` is before ``start`` (or there is none)."""
    idle = (select(cv.c.helper_id, func.sum(cv.c.households).label("households"),
                   func.max(cv.c.last_visit).label("last_visit"))
            .where(scope.where(cv), or_(cv.c.last_visit.is_(None), cv.c.last_visit < start))
            .group_by(cv.c.helper_id).subquery("idle"))
    town = R.alias("town")
    joined = (idle.join(C, C.c.helper_id == idle.c.helper_id).join(U, U.c.unit_id == C.c.unit_id)
              .outerjoin(town, town.c.code == C.c.town_code))
    last = idle.c.last_visit
    stmt = (select(idle.c.helper_id, C.c.name, U.c.name.label("unit"), C.c.phone, town.c.name.label("town"),
                   idle.c.households, last)
            .select_from(joined)
            .order_by(case((last.is_(None), 0), else_=1), last, idle.c.helper_id).limit(limit))
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(idle)).scalar_one())
    rows = frame(engine, stmt)
    rows["households"] = rows["households"].astype("int64")
    return {"total": total, "rows": _days_since(on, rows)}


def cadres_without_visit(engine: Engine, scope: Scope, on: dt.date, days: int = DEFAULT_DAYS,
                         limit: int = LIST_LIMIT) -> dict:
    """Cadres with households assigned in the scope at ``on`` who made no home visit (to anyone) in the
    ``days`` days ending on ``on``.

    Keys: total, rows: DataFrame (longest without a visit first, at most ``limit``) with helper_id,
    name, unit, phone, town, households (assigned in the scope), last_visit, days_since.
    """
    start, end = window(on, days)
    found = summary.last_visits_for(engine, on)
    if found is not None and found[1] is not None:  # per cadre and village (data_access.summary)
        return _cadres_without_visit_from_summary(engine, scope, on, start, found[1], limit)
    made_visit = exists(select(1).where(V.c.helper_id == C.c.helper_id, V.c.visit_date.between(start, end),
                                        V.c.kind.in_(HOME_VISIT_KINDS)))
    town = R.alias("town")
    grouped = (
        select(C.c.helper_id, C.c.name, U.c.name.label("unit"), C.c.phone, town.c.name.label("town"),
               func.count(distinct(A.c.hh_id)).label("households"))
        .select_from(A.join(C, C.c.helper_id == A.c.helper_id).join(U, U.c.unit_id == C.c.unit_id)
                     .outerjoin(town, town.c.code == C.c.town_code))
        .where(scope.where(A), assigned_on(on), ~made_visit)
        .group_by(C.c.helper_id, C.c.name, U.c.name, C.c.phone, town.c.name)
        .subquery("idle")
    )
    last_of = (select(func.max(V.c.visit_date))
               .where(V.c.helper_id == grouped.c.helper_id, V.c.visit_date <= on, V.c.kind.in_(HOME_VISIT_KINDS))
               .scalar_subquery().label("last_visit"))
    stmt = (select(grouped, last_of)
            .order_by(case((last_of.is_(None), 0), else_=1), last_of, grouped.c.helper_id).limit(limit))
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(grouped)).scalar_one())
    rows = frame(engine, stmt)
    rows["days_since"] = pd.array([(on - d).days if d is not None and d == d else None for d in rows["last_visit"]],
                                  dtype="Int64")
    return {"total": total, "rows": rows}


def measure_span(engine: Engine, scope: Scope) -> dict:
    """First and last year with help-measure records in the scope (None when there are none)."""
    stmt = select(func.min(HM.c.year), func.max(HM.c.year)).where(scope.where(HM))
    ms = summary.measures_for(engine, scope)
    if ms is not None:  # the same years from the per-county summary (data_access.summary)
        stmt = select(func.min(ms.c.year), func.max(ms.c.year)).where(scope.where(ms))
    with engine.connect() as conn:
        first, last = conn.execute(stmt).one()
    return {"first": first, "last": last}


def measures(engine: Engine, scope: Scope, first_year: int, last_year: int) -> pd.DataFrame:
    """帮扶措施 per year and kind: households reached (distinct), measures (records), amount (元).

    Columns: year, measure, households, measures, amount. Only (year, measure) pairs with records.
    """
    stmt = (
        select(HM.c.year, HM.c.measure, func.count(distinct(HM.c.hh_id)).label("households"),
               func.count().label("measures"), func.coalesce(func.sum(HM.c.amount), 0).label("amount"))
        .where(scope.where(HM), HM.c.year.between(first_year, last_year))
        .group_by(HM.c.year, HM.c.measure)
        .order_by(HM.c.year, HM.c.measure)
    )
    ms = summary.measures_for(engine, scope)
    if ms is not None:  # the same figures summed over the scope's counties (data_access.summary)
        stmt = (
            select(ms.c.year, ms.c.measure, func.sum(ms.c.households).label("households"),
                   func.sum(ms.c.measures).label("measures"), func.coalesce(func.sum(ms.c.amount), 0).label("amount"))
            .where(scope.where(ms), ms.c.year.between(first_year, last_year))
            .group_by(ms.c.year, ms.c.measure)
            .order_by(ms.c.year, ms.c.measure)
        )
    df = frame(engine, stmt)
    for col in ("households", "measures", "amount"):
        df[col] = df[col].astype("int64")
    order = {m: i for i, m in enumerate(HELP_MEASURES)}
    if not df.empty:
        df = df.sort_values(["year", "measure"], key=lambda s: s.map(order).fillna(99) if s.name == "measure" else s)
    return df.reset_index(drop=True)


def cause_match(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """Do the measures answer the cause? For each main cause (主要致贫原因) with matching measures
    (MATCHING_MEASURES): registered households (建档立卡 by ``year``) with that cause, those with a
    matching measure in ``year``, and those with one in any year up to ``year``.

    Columns: cause, measures (the matching measures, joined by "、"), households, matched_year,
    matched_year_rate (%), matched_ever, matched_ever_rate (%), unmatched_ever. By CAUSES order.
    """
    def matched(cause: str, years):
        return exists(select(1).where(HM.c.hh_id == H.c.hh_id, HM.c.measure.in_(MATCHING_MEASURES[cause]), years))

    causes = [c for c in CAUSES if c in MATCHING_MEASURES]
    if summary.cause_match_for(engine, scope):
        row = _cause_match_from_summary(engine, scope, year, causes)
    else:
        row = _cause_match_from_base(engine, scope, year, causes, matched)
    records = []
    for i, cause in enumerate(causes):
        n, y, e = int(row[3 * i]), int(row[3 * i + 1]), int(row[3 * i + 2])
        records.append({"cause": cause, "measures": "、".join(MATCHING_MEASURES[cause]), "households": n,
                        "matched_year": y, "matched_year_rate": pct(y, n),
                        "matched_ever": e, "matched_ever_rate": pct(e, n), "unmatched_ever": n - e})
    return pd.DataFrame.from_records(records)


def _cause_match_from_summary(engine: Engine, scope: Scope, year: int, causes: list[str]) -> list[int]:
    """(n, matched in year, matched ever) per cause from summary_cause_match(_year) (data_access.summary)."""
    first, by_year = summary.cause_match_summary, summary.cause_match_year_summary
    firsts = select(first.c.main_cause, func.sum(first.c.households),
                    count_if(and_(first.c.first_year.is_not(None), first.c.first_year <= year), first)) \
        .where(scope.where(first), in_registry(year, first)).group_by(first.c.main_cause)
    years = select(by_year.c.main_cause, func.sum(by_year.c.households)) \
        .where(scope.where(by_year), in_registry(year, by_year), by_year.c.year == year).group_by(by_year.c.main_cause)
    with engine.connect() as conn:
        n_e = {c: (int(n or 0), int(e or 0)) for c, n, e in conn.execute(firsts)}
        y = {c: int(v or 0) for c, v in conn.execute(years)}
    row = []
    for cause in causes:
        n, e = n_e.get(cause, (0, 0))
        row += [n, y.get(cause, 0), e]
    return row


def _cause_match_from_base(engine: Engine, scope: Scope, year: int, causes: list[str], matched) -> list:
    cols = []
    for i, cause in enumerate(causes):
        is_cause = H.c.main_cause == cause
        cols += [count_if(is_cause).label(f"n_{i}"),
                 count_if(and_(is_cause, matched(cause, HM.c.year == year))).label(f"y_{i}"),
                 count_if(and_(is_cause, matched(cause, HM.c.year <= year))).label(f"e_{i}")]
    stmt = select(*cols).where(scope.where(H), in_registry(year))
    with engine.connect() as conn:
        return list(conn.execute(stmt).one())
