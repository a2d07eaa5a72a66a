"""Funds and projects (资金项目): allocation, arrangement, payment and spending.

Money is in whole 元. For a county (or wider) scope the base is the money 下达
(allocated) to the scope in the year; below the county, funds are not allocated
to a township or village, so the base is the money 安排 (arranged) to projects
placed in the scope. Paid and spent count every movement to date on the year's
funds (a 2025 fund paid in 2026 counts toward 2025).

The page's *selection* narrows that money further by 资金来源 (``source``) and
项目类别 (``category``). A category has no allocation of its own, so with a
category the base is the money arranged, as below the county.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import String, and_, any_, bindparam, case, cast, func, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine

from ..codes import FUND_SOURCES, MONEY_PAID, MONEY_SPENT, REGION_LEVEL_DIGITS
from ..names import display_name_sql
from ..schema import arrangement as A
from ..schema import fund as F
from ..schema import household as H
from ..schema import money_flow as MF
from ..schema import project as P
from ..schema import project_beneficiary as PB
from ..schema import region as R
from ..scope import Scope
from ..rules import in_registry, place_codes_mismatch
from ..summary import read as summary
from .common import count_if, frame, pct, people_if, people_year, ratio, region_in

ALLOCATION_LEVELS = ("province", "city", "county")

# Labels of flow nodes and table rows that are not a code-list value or a region.
UNARRANGED = "未安排到项目"
NO_PLACE = "地点缺失"
TOWN_LEVEL = "乡镇本级"
# Above this many projects the flow stops at the place level (the list below has them all).
MAX_PROJECT_NODES = 30


def totals(engine: Engine, scope: Scope, year: int) -> dict:
    """下达/安排/拨付/支出 (元) for the year's funds in the scope, with 拨付率 and 支出进度 (%).

    Keys: allocated (None below county), arranged, paid, spent, base ('allocated' or
    'arranged'), paid_rate, spent_rate (against the base), paid_rate_arranged, spent_rate_arranged (against 安排
    at every level: the county's figure comparable with its townships'), projects.
    """
    money = summary.money_for(engine)
    with engine.connect() as conn:
        if scope.level in ALLOCATION_LEVELS:
            funds = select(F.c.fund_id).where(scope.where(F), F.c.year == year)
            allocated = conn.execute(
                select(func.coalesce(func.sum(F.c.amount), 0)).where(scope.where(F), F.c.year == year)
            ).scalar_one()
            key, ids = "fund_id", funds
        else:
            in_scope = select(P.c.project_id).where(scope.where(P), P.c.year == year)
            allocated = None
            key, ids = "project_id", in_scope
        if money is not None:  # the (fund, project) money summary: one statement
            arranged, paid, spent = conn.execute(
                select(_sum(money.c.arranged), _sum(money.c.paid), _sum(money.c.spent)).where(money.c[key].in_(ids))
            ).one()
            paid, spent = int(paid), int(spent)
        else:
            arranged = conn.execute(
                select(func.coalesce(func.sum(A.c.amount), 0)).where(A.c[key].in_(ids))
            ).scalar_one()
            flows = conn.execute(
                select(MF.c.kind, func.sum(MF.c.amount)).where(MF.c[key].in_(ids)).group_by(MF.c.kind)
            ).all()
            by_kind = {k: int(v or 0) for k, v in flows}
            paid, spent = by_kind.get(MONEY_PAID, 0), by_kind.get(MONEY_SPENT, 0)
        projects = conn.execute(
            select(func.count()).select_from(P).where(scope.where(P), P.c.year == year)
        ).scalar_one()
    base_amount = allocated if allocated is not None else arranged
    return {
        "allocated": int(allocated) if allocated is not None else None,
        "arranged": int(arranged), "paid": paid, "spent": spent,
        "base": "allocated" if allocated is not None else "arranged",
        "paid_rate": pct(paid, base_amount), "spent_rate": pct(spent, base_amount),
        "paid_rate_arranged": pct(paid, arranged), "spent_rate_arranged": pct(spent, arranged),
        "projects": int(projects),
    }


# ---- the selection ---------------------------------------------------------------------


def base_is_allocated(scope: Scope, category: str | None = None) -> bool:
    """True when 拨付率/支出进度 are measured against 下达 (else against 安排)."""
    return scope.level in ALLOCATION_LEVELS and not category


def _selected(scope: Scope, year: int, source: str | None, category: str | None, cumulative: bool = False):
    """Condition on a money table joined to fund (F) and project (P): the page's selection.

    ``cumulative``: the years up to ``year`` instead of ``year`` alone.
    """
    if scope.level in ALLOCATION_LEVELS:
        conds = [scope.where(F), F.c.year <= year if cumulative else F.c.year == year]
    else:
        conds = [scope.where(P), P.c.year <= year if cumulative else P.c.year == year]
    if source:
        conds.append(F.c.source == source)
    if category:
        conds.append(P.c.category == category)
    return and_(*conds)


def _joined(table, project: bool = True):
    """``table`` (arrangement or money_flow) joined to its fund and (unless ``project`` is False) its project."""
    joined = table.join(F, F.c.fund_id == table.c.fund_id)
    return joined.join(P, P.c.project_id == table.c.project_id) if project else joined


def _sum(expr):
    return func.coalesce(func.sum(expr), 0)


def _money_sums(engine: Engine):
    """(arranged, paid, spent) sum expressions and the money table they read, to join like :func:`_joined`:
    summary_money when fresh (one row per fund and project), else arrangement for 安排 and money_flow for
    拨付/支出 (None: two statements)."""
    money = summary.money_for(engine)
    if money is None:
        return None
    return money, (_sum(money.c.arranged).label("arranged"), _sum(money.c.paid).label("paid"),
                   _sum(money.c.spent).label("spent"))


def _paid_spent():
    return (
        _sum(case((MF.c.kind == MONEY_PAID, MF.c.amount), else_=0)).label("paid"),
        _sum(case((MF.c.kind == MONEY_SPENT, MF.c.amount), else_=0)).label("spent"),
    )


def _allocated_where(scope: Scope, year: int, source: str | None):
    conds = [scope.where(F), F.c.year == year]
    if source:
        conds.append(F.c.source == source)
    return and_(*conds)


def _project_set(scope: Scope, year: int, source: str | None, category: str | None):
    """Projects of the selection: placed in the scope (county_code for a county) in the year,
    of the category, and (with a source) receiving money of that source."""
    conds = [scope.where(P), P.c.year == year]
    if category:
        conds.append(P.c.category == category)
    if source:
        conds.append(P.c.project_id.in_(
            select(A.c.project_id).join(F, F.c.fund_id == A.c.fund_id).where(F.c.source == source)))
    return and_(*conds)


def _rates(row: dict, base_key: str) -> dict:
    base = row[base_key]
    row["base_amount"] = base
    row["paid_rate"] = pct(row["paid"], base)
    row["spent_rate"] = pct(row["spent"], base)
    return row


def execution(engine: Engine, scope: Scope, year: int, source: str | None = None,
              category: str | None = None) -> dict:
    """下达/安排/拨付/支出 (元) of the selection with 拨付率 and 支出进度 (%).

    Keys: allocated (None when the base is 安排), arranged, paid, spent, unarranged
    (allocated − arranged, None when the base is 安排), base ('allocated'/'arranged'),
    base_amount, paid_rate, spent_rate, paid_rate_arranged and spent_rate_arranged (against
    安排, as :func:`execution_by` gives them by category or region), projects (the
    selection's projects), funds (allocations 下达 in the selection, None when the base is 安排).
    With no source and category it equals :func:`totals`.
    """
    where = _selected(scope, year, source, category)
    money = _money_sums(engine)
    with engine.connect() as conn:
        if money is not None:
            arranged, paid, spent = conn.execute(select(*money[1]).select_from(_joined(money[0])).where(where)).one()
        else:
            arranged = conn.execute(select(_sum(A.c.amount)).select_from(_joined(A)).where(where)).scalar_one()
            paid, spent = conn.execute(select(*_paid_spent()).select_from(_joined(MF)).where(where)).one()
        projects = conn.execute(
            select(func.count()).select_from(P).where(_project_set(scope, year, source, category))
        ).scalar_one()
        allocated = n_funds = None
        if base_is_allocated(scope, category):
            allocated, n_funds = conn.execute(
                select(_sum(F.c.amount), func.count()).where(_allocated_where(scope, year, source))
            ).one()
    out = {
        "allocated": int(allocated) if allocated is not None else None,
        "arranged": int(arranged), "paid": int(paid), "spent": int(spent),
        "unarranged": int(allocated) - int(arranged) if allocated is not None else None,
        "base": "allocated" if allocated is not None else "arranged",
        "projects": int(projects), "funds": int(n_funds) if n_funds is not None else None,
        "paid_rate_arranged": pct(paid, arranged), "spent_rate_arranged": pct(spent, arranged),
    }
    return _rates(out, out["base"])


# ---- places ----------------------------------------------------------------------------


def _child_code(scope: Scope):
    """The project's place one level below the scope (None at village scope).

    NULL for a project with no place (county scope) or placed at the town itself (town scope).
    """
    child = scope.child_level
    if child is None:
        return None
    if child in ("county", "town", "village"):
        return P.c[f"{child}_code"]
    digits = REGION_LEVEL_DIGITS[child]
    return func.substr(P.c.county_code, 1, digits).concat(literal("0" * (12 - digits)))


def missing_place_label(scope: Scope) -> str:
    """What a NULL child code means: no place at all (county and wider) or the town itself."""
    return TOWN_LEVEL if scope.level == "town" else NO_PLACE


def _names(engine: Engine, codes) -> dict[str, str]:
    codes = sorted({c for c in codes if c})
    if not codes:
        return {}
    with engine.connect() as conn:
        return dict(conn.execute(select(R.c.code, display_name_sql(R.c.name)).where(R.c.code.in_(codes))).all())


# ---- breakdowns ------------------------------------------------------------------------

BREAKDOWNS = ("source", "category", "region")
EXECUTION_COLUMNS = ["key", "name", "allocated", "arranged", "paid", "spent", "base_amount",
                     "paid_rate", "spent_rate"]


def execution_by(engine: Engine, scope: Scope, year: int, by: str, source: str | None = None,
                 category: str | None = None) -> pd.DataFrame:
    """The selection's 下达/安排/拨付/支出 (元) by 资金来源, 项目类别 or child region, with rates (%).

    ``by``: "source", "category" or "region" (the scope's child regions; empty at village
    scope). Columns: EXECUTION_COLUMNS. ``allocated`` is filled by source only when the base
    is 下达; elsewhere rates are against 安排 (``base_amount``). The region key is None for
    money on projects with no place (name 地点缺失) or placed at the town itself (乡镇本级).
    Sorted by 支出进度, slowest first (rows without a base last).
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}")
    if by == "source":
        key = F.c.source
    elif by == "category":
        key = P.c.category
    else:
        key = _child_code(scope)
        if key is None:
            return pd.DataFrame(columns=EXECUTION_COLUMNS)
    where = _selected(scope, year, source, category)
    arranged = select(key.label("key"), _sum(A.c.amount).label("arranged")).select_from(_joined(A)).where(
        where).group_by(key)
    flows = select(key.label("key"), *_paid_spent()).select_from(_joined(MF)).where(where).group_by(key)
    with_allocation = by == "source" and base_is_allocated(scope, category)
    rows: dict = {}

    def row(k):
        return rows.setdefault(k, {"key": k, "allocated": 0 if with_allocation else None,
                                   "arranged": 0, "paid": 0, "spent": 0})

    money = _money_sums(engine)
    with engine.connect() as conn:
        if money is not None:  # one statement: a key with money has a pair in the summary
            stmt = select(key.label("key"), *money[1]).select_from(_joined(money[0])).where(where).group_by(key)
            for k, amount, paid, spent in conn.execute(stmt):
                row(k).update(arranged=int(amount), paid=int(paid), spent=int(spent))
        else:
            for k, amount in conn.execute(arranged):
                row(k)["arranged"] = int(amount)
            for k, paid, spent in conn.execute(flows):
                row(k).update(paid=int(paid), spent=int(spent))
        if with_allocation:
            alloc = select(F.c.source, _sum(F.c.amount)).where(_allocated_where(scope, year, source)).group_by(
                F.c.source)
            for k, amount in conn.execute(alloc):
                row(k)["allocated"] = int(amount)
    if by == "region":
        names = _names(engine, rows)
        for k, r in rows.items():
            r["name"] = names.get(k, k) if k else missing_place_label(scope)
    else:
        for k, r in rows.items():
            r["name"] = k
    out = [_rates(r, "allocated" if with_allocation else "arranged") for r in rows.values()]
    df = pd.DataFrame(out, columns=EXECUTION_COLUMNS)
    if df.empty:
        return df
    df["_order"] = df["spent_rate"].fillna(float("inf"))
    df["_key"] = df["key"].fillna("")
    return df.sort_values(["_order", "_key"]).drop(columns=["_order", "_key"]).reset_index(drop=True)


