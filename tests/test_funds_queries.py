"""Fund and project queries (data_access.queries.funds) checked against independent raw SQL.

Every figure is recomputed here another way: scopes by LIKE on code prefixes (the
queries use the indexed county/town/village columns), a county's funds by their
region_code, child regions by substr of the place code, by-month figures and flags
by hand-counting the raw rows in Python. Both backends (registry_engine is
parametrised over SQLite and PostgreSQL); county, township and village scopes.
"""

from __future__ import annotations

import datetime as dt
import statistics

import pytest

from data_access.queries import funds
from data_access.scope import Scope
from tests.helpers import MEMBERS_AT, hround, year_end

YEARS = (2019, 2023, 2025, 2026)
FEW_YEARS = (2019, 2026)  # 2019: a project with no place; 2026: the year in progress, spending over payment
AS_OF = dt.date(2026, 10, 31)


# ---- independent definitions -------------------------------------------------------------


def scopes(q, year: int) -> list[Scope]:
    """The county, its township with most projects in ``year`` and that township's busiest village."""
    county = q.scalar("SELECT code FROM region WHERE level = 'county' ORDER BY code")
    town = q.scalar(
        "SELECT substr(region_code, 1, 9) || '000' AS t FROM project WHERE year = :y AND region_code IS NOT NULL "
        "GROUP BY substr(region_code, 1, 9) ORDER BY COUNT(*) DESC, t LIMIT 1", y=year)
    village = q.scalar(
        "SELECT region_code FROM project WHERE year = :y AND region_code LIKE :p AND region_code NOT LIKE '%000' "
        "GROUP BY region_code ORDER BY COUNT(*) DESC, region_code LIMIT 1", y=year, p=town[:9] + "%")
    return [Scope.of(c) for c in (county, town, village) if c]


def selection(scope: Scope, year: int, source=None, category=None) -> tuple[str, dict]:
    """WHERE over aliases f (fund) and p (project): the page's selection, written independently."""
    if scope.level == "county":
        where = ["f.region_code LIKE :pre", "f.year = :y"]
    else:
        where = ["p.region_code LIKE :pre", "p.year = :y"]
    params = {"pre": scope.prefix + "%", "y": year}
    if source:
        where.append("f.source = :src")
        params["src"] = source
    if category:
        where.append("p.category = :cat")
        params["cat"] = category
    return " AND ".join(where), params


MONEY = ("FROM {t} m JOIN fund f ON f.fund_id = m.fund_id JOIN project p ON p.project_id = m.project_id "
         "WHERE {w}")


def arranged_sql(q, scope, year, source=None, category=None, group: str | None = None):
    w, params = selection(scope, year, source, category)
    if group:
        return {k: int(v) for k, v in q.rows(
            f"SELECT {group} AS g, SUM(m.amount) {MONEY.format(t='arrangement', w=w)} GROUP BY {group}", **params)}
    return int(q.scalar(f"SELECT COALESCE(SUM(m.amount), 0) {MONEY.format(t='arrangement', w=w)}", **params))


def flows_sql(q, scope, year, kind, source=None, category=None, group: str | None = None):
    w, params = selection(scope, year, source, category)
    w += " AND m.kind = :kind"
    if group:
        return {k: int(v) for k, v in q.rows(
            f"SELECT {group} AS g, SUM(m.amount) {MONEY.format(t='money_flow', w=w)} GROUP BY {group}",
            kind=kind, **params)}
    return int(q.scalar(f"SELECT COALESCE(SUM(m.amount), 0) {MONEY.format(t='money_flow', w=w)}",
                        kind=kind, **params))


def allocated_sql(q, scope, year, source=None, group: str | None = None):
    w = "f.region_code LIKE :pre AND f.year = :y" + (" AND f.source = :src" if source else "")
    params = {"pre": scope.prefix + "%", "y": year, **({"src": source} if source else {})}
    if group:
        return {k: int(v) for k, v in q.rows(f"SELECT {group}, SUM(f.amount) FROM fund f WHERE {w} GROUP BY {group}",
                                             **params)}
    return int(q.scalar(f"SELECT COALESCE(SUM(f.amount), 0) FROM fund f WHERE {w}", **params))


