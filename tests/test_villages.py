"""Per-village indicators and the village file's queries, checked against independent raw SQL
(LIKE on code prefixes, joins, hand counts) on the small demo database, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from data_access.queries import overview, villages
from data_access.scope import Scope
from tests.helpers import MEMBERS_AT, hround, population_at, year_end

AS_OF = dt.date(2026, 10, 31)


def scopes(q):
    county = q.scalar("SELECT code FROM region WHERE level='county' ORDER BY code")
    town = q.rows("SELECT code FROM region WHERE level='town' ORDER BY code")[1][0]
    village = q.rows("SELECT code FROM region WHERE level='village' AND parent_code=:t ORDER BY code", t=town)[-1][0]
    return [Scope.of(county), Scope.of(town), Scope.of(village)]


def rate(num, den, digits=2):
    return None if not den else hround(100.0 * num / den, digits)


def same(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and abs(float(a) - float(b)) < 1e-9


def expected_village(q, code: str, year: int) -> dict:
    """Every indicator of one village, counted by hand with raw SQL."""
    end = dt.date(year, 12, 31)
    start_v, end_v = (dt.date(2025, 11, 1), AS_OF) if year == AS_OF.year else (dt.date(year, 1, 1), end)
    reg = "FROM household h WHERE village_code=:v AND kind='建档立卡户' AND identified_year <= :y"
    registered = q.rows(f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}),0) {reg}", v=code, y=year, end=end)[0]
    exited = q.scalar(f"SELECT COUNT(*) {reg} AND exit_year <= :y AND (returned_year IS NULL OR returned_year > :y)",
                      v=code, y=year)
    exited_p = q.scalar(f"SELECT COALESCE(SUM({MEMBERS_AT}),0) {reg} AND exit_year <= :y "
                        "AND (returned_year IS NULL OR returned_year > :y)", v=code, y=year, end=end)
    returned_p = q.scalar(f"SELECT COALESCE(SUM({MEMBERS_AT}),0) {reg} AND returned_year <= :y", v=code, y=year,
                          end=end)
    registered, exited_p, returned_p = (int(registered[0]), int(registered[1])), int(exited_p), int(returned_p)
    not_exited_p = registered[1] - exited_p - returned_p
    rural = population_at(q, code, year)
    mon = q.rows("SELECT COUNT(*), SUM(CASE WHEN removed_date IS NULL OR removed_date > :d THEN 1 ELSE 0 END) "
                 "FROM monitoring_object WHERE village_code=:v AND identified_date <= :d", v=code, d=end)[0]
    # Households assigned at the period end, and those among them with a home visit in the period.
    assigned = {r[0] for r in q.rows(
        "SELECT hh_id FROM assignment WHERE village_code=:v AND start_date <= :e "
        "AND (end_date IS NULL OR end_date >= :e)",
        v=code, e=end_v)}
    visited = {r[0] for r in q.rows(
        "SELECT DISTINCT v.hh_id FROM visit v WHERE v.kind='入户走访' AND v.visit_date BETWEEN :s AND :e "
        "AND v.hh_id IN (SELECT hh_id FROM household WHERE village_code=:v)", v=code, s=start_v, e=end_v)}
    arranged = q.scalar("SELECT COALESCE(SUM(a.amount),0) FROM arrangement a "
                        "JOIN project p ON p.project_id=a.project_id "
                        "WHERE p.village_code=:v AND p.year=:y", v=code, y=year)
    mon_persons, new = q.rows(
        "SELECT COALESCE(SUM(persons),0), SUM(CASE WHEN identified_date >= :a THEN 1 ELSE 0 END) "
        "FROM monitoring_object WHERE village_code=:v AND identified_date <= :d", v=code, d=end,
        a=dt.date(year, 1, 1))[0]
    linkage = q.scalar("SELECT COALESCE(SUM(a.amount),0) FROM arrangement a JOIN project p "
                       "ON p.project_id=a.project_id "
                       "JOIN fund f ON f.fund_id=a.fund_id WHERE p.village_code=:v AND f.year=:y "
                       "AND f.source LIKE '%财政衔接推进乡村振兴补助资金'", v=code, y=year)
    cutoff = min(end, AS_OF)
    late = 0
    projects = q.rows("SELECT planned_end, actual_end FROM project WHERE village_code=:v AND year=:y", v=code, y=year)
    for planned, actual in projects:  # by hand, in Python
        planned = dt.date.fromisoformat(str(planned)) if planned else None
        actual = dt.date.fromisoformat(str(actual)) if actual else None
        if planned and planned < cutoff and (actual is None or actual > planned):
            late += 1
    return {
        "registered_households": registered[0], "registered_persons": registered[1],
        "exited_households": exited, "not_exited_persons": not_exited_p, "returned_persons": returned_p,
        "poor_persons": not_exited_p + returned_p, "rural_population": rural,
        "incidence": rate(not_exited_p + returned_p, rural), "exit_progress": rate(exited, registered[0]),
        "monitoring_households": mon[0], "monitoring_at_risk": mon[1] or 0, "monitoring_new": new or 0,
        "monitoring_share": rate(mon_persons, rural), "linkage_yuan": linkage,
        "linkage_arranged": hround(linkage / 10000, 2),
        "assigned_households": len(assigned), "visited_households": len(assigned & visited),
        "visit_rate": rate(len(assigned & visited), len(assigned)),
        "arranged": arranged, "funds_per_person": hround(arranged / registered[1], 2) if registered[1] else None,
        "projects": len(projects), "late_projects": late,
    }


@pytest.mark.parametrize("year", (2016, 2026))
def test_indicators_match_hand_counts(registry_engine, sql, year):
    q = sql(registry_engine)
    for scope in scopes(q):
        got = villages.indicators(registry_engine, scope, year, AS_OF)
        codes = [r[0] for r in q.rows("SELECT code FROM region WHERE level='village' AND code LIKE :p ORDER BY code",
                                      p=scope.prefix + "%")]
        assert list(got["code"]) == codes
        for rec in got.to_dict("records"):
            want = expected_village(q, rec["code"], year)
            for key, value in want.items():
                assert same(rec[key], value), (scope.code, rec["code"], year, key, rec[key], value)
    assert got is not None


def test_indicators_add_up_to_the_headline(registry_engine, sql):
    q = sql(registry_engine)
    county, town, _ = scopes(q)
    for scope in (county, town):
        for year in (2017, 2026):
            per_village = villages.indicators(registry_engine, scope, year, AS_OF)
            head = overview.headline(registry_engine, scope, year)
            assert per_village["registered_households"].sum() == head["registered_households"]
            assert per_village["not_exited_persons"].sum() == head["not_exited_persons"]
            assert per_village["poor_persons"].sum() == head["poor_persons"]
            assert per_village["is_poor_village"].sum() == head["poor_villages"]


def test_child_indicators(registry_engine, sql):
    q = sql(registry_engine)
    county, town, village = scopes(q)
    kids = villages.child_indicators(registry_engine, county, 2018, AS_OF)
    assert list(kids["code"]) == [r[0] for r in q.rows(
        "SELECT code FROM region WHERE parent_code=:c ORDER BY code", c=county.code)]
    for rec in kids.to_dict("records"):
        like = rec["code"][:9] + "%"
        n = q.scalar("SELECT COUNT(*) FROM region WHERE level='village' AND code LIKE :p", p=like)
        visited = q.scalar(
            "SELECT COUNT(DISTINCT a.hh_id) FROM assignment a WHERE a.village_code LIKE :p AND a.start_date <= :e "
            "AND (a.end_date IS NULL OR a.end_date >= :e) AND EXISTS (SELECT 1 FROM visit v WHERE v.hh_id=a.hh_id "
            "AND v.kind='入户走访' AND v.visit_date >= :s AND v.visit_date <= :e)",
            p=like, s=dt.date(2018, 1, 1), e=dt.date(2018, 12, 31))
        assert rec["villages"] == n and rec["visited_households"] == visited
        head = overview.headline(registry_engine, Scope.of(rec["code"]), 2018)  # the child's own overview
        assert rec["incidence"] == head["incidence"]
        assert rec["registered_households"] == head["registered_households"]
    in_town = villages.child_indicators(registry_engine, town, 2018, AS_OF)
    assert set(in_town["code"]) == {r[0] for r in q.rows("SELECT code FROM region WHERE parent_code=:t", t=town.code)}
    assert len(villages.child_indicators(registry_engine, village, 2018, AS_OF)) == 1


def test_era_child_indicators_equal_sql(registry_engine, sql):
    """2021–: the ranking's 监测对象占比, 本年新识别 and 衔接资金安排 per township, by independent SQL."""
    q = sql(registry_engine)
    county = scopes(q)[0]
    year = 2025
    kids = villages.child_indicators(registry_engine, county, year, AS_OF)
    for rec in kids.to_dict("records"):
        like = rec["code"][:9] + "%"
        rural = population_at(registry_engine, rec["code"][:9], year)  # the year's own 农村户籍人口
        persons, new = q.rows("SELECT COALESCE(SUM(persons),0), COUNT(CASE WHEN identified_date >= :a THEN 1 END) "
                              "FROM monitoring_object WHERE village_code LIKE :p AND identified_date <= :d",
                              p=like, a=dt.date(year, 1, 1), d=dt.date(year, 12, 31))[0]
        linkage = q.scalar("SELECT COALESCE(SUM(a.amount),0) FROM arrangement a JOIN project p "
                           "ON p.project_id=a.project_id JOIN fund f ON f.fund_id=a.fund_id WHERE p.village_code "
                           "LIKE :p AND f.year=:y AND f.source LIKE '%财政衔接推进乡村振兴补助资金'", p=like, y=year)
        assert same(rec["monitoring_share"], rate(persons, rural)), rec["code"]
        assert rec["monitoring_new"] == new and rec["linkage_yuan"] == linkage, rec["code"]
        assert same(rec["linkage_arranged"], hround(linkage / 10000, 2)), rec["code"]
    assert kids["linkage_yuan"].gt(0).any() and kids["monitoring_new"].gt(0).any()  # the test can fail
    assert kids["monitoring_share"].nunique() > 1