# ---- the flow --------------------------------------------------------------------------

FLOW_COLUMNS = ["source", "category", "place_code", "place_name", "project_id", "project_name", "amount"]


def flow(engine: Engine, scope: Scope, year: int, source: str | None = None, category: str | None = None,
         max_projects: int = MAX_PROJECT_NODES) -> pd.DataFrame:
    """The selection's money from 资金来源 to 项目类别 to place to project, in 元.

    One row per (source, category, place, project) group of the money arranged (安排);
    when the base is 下达, one more row per source for what is not yet arranged
    (category = UNARRANGED, amount = allocated − arranged, left out when ≤ 0: that is a
    data problem listed by :func:`data_problems`). Columns: FLOW_COLUMNS.
    ``place_code`` is the scope's child region (None: no place / 乡镇本级, see
    ``place_name``; at village scope the village itself). ``project_id``/``project_name``
    are filled only when the selection has at most ``max_projects`` projects with money.
    Sums: the rows of a source add up to its allocation (or arrangement), each level's
    rows add up to the level before.
    """
    where = _selected(scope, year, source, category)
    place = _child_code(scope)
    with engine.connect() as conn:
        n_projects = conn.execute(
            select(func.count(func.distinct(A.c.project_id))).select_from(_joined(A)).where(where)
        ).scalar_one()
        detail = n_projects <= max_projects
        group = [F.c.source, P.c.category]
        group += [place] if place is not None else []
        group += [P.c.project_id, P.c.name] if detail else []
        stmt = select(*group, _sum(A.c.amount)).select_from(_joined(A)).where(where).group_by(*group)
        rows = []
        for values in conn.execute(stmt):
            values = list(values)
            r = {"source": values.pop(0), "category": values.pop(0)}
            r["place_code"] = values.pop(0) if place is not None else scope.code
            if detail:
                r["project_id"], r["project_name"] = values.pop(0), values.pop(0)
            r["amount"] = int(values.pop(0))
            rows.append(r)
        if base_is_allocated(scope, category):
            allocated = dict(conn.execute(
                select(F.c.source, _sum(F.c.amount)).where(_allocated_where(scope, year, source)).group_by(
                    F.c.source)).all())
            arranged: dict = {}
            for r in rows:
                arranged[r["source"]] = arranged.get(r["source"], 0) + r["amount"]
            for src, amount in sorted(allocated.items()):
                rest = int(amount) - arranged.get(src, 0)
                if rest > 0:
                    rows.append({"source": src, "category": UNARRANGED, "place_code": None, "amount": rest})
    names = _names(engine, [r.get("place_code") for r in rows])
    for r in rows:
        r.setdefault("project_id", None)
        r.setdefault("project_name", None)
        if r["category"] == UNARRANGED:
            r["place_name"] = None
        else:
            code = r["place_code"]
            r["place_name"] = names.get(code, code) if code else missing_place_label(scope)
    df = pd.DataFrame(rows, columns=FLOW_COLUMNS)
    return df.sort_values(["source", "category", "place_code", "project_id"], na_position="last",
                          key=lambda s: s.fillna("")).reset_index(drop=True)