def project_ids_sql(q, scope, year, source=None, category=None) -> set[str]:
    if scope.level == "county":
        where = "(p.region_code LIKE :pre OR (p.region_code IS NULL AND p.county_code LIKE :pre))"
    else:
        where = "p.region_code LIKE :pre"
    where += " AND p.year = :y"
    params = {"pre": scope.prefix + "%", "y": year}
    if category:
        where += " AND p.category = :cat"
        params["cat"] = category
    if source:
        where += (" AND EXISTS (SELECT 1 FROM arrangement a JOIN fund f ON f.fund_id = a.fund_id "
                  "WHERE a.project_id = p.project_id AND f.source = :src)")
        params["src"] = source
    return {r[0] for r in q.rows(f"SELECT p.project_id FROM project p WHERE {where}", **params)}


def child_expr(scope: Scope) -> str:
    """The child region of a project's place, from its region_code (NULL: no place / the town itself)."""
    if scope.level == "county":
        return "substr(p.region_code, 1, 9) || '000'"
    return "CASE WHEN p.region_code LIKE '%000' THEN NULL ELSE p.region_code END"


def rate(n, d):
    return hround(100 * n / d, 2) if d else None


def filters(q, scope, year):
    """No filter, the biggest source, the biggest category, and both."""
    w, params = selection(scope, year)
    top_source = q.scalar(f"SELECT f.source {MONEY.format(t='arrangement', w=w)} GROUP BY f.source "
                          "ORDER BY SUM(m.amount) DESC, f.source LIMIT 1", **params)
    top_category = q.scalar(f"SELECT p.category {MONEY.format(t='arrangement', w=w)} GROUP BY p.category "
                            "ORDER BY SUM(m.amount) DESC, p.category LIMIT 1", **params)
    return [(None, None), (top_source, None), (None, top_category), (top_source, top_category)]


# ---- totals of the selection --------------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_execution_matches_sql(registry_engine, q, year):
    for scope in scopes(q, year):
        for source, category in filters(q, scope, year):
            got = funds.execution(registry_engine, scope, year, source, category)
            arranged = arranged_sql(q, scope, year, source, category)
            paid = flows_sql(q, scope, year, "拨付", source, category)
            spent = flows_sql(q, scope, year, "支出", source, category)
            assert (got["arranged"], got["paid"], got["spent"]) == (arranged, paid, spent), (scope, source, category)
            assert got["projects"] == len(project_ids_sql(q, scope, year, source, category))
            if scope.level == "county" and not category:
                allocated = allocated_sql(q, scope, year, source)
                assert got["base"] == "allocated" and got["allocated"] == allocated
                assert got["unarranged"] == allocated - arranged
                base = allocated
            else:
                assert got["base"] == "arranged" and got["allocated"] is None and got["unarranged"] is None
                base = arranged
            assert got["base_amount"] == base
            assert (got["paid_rate"], got["spent_rate"]) == (rate(paid, base), rate(spent, base))
            assert (got["paid_rate_arranged"], got["spent_rate_arranged"]) == (rate(paid, arranged),
                                                                             rate(spent, arranged))
        assert funds.execution(registry_engine, scope, year)["arranged"] > 0 or scope.level == "village"


@pytest.mark.parametrize("year", YEARS)
def test_execution_without_filters_equals_totals(registry_engine, q, year):
    for scope in scopes(q, year):
        got = funds.execution(registry_engine, scope, year)
        overview = funds.totals(registry_engine, scope, year)
        for key in ("allocated", "arranged", "paid", "spent", "base", "paid_rate", "spent_rate", "projects"):
            assert got[key] == overview[key], key


