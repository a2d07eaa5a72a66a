"""The overview (总览): registry counts, exits against targets, incidence, child-region ranking."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, func, literal, select
from sqlalchemy.engine import Engine

from ..codes import REGION_LEVEL_DIGITS
from ..schema import region as R
from ..summary import read as summary
from ..scope import Scope
from ..rules import exited_by, in_registry, not_exited_by, poor_at, returned_by
from .common import yearly  # noqa: F401  (the overview's exits-against-targets figure)
from .common import count_if, frame, pct, people_if, region_in

COUNT_COLUMNS = [
    "registered_households", "registered_persons",
    "exited_households", "exited_persons",
    "not_exited_households", "not_exited_persons",
    "returned_households", "returned_persons",
    "poor_persons",
]


def registry_counts(engine: Engine, scope: Scope, year: int) -> dict:
    """建档立卡 households/people at the end of ``year`` in the scope, by state.

    Keys: COUNT_COLUMNS (households in 户, persons in 人).
    """
    h = summary.smallest_households(engine, scope)
    stmt = select(
        count_if(in_registry(year, h), h), people_if(in_registry(year, h), h),
        count_if(exited_by(year, h), h), people_if(exited_by(year, h), h),
        count_if(not_exited_by(year, h), h), people_if(not_exited_by(year, h), h),
        count_if(returned_by(year, h), h), people_if(returned_by(year, h), h),
        people_if(poor_at(year, h), h),
    ).where(scope.where(h))
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    return {k: int(v) for k, v in zip(COUNT_COLUMNS, row)}


def village_counts(engine: Engine, scope: Scope, year: int) -> dict:
    """Poor villages (贫困村) in the scope, how many have exited (出列) by ``year``, rural population."""
    is_village = and_(R.c.level == "village", region_in(scope))
    stmt = select(
        count_if(R.c.is_poor_village.is_(True)),
        count_if(and_(R.c.is_poor_village.is_(True), R.c.poor_village_exit_year <= year)),
        func.coalesce(func.sum(R.c.rural_population), 0),
        func.count(),
    ).where(is_village)
    with engine.connect() as conn:
        poor, exited, population, villages = conn.execute(stmt).one()
    return {
        "poor_villages": int(poor), "poor_villages_exited": int(exited),
        "poor_villages_remaining": int(poor) - int(exited),
        "rural_population": int(population), "villages": int(villages),
    }


def headline(engine: Engine, scope: Scope, year: int) -> dict:
    """Registry counts, villages and the poverty incidence (贫困发生率, %) at the end of ``year``."""
    out = registry_counts(engine, scope, year)
    out.update(village_counts(engine, scope, year))
    out["incidence"] = pct(out["poor_persons"], out["rural_population"])
    return out


def child_ranking(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """Each child region's registry figures and incidence at the end of ``year``.

    Columns: code, name, registered_households, registered_persons, exited_households,
    poor_persons, rural_population, incidence (%), exit_rate (% of registered households exited).
    Sorted by incidence, highest (the laggards) first.
    """
    h = summary.smallest_households(engine, scope, scope.child_level)
    key = summary.child_key(scope, h).label("code")
    per_child = select(
        key,
        count_if(in_registry(year, h), h).label("registered_households"),
        people_if(in_registry(year, h), h).label("registered_persons"),
        count_if(exited_by(year, h), h).label("exited_households"),
        people_if(poor_at(year, h), h).label("poor_persons"),
    ).where(scope.where(h)).group_by(key).subquery()
    child_level = scope.child_level
    if child_level == "village":
        population = R.c.rural_population
    else:
        vill = R.alias("v")
        digits = REGION_LEVEL_DIGITS[child_level]  # 4 for the cities of a province, 6 counties, 9 towns
        population = (
            select(func.coalesce(func.sum(vill.c.rural_population), 0))
            .where(vill.c.level == "village", vill.c.code.between(
                R.c.code, func.substr(R.c.code, 1, digits).concat(literal("9" * (12 - digits)))))
            .scalar_subquery()
        )
    stmt = (
        select(
            R.c.code, R.c.name,
            func.coalesce(per_child.c.registered_households, 0).label("registered_households"),
            func.coalesce(per_child.c.registered_persons, 0).label("registered_persons"),
            func.coalesce(per_child.c.exited_households, 0).label("exited_households"),
            func.coalesce(per_child.c.poor_persons, 0).label("poor_persons"),
            population.label("rural_population"),
        )
        .outerjoin(per_child, per_child.c.code == R.c.code)
        .where(R.c.parent_code == scope.code)
        .order_by(R.c.code)
    )
    df = frame(engine, stmt)
    if df.empty:
        return df.assign(incidence=pd.Series(dtype=float), exit_rate=pd.Series(dtype=float))
    df["incidence"] = [pct(p, r) for p, r in zip(df.poor_persons, df.rural_population)]
    df["exit_rate"] = [pct(e, n) for e, n in zip(df.exited_households, df.registered_households)]
    return df.sort_values(["incidence", "code"], ascending=[False, True], na_position="last").reset_index(drop=True)