# ---- by month --------------------------------------------------------------------------


def _month_end(year: int, month: int) -> dt.date:
    return (dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)


def monthly_progress(engine: Engine, scope: Scope, year: int, source: str | None = None,
                     category: str | None = None) -> pd.DataFrame:
    """拨付 and 支出 of the selection month by month in ``year``, cumulative, against an even pace.

    Columns: month (1–12), paid, spent (movements dated in that month, 元), cum_paid,
    cum_spent (movements dated up to the month's end, earlier years included, 元),
    base_amount, cum_paid_rate, cum_spent_rate, even_pace (month/12 × 100, %).
    """
    where = _selected(scope, year, source, category)
    ends = [_month_end(year, m) for m in range(1, 13)]
    start = dt.date(year, 1, 1)
    cols = []
    for m, end in enumerate(ends, 1):
        begin = start if m == 1 else ends[m - 2] + dt.timedelta(days=1)
        for kind, tag in ((MONEY_PAID, "p"), (MONEY_SPENT, "s")):
            is_kind = MF.c.kind == kind
            cols.append(_sum(case((and_(is_kind, MF.c.flow_date.between(begin, end)), MF.c.amount), else_=0)
                             ).label(f"{tag}{m}"))
            cols.append(_sum(case((and_(is_kind, MF.c.flow_date <= end), MF.c.amount), else_=0)
                             ).label(f"c{tag}{m}"))
    total = execution(engine, scope, year, source, category)
    with engine.connect() as conn:
        row = conn.execute(select(*cols).select_from(_joined(MF)).where(where)).mappings().one()
    base = total["base_amount"]
    records = []
    for m in range(1, 13):
        cp, cs = int(row[f"cp{m}"]), int(row[f"cs{m}"])
        records.append({
            "month": m, "paid": int(row[f"p{m}"]), "spent": int(row[f"s{m}"]),
            "cum_paid": cp, "cum_spent": cs, "base_amount": base,
            "cum_paid_rate": pct(cp, base), "cum_spent_rate": pct(cs, base),
            "even_pace": pct(m, 12),
        })
    return pd.DataFrame.from_records(records)


