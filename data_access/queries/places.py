"""Places: the region tree, one region's facts, geometry for maps, and the data's dates."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from ..names import display_name_sql
from ..schema import fund as F
from ..schema import meta as M
from ..schema import monitoring_object as MO
from ..schema import region as R
from ..summary import read as summary
from ..scope import Scope
from .common import frame, region_in

REGION_COLUMNS = ["code", "name", "level", "parent_code", "is_poor_village", "poor_village_exit_year",
                  "rural_population", "lon", "lat"]
# Every place name read here for display is the display name (香坪村, not 香坪村村民委员会: data_access.names);
# ``region_info`` also gives the registered ``official_name`` (the dossier and the exports show that one).
NAME = display_name_sql(R.c.name).label("name")


def _columns(names):
    return [NAME if c == "name" else R.c[c] for c in names]


def region_info(engine: Engine, scope: Scope) -> dict | None:
    """The scope's own region row (without geometry), or None if absent."""
    stmt = select(*_columns(REGION_COLUMNS), R.c.name.label("official_name")).where(R.c.code == scope.code)
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def lineage(engine: Engine, code: str) -> list[dict]:
    """The chain of regions from the top of the tree down to ``code`` (breadcrumb)."""
    chain: list[dict] = []
    current = code
    with engine.connect() as conn:
        for _ in range(6):
            row = conn.execute(
                select(R.c.code, NAME, R.c.level, R.c.parent_code).where(R.c.code == current)
            ).mappings().first()
            if row is None:
                break
            chain.append(dict(row))
            if not row["parent_code"]:
                break
            current = row["parent_code"]
    return list(reversed(chain))


def children(engine: Engine, scope: Scope) -> pd.DataFrame:
    """The scope's direct child regions (towns of a county, villages of a town), by code."""
    stmt = (
        select(*_columns(REGION_COLUMNS))
        .where(R.c.parent_code == scope.code)
        .order_by(R.c.code)
    )
    return frame(engine, stmt)


def region_tree(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Every region inside the scope, the scope itself included (for pickers and URL checks), by code.

    A province database lists the province and its cities too, so ``?region=`` may name them.
    """
    stmt = (
        select(R.c.code, NAME, R.c.level, R.c.parent_code)
        .where(region_in(scope))
        .order_by(R.c.code)
    )
    return frame(engine, stmt)


def geometries(engine: Engine, scope: Scope, level: str) -> pd.DataFrame:
    """Regions of ``level`` inside the scope with their GeoJSON geometry text and centroid."""
    stmt = (
        select(R.c.code, NAME, R.c.parent_code, R.c.is_poor_village, R.c.poor_village_exit_year,
               R.c.rural_population, R.c.lon, R.c.lat, R.c.geometry)
        .where(region_in(scope), R.c.level == level)
        .order_by(R.c.code)
    )
    return frame(engine, stmt)


def default_scope_code(engine: Engine) -> str:
    """The widest single region at county level or above that holds all data.

    A database of one county starts at that county; one of a whole province at the province.
    """
    with engine.connect() as conn:
        counties = conn.execute(
            select(func.count()).select_from(R).where(R.c.level == "county")
        ).scalar_one()
        level = "county" if counties == 1 else None
        if level:
            return conn.execute(select(R.c.code).where(R.c.level == "county")).scalar_one()
        for lvl in ("province", "city"):
            rows = conn.execute(select(R.c.code).where(R.c.level == lvl)).scalars().all()
            if len(rows) == 1:
                return rows[0]
        first = conn.execute(select(R.c.code).where(R.c.level == "county").order_by(R.c.code)).scalar()
    return first


def data_meta(engine: Engine) -> dict[str, str]:
    """The meta table: data_as_of, is_demo, data_version, schema_version, names."""
    with engine.connect() as conn:
        return dict(conn.execute(select(M.c.key, M.c.value)).all())


def year_range(engine: Engine, scope: Scope) -> tuple[int, int]:
    """First identification year in the scope, and the latest year that has data (in the whole database, so a
    village offers the same years as its county; no later than the as-of year): the pages open on it. A 2020
    export imported in 2026 opens on 2020, not on an empty 2026; the latest year is the last 识别/脱贫/返贫
    year of a household, 资金下达 year or 监测对象 identified/removed date, whichever is latest."""
    # the states per county and 享受政策 mark (18,000 rows at province scale: every household once, as in the
    # county-grain summary's 580,000 rows with its member-change rows; the same minimum and maxima), for a county
    # or larger; else the smallest fresh summary, else the households
    h = summary.policy_for(engine, scope)
    if h is None:
        h = summary.smallest_households(engine, scope)
    # one pass over ``h`` for the scope's first year and the database's latest ones, one statement in all
    states = select(func.min(case((scope.where(h), h.c.identified_year))).label("first"),
                    func.max(h.c.identified_year).label("identified"), func.max(h.c.exit_year).label("exited"),
                    func.max(h.c.returned_year).label("returned")).subquery("states")
    stmt = select(states.c.first, states.c.identified, states.c.exited, states.c.returned,
                  select(func.max(F.c.year)).scalar_subquery(),
                  select(func.max(MO.c.identified_date)).scalar_subquery(),
                  select(func.max(MO.c.removed_date)).scalar_subquery(),
                  select(M.c.value).where(M.c.key == "data_as_of").scalar_subquery())
    with engine.connect() as conn:
        first, *years, fund_year, identified_day, removed_day, as_of = conn.execute(stmt).one()
    years.append(fund_year)
    for day in (identified_day, removed_day):
        years.append(int(str(day)[:4]) if day is not None else None)
    as_of_year = int(as_of[:4]) if as_of else None
    seen = [int(y) for y in years if y is not None]
    latest = max(seen) if seen else None
    last = min(as_of_year, latest) if as_of_year and latest else (as_of_year or latest)
    first = int(first) if first is not None else (last or 2014)
    return first, max(first, last or first)
