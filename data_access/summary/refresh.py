"""Rebuilding the summary tables: INSERT … SELECT … GROUP BY from the base tables, the same on SQLite
and PostgreSQL. It imports the registry's rules (``data_access.rules``), never a query.
"""

from __future__ import annotations

import datetime as dt
import re
import time

from sqlalchemy import (
    Integer, Table, and_, case, cast, exists, extract, func, inspect, literal, not_, or_, select, union_all,
)
from sqlalchemy.engine import Connection, Engine

from .. import schema
from ..codes import COMPULSORY_SCHOOL_AGES, DANGEROUS_HOUSE_GRADES, MONEY_PAID, MONEY_SPENT, WORK_STATUS
from ..rules import (
    HOME_VISIT_KINDS, MATCHING_MEASURES, assigned_on, current_member, ever_exited_by, exited_by, in_registry,
    member_at, member_from, member_to, members_at, month_end_windows, not_exited_by, place_codes_mismatch, poor_at,
    population_years,
    returned_by, visit_period, window,
)
from .read import (
    HELPER_EXACT_KEY, HELP_DAYS, HELP_EXACT_KEY, HELP_WINDOWS_KEY, INCOME_YEAR_KEY, LAST_VISIT_EXACT_KEY, LAYOUT,
    LAYOUT_KEY, MEASURE_EXACT_KEY, NEAR_LINE_COVER_PCT, NEAR_LINE_YEARS_KEY, NOT_IN_SCHOOL, PERSON_FROM_KEY,
    POPULATION_YEARS_KEY,
    PERSON_VILLAGE_EXACT_KEY, SERIOUS_HEALTH, SUMMARY_KEY, TABLES, VILLAGE_EXITS_EXACT_KEY, VILLAGE_YEARS_KEY,
    VISIT_AS_OF_KEY, VISIT_YEARS_KEY, WORK_KEY, cadre_last_visit_summary, cause_match_summary,
    cause_match_year_summary, cause_summary, guarantee_summary, health_summary, help_window_county_summary,
    help_window_summary, helper_summary, household_last_visit_summary, household_summary, income_year_summary,
    latest_income_summary, measure_summary, metadata, money_problem_summary, money_summary, monitoring_help_summary,
    near_line_judged_summary,
    near_line_summary,
    other_cause_summary, person_summary, policy_summary, population_summary, village_visit_summary,
    village_year_summary, visit_span_summary, work_year_summary,
)


def _grouped(target: Table, select_from, columns: dict) -> tuple:
    """INSERT INTO target (columns…, households, member_count) SELECT … GROUP BY columns."""
    H = schema.household
    exprs = list(columns.values())
    stmt = select(*exprs, func.count(), func.coalesce(func.sum(H.c.member_count), 0), literal(0)) \
        .select_from(select_from).group_by(*exprs)
    return target.insert().from_select([*columns, "households", "member_count", "member_change"], stmt)


def _changes(target: Table, select_from, columns: dict, first_year: int) -> tuple:
    """The change rows of ``rules.members_at``: people who were not members at every year's end from
    ``first_year`` (the first identification year) on, by member_from and member_to."""
    P = schema.person
    since = case((member_from(P) > first_year, member_from(P)), else_=None)  # a member at every year's end before
    exprs = [*columns.values(), since, member_to(P)]
    changed = or_(P.c.leave_date.is_not(None), member_from(P) > first_year)
    stmt = select(*exprs, literal(0), literal(0), func.count()).select_from(
        select_from.join(P, P.c.hh_id == schema.household.c.hh_id)).where(changed).group_by(*exprs)
    return target.insert().from_select(
        [*columns, "member_from", "member_to", "households", "member_count", "member_change"], stmt)


def _statements(first_year: int | None):
    H, OC, MO = schema.household, schema.other_cause, schema.monitoring_object
    states = {name: H.c[name] for name in ("kind", "identified_year", "exit_year", "returned_year")}
    place = {name: H.c[name] for name in ("county_code", "town_code", "village_code")}
    watched = (select(MO.c.hh_id, func.min(MO.c.identified_date).label("first_date"))
               .group_by(MO.c.hh_id).subquery("watched"))
    watched_year = cast(extract("year", watched.c.first_date), Integer)
    for table, source, columns in (
        (household_summary, H, {**place, **states}),
        (cause_summary, H.outerjoin(watched, watched.c.hh_id == H.c.hh_id), {
            "county_code": H.c.county_code, **states, "main_cause": H.c.main_cause,
            "attribute": H.c.attribute, "exit_step": H.c.exit_step, "watched_year": watched_year}),
        (other_cause_summary, H.outerjoin(OC, OC.c.hh_id == H.c.hh_id), {
            "county_code": H.c.county_code, "kind": H.c.kind, "identified_year": H.c.identified_year,
            "main_cause": H.c.main_cause, "other_cause": OC.c.cause}),
    ):
        yield table, [_grouped(table, source, columns)] + (
            [_changes(table, source, columns, first_year)] if first_year is not None else [])
    policy = {"county_code": H.c.county_code, **states, "policy_status": H.c.policy_status,
              "watched_year": watched_year}
    exprs = list(policy.values())
    stmt = select(*exprs, func.count(), func.coalesce(func.sum(H.c.member_count), 0)) \
        .select_from(H.outerjoin(watched, watched.c.hh_id == H.c.hh_id)).group_by(*exprs)
    yield policy_summary, [policy_summary.insert().from_select([*policy, "households", "member_count"], stmt)]