# ---- allocations -----------------------------------------------------------------------

ALLOCATION_COLUMNS = ["fund_id", "doc_no", "name", "source", "allocated_date", "allocated", "arranged",
                      "paid", "spent", "paid_rate", "spent_rate"]


def allocations(engine: Engine, scope: Scope, year: int, source: str | None = None,
                category: str | None = None) -> pd.DataFrame:
    """The fund allocations (资金下达, with 文号) behind the selection, in 元.

    Columns: ALLOCATION_COLUMNS. ``allocated`` is the allocation's own amount (None when
    the base is 安排: below the county or with a category, where only part of a fund
    reaches the selection); arranged/paid/spent are the selection's share of it. Rates
    are against ``allocated`` when given, else against ``arranged``. Sorted by source
    (code-list order), then date and id.
    """
    where = _selected(scope, year, source, category)
    with_allocation = base_is_allocated(scope, category)
    arranged = select(A.c.fund_id, _sum(A.c.amount).label("arranged")).select_from(_joined(A)).where(
        where).group_by(A.c.fund_id).subquery()
    flows = select(MF.c.fund_id, *_paid_spent()).select_from(_joined(MF)).where(where).group_by(
        MF.c.fund_id).subquery()
    stmt = (
        select(F.c.fund_id, F.c.doc_no, F.c.name, F.c.source, F.c.allocated_date,
               F.c.amount.label("allocated"),
               func.coalesce(arranged.c.arranged, 0).label("arranged"),
               func.coalesce(flows.c.paid, 0).label("paid"),
               func.coalesce(flows.c.spent, 0).label("spent"))
        .select_from(F.outerjoin(arranged, arranged.c.fund_id == F.c.fund_id)
                     .outerjoin(flows, flows.c.fund_id == F.c.fund_id))
    )
    if with_allocation:
        stmt = stmt.where(_allocated_where(scope, year, source))
    else:
        stmt = stmt.where(arranged.c.fund_id.is_not(None))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=ALLOCATION_COLUMNS)
    for c in ("allocated", "arranged", "paid", "spent"):
        df[c] = df[c].astype("int64")
    if not with_allocation:
        df["allocated"] = None
    base = df["allocated"] if with_allocation else df["arranged"]
    df["paid_rate"] = [pct(p, b) for p, b in zip(df["paid"], base)]
    df["spent_rate"] = [pct(s, b) for s, b in zip(df["spent"], base)]
    order = {s: i for i, s in enumerate(FUND_SOURCES)}
    df["_o"] = df["source"].map(lambda s: order.get(s, len(order)))
    df["_d"] = df["allocated_date"].map(lambda d: d or dt.date.max)
    df = df.sort_values(["_o", "_d", "fund_id"]).drop(columns=["_o", "_d"]).reset_index(drop=True)
    return df[ALLOCATION_COLUMNS]


# ---- projects --------------------------------------------------------------------------

PROJECT_COLUMNS = [
    "project_id", "name", "category", "place_code", "place_name", "town_name", "year", "status", "budget",
    "arranged", "paid", "spent", "planned_start", "planned_end", "actual_start", "actual_end",
    "beneficiary_households", "beneficiary_poor_households", "beneficiary_persons",
    "late", "late_days", "idle_amount", "last_paid_date",
]


