"""防返贫动态监测: monitoring objects (监测对象), the removal of their risk (风险消除), early warnings.

Definitions (every function here uses them):
- identified by a date: identified_date <= date;
- risk removed by a date: removed_date <= date;
- still at risk at a date (a current monitoring object): identified and not removed by then.
A year is read at its end (31 December); the as-of year therefore shows the data's latest state.
Counts of 户 count monitoring-object records (as the national system lists them), 人 their ``persons``.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pandas as pd
from sqlalchemy import Float, Integer, and_, case, cast, exists, func, or_, select, true
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..codes import HOUSEHOLD_KIND_MONITORING, MONITORING_KINDS, MONITORING_RISKS
from ..names import display_name_sql
from ..schema import household as H
from ..schema import income as I
from ..schema import monitoring_found as MF
from ..schema import monitoring_object as MO
from ..schema import person as P
from ..schema import region as R
from ..summary import read as summary
from ..scope import Scope
from ..report.formatting import half_up, half_up_all
from ..rules import current_member, exited_by, income_line, line_amounts, line_rows
from .common import count_if, frame, pct, region_in

LIST_LIMIT = 200
SERIOUS_HEALTH = ("患有大病", "残疾")
# Removal time classes (days from identification to 风险消除), as leaders ask: within a quarter, half a
# year, a year, longer.
REMOVAL_CLASSES = ((0, 90, "3个月以内"), (91, 180, "3–6个月"), (181, 365, "6–12个月"), (366, None, "12个月以上"))


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


class days_between(FunctionElement):
    """Whole days from ``earlier`` to ``later`` (two DATE expressions), on SQLite and PostgreSQL."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element, compiler, **kw):  # PostgreSQL: date - date is an integer
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (f"CAST(ROUND(julianday({compiler.process(later, **kw)}) - "
            f"julianday({compiler.process(earlier, **kw)})) AS INTEGER)")


def identified_by(end: dt.date, mo=MO):
    return mo.c.identified_date <= end


def removed_by(end: dt.date, mo=MO):
    return and_(mo.c.identified_date <= end, mo.c.removed_date.is_not(None), mo.c.removed_date <= end)


def at_risk_at(end: dt.date, mo=MO):
    return and_(mo.c.identified_date <= end, or_(mo.c.removed_date.is_(None), mo.c.removed_date > end))


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


def _figures(end: dt.date, year: int):
    """The per-group columns shared by the breakdowns (labels fixed so pages read them alike)."""
    start = dt.date(year, 1, 1)
    return [
        func.count().label("households"),
        func.coalesce(func.sum(MO.c.persons), 0).label("persons"),
        count_if(removed_by(end)).label("removed_households"),
        count_if(at_risk_at(end)).label("at_risk_households"),
        func.coalesce(func.sum(case((at_risk_at(end), MO.c.persons), else_=0)), 0).label("at_risk_persons"),
        count_if(MO.c.identified_date >= start).label("new_households"),
    ]


FIGURE_COLUMNS = ["households", "persons", "removed_households", "at_risk_households", "at_risk_persons",
                  "new_households"]


def _with_rate(df: pd.DataFrame) -> pd.DataFrame:
    for col in FIGURE_COLUMNS:
        if col in df:
            df[col] = df[col].fillna(0).astype(int)
    df["removal_rate"] = [pct(r, n) for r, n in zip(df["removed_households"], df["households"])]
    return df