def _village_year_insert(year: int):
    """summary_village_year rows of ``year``: the registry states at its end per village, by the rules the
    queries apply (``queries.common.count_if`` / ``people_if``), read from summary_household."""
    h = household_summary

    def households(cond):
        return func.coalesce(func.sum(case((cond, h.c.households), else_=0)), 0)

    def persons(cond):
        return func.coalesce(func.sum(case((cond, members_at(year, h)), else_=0)), 0)

    exits = and_(in_registry(year, h), h.c.exit_year == year)
    states = [in_registry(year, h), exited_by(year, h), not_exited_by(year, h), returned_by(year, h)]
    cols = [c for cond in states for c in (households(cond), persons(cond))]
    def members(cond):
        return func.coalesce(func.sum(case((cond, h.c.member_count), else_=0)), 0)

    cols += [persons(poor_at(year, h)), households(ever_exited_by(year, h)), persons(ever_exited_by(year, h)),
             households(exits), persons(exits), members(not_exited_by(year, h)), members(returned_by(year, h))]
    place = [h.c.county_code, h.c.town_code, h.c.village_code]
    names = [c.name for c in village_year_summary.c][3:]
    return village_year_summary.insert().from_select(
        ["county_code", "town_code", "village_code", *names],
        select(*place, literal(year), *cols).group_by(*place))


def _village_years(conn: Connection, first_year, as_of) -> tuple[int, int] | None:
    """The years summary_village_year covers: the first identification year to the as-of year (else the
    latest identification, exit or return year)."""
    H = schema.household
    if first_year is None:
        return None
    if as_of:
        last = as_of.year
    else:
        seen = conn.execute(select(func.max(H.c.identified_year), func.max(H.c.exit_year),
                                   func.max(H.c.returned_year))).one()
        last = max([int(y) for y in seen if y is not None], default=int(first_year))
    last = max(int(first_year), last)
    return int(first_year), last


def _population_rows(conn: Connection, years: list[int]) -> list[dict]:
    """summary_population rows: ``rules.population_years`` grouped by town (one pass for every year), or none when a
    village's code is not 12 digits (a scope's code range and its towns' prefixes could then differ)."""
    R = schema.region
    codes = conn.execute(select(R.c.code).where(R.c.level == "village")).scalars()
    if not all(isinstance(c, str) and re.fullmatch(r"[0-9]{12}", c) for c in codes):
        return []
    town = func.substr(R.c.code, 1, 9).concat(literal("000"))
    rows = []
    for town_code, *figures in conn.execute(population_years(years, R.c.code.is_not(None), town)):
        for year, population in zip(years, figures):
            rows.append({"county_code": town_code[:6] + "000000", "town_code": town_code, "year": year,
                         "population": int(population or 0)})
    return rows


def _monitoring_help_insert():
    """summary_monitoring_help: each monitoring-object record with each year (from its identification year to its
    removal year) in which its household had a 帮扶措施, counted per village, dates and year."""
    MO, HM = schema.monitoring_object, schema.help_measure
    year_of = lambda d: cast(extract("year", d), Integer)  # noqa: E731 - rules._year_of
    per_record = (select(MO.c.id, MO.c.village_code, MO.c.identified_date, MO.c.removed_date, HM.c.year)
                  .select_from(MO.join(HM, HM.c.hh_id == MO.c.hh_id))
                  .where(year_of(MO.c.identified_date) <= HM.c.year,
                         or_(MO.c.removed_date.is_(None), year_of(MO.c.removed_date) >= HM.c.year))
                  .group_by(MO.c.id, MO.c.village_code, MO.c.identified_date, MO.c.removed_date, HM.c.year)
                  .subquery("per_record"))
    keys = [per_record.c.village_code, per_record.c.identified_date, per_record.c.removed_date, per_record.c.year]
    return monitoring_help_summary.insert().from_select(
        ["village_code", "identified_date", "removed_date", "year", "records"],
        select(*keys, func.count()).group_by(*keys))


def _money_insert():
    """summary_money: every (fund, project) pair of arrangement or money_flow with its 安排 and its movements."""
    A, MF = schema.arrangement, schema.money_flow
    pairs = union_all(select(A.c.fund_id, A.c.project_id),
                      select(MF.c.fund_id, MF.c.project_id).group_by(MF.c.fund_id, MF.c.project_id)).subquery("pairs")
    keys = select(pairs.c.fund_id, pairs.c.project_id).group_by(pairs.c.fund_id, pairs.c.project_id).subquery("keys")
    paid = MF.c.kind == MONEY_PAID

    def total(cond, value=MF.c.amount):
        return func.coalesce(func.sum(case((cond, value), else_=0)), 0)

    flows = (select(MF.c.fund_id, MF.c.project_id, func.count().label("flows"),
                    total(MF.c.amount <= 0, 1).label("bad_flows"), total(paid).label("paid"),
                    total(MF.c.kind == MONEY_SPENT).label("spent"),
                    func.min(case((paid, MF.c.flow_date), else_=None)).label("first_paid_date"),
                    func.max(case((paid, MF.c.flow_date), else_=None)).label("last_paid_date"))
             .group_by(MF.c.fund_id, MF.c.project_id).subquery("flows"))
    stmt = (
        select(keys.c.fund_id, keys.c.project_id, func.coalesce(A.c.amount, 0),
               case((A.c.fund_id.is_(None), 0), else_=1), case((A.c.amount <= 0, 1), else_=0),
               func.coalesce(flows.c.flows, 0), func.coalesce(flows.c.bad_flows, 0),
               func.coalesce(flows.c.paid, 0), func.coalesce(flows.c.spent, 0),
               flows.c.first_paid_date, flows.c.last_paid_date)
        .select_from(keys.outerjoin(A, and_(A.c.fund_id == keys.c.fund_id, A.c.project_id == keys.c.project_id))
                     .outerjoin(flows, and_(flows.c.fund_id == keys.c.fund_id,
                                            flows.c.project_id == keys.c.project_id)))
    )
    return money_summary.insert().from_select(
        ["fund_id", "project_id", "arranged", "arrangements", "bad_arrangements", "flows", "bad_flows", "paid",
         "spent", "first_paid_date", "last_paid_date"], stmt)


