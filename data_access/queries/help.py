"""帮扶力量: help units (帮扶单位), cadres (帮扶责任人), their households, visits (入户率) and help measures.

Definitions (every function here uses them):
- a household is assigned at a date when an assignment (结对帮扶) covers it: start_date <= date and
  (end_date is empty or end_date >= date); the assignment's village places it in a scope;
- a visit (入户) counts only when its kind is 入户走访 (HOME_VISIT_KINDS): a phone call or a policy
  meeting is a contact, not a home visit;
- 入户率 of a period [start, end] = assigned households at ``end`` with at least one home visit
  (by any cadre) in the period ÷ assigned households at ``end``;
- "no visit in N days" at a date: no home visit in the N days ending on that date (date included),
  so the households without a visit in 90 days are exactly the assigned households minus those
  visited in the 90-day 入户率 period ending on the same date.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, case, distinct, exists, func, or_, select
from sqlalchemy.engine import Engine

from ..codes import CAUSES, HELP_MEASURES
from ..schema import assignment as A
from ..schema import help_measure as HM
from ..schema import help_unit as U
from ..schema import helper as C
from ..schema import household as H
from ..schema import region as R
from ..schema import visit as V
from ..scope import Scope
from .common import count_if, frame, in_registry, pct, region_in

HOME_VISIT_KINDS = ("入户走访",)
LIST_LIMIT = 200
DEFAULT_DAYS = 90

# Which help measures answer which main cause (致贫原因 → 帮扶措施), for "措施是否对症".
# Causes without a specific measure (因婚, 因丧, 其他) are left out.
MATCHING_MEASURES: dict[str, tuple[str, ...]] = {
    "因病": ("健康帮扶",),
    "因残": ("健康帮扶", "公益岗位", "低保兜底", "特困供养"),
    "因学": ("教育帮扶",),
    "因灾": ("危房改造", "易地扶贫搬迁", "产业帮扶"),
    "缺土地": ("产业帮扶", "资产收益分红", "易地扶贫搬迁"),
    "缺水": ("易地扶贫搬迁",),
    "缺技术": ("技能培训", "就业帮扶"),
    "缺劳力": ("公益岗位", "低保兜底", "特困供养", "资产收益分红"),
    "缺资金": ("扶贫小额信贷", "产业帮扶"),
    "交通条件落后": ("易地扶贫搬迁",),
    "自身发展动力不足": ("就业帮扶", "技能培训", "产业帮扶", "公益岗位"),
}


def window(end: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """The ``days``-day period ending on ``end`` (both included)."""
    return end - dt.timedelta(days=days - 1), end


def assigned_on(on: dt.date, a=A):
    return and_(a.c.start_date <= on, or_(a.c.end_date.is_(None), a.c.end_date >= on))


def home_visited(start: dt.date, end: dt.date, hh_id):
    """The household ``hh_id`` had a home visit (入户走访) between ``start`` and ``end``."""
    return exists(select(1).where(V.c.hh_id == hh_id, V.c.visit_date.between(start, end),
                                  V.c.kind.in_(HOME_VISIT_KINDS)))


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
    cols = []
    for i, (start, end) in enumerate(periods):
        on = assigned_on(end)
        cols += [
            func.count(distinct(case((on, A.c.hh_id)))).label(f"assigned_{i}"),
            func.count(distinct(case((and_(on, home_visited(start, end, A.c.hh_id)), A.c.hh_id)))).label(f"visited_{i}"),
            func.count(distinct(case((on, A.c.helper_id)))).label(f"cadres_{i}"),
            func.count(distinct(case((on, C.c.unit_id)))).label(f"units_{i}"),
            count_if(on).label(f"assignments_{i}"),
        ]
    base = select().select_from(A.join(C, C.c.helper_id == A.c.helper_id)).where(scope.where(A))
    if by == "total":
        stmt = base.add_columns(*cols)
        got = frame(engine, stmt)
        got.insert(0, "key", scope.code)
        names = pd.DataFrame({"key": [scope.code], "name": [None]})
    else:
        if by == "unit":
            key = C.c.unit_id
            names_stmt = None
        elif by == "village":
            key = A.c.village_code
            names_stmt = select(R.c.code.label("key"), R.c.name).where(R.c.level == "village", region_in(scope))
        else:
            if scope.child_level is None:
                return pd.DataFrame(columns=RATE_COLUMNS)
            key = scope.child_key(A)
            names_stmt = select(R.c.code.label("key"), R.c.name).where(R.c.parent_code == scope.code)
        stmt = base.add_columns(key.label("key"), *cols).group_by(key)
        got = frame(engine, stmt)
        if names_stmt is None:
            unit_ids = list(got["key"]) if not got.empty else []
            names = frame(engine, select(U.c.unit_id.label("key"), U.c.name).where(U.c.unit_id.in_(unit_ids)))
        else:
            names = frame(engine, names_stmt.order_by(R.c.code))
    table = names.merge(got, on="key", how="left" if by in ("child", "village") else "right")
    records = []
    for row in table.to_dict("records"):
        for i, (start, end) in enumerate(periods):
            assigned = int(_zero(row.get(f"assigned_{i}")))
            visited = int(_zero(row.get(f"visited_{i}")))
            cadres = int(_zero(row.get(f"cadres_{i}")))
            pairs = int(_zero(row.get(f"assignments_{i}")))
            records.append({
                "key": row["key"], "name": row["name"], "period": i, "start": start, "end": end,
                "assigned_households": assigned, "visited_households": visited,
                "visit_rate": pct(visited, assigned), "cadres": cadres,
                "units": int(_zero(row.get(f"units_{i}"))), "assignments": pairs,
                "households_per_cadre": round(pairs / cadres, 1) if cadres else None,
            })
    return pd.DataFrame.from_records(records, columns=RATE_COLUMNS)


def _zero(value):
    return 0 if value is None or value != value else value


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
    rows["days_since"] = [(on - d).days if d is not None and d == d else None for d in rows["last_visit"]]
    return {"total": total, "rows": rows}


def cadres_without_visit(engine: Engine, scope: Scope, on: dt.date, days: int = DEFAULT_DAYS,
                         limit: int = LIST_LIMIT) -> dict:
    """Cadres with households assigned in the scope at ``on`` who made no home visit (to anyone) in the
    ``days`` days ending on ``on``.

    Keys: total, rows: DataFrame (longest without a visit first, at most ``limit``) with helper_id,
    name, unit, phone, town, households (assigned in the scope), last_visit, days_since.
    """
    start, end = window(on, days)
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
    rows["days_since"] = [(on - d).days if d is not None and d == d else None for d in rows["last_visit"]]
    return {"total": total, "rows": rows}


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
    cols = []
    for i, cause in enumerate(causes):
        is_cause = H.c.main_cause == cause
        cols += [count_if(is_cause).label(f"n_{i}"),
                 count_if(and_(is_cause, matched(cause, HM.c.year == year))).label(f"y_{i}"),
                 count_if(and_(is_cause, matched(cause, HM.c.year <= year))).label(f"e_{i}")]
    stmt = select(*cols).where(scope.where(H), in_registry(year))
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    records = []
    for i, cause in enumerate(causes):
        n, y, e = int(row[3 * i]), int(row[3 * i + 1]), int(row[3 * i + 2])
        records.append({"cause": cause, "measures": "、".join(MATCHING_MEASURES[cause]), "households": n,
                        "matched_year": y, "matched_year_rate": pct(y, n),
                        "matched_ever": e, "matched_ever_rate": pct(e, n), "unmatched_ever": n - e})
    return pd.DataFrame.from_records(records)