def test_yearly_states(registry_engine, sql):
    q = sql(registry_engine)
    for scope in scopes(q):
        df = villages.yearly_states(registry_engine, scope, 2014, 2026)
        assert list(df["year"]) == list(range(2014, 2027))
        for row in df.itertuples():
            head = overview.headline(registry_engine, scope, row.year)
            assert (row.registered_households, row.exited_persons, row.returned_persons, row.poor_persons) == (
                head["registered_households"], head["exited_persons"], head["returned_persons"], head["poor_persons"])
            assert row.incidence == head["incidence"]
        n = q.scalar(f"SELECT COALESCE(SUM({MEMBERS_AT}),0) FROM household h WHERE village_code LIKE :p "
                     "AND kind='建档立卡户' AND identified_year <= 2016 AND (exit_year IS NULL OR exit_year > 2016) "
                     "AND (returned_year IS NULL OR returned_year > 2016)", p=scope.prefix + "%", end=year_end(2016))
        assert df.set_index("year").loc[2016, "not_exited_persons"] == n


def test_households_list_is_masked_and_complete(registry_engine, sql):
    q = sql(registry_engine)
    village = scopes(q)[2]
    df = villages.households(registry_engine, village, 2018)
    raw = q.dicts("SELECT h.hh_id, h.phone, p.id_number FROM household h LEFT JOIN person p "
                  "ON p.hh_id = h.hh_id AND p.relation = '户主' WHERE h.village_code = :v ORDER BY h.hh_id",
                  v=village.code)
    assert list(df["hh_id"]) == [r["hh_id"] for r in raw]
    for got, want in zip(df.to_dict("records"), raw):
        if want["id_number"]:
            assert got["head_id_number"] == want["id_number"][:4] + "*" * 10 + want["id_number"][-4:]
        if want["phone"]:
            assert got["phone"] != want["phone"] and got["phone"][-4:] == want["phone"][-4:]
    plain = villages.households(registry_engine, village, 2018, masked=False)
    assert [r["id_number"] for r in raw] == list(plain["head_id_number"])
    states = dict(q.rows(
        "SELECT CASE WHEN kind <> '建档立卡户' OR identified_year > 2018 THEN 'other' "
        "WHEN returned_year <= 2018 THEN '返贫' WHEN exit_year <= 2018 THEN '已脱贫' ELSE '未脱贫' END AS s, COUNT(*) "
        "FROM household WHERE village_code = :v GROUP BY 1", v=village.code))
    counts = df["status"].value_counts().to_dict()
    for label in ("已脱贫", "未脱贫", "返贫"):
        assert counts.get(label, 0) == states.get(label, 0)
    watched = q.scalar("SELECT COUNT(DISTINCT hh_id) FROM monitoring_object WHERE village_code=:v "
                       "AND identified_date <= :d AND (removed_date IS NULL OR removed_date > :d)",
                       v=village.code, d=dt.date(2018, 12, 31))
    assert df["monitoring"].sum() == watched