def breakdown(engine: Engine, scope: Scope, year: int, by: str) -> pd.DataFrame:
    """Monitoring objects identified by the end of ``year`` by ``by`` = "kind" (监测对象类别) or "risk" (主要风险).

    Columns: label, households, persons, removed_households, at_risk_households, at_risk_persons,
    new_households (identified during ``year``), removal_rate (%). Every code of the list appears
    (zeros included) in the code list's order, then any label outside the list.
    """
    column, order = {"kind": (MO.c.kind, MONITORING_KINDS), "risk": (MO.c.main_risk, MONITORING_RISKS)}[by]
    end = year_end(year)
    stmt = (select(column.label("label"), *_figures(end, year))
            .where(scope.where(MO), identified_by(end)).group_by(column))
    got = frame(engine, stmt)
    labels = list(order) + sorted(set(got["label"]) - set(order)) if not got.empty else list(order)
    df = pd.DataFrame({"label": labels}).merge(got, on="label", how="left")
    return _with_rate(df)


def by_region(engine: Engine, scope: Scope, year: int, level: str = "child") -> pd.DataFrame:
    """Monitoring figures per child region of the scope (``level="child"``) or per village (``"village"``).

    Columns: code, name, households, persons, removed_households, at_risk_households, at_risk_persons,
    new_households, removal_rate (%). Every region of that level in the scope is listed (zeros
    included), by code. Empty for a village scope asked for its children.
    """
    end = year_end(year)
    if level == "village":
        key = MO.c.village_code
        regions = select(R.c.code, display_name_sql(R.c.name).label("name")).where(R.c.level == "village",
                                                                          region_in(scope))
    else:
        if scope.child_level is None:
            return _with_rate(pd.DataFrame(columns=["code", "name", *FIGURE_COLUMNS]))
        key = scope.child_key(MO)
        regions = select(R.c.code, display_name_sql(R.c.name).label("name")).where(R.c.parent_code == scope.code)
    per = (select(key.label("code"), *_figures(end, year))
           .where(scope.where(MO), identified_by(end)).group_by(key).subquery())
    regions = regions.subquery()
    stmt = (select(regions.c.code, regions.c.name, *[per.c[c] for c in FIGURE_COLUMNS])
            .outerjoin(per, per.c.code == regions.c.code).order_by(regions.c.code))
    return _with_rate(frame(engine, stmt))


