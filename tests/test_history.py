"""Past years counted as they were (issue 18, items 7 and 9), on SQLite and PostgreSQL, against independent SQL.

- People: a person counts in year Y only when a member at Y's end: born by then, joined by then (入户日期;
  blank = a member since identification) and not yet left (减员日期; blank = still a member). Every past-year
  person figure (建档立卡/已脱贫/未脱贫/返贫 人数, the incidence's numerator, household size, the per-area
  tables, the brief and the slides) counts those members; the as-of year counts today's members.
- The incidence's denominator is the year's own 农村户籍人口 (village_population); a village without a
  figure for the year takes its latest earlier year's, else the figure kept without a year.

The expected figures are computed here from the person rows' own dates and the population rows, never from
``member_count`` or the program's helpers.
"""

from __future__ import annotations

import datetime as dt

import pytest

from data_access import db, schema
from data_access.queries import causes, exits, households as hq, overview, villages
from data_access.report import brief, slides
from data_access.scope import Scope
from data_access.summary import read as summary
from data_access.summary.refresh import refresh
from tests.helpers import MEMBERS_AT, hround, like, pick_scopes, population_at, runner, year_end

AS_OF = dt.date(2026, 10, 31)

IN_REGISTRY = "h.kind = '建档立卡户' AND h.identified_year <= :y AND h.village_code LIKE :p"
STATES = {
    "registered": "1 = 1",
    "exited": "h.exit_year <= :y AND (h.returned_year IS NULL OR h.returned_year > :y)",
    "not_exited": "(h.exit_year IS NULL OR h.exit_year > :y) AND (h.returned_year IS NULL OR h.returned_year > :y)",
    "returned": "h.returned_year <= :y",
    "ever_exited": "h.exit_year <= :y",
}
POOR = f"(({STATES['not_exited']}) OR ({STATES['returned']}))"


def persons(q, scope, year: int, state: str) -> int:
    return int(q.scalar(f"SELECT COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE {IN_REGISTRY} AND ({state})",
                        y=year, end=year_end(year), p=like(scope)))


def population(q, scope, year: int) -> int:
    return population_at(q, scope.prefix, year)


def incidence(q, scope, year: int) -> float | None:
    rural = population(q, scope, year)
    return hround(100 * persons(q, scope, year, POOR) / rural, 2) if rural else None


@pytest.fixture(scope="module")
def places(registry_engine) -> dict[str, str]:
    return pick_scopes(registry_engine)


def test_the_demo_has_people_who_were_not_members_in_2014(q):
    """Otherwise the checks below could not tell today's members from 2014's."""
    later = q.scalar(f"SELECT COUNT(*) FROM person p JOIN household h ON h.hh_id = p.hh_id WHERE {IN_REGISTRY} "
                     "AND p.leave_date IS NULL AND (p.birth_date > :end OR p.join_date > :end)",
                     y=2014, end=year_end(2014), p="%")
    gone = q.scalar(f"SELECT COUNT(*) FROM person p JOIN household h ON h.hh_id = p.hh_id WHERE {IN_REGISTRY} "
                    "AND p.leave_date > :end AND p.birth_date <= :end", y=2014, end=year_end(2014), p="%")
    assert later > 100 and gone > 10
    years = q.rows("SELECT village_code, COUNT(DISTINCT population) FROM village_population GROUP BY village_code")
    assert years and all(n > 1 for _, n in years)  # the denominator moves from year to year


@pytest.mark.parametrize("year", [2014, 2017, 2026])
@pytest.mark.parametrize("which", ["county", "town", "village"])
def test_headline_people_are_the_members_at_the_years_end(registry_engine, q, places, which, year):
    scope = Scope.of(places[which])
    head = overview.headline(registry_engine, scope, year)
    for key, state in STATES.items():
        assert head[f"{key}_persons"] == persons(q, scope, year, state), key
    assert head["poor_persons"] == persons(q, scope, year, POOR)
    assert head["rural_population"] == population(q, scope, year)
    assert head["incidence"] == incidence(q, scope, year)


