"""Summary tables (data_access.summary: read, refresh): same figures as the base tables, never used when stale,
rebuilt on import.

Each test works on its own demo database (seed 29, never the shared seed-7 one) because it writes meta.
(a) every summary-backed query gives exactly what the same function gives on the base tables (summary
marked stale), for several scopes and years, on SQLite and PostgreSQL; (b) a summary whose version is not
the data version is not read (we make its rows wrong on purpose and bump data_version: the figures are
right again); (c) after an import the summaries are rebuilt and the figures follow the new data.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from data_access import db
from data_access.summary import read as summary
from data_access.summary import refresh as summary_refresh
from data_access.summary.refresh import refresh
from data_access.importer import samples as S, run as importer
from data_access.queries import help as help_q
from tests.helpers import MEMBERS_AT, year_end
from data_access.queries import (
    causes, common, consolidation, exits, funds, households, monitoring, overview, places, villages,
)
from data_access.rules import month_end_windows, visit_period, window
from data_access.scope import Scope, ScopeError

SEED = 29
AS_OF = dt.date(2026, 10, 31)

# (function, extra args) per scope and year: every function that reads a summary.
CALLS = [
    (overview.registry_counts, lambda y: (y,)),
    (common.yearly, lambda y: (2014, y)),
    (causes.cause_mix, lambda y: (y,)),
    (causes.cause_cube, lambda y: (y,)),
    (causes.cause_by_child, lambda y: (y,)),
    (causes.cause_by_attribute, lambda y: (y,)),
    (causes.cause_by_status, lambda y: (y,)),
    (causes.cause_by_identified_year, lambda y: (y,)),
    (causes.cause_combinations, lambda y: (y,)),
    (causes.other_cause_counts, lambda y: (y,)),
    (exits.child_incidence, lambda y: (2014, y)),
    (exits.poor_villages, lambda y: (y,)),
    (exits.exit_pipeline, lambda y: (y, 2020)),
    (villages.indicators, lambda y: (y, AS_OF)),
    (villages.child_indicators, lambda y: (y, AS_OF)),
    (exits.near_line, lambda y: (y, 10.0)),
    (exits.near_line, lambda y: (y, 60.0)),
    (exits.near_line, lambda y: (y, 5.0)),
    (exits.near_line, lambda y: (y, 10.0, 3, 2)),  # a page past the first
    (consolidation.policy_split, lambda y: (y,)),
    (consolidation.returned_outside_count, lambda y: (y,)),
    (consolidation.returned_outside_monitoring, lambda y: (y,)),
    (consolidation.returned_outside_monitoring, lambda y: (y, 1)),  # the first row only
    (monitoring.income_warnings, lambda y: (y, 10)),
    (monitoring.income_warnings, lambda y: (y, 5, 3)),
    (monitoring.income_warnings, lambda y: (y, 30)),  # above the near-line cover
    (monitoring.health_warnings, lambda y: (y, 10)),
    (exits.unmet_guarantees, lambda y: (y,)),
    (common.yearly, lambda y: (y, y)),
    (exits.progress, lambda y: (2014, y)),
    (villages.yearly_states, lambda y: (2014, y)),
    (villages.yearly_states, lambda y: (2013, 2016)),  # a year before the first: the base tables
    (households.helper_options, lambda y: ()),
    (places.year_range, lambda y: ()),
    (help_q.measures, lambda y: (2014, y)),
    (help_q.measure_span, lambda y: ()),
    (help_q.cause_match, lambda y: (y,)),
    (help_q.visit_span, lambda y: ()),
    (help_q.visit_rates, lambda y: (PAGE_PERIODS, "total")),
    (help_q.visit_rates, lambda y: (PAGE_PERIODS, "child")),
    (help_q.visit_rates, lambda y: (PAGE_PERIODS, "unit")),
    (help_q.visit_rates, lambda y: (month_end_windows(AS_OF, 90), "child")),
    (help_q.visit_rates, lambda y: ((visit_period(min(y, AS_OF.year), AS_OF),), "unit")),
    (help_q.households_without_visit, lambda y: (AS_OF, 90)),
    (help_q.households_without_visit, lambda y: (AS_OF, 400, 5000)),  # every row, not only the top 200
    (help_q.cadres_without_visit, lambda y: (AS_OF, 90)),
    (help_q.cadres_without_visit, lambda y: (AS_OF, 30, 5000)),
    (monitoring.health_warnings, lambda y: (y, 30, 5000)),
    (consolidation.latest_income_year, lambda y: (y,)),
    (consolidation.exited_income, lambda y: (y,)),
    (consolidation.exited_workers, lambda y: (y,)),
    (consolidation.income_series, lambda y: (2014, y)),
    (overview.headline, lambda y: (y,)),
    (overview.village_counts, lambda y: (y,)),
    (common.rural_population, lambda y: (y,)),
    (consolidation.help_coverage, lambda y: (y,)),
    (villages.yearly_states, lambda y: (2014, 2014)),
    (households.query_page, lambda y: (households.HouseholdFilter(), y)),
    (households.query_page, lambda y: (households.HouseholdFilter(main_cause=("因病",), status=("已脱贫",)), y)),
    (households.query_page, lambda y: (households.HouseholdFilter(
        attribute=("一般贫困户",), identified_year=(2015, None), exit_year=(None, 2019), sort="-member_count"), y)),
    (households.query_page, lambda y: (households.HouseholdFilter(status=("返贫",), page=3, page_size=10), y)),
    (exits.not_exited_list, lambda y: (y,)),
    (exits.not_exited_list, lambda y: (y, 3, 2)),  # a page past the first: the villages narrowed
    (exits.not_exited_list, lambda y: (y, 5000)),
    (exits.returned_list, lambda y: (y,)),
    (exits.returned_list, lambda y: (y, 2, 3)),
    (exits.returned_list, lambda y: (y, 5, 100000)),  # past the last row
    # the money summaries (summary_money, summary_money_problem)
    (funds.totals, lambda y: (y,)),
    (funds.execution, lambda y: (y, None, None)),
    (funds.execution, lambda y: (y, "统筹整合财政涉农资金", "产业发展")),
    (funds.execution_by, lambda y: (y, "region", None, None)),
    (funds.execution_by, lambda y: (y, "source", None, "农村基础设施")),
    (funds.execution_by, lambda y: (y, "category", "统筹整合财政涉农资金", None)),
    (funds.projects, lambda y: (y, AS_OF, 90, None, None)),
    (funds.projects, lambda y: (y, dt.date(y, 9, 30), 60, "统筹整合财政涉农资金", None)),
    (funds.projects, lambda y: (y, dt.date(y, 12, 31), 0, None, "产业发展")),
    (funds.data_problems, lambda y: (y,)),
    (funds.data_problems, lambda y: (None,)),
    (exits.unmet_guarantees, lambda y: (y, 5000)),
    (exits.unmet_guarantees, lambda y: (y, 2, 2)),  # a page past the first
]
YEARS = (2015, 2018, 2020, 2026)
# Every year at the province; two per smaller scope, one of each era (the paths by scope do not depend on the year).
SCOPE_YEARS = {"province": YEARS, "county": (2020, 2026), "town": (2018, 2026), "village": (2015, 2026)}
# The help page's default periods at the as-of date (near 90 days and the 90 days before).
PAGE_PERIODS = (window(AS_OF, 90), window(AS_OF - dt.timedelta(days=90), 90))


@pytest.fixture(scope="module")
def private_url(registry_backend, make_db, cloner):
    """A private copy of the seed-29 small demo database (written by these tests)."""
    return cloner(make_db("small", SEED, backend=registry_backend), "summary_test")


@pytest.fixture
def engine(private_url):
    e = db.get_engine(private_url)
    refresh(e)
    return e


def scopes(engine) -> list[Scope]:
    with engine.connect() as conn:
        town = conn.execute(text("SELECT min(code) FROM region WHERE level = 'town'")).scalar()
        village = conn.execute(text("SELECT max(code) FROM region WHERE level = 'village'")).scalar()
        city = conn.execute(text("SELECT min(code) FROM region WHERE level = 'city'")).scalar()
        county = conn.execute(text("SELECT min(code) FROM region WHERE level = 'county'")).scalar()
        province = conn.execute(text("SELECT min(code) FROM region WHERE level = 'province'")).scalar()
    return [Scope.of(c) for c in (province, city, county, town, village)]


def mark_stale(engine) -> None:
    with engine.begin() as conn:
        db.bump_data_version(conn)


def same(a, b) -> None:
    """Equal; floats to 1e-6 (the income sums Σ 年人均纯收入 × 人 are float sums added in another order)."""
    if isinstance(a, pd.DataFrame):
        # some functions leave the row order to the database (no ORDER BY): compare as sets of rows
        cols = list(b.columns)
        assert list(a.columns) == cols
        a, b = (x.apply(lambda col: col.round(6) if col.dtype.kind == "f" else col) for x in (a, b))
        a, b = (x.astype(str).sort_values(cols).reset_index(drop=True) for x in (a, b))
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            same(a[key], b[key])
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-6)
    else:
        assert a == b


def results(engine) -> dict:
    out = {}
    for scope in scopes(engine):
        if scope.level == "city":  # the demo's one city holds the one county: the province covers that path
            continue
        for n, (fn, args) in enumerate(CALLS):
            # a call whose arguments do not depend on the year: once
            years = {repr(args(y)): y for y in SCOPE_YEARS[scope.level]}.values()
            for year in years:
                try:
                    out[(scope.code, n, year)] = fn(engine, scope, *args(year))
                except ScopeError as exc:  # a village has no children: the same refusal either way
                    out[(scope.code, n, year)] = ("ScopeError", str(exc))
    return out


def test_refresh_records_the_data_version_and_fills_the_tables(engine, sql):
    assert summary.fresh(engine)
    q = sql(engine)
    assert q.scalar("SELECT value FROM meta WHERE key = 'summary_version'") == \
        q.scalar("SELECT value FROM meta WHERE key = 'data_version'")
    assert q.scalar("SELECT sum(households) FROM summary_household") == q.scalar("SELECT count(*) FROM household")
    assert q.scalar("SELECT sum(member_count) FROM summary_household_cause") == \
        q.scalar("SELECT sum(member_count) FROM household")
    assert q.scalar("SELECT count(*) FROM summary_household") < q.scalar("SELECT count(*) FROM household")
    # one row per (household, other cause), or one for a household listing none
    assert q.scalar("SELECT sum(households) FROM summary_other_cause") == q.scalar(
        "SELECT count(*) FROM household h LEFT JOIN other_cause o ON o.hh_id = h.hh_id")


def test_summary_figures_equal_base_table_figures(engine):
    assert summary.households_for(engine, Scope.of(scopes(engine)[0].code)) is summary.household_summary
    assert summary.village_visits_for(engine, 2018, AS_OF) is summary.village_visit_summary
    assert summary.village_years_for(engine, (2014, 2026), exits=True) is summary.village_year_summary
    assert summary.village_years_for(engine, (2013,)) is None and summary.village_years_for(engine, (2027,)) is None
    assert summary.latest_income_for(engine, AS_OF.year) is summary.latest_income_summary
    assert summary.latest_income_for(engine, AS_OF.year - 1) is None
    assert summary.near_line_for(engine, scopes(engine)[0], 2018, 1.1) == (summary.near_line_summary,
                                                                         summary.near_line_judged_summary)
    assert summary.near_line_for(engine, scopes(engine)[0], AS_OF.year, 1.1) is not None
    assert summary.near_line_for(engine, scopes(engine)[0], 2018, 1.105) is None  # above the cover: the LATERAL
    assert summary.near_line_for(engine, scopes(engine)[3], 2018, 1.1) is None  # a town: the base tables
    assert summary.near_line_for(engine, scopes(engine)[3], 2018, 1.1, counts=False) is not None
    assert summary.policy_for(engine, scopes(engine)[2]) is summary.policy_summary
    assert summary.policy_for(engine, scopes(engine)[3]) is None
    assert summary.persons_for(engine, 2015) is summary.person_summary
    assert summary.helpers_for(engine) is summary.helper_summary
    assert summary.measures_for(engine, scopes(engine)[2]) is summary.measure_summary
    assert summary.measures_for(engine, scopes(engine)[3]) is None  # a town: the base table
    assert summary.help_windows_for(engine, scopes(engine)[0], PAGE_PERIODS, "child") is \
        summary.help_window_county_summary
    assert summary.help_windows_for(engine, scopes(engine)[2], PAGE_PERIODS, "child") is summary.help_window_summary
    assert summary.help_windows_for(engine, scopes(engine)[2], PAGE_PERIODS, "unit") is \
        summary.help_window_county_summary
    assert summary.help_windows_for(engine, scopes(engine)[0], ((AS_OF, AS_OF),), "child") is None
    assert summary.last_visits_for(engine, AS_OF) == (summary.household_last_visit_summary,
                                                      summary.cadre_last_visit_summary)
    assert summary.last_visits_for(engine, AS_OF - dt.timedelta(days=1)) is None
    assert summary.health_for(engine, AS_OF.year) is summary.health_summary
    assert summary.health_for(engine, AS_OF.year - 1) is None
    assert summary.guarantees_for(engine, AS_OF.year) is summary.guarantee_summary
    assert summary.populations_for(engine, scopes(engine)[0], (2014, 2026)) is summary.population_summary
    assert summary.populations_for(engine, scopes(engine)[3], (2018,)) is summary.population_summary
    assert summary.populations_for(engine, scopes(engine)[4], (2018,)) is None  # a village: the base tables
    assert summary.populations_for(engine, scopes(engine)[0], (2013,)) is None
    assert households._summary_totals(engine, scopes(engine)[0], households.HouseholdFilter(), 2018, 2018) is not None
    assert households._summary_totals(engine, scopes(engine)[3], households.HouseholdFilter(), 2018, 2018) is None
    with_summary = results(engine)
    mark_stale(engine)
    assert not summary.fresh(engine)
    assert summary.households_for(engine, scopes(engine)[0]).name == "household"
    base = results(engine)
    assert with_summary.keys() == base.keys()
    for key in base:
        same(with_summary[key], base[key])
    # the figures are not trivially empty
    province = scopes(engine)[0].code
    assert base[(province, 0, 2020)]["registered_households"] > 0
    assert len(base[(province, 3, 2020)]) > 0
    assert base[(province, 15, 2026)]["households"] > 0 and len(base[(province, 15, 2026)]["rows"]) > 0
    def first(fn):
        return next(i for i, (f, _) in enumerate(CALLS) if f is fn)

    for fn in (help_q.households_without_visit, help_q.cadres_without_visit, monitoring.health_warnings):
        got = base[(province, first(fn), 2026)]
        assert got["total"] > 0 and len(got["rows"]) > 0
    unmet = len(CALLS) - 1  # the last two: every row, then a page past the first
    assert base[(province, unmet - 1, 2026)]["households"] > 4 and len(base[(province, unmet, 2026)]["rows"]) == 2
    assert base[(province, first(funds.totals), 2020)]["arranged"] > 0
    assert len(base[(province, first(funds.projects), 2020)]) > 0
    query = first(households.query_page)
    assert all(len(base[(province, query + k, 2020)]["rows"]) > 0 for k in range(2))


def _corrupt(engine) -> None:
    """Make every summary wrong (while still marked fresh)."""
    with engine.begin() as conn:
        for table in summary.TABLES:
            if "households" in table.c:
                conn.execute(table.update().values(households=table.c.households + 1000))
        vs = summary.village_visit_summary
        conn.execute(vs.update().values(assigned_households=vs.c.assigned_households + 1000))
        vy = summary.village_year_summary
        conn.execute(vy.update().values(registered_households=vy.c.registered_households + 1000))
        pt = summary.population_summary
        conn.execute(pt.update().values(population=pt.c.population + 1000))
        mh = summary.monitoring_help_summary
        conn.execute(mh.update().values(records=mh.c.records + 1000))
        sm = summary.money_summary
        conn.execute(sm.update().values(arranged=sm.c.arranged + 1000, paid=sm.c.paid + 1000))
        mp = summary.money_problem_summary
        conn.execute(mp.update().values(spent=mp.c.paid + 1))  # 支出 over 拨付 on every flagged project


def test_a_stale_summary_is_never_read(engine, sql):
    province = scopes(engine)[0]
    true_counts = sql(engine).scalar(
        "SELECT count(*) FROM household WHERE kind = '建档立卡户' AND identified_year <= 2020")
    true_mix = causes.cause_mix(engine, province, 2020)["households"].sum()
    true_assigned = villages.indicators(engine, province, 2026, AS_OF)["assigned_households"].sum()
    assert true_assigned > 0
    assert overview.registry_counts(engine, province, 2020)["registered_households"] == true_counts
    true_policy = consolidation.policy_split(engine, province, AS_OF.year)["policy_households"]
    true_returned = consolidation.returned_outside_count(engine, province, AS_OF.year)
    true_unjudged = exits.near_line(engine, province, 2018, 10.0)["unjudged_households"]
    true_near = exits.near_line(engine, province, AS_OF.year, 10.0)["unjudged_households"]
    true_rural = overview.village_counts(engine, province, 2020)["rural_population"]
    true_helped = consolidation.help_coverage(engine, province, AS_OF.year)["helped_households"]
    assert true_rural > 0 and true_helped > 0
    true_money = funds.totals(engine, province, 2020)
    true_problems = funds.data_problems(engine, province, None)
    assert true_money["arranged"] > 0 and not true_problems.empty
    _corrupt(engine)
    assert funds.totals(engine, province, 2020)["arranged"] > true_money["arranged"]
    assert not funds.data_problems(engine, province, None).equals(true_problems)
    assert overview.village_counts(engine, province, 2020)["rural_population"] > true_rural
    assert consolidation.help_coverage(engine, province, AS_OF.year)["helped_households"] > true_helped
    # fresh, so read: the corruption shows (proves the summaries are what the queries use)
    assert overview.registry_counts(engine, province, 2020)["registered_households"] > true_counts
    assert consolidation.policy_split(engine, province, AS_OF.year)["policy_households"] > true_policy
    assert consolidation.returned_outside_count(engine, province, AS_OF.year) > true_returned
    assert exits.near_line(engine, province, 2018, 10.0)["unjudged_households"] < true_unjudged
    assert exits.near_line(engine, province, AS_OF.year, 10.0)["unjudged_households"] < true_near
    assert causes.cause_mix(engine, province, 2020)["households"].sum() > true_mix
    assert villages.indicators(engine, province, 2026, AS_OF)["assigned_households"].sum() > true_assigned
    # another as-of date than the one the visit summary was built for: computed from the base tables
    other_day = AS_OF - dt.timedelta(days=1)
    assert summary.village_visits_for(engine, 2026, other_day) is None
    assert summary.village_visits_for(engine, 2026, AS_OF) is summary.village_visit_summary
    mark_stale(engine)  # any write bumps data_version; the summary was not rebuilt
    assert overview.registry_counts(engine, province, 2020)["registered_households"] == true_counts
    assert consolidation.policy_split(engine, province, AS_OF.year)["policy_households"] == true_policy
    assert consolidation.returned_outside_count(engine, province, AS_OF.year) == true_returned
    assert exits.near_line(engine, province, 2018, 10.0)["unjudged_households"] == true_unjudged
    assert exits.near_line(engine, province, AS_OF.year, 10.0)["unjudged_households"] == true_near
    assert causes.cause_mix(engine, province, 2020)["households"].sum() == true_mix
    assert villages.indicators(engine, province, 2026, AS_OF)["assigned_households"].sum() == true_assigned
    assert overview.village_counts(engine, province, 2020)["rural_population"] == true_rural
    assert consolidation.help_coverage(engine, province, AS_OF.year)["helped_households"] == true_helped
    assert funds.totals(engine, province, 2020) == true_money
    pd.testing.assert_frame_equal(funds.data_problems(engine, province, None), true_problems)
    assert summary.village_visits_for(engine, 2026, AS_OF) is None
    # a database without summary_version (older files) reads the base tables too
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM meta WHERE key = 'summary_version'"))
    assert not summary.fresh(engine)
    assert overview.registry_counts(engine, province, 2020)["registered_households"] == true_counts


def test_refresh_after_an_import_updates_the_figures(engine, sql):
    county = scopes(engine)[2]
    q = sql(engine)
    hh_id, exit_year = q.rows(
        "SELECT hh_id, exit_year FROM household WHERE kind = '建档立卡户' AND exit_year = 2019 "
        "AND returned_year IS NULL ORDER BY hh_id LIMIT 1")[0]
    before = overview.registry_counts(engine, county, 2019)
    headers, rows = S.sheet_from_db(engine, "persons", county)
    c = {h: i for i, h in enumerate(headers)}
    mine = [r for r in rows if r[c["户编号"]] == hh_id]
    for r in mine:
        r[c["脱贫年度"]] = 2020  # exits a year later
    result = importer.run_import(engine, None, [("更正.xlsx", S.xlsx_bytes([("人员", headers, mine)]))],
                                 user="测试")
    assert result.errors == [] and result.written
    assert q.scalar("SELECT exit_year FROM household WHERE hh_id = :h", h=hh_id) == 2020
    assert summary.fresh(engine)  # rebuilt after the import
    after = overview.registry_counts(engine, county, 2019)
    members = q.scalar(f"SELECT {MEMBERS_AT} FROM household h WHERE h.hh_id = :h", h=hh_id, end=year_end(2019))
    assert after["exited_households"] == before["exited_households"] - 1
    assert after["not_exited_households"] == before["not_exited_households"] + 1
    assert after["exited_persons"] == before["exited_persons"] - members
    # and the summary's own rows agree with the base table
    assert q.scalar("SELECT sum(households) FROM summary_household WHERE exit_year = 2020") == \
        q.scalar("SELECT count(*) FROM household WHERE exit_year = 2020")


def test_cli_summarize(private_url, capsys):
    from data_access.__main__ import main

    assert main(["summarize", "--db", private_url]) == 0
    out = capsys.readouterr().out
    assert "summary_household" in out and "汇总表已更新" in out
    assert summary.fresh(db.get_engine(private_url))


def test_cadre_summary_is_not_used_when_a_pair_spans_two_villages(engine, sql):
    q = sql(engine)
    helper_id, hh_id, village = q.rows("SELECT helper_id, hh_id, village_code FROM assignment "
                                       "ORDER BY helper_id, hh_id")[0]
    other = q.scalar("SELECT min(code) FROM region WHERE level = 'village' AND code <> :v", v=village)
    q.execute("INSERT INTO assignment (helper_id, hh_id, start_date, end_date, village_code) "
              "VALUES (:c, :h, :d, NULL, :v)", c=helper_id, h=hh_id, d=dt.date(2001, 1, 1), v=other)
    with engine.begin() as conn:
        db.bump_data_version(conn)
    refresh(engine)
    assert summary.fresh(engine) and summary.helpers_for(engine) is None
    assert summary.last_visits_for(engine, AS_OF) is None  # that household is now assigned in two villages
    province = scopes(engine)[0]
    got = households.helper_options(engine, province)
    expected = dict(q.rows("SELECT helper_id, count(DISTINCT hh_id) FROM assignment GROUP BY helper_id"))
    assert dict(zip(got["helper_id"], got["households"])) == expected
    # summing the per-village rows would count that household twice for this cadre
    assert q.scalar("SELECT sum(households) FROM summary_helper_village WHERE helper_id = :c", c=helper_id) == \
        expected[helper_id] + 1


def test_help_summary_is_not_used_when_a_visit_lies_outside_the_assignment_town(engine, sql):
    q = sql(engine)
    helper_id, hh_id, village = q.rows("SELECT helper_id, hh_id, village_code FROM assignment ORDER BY hh_id")[0]
    other = q.scalar("SELECT min(code) FROM region WHERE level = 'village' AND substr(code, 1, 9) <> :t",
                     t=village[:9])
    province = scopes(engine)[0]
    before = help_q.visit_rates(engine, province, PAGE_PERIODS, "child")
    q.execute("INSERT INTO visit (helper_id, hh_id, village_code, visit_date, kind) "
              "VALUES (:c, :h, :v, :d, '入户走访')",
              c=helper_id, h=hh_id, v=other, d=AS_OF)
    with engine.begin() as conn:
        db.bump_data_version(conn)
    refresh(engine)
    assert summary.fresh(engine)
    assert summary.help_windows_for(engine, province, PAGE_PERIODS, "child") is None
    after = help_q.visit_rates(engine, province, PAGE_PERIODS, "child")
    # the household may now count as visited (a visit in the province): computed from the base tables
    assert after["visited_households"].sum() >= before["visited_households"].sum()


def test_summaries_of_another_layout_are_not_used(engine, sql):
    province = scopes(engine)[0]
    true_counts = overview.registry_counts(engine, province, 2020)
    _corrupt(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = 'older' WHERE key = 'summary_layout'"))
    assert not summary.fresh(engine)
    assert summary.latest_income_for(engine, AS_OF.year) is None
    assert summary.help_windows_for(engine, province, PAGE_PERIODS, "total") is None
    assert overview.registry_counts(engine, province, 2020) == true_counts
    refresh(engine)  # rebuilt with this program's layout: used again, and right
    assert summary.fresh(engine) and overview.registry_counts(engine, province, 2020) == true_counts


def test_a_rebuild_that_replaces_a_table_marks_the_summaries_not_built_before_it_drops_it(engine, sql):
    """A new program's rebuild replaces the tables whose columns changed, then fills them in one long
    transaction: meanwhile an app still running the old program must read the base tables, not a dropped or
    empty table (meta said 'built' until the rebuild committed, and 累计脱贫 read 0)."""
    province = scopes(engine)[0]
    true_counts = overview.registry_counts(engine, province, 2020)
    with engine.begin() as conn:  # the table as another program built it
        conn.execute(text("ALTER TABLE summary_household ADD COLUMN built_by_another_program INTEGER"))
    assert summary.fresh(engine)
    summary_refresh._drop_outdated(engine)
    assert not sql(engine).scalar("SELECT count(*) FROM meta WHERE key = 'summary_version' AND value <> ''")
    assert not summary.fresh(engine)
    assert overview.registry_counts(engine, province, 2020) == true_counts  # base tables, the table gone
    refresh(engine)
    assert summary.fresh(engine) and overview.registry_counts(engine, province, 2020) == true_counts


def test_yearly_exits_are_not_read_from_the_village_years_when_a_household_exits_before_identified(engine, sql):
    q = sql(engine)
    hh_id, exit_year = q.rows("SELECT hh_id, exit_year FROM household WHERE kind = '建档立卡户' "
                              "AND exit_year BETWEEN 2016 AND 2018 ORDER BY hh_id")[0]
    q.execute("UPDATE household SET identified_year = :y WHERE hh_id = :h", y=exit_year + 1, h=hh_id)
    with engine.begin() as conn:
        db.bump_data_version(conn)
    refresh(engine)
    assert summary.village_years_for(engine, (2014, 2020)) is summary.village_year_summary
    assert summary.village_years_for(engine, (2014, 2020), exits=True) is None
    province = scopes(engine)[0]
    got = common.yearly(engine, province, 2014, 2020)
    mark_stale(engine)
    same(got, common.yearly(engine, province, 2014, 2020))
    # the household counts among the year's exits because it is in the registry by 2020
    assert q.scalar("SELECT count(*) FROM household WHERE kind = '建档立卡户' AND exit_year = :y "
                    "AND identified_year <= 2020", y=exit_year) == \
        int(got.loc[got["year"] == exit_year, "exited_households"].iloc[0])
