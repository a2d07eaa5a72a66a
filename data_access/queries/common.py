"""Generic SQL helpers every query uses (conditional counts, the scope's regions, frames, percentages),
and the one figure two subjects show (``yearly``).

What "poor", "exited" and "returned" mean in a year is the registry's rule, in ``data_access.rules``.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, case, func, literal_column, select
from sqlalchemy.engine import Engine

from ..schema import exit_target as T
from ..schema import household as H
from ..schema import meta as M
from ..schema import region as R
from ..codes import REGION_LEVEL_DIGITS
from ..report.formatting import half_up, half_up_all, ratio, ratio_pct, ratios  # noqa: F401 (四舍五入, for the queries)
from ..rules import in_registry, members_at, poor_at, population_year, population_years
from ..scope import Scope
from ..summary import read as summary


def count_if(condition, h=None):
    """Households meeting ``condition`` (SUM of 0/1, portable).

    With ``h`` a summary table (``data_access.summary``: one row per group of households), the sum
    of its ``households`` column instead.
    """
    weight = h.c.households if h is not None and "households" in h.c else 1
    return func.coalesce(func.sum(case((condition, weight), else_=0)), 0)


def people_if(condition, h=H, year=None):
    """People of households meeting ``condition``: members at the end of ``year`` (``rules.members_at``;
    an int or a year column), today's members (member_count) when ``year`` is None."""
    return func.coalesce(func.sum(case((condition, members_at(year, h)), else_=0)), 0)


def people_year(engine: Engine, year: int) -> int | None:
    """The ``year`` argument of ``people_if``/``rules.members_at`` for a count of ``year``: None (today's
    members, member_count: no per-household look-up) for the as-of year (``meta.data_as_of``) and later,
    since the current year counts current members; else ``year``."""
    with engine.connect() as conn:
        value = conn.execute(select(M.c.value).where(M.c.key == "data_as_of")).scalar()
    try:
        return None if year >= int(str(value)[:4]) else year
    except (TypeError, ValueError):
        return year


def region_in(scope: Scope, r=R):
    """Regions (any level) whose code lies inside ``scope``."""
    lo, hi = scope.bounds
    return and_(r.c.code >= lo, r.c.code <= hi)


def rural_population(engine: Engine, scope: Scope, year: int) -> int:
    """农村户籍人口 of the scope at ``year``: the sum over its villages (``rules.population_year``)."""
    return populations(engine, scope, (year,))[year]


def _child_of(code, level: str):
    """The code of the region of ``level`` holding ``code`` (its prefix, padded with zeros)."""
    digits = REGION_LEVEL_DIGITS[level]
    return func.substr(code, 1, digits).concat(literal_column(f"'{'0' * (12 - digits)}'"))


def populations(engine: Engine, scope: Scope, years, key=None) -> dict:
    """农村户籍人口 of the scope at each of ``years`` (``rules.population_year`` summed over its villages): {year: n};
    with ``key`` a level (below the scope's), {(code of that level, year): n} for each such region with a village.
    From summary_population when it answers (a town or larger scope, ``key`` a town or larger), else from the base
    tables (one year:
    ``population_stmt``; several, or by child: ``rules.population_years``)."""
    years = [int(y) for y in years]
    if not years:
        return {}
    by_town = key is None or REGION_LEVEL_DIGITS[key] <= REGION_LEVEL_DIGITS["town"]
    pt = summary.populations_for(engine, scope, years) if by_town else None
    if pt is not None:  # the same sums per town and year (data_access.summary)
        child = [_child_of(pt.c.town_code, key)] if key is not None else []
        stmt = (select(*child, pt.c.year, func.sum(pt.c.population))
                .where(scope.where(pt), pt.c.year.between(min(years), max(years)))
                .group_by(*child, pt.c.year))
        with engine.connect() as conn:
            got = {tuple(r[:-1]) if key else r[0]: int(r[-1] or 0) for r in conn.execute(stmt)}
        if key:
            return {k: n for k, n in got.items() if k[1] in years}
        return {y: got.get(y, 0) for y in years}
    with engine.connect() as conn:
        if key is not None:
            rows = conn.execute(population_years(years, region_in(scope), _child_of(R.c.code, key)))
            return {(code, y): int(n or 0) for code, *ns in rows for y, n in zip(years, ns)}
        if len(years) == 1:
            return {years[0]: int(conn.execute(population_stmt(scope, years[0])).scalar_one())}
        row = conn.execute(population_years(years, region_in(scope))).one()  # one pass for every year
    return {y: int(row[i] or 0) for i, y in enumerate(years)}