def test_the_as_of_year_counts_todays_members(registry_engine, q):
    scope = Scope.of(q.scalar("SELECT code FROM region WHERE level = 'county'"))
    today = q.scalar("SELECT SUM(member_count) FROM household WHERE kind = '建档立卡户' AND identified_year <= 2026")
    assert overview.headline(registry_engine, scope, AS_OF.year)["registered_persons"] == today


def test_summaries_and_base_tables_agree(registry_url, cloner, q, places):
    """A stale summary falls back to the base tables (rules.members_at on household): the same figures."""
    engine = db.get_engine(cloner(registry_url, "history"))
    scope = Scope.of(places["county"])
    assert summary.smallest_households(engine, scope) is not schema.household
    fresh = {y: overview.headline(engine, scope, y) for y in (2014, 2018)}
    fresh_yearly = exits.progress(engine, scope, 2014, 2020)
    runner(engine).execute("UPDATE meta SET value = 'stale' WHERE key = 'summary_version'")
    assert summary.smallest_households(engine, scope) is schema.household
    assert {y: overview.headline(engine, scope, y) for y in (2014, 2018)} == fresh
    assert exits.progress(engine, scope, 2014, 2020).equals(fresh_yearly)
    refresh(engine)


def test_yearly_exits_and_incidence(registry_engine, q, places):
    scope = Scope.of(places["county"])
    df = exits.progress(registry_engine, scope, 2014, 2026).set_index("year")
    for year in (2014, 2016, 2019, 2026):
        assert df.loc[year, "poor_persons"] == persons(q, scope, year, POOR)
        assert df.loc[year, "rural_population"] == population(q, scope, year)
        assert df.loc[year, "incidence"] == incidence(q, scope, year)
        assert df.loc[year, "cum_exited_persons"] == persons(q, scope, year, STATES["ever_exited"])
        exited_that_year = q.scalar(f"""SELECT COALESCE(SUM({MEMBERS_AT}), 0) FROM household h
            WHERE h.kind = '建档立卡户' AND h.exit_year = :y AND h.village_code LIKE :p""",
                                    y=year, end=year_end(year), p=like(scope))
        assert df.loc[year, "exited_persons"] == exited_that_year


def test_incidence_by_township_and_poor_village(registry_engine, q, places):
    county, town = Scope.of(places["county"]), Scope.of(places["town"])
    df = exits.child_incidence(registry_engine, county, 2015, 2016)
    for row in df.to_dict("records"):
        child = Scope.of(row["code"])
        assert row["poor_persons"] == persons(q, child, row["year"], POOR)
        assert row["rural_population"] == population(q, child, row["year"])
        assert row["incidence"] == incidence(q, child, row["year"])
    for row in exits.poor_villages(registry_engine, town, 2015).to_dict("records"):
        village = Scope.of(row["code"])
        assert (row["poor_persons"], row["rural_population"]) == (
            persons(q, village, 2015, POOR), population(q, village, 2015))


def test_village_map_and_village_file(registry_engine, q, places):
    town, village = Scope.of(places["town"]), Scope.of(places["village"])
    table = villages.indicators(registry_engine, town, 2016, AS_OF).set_index("code")
    for code in list(table.index)[:6]:
        v = Scope.of(code)
        row = table.loc[code]
        assert row["registered_persons"] == persons(q, v, 2016, STATES["registered"])
        assert row["not_exited_persons"] == persons(q, v, 2016, STATES["not_exited"])
        assert row["rural_population"] == population(q, v, 2016)
        assert row["incidence"] == incidence(q, v, 2016)
    ranking = villages.child_indicators(registry_engine, Scope.of(places["county"]), 2016, AS_OF).set_index("code")
    assert ranking.loc[town.code, "registered_persons"] == persons(q, town, 2016, STATES["registered"])
    assert ranking.loc[town.code, "rural_population"] == population(q, town, 2016)
    states = villages.yearly_states(registry_engine, village, 2014, 2026).set_index("year")
    for year in (2014, 2018, 2026):
        assert states.loc[year, "registered_persons"] == persons(q, village, year, STATES["registered"])
        assert states.loc[year, "rural_population"] == population(q, village, year)