def projects(engine: Engine, scope: Scope, year: int, as_of: dt.date, idle_days: int = 90,
             source: str | None = None, category: str | None = None) -> pd.DataFrame:
    """The selection's projects with their money (元) and flags.

    Columns: PROJECT_COLUMNS. arranged/paid/spent count the selection's money only (with a
    source, that source's). ``late``: not finished by its planned end (as of ``as_of``) or
    finished after it; ``late_days`` how many days past the planned end (to the actual end,
    or to ``as_of`` when unfinished). ``idle_amount``: money paid on or before
    ``as_of − idle_days`` that is still unspent (paid by then − spent to date, ≥ 0): paid
    but sitting beyond ``idle_days`` days. ``place_name`` is the village, else the town,
    else 地点缺失. Sorted: flagged first, then by money arranged, largest first.
    """
    cutoff = as_of - dt.timedelta(days=idle_days)
    where = _selected(scope, year, source, category)
    # The selection names no project column at a county or wider scope without a category: the money is then read
    # without the join to its project (each sum is joined to its project below, by id, as before)
    by_project = not (scope.level in ALLOCATION_LEVELS and not category)
    paid_by_cutoff = _sum(case((and_(MF.c.kind == MONEY_PAID, MF.c.flow_date <= cutoff), MF.c.amount), else_=0))
    money = summary.money_for(engine)
    if money is not None:
        # Per (fund, project) pair: all its 拨付 is paid by the cutoff when its last 拨付 is, none when its first is
        # after; only the pairs paid on both sides of the cutoff read their movements.
        S = money
        straddles = and_(S.c.first_paid_date <= cutoff, S.c.last_paid_date > cutoff)
        money_a = select(
            S.c.project_id, _sum(S.c.arranged).label("arranged"), _sum(S.c.paid).label("paid"),
            _sum(S.c.spent).label("spent"),
            _sum(case((S.c.last_paid_date <= cutoff, S.c.paid), else_=0)).label("paid_whole"),
            func.max(S.c.last_paid_date).label("last_paid_date"),
        ).select_from(_joined(S, by_project)).where(where).group_by(S.c.project_id).subquery()
        split = select(MF.c.project_id, paid_by_cutoff.label("paid_part")).select_from(
            _joined(MF, by_project).join(S, and_(S.c.fund_id == MF.c.fund_id, S.c.project_id == MF.c.project_id))
        ).where(where, straddles).group_by(MF.c.project_id).subquery()
        money_f = money_a
        paid_by = (func.coalesce(money_a.c.paid_whole, 0) + func.coalesce(split.c.paid_part, 0)).label(
            "paid_by_cutoff")
    else:
        money_a = select(A.c.project_id, _sum(A.c.amount).label("arranged")).select_from(
            _joined(A, by_project)).where(where).group_by(A.c.project_id).subquery()
        money_f = select(
            MF.c.project_id, *_paid_spent(), paid_by_cutoff.label("paid_by_cutoff"),
            func.max(case((MF.c.kind == MONEY_PAID, MF.c.flow_date), else_=None)).label("last_paid_date"),
        ).select_from(_joined(MF, by_project)).where(where).group_by(MF.c.project_id).subquery()
        split = None
        paid_by = func.coalesce(money_f.c.paid_by_cutoff, 0).label("paid_by_cutoff")
    village = R.alias("village")
    town = R.alias("town")
    stmt = (
        select(
            P.c.project_id, P.c.name, P.c.category, P.c.region_code.label("place_code"),
            village.c.name.label("village_name"), town.c.name.label("town_name"), P.c.year, P.c.status,
            P.c.budget, func.coalesce(money_a.c.arranged, 0).label("arranged"),
            func.coalesce(money_f.c.paid, 0).label("paid"), func.coalesce(money_f.c.spent, 0).label("spent"),
            paid_by, money_f.c.last_paid_date,
            P.c.planned_start, P.c.planned_end, P.c.actual_start, P.c.actual_end,
            P.c.beneficiary_households, P.c.beneficiary_poor_households, P.c.beneficiary_persons,
        )
        .where(_project_set(scope, year, source, category))
    )
    joined = P.outerjoin(money_a, money_a.c.project_id == P.c.project_id)
    if money_f is not money_a:
        joined = joined.outerjoin(money_f, money_f.c.project_id == P.c.project_id)
    if split is not None:
        joined = joined.outerjoin(split, split.c.project_id == P.c.project_id)
    stmt = stmt.select_from(joined.outerjoin(village, village.c.code == P.c.village_code)
                            .outerjoin(town, town.c.code == P.c.town_code))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=PROJECT_COLUMNS)
    for c in ("arranged", "paid", "spent", "paid_by_cutoff"):
        df[c] = df[c].astype("int64")
    # by column, not row by row (22,000 projects in a province's year): the same values as _late_days gives a row
    df["place_name"] = df["village_name"].fillna(df["town_name"]).fillna(NO_PLACE).astype(str)
    df["town_name"] = df["town_name"].fillna(NO_PLACE).astype(str)
    planned = pd.to_datetime(df["planned_end"].map(_as_date))
    days = (pd.to_datetime(df["actual_end"].map(_as_date)).fillna(pd.Timestamp(as_of)) - planned).dt.days
    unknown = planned.isna().to_numpy()
    df["late_days"] = [None if u else int(d) for u, d in zip(unknown.tolist(), days.tolist())]
    df["late"] = ~unknown & (days.fillna(0).to_numpy() > 0)
    df["idle_amount"] = (df["paid_by_cutoff"] - df["spent"]).clip(lower=0).astype("int64")
    df["_flag"] = (df["late"] | (df["idle_amount"] > 0)).astype(int)
    df = df.sort_values(["_flag", "arranged", "project_id"], ascending=[False, False, True])
    return df[PROJECT_COLUMNS].reset_index(drop=True)


def _as_date(value) -> dt.date | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _late_days(planned_end, actual_end, as_of: dt.date) -> int | None:
    planned, actual = _as_date(planned_end), _as_date(actual_end)
    if planned is None:
        return None
    return ((actual or as_of) - planned).days


# ---- per beneficiary -------------------------------------------------------------------

PER_BENEFICIARY_COLUMNS = ["code", "name", "arranged", "households", "persons", "per_household", "per_person",
                           "outlier"]
# A region is an outlier when its money per household exceeds this many times the median
# of the regions that received money.
OUTLIER_FACTOR = 3.0