def population_stmt(scope: Scope, year: int):
    """SELECT the scope's 农村户籍人口 at ``year`` (one value)."""
    pop = population_year(year, region_in(scope))
    return select(func.coalesce(func.sum(pop.c.population), 0))


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
    """Percentage rounded to 2 decimals, 四舍五入 from the exact quotient (1/32 → 3.13, where Python's
    ``round`` gives 3.12); None when the denominator is 0."""
    return ratio_pct(numerator, denominator, 2)


# ---- a figure two subjects show ------------------------------------------------------
# The overview (总览) and the exit progress (脱贫进度, ``exits.progress``) both show the yearly exits against
# the targets and the incidence curve: one SQL for that figure, here below both subjects.


def yearly(engine: Engine, scope: Scope, first_year: int, last_year: int) -> pd.DataFrame:
    """Per year: households/people exited in that year, targets, poor people at year end, incidence.

    Columns: year, exited_households, exited_persons, target_households, target_persons,
    poor_persons, rural_population, incidence (%), target_pct_households (%), target_pct_persons (%).
    The target is the scope's own row in exit_target (年度减贫任务).
    """
    years = list(range(first_year, last_year + 1))
    h = summary.smallest_households(engine, scope)
    vy = summary.village_years_for(engine, years)
    exits = select(
        h.c.exit_year.label("year"),
        summary.household_count(h).label("exited_households"),
        func.sum(members_at(h.c.exit_year, h)).label("exited_persons"),  # members at the exit year's end
    ).where(scope.where(h), in_registry(last_year, h), h.c.exit_year.between(first_year, last_year)
            ).group_by(h.c.exit_year)
    poor_cols = [people_if(poor_at(y, h), h, y).label(f"y{y}") for y in years]
    poor_stmt = select(*poor_cols).where(scope.where(h))
    both = None  # the exits and the poor of every year in one pass over summary_village_year, when it answers both
    if vy is not None and summary.village_years_for(engine, years, exits=True) is not None:
        exiting = vy.c.exits_households > 0
        both = (select(vy.c.year, func.sum(case((exiting, vy.c.exits_households), else_=0)).label("exited_households"),
                       func.sum(case((exiting, vy.c.exits_persons), else_=0)).label("exited_persons"),
                       func.sum(vy.c.poor_persons).label("poor_persons"))
                .where(scope.where(vy), vy.c.year.between(first_year, last_year)).group_by(vy.c.year))
    elif vy is not None:  # the poor per village and year (data_access.summary); the exits from ``h``
        poor_stmt = select(*[func.coalesce(func.sum(case((vy.c.year == y, vy.c.poor_persons), else_=0)), 0)
                             .label(f"y{y}") for y in years]).where(scope.where(vy), vy.c.year.between(
                                 first_year, last_year))
    targets = select(T.c.year, T.c.households, T.c.persons).where(
        T.c.region_code == scope.code, T.c.year.between(first_year, last_year)
    )
    with engine.connect() as conn:
        if both is not None:
            rows = {r.year: r for r in conn.execute(both)}
            exit_rows = {y: r for y, r in rows.items() if r.exited_households}
            poor_row = [rows[y].poor_persons if y in rows else 0 for y in years]
        else:
            exit_rows = {r.year: r for r in conn.execute(exits)}
            poor_row = conn.execute(poor_stmt).one()
        target_rows = {r.year: r for r in conn.execute(targets)}
    rurals = populations(engine, scope, years)
    records = []
    for i, y in enumerate(years):
        e = exit_rows.get(y)
        t = target_rows.get(y)
        eh, ep = (int(e.exited_households), int(e.exited_persons)) if e else (0, 0)
        th = int(t.households) if t is not None and t.households is not None else None
        tp = int(t.persons) if t is not None and t.persons is not None else None
        poor, rural = int(poor_row[i]), rurals[y]
        records.append({
            "year": y, "exited_households": eh, "exited_persons": ep,
            "target_households": th, "target_persons": tp,
            "poor_persons": poor, "rural_population": rural,
            "incidence": pct(poor, rural),
            "target_pct_households": pct(eh, th), "target_pct_persons": pct(ep, tp),
        })
    return pd.DataFrame.from_records(records)


__all__ = ["count_if", "people_if", "people_year", "rural_population", "populations", "population_stmt", "region_in",
           "frame", "pct", "yearly"]