@pytest.mark.parametrize("year", FEW_YEARS)
@pytest.mark.parametrize("by", funds.BREAKDOWNS)
def test_execution_by_matches_sql(registry_engine, q, year, by):
    for scope in scopes(q, year):
        for source, category in filters(q, scope, year)[:2]:
            got = funds.execution_by(registry_engine, scope, year, by, source, category)
            if by == "region" and scope.level == "village":
                assert got.empty
                continue
            group = {"source": "f.source", "category": "p.category", "region": child_expr(scope)}[by]
            arranged = arranged_sql(q, scope, year, source, category, group)
            paid = flows_sql(q, scope, year, "拨付", source, category, group)
            spent = flows_sql(q, scope, year, "支出", source, category, group)
            keys = set(arranged) | set(paid) | set(spent)
            with_allocation = by == "source" and scope.level == "county" and not category
            allocated = allocated_sql(q, scope, year, source, "f.source") if with_allocation else {}
            keys |= set(allocated)
            assert {None if k != k else k for k in got["key"]} == keys
            for row in got.itertuples():
                k = None if row.key != row.key else row.key
                assert (row.arranged, row.paid, row.spent) == (arranged.get(k, 0), paid.get(k, 0), spent.get(k, 0))
                base = allocated.get(k, 0) if with_allocation else arranged.get(k, 0)
                if with_allocation:
                    assert row.allocated == allocated.get(k, 0)
                assert row.base_amount == base
                assert row.spent_rate == rate(spent.get(k, 0), base) or (row.spent_rate != row.spent_rate
                                                                          and not base)
                if by == "region" and k is None:
                    assert row.name == ("地点缺失" if scope.level == "county" else "乡镇本级")
            total = funds.execution(registry_engine, scope, year, source, category)
            assert got["arranged"].sum() == total["arranged"] and got["spent"].sum() == total["spent"]
            ranked = [r for r in got["spent_rate"] if r == r and r is not None]
            assert ranked == sorted(ranked), "slowest first"


# ---- the flow -----------------------------------------------------------------------------


@pytest.mark.parametrize("year", FEW_YEARS)
def test_flow_levels_match_sql(registry_engine, q, year):
    for scope in scopes(q, year):
        for source, category in filters(q, scope, year):
            rows = funds.flow(registry_engine, scope, year, source, category)
            placed = rows[rows["category"] != funds.UNARRANGED]
            by_source = rows.groupby("source")["amount"].sum().to_dict()
            if scope.level == "county" and not category:
                allocated = allocated_sql(q, scope, year, source, "f.source")
                assert {k: v for k, v in by_source.items()} == {k: v for k, v in allocated.items() if v}
            else:
                assert funds.UNARRANGED not in set(rows["category"])
                assert by_source == arranged_sql(q, scope, year, source, category, "f.source")
            assert placed.groupby("category")["amount"].sum().to_dict() == \
                arranged_sql(q, scope, year, source, category, "p.category")
            if scope.level != "village":
                got = {(None if k == "" else k): v for k, v in
                       placed.assign(k=placed["place_code"].fillna("")).groupby("k")["amount"].sum().items()}
                assert got == arranged_sql(q, scope, year, source, category, child_expr(scope))
            n_projects = len(arranged_sql(q, scope, year, source, category, "p.project_id"))
            if n_projects <= funds.MAX_PROJECT_NODES:
                assert placed["project_id"].notna().all()
                assert placed.groupby("project_id")["amount"].sum().to_dict() == \
                    arranged_sql(q, scope, year, source, category, "p.project_id")
            else:
                assert placed["project_id"].isna().all()
            base = funds.execution(registry_engine, scope, year, source, category)["base_amount"]
            assert rows["amount"].sum() == base
            assert (rows["amount"] > 0).all()


def test_flow_stops_at_places_when_projects_are_many(registry_engine, q):
    county = scopes(q, 2019)[0]
    rows = funds.flow(registry_engine, county, 2019, max_projects=1)
    assert rows["project_id"].isna().all()
    assert rows["amount"].sum() == allocated_sql(q, county, 2019)


# ---- by month -------------------------------------------------------------------------------


