"""The 2021– headline (queries.consolidation) against raw SQL rows counted by hand, on SQLite and PostgreSQL,
for the county, the busiest township and its busiest village."""

from __future__ import annotations

import datetime as dt

import pytest

from data_access.report import era as era_words
from data_access import codes
from data_access.queries import consolidation as C
from tests.helpers import busiest_scopes, day, members_at

YEARS = (2021, 2024, 2026)
WORKING = ("乡(镇)内务工", "乡(镇)外县内务工", "县外省内务工", "省外务工")


@pytest.fixture(scope="module")
def scopes(q):
    return busiest_scopes(q)


def households(q, scope):
    return q.dicts("SELECT hh_id, kind, identified_year, exit_year, returned_year, policy_status, member_count "
                   "FROM household WHERE village_code LIKE :p", p=scope.prefix + "%")


def exited(h, year):
    return (h["kind"] == "建档立卡户" and h["identified_year"] is not None and h["identified_year"] <= year
            and h["exit_year"] is not None and h["exit_year"] <= year
            and (h["returned_year"] is None or h["returned_year"] > year))


def objects(q, scope):
    rows = q.dicts("SELECT hh_id, kind, identified_date, removed_date, persons FROM monitoring_object "
                   "WHERE village_code LIKE :p", p=scope.prefix + "%")
    for r in rows:
        r["identified_date"], r["removed_date"] = day(r["identified_date"]), day(r["removed_date"])
    return rows


@pytest.mark.parametrize("year", YEARS)
def test_policy_split(registry_engine, q, scopes, year):
    for scope in scopes:
        done = [h for h in households(q, scope) if exited(h, year)]
        got = C.policy_split(registry_engine, scope, year)
        assert got["exited_households"] == len(done) > 0
        size = members_at(q, [year])  # people: the members at the year's end
        assert got["exited_persons"] == sum(size.get((h["hh_id"], year), 0) for h in done)
        marked_year = int(q.scalar("SELECT value FROM meta WHERE key = 'data_as_of'")[:4])
        assert got["marked_year"] == marked_year and got["marked"] == (year == marked_year)
        if year != marked_year:  # the registry's current mark is not a past year's: no split then
            assert got["policy_households"] is got["no_policy_persons"] is got["unmarked_households"] is None
            continue
        for key, label in (("policy", "脱贫享受政策"), ("no_policy", "脱贫不享受政策")):
            mine = [h for h in done if h["policy_status"] == label]
            assert got[f"{key}_households"] == len(mine), (scope, key)
            assert got[f"{key}_persons"] == sum(size.get((h["hh_id"], year), 0) for h in mine)
        assert got["policy_households"] + got["no_policy_households"] + got["unmarked_households"] == len(done)


@pytest.mark.parametrize("year", YEARS)
def test_monitoring_by_kind_new_and_help(registry_engine, q, scopes, year):
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    for scope in scopes:
        rows = objects(q, scope)
        seen = [r for r in rows if r["identified_date"] <= end]
        head = era_words.headline(registry_engine, scope, year)
        m = head["monitoring"]
        assert m["households"] == len(seen) and m["persons"] == sum(r["persons"] for r in seen)
        removed = [r for r in seen if r["removed_date"] is not None and r["removed_date"] <= end]
        assert m["removed_households"] == len(removed)
        assert m["at_risk_households"] == len(seen) - len(removed)
        new = [r for r in seen if r["identified_date"] >= start]
        assert m["new_households"] == len(new) and m["new_persons"] == sum(r["persons"] for r in new)
        kinds = head["kinds"].set_index("label")
        assert list(kinds.index[:3]) == list(codes.MONITORING_KINDS_NATIONAL)
        for kind in kinds.index:
            mine = [r for r in seen if r["kind"] == kind]
            assert kinds.loc[kind, "households"] == len(mine)
            assert kinds.loc[kind, "persons"] == sum(r["persons"] for r in mine)
        # 帮扶覆盖: under monitoring some time in the year, with a measure of that year
        measured = {h for (h,) in q.rows("SELECT DISTINCT hh_id FROM help_measure WHERE village_code LIKE :p "
                                          "AND year = :y", p=scope.prefix + "%", y=year)}
        base = [r for r in seen if r["removed_date"] is None or r["removed_date"] >= start]
        helped = [r for r in base if r["hh_id"] in measured]
        assert head["help"]["base_households"] == len(base)
        assert head["help"]["helped_households"] == len(helped)
        assert head["help"]["helped_pct"] == (round(100 * len(helped) / len(base), 2) if base else None)