def per_beneficiary(engine: Engine, scope: Scope, year: int, source: str | None = None,
                    category: str | None = None, level: str = "child", cumulative: bool = False) -> pd.DataFrame:
    """Money arranged (元) per 建档立卡 household and per person, by region.

    ``cumulative``: the money of every year up to ``year`` (the selection's rule for each
    year) instead of ``year`` alone.
    ``level``: "child" (the scope's child regions; the scope itself at village scope) or
    "village" (every village in the scope). The registry counts households in the
    registry by the end of ``year`` (建档立卡, exited included). Money on projects that
    cannot be put on a region of that level (no place; placed at a town when listing
    villages) comes as one extra row with code None (name 地点缺失 / 乡镇本级), so the
    ``arranged`` column sums to the selection's arrangement. per_household/per_person are
    元 (None without households). ``outlier``: per_household above OUTLIER_FACTOR × the
    median per_household of the regions that received money. Sorted by per_household,
    highest first.
    """
    if level not in ("child", "village"):
        raise ValueError(f"unknown level {level!r}")
    target = "village" if level == "village" or scope.level == "village" else scope.child_level
    if target == "village" and scope.level == "village":
        regions = select(R.c.code, display_name_sql(R.c.name).label("name")).where(R.c.code == scope.code)
    elif target == "village":
        regions = select(R.c.code, display_name_sql(R.c.name).label("name")).where(R.c.level == "village",
                                                                          region_in(scope))
    else:
        regions = select(R.c.code, display_name_sql(R.c.name).label("name")).where(R.c.parent_code == scope.code)
    if target in ("county", "town", "village"):
        money_key, hh_key = P.c[f"{target}_code"], H.c[f"{target}_code"]
    else:
        digits = REGION_LEVEL_DIGITS[target]
        money_key = func.substr(P.c.county_code, 1, digits).concat(literal("0" * (12 - digits)))
        hh_key = func.substr(H.c.county_code, 1, digits).concat(literal("0" * (12 - digits)))
    no_place = case((P.c.region_code.is_(None), 1), else_=0)
    size_year = people_year(engine, year)
    money = select(money_key, no_place, _sum(A.c.amount)).select_from(_joined(A)).where(
        _selected(scope, year, source, category, cumulative)).group_by(money_key, no_place)
    registry = select(hh_key.label("code"), count_if(in_registry(year)).label("households"),
                      people_if(in_registry(year), H, size_year).label("persons")
                      ).where(scope.where(H)).group_by(hh_key)
    with engine.connect() as conn:
        names = dict(conn.execute(regions).all())
        amounts: dict = {}
        for code, unplaced, amount in conn.execute(money):
            key = code if code is not None else (NO_PLACE if unplaced else TOWN_LEVEL)
            amounts[key] = amounts.get(key, 0) + int(amount)
        people = {c: (int(h), int(p)) for c, h, p in conn.execute(registry)}
    records = []
    for code, name in names.items():
        hh, persons = people.get(code, (0, 0))
        amount = amounts.pop(code, 0)
        records.append({"code": code, "name": name, "arranged": amount, "households": hh, "persons": persons})
    for label in (TOWN_LEVEL, NO_PLACE):  # money that cannot be put on a region of this level
        if amounts.get(label):
            records.append({"code": None, "name": label, "arranged": amounts.pop(label),
                            "households": None, "persons": None})
    if any(amounts.values()):  # a place code with no region row: still counted, under its code
        for code, amount in sorted(amounts.items()):
            records.append({"code": code, "name": code, "arranged": amount, "households": None, "persons": None})
    df = pd.DataFrame(records, columns=PER_BENEFICIARY_COLUMNS[:5])
    df["per_household"] = [ratio(a, h) for a, h in zip(df["arranged"], df["households"])]
    df["per_person"] = [ratio(a, p) for a, p in zip(df["arranged"], df["persons"])]
    funded = df.loc[(df["arranged"] > 0) & df["per_household"].notna(), "per_household"]
    median = float(funded.median()) if len(funded) else None
    df["outlier"] = [bool(median and v is not None and v == v and v > OUTLIER_FACTOR * median)
                     for v in df["per_household"]]
    df["_o"] = df["per_household"].fillna(-1.0)
    return df.sort_values(["_o", "code"], ascending=[False, True], na_position="last").drop(
        columns="_o").reset_index(drop=True)[PER_BENEFICIARY_COLUMNS]


# ---- consistency checks ----------------------------------------------------------------

PROBLEM_COLUMNS = ["problem", "object_kind", "object_id", "name", "detail", "amount", "compared_to"]
PROBLEM_NO_PLACE = "项目无地点"
PROBLEM_SPENT_OVER_PAID = "支出超过拨付"
PROBLEM_PAID_OVER_ARRANGED = "拨付超过安排"
PROBLEM_ARRANGED_OVER_BUDGET = "安排超过项目预算"
PROBLEM_ARRANGED_OVER_ALLOCATED = "安排超过下达"
PROBLEM_PLACE_CODES = "地点代码不一致"
PROBLEM_FLOW_WITHOUT_ARRANGEMENT = "资金流水无对应安排"
PROBLEM_NOT_POSITIVE = "金额非正数"


def _member_of(engine: Engine, ids_stmt):
    """``column IN (ids_stmt)`` as a function of the column. On PostgreSQL the ids are read once and bound as one
    array (``= ANY``): the subquery (an OR over the year's projects and the projects of the year's funds) is
    otherwise planned again in every statement and every part of one, each time a scan of the projects."""
    if engine.dialect.name != "postgresql":
        return lambda column: column.in_(ids_stmt)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(ids_stmt)]
    param = bindparam("member_ids", ids, type_=ARRAY(String))
    return lambda column: column == any_(param)


def _problem_flags(c, budget):
    """A per-project problem on the sums ``c`` (arranged, paid, spent, no_place, …) of a project with ``budget``."""
    return or_(c.spent > c.paid, c.paid > c.arranged, c.arranged > budget, c.no_place == 1, c.mismatch == 1,
               c.bad_arrangements > 0, c.orphans > 0, c.bad_flows > 0)


def _problem_projects(member):
    """The checked projects (``member`` of project_id) that have a per-project problem, with their sums."""
    # One pass over the checked projects and their money finds every per-project problem (and flags the projects
    # with a movement without its 安排 or an amount not positive, whose records are read after, when there are any).
    AA = select(A.c.fund_id, A.c.project_id).where(member(A.c.project_id)).subquery("flow_arrangement")
    arranged = select(A.c.project_id, _sum(A.c.amount).label("arranged"),
                      _sum(case((A.c.amount <= 0, 1), else_=0)).label("bad_arrangements")).where(
        member(A.c.project_id)).group_by(A.c.project_id).subquery()
    flows = (select(MF.c.project_id, *_paid_spent(),
                    _sum(case((AA.c.fund_id.is_(None), 1), else_=0)).label("orphans"),
                    _sum(case((MF.c.amount <= 0, 1), else_=0)).label("bad_flows"))
             .select_from(MF.outerjoin(AA, and_(AA.c.fund_id == MF.c.fund_id, AA.c.project_id == MF.c.project_id)))
             .where(member(MF.c.project_id)).group_by(MF.c.project_id).subquery())
    mismatch = place_codes_mismatch(P)
    per_project = (
        select(P.c.project_id, P.c.name, P.c.budget, func.coalesce(arranged.c.arranged, 0).label("arranged"),
               func.coalesce(flows.c.paid, 0).label("paid"), func.coalesce(flows.c.spent, 0).label("spent"),
               case((P.c.region_code.is_(None), 1), else_=0).label("no_place"),
               case((mismatch, 1), else_=0).label("mismatch"),
               func.coalesce(arranged.c.bad_arrangements, 0).label("bad_arrangements"),
               func.coalesce(flows.c.orphans, 0).label("orphans"),
               func.coalesce(flows.c.bad_flows, 0).label("bad_flows"))
        .select_from(P.outerjoin(arranged, arranged.c.project_id == P.c.project_id)
                     .outerjoin(flows, flows.c.project_id == P.c.project_id))
        .where(member(P.c.project_id)).subquery()
    )
    pp = per_project.c
    return select(per_project).where(_problem_flags(pp, pp.budget)).order_by(pp.project_id)