@pytest.mark.parametrize("year", FEW_YEARS)
def test_monthly_progress_by_hand(registry_engine, q, year):
    for scope in scopes(q, year):
        source, category = filters(q, scope, year)[1]
        got = funds.monthly_progress(registry_engine, scope, year, source, category)
        w, params = selection(scope, year, source, category)
        moves = q.rows(f"SELECT m.kind, m.flow_date, m.amount {MONEY.format(t='money_flow', w=w)}", **params)
        moves = [(k, d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)), int(a)) for k, d, a in moves]
        base = funds.execution(registry_engine, scope, year, source, category)["base_amount"]
        assert list(got["month"]) == list(range(1, 13))
        for row in got.itertuples():
            end = (dt.date(year, 12, 31) if row.month == 12
                   else dt.date(year, row.month + 1, 1) - dt.timedelta(days=1))
            for kind, col, cum in (("拨付", "paid", "cum_paid"), ("支出", "spent", "cum_spent")):
                month_sum = sum(a for k, d, a in moves if k == kind and d.year == year and d.month == row.month)
                cum_sum = sum(a for k, d, a in moves if k == kind and d <= end)
                assert getattr(row, col) == month_sum and getattr(row, cum) == cum_sum
            assert row.cum_spent_rate == rate(row.cum_spent, base)
            assert row.even_pace == hround(100 * row.month / 12, 2)


# ---- allocations and projects -------------------------------------------------------------


@pytest.mark.parametrize("year", FEW_YEARS)
def test_allocations_match_sql(registry_engine, q, year):
    for scope in scopes(q, year):
        for source, category in filters(q, scope, year)[:3]:
            got = funds.allocations(registry_engine, scope, year, source, category)
            per_fund = arranged_sql(q, scope, year, source, category, "f.fund_id")
            paid = flows_sql(q, scope, year, "拨付", source, category, "f.fund_id")
            spent = flows_sql(q, scope, year, "支出", source, category, "f.fund_id")
            if scope.level == "county" and not category:
                ids = {r[0]: int(r[1]) for r in q.rows(
                    "SELECT fund_id, amount FROM fund WHERE region_code LIKE :pre AND year = :y"
                    + (" AND source = :src" if source else ""), pre=scope.prefix + "%", y=year,
                    **({"src": source} if source else {}))}
                assert dict(zip(got["fund_id"], got["allocated"])) == ids
            else:
                ids = per_fund
                assert got["allocated"].isna().all()
            assert set(got["fund_id"]) == set(ids)
            for r in got.itertuples():
                assert (r.arranged, r.paid, r.spent) == (per_fund.get(r.fund_id, 0), paid.get(r.fund_id, 0),
                                                         spent.get(r.fund_id, 0))
            total = funds.execution(registry_engine, scope, year, source, category)
            assert got["arranged"].sum() == total["arranged"]
            if total["allocated"] is not None:
                assert got["allocated"].sum() == total["allocated"]


@pytest.mark.parametrize("year", FEW_YEARS)
def test_projects_match_sql(registry_engine, q, year):
    days = 90
    cutoff = AS_OF - dt.timedelta(days=days)
    for scope in scopes(q, year):
        for source, category in filters(q, scope, year)[:2]:
            got = funds.projects(registry_engine, scope, year, AS_OF, days, source, category)
            ids = project_ids_sql(q, scope, year, source, category)
            assert set(got["project_id"]) == ids and len(got) == len(ids)
            arranged = arranged_sql(q, scope, year, source, category, "p.project_id")
            w, params = selection(scope, year, source, category)
            moves = q.rows(f"SELECT m.project_id, m.kind, m.flow_date, m.amount "
                           f"{MONEY.format(t='money_flow', w=w)}", **params)
            facts = {r[0]: r[1:] for r in q.rows(
                "SELECT p.project_id, p.planned_end, p.actual_end, r.name, t.name FROM project p "
                "LEFT JOIN region r ON r.code = p.region_code "
                "LEFT JOIN region t ON t.code = substr(p.region_code, 1, 9) "
                "|| '000' WHERE p.year = :y", y=year)}
            for r in got.itertuples():
                mine = [(k, d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)), int(a))
                        for pid, k, d, a in moves if pid == r.project_id]
                paid = sum(a for k, d, a in mine if k == "拨付")
                spent = sum(a for k, d, a in mine if k == "支出")
                assert (r.arranged, r.paid, r.spent) == (arranged.get(r.project_id, 0), paid, spent)
                idle = max(0, sum(a for k, d, a in mine if k == "拨付" and d <= cutoff) - spent)
                assert r.idle_amount == idle
                planned, actual, place, town = facts[r.project_id]
                planned = dt.date.fromisoformat(str(planned)[:10]) if planned else None
                actual = dt.date.fromisoformat(str(actual)[:10]) if actual else None
                late = planned is not None and ((actual is None and AS_OF > planned) or (actual is not None
                                                                                        and actual > planned))
                assert bool(r.late) == late, r.project_id
                assert r.place_name == (place or "地点缺失")
            flagged = list(got["late"] | (got["idle_amount"] > 0))
            assert flagged == sorted(flagged, reverse=True), "flagged projects first"