@pytest.mark.parametrize("year", YEARS)
def test_income_and_work(registry_engine, q, scopes, year):
    for scope in scopes:
        head = era_words.headline(registry_engine, scope, year)
        inc = head["income"]
        years = [y for (y,) in q.rows("SELECT DISTINCT i.year FROM income i JOIN household h ON h.hh_id = i.hh_id "
                                      "WHERE h.village_code LIKE :p AND i.year <= :y", p=scope.prefix + "%", y=year)]
        assert inc["year"] == max(years)

        def average(y, scope=scope):
            hh = {h["hh_id"] for h in households(q, scope) if exited(h, y)}
            rows = [r for r in q.rows("SELECT hh_id, members, per_capita_net FROM income WHERE year = :y", y=y)
                    if r[0] in hh]
            people = sum(r[1] for r in rows)
            return sum(r[1] * r[2] for r in rows) / people if people else None

        now, before = average(inc["year"]), average(inc["year"] - 1)
        assert inc["average"] == pytest.approx(now, rel=1e-9)
        assert inc["previous"] == pytest.approx(before, rel=1e-9)
        assert inc["growth_pct"] == round(100 * (now / before - 1), 2)
        assert inc["growth_pct"] > 0  # the demo's incomes grow year on year

        def work(y, scope=scope):
            hh = {h["hh_id"] for h in households(q, scope) if exited(h, y)}
            rows = [r for r in q.rows("SELECT hh_id, work_status FROM work_year WHERE village_code LIKE :p "
                                      "AND year = :y", p=scope.prefix + "%", y=y) if r[0] in hh]
            return len(rows), sum(r[1] in WORKING for r in rows)

        labour, working = work(year)
        assert head["work"]["labour"] == labour > 0 and head["work"]["working"] == working
        if year > codes.CONSOLIDATION_SINCE:
            assert head["work"]["change"] == working - work(year - 1)[1]
        else:  # no 务工 rows for 2020: no change shown
            assert head["work"]["change"] is None


def test_returned_after_2020_are_monitoring_objects_but_the_deliberate_ones(registry_engine, q, scopes, demo_summary):
    deliberate = demo_summary["problems"]["returned_outside_monitoring"]
    assert 1 <= len(deliberate) <= 2
    monitored = {h for (h,) in q.rows("SELECT DISTINCT hh_id FROM monitoring_object")}
    returned = q.rows("SELECT hh_id FROM household WHERE returned_year >= 2021 ORDER BY hh_id")
    assert len(returned) > len(deliberate)
    assert [h for (h,) in returned if h not in monitored] == sorted(deliberate)
    county = scopes[0]
    listed = C.returned_outside_monitoring(registry_engine, county, 2026)
    assert list(listed["hh_id"]) == sorted(deliberate)
    assert C.returned_outside_count(registry_engine, county, 2026) == len(deliberate)
    # before the year it fell back a household is not listed
    first = min(q.scalar("SELECT returned_year FROM household WHERE hh_id = :h", h=h) for h in deliberate)
    assert C.returned_outside_count(registry_engine, county, first - 1) == 0
    for scope in scopes[1:]:
        mine = [h for h in deliberate if h.startswith(scope.prefix)]
        assert C.returned_outside_count(registry_engine, scope, 2026) == len(mine)