def test_household_size_of_a_past_year(registry_engine, q, places):
    """The village file's and the query page's 家庭人口 of 2017 exclude a child born later."""
    village = Scope.of(places["village"])
    sizes = dict(q.rows(f"SELECT h.hh_id, {MEMBERS_AT} FROM household h WHERE h.village_code LIKE :p",
                        end=year_end(2017), p=like(village)))
    shown = villages.households(registry_engine, village, 2017).set_index("hh_id")["member_count"]
    assert {k: int(v) for k, v in shown.items()} == sizes
    assert any(sizes[k] != n for k, n in q.rows("SELECT hh_id, member_count FROM household WHERE village_code LIKE :p",
                                                p=like(village)))
    f = hq.HouseholdFilter(identified_year=(None, 2017))
    counted = hq.count_households(registry_engine, village, f, 2017)
    on_books = {r[0] for r in q.rows(f"SELECT h.hh_id FROM household h WHERE {IN_REGISTRY}", y=2017, p=like(village))}
    assert counted["persons"] == sum(n for k, n in sizes.items() if k in on_books)


def test_cause_mix_of_a_past_year(registry_engine, q, places):
    scope = Scope.of(places["county"])
    mix = causes.cause_mix(registry_engine, scope, 2015).set_index("cause")
    expected = dict(q.rows(f"SELECT COALESCE(h.main_cause, '未填写'), SUM({MEMBERS_AT}) FROM household h "
                           f"WHERE {IN_REGISTRY} GROUP BY COALESCE(h.main_cause, '未填写')",
                           y=2015, end=year_end(2015), p=like(scope)))
    assert {k: int(v) for k, v in mix["persons"].items()} == {k: int(v) for k, v in expected.items()}


def test_brief_and_slides_say_the_past_years_figures(registry_engine, q, places):
    scope = Scope.of(places["county"])
    facts = brief.brief_facts(registry_engine, scope, 2016, 2014)
    households = q.scalar(f"SELECT COUNT(*) FROM household h WHERE {IN_REGISTRY}", y=2016, p=like(scope))
    text = brief.brief_paragraph(facts)
    assert f"累计识别建档立卡贫困户{households:,}户{persons(q, scope, 2016, STATES['registered']):,}人" in text
    then, now = incidence(q, scope, 2014), incidence(q, scope, 2016)
    verb = "降至" if now < then else "升至" if now > then else "保持在"
    assert f"贫困发生率由2014年的{then:.2f}%{verb}2016年底的{now:.2f}%" in text
    said = "".join(slides.exits_lines(facts))
    assert f"{persons(q, scope, 2016, STATES['exited']):,}人" in said


def test_a_missing_year_takes_the_latest_earlier_one(registry_url, cloner, places):
    engine = db.get_engine(cloner(registry_url, "population"))
    run = runner(engine)
    town = Scope.of(places["town"])
    first, second = [r[0] for r in run.rows("SELECT code FROM region WHERE level = 'village' AND parent_code = :t "
                                             "ORDER BY code LIMIT 2", t=town.code)]
    run.execute("DELETE FROM village_population WHERE village_code = :v AND year IN (2016, 2017)", v=first)
    run.execute("DELETE FROM village_population WHERE village_code = :v", v=second)
    run.execute("UPDATE meta SET value = :v WHERE key = 'data_version'", v="population-test")
    earlier = run.scalar("SELECT population FROM village_population WHERE village_code = :v AND year = 2015", v=first)
    undated = run.scalar("SELECT rural_population FROM region WHERE code = :v", v=second)
    table = villages.indicators(engine, town, 2017, AS_OF).set_index("code")
    assert table.loc[first, "rural_population"] == earlier
    assert table.loc[second, "rural_population"] == undated
    assert overview.headline(engine, town, 2017)["rural_population"] == population(run, town, 2017)


