"""防返贫动态监测: monitoring objects (监测对象) and the removal of their risk (风险消除)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from ..schema import monitoring_object as MO
from ..scope import Scope
from .common import count_if, pct


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def totals(engine: Engine, scope: Scope, year: int) -> dict:
    """Monitoring objects identified by the end of ``year``, and those whose risk was removed by then.

    Keys: households, persons, removed_households, removed_persons, at_risk_households,
    at_risk_persons, removal_rate (% of households).
    """
    end = year_end(year)
    identified = and_(scope.where(MO), MO.c.identified_date <= end)
    removed = and_(MO.c.removed_date.is_not(None), MO.c.removed_date <= end)
    stmt = select(
        func.count(),
        func.coalesce(func.sum(MO.c.persons), 0),
        count_if(removed),
        func.coalesce(func.sum(case((removed, MO.c.persons), else_=0)), 0),
    ).where(identified)
    with engine.connect() as conn:
        households, persons, removed_households, removed_p = map(int, conn.execute(stmt).one())
    return {
        "households": households, "persons": persons,
        "removed_households": removed_households, "removed_persons": removed_p,
        "at_risk_households": households - removed_households, "at_risk_persons": persons - removed_p,
        "removal_rate": pct(removed_households, households),
    }