def monthly(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """Per month of ``year``: objects newly identified (户, 人) and risks removed (户).

    Columns: month (1–12), identified_households, identified_persons, removed_households.
    """
    start, end = dt.date(year, 1, 1), year_end(year)
    ident_month = func.extract("month", MO.c.identified_date)
    removed_month = func.extract("month", MO.c.removed_date)
    identified = (select(ident_month.label("month"), func.count().label("identified_households"),
                         func.sum(MO.c.persons).label("identified_persons"))
                  .where(scope.where(MO), MO.c.identified_date.between(start, end)).group_by(ident_month))
    removed = (select(removed_month.label("month"), func.count().label("removed_households"))
               .where(scope.where(MO), MO.c.removed_date.between(start, end)).group_by(removed_month))
    df = pd.DataFrame({"month": range(1, 13)})
    for stmt in (identified, removed):
        part = frame(engine, stmt)
        if not part.empty:
            part["month"] = part["month"].astype(int)
            df = df.merge(part, on="month", how="left")
    for col in ("identified_households", "identified_persons", "removed_households"):
        df[col] = df[col].fillna(0).astype(int) if col in df else 0
    return df[["month", "identified_households", "identified_persons", "removed_households"]]


def removal_time(engine: Engine, scope: Scope, year: int) -> dict:
    """How long it took to remove the risks removed during ``year`` (days from identification).

    Keys: removed_households, avg_days (1 decimal), avg_days_whole (whole days, as the pages show it: rounded
    once from the exact mean, 四舍五入, not from avg_days), max_days (None when none), classes: DataFrame with
    label, households, share (%) for REMOVAL_CLASSES.
    """
    start, end = dt.date(year, 1, 1), year_end(year)
    days = days_between(MO.c.removed_date, MO.c.identified_date)
    class_cols = []
    for lo, hi, label in REMOVAL_CLASSES:
        cond = days >= lo if hi is None else days.between(lo, hi)
        class_cols.append(count_if(cond).label(label))
    stmt = select(func.count(), func.sum(days), func.max(days), *class_cols).where(
        scope.where(MO), MO.c.removed_date.between(start, end))
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    n = int(row[0])
    counts = [int(v) for v in row[3:]]
    classes = pd.DataFrame({
        "label": [c[2] for c in REMOVAL_CLASSES], "households": counts,
        "share": [pct(c, n) for c in counts],
    })
    return {
        "removed_households": n,
        "avg_days": half_up(Fraction(int(row[1]), n), 1) if n else None,
        "avg_days_whole": half_up(Fraction(int(row[1]), n)) if n else None,
        "max_days": int(row[2]) if n else None,
        "classes": classes,
    }


def _place_names():
    """Village and township name columns joined through the household (aliases of region)."""
    village, town = R.alias("village"), R.alias("town")
    return village, town


def object_list(engine: Engine, scope: Scope, year: int, on: dt.date, only_at_risk: bool = True,
                limit: int = LIST_LIMIT) -> pd.DataFrame:
    """Monitoring objects identified by the end of ``year`` (only those still at risk then, or all):
    still at risk first, longest at risk first; then the removed ones, latest removal first.

    ``on``: the date the time at risk is counted to (the year's end, or the data's as-of date when
    earlier). Columns: hh_id, head_name, town, village, kind, main_risk, identified_date, persons,
    removed_date (None while at risk at the year's end), days_at_risk (to ``on`` or to the removal).
    The number still at risk is ``totals()["at_risk_households"]``, of all ``totals()["households"]``.
    """
    end = year_end(year)
    village, town = _place_names()
    removed = removed_by(end)
    removed_date = case((removed, MO.c.removed_date), else_=None)
    gone = case((removed, 1), else_=0)  # still at risk first
    # the first ``limit`` objects, then their households and places (joining first read all 2 million
    # households of a province for 200 rows); EXISTS keeps the inner join's meaning
    top = (
        select(MO.c.hh_id, MO.c.village_code, MO.c.kind, MO.c.main_risk, MO.c.identified_date, MO.c.persons,
               removed_date.label("removed_date"), gone.label("gone"))
        .where(scope.where(MO), at_risk_at(end) if only_at_risk else identified_by(end),
               exists(select(1).where(H.c.hh_id == MO.c.hh_id)))
        .order_by(gone, removed_date.desc(), MO.c.identified_date, MO.c.hh_id)
        .limit(limit)
        .subquery("top")
    )
    stmt = (
        select(top.c.hh_id, H.c.head_name, town.c.name.label("town"), village.c.name.label("village"),
               top.c.kind, top.c.main_risk, top.c.identified_date, top.c.persons, top.c.removed_date)
        .select_from(top.join(H, H.c.hh_id == top.c.hh_id)
                     .outerjoin(village, village.c.code == top.c.village_code)
                     .outerjoin(town, town.c.code == H.c.town_code))
        .order_by(top.c.gone, top.c.removed_date.desc(), top.c.identified_date, top.c.hh_id)
    )
    df = frame(engine, stmt)
    df["days_at_risk"] = [
        ((r if r is not None and r == r else on) - d).days if d is not None else None
        for d, r in zip(df["identified_date"], df["removed_date"])
    ]
    return df


# ---- early warnings ---------------------------------------------------------


def _not_monitored(end: dt.date, h=H):
    """The household is not a current monitoring object at ``end`` (never one, or its risk removed)."""
    mo = MO.alias("mo_current")
    return ~exists(select(1).where(mo.c.hh_id == h.c.hh_id, at_risk_at(end, mo)))


def _latest_income(scope: Scope, year: int, engine: Engine | None = None):
    """Subquery: each household's (in the scope) latest income year up to ``year`` and its 年人均纯收入."""
    hh = H.alias("hh_scope")
    li = summary.latest_income_for(engine, year) if engine is not None else None
    if li is not None:  # the same rows, kept by data_access.summary for the as-of year
        return (select(li.c.hh_id, li.c.year, li.c.per_capita_net)
                .where(scope.where(li)).subquery("latest_income"))
    if engine is not None and engine.dialect.name == "postgresql":
        # A LATERAL top-1 by the income key (hh_id, year): one index probe per household; the correlated
        # MAX(year) below is evaluated for each of the scope's income rows (24 million at province scale).
        top = (select(I.c.year, I.c.per_capita_net).where(I.c.hh_id == hh.c.hh_id, I.c.year <= year)
               .order_by(I.c.year.desc()).limit(1).lateral("income_top"))
        return (select(hh.c.hh_id, top.c.year, top.c.per_capita_net)
                .select_from(hh.join(top, true()))
                .where(scope.where(hh))
                .subquery("latest_income"))
    later = I.alias("income_latest")
    latest_year = (select(func.max(later.c.year))
                   .where(later.c.hh_id == hh.c.hh_id, later.c.year <= year).scalar_subquery())
    return (select(I.c.hh_id, I.c.year, I.c.per_capita_net)
            .join(hh, hh.c.hh_id == I.c.hh_id)
            .where(scope.where(hh), I.c.year == latest_year)
            .subquery("latest_income"))


def income_warnings(engine: Engine, scope: Scope, year: int, margin_pct: int = 10,
                    limit: int = LIST_LIMIT) -> dict:
    """收入预警: exited households (已脱贫 at the end of ``year``) whose latest 年人均纯收入 (latest
    income year <= ``year``) is below the line of that income's own year (``rules.income_line``, the
    rule 脱贫进度's 收入临界, 户档案 and 查询 use) or within ``margin_pct`` % above it, and who are not
    current monitoring objects. An income whose year has no line is not judged.

    Keys: lines ({year: (amount 元, kind)} of ``rules.line_amounts`` up to ``year``; empty: nothing is
    judged), total, below (under the line), near (between the line and line × (1 + margin)), rows:
    DataFrame (lowest income first, at most ``limit``) with hh_id, head_name, town, village,
    member_count, main_cause, policy_status, income_year, per_capita_net, line (元, of the income
    year), above_line_pct (% above (+) or below (−) the line), was_monitored (risk removed before).
    """
    with engine.connect() as conn:
        lines = line_amounts(conn, scope, 1900, year)
    empty = pd.DataFrame(columns=["hh_id", "head_name", "town", "village", "member_count", "main_cause",
                                  "policy_status", "income_year", "per_capita_net", "line", "above_line_pct",
                                  "was_monitored"])
    if not lines:
        return {"lines": {}, "total": 0, "below": 0, "near": 0, "rows": empty}
    factor = (100 + margin_pct) / 100.0
    end = year_end(year)
    li = _latest_income(scope, year, engine)
    chosen = line_rows(lines)
    amount = chosen.c.amount
    condition = and_(scope.where(H), exited_by(year), li.c.per_capita_net < amount * factor, _not_monitored(end))
    joined = H.join(li, li.c.hh_id == H.c.hh_id).join(chosen, income_line(li.c.year, chosen))
    base = select(H.c.hh_id).select_from(joined)
    count_stmt = (select(func.count(), count_if(li.c.per_capita_net < amount))
                  .select_from(joined).where(condition))
    village, town = _place_names()
    earlier = MO.alias("mo_earlier")
    was = exists(select(1).where(earlier.c.hh_id == H.c.hh_id, earlier.c.identified_date <= end))
    rows_stmt = (
        base.add_columns(H.c.head_name, town.c.name.label("town"), village.c.name.label("village"),
                         H.c.member_count, H.c.main_cause, H.c.policy_status, li.c.year.label("income_year"),
                         li.c.per_capita_net, amount.label("line"),
                         case((was, True), else_=False).label("was_monitored"))
        .outerjoin(village, village.c.code == H.c.village_code)
        .outerjoin(town, town.c.code == H.c.town_code)
        .where(condition)
        .order_by(li.c.per_capita_net, H.c.hh_id)
        .limit(limit)
    )
    sli, only = summary.latest_income_for(engine, year), []
    near = summary.near_line_for(engine, scope, year, factor, counts=False)
    if near is not None:  # every household below the line × factor at the year's end (data_access.summary)
        sli, only = near[0], [near[0].c.as_of_year == year]
    if sli is not None:  # the same households read from the latest-income summary alone (its state columns)
        where = and_(scope.where(sli), exited_by(year, sli), sli.c.per_capita_net < amount * factor,
                     _not_monitored(end, sli), *only)
        on_line = sli.join(chosen, income_line(sli.c.year, chosen))
        count_stmt = select(func.count(), count_if(sli.c.per_capita_net < amount)).select_from(on_line).where(where)
        top = (select(sli.c.hh_id, sli.c.year, sli.c.per_capita_net, amount.label("amount"))
               .select_from(on_line).where(where).order_by(sli.c.per_capita_net, sli.c.hh_id).limit(limit)
               .subquery("top"))
        rows_stmt = (
            select(H.c.hh_id, H.c.head_name, town.c.name.label("town"), village.c.name.label("village"),
                   H.c.member_count, H.c.main_cause, H.c.policy_status, top.c.year.label("income_year"),
                   top.c.per_capita_net, top.c.amount.label("line"),
                   case((was, True), else_=False).label("was_monitored"))
            .select_from(top.join(H, H.c.hh_id == top.c.hh_id)
                         .outerjoin(village, village.c.code == H.c.village_code)
                         .outerjoin(town, town.c.code == H.c.town_code))
            .order_by(top.c.per_capita_net, top.c.hh_id)
        )
    with engine.connect() as conn:
        total, below = map(int, conn.execute(count_stmt).one())
    rows = frame(engine, rows_stmt)
    rows["per_capita_net"] = half_up_all(rows["per_capita_net"])
    rows["line"] = pd.to_numeric(rows["line"]).astype("int64")
    rows["above_line_pct"] = [half_up(100.0 * (v / a - 1), 1) for v, a in zip(rows["per_capita_net"], rows["line"])]
    rows["was_monitored"] = rows["was_monitored"].astype(bool)
    return {"lines": lines, "total": total, "below": below, "near": total - below, "rows": rows}


def health_warnings(engine: Engine, scope: Scope, year: int, margin_pct: int = 10,
                    limit: int = LIST_LIMIT) -> dict:
    """健康预警: households with a member whose 健康状况 is 患有大病 or 残疾 (the latest record) who are
    not current monitoring objects at the end of ``year`` and not counted as poor then: 已脱贫
    households and 一般农户 (未脱贫 and 返贫 households are under the poverty policies already).

    Keys: total, with_illness (households with a 患有大病 member), with_disability (with a 残疾
    member; a household may have both), low_income (of the total, those whose latest 年人均纯收入 is
    under the income warning's threshold: its own year's line + ``margin_pct`` %), rows:
    DataFrame (lowest latest income first, households without income records last; at most
    ``limit``) with hh_id, head_name, town, village, kind, member_count, ill_persons,
    disabled_persons, income_year, per_capita_net, was_monitored.
    """
    hs = summary.health_for(engine, year)
    if hs is not None:  # the same warning from the per-household health summary (data_access.summary)
        return _health_warnings_from_summary(engine, scope, year, margin_pct, limit, hs)
    end = year_end(year)
    per_hh = (select(P.c.hh_id,
                     count_if(P.c.health == SERIOUS_HEALTH[0]).label("ill_persons"),
                     count_if(P.c.health == SERIOUS_HEALTH[1]).label("disabled_persons"))
              .where(scope.where(P), current_member(P), P.c.health.in_(SERIOUS_HEALTH))
              .group_by(P.c.hh_id).subquery("serious"))
    ps = summary.persons_for(engine)
    if ps is not None:  # the same counts from the per-household person summary (data_access.summary)
        per_hh = (select(ps.c.hh_id, func.sum(ps.c.ill).label("ill_persons"),
                         func.sum(ps.c.disabled).label("disabled_persons"))
                  .where(scope.where(ps), or_(ps.c.ill > 0, ps.c.disabled > 0))
                  .group_by(ps.c.hh_id).subquery("serious"))
    eligible = or_(exited_by(year), H.c.kind == HOUSEHOLD_KIND_MONITORING)
    condition = and_(scope.where(H), eligible, _not_monitored(end))
    li = _latest_income(scope, year, engine)
    with engine.connect() as conn:
        lines = line_amounts(conn, scope, 1900, year)
    chosen = line_rows(lines)
    amount = cast(chosen.c.amount, Float)  # typed: without any line the subquery's NULL has no type (PostgreSQL)
    low = and_(amount.is_not(None), li.c.per_capita_net < amount * ((100 + margin_pct) / 100.0))
    count_stmt = (select(func.count(), count_if(per_hh.c.ill_persons > 0), count_if(per_hh.c.disabled_persons > 0),
                         count_if(low))
                  .select_from(H).join(per_hh, per_hh.c.hh_id == H.c.hh_id)
                  .outerjoin(li, li.c.hh_id == H.c.hh_id)
                  .outerjoin(chosen, income_line(li.c.year, chosen)).where(condition))
    village, town = _place_names()
    earlier = MO.alias("mo_earlier")
    was = exists(select(1).where(earlier.c.hh_id == H.c.hh_id, earlier.c.identified_date <= end))
    rows_stmt = (
        select(H.c.hh_id, H.c.head_name, town.c.name.label("town"), village.c.name.label("village"),
               H.c.kind, H.c.member_count, per_hh.c.ill_persons, per_hh.c.disabled_persons,
               li.c.year.label("income_year"), li.c.per_capita_net,
               case((was, True), else_=False).label("was_monitored"))
        .join(per_hh, per_hh.c.hh_id == H.c.hh_id)
        .outerjoin(li, li.c.hh_id == H.c.hh_id)
        .outerjoin(village, village.c.code == H.c.village_code)
        .outerjoin(town, town.c.code == H.c.town_code)
        .where(condition)
        .order_by(case((li.c.per_capita_net.is_(None), 1), else_=0), li.c.per_capita_net,
                  H.c.hh_id)
        .limit(limit)
    )
    return _health_result(engine, count_stmt, rows_stmt)


def _health_result(engine: Engine, count_stmt, rows_stmt) -> dict:
    """``health_warnings``' dict from its count statement (total, ill, disabled, low income) and its rows."""
    with engine.connect() as conn:
        total, ill, disabled, low_income = map(int, conn.execute(count_stmt).one())
    rows = frame(engine, rows_stmt)
    rows["per_capita_net"] = pd.to_numeric(pd.Series(half_up_all(rows["per_capita_net"]), index=rows.index))
    rows["was_monitored"] = rows["was_monitored"].astype(bool)
    return {"total": total, "with_illness": ill, "with_disability": disabled, "low_income": low_income,
            "rows": rows}


def _health_warnings_from_summary(engine: Engine, scope: Scope, year: int, margin_pct: int, limit: int,
                                  hs) -> dict:
    """``health_warnings`` from summary_health (built for the as-of year): the same households, members,
    latest incomes and monitoring flags, one narrow row per household; names from ``household`` for the
    rows shown only."""
    with engine.connect() as conn:
        lines = line_amounts(conn, scope, 1900, year)
    chosen = line_rows(lines)
    amount = cast(chosen.c.amount, Float)
    low = and_(amount.is_not(None), hs.c.per_capita_net < amount * ((100 + margin_pct) / 100.0))
    condition = and_(scope.where(hs), or_(exited_by(year, hs), hs.c.kind == HOUSEHOLD_KIND_MONITORING),
                     hs.c.monitored == 0)
    count_stmt = (select(func.count(), count_if(hs.c.ill_persons > 0), count_if(hs.c.disabled_persons > 0),
                         count_if(low))
                  .select_from(hs.outerjoin(chosen, income_line(hs.c.income_year, chosen))).where(condition))
    top = (select(hs.c.hh_id, hs.c.kind, hs.c.ill_persons, hs.c.disabled_persons, hs.c.income_year,
                  hs.c.per_capita_net, hs.c.was_monitored)
           .where(condition).order_by(hs.c.per_capita_net.asc().nulls_last(), hs.c.hh_id)  # the table's index
           .limit(limit).subquery("top"))
    village, town = _place_names()
    rows_stmt = (
        select(top.c.hh_id, H.c.head_name, town.c.name.label("town"), village.c.name.label("village"),
               top.c.kind, H.c.member_count, top.c.ill_persons, top.c.disabled_persons, top.c.income_year,
               top.c.per_capita_net, top.c.was_monitored)
        .select_from(top.join(H, H.c.hh_id == top.c.hh_id)
                     .outerjoin(village, village.c.code == H.c.village_code)
                     .outerjoin(town, town.c.code == H.c.town_code))
        .order_by(case((top.c.per_capita_net.is_(None), 1), else_=0), top.c.per_capita_net, top.c.hh_id)
    )
    return _health_result(engine, count_stmt, rows_stmt)


# ---- the lifecycle in time: found → identified (识别时限), identified → 风险消除 ------------------------------
# A monitoring object's risk is found (风险发现, ``monitoring_found.found_date``) and the household is then
# identified (identified_date) within a deadline the deployment sets (``codes.identify_deadline_days``,
# default 15). Days are whole days between the two dates. Read per year: the objects identified during the
# year (识别用时) and the risks removed during the year (消除用时, days from identification).

_has_found_table: dict[str, bool] = {}


def has_found_table(engine: Engine) -> bool:
    from sqlalchemy import inspect

    key = str(engine.url)
    if not _has_found_table.get(key):  # a missing table is looked for again: an import may create it
        with engine.connect() as conn:
            _has_found_table[key] = inspect(conn).has_table(MF.name)
    return _has_found_table[key]


LIFECYCLE_COLUMNS = ["identified", "with_found", "avg_identify_days", "late_identified", "late_pct",
                     "removed", "avg_removal_days"]


def _lifecycle_columns(year: int, deadline: int, with_found: bool):
    start, end = dt.date(year, 1, 1), year_end(year)
    new = MO.c.identified_date.between(start, end)
    removed = and_(MO.c.removed_date.is_not(None), MO.c.removed_date.between(start, end))
    removal_days = days_between(MO.c.removed_date, MO.c.identified_date)
    cols = [count_if(new).label("identified")]
    if with_found:
        found_days = days_between(MO.c.identified_date, MF.c.found_date)
        cols += [count_if(and_(new, MF.c.found_date.is_not(None))).label("with_found"),
                 func.avg(case((new, found_days), else_=None)).label("avg_identify_days"),
                 count_if(and_(new, found_days > deadline)).label("late_identified")]
    cols += [count_if(removed).label("removed"),
             func.avg(case((removed, removal_days), else_=None)).label("avg_removal_days")]
    return cols


def _lifecycle_frame(df: pd.DataFrame, with_found: bool) -> pd.DataFrame:
    if not with_found:
        df["with_found"], df["avg_identify_days"], df["late_identified"] = 0, None, 0
    for col in ("identified", "with_found", "late_identified", "removed"):
        df[col] = df[col].fillna(0).astype(int)
    for col in ("avg_identify_days", "avg_removal_days"):
        df[col] = [round(float(v), 1) if v is not None and v == v else None for v in df[col]]
    df["late_pct"] = [pct(late, n) if n else None for late, n in zip(df["late_identified"], df["with_found"])]
    return df


def lifecycle(engine: Engine, scope: Scope, year: int, deadline: int) -> dict:
    """The scope's lifecycle figures of ``year`` (LIFECYCLE_COLUMNS as keys) and has_found (whether the
    database has 风险发现 dates at all): identified = objects identified in the year, of which with_found
    have a found date; avg_identify_days (found → identified), late_identified (more than ``deadline``
    days), late_pct (% of with_found); removed = risks removed in the year, avg_removal_days (identified →
    removed)."""
    with_found = has_found_table(engine)
    source = MO.outerjoin(MF, MF.c.object_id == MO.c.id) if with_found else MO
    stmt = select(*_lifecycle_columns(year, deadline, with_found)).select_from(source).where(scope.where(MO))
    row = _lifecycle_frame(frame(engine, stmt), with_found).to_dict("records")[0]
    out = {k: (int(row[k]) if k in ("identified", "with_found", "late_identified", "removed") else
               (None if row[k] is None or row[k] != row[k] else float(row[k]))) for k in LIFECYCLE_COLUMNS}
    out["has_found"] = with_found
    return out


def lifecycle_by_region(engine: Engine, scope: Scope, year: int, deadline: int) -> pd.DataFrame:
    """``lifecycle`` per child region of the scope (every child listed, by code). Columns: code, name,
    LIFECYCLE_COLUMNS. Empty for a village."""
    if scope.child_level is None:
        return pd.DataFrame(columns=["code", "name", *LIFECYCLE_COLUMNS])
    with_found = has_found_table(engine)
    key = scope.child_key(MO)
    source = MO.outerjoin(MF, MF.c.object_id == MO.c.id) if with_found else MO
    per = (select(key.label("code"), *_lifecycle_columns(year, deadline, with_found)).select_from(source)
           .where(scope.where(MO)).group_by(key).subquery())
    regions = select(R.c.code, R.c.name).where(R.c.parent_code == scope.code).subquery()
    names = [c for c in per.c.keys() if c != "code"]
    stmt = (select(regions.c.code, regions.c.name, *[per.c[c] for c in names])
            .outerjoin(per, per.c.code == regions.c.code).order_by(regions.c.code))
    df = _lifecycle_frame(frame(engine, stmt), with_found)
    return df[["code", "name", *LIFECYCLE_COLUMNS]]


def late_identifications(engine: Engine, scope: Scope, year: int, deadline: int,
                         limit: int = LIST_LIMIT) -> pd.DataFrame:
    """The slow cases: objects identified in ``year`` more than ``deadline`` days after the risk was found,
    slowest first. Columns: hh_id, head_name, town, village, kind, main_risk, found_date, identified_date,
    days, channel. Empty without 风险发现 data."""
    cols = ["hh_id", "head_name", "town", "village", "kind", "main_risk", "found_date", "identified_date",
            "days", "channel"]
    if not has_found_table(engine):
        return pd.DataFrame(columns=cols)
    village, town = _place_names()
    days = days_between(MO.c.identified_date, MF.c.found_date)
    stmt = (select(MO.c.hh_id, H.c.head_name, town.c.name.label("town"), village.c.name.label("village"),
                   MO.c.kind, MO.c.main_risk, MF.c.found_date, MO.c.identified_date, days.label("days"),
                   MF.c.channel)
            .select_from(MO.join(MF, MF.c.object_id == MO.c.id).join(H, H.c.hh_id == MO.c.hh_id))
            .outerjoin(village, village.c.code == MO.c.village_code)
            .outerjoin(town, town.c.code == H.c.town_code)
            .where(scope.where(MO), MO.c.identified_date.between(dt.date(year, 1, 1), year_end(year)),
                   days > deadline)
            .order_by(days.desc(), MO.c.hh_id).limit(limit))
    return frame(engine, stmt, cols)