def _money_problem_insert():
    """summary_money_problem: each project whose money (summary_money, all of it) or place breaks a per-project
    rule of the funds check (``queries.funds.data_problems``)."""
    S, P = money_summary, schema.project

    def total(column):
        return func.coalesce(func.sum(column), 0)

    sums = (select(S.c.project_id, total(S.c.arranged).label("arranged"), total(S.c.paid).label("paid"),
                   total(S.c.spent).label("spent"), total(S.c.bad_arrangements).label("bad_arrangements"),
                   total(case((S.c.arrangements == 0, S.c.flows), else_=0)).label("orphans"),
                   total(S.c.bad_flows).label("bad_flows"))
            .group_by(S.c.project_id).subquery("sums"))
    per = (select(P.c.project_id, P.c.budget, *[func.coalesce(sums.c[c], 0).label(c) for c in (
                      "arranged", "paid", "spent", "bad_arrangements", "orphans", "bad_flows")],
                  case((P.c.region_code.is_(None), 1), else_=0).label("no_place"),
                  case((place_codes_mismatch(P), 1), else_=0).label("mismatch"))
           .select_from(P.outerjoin(sums, sums.c.project_id == P.c.project_id)).subquery("per"))
    c = per.c
    flagged = or_(c.spent > c.paid, c.paid > c.arranged, c.arranged > c.budget, c.no_place == 1, c.mismatch == 1,
                  c.bad_arrangements > 0, c.orphans > 0, c.bad_flows > 0)
    names = ["project_id", "arranged", "paid", "spent", "no_place", "mismatch", "bad_arrangements", "orphans",
             "bad_flows"]
    return money_problem_summary.insert().from_select(names, select(*[c[n] for n in names]).where(flagged))


def _village_exits_exact(conn: Connection) -> bool:
    """No registered household exits before the year it was identified (see summary_village_year)."""
    H = schema.household
    early = select(H.c.hh_id).where(in_registry(9999), H.c.exit_year < H.c.identified_year).limit(1)
    return conn.execute(early).first() is None


def _visit_rows(conn: Connection, as_of_text: str | None):
    """(rows for summary_village_visit, as_of, (first, last)) — one pass over visits and assignments."""
    H, V, AS = schema.household, schema.visit, schema.assignment
    try:
        as_of = dt.date.fromisoformat(as_of_text or "")
    except ValueError:
        return [], None, None
    first = conn.execute(select(func.min(H.c.identified_year))).scalar()
    first = min(int(first), as_of.year) if first is not None else as_of.year
    years = list(range(first, as_of.year + 1))
    periods = [visit_period(y, as_of) for y in years]
    visited = (
        select(V.c.hh_id, *[func.max(case((V.c.visit_date.between(s, e), 1), else_=0)).label(f"v{i}")
                            for i, (s, e) in enumerate(periods)])
        .where(V.c.kind.in_(HOME_VISIT_KINDS),
               V.c.visit_date.between(min(s for s, _ in periods), max(e for _, e in periods)))
        .group_by(V.c.hh_id).subquery("visited")
    )
    assigned = (
        select(AS.c.village_code, AS.c.hh_id,
               *[func.max(case((assigned_on(e), 1), else_=0)).label(f"a{i}") for i, (_, e) in enumerate(periods)])
        .group_by(AS.c.village_code, AS.c.hh_id).subquery("assigned")
    )
    cols = []
    for i in range(len(years)):
        a, v = assigned.c[f"a{i}"], visited.c[f"v{i}"]
        cols += [func.sum(a), func.sum(case((and_(a == 1, v == 1), 1), else_=0))]
    stmt = (select(assigned.c.village_code, *cols)
            .select_from(assigned.outerjoin(visited, visited.c.hh_id == assigned.c.hh_id))
            .group_by(assigned.c.village_code))
    rows = []
    for village_code, *figures in conn.execute(stmt):
        for i, year in enumerate(years):
            n_assigned, n_visited = int(figures[2 * i] or 0), int(figures[2 * i + 1] or 0)
            if n_assigned:
                rows.append({"village_code": village_code, "year": year,
                             "assigned_households": n_assigned, "visited_households": n_visited})
    return rows, as_of, (years[0], years[-1])


def _latest_income_insert(year: int):
    I, H = schema.income, schema.household  # noqa: E741 - I is the income table, as in queries/ (schema.income as I)
    latest = (select(I.c.hh_id, func.max(I.c.year).label("year")).where(I.c.year <= year)
              .group_by(I.c.hh_id).subquery("latest"))
    extra = ["kind", "identified_year", "exit_year", "returned_year", "member_count"]
    # rules.members_at(year) as a join: member_count corrected by the members who differ at the year's end
    P = schema.person
    at = member_at(year, P)
    step = case((and_(at, P.c.leave_date.is_not(None)), 1), (and_(not_(at), P.c.leave_date.is_(None)), -1), else_=0)
    changed = (select(P.c.hh_id, func.sum(step).label("correction"))
               .where(or_(P.c.leave_date.is_not(None), not_(at))).group_by(P.c.hh_id).subquery("changed"))
    members = H.c.member_count + func.coalesce(changed.c.correction, 0)
    stmt = (select(I.c.hh_id, H.c.village_code, I.c.year, I.c.per_capita_net, *[H.c[c] for c in extra], members)
            .join(latest, and_(latest.c.hh_id == I.c.hh_id, latest.c.year == I.c.year))
            .join(H, H.c.hh_id == I.c.hh_id).outerjoin(changed, changed.c.hh_id == I.c.hh_id))
    return latest_income_summary.insert().from_select(
        ["hh_id", "village_code", "year", "per_capita_net", *extra, "members_year_end"], stmt)