def test_income_series_is_the_yearly_figure(registry_engine, scopes):
    for scope in scopes:
        got = C.income_series(registry_engine, scope, 2020, 2026).set_index("year")
        assert list(got.index) == list(range(2020, 2026))  # the demo's incomes end in 2025
        for year in got.index:
            one = C.exited_income(registry_engine, scope, int(year))
            assert got.loc[year, "households"] == one["households"]
            assert got.loc[year, "average"] == pytest.approx(one["average"], rel=1e-9)
        assert got.loc[2025, "growth_pct"] == era_words.headline(registry_engine, scope, 2026)["income"]["growth_pct"]


# ---- the monitoring lifecycle in time ------------------------------------------------------------------------


def lifecycle_rows(q, scope):
    rows = q.dicts("SELECT o.id, o.hh_id, o.village_code, o.identified_date, o.removed_date, f.found_date "
                   "FROM monitoring_object o LEFT JOIN monitoring_found f ON f.object_id = o.id "
                   "WHERE o.village_code LIKE :p", p=scope.prefix + "%")
    for r in rows:
        for k in ("identified_date", "removed_date", "found_date"):
            r[k] = day(r[k])
    return rows


def hand_lifecycle(rows, year, deadline):
    new = [r for r in rows if r["identified_date"].year == year]
    found = [(r["identified_date"] - r["found_date"]).days for r in new if r["found_date"] is not None]
    removed = [(r["removed_date"] - r["identified_date"]).days for r in rows
               if r["removed_date"] is not None and r["removed_date"].year == year]
    return {"identified": len(new), "with_found": len(found),
            "avg_identify_days": round(sum(found) / len(found), 1) if found else None,
            "late_identified": sum(d > deadline for d in found),
            "removed": len(removed), "avg_removal_days": round(sum(removed) / len(removed), 1) if removed else None}


@pytest.mark.parametrize("year", (2021, 2023, 2026))
@pytest.mark.parametrize("deadline", (15, 7))
def test_lifecycle_against_hand_counts(registry_engine, q, scopes, year, deadline):
    from data_access.queries import monitoring

    for scope in scopes:
        rows = lifecycle_rows(q, scope)
        assert all(r["found_date"] is not None and r["found_date"] <= r["identified_date"] for r in rows)
        want = hand_lifecycle(rows, year, deadline)
        got = monitoring.lifecycle(registry_engine, scope, year, deadline)
        for key, value in want.items():
            assert got[key] == value, (scope, key)
        late = monitoring.late_identifications(registry_engine, scope, year, deadline)
        assert len(late) == want["late_identified"]
        assert list(late["days"]) == sorted(late["days"], reverse=True) and all(d > deadline for d in late["days"])
        if scope.child_level is not None:
            per = monitoring.lifecycle_by_region(registry_engine, scope, year, deadline)
            kids = [c for (c,) in q.rows("SELECT code FROM region WHERE parent_code = :c ORDER BY code", c=scope.code)]
            assert list(per["code"]) == kids
            digits = 9 if scope.level == "county" else 12
            for rec in per.to_dict("records"):
                mine = hand_lifecycle([r for r in rows if r["village_code"][:digits] == rec["code"][:digits]],
                                      year, deadline)
                for key, value in mine.items():
                    got_v = rec[key]
                    got_v = None if got_v is None or got_v != got_v else got_v
                    assert got_v == value, (rec["code"], key)
            assert per["late_identified"].sum() == want["late_identified"]


def test_the_demo_has_slow_identifications(registry_engine, scopes):
    from data_access.queries import monitoring

    assert sum(monitoring.lifecycle(registry_engine, scopes[0], y, 15)["late_identified"]
               for y in range(2021, 2027)) > 0


# ---- 衔接资金 ----------------------------------------------------------------------------------------------

LINKAGE = ("中央财政衔接推进乡村振兴补助资金", "省级财政衔接推进乡村振兴补助资金",
           "市级财政衔接推进乡村振兴补助资金", "县级财政衔接推进乡村振兴补助资金")


