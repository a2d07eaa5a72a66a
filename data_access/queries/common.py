"""Definitions every query shares: what "poor", "exited" and "returned" mean in a year.

A registered household's state at the end of year ``Y``:
- in the registry (建档立卡, cumulative): kind = 建档立卡户 and identified_year <= Y
- 返贫 (returned):  in the registry and returned_year <= Y
- 已脱贫 (exited):   in the registry, exit_year <= Y and not returned by Y
- 未脱贫 (not exited): in the registry, not exited by Y and not returned by Y
The three states partition the registry. Poor people for 贫困发生率 are those
not exited plus those returned, divided by the rural population (农村户籍人口).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.engine import Engine

from ..codes import HOUSEHOLD_KIND_REGISTERED
from ..schema import household as H
from ..schema import region as R
from ..scope import Scope


def in_registry(year: int, h=H):
    return and_(h.c.kind == HOUSEHOLD_KIND_REGISTERED, h.c.identified_year <= year)


def returned_by(year: int, h=H):
    return and_(in_registry(year, h), h.c.returned_year.is_not(None), h.c.returned_year <= year)


def exited_by(year: int, h=H):
    return and_(
        in_registry(year, h),
        h.c.exit_year.is_not(None),
        h.c.exit_year <= year,
        or_(h.c.returned_year.is_(None), h.c.returned_year > year),
    )


def not_exited_by(year: int, h=H):
    return and_(
        in_registry(year, h),
        or_(h.c.exit_year.is_(None), h.c.exit_year > year),
        or_(h.c.returned_year.is_(None), h.c.returned_year > year),
    )


def poor_at(year: int, h=H):
    """Counted as poor for the incidence rate: not exited, or returned."""
    return or_(not_exited_by(year, h), returned_by(year, h))


def count_if(condition, h=None):
    """Households meeting ``condition`` (SUM of 0/1, portable).

    With ``h`` a summary table (``data_access.summary``: one row per group of households), the sum
    of its ``households`` column instead.
    """
    weight = h.c.households if h is not None and "households" in h.c else 1
    return func.coalesce(func.sum(case((condition, weight), else_=0)), 0)


def people_if(condition, h=H):
    """People (sum of member_count) of households meeting ``condition``."""
    return func.coalesce(func.sum(case((condition, h.c.member_count), else_=0)), 0)


def region_in(scope: Scope, r=R):
    """Regions (any level) whose code lies inside ``scope``."""
    lo, hi = scope.bounds
    return and_(r.c.code >= lo, r.c.code <= hi)


def rural_population(engine: Engine, scope: Scope) -> int:
    """农村户籍人口 of the scope: the sum over its villages."""
    stmt = select(func.coalesce(func.sum(R.c.rural_population), 0)).where(
        R.c.level == "village", region_in(scope)
    )
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def frame(engine: Engine, stmt, columns: list[str] | None = None) -> pd.DataFrame:
    """Run ``stmt`` and return its rows as a DataFrame (small, already aggregated)."""
    with engine.connect() as conn:
        result = conn.execute(stmt)
        cols = columns or list(result.keys())
        # plain tuples: pandas probes each Row for namedtuple fields, which costs ~6 µs a row in
        # SQLAlchemy's missing-key path (1.2 s for the 20,000 villages of a province)
        rows = [tuple(r) for r in result.all()]
    return pd.DataFrame(rows, columns=cols)


def pct(numerator, denominator) -> float | None:
    """Percentage rounded to 2 decimals; None when the denominator is 0."""
    if not denominator:
        return None
    return round(100.0 * float(numerator) / float(denominator), 2)


__all__ = [
    "in_registry", "returned_by", "exited_by", "not_exited_by", "poor_at", "count_if",
    "people_if", "rural_population", "region_in", "frame", "pct", "not_",
]