def _near_line_inserts(years: list[int]):
    """summary_near_line and summary_near_line_judged for the years ``years`` (see ``summary.read``).

    Each income row stands for the years from its own to the year before the household's next income row
    (LEAD): it is the latest income up to those years. Rows that cannot be the latest income of a year in which
    the household is 已脱贫 (the next income row comes by its exit year) are left out before the years are
    joined."""
    I, H, L = schema.income, schema.household, schema.poverty_line  # noqa: E741 - I is the income table
    nxt = func.lead(I.c.year).over(partition_by=I.c.hh_id, order_by=I.c.year)
    rows = select(I.c.hh_id, I.c.year, I.c.per_capita_net, nxt.label("next_year")).subquery("income_rows")
    ys = union_all(*[select(literal(y).label("y")) for y in years]).subquery("years")
    may_serve = and_(H.c.exit_year.is_not(None), or_(rows.c.next_year.is_(None), rows.c.next_year > H.c.exit_year))
    bound = select(L.c.year, func.max(L.c.amount).label("amount")).group_by(L.c.year).subquery("bound")
    factor = 1.0 + NEAR_LINE_COVER_PCT / 100.0
    states = ["kind", "identified_year", "exit_year", "returned_year"]
    # The low incomes that may serve an exited year, first (OFFSET 0: PostgreSQL plans the subquery on its own
    # instead of joining the years to 2 million households first), then the years they serve.
    low = (select(rows.c.hh_id, H.c.village_code, rows.c.year, rows.c.next_year, rows.c.per_capita_net,
                  *[H.c[c] for c in states], H.c.member_count)
           .select_from(rows.join(bound, bound.c.year == rows.c.year).join(H, H.c.hh_id == rows.c.hh_id))
           .where(rows.c.per_capita_net < bound.c.amount * factor, may_serve).offset(0).subquery("low"))
    low_serves = and_(low.c.year <= ys.c.y, or_(low.c.next_year.is_(None), low.c.next_year > ys.c.y))
    yield near_line_summary.insert().from_select(
        ["hh_id", "village_code", "as_of_year", "year", "per_capita_net", *states, "member_count", "members_year_end"],
        select(low.c.hh_id, low.c.village_code, ys.c.y, low.c.year, low.c.per_capita_net, *[low.c[c] for c in states],
               low.c.member_count, members_at(ys.c.y, low))
        .select_from(low.join(ys, low_serves))
        .where(exited_by(ys.c.y, low))
        .order_by(ys.c.y))  # a year's rows together (read by the index on the year)
    groups = (select(H.c.county_code, *[H.c[c] for c in states], rows.c.year, rows.c.next_year,
                     func.count().label("households"))
              .select_from(rows.join(H, H.c.hh_id == rows.c.hh_id)).where(may_serve)
              .group_by(H.c.county_code, *[H.c[c] for c in states], rows.c.year, rows.c.next_year).subquery("groups"))
    g_serves = and_(groups.c.year <= ys.c.y, or_(groups.c.next_year.is_(None), groups.c.next_year > ys.c.y))
    yield near_line_judged_summary.insert().from_select(
        ["county_code", "as_of_year", "year", "households"],
        select(groups.c.county_code, ys.c.y, groups.c.year, func.sum(groups.c.households))
        .select_from(groups.join(ys, g_serves)).where(exited_by(ys.c.y, groups))
        .group_by(groups.c.county_code, ys.c.y, groups.c.year))


def _person_insert(from_year: int):
    P = schema.person
    child = and_(P.c.schooling == NOT_IN_SCHOOL, P.c.birth_year.is_not(None), P.c.birth_year >= from_year - 15)
    ill, disabled = P.c.health == SERIOUS_HEALTH[0], P.c.health == SERIOUS_HEALTH[1]
    uninsured = P.c.medical_insurance.is_(False)
    birth = case((child, P.c.birth_year), else_=None)

    def n(cond):
        return func.sum(case((cond, 1), else_=0))

    stmt = (select(P.c.hh_id, P.c.village_code, birth, n(ill), n(disabled), n(child), n(uninsured))
            .where(current_member(P), or_(ill, disabled, child, uninsured))
            .group_by(P.c.hh_id, P.c.village_code, birth))
    return person_summary.insert().from_select(
        ["hh_id", "village_code", "birth_year", "ill", "disabled", "nonschool", "uninsured"], stmt)


def _cause_match_inserts():
    H, HM = schema.household, schema.help_measure
    matching = or_(*[and_(H.c.main_cause == cause, HM.c.measure.in_(measures))
                     for cause, measures in MATCHING_MEASURES.items()])
    dims = [H.c.county_code, H.c.kind, H.c.identified_year, H.c.main_cause]
    first = (select(HM.c.hh_id, func.min(HM.c.year).label("first_year"))
             .select_from(HM.join(H, H.c.hh_id == HM.c.hh_id)).where(matching)
             .group_by(HM.c.hh_id).subquery("first"))
    yield cause_match_summary, cause_match_summary.insert().from_select(
        ["county_code", "kind", "identified_year", "main_cause", "first_year", "households"],
        select(*dims, first.c.first_year, func.count())
        .select_from(H.outerjoin(first, first.c.hh_id == H.c.hh_id))
        .where(H.c.main_cause.in_(list(MATCHING_MEASURES)))
        .group_by(*dims, first.c.first_year))
    yield cause_match_year_summary, cause_match_year_summary.insert().from_select(
        ["county_code", "kind", "identified_year", "main_cause", "year", "households"],
        select(*dims, HM.c.year, func.count(func.distinct(H.c.hh_id)))
        .select_from(HM.join(H, H.c.hh_id == HM.c.hh_id)).where(matching)
        .group_by(*dims, HM.c.year))


def _help_windows(as_of, years) -> list:
    """The periods the help page asks for at the as-of date with its default settings."""
    period = window(as_of, HELP_DAYS)
    found = [period, window(period[0] - dt.timedelta(days=1), HELP_DAYS), *month_end_windows(as_of, HELP_DAYS)]
    if years:
        found += [visit_period(y, as_of) for y in range(years[0] - 1, years[1] + 1)]
    return sorted(set(found))


