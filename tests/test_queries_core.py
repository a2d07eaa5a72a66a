"""Overview, places, fund and monitoring totals checked against independent SQL."""

import datetime as dt

import pytest

from data_access.queries import common, funds, monitoring, overview, places, villages
from tests.helpers import MEMBERS_AT, hround, like, one, population_at, scopes, year_end

YEARS = (2014, 2016, 2018, 2020, 2026)


@pytest.mark.parametrize("year", YEARS)
def test_headline_matches_sql(registry_engine, year):
    for scope in scopes(registry_engine):
        got = overview.headline(registry_engine, scope, year)
        base = "FROM household h WHERE kind='建档立卡户' AND identified_year <= :y AND village_code LIKE :p"
        at = {"y": year, "p": like(scope), "end": year_end(year)}  # people: members at the year's end
        reg = one(registry_engine, f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}),0) {base}", **at)
        exited = one(registry_engine, f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}),0) {base} "
                     "AND exit_year <= :y AND (returned_year IS NULL OR returned_year > :y)", **at)
        returned = one(registry_engine, f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}),0) {base} "
                       "AND returned_year <= :y", **at)
        persons = one(registry_engine, "SELECT COUNT(*) FROM person p JOIN household h ON h.hh_id = p.hh_id "
                      "WHERE h.kind='建档立卡户' AND h.identified_year <= :y AND h.village_code LIKE :p "
                      "AND p.birth_year <= :y AND (p.join_date IS NULL OR p.join_date <= :end) "
                      "AND (p.leave_date IS NULL OR p.leave_date > :end)", **at)[0]
        rural = population_at(registry_engine, scope.prefix, year)
        villages = one(registry_engine, "SELECT COUNT(*) FROM region WHERE level='village' AND code LIKE :p "
                       "AND is_poor_village = :t", p=like(scope), t=True)[0]
        villages_out = one(registry_engine, "SELECT COUNT(*) FROM region WHERE level='village' AND code LIKE :p "
                           "AND is_poor_village = :t AND poor_village_exit_year <= :y",
                           p=like(scope), t=True, y=year)[0]

        assert (got["registered_households"], got["registered_persons"]) == tuple(reg)
        assert got["registered_persons"] == persons  # the same people, joined to their households
        assert (got["exited_households"], got["exited_persons"]) == tuple(exited)
        assert (got["returned_households"], got["returned_persons"]) == tuple(returned)
        assert got["not_exited_households"] == reg[0] - exited[0] - returned[0]
        assert got["poor_persons"] == reg[1] - exited[1]
        assert got["rural_population"] == rural
        assert got["incidence"] == (hround(100 * (reg[1] - exited[1]) / rural, 2) if rural else None)
        assert (got["poor_villages"], got["poor_villages_exited"]) == (villages, villages_out)


def test_yearly_exits_targets_and_incidence(registry_engine):
    county = scopes(registry_engine)[0]
    df = common.yearly(registry_engine, county, 2014, 2026)
    assert list(df["year"]) == list(range(2014, 2027))
    for row in df.itertuples():
        exits = one(registry_engine, f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}),0) FROM household h "
                    "WHERE kind='建档立卡户' AND exit_year = :y AND county_code = :c", y=row.year, c=county.code,
                    end=year_end(row.year))
        assert (row.exited_households, row.exited_persons) == tuple(exits)
        target = one(registry_engine, "SELECT COUNT(*), MAX(households), MAX(persons) FROM exit_target "
                     "WHERE region_code = :c AND year = :y", c=county.code, y=row.year)
        if target[0]:
            assert (row.target_households, row.target_persons) == (target[1], target[2])
        else:
            assert row.target_households is None or row.target_households != row.target_households  # NaN
        head = overview.headline(registry_engine, county, row.year)
        assert row.poor_persons == head["poor_persons"]
        assert row.incidence == head["incidence"]
    assert df["exited_households"].sum() > 0