# ---- per beneficiary ----------------------------------------------------------------------


@pytest.mark.parametrize("year, cumulative", ((2019, False), (2025, True)))
def test_per_beneficiary_matches_sql(registry_engine, q, year, cumulative):
    for scope in scopes(q, year):
        for level in ("child", "village"):
            got = funds.per_beneficiary(registry_engine, scope, year, level=level, cumulative=cumulative)
            digits = 12 if level == "village" or scope.level != "county" else 9
            key = f"substr(p.region_code, 1, {digits})" + (" || '000'" if digits == 9 else "")
            w, params = selection(scope, year)
            if cumulative:
                w = w.replace("year = :y", "year <= :y")
            money = {k: int(v) for k, v in q.rows(
                f"SELECT {key}, SUM(m.amount) {MONEY.format(t='arrangement', w=w)} GROUP BY {key}", **params)}
            hkey = f"substr(village_code, 1, {digits})" + (" || '000'" if digits == 9 else "")
            people = {k: (int(h), int(n)) for k, h, n in q.rows(
                f"SELECT {hkey}, COUNT(*), SUM({MEMBERS_AT}) FROM household h WHERE kind = '建档立卡户' "
                f"AND identified_year <= :y AND village_code LIKE :pre GROUP BY {hkey}", y=year,
                pre=scope.prefix + "%", end=year_end(year))}
            want_level = "village" if digits == 12 else "town"
            regions = {r[0] for r in q.rows("SELECT code FROM region WHERE level = :l AND code LIKE :pre",
                                            l=want_level, pre=scope.prefix + "%")}
            listed = got[got["code"].notna()]
            assert set(listed["code"]) == regions
            for r in listed.itertuples():
                hh, persons = people.get(r.code, (0, 0))
                town_level = digits == 12 and r.code.endswith("000")
                assert not town_level
                assert (r.arranged, r.households, r.persons) == (money.get(r.code, 0), hh, persons)
                assert r.per_household == (hround(r.arranged / hh, 2) if hh else None) or (
                    not hh and r.per_household != r.per_household)
            # Money that is on no region of this level: one row each for 乡镇本级 and 地点缺失.
            extra = got[got["code"].isna()]
            unplaced = money.get(None, 0)
            town_level = sum(v for k, v in money.items() if k and k.endswith("000") and digits == 12)
            assert dict(zip(extra["name"], extra["arranged"])) == {
                k: v for k, v in (("乡镇本级", town_level), ("地点缺失", unplaced)) if v}
            assert got["arranged"].sum() == sum(money.values())
            funded = [r.per_household for r in listed.itertuples() if r.arranged > 0 and r.households]
            if funded:
                median = statistics.median(funded)
                for r in listed.itertuples():
                    expected = bool(r.households) and r.per_household > funds.OUTLIER_FACTOR * median
                    assert bool(r.outlier) == expected


# ---- consistency checks -------------------------------------------------------------------