def data_problems(engine: Engine, scope: Scope, year: int | None) -> pd.DataFrame:
    """Records of the year's money in the scope that break the funds' rules.

    Checked (each found generally, by SQL): a project with no place; a project whose 支出
    exceeds its 拨付, or its 拨付 its 安排 (all its movements), or its 安排 its budget; an
    allocation whose 安排 exceed its 下达; a project whose region/town/village codes disagree; a 拨付/支出 with no
    安排 of that fund to that project; a zero or negative amount. The projects checked are
    the year's projects in the scope and (county and wider) those receiving the year's
    funds. ``year=None`` checks every year. Columns: PROBLEM_COLUMNS (amount and
    compared_to in 元, where they apply).
    """
    fund_year = [F.c.year == year] if year is not None else []
    project_year = [P.c.year == year] if year is not None else []
    if scope.level in ALLOCATION_LEVELS:
        year_funds = select(F.c.fund_id).where(scope.where(F), *fund_year)
        checked = or_(and_(scope.where(P), *project_year),
                      P.c.project_id.in_(select(A.c.project_id).where(A.c.fund_id.in_(year_funds))))
    else:
        checked = and_(scope.where(P), *project_year)
        year_funds = None
    project_ids = select(P.c.project_id).where(checked)
    members = []

    def member(column):
        """``column`` in the checked projects (their ids read once, when first needed)."""
        if not members:
            members.append(_member_of(engine, project_ids))
        return members[0](column)

    flagged = summary.money_problems_for(engine)
    records: list[dict] = []
    with engine.connect() as conn:
        if flagged is not None:
            # The projects with a per-project problem, found at refresh over all their money (their flags do not
            # depend on the year or the scope): only those few are tested for being checked here.
            MP = flagged
            mp = MP.c
            found = conn.execute(
                select(P.c.project_id, P.c.name, P.c.budget, mp.arranged, mp.paid, mp.spent, mp.no_place, mp.mismatch,
                       mp.bad_arrangements, mp.orphans, mp.bad_flows)
                .select_from(MP.join(P, P.c.project_id == mp.project_id))
                .where(checked, _problem_flags(mp, P.c.budget))
                .order_by(P.c.project_id)).mappings().all()
        else:
            found = conn.execute(_problem_projects(member)).mappings().all()
        for r in found:
            if r["no_place"]:
                records.append({"problem": PROBLEM_NO_PLACE, "object_kind": "项目", "object_id": r["project_id"],
                                "name": r["name"], "detail": "项目没有所在乡镇或村(区划代码为空),其资金无法落到地点"})
        for r in found:
            if r["spent"] > r["paid"]:
                records.append({"problem": PROBLEM_SPENT_OVER_PAID, "object_kind": "项目", "object_id": r["project_id"],
                                "name": r["name"], "detail": "支出金额大于拨付金额",
                                "amount": int(r["spent"]), "compared_to": int(r["paid"])})
        for r in found:
            if r["paid"] > r["arranged"]:
                records.append({"problem": PROBLEM_PAID_OVER_ARRANGED, "object_kind": "项目",
                                "object_id": r["project_id"], "name": r["name"], "detail": "拨付金额大于安排金额",
                                "amount": int(r["paid"]), "compared_to": int(r["arranged"])})
        for r in found:
            if r["arranged"] > r["budget"]:
                records.append({"problem": PROBLEM_ARRANGED_OVER_BUDGET, "object_kind": "项目",
                                "object_id": r["project_id"], "name": r["name"], "detail": "安排金额大于项目预算",
                                "amount": int(r["arranged"]), "compared_to": int(r["budget"])})
        fund_ids = year_funds if year_funds is not None else select(A.c.fund_id).where(member(A.c.project_id))
        over = (
            select(F.c.fund_id, F.c.name, F.c.amount, _sum(A.c.amount).label("arranged"))
            .select_from(F.join(A, A.c.fund_id == F.c.fund_id))
            .where(F.c.fund_id.in_(fund_ids))
            .group_by(F.c.fund_id, F.c.name, F.c.amount)
            .having(_sum(A.c.amount) > F.c.amount)
            .order_by(F.c.fund_id)
        )
        for r in conn.execute(over).mappings():
            records.append({"problem": PROBLEM_ARRANGED_OVER_ALLOCATED, "object_kind": "资金",
                            "object_id": r["fund_id"], "name": r["name"], "detail": "安排到项目的金额大于下达金额",
                            "amount": int(r["arranged"]), "compared_to": int(r["amount"])})
        for r in found:
            if r["mismatch"]:
                records.append({"problem": PROBLEM_PLACE_CODES, "object_kind": "项目", "object_id": r["project_id"],
                                "name": r["name"], "detail": "所在地区划代码与乡镇、村代码不一致"})
        if any(r["orphans"] for r in found):
            orphan = (
                select(MF.c.id, MF.c.project_id, MF.c.fund_id, MF.c.kind, MF.c.amount)
                .select_from(MF.outerjoin(A, and_(A.c.fund_id == MF.c.fund_id, A.c.project_id == MF.c.project_id)))
                .where(member(MF.c.project_id), A.c.fund_id.is_(None))
                .order_by(MF.c.id)
            )
            for r in conn.execute(orphan).mappings():
                records.append({"problem": PROBLEM_FLOW_WITHOUT_ARRANGEMENT, "object_kind": "资金流水",
                                "object_id": str(r["id"]), "name": f"{r['project_id']} / {r['fund_id']}",
                                "detail": f"{r['kind']}没有对应的资金安排", "amount": int(r["amount"])})
        bad_amounts = [
            select(literal("资金").label("kind"), F.c.fund_id.label("oid"), F.c.name.label("name"),
                   F.c.amount.label("amount")).where(F.c.fund_id.in_(fund_ids), F.c.amount <= 0)
            .order_by(F.c.fund_id)]
        if any(r["bad_arrangements"] for r in found):
            bad_amounts.append(
                select(literal("资金安排").label("kind"), (A.c.fund_id.concat(literal(" / ")).concat(A.c.project_id)),
                       literal(""), A.c.amount).where(member(A.c.project_id), A.c.amount <= 0)
                .order_by(A.c.fund_id, A.c.project_id))
        if any(r["bad_flows"] for r in found):
            bad_amounts.append(
                select(literal("资金流水").label("kind"), cast(MF.c.id, String), MF.c.kind, MF.c.amount)
                .where(member(MF.c.project_id), MF.c.amount <= 0).order_by(MF.c.id))
        for stmt in bad_amounts:
            for kind, oid, name, amount in conn.execute(stmt):
                records.append({"problem": PROBLEM_NOT_POSITIVE, "object_kind": kind, "object_id": oid, "name": name,
                                "detail": "金额为零或负数", "amount": int(amount)})
    return pd.DataFrame(records, columns=PROBLEM_COLUMNS)