def arranged_rows(q, scope, year):
    """(source, category, project place codes, amount) of the year's 衔接资金 arrangements, by hand."""
    return q.rows("SELECT f.source, p.category, p.county_code, p.town_code, p.village_code, a.amount "
                  "FROM arrangement a JOIN fund f ON f.fund_id = a.fund_id "
                  "JOIN project p ON p.project_id = a.project_id "
                  "WHERE f.year = :y AND f.source LIKE '%衔接推进乡村振兴补助资金'", y=year)


def in_scope(row, scope):
    county, town, village = row[2], row[3], row[4]
    if scope.level == "county":
        return county == scope.code
    if scope.level == "town":
        return town == scope.code
    return village == scope.code


@pytest.mark.parametrize("year", (2022, 2024, 2026))
def test_linkage_by_level_and_industry_share(registry_engine, q, scopes, year):
    for scope in scopes:
        rows = [r for r in arranged_rows(q, scope, year) if in_scope(r, scope)]
        levels = C.linkage_by_level(registry_engine, scope, year).set_index("source")
        assert list(levels.index) == list(LINKAGE)
        for source in LINKAGE:
            assert levels.loc[source, "arranged"] == sum(r[5] for r in rows if r[0] == source), (scope, source)
            if scope.level == "county":
                assert levels.loc[source, "allocated"] == (q.scalar(
                    "SELECT coalesce(sum(amount), 0) FROM fund WHERE year = :y AND source = :s AND county_code = :c",
                    y=year, s=source, c=scope.code))
                spent = q.scalar("SELECT coalesce(sum(m.amount), 0) FROM money_flow m "
                                 "JOIN fund f ON f.fund_id = m.fund_id "
                                 "WHERE f.year = :y AND f.source = :s AND f.county_code = :c AND m.kind = '支出'",
                                 y=year, s=source, c=scope.code)
                assert levels.loc[source, "spent"] == spent
            else:
                assert levels.loc[source, "allocated"] is None or levels.loc[source, "allocated"] != \
                    levels.loc[source, "allocated"]
        central = [r for r in rows if r[0] == LINKAGE[0]]
        got = C.industry_share(registry_engine, scope, year, 60.0)
        c_all, c_ind = sum(r[5] for r in central), sum(r[5] for r in central if r[1] == "产业发展")
        assert (got["central_arranged"], got["central_industry"]) == (c_all, c_ind)
        assert got["central_share"] == (round(100 * c_ind / c_all, 2) if c_all else None)
        assert got["linkage_arranged"] == sum(r[5] for r in rows)
        assert got["below"] == (got["central_share"] is not None and got["central_share"] < 60.0)
        if scope.level == "county":
            per = C.industry_share_by_region(registry_engine, scope, year, 60.0).set_index("code")
            for code in per.index:
                mine = [r for r in central if r[3] == code]
                assert per.loc[code, "central_arranged"] == sum(r[5] for r in mine)
                assert per.loc[code, "central_industry"] == sum(r[5] for r in mine if r[1] == "产业发展")


def test_the_demo_funds_after_2020_carry_the_new_names(q):
    names = {s for (s,) in q.rows("SELECT DISTINCT source FROM fund WHERE year >= 2021")}
    assert set(LINKAGE) <= names and "中央财政专项扶贫资金" not in names and "东西部协作资金" in names
    assert {s for (s,) in q.rows("SELECT DISTINCT source FROM fund WHERE year <= 2020")} & set(LINKAGE) == set()


def test_industry_threshold_from_configuration(monkeypatch):
    assert codes.industry_share_threshold(2021) is None
    assert codes.industry_share_threshold(2022) == 55.0 and codes.industry_share_threshold(2026) == 60.0
    monkeypatch.setenv("REGISTRY_INDUSTRY_SHARE", "2022:50,2025:65")
    assert codes.industry_share_threshold(2024) == 50.0 and codes.industry_share_threshold(2026) == 65.0
    monkeypatch.setenv("REGISTRY_IDENTIFY_DEADLINE_DAYS", "10")
    assert codes.identify_deadline_days() == 10
    monkeypatch.setenv("REGISTRY_IDENTIFY_DEADLINE_DAYS", "十")
    assert codes.identify_deadline_days() == 15