def _help_rows(conn: Connection, windows: list) -> list[dict]:
    """summary_help_window rows: one pass over the home visits and the assignments for all windows."""
    V, A, C = schema.visit, schema.assignment, schema.helper
    town = func.substr(A.c.village_code, 1, 9).concat(literal("000"))
    visited = (
        select(V.c.hh_id, *[func.max(case((V.c.visit_date.between(s, e), 1), else_=0)).label(f"v{i}")
                            for i, (s, e) in enumerate(windows)])
        .where(V.c.kind.in_(HOME_VISIT_KINDS),
               V.c.visit_date.between(min(s for s, _ in windows), max(e for _, e in windows)))
        .group_by(V.c.hh_id).subquery("visited")
    )
    flags = [func.max(case((assigned_on(e), 1), else_=0)).label(f"a{i}") for i, (_, e) in enumerate(windows)]
    per_hh = (select(A.c.hh_id, town.label("town_code"), *flags)
              .select_from(A.join(C, C.c.helper_id == A.c.helper_id))
              .group_by(A.c.hh_id, town).subquery("per_hh"))
    per_unit = (select(A.c.hh_id, town.label("town_code"), C.c.unit_id, *flags)
                .select_from(A.join(C, C.c.helper_id == A.c.helper_id))
                .group_by(A.c.hh_id, town, C.c.unit_id).subquery("per_unit"))
    cadres = (select(A.c.helper_id, C.c.unit_id, town.label("town_code"),
                     *[func.sum(case((assigned_on(e), 1), else_=0)).label(f"p{i}") for i, (_, e) in enumerate(windows)])
              .select_from(A.join(C, C.c.helper_id == A.c.helper_id))
              .group_by(A.c.helper_id, C.c.unit_id, town).subquery("cadres"))
    n = len(windows)

    def household_cols(t):
        cols = []
        for i in range(n):
            a, v = t.c[f"a{i}"], visited.c[f"v{i}"]
            cols += [func.sum(a), func.sum(case((and_(a == 1, v == 1), 1), else_=0))]
        return cols

    out: dict[tuple, dict] = {}

    def put(town_code, unit_id, i, **values):
        s, e = windows[i]
        key = (town_code, unit_id, i)
        row = out.setdefault(key, {"county_code": town_code[:6] + "000000", "town_code": town_code,
                                   "unit_id": unit_id, "start_date": s, "end_date": e, "assigned_households": 0,
                                   "visited_households": 0, "cadres": 0, "assignments": 0})
        row.update(values)

    stmt = (select(per_hh.c.town_code, *household_cols(per_hh))
            .select_from(per_hh.outerjoin(visited, visited.c.hh_id == per_hh.c.hh_id)).group_by(per_hh.c.town_code))
    for town_code, *figures in conn.execute(stmt):
        for i in range(n):
            put(town_code, None, i, assigned_households=int(figures[2 * i] or 0),
                visited_households=int(figures[2 * i + 1] or 0))
    stmt = (select(per_unit.c.town_code, per_unit.c.unit_id, *household_cols(per_unit))
            .select_from(per_unit.outerjoin(visited, visited.c.hh_id == per_unit.c.hh_id))
            .group_by(per_unit.c.town_code, per_unit.c.unit_id))
    for town_code, unit_id, *figures in conn.execute(stmt):
        for i in range(n):
            put(town_code, unit_id, i, assigned_households=int(figures[2 * i] or 0),
                visited_households=int(figures[2 * i + 1] or 0))
    cols = []
    for i in range(n):
        p = cadres.c[f"p{i}"]
        cols += [func.sum(case((p > 0, 1), else_=0)), func.coalesce(func.sum(p), 0)]
    stmt = select(cadres.c.town_code, cadres.c.unit_id, *cols).group_by(cadres.c.town_code, cadres.c.unit_id)
    for town_code, unit_id, *figures in conn.execute(stmt):
        for i in range(n):
            put(town_code, unit_id, i, cadres=int(figures[2 * i] or 0), assignments=int(figures[2 * i + 1] or 0))
    return list(out.values())  # every town (and unit) with an assignment, as visit_rates lists them


def _last_visit_inserts(as_of: dt.date):
    """summary_household_last_visit and summary_cadre_last_visit at ``as_of`` (see ``summary.read``)."""
    A, C, U, V = schema.assignment, schema.helper, schema.help_unit, schema.visit
    home = and_(V.c.kind.in_(HOME_VISIT_KINDS), V.c.visit_date <= as_of)
    joined = A.join(C, C.c.helper_id == A.c.helper_id).join(U, U.c.unit_id == C.c.unit_id)
    last_hh = select(V.c.hh_id, func.max(V.c.visit_date).label("last_visit")).where(home) \
        .group_by(V.c.hh_id).subquery("last_hh")
    assigned = (select(A.c.hh_id, A.c.village_code, func.min(C.c.name).label("cadre"), func.min(U.c.name).label("unit"))
                .select_from(joined).where(assigned_on(as_of)).group_by(A.c.hh_id, A.c.village_code)
                .subquery("assigned"))
    yield household_last_visit_summary.insert().from_select(
        ["hh_id", "village_code", "cadre", "unit", "last_visit"],
        select(assigned.c.hh_id, assigned.c.village_code, assigned.c.cadre, assigned.c.unit, last_hh.c.last_visit)
        .select_from(assigned.outerjoin(last_hh, last_hh.c.hh_id == assigned.c.hh_id)))
    last_cadre = select(V.c.helper_id, func.max(V.c.visit_date).label("last_visit")).where(home) \
        .group_by(V.c.helper_id).subquery("last_cadre")
    per = (select(A.c.helper_id, A.c.village_code, func.count(func.distinct(A.c.hh_id)).label("households"))
           .select_from(joined).where(assigned_on(as_of)).group_by(A.c.helper_id, A.c.village_code)
           .subquery("per_cadre"))
    yield cadre_last_visit_summary.insert().from_select(
        ["helper_id", "village_code", "households", "last_visit"],
        select(per.c.helper_id, per.c.village_code, per.c.households, last_cadre.c.last_visit)
        .select_from(per.outerjoin(last_cadre, last_cadre.c.helper_id == per.c.helper_id)))


