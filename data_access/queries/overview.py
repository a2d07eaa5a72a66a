"""The overview (总览): registry counts, villages and incidence; exits against targets (``common.yearly``).

The child-region ranking under it is ``villages.child_indicators`` (one set of definitions with the map).
"""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from ..schema import region as R
from ..summary import read as summary
from ..scope import Scope
from ..rules import ever_exited_by, exited_by, in_registry, not_exited_by, poor_at, returned_by
from .common import count_if, pct, people_if, region_in, rural_population

COUNT_COLUMNS = [
    "registered_households", "registered_persons",
    "exited_households", "exited_persons",
    "not_exited_households", "not_exited_persons",
    "returned_households", "returned_persons",
    "poor_persons",
    "ever_exited_households", "ever_exited_persons",
]


def registry_counts(engine: Engine, scope: Scope, year: int) -> dict:
    """建档立卡 households/people at the end of ``year`` in the scope, by state.

    Keys: COUNT_COLUMNS (households in 户, persons in 人): exited_* is 已脱贫 (``rules.exited_by``),
    ever_exited_* is 累计脱贫(含其后返贫) (``rules.ever_exited_by``).
    """
    vy = summary.village_years_for(engine, (year,))
    if vy is not None:  # the same counts per village and year (data_access.summary)
        stmt = select(*[func.coalesce(func.sum(vy.c[n]), 0) for n in COUNT_COLUMNS]).where(
            scope.where(vy), vy.c.year == year)
        with engine.connect() as conn:
            row = conn.execute(stmt).one()
        return {k: int(v) for k, v in zip(COUNT_COLUMNS, row)}
    h = summary.smallest_households(engine, scope)
    stmt = select(
        count_if(in_registry(year, h), h), people_if(in_registry(year, h), h, year),
        count_if(exited_by(year, h), h), people_if(exited_by(year, h), h, year),
        count_if(not_exited_by(year, h), h), people_if(not_exited_by(year, h), h, year),
        count_if(returned_by(year, h), h), people_if(returned_by(year, h), h, year),
        people_if(poor_at(year, h), h, year),
        count_if(ever_exited_by(year, h), h), people_if(ever_exited_by(year, h), h, year),
    ).where(scope.where(h))
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    return {k: int(v) for k, v in zip(COUNT_COLUMNS, row)}


def village_counts(engine: Engine, scope: Scope, year: int) -> dict:
    """Poor villages (贫困村) in the scope, how many have exited (出列) by ``year``, rural population of
    ``year`` (``rules.population_year``)."""
    is_village = and_(R.c.level == "village", region_in(scope))
    stmt = select(
        count_if(R.c.is_poor_village.is_(True)),
        count_if(and_(R.c.is_poor_village.is_(True), R.c.poor_village_exit_year <= year)),
        func.count(),
    ).where(is_village)
    with engine.connect() as conn:
        poor, exited, villages = conn.execute(stmt).one()
    population = rural_population(engine, scope, year)
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