def test_child_ranking_sums_to_parent(registry_engine):
    """The overview's ranking (villages.child_indicators, sorted by the component) adds up to the parent."""
    county, town, _ = scopes(registry_engine)
    for scope in (county, town):
        df = villages.child_indicators(registry_engine, scope, 2018, dt.date(2026, 10, 31))
        n_children = one(registry_engine, "SELECT COUNT(*) FROM region WHERE parent_code = :c", c=scope.code)[0]
        assert len(df) == n_children
        head = overview.headline(registry_engine, scope, 2018)
        assert df["registered_households"].sum() == head["registered_households"]
        assert df["poor_persons"].sum() == head["poor_persons"]
        assert df["rural_population"].sum() == head["rural_population"]


def test_places(registry_engine):
    county, town, village = scopes(registry_engine)
    assert places.region_info(registry_engine, town)["level"] == "town"
    chain = places.lineage(registry_engine, village.code)
    assert [r["code"] for r in chain][-3:] == [county.code, town.code, village.code]
    kids = places.children(registry_engine, town)
    assert set(kids["level"]) == {"village"} and village.code in set(kids["code"])
    tree = places.region_tree(registry_engine, county)
    n = one(registry_engine, "SELECT COUNT(*) FROM region WHERE code LIKE :p AND level IN ('county','town','village')",
            p=like(county))[0]
    assert len(tree) == n
    geo = places.geometries(registry_engine, town, "village")
    assert len(geo) == len(kids) and geo["geometry"].notna().all()
    assert places.default_scope_code(registry_engine) == county.code
    first, last = places.year_range(registry_engine, county)
    assert first == one(registry_engine, "SELECT MIN(identified_year) FROM household")[0]
    assert last == int(places.data_meta(registry_engine)["data_as_of"][:4])


@pytest.mark.parametrize("year", (2016, 2019, 2026))
def test_fund_totals(registry_engine, year):
    county, town, _ = scopes(registry_engine)
    got = funds.totals(registry_engine, county, year)
    allocated = int(one(registry_engine, "SELECT COALESCE(SUM(amount),0) FROM fund WHERE county_code=:c AND year=:y",
                        c=county.code, y=year)[0])
    arranged = int(one(registry_engine, "SELECT COALESCE(SUM(a.amount),0) FROM arrangement a "
                   "JOIN fund f ON f.fund_id=a.fund_id "
                   "WHERE f.county_code=:c AND f.year=:y", c=county.code, y=year)[0])
    paid, spent = (int(one(registry_engine, "SELECT COALESCE(SUM(m.amount),0) FROM money_flow m "
                       "JOIN fund f ON f.fund_id=m.fund_id "
                       "WHERE f.county_code=:c AND f.year=:y AND m.kind=:k", c=county.code, y=year, k=k)[0])
                   for k in ("拨付", "支出"))
    assert (got["allocated"], got["arranged"], got["paid"], got["spent"]) == (allocated, arranged, paid, spent)
    assert got["paid_rate"] == (hround(100 * paid / allocated, 2) if allocated else None)
    assert got["spent_rate"] == (hround(100 * spent / allocated, 2) if allocated else None)
    t = funds.totals(registry_engine, town, year)
    t_arranged = one(registry_engine, "SELECT COALESCE(SUM(a.amount),0) FROM arrangement a JOIN project p ON "
                     "p.project_id=a.project_id WHERE p.town_code=:t AND p.year=:y", t=town.code, y=year)[0]
    assert t["allocated"] is None and t["arranged"] == t_arranged


@pytest.mark.parametrize("year", (2020, 2022, 2026))
def test_monitoring_totals(registry_engine, year):
    for scope in scopes(registry_engine):
        got = monitoring.totals(registry_engine, scope, year)
        end = dt.date(year, 12, 31)
        allrow = one(registry_engine, "SELECT COUNT(*), COALESCE(SUM(persons),0) FROM monitoring_object "
                     "WHERE village_code LIKE :p AND identified_date <= :d", p=like(scope), d=end)
        removed = one(registry_engine, "SELECT COUNT(*), COALESCE(SUM(persons),0) FROM monitoring_object "
                      "WHERE village_code LIKE :p AND identified_date <= :d AND removed_date <= :d",
                      p=like(scope), d=end)
        assert (got["households"], got["persons"]) == tuple(allrow)
        assert (got["removed_households"], got["removed_persons"]) == tuple(removed)
        if year == 2020:
            assert got["households"] == 0
