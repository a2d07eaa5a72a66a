"""Funds and projects (资金项目): allocation, arrangement, payment and spending.

Money is in whole 元. For a county (or wider) scope the base is the money 下达
(allocated) to the scope in the year; below the county, funds are not allocated
to a township or village, so the base is the money 安排 (arranged) to projects
placed in the scope. Paid and spent count every movement to date on the year's
funds (a 2025 fund paid in 2026 counts toward 2025).
"""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from ..codes import MONEY_PAID, MONEY_SPENT
from ..schema import arrangement as A
from ..schema import fund as F
from ..schema import money_flow as MF
from ..schema import project as P
from ..scope import Scope
from .common import pct

ALLOCATION_LEVELS = ("province", "city", "county")


def totals(engine: Engine, scope: Scope, year: int) -> dict:
    """下达/安排/拨付/支出 (元) for the year's funds in the scope, with 拨付率 and 支出进度 (%).

    Keys: allocated (None below county), arranged, paid, spent, base ('allocated' or
    'arranged'), paid_rate, spent_rate, projects.
    """
    with engine.connect() as conn:
        if scope.level in ALLOCATION_LEVELS:
            funds = select(F.c.fund_id).where(scope.where(F), F.c.year == year)
            allocated = conn.execute(
                select(func.coalesce(func.sum(F.c.amount), 0)).where(scope.where(F), F.c.year == year)
            ).scalar_one()
            arranged = conn.execute(
                select(func.coalesce(func.sum(A.c.amount), 0)).where(A.c.fund_id.in_(funds))
            ).scalar_one()
            flows = conn.execute(
                select(MF.c.kind, func.sum(MF.c.amount)).where(MF.c.fund_id.in_(funds)).group_by(MF.c.kind)
            ).all()
            projects = conn.execute(
                select(func.count()).select_from(P).where(scope.where(P), P.c.year == year)
            ).scalar_one()
        else:
            in_scope = select(P.c.project_id).where(scope.where(P), P.c.year == year)
            allocated = None
            arranged = conn.execute(
                select(func.coalesce(func.sum(A.c.amount), 0)).where(A.c.project_id.in_(in_scope))
            ).scalar_one()
            flows = conn.execute(
                select(MF.c.kind, func.sum(MF.c.amount)).where(MF.c.project_id.in_(in_scope)).group_by(MF.c.kind)
            ).all()
            projects = conn.execute(
                select(func.count()).select_from(P).where(scope.where(P), P.c.year == year)
            ).scalar_one()
    by_kind = {k: int(v or 0) for k, v in flows}
    paid, spent = by_kind.get(MONEY_PAID, 0), by_kind.get(MONEY_SPENT, 0)
    base_amount = allocated if allocated is not None else arranged
    return {
        "allocated": int(allocated) if allocated is not None else None,
        "arranged": int(arranged), "paid": paid, "spent": spent,
        "base": "allocated" if allocated is not None else "arranged",
        "paid_rate": pct(paid, base_amount), "spent_rate": pct(spent, base_amount),
        "projects": int(projects),
    }