# ---- one project -----------------------------------------------------------------------


def project_detail(engine: Engine, scope: Scope, project_id: str, as_of: dt.date | None = None,
                   idle_days: int = 90) -> dict | None:
    """One project in the scope with its place names and money (元); None if not in the scope.

    Keys: the project's columns, village_name, town_name, place_name, arranged, paid, spent,
    funds (number of allocations arranged to it), beneficiaries_listed (households in
    project_beneficiary), beneficiary_amount (their amounts, 元), paid_rate and spent_rate
    (% of the money arranged), and with ``as_of`` the
    flags of :func:`projects` over all its money: late, late_days, idle_amount.
    """
    village = R.alias("village")
    town = R.alias("town")
    stmt = (
        select(P, village.c.name.label("village_name"), town.c.name.label("town_name"))
        .select_from(P.outerjoin(village, village.c.code == P.c.village_code)
                     .outerjoin(town, town.c.code == P.c.town_code))
        .where(P.c.project_id == project_id, scope.where(P))
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
        if row is None:
            return None
        out = dict(row)
        arranged, n_funds = conn.execute(
            select(_sum(A.c.amount), func.count()).where(A.c.project_id == project_id)).one()
        paid, spent = conn.execute(select(*_paid_spent()).where(MF.c.project_id == project_id)).one()
        listed, amount = conn.execute(
            select(func.count(), _sum(PB.c.amount)).where(PB.c.project_id == project_id)).one()
        paid_by_cutoff = 0
        if as_of is not None:
            cutoff = as_of - dt.timedelta(days=idle_days)
            paid_by_cutoff = conn.execute(select(_sum(MF.c.amount)).where(
                MF.c.project_id == project_id, MF.c.kind == MONEY_PAID, MF.c.flow_date <= cutoff)).scalar_one()
    out.update(arranged=int(arranged), paid=int(paid), spent=int(spent), funds=int(n_funds),
               beneficiaries_listed=int(listed), beneficiary_amount=int(amount),
               place_name=out["village_name"] or out["town_name"] or NO_PLACE,
               paid_rate=pct(paid, arranged), spent_rate=pct(spent, arranged))
    if as_of is not None:
        days = _late_days(out["planned_end"], out["actual_end"], as_of)
        out.update(late_days=days, late=days is not None and days > 0,
                   idle_amount=max(0, int(paid_by_cutoff) - int(spent)))
    return out


MOVEMENT_COLUMNS = ["date", "kind", "amount", "fund_id", "source", "doc_no", "fund_name"]


def project_money(engine: Engine, scope: Scope, project_id: str) -> pd.DataFrame:
    """The project's money movements: each 安排 and each 拨付/支出, by date (元).

    Columns: MOVEMENT_COLUMNS (kind 安排/拨付/支出). Empty when the project is not in the scope.
    """
    in_scope = select(P.c.project_id).where(P.c.project_id == project_id, scope.where(P))
    arranged = select(A.c.arranged_date.label("date"), literal("安排").label("kind"), A.c.amount.label("amount"),
                      A.c.fund_id.label("fund_id"), literal(0).label("seq")).where(A.c.project_id.in_(in_scope))
    moved = select(MF.c.flow_date, MF.c.kind, MF.c.amount, MF.c.fund_id, MF.c.id).where(
        MF.c.project_id.in_(in_scope))
    u = union_all(arranged, moved).subquery()
    stmt = (
        select(u.c.date, u.c.kind, u.c.amount, u.c.fund_id, F.c.source, F.c.doc_no, F.c.name.label("fund_name"))
        .select_from(u.join(F, F.c.fund_id == u.c.fund_id))
        .order_by(u.c.date, u.c.seq, u.c.fund_id)
    )
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=MOVEMENT_COLUMNS)
    df["amount"] = df["amount"].astype("int64")
    return df[MOVEMENT_COLUMNS]


BENEFICIARY_COLUMNS = ["hh_id", "head_name", "village_code", "village_name", "member_count", "kind", "status",
                       "attribute", "amount"]


def project_beneficiaries(engine: Engine, scope: Scope, project_id: str) -> pd.DataFrame:
    """The project's beneficiary households (no ID numbers) with the amount reaching each (元).

    Columns: BENEFICIARY_COLUMNS. Empty when the project is not in the scope.
    """
    in_scope = select(P.c.project_id).where(P.c.project_id == project_id, scope.where(P))
    stmt = (
        select(H.c.hh_id, H.c.head_name, H.c.village_code, R.c.name.label("village_name"), H.c.member_count,
               H.c.kind, H.c.status, H.c.attribute, PB.c.amount)
        .select_from(PB.join(H, H.c.hh_id == PB.c.hh_id).outerjoin(R, R.c.code == H.c.village_code))
        .where(PB.c.project_id.in_(in_scope))
        .order_by(H.c.village_code, H.c.hh_id)
    )
    df = frame(engine, stmt)
    return df if not df.empty else pd.DataFrame(columns=BENEFICIARY_COLUMNS)