NO_PLACE_SQL = "SELECT project_id FROM project WHERE region_code IS NULL AND county_code LIKE :pre"
SPENT_OVER_PAID_SQL = (
    "SELECT p.project_id FROM project p WHERE "
    "(SELECT COALESCE(SUM(amount), 0) FROM money_flow WHERE project_id = p.project_id AND kind = '支出') > "
    "(SELECT COALESCE(SUM(amount), 0) FROM money_flow WHERE project_id = p.project_id AND kind = '拨付')")
PAID_OVER_ARRANGED_SQL = (
    "SELECT p.project_id FROM project p WHERE "
    "(SELECT COALESCE(SUM(amount), 0) FROM money_flow WHERE project_id = p.project_id AND kind = '拨付') > "
    "(SELECT COALESCE(SUM(amount), 0) FROM arrangement WHERE project_id = p.project_id)")


def found(df, problem) -> set[str]:
    return set(df.loc[df["problem"] == problem, "object_id"])


def test_data_problems_all_years_find_the_demo_problems(registry_engine, q, demo_summary):
    county = scopes(q, 2019)[0]
    got = funds.data_problems(registry_engine, county, None)
    assert found(got, funds.PROBLEM_NO_PLACE) == {r[0] for r in q.rows(NO_PLACE_SQL, pre=county.prefix + "%")}
    assert found(got, funds.PROBLEM_SPENT_OVER_PAID) == {r[0] for r in q.rows(SPENT_OVER_PAID_SQL)}
    assert found(got, funds.PROBLEM_PAID_OVER_ARRANGED) == {r[0] for r in q.rows(PAID_OVER_ARRANGED_SQL)}
    # The generator reports what it planted; the page must find exactly those.
    planted = demo_summary["problems"]
    assert found(got, funds.PROBLEM_NO_PLACE) == set(planted["no_place"])
    assert found(got, funds.PROBLEM_SPENT_OVER_PAID) == set(planted["spent_over_paid"])
    over = q.rows("SELECT f.fund_id FROM fund f WHERE f.amount < (SELECT COALESCE(SUM(a.amount), 0) "
                  "FROM arrangement a WHERE a.fund_id = f.fund_id)")
    assert found(got, funds.PROBLEM_ARRANGED_OVER_ALLOCATED) == {r[0] for r in over}
    orphans = q.rows("SELECT m.id FROM money_flow m WHERE NOT EXISTS (SELECT 1 FROM arrangement a "
                     "WHERE a.fund_id = m.fund_id AND a.project_id = m.project_id)")
    assert found(got, funds.PROBLEM_FLOW_WITHOUT_ARRANGEMENT) == {str(r[0]) for r in orphans}
    spent_row = got[got["problem"] == funds.PROBLEM_SPENT_OVER_PAID].iloc[0]
    pid = spent_row["object_id"]
    assert spent_row["amount"] == q.scalar("SELECT SUM(amount) FROM money_flow WHERE project_id = :p AND kind = '支出'",
                                           p=pid)
    assert spent_row["compared_to"] == q.scalar(
        "SELECT SUM(amount) FROM money_flow WHERE project_id = :p AND kind = '拨付'", p=pid)


@pytest.mark.parametrize("year", YEARS)
def test_data_problems_by_year_and_scope(registry_engine, q, year):
    for scope in scopes(q, year):
        got = funds.data_problems(registry_engine, scope, year)
        ids = project_ids_sql(q, scope, year)
        if scope.level == "county":
            no_place = {r[0] for r in q.rows(NO_PLACE_SQL + " AND year = :y", pre=scope.prefix + "%", y=year)}
        else:
            no_place = set()
        assert found(got, funds.PROBLEM_NO_PLACE) == no_place
        assert found(got, funds.PROBLEM_SPENT_OVER_PAID) == {r[0] for r in q.rows(SPENT_OVER_PAID_SQL)} & ids


# ---- one project --------------------------------------------------------------------------


