"""脱贫进度: exits against targets, incidence by child region, poor villages, lists and risks.

The yearly exits and targets come from ``common.yearly`` (one SQL for that figure, the overview's too);
this module adds what the exit-progress page needs beyond it. Household states are
the year-aware ones of ``rules`` (in_registry / exited_by / not_exited_by / returned_by).
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.engine import Engine

from ..codes import (
    COMPULSORY_SCHOOL_AGES, DANGEROUS_HOUSE_GRADES, EXIT_STEPS,
)
from ..schema import exit_target as T
from ..schema import meta as M
from ..schema import household as H
from ..schema import income as I
from ..schema import person as P
from ..schema import region as R
from ..summary import read as summary
from ..scope import Scope
from ..rules import (
    current_member, ever_exited_by, exited_by, in_registry, income_line, line_amounts, line_rows, members_at,
    not_exited_by, poor_at, population_year, returned_by,
)
from .common import count_if, frame, half_up, pct, people_if, people_year, populations, region_in, yearly

VILLAGE_THRESHOLDS = (2.0, 3.0)  # 贫困村出列: incidence below 2 % (3 % in the western provinces)
LIST_LIMIT = 200

LIST_COLUMNS = [
    "hh_id", "head_name", "town_name", "village_name", "village_code", "member_count", "main_cause",
    "attribute", "identified_year", "exit_year", "returned_year",
]


# ---- yearly progress --------------------------------------------------------


def progress(engine: Engine, scope: Scope, first_year: int, last_year: int) -> pd.DataFrame:
    """``common.yearly`` (the overview's figure) plus the cumulative curve.

    Added columns: cum_exited_households, cum_exited_persons (累计脱贫(含其后返贫) at the end of the
    year: ``rules.ever_exited_by``, the figure the overview's headline and the slides show),
    cum_target_households, cum_target_persons (targets summed up to the year; None before the first
    year with a target).
    """
    df = yearly(engine, scope, first_year, last_year)
    h = summary.smallest_households(engine, scope)
    years = list(df["year"].astype(int))
    cols = [c for y in years for c in (count_if(ever_exited_by(y, h), h), people_if(ever_exited_by(y, h), h, y))]
    stmt = select(*cols).where(scope.where(h))
    vy = summary.village_years_for(engine, years)
    if vy is not None:  # the same counts per village and year (data_access.summary)
        stmt = select(*[func.coalesce(func.sum(case((vy.c.year == y, vy.c[n]), else_=0)), 0)
                        for y in years for n in ("ever_exited_households", "ever_exited_persons")]
                      ).where(scope.where(vy), vy.c.year.between(first_year, last_year))
    with engine.connect() as conn:
        row = conn.execute(stmt).one() if cols else ()
    df["cum_exited_households"] = pd.Series([int(v) for v in row[0::2]], index=df.index, dtype="int64")
    df["cum_exited_persons"] = pd.Series([int(v) for v in row[1::2]], index=df.index, dtype="int64")
    for col in ("households", "persons"):
        running, out = None, []
        for value in df[f"target_{col}"]:
            if value is not None and value == value:
                running = (running or 0) + int(value)
            out.append(running)
        df[f"cum_target_{col}"] = pd.Series(out, dtype="object")
    return df


def child_incidence(engine: Engine, scope: Scope, first_year: int, last_year: int) -> pd.DataFrame:
    """贫困发生率 at the end of each year for each child region (towns of a county, villages of a town).

    Columns: code, name, year, poor_persons, rural_population, incidence (%). Empty for a village.
    """
    columns = ["code", "name", "year", "poor_persons", "rural_population", "incidence"]
    child = scope.child_level
    if child is None:
        return pd.DataFrame(columns=columns)
    years = list(range(first_year, last_year + 1))
    h = summary.smallest_households(engine, scope, child)
    key = summary.child_key(scope, h).label("code")
    poor = select(key, *[people_if(poor_at(y, h), h, y).label(f"y{y}") for y in years]).where(
        scope.where(h)).group_by(key)
    vy = summary.village_years_for(engine, years)
    if vy is not None:  # the same counts per village and year (data_access.summary)
        key = summary.child_key(scope, vy).label("code")
        poor = select(key, *[func.coalesce(func.sum(case((vy.c.year == y, vy.c.poor_persons), else_=0)), 0)
                             .label(f"y{y}") for y in years]).where(
            scope.where(vy), vy.c.year.between(first_year, last_year)).group_by(key)
    children = select(R.c.code, R.c.name).where(R.c.parent_code == scope.code).order_by(R.c.code)
    with engine.connect() as conn:
        poor_rows = {r[0]: r[1:] for r in conn.execute(poor)}
        kids = conn.execute(children).all()
    rural = populations(engine, scope, years, key=child)  # (child code, year) -> 农村户籍人口, one pass
    records = []
    for code, name in kids:
        counts = poor_rows.get(code, [0] * len(years))
        for y, n in zip(years, counts):
            people = int(n or 0)
            records.append({"code": code, "name": name, "year": y, "poor_persons": people,
                            "rural_population": rural.get((code, y), 0),
                            "incidence": pct(people, rural.get((code, y), 0))})
    return pd.DataFrame.from_records(records, columns=columns)


# ---- poor villages ------------------------------------------------------------


def poor_villages(engine: Engine, scope: Scope, year: int, threshold: float = 3.0) -> pd.DataFrame:
    """Every 贫困村 in the scope: exited (出列) by ``year`` or not, and its incidence against ``threshold``.

    Columns: code, name, town_code, town_name, exit_year (出列年度, None if not by ``year``),
    exited (bool), poor_persons, rural_population, incidence (%), below_threshold (bool: incidence
    < threshold %; False when the population is unknown). Sorted: not exited first, by incidence.
    """
    town = R.alias("town")
    h = summary.households_for(engine, scope)
    poor = (
        select(h.c.village_code.label("code"), people_if(poor_at(year, h), h, year).label("poor_persons"))
        .where(scope.where(h))
        .group_by(h.c.village_code)
        .subquery()
    )
    vy = summary.village_years_for(engine, (year,))
    if vy is not None:  # the same counts per village and year (data_access.summary)
        poor = select(vy.c.village_code.label("code"), vy.c.poor_persons).where(
            scope.where(vy), vy.c.year == year).subquery()
    pop = population_year(year, region_in(scope))
    stmt = (
        select(R.c.code, R.c.name, R.c.parent_code.label("town_code"), town.c.name.label("town_name"),
               R.c.poor_village_exit_year.label("planned_exit_year"),
               func.coalesce(poor.c.poor_persons, 0).label("poor_persons"),
               pop.c.population.label("rural_population"))
        .select_from(R.outerjoin(poor, poor.c.code == R.c.code).outerjoin(town, town.c.code == R.c.parent_code)
                     .outerjoin(pop, pop.c.code == R.c.code))
        .where(R.c.level == "village", region_in(scope), R.c.is_poor_village.is_(True))
        .order_by(R.c.code)
    )
    df = frame(engine, stmt)
    columns = ["code", "name", "town_code", "town_name", "exit_year", "exited", "poor_persons",
               "rural_population", "incidence", "below_threshold"]
    if df.empty:
        return pd.DataFrame(columns=columns)
    exit_years = df.pop("planned_exit_year")
    df["exited"] = [y is not None and y == y and int(y) <= year for y in exit_years]
    df["exit_year"] = pd.Series([int(y) if ok else None for y, ok in zip(exit_years, df["exited"])], dtype="object")
    df["poor_persons"] = df["poor_persons"].astype("int64")
    df["incidence"] = [pct(p, r) for p, r in zip(df["poor_persons"], df["rural_population"])]
    df["below_threshold"] = [i is not None and i < threshold for i in df["incidence"]]
    df = df[columns]
    order = df.assign(_inc=df["incidence"].fillna(-1.0))
    order = order.sort_values(["exited", "_inc", "code"], ascending=[True, False, True])
    return order.drop(columns="_inc").reset_index(drop=True)


def village_exits_by_year(engine: Engine, scope: Scope, first_year: int, last_year: int) -> pd.DataFrame:
    """贫困村 exited (出列) in each year against the year's village target (exit_target.villages).

    Columns: year, exited_villages, target_villages (None without a target), target_pct (%).
    """
    counts = (
        select(R.c.poor_village_exit_year.label("year"), func.count().label("n"))
        .where(R.c.level == "village", region_in(scope), R.c.is_poor_village.is_(True),
               R.c.poor_village_exit_year.between(first_year, last_year))
        .group_by(R.c.poor_village_exit_year)
    )
    targets = select(T.c.year, T.c.villages).where(
        T.c.region_code == scope.code, T.c.year.between(first_year, last_year))
    with engine.connect() as conn:
        done = {int(r.year): int(r.n) for r in conn.execute(counts)}
        goal = {int(r.year): r.villages for r in conn.execute(targets)}
    records = []
    for y in range(first_year, last_year + 1):
        target = int(goal[y]) if goal.get(y) is not None else None
        records.append({"year": y, "exited_villages": done.get(y, 0), "target_villages": target,
                        "target_pct": pct(done.get(y, 0), target)})
    return pd.DataFrame.from_records(records)


# ---- household lists -------------------------------------------------------------


def _list_columns(year: int | None):
    """LIST_COLUMNS[4:] of ``household``, member_count being the size at the end of ``year``."""
    return [members_at(year).label(c) if c == "member_count" else H.c[c] for c in LIST_COLUMNS[4:]]


def _list_totals(engine: Engine, scope: Scope, state, size_year: int | None, limit: int, offset: int,
                 year: int | None = None, counted: tuple[str, str, str] | None = None):
    """(households, persons, narrow) of the list of households meeting ``state``. ``narrow`` is a condition
    on ``household`` that keeps the villages holding its rows ``offset`` .. ``offset + limit`` (ordered by
    village): from the lowest village with such a household to the first village where the running count
    reaches ``offset + limit``; the villages left out hold none of those rows. All in one pass over the fresh
    village-grain summary (``state(h)`` counted per village; ``counted``: summary_village_year's households,
    persons and today's members columns of that state at the end of ``year``, read instead when it holds the
    year); without one, the totals from ``household`` and ``narrow`` None."""
    hs = summary.households_for(engine, scope)
    if not summary.is_summary(hs):
        stmt = select(func.count(), people_if(true(), H, size_year)).where(scope.where(H), state(H))
        with engine.connect() as conn:
            households, persons = conn.execute(stmt).one()
        return int(households), int(persons), None
    vy = summary.village_years_for(engine, (year,)) if counted else None
    if vy is not None:  # the same counts per village, read from summary_village_year's row of the year
        n_col, p_col, m_col = counted
        per_village = (select(vy.c.village_code, vy.c[n_col].label("n"),
                              vy.c[m_col if size_year is None else p_col].label("p"))
                       .where(scope.where(vy), vy.c.year == year, vy.c[n_col] > 0).subquery("list_villages"))
    else:
        per_village = (select(hs.c.village_code, count_if(state(hs), hs).label("n"),
                              people_if(state(hs), hs, size_year).label("p"))
                       .where(scope.where(hs), state(hs)).group_by(hs.c.village_code).subquery("list_villages"))
    running = select(per_village, func.sum(per_village.c.n).over(
        order_by=per_village.c.village_code).label("upto")).subquery("list_running")
    stmt = select(func.coalesce(func.sum(running.c.n), 0), func.coalesce(func.sum(running.c.p), 0),
                  func.min(running.c.village_code),
                  func.min(case((running.c.upto >= offset + limit, running.c.village_code))))
    with engine.connect() as conn:
        households, persons, lo, hi = conn.execute(stmt).one()
    if lo is None:  # no household at all: an empty range (no village code is below '')
        narrow = H.c.village_code < ""
    else:
        narrow = H.c.village_code >= lo if hi is None else H.c.village_code.between(lo, hi)
    return int(households), int(persons), narrow


def _household_list(engine: Engine, scope: Scope, state, limit: int, offset: int, year: int,
                    counted: tuple[str, str, str] | None = None) -> dict:
    """``state(h)``: the list's condition on a household table (``household`` or a summary); ``counted``: its
    columns in summary_village_year (see ``_list_totals``)."""
    size_year = people_year(engine, year)
    village, town = R.alias("village"), R.alias("town_r")
    households, persons, narrow = _list_totals(engine, scope, state, size_year, limit, offset, year, counted)
    where = and_(scope.where(H), state(H))
    rows = (
        select(H.c.hh_id, H.c.head_name, town.c.name.label("town_name"), village.c.name.label("village_name"),
               *_list_columns(size_year))
        .select_from(H.outerjoin(village, village.c.code == H.c.village_code)
                     .outerjoin(town, town.c.code == H.c.town_code))
        .where(where if narrow is None else and_(where, narrow))
        .order_by(H.c.village_code, H.c.hh_id).limit(limit).offset(offset)
    )
    return {"households": households, "persons": persons, "rows": frame(engine, rows, LIST_COLUMNS)}


def not_exited_list(engine: Engine, scope: Scope, year: int, limit: int = LIST_LIMIT, offset: int = 0) -> dict:
    """Households not exited (未脱贫) at the end of ``year``: totals and one page of rows.

    Keys: households, persons (totals of the whole list), rows (DataFrame, LIST_COLUMNS, at most
    ``limit`` rows from ``offset``, by village then 户编号).
    """
    return _household_list(engine, scope, lambda h: not_exited_by(year, h), limit, offset, year,
                           ("not_exited_households", "not_exited_persons", "not_exited_members"))


def returned_list(engine: Engine, scope: Scope, year: int, limit: int = LIST_LIMIT, offset: int = 0) -> dict:
    """Households returned to poverty (返贫) by the end of ``year``; same shape as ``not_exited_list``."""
    return _household_list(engine, scope, lambda h: returned_by(year, h), limit, offset, year,
                           ("returned_households", "returned_persons", "returned_members"))


# ---- risks among exited households -------------------------------------------------


# Stands in for a missing line in the list's filter (no income is below it). Written this way the
# filter does not turn the outer join to the lines into an inner one, which lets SQLite scan the
# lines first and the households once per line.
NO_LINE = -1e18
NEAR_LINE_EXTRA = ["income_year", "per_capita_net", "line", "line_kind", "above_line_pct"]


def near_line(engine: Engine, scope: Scope, year: int, margin_pct: float = 10.0,
              limit: int = LIST_LIMIT, offset: int = 0) -> dict:
    """Exited households (已脱贫 at the end of ``year``) whose latest 年人均纯收入 (the newest income
    year up to ``year``) is below that income year's line × (1 + margin %).

    Keys: households, persons (the whole list), below_households (income under the line itself),
    near_households (line <= income < line × (1 + margin)), unjudged_households (exited, but no
    income up to ``year`` or no line for its year), rows (DataFrame: LIST_COLUMNS + NEAR_LINE_EXTRA;
    above_line_pct is % above the line, negative below; lowest first).
    """
    factor = 1.0 + float(margin_pct) / 100.0
    with engine.connect() as conn:
        lines = line_amounts(conn, scope, 1900, year)
    chosen = line_rows(lines)
    near = summary.near_line_for(engine, scope, year, factor)
    if near is not None:  # the year's candidates (at this margin, all of them) and judged counts
        nl, judged = near
        judged_n = select(func.coalesce(func.sum(judged.c.households), 0)).where(
            scope.where(judged), judged.c.as_of_year == year, judged.c.year.in_(sorted(lines)))
        return _near_line_from_summary(engine, scope, year, factor, nl, chosen, limit, offset,
                                       nl.c.as_of_year == year, judged_n)
    li = summary.latest_income_for(engine, year)
    if li is not None:
        return _near_line_from_summary(engine, scope, year, factor, li, chosen, limit, offset)
    with_income, inc = _with_latest_income(engine, year, chosen)
    line = inc.c.amount
    at_risk = and_(line.is_not(None), inc.c.per_capita_net < line * factor)
    below = and_(line.is_not(None), inc.c.per_capita_net < line)
    unjudged = or_(inc.c.year.is_(None), line.is_(None))
    where = and_(scope.where(H), exited_by(year))
    totals = select(count_if(at_risk), people_if(at_risk, H, year), count_if(below), count_if(unjudged)).select_from(
        with_income).where(where)
    village, town = R.alias("village"), R.alias("town_r")
    ratio = (inc.c.per_capita_net - line) * 100.0 / line
    rows = (
        select(H.c.hh_id, H.c.head_name, town.c.name.label("town_name"), village.c.name.label("village_name"),
               *_list_columns(year),
               inc.c.year.label("income_year"), inc.c.per_capita_net, line.label("line"),
               inc.c.kind.label("line_kind"),
               ratio.label("above_line_pct"))
        .select_from(with_income.outerjoin(village, village.c.code == H.c.village_code)
                     .outerjoin(town, town.c.code == H.c.town_code))
        .where(where, inc.c.per_capita_net < func.coalesce(line, NO_LINE) * factor)
        .order_by(ratio, H.c.hh_id).limit(limit).offset(offset)
    )
    with engine.connect() as conn:
        households, persons, below_n, unjudged_n = map(int, conn.execute(totals).one())
    df = frame(engine, rows, LIST_COLUMNS + NEAR_LINE_EXTRA)
    df["above_line_pct"] = [half_up(x, 2) for x in df["above_line_pct"]]
    return {"households": households, "persons": persons, "below_households": below_n,
            "near_households": households - below_n, "unjudged_households": unjudged_n, "rows": df}


def _with_latest_income(engine: Engine, year: int, chosen):
    """(household LEFT JOIN its latest income up to ``year`` and that income year's line ``chosen``,
    a selectable with columns year, per_capita_net (NULL: no income) and amount, kind (NULL: no line)).

    On PostgreSQL a LATERAL top-1 by the income key (hh_id, year), the line joined inside it: one index
    probe per household the WHERE keeps (a MAX(year) correlated in the join condition is evaluated for
    each of the household's income rows instead, 24 million at province scale: minutes for a past year;
    the line joined outside the LATERAL is re-hashed per household). SQLite has no LATERAL; there the
    correlated MAX(year) is an index probe on the key, fast at county scale."""
    if engine.dialect.name == "postgresql":
        inc = (select(I.c.year, I.c.per_capita_net, chosen.c.amount, chosen.c.kind)
               .select_from(I.outerjoin(chosen, income_line(I.c.year, chosen)))
               .where(I.c.hh_id == H.c.hh_id, I.c.year <= year)
               .order_by(I.c.year.desc()).limit(1).lateral("latest_income"))
        return H.outerjoin(inc, true()), inc
    newer = I.alias("newer")
    latest_year = select(func.max(newer.c.year)).where(
        newer.c.hh_id == H.c.hh_id, newer.c.year <= year).scalar_subquery()
    joined = (H.outerjoin(I, and_(I.c.hh_id == H.c.hh_id, I.c.year == latest_year))
              .outerjoin(chosen, income_line(I.c.year, chosen)))
    return joined, SimpleNamespace(c=SimpleNamespace(year=I.c.year, per_capita_net=I.c.per_capita_net,
                                                     amount=chosen.c.amount, kind=chosen.c.kind))


def _near_line_from_summary(engine: Engine, scope: Scope, year: int, factor: float, li, chosen, limit: int,
                            offset: int, only=None, judged=None) -> dict:
    """``near_line`` from summary_latest_income (each household's latest income up to the as-of year with
    its registry state and size): the same figures, reading 2 million narrow rows instead of joining
    households to their income. Households without income then are not in it: unjudged = exited
    households − those with an income and a line. From summary_near_line (a margin it covers), ``li`` is that
    table (``only``: its rows of the year, the candidates only) and ``judged`` the statement counting the
    households with an income and a line."""
    line = chosen.c.amount
    joined = li.outerjoin(chosen, income_line(li.c.year, chosen))
    where = and_(scope.where(li), exited_by(year, li), *([only] if only is not None else []))
    at_risk = and_(line.is_not(None), li.c.per_capita_net < line * factor)
    below = and_(line.is_not(None), li.c.per_capita_net < line)
    persons = func.coalesce(func.sum(case((at_risk, li.c.members_year_end), else_=0)), 0)  # people_if(…, year)
    totals = select(count_if(at_risk), persons, count_if(below), count_if(line.is_not(None))) \
        .select_from(joined).where(where)
    h = summary.smallest_households(engine, scope)
    exited_all = select(count_if(exited_by(year, h), h)).where(scope.where(h))
    vy = summary.village_years_for(engine, (year,))
    if vy is not None:  # the same count per village and year
        exited_all = select(func.coalesce(func.sum(vy.c.exited_households), 0)).where(
            scope.where(vy), vy.c.year == year)
    ratio = (li.c.per_capita_net - line) * 100.0 / line
    top = (
        select(li.c.hh_id, li.c.year.label("income_year"), li.c.per_capita_net, line.label("line"),
               chosen.c.kind.label("line_kind"), ratio.label("above_line_pct"))
        .select_from(joined)
        .where(where, li.c.per_capita_net < func.coalesce(line, NO_LINE) * factor)
        .order_by(ratio, li.c.hh_id).limit(limit).offset(offset)
        .subquery("top")
    )
    village, town = R.alias("village"), R.alias("town_r")
    rows = (
        select(H.c.hh_id, H.c.head_name, town.c.name.label("town_name"), village.c.name.label("village_name"),
               *_list_columns(year),
               top.c.income_year, top.c.per_capita_net, top.c.line, top.c.line_kind, top.c.above_line_pct)
        .select_from(top.join(H, H.c.hh_id == top.c.hh_id)
                     .outerjoin(village, village.c.code == H.c.village_code)
                     .outerjoin(town, town.c.code == H.c.town_code))
        .order_by(top.c.above_line_pct, top.c.hh_id)
    )
    with engine.connect() as conn:
        households, persons, below_n, judged_n = map(int, conn.execute(totals).one())
        if judged is not None:
            judged_n = int(conn.execute(judged).scalar_one())
        exited_n = int(conn.execute(exited_all).scalar_one())
    df = frame(engine, rows, LIST_COLUMNS + NEAR_LINE_EXTRA)
    df["above_line_pct"] = [half_up(x, 2) for x in df["above_line_pct"]]
    return {"households": households, "persons": persons, "below_households": below_n,
            "near_households": households - below_n, "unjudged_households": exited_n - judged_n, "rows": df}


GUARANTEE_ITEMS = {
    "dangerous_house": "住房不安全(C/D级危房)",
    "out_of_school": "义务教育阶段失学辍学",
    "no_insurance": "未参加基本医疗保险",
    "unsafe_water": "饮水不安全",
    "food_clothing": "吃穿未达标",
}


def _guarantee_flags(scope: Scope, year: int, engine: Engine | None = None):
    """({item: condition}, members subquery) for the 两不愁三保障 items not met.

    ``members`` holds, per household with such a member, children_out (aged 6–15 in ``year`` and
    非在校生) and uninsured (no basic medical insurance); join it on hh_id.
    """
    low, high = COMPULSORY_SCHOOL_AGES
    age = year - P.c.birth_year
    out_of_school = and_(P.c.birth_year.is_not(None), age >= low, age <= high, P.c.schooling == "非在校生")
    uninsured = P.c.medical_insurance.is_(False)
    members = (
        select(P.c.hh_id, count_if(out_of_school).label("children_out"), count_if(uninsured).label("uninsured"))
        .where(scope.where(P), current_member(P), or_(out_of_school, uninsured))
        .group_by(P.c.hh_id)
        .subquery()
    )
    ps = summary.persons_for(engine, year) if engine is not None else None
    if ps is not None:  # the same counts from the per-household person summary (data_access.summary)
        child = ps.c.birth_year.between(year - high, year - low)
        members = (
            select(ps.c.hh_id, func.coalesce(func.sum(case((child, ps.c.nonschool), else_=0)), 0).label("children_out"),
                   func.coalesce(func.sum(ps.c.uninsured), 0).label("uninsured"))
            .where(scope.where(ps), or_(child, ps.c.uninsured > 0))
            .group_by(ps.c.hh_id)
            .subquery()
        )
    flags = {
        "dangerous_house": H.c.house_grade.in_(DANGEROUS_HOUSE_GRADES),
        "out_of_school": func.coalesce(members.c.children_out, 0) > 0,
        "no_insurance": func.coalesce(members.c.uninsured, 0) > 0,
        "unsafe_water": H.c.safe_water.is_(False),
        "food_clothing": H.c.food_clothing_ok.is_(False),
    }
    return flags, members


def status_year(engine: Engine) -> int | None:
    """The one year the registry's current-only facts describe: the as-of year (``meta.data_as_of``)."""
    with engine.connect() as conn:
        value = conn.execute(select(M.c.value).where(M.c.key == "data_as_of")).scalar()
    try:
        return int(str(value)[:4])
    except (TypeError, ValueError):
        return None


def unmet_guarantees(engine: Engine, scope: Scope, year: int, limit: int = LIST_LIMIT, offset: int = 0) -> dict:
    """Households counted as exited at the end of ``year`` while a 两不愁三保障 item is not met.

    Items (GUARANTEE_ITEMS): C/D-grade house; a member aged 6–15 in ``year`` (by birth year) who is
    非在校生; a member without basic medical insurance; unsafe water; food and clothing not assured.
    House, water, schooling and insurance are the latest recorded facts: the registry keeps them for
    the as-of year only (``status_year``), so a year before it is not judged (judged False, households,
    persons and the items None, no rows): a child recorded 非在校生 today, at 20, was in school at 12.
    Keys: judged, status_year, households, persons, by_item ({item: households}), rows (DataFrame:
    LIST_COLUMNS + one 0/1 column per item + children_out, uninsured (members); by village then 户编号).
    """
    current = status_year(engine)
    if current is not None and year < current:
        return {"judged": False, "status_year": current, "households": None, "persons": None,
                "by_item": {k: None for k in GUARANTEE_ITEMS},
                "rows": pd.DataFrame(columns=LIST_COLUMNS + list(GUARANTEE_ITEMS) + ["children_out", "uninsured"])}
    gs = summary.guarantees_for(engine, year)
    if gs is not None:  # the same households from the per-household summary (data_access.summary)
        return _unmet_from_summary(engine, scope, year, limit, offset, gs, current)
    flags, members = _guarantee_flags(scope, year, engine)
    any_unmet = or_(*flags.values())
    where = and_(scope.where(H), exited_by(year))
    with_members = H.outerjoin(members, members.c.hh_id == H.c.hh_id)
    totals = select(count_if(any_unmet), people_if(any_unmet), *[count_if(c) for c in flags.values()]).select_from(
        with_members).where(where)
    village, town = R.alias("village"), R.alias("town_r")
    rows = (
        select(H.c.hh_id, H.c.head_name, town.c.name.label("town_name"), village.c.name.label("village_name"),
               *[H.c[c] for c in LIST_COLUMNS[4:]],
               *[case((c, 1), else_=0).label(k) for k, c in flags.items()],
               func.coalesce(members.c.children_out, 0).label("children_out"),
               func.coalesce(members.c.uninsured, 0).label("uninsured"))
        .select_from(with_members.outerjoin(village, village.c.code == H.c.village_code)
                     .outerjoin(town, town.c.code == H.c.town_code))
        # The same rows as ``any_unmet``, written with IN for the member items: PostgreSQL then filters
        # with a hashed subplan instead of probing the members aggregate once per household (15 s).
        .where(where, or_(flags["dangerous_house"], flags["unsafe_water"], flags["food_clothing"],
                          H.c.hh_id.in_(select(members.c.hh_id).where(
                              or_(members.c.children_out > 0, members.c.uninsured > 0)))))
        .order_by(H.c.village_code, H.c.hh_id).limit(limit).offset(offset)
    )
    with engine.connect() as conn:
        result = conn.execute(totals).one()
    df = frame(engine, rows, LIST_COLUMNS + list(flags) + ["children_out", "uninsured"])
    return {"judged": True, "status_year": current, "households": int(result[0]), "persons": int(result[1]),
            "by_item": {k: int(v) for k, v in zip(flags, result[2:])}, "rows": df}


def _unmet_from_summary(engine: Engine, scope: Scope, year: int, limit: int, offset: int, gs, current) -> dict:
    """``unmet_guarantees`` from summary_guarantee (built for the as-of year: only households with an item not
    met, with their state, size and items); names and list columns from ``household`` for the rows shown."""
    items = list(GUARANTEE_ITEMS)
    where = and_(scope.where(gs), exited_by(year, gs))
    totals = select(func.count(), func.coalesce(func.sum(gs.c.member_count), 0),
                    *[func.coalesce(func.sum(gs.c[k]), 0) for k in items]).where(where)
    top = (select(gs.c.hh_id, gs.c.village_code, *[gs.c[k] for k in items], gs.c.children_out, gs.c.uninsured)
           .where(where).order_by(gs.c.village_code, gs.c.hh_id).limit(limit).offset(offset).subquery("top"))
    village, town = R.alias("village"), R.alias("town_r")
    rows = (
        select(top.c.hh_id, H.c.head_name, town.c.name.label("town_name"), village.c.name.label("village_name"),
               *[H.c[c] for c in LIST_COLUMNS[4:]], *[top.c[k] for k in items], top.c.children_out, top.c.uninsured)
        .select_from(top.join(H, H.c.hh_id == top.c.hh_id)
                     .outerjoin(village, village.c.code == H.c.village_code)
                     .outerjoin(town, town.c.code == H.c.town_code))
        .order_by(top.c.village_code, top.c.hh_id)
    )
    with engine.connect() as conn:
        result = conn.execute(totals).one()
    df = frame(engine, rows, LIST_COLUMNS + items + ["children_out", "uninsured"])
    return {"judged": True, "status_year": current, "households": int(result[0]), "persons": int(result[1]),
            "by_item": {k: int(v) for k, v in zip(items, result[2:])}, "rows": df}


# ---- exit procedure -----------------------------------------------------------------


def exit_pipeline(engine: Engine, scope: Scope, year: int, as_of_year: int) -> pd.DataFrame:
    """The exit procedure (脱贫程序, codes.EXIT_STEPS) for ``year``.

    销号: households whose exit year is ``year``. Earlier steps: households still poor at
    ``as_of_year`` (未脱贫 or 返贫) whose recorded step (exit_step) is one of them. The registry keeps
    only the latest step, so earlier steps are known for the current year only: for ``year`` <
    ``as_of_year`` their counts are None.
    Columns: step, households, persons, in EXIT_STEPS order.
    """
    done = EXIT_STEPS[-1]
    h = summary.households_for(engine, scope, summary.cause_summary)
    exited = select(func.coalesce(summary.household_count(h), 0), people_if(true(), h, year)).where(
        scope.where(h), in_registry(year, h), h.c.exit_year == year)
    in_steps = (
        select(h.c.exit_step, summary.household_count(h).label("households"),
               func.sum(h.c.member_count).label("persons"))
        .where(scope.where(h), poor_at(as_of_year, h), h.c.exit_step.in_(EXIT_STEPS[:-1]))
        .group_by(h.c.exit_step)
    )
    with engine.connect() as conn:
        exited_h, exited_p = conn.execute(exited).one()
        pending = {r.exit_step: (int(r.households), int(r.persons)) for r in conn.execute(in_steps)} \
            if year >= as_of_year else None
    rows = []
    for step in EXIT_STEPS[:-1]:
        rows.append((step, *(pending.get(step, (0, 0)) if pending is not None else (None, None))))
    rows.append((done, int(exited_h), int(exited_p)))
    return pd.DataFrame(rows, columns=["step", "households", "persons"]).astype(
        {"households": "object", "persons": "object"})