def test_projects_helpers_and_monitoring(registry_engine, sql):
    q = sql(registry_engine)
    for scope in scopes(q)[1:]:
        projects = villages.projects(registry_engine, scope, 2026, AS_OF)
        ids = [r[0] for r in q.rows("SELECT project_id FROM project WHERE village_code LIKE :p AND year <= 2026",
                                    p=scope.prefix + "%")] if scope.level == "village" else \
            [r[0] for r in q.rows("SELECT project_id FROM project WHERE town_code = :t AND year <= 2026", t=scope.code)]
        assert sorted(projects["project_id"]) == sorted(ids)
        for rec in projects.head(8).to_dict("records"):
            arranged = q.scalar("SELECT COALESCE(SUM(amount),0) FROM arrangement WHERE project_id=:p",
                                p=rec["project_id"])
            paid = q.scalar("SELECT COALESCE(SUM(amount),0) FROM money_flow WHERE project_id=:p AND kind='拨付'",
                            p=rec["project_id"])
            spent = q.scalar("SELECT COALESCE(SUM(amount),0) FROM money_flow WHERE project_id=:p AND kind='支出'",
                             p=rec["project_id"])
            assert (rec["arranged"], rec["paid"], rec["spent"]) == (arranged, paid, spent)

    village = scopes(q)[2]
    helpers = villages.helpers(registry_engine, village, 2026, AS_OF)
    pairs = q.rows("SELECT helper_id, hh_id FROM assignment WHERE village_code=:v AND start_date <= :e "
                   "AND (end_date IS NULL OR end_date >= :e)", v=village.code, e=AS_OF)
    by_helper: dict[str, set] = {}
    for helper_id, hh in pairs:
        by_helper.setdefault(helper_id, set()).add(hh)
    assert dict(zip(helpers["helper_id"], helpers["households"])) == {k: len(v) for k, v in by_helper.items()}
    for rec in helpers.to_dict("records"):
        visits = q.scalar("SELECT COUNT(*) FROM visit v "
                          "JOIN assignment a ON a.helper_id=v.helper_id AND a.hh_id=v.hh_id "
                          "WHERE a.village_code=:vc AND v.helper_id=:h AND v.kind='入户走访' "
                          "AND v.visit_date BETWEEN :s AND :e", vc=village.code, h=rec["helper_id"],
                          s=dt.date(2025, 11, 1), e=AS_OF)
        assert rec["visits"] == visits
        assert "*" in (rec["phone"] or "*")

    objects = villages.monitoring_objects(registry_engine, village, 2024)
    raw = q.rows("SELECT hh_id, removed_date FROM monitoring_object WHERE village_code=:v AND identified_date <= :d",
                 v=village.code, d=dt.date(2024, 12, 31))
    assert sorted(objects["hh_id"]) == sorted(r[0] for r in raw)
    at_risk = sum(1 for _, removed in raw if removed is None or str(removed) > "2024-12-31")
    assert objects["at_risk"].sum() == at_risk
    assert list(objects["at_risk"]) == sorted(objects["at_risk"], reverse=True)  # at-risk first


def test_periods():
    assert villages.visit_period(2026, AS_OF) == (dt.date(2025, 11, 1), AS_OF)
    assert villages.visit_period(2024, AS_OF) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert villages.visit_period(2028, dt.date(2028, 2, 29)) == (dt.date(2027, 3, 1), dt.date(2028, 2, 29))
    assert villages.late_cutoff(2026, AS_OF) == AS_OF
    assert villages.late_cutoff(2020, AS_OF) == dt.date(2020, 12, 31)