def _last_visit_exact(conn: Connection, as_of: dt.date) -> bool:
    """No household assigned at ``as_of`` in two villages."""
    A = schema.assignment
    return conn.execute(select(A.c.hh_id).where(assigned_on(as_of)).group_by(A.c.hh_id)
                        .having(func.count(func.distinct(A.c.village_code)) > 1).limit(1)).first() is None


def _health_insert(year: int):
    """summary_health for ``year`` (the as-of year), from the base tables and summary_latest_income."""
    P, H, MO, li = schema.person, schema.household, schema.monitoring_object, latest_income_summary
    end = dt.date(year, 12, 31)

    def n(cond):
        return func.sum(case((cond, 1), else_=0))

    serious = (select(P.c.hh_id, n(P.c.health == SERIOUS_HEALTH[0]).label("ill"),
                      n(P.c.health == SERIOUS_HEALTH[1]).label("disabled"))
               .where(current_member(P), P.c.health.in_(SERIOUS_HEALTH)).group_by(P.c.hh_id).subquery("serious"))
    at_risk = exists(select(1).where(MO.c.hh_id == H.c.hh_id, MO.c.identified_date <= end,
                                     or_(MO.c.removed_date.is_(None), MO.c.removed_date > end)))
    was = exists(select(1).where(MO.c.hh_id == H.c.hh_id, MO.c.identified_date <= end))
    states = ["kind", "identified_year", "exit_year", "returned_year"]
    stmt = (select(H.c.hh_id, H.c.village_code, *[H.c[c] for c in states], serious.c.ill, serious.c.disabled,
                   li.c.year, li.c.per_capita_net, case((at_risk, 1), else_=0), case((was, 1), else_=0))
            .select_from(H.join(serious, serious.c.hh_id == H.c.hh_id).outerjoin(li, li.c.hh_id == H.c.hh_id)))
    return health_summary.insert().from_select(
        ["hh_id", "village_code", *states, "ill_persons", "disabled_persons", "income_year", "per_capita_net",
         "monitored", "was_monitored"], stmt)


def _guarantee_insert(year: int):
    """summary_guarantee for ``year`` (the as-of year): the households with a 两不愁三保障 item not met."""
    P, H = schema.person, schema.household
    low, high = COMPULSORY_SCHOOL_AGES
    age = year - P.c.birth_year
    out = and_(P.c.birth_year.is_not(None), age >= low, age <= high, P.c.schooling == NOT_IN_SCHOOL)
    uninsured = P.c.medical_insurance.is_(False)

    def n(cond):
        return func.sum(case((cond, 1), else_=0))

    members = (select(P.c.hh_id, n(out).label("children_out"), n(uninsured).label("uninsured"))
               .where(current_member(P), or_(out, uninsured)).group_by(P.c.hh_id).subquery("members"))
    children, insured = func.coalesce(members.c.children_out, 0), func.coalesce(members.c.uninsured, 0)
    flags = [H.c.house_grade.in_(DANGEROUS_HOUSE_GRADES), children > 0, insured > 0, H.c.safe_water.is_(False),
             H.c.food_clothing_ok.is_(False)]
    states = ["kind", "identified_year", "exit_year", "returned_year"]
    stmt = (select(H.c.hh_id, H.c.village_code, *[H.c[c] for c in states], H.c.member_count,
                   *[case((f, 1), else_=0) for f in flags], children, insured)
            .select_from(H.outerjoin(members, members.c.hh_id == H.c.hh_id)).where(or_(*flags)))
    return guarantee_summary.insert().from_select(
        ["hh_id", "village_code", *states, "member_count", "dangerous_house", "out_of_school", "no_insurance",
         "unsafe_water", "food_clothing", "children_out", "uninsured"], stmt)


def _income_work_inserts(conn: Connection):
    """summary_income_year, and summary_work_year when the work_year table exists (see ``summary.read``)."""
    I, H, W = schema.income, schema.household, schema.work_year  # noqa: E741 - I is the income table
    states = [H.c[c] for c in ("kind", "identified_year", "exit_year", "returned_year")]
    names = ["kind", "identified_year", "exit_year", "returned_year"]
    county = func.substr(H.c.village_code, 1, 6).concat(literal("000000"))
    yield income_year_summary.insert().from_select(
        ["county_code", *names, "year", "households", "persons", "total"],
        select(county, *states, I.c.year, func.count(), func.sum(I.c.members),
               func.sum(I.c.per_capita_net * I.c.members))
        .select_from(I.join(H, H.c.hh_id == I.c.hh_id)).group_by(county, *states, I.c.year))
    if inspect(conn).has_table(W.name):
        working = case((W.c.work_status.in_([s for s in WORK_STATUS if s != "未外出务工"]), 1), else_=0)
        w_county = func.substr(W.c.village_code, 1, 6).concat(literal("000000"))
        yield work_year_summary.insert().from_select(
            ["county_code", *names, "year", "working", "persons"],
            select(w_county, *states, W.c.year, working, func.count())
            .select_from(W.join(H, H.c.hh_id == W.c.hh_id)).group_by(w_county, *states, W.c.year, working))


def _person_village_exact(conn: Connection) -> bool:
    """Every current member lives in the village of the household (queries that filter both by scope agree)."""
    P, H = schema.person, schema.household
    stray = (select(P.c.hh_id).join(H, H.c.hh_id == P.c.hh_id)
             .where(current_member(P), P.c.village_code != H.c.village_code).limit(1))
    return conn.execute(stray).first() is None