def test_an_older_database_is_upgraded_and_counts_as_before(registry_url, cloner, places):
    """A database made before the membership dates and village_population: upgrade adds them blank; then
    everyone is a member throughout (except the not yet born) and every year uses region.rural_population."""
    engine = db.get_engine(cloner(registry_url, "upgrade"))
    run = runner(engine)
    run.execute("DELETE FROM person WHERE leave_date IS NOT NULL")  # an older database knew no former members
    run.execute("DROP TABLE village_population")
    run.execute("UPDATE meta SET value = 'old' WHERE key = 'summary_version'")
    for column in ("join_date", "leave_date", "leave_reason"):
        run.execute(f"ALTER TABLE person DROP COLUMN {column}")
    added = db.upgrade_schema(engine)
    assert set(added) == {"person.join_date", "person.leave_date", "person.leave_reason", "village_population"}
    assert db.upgrade_schema(engine) == []
    db.check_database(engine)
    scope = Scope.of(places["county"])
    head = overview.headline(engine, scope, 2014)
    born = run.scalar(f"SELECT COALESCE(SUM((SELECT COUNT(*) FROM person p WHERE p.hh_id = h.hh_id "
                      f"AND p.birth_date <= :end)), 0) FROM household h WHERE {IN_REGISTRY}",
                      y=2014, end=year_end(2014), p=like(scope))
    assert head["registered_persons"] == born
    assert head["rural_population"] == run.scalar(
        "SELECT SUM(rural_population) FROM region WHERE level = 'village' AND code LIKE :p", p=like(scope))


# ---- the importer reads the membership dates and the population by year ----------------------------------------


def test_import_reads_membership_dates_and_population_by_year(clone):
    from data_access.importer import samples as S
    from tests.helpers import errors, run, village_scope

    run_sql = runner(clone)
    village = village_scope(clone)
    headers, rows = S.sheet_from_db(clone, "persons", village)
    c = {h: i for i, h in enumerate(headers)}
    rows = [r for r in rows if not r[c["减员日期"]]]
    by_hh: dict[str, list] = {}
    for r in rows:
        by_hh.setdefault(r[c["户编号"]], []).append(r)
    hh_id, members = next((h, rs) for h, rs in by_hh.items() if len(rs) >= 3 and all(  # members long before 2017
        not r[c["入户日期"]] and str(r[c["出生日期"]])[:4] <= "2010" for r in rs))
    leaver, joiner = [r for r in members if r[c["与户主关系"]] != "户主"][:2]
    # the usual header variants: 增员日期 / 减员时间 / 减少原因, a synonym in the reason
    renamed = [{"入户日期": "增员日期", "减员日期": "减员时间", "减员原因": "减少原因"}.get(h, h) for h in headers]
    leaver[c["减员日期"]], leaver[c["减员原因"]] = "2019-06-30", "去世"
    joiner[c["入户日期"]] = "2018-03-01"
    for r in members:
        r[c["人数"]] = len(members) - 1
    population = [[village.code, 2014, 1234], [village.code, 2019, 1111]]
    book = S.xlsx_bytes([("人员", renamed, members), ("农村户籍人口", ["行政村代码", "年份", "农村人口"], population)])
    result = run(clone, [("变更.xlsx", book)])
    assert errors(result) == []
    stored = {r[0]: r[1:] for r in run_sql.rows(
        "SELECT person_id, join_date, leave_date, leave_reason FROM person WHERE hh_id = :h", h=hh_id)}
    assert [str(v)[:10] if v else v for v in stored[leaver[c["人编号"]]]] == [None, "2019-06-30", "死亡"]
    assert str(stored[joiner[c["人编号"]]][0])[:10] == "2018-03-01"
    assert all(v[1] is None for k, v in stored.items() if k != leaver[c["人编号"]])  # blank: still a member
    assert run_sql.scalar("SELECT member_count FROM household WHERE hh_id = :h", h=hh_id) == len(members) - 1
    assert dict(run_sql.rows("SELECT year, population FROM village_population WHERE village_code = :v AND year "
                             "IN (2014, 2019)", v=village.code)) == {2014: 1234, 2019: 1111}
    # 2018: the leaver still a member, the joiner already; 2017: not the joiner; 2020: not the leaver
    sizes = {y: int(villages.households(clone, village, y).set_index("hh_id").loc[hh_id, "member_count"])
             for y in (2017, 2018, 2020)}
    assert sizes == {2017: len(members) - 1, 2018: len(members), 2020: len(members) - 1}
    assert overview.headline(clone, village, 2019)["rural_population"] == 1111