def test_project_pages_queries(registry_engine, q, demo_summary):
    problems = demo_summary["problems"]
    normal = q.scalar("SELECT project_id FROM project WHERE region_code LIKE '%2__' AND year = 2025 "
                      "ORDER BY budget DESC LIMIT 1")
    for pid in (normal, problems["no_place"][0], problems["spent_over_paid"][0]):
        county_code, region_code = q.rows("SELECT county_code, region_code FROM project WHERE project_id = :p",
                                          p=pid)[0]
        got = funds.project_detail(registry_engine, Scope.of(county_code), pid, AS_OF, 90)
        assert got is not None and got["project_id"] == pid
        arranged = int(q.scalar("SELECT COALESCE(SUM(amount), 0) FROM arrangement WHERE project_id = :p", p=pid))
        paid, spent = (int(q.scalar("SELECT COALESCE(SUM(amount), 0) FROM money_flow WHERE project_id = :p "
                                    "AND kind = :k", p=pid, k=k)) for k in ("拨付", "支出"))
        assert (got["arranged"], got["paid"], got["spent"]) == (arranged, paid, spent)
        assert got["paid_rate"] == rate(paid, arranged) and got["spent_rate"] == rate(spent, arranged)
        moves = funds.project_money(registry_engine, Scope.of(county_code), pid)
        n_moves = q.scalar("SELECT COUNT(*) FROM arrangement WHERE project_id = :p", p=pid) + \
            q.scalar("SELECT COUNT(*) FROM money_flow WHERE project_id = :p", p=pid)
        assert len(moves) == n_moves
        assert moves.loc[moves["kind"] == "支出", "amount"].sum() == spent
        assert moves.loc[moves["kind"] == "安排", "amount"].sum() == arranged
        dates = [d for d in moves["date"]]
        assert dates == sorted(dates)
        people = funds.project_beneficiaries(registry_engine, Scope.of(county_code), pid)
        listed = {r[0] for r in q.rows("SELECT b.hh_id FROM project_beneficiary b JOIN household h "
                                       "ON h.hh_id = b.hh_id WHERE b.project_id = :p", p=pid)}
        assert set(people["hh_id"]) == listed
        assert "id_number" not in people.columns
        if region_code is None:
            assert got["place_name"] == "地点缺失" and people.empty
        else:
            assert funds.project_detail(registry_engine, Scope.of(region_code), pid) is not None
            other = q.scalar("SELECT code FROM region WHERE level = 'town' AND code NOT LIKE :p ORDER BY code",
                             p=region_code[:9] + "%")
            assert funds.project_detail(registry_engine, Scope.of(other), pid) is None
            assert funds.project_money(registry_engine, Scope.of(other), pid).empty
            assert funds.project_beneficiaries(registry_engine, Scope.of(other), pid).empty
    late = funds.project_detail(registry_engine, Scope.of(county_code), problems["spent_over_paid"][0], AS_OF, 90)
    assert late["idle_amount"] == 0  # everything paid is spent (and more)


@pytest.mark.parametrize("year", FEW_YEARS)
def test_a_city_and_the_province_count_every_project_of_their_counties(registry_engine, q, year):
    """A project placed at a town or a county has no village code: a city or the province counts it all the same,
    so that its figure is the sum of its counties' (a range on village_code left it out)."""
    counties = [r[0] for r in q.rows("SELECT code FROM region WHERE level = 'county' ORDER BY code")]
    wider = [r[0] for r in q.rows("SELECT code FROM region WHERE level IN ('province', 'city') ORDER BY code")]
    assert wider and q.scalar("SELECT COUNT(*) FROM project WHERE year = :y AND village_code IS NULL", y=year) > 0
    per_county = {c: funds.totals(registry_engine, Scope.of(c), year)["projects"] for c in counties}
    for code in wider:
        scope = Scope.of(code)
        want = q.scalar("SELECT COUNT(*) FROM project WHERE year = :y AND county_code LIKE :p",
                        y=year, p=scope.prefix + "%")
        assert funds.totals(registry_engine, scope, year)["projects"] == want
        assert want == sum(n for c, n in per_county.items() if c.startswith(scope.prefix))
        assert len(funds.projects(registry_engine, scope, year, AS_OF)) == want