def _help_exact(conn: Connection) -> bool:
    """Town sums equal the scope's distinct counts: no household assigned in two villages, no cadre in
    two towns, no home visit outside the town of its household's assignment."""
    V, A = schema.visit, schema.assignment
    town = func.substr(A.c.village_code, 1, 9)
    if conn.execute(select(A.c.hh_id).group_by(A.c.hh_id)
                    .having(func.count(func.distinct(A.c.village_code)) > 1).limit(1)).first():
        return False
    if conn.execute(select(A.c.helper_id).group_by(A.c.helper_id)
                    .having(func.count(func.distinct(town)) > 1).limit(1)).first():
        return False
    home = select(A.c.hh_id, func.min(town).label("town")).group_by(A.c.hh_id).subquery("home")
    stray = (select(V.c.hh_id).join(home, home.c.hh_id == V.c.hh_id)
             .where(V.c.kind.in_(HOME_VISIT_KINDS), func.substr(V.c.village_code, 1, 9) != home.c.town).limit(1))
    return conn.execute(stray).first() is None


def refresh(engine: Engine) -> dict:
    """Rebuild every summary table from the base tables; record the data version they show.

    Returns {"seconds": elapsed, "rows": {table: rows}, "version": data_version}.
    """
    started = time.perf_counter()
    _drop_outdated(engine)
    metadata.create_all(engine)
    rows = {}
    with engine.begin() as conn:
        version = _meta(conn, "data_version") or "0"  # read first: a write after this makes the result stale
        _set_meta(conn, SUMMARY_KEY, "")  # while rebuilding, nothing uses the summaries
        first_year = conn.execute(select(func.min(schema.household.c.identified_year))).scalar()
        for table, inserts in _statements(first_year):
            conn.execute(table.delete())
            for insert in inserts:
                conn.execute(insert)
            rows[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        visit_rows, as_of, years = _visit_rows(conn, _meta(conn, "data_as_of"))
        conn.execute(village_year_summary.delete())
        village_years = _village_years(conn, first_year, as_of)
        for year in range(village_years[0], village_years[1] + 1) if village_years else ():
            conn.execute(_village_year_insert(year))
        rows[village_year_summary.name] = int(
            conn.execute(select(func.count()).select_from(village_year_summary)).scalar_one())
        _set_meta(conn, VILLAGE_YEARS_KEY, "{},{}".format(*village_years) if village_years else "")
        _set_meta(conn, VILLAGE_EXITS_EXACT_KEY, "1" if _village_exits_exact(conn) else "0")
        conn.execute(population_summary.delete())
        population_rows = _population_rows(
            conn, list(range(village_years[0], village_years[1] + 1))) if village_years else []
        for start in range(0, len(population_rows), 20000):
            conn.execute(population_summary.insert(), population_rows[start:start + 20000])
        rows[population_summary.name] = len(population_rows)
        _set_meta(conn, POPULATION_YEARS_KEY, "{},{}".format(*village_years) if population_rows else "")
        conn.execute(monitoring_help_summary.delete())
        conn.execute(_monitoring_help_insert())
        rows[monitoring_help_summary.name] = int(
            conn.execute(select(func.count()).select_from(monitoring_help_summary)).scalar_one())
        conn.execute(money_summary.delete())
        conn.execute(_money_insert())
        rows[money_summary.name] = int(conn.execute(select(func.count()).select_from(money_summary)).scalar_one())
        conn.execute(money_problem_summary.delete())
        conn.execute(_money_problem_insert())
        rows[money_problem_summary.name] = int(
            conn.execute(select(func.count()).select_from(money_problem_summary)).scalar_one())
        conn.execute(village_visit_summary.delete())
        for start in range(0, len(visit_rows), 20000):
            conn.execute(village_visit_summary.insert(), visit_rows[start:start + 20000])
        rows[village_visit_summary.name] = len(visit_rows)
        conn.execute(latest_income_summary.delete())
        if as_of:
            conn.execute(_latest_income_insert(as_of.year))
        rows[latest_income_summary.name] = int(
            conn.execute(select(func.count()).select_from(latest_income_summary)).scalar_one())
        _set_meta(conn, INCOME_YEAR_KEY, str(as_of.year) if as_of else "")
        near_years = list(range(int(first_year), as_of.year + 1)) if as_of and first_year is not None else []
        for table in (near_line_summary, near_line_judged_summary):
            conn.execute(table.delete())
        for insert in _near_line_inserts(near_years) if near_years else ():
            conn.execute(insert)
        for table in (near_line_summary, near_line_judged_summary):
            rows[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        _set_meta(conn, NEAR_LINE_YEARS_KEY, f"{near_years[0]},{near_years[-1]}" if near_years else "")
        conn.execute(person_summary.delete())
        from_year = conn.execute(select(func.min(schema.household.c.identified_year))).scalar()
        if from_year is not None:
            conn.execute(_person_insert(int(from_year)))
        rows[person_summary.name] = int(conn.execute(select(func.count()).select_from(person_summary)).scalar_one())
        _set_meta(conn, PERSON_FROM_KEY, str(from_year) if from_year is not None else "")
        AS = schema.assignment
        conn.execute(helper_summary.delete())
        conn.execute(helper_summary.insert().from_select(
            ["helper_id", "village_code", "households"],
            select(AS.c.helper_id, AS.c.village_code, func.count(func.distinct(AS.c.hh_id)))
            .group_by(AS.c.helper_id, AS.c.village_code)))
        rows[helper_summary.name] = int(conn.execute(select(func.count()).select_from(helper_summary)).scalar_one())
        pairs = select(AS.c.helper_id, AS.c.hh_id).group_by(AS.c.helper_id, AS.c.hh_id).having(
            func.count(func.distinct(AS.c.village_code)) > 1).limit(1)
        _set_meta(conn, HELPER_EXACT_KEY, "0" if conn.execute(pairs).first() else "1")
        HM = schema.help_measure
        county = func.substr(HM.c.village_code, 1, 6).concat(literal("000000"))
        conn.execute(measure_summary.delete())
        conn.execute(measure_summary.insert().from_select(
            ["county_code", "year", "measure", "households", "measures", "amount"],
            select(county, HM.c.year, HM.c.measure, func.count(func.distinct(HM.c.hh_id)), func.count(),
                   func.coalesce(func.sum(HM.c.amount), 0))
            .group_by(county, HM.c.year, HM.c.measure)))
        rows[measure_summary.name] = int(conn.execute(select(func.count()).select_from(measure_summary)).scalar_one())
        split = select(HM.c.hh_id).group_by(HM.c.hh_id, HM.c.year, HM.c.measure).having(
            func.count(func.distinct(func.substr(HM.c.village_code, 1, 6))) > 1).limit(1)
        _set_meta(conn, MEASURE_EXACT_KEY, "0" if conn.execute(split).first() else "1")
        for table, insert in _cause_match_inserts():
            conn.execute(table.delete())
            conn.execute(insert)
            rows[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        _set_meta(conn, VISIT_AS_OF_KEY, as_of.isoformat() if as_of else "")
        conn.execute(help_window_summary.delete())
        windows = _help_windows(as_of, years) if as_of else []
        help_rows = _help_rows(conn, windows) if windows else []
        for start in range(0, len(help_rows), 20000):
            conn.execute(help_window_summary.insert(), help_rows[start:start + 20000])
        rows[help_window_summary.name] = len(help_rows)
        hw, hc = help_window_summary, help_window_county_summary
        conn.execute(hc.delete())
        conn.execute(hc.insert().from_select(
            ["county_code", "unit_id", "start_date", "end_date", "assigned_households", "visited_households",
             "cadres", "assignments"],
            select(hw.c.county_code, hw.c.unit_id, hw.c.start_date, hw.c.end_date, func.sum(hw.c.assigned_households),
                   func.sum(hw.c.visited_households), func.sum(hw.c.cadres), func.sum(hw.c.assignments))
            .group_by(hw.c.county_code, hw.c.unit_id, hw.c.start_date, hw.c.end_date)))
        rows[hc.name] = int(conn.execute(select(func.count()).select_from(hc)).scalar_one())
        _set_meta(conn, HELP_WINDOWS_KEY, ";".join(f"{s.isoformat()},{e.isoformat()}" for s, e in windows))
        _set_meta(conn, HELP_EXACT_KEY, "1" if windows and _help_exact(conn) else "0")
        V = schema.visit
        county = func.substr(V.c.village_code, 1, 6).concat(literal("000000"))
        conn.execute(visit_span_summary.delete())
        conn.execute(visit_span_summary.insert().from_select(
            ["county_code", "first_date", "last_date"],
            select(county, func.min(V.c.visit_date), func.max(V.c.visit_date)).group_by(county)))
        rows[visit_span_summary.name] = int(
            conn.execute(select(func.count()).select_from(visit_span_summary)).scalar_one())
        _set_meta(conn, VISIT_YEARS_KEY, f"{years[0]},{years[1]}" if years else "")
        as_of_tables = (household_last_visit_summary, cadre_last_visit_summary, health_summary, guarantee_summary)
        for table in as_of_tables:
            conn.execute(table.delete())
        if as_of:
            for insert in _last_visit_inserts(as_of):
                conn.execute(insert)
            conn.execute(_health_insert(as_of.year))
            conn.execute(_guarantee_insert(as_of.year))
        conn.execute(income_year_summary.delete())
        conn.execute(work_year_summary.delete())
        work = False
        for insert in _income_work_inserts(conn):
            conn.execute(insert)
            work = work or insert.table is work_year_summary
        _set_meta(conn, WORK_KEY, "1" if work else "0")
        for table in (*as_of_tables, income_year_summary, work_year_summary):
            rows[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        _set_meta(conn, LAST_VISIT_EXACT_KEY, "1" if as_of and _last_visit_exact(conn, as_of) else "0")
        _set_meta(conn, PERSON_VILLAGE_EXACT_KEY, "1" if as_of and _person_village_exact(conn) else "0")
        _set_meta(conn, LAYOUT_KEY, LAYOUT)
        _set_meta(conn, SUMMARY_KEY, version)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in TABLES:
                conn.exec_driver_sql(f"ANALYZE {table.name}")
    return {"seconds": round(time.perf_counter() - started, 2), "rows": rows, "version": version}


def _drop_outdated(engine: Engine) -> None:
    """Drop a summary table whose columns (or indexes) differ from this program's (a rebuild refills it anyway).

    The summaries are marked not built first, in a transaction of its own: an app still running the previous
    program reads meta, not the tables' shape, and would otherwise read a replaced table while the rebuild's
    long transaction has not filled it yet (the province's 累计脱贫 read 0 for those 12 minutes)."""
    inspector = inspect(engine)
    existing = set(inspector.get_table_names())
    outdated = []
    for table in TABLES:
        if table.name in existing:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            indexes = {i["name"] for i in inspector.get_indexes(table.name)}
            if columns != set(table.c.keys()) or not _indexes_on(table, engine.dialect.name) <= indexes:
                outdated.append(table)
    if not outdated:
        return
    with engine.begin() as conn:
        _set_meta(conn, SUMMARY_KEY, "")
    for table in outdated:
        table.drop(engine)


def _indexes_on(table, dialect: str) -> set[str]:
    """Names of ``table``'s indexes that ``create_all`` makes on ``dialect`` (some are for PostgreSQL only)."""
    wanted = set()
    for index in table.indexes:
        only = getattr(index, "_ddl_if", None)  # set by Index.ddl_if(dialect=...)
        if only is None or only.dialect in (None, dialect):
            wanted.add(index.name)
    return wanted


def _meta(conn: Connection, key: str) -> str | None:
    M = schema.meta
    return conn.execute(select(M.c.value).where(M.c.key == key)).scalar()


def _set_meta(conn: Connection, key: str, value: str) -> None:
    M = schema.meta
    if not conn.execute(M.update().where(M.c.key == key).values(value=value)).rowcount:
        conn.execute(M.insert().values(key=key, value=value))


