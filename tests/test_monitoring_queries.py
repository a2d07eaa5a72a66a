"""防返贫监测 queries checked against raw SQL rows counted by hand (Python), on SQLite and PostgreSQL.

Raw rows are selected with LIKE on code prefixes (the queries use indexed ranges or equality), and
every figure is recomputed here from those rows.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import datetime as dt
from collections import Counter, defaultdict

import pytest

from data_access.codes import MONITORING_KINDS, MONITORING_RISKS
from data_access.queries import monitoring
from tests.helpers import busiest_scopes, day, hand_lines, hround

YEARS = (2019, 2023, 2026)
AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def scopes(q):
    return busiest_scopes(q)


_CACHE: dict = {}


def objects(q, scope):
    key = ("objects", id(q.engine), scope)
    if key in _CACHE:
        return _CACHE[key]
    rows = q.dicts("SELECT id, hh_id, village_code, kind, main_risk, identified_date, removed_date, persons "
                   "FROM monitoring_object WHERE village_code LIKE :p", p=scope.prefix + "%")
    for r in rows:
        r["identified_date"], r["removed_date"] = day(r["identified_date"]), day(r["removed_date"])
    _CACHE[key] = rows
    return rows


def state(rows, year):
    """identified / removed / at-risk objects at the end of ``year``, by hand."""
    end = dt.date(year, 12, 31)
    seen = [r for r in rows if r["identified_date"] <= end]
    removed = [r for r in seen if r["removed_date"] is not None and r["removed_date"] <= end]
    at_risk = [r for r in seen if r not in removed]
    return seen, removed, at_risk


def test_the_demo_has_monitoring_objects_to_check(q, scopes):
    for scope in scopes:
        assert q.scalar("SELECT COUNT(*) FROM monitoring_object WHERE village_code LIKE :p",
                        p=scope.prefix + "%") > 0, scope


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("by", ["kind", "risk"])
def test_breakdown_by_kind_and_risk(registry_engine, q, scopes, year, by):
    field, codes = ("kind", MONITORING_KINDS) if by == "kind" else ("main_risk", MONITORING_RISKS)
    for scope in scopes:
        rows = objects(q, scope)
        seen, removed, at_risk = state(rows, year)
        got = monitoring.breakdown(registry_engine, scope, year, by).set_index("label")
        assert list(got.index[:len(codes)]) == list(codes)
        labels = set(got.index)
        assert {r[field] for r in seen} <= labels
        for label in labels:
            mine = [r for r in seen if r[field] == label]
            row = got.loc[label]
            assert row["households"] == len(mine)
            assert row["persons"] == sum(r["persons"] for r in mine)
            assert row["removed_households"] == sum(r in removed for r in mine)
            assert row["at_risk_households"] == sum(r in at_risk for r in mine)
            assert row["at_risk_persons"] == sum(r["persons"] for r in mine if r in at_risk)
            assert row["new_households"] == sum(r["identified_date"].year == year for r in mine)
            rate = hround(100 * row["removed_households"] / len(mine), 2) if mine else None
            assert row["removal_rate"] == rate or (rate is None and row["removal_rate"] != row["removal_rate"])
        # the breakdown adds up to the totals the overview shows
        totals = monitoring.totals(registry_engine, scope, year)
        assert got["households"].sum() == totals["households"] == len(seen)
        assert got["at_risk_households"].sum() == totals["at_risk_households"]


@pytest.mark.parametrize("year", (2022, 2026))
def test_by_region_children_and_villages(registry_engine, q, scopes, year):
    for scope in scopes:
        rows = objects(q, scope)
        seen, removed, at_risk = state(rows, year)
        if scope.level == "village":
            assert monitoring.by_region(registry_engine, scope, year).empty
        else:
            digits = 9 if scope.level == "county" else 12
            children = q.rows("SELECT code, name FROM region WHERE parent_code = :c ORDER BY code", c=scope.code)
            got = monitoring.by_region(registry_engine, scope, year)
            assert list(got["code"]) == [c for c, _ in children]
            assert list(got["name"]) == [n for _, n in children]
            for rec in got.to_dict("records"):
                mine = [r for r in seen if r["village_code"][:digits] == rec["code"][:digits]]
                assert rec["households"] == len(mine)
                assert rec["at_risk_households"] == sum(r in at_risk for r in mine)
                assert rec["removed_households"] == sum(r in removed for r in mine)
                assert rec["persons"] == sum(r["persons"] for r in mine)
        villages = monitoring.by_region(registry_engine, scope, year, "village")
        codes = [c for (c,) in q.rows("SELECT code FROM region WHERE level = 'village' AND code LIKE :p "
                                      "ORDER BY code", p=scope.prefix + "%")]
        assert list(villages["code"]) == codes
        per_village = Counter(r["village_code"] for r in at_risk)
        assert dict(zip(villages["code"], villages["at_risk_households"])) == {c: per_village.get(c, 0) for c in codes}


@pytest.mark.parametrize("year", (2022, 2026))
def test_monthly_identified_and_removed(registry_engine, q, scopes, year):
    for scope in scopes:
        rows = objects(q, scope)
        got = monitoring.monthly(registry_engine, scope, year)
        assert list(got["month"]) == list(range(1, 13))
        for rec in got.to_dict("records"):
            m = rec["month"]
            new = [r for r in rows if r["identified_date"].year == year and r["identified_date"].month == m]
            gone = [r for r in rows if r["removed_date"] and r["removed_date"].year == year
                    and r["removed_date"].month == m]
            assert (rec["identified_households"], rec["identified_persons"], rec["removed_households"]) == (
                len(new), sum(r["persons"] for r in new), len(gone))


@pytest.mark.parametrize("year", (2023, 2026))
def test_removal_time(registry_engine, q, scopes, year):
    for scope in scopes:
        done = [r for r in objects(q, scope) if r["removed_date"] and r["removed_date"].year == year]
        days = [(r["removed_date"] - r["identified_date"]).days for r in done]
        got = monitoring.removal_time(registry_engine, scope, year)
        assert got["removed_households"] == len(days)
        if days:
            mean = Decimal(sum(days)) / len(days)
            assert got["avg_days"] == float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
            assert got["avg_days_whole"] == float(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))
            assert got["max_days"] == max(days)
        else:
            assert got["avg_days"] is None and got["max_days"] is None
        classes = got["classes"]
        assert list(classes["households"]) == [
            sum(d <= 90 for d in days), sum(91 <= d <= 180 for d in days),
            sum(181 <= d <= 365 for d in days), sum(d >= 366 for d in days)]
        assert classes["households"].sum() == len(days)


@pytest.mark.parametrize("year", (2023, 2026))
def test_object_lists(registry_engine, q, scopes, year):
    on = min(dt.date(year, 12, 31), AS_OF)
    names = dict(q.rows("SELECT hh_id, head_name FROM household"))
    for scope in scopes:
        rows = objects(q, scope)
        seen, removed, at_risk = state(rows, year)
        got = monitoring.object_list(registry_engine, scope, year, on, True, limit=5)
        expect = sorted(at_risk, key=lambda r: (r["identified_date"], r["hh_id"]))[:5]
        assert list(got["hh_id"]) == [r["hh_id"] for r in expect]
        assert list(got["days_at_risk"]) == [(on - r["identified_date"]).days for r in expect]
        assert list(got["head_name"]) == [names[r["hh_id"]] for r in expect]
        everything = monitoring.object_list(registry_engine, scope, year, on, False)
        expect_all = sorted(at_risk, key=lambda r: (r["identified_date"], r["hh_id"])) + sorted(
            removed, key=lambda r: (-r["removed_date"].toordinal(), r["identified_date"], r["hh_id"]))
        assert list(everything["hh_id"]) == [r["hh_id"] for r in expect_all]
        assert [day(d) if d == d else None for d in everything["removed_date"]] == [
            r["removed_date"] if r in removed else None for r in expect_all]


@pytest.mark.parametrize("year", (2015, 2021, 2024, 2026, 2030))
def test_line_of_each_income_year(registry_engine, q, scopes, year):
    """The one rule for judging an income: the line of the income's own year (no earlier year's line)."""
    from data_access.rules import line_amounts

    scope = scopes[0]
    with registry_engine.connect() as conn:
        got = line_amounts(conn, scope, 1900, year)
    assert {y: float(a) for y, (a, _) in got.items()} == {y: a for y, a in hand_lines(q, scope).items() if y <= year}


def exited_households(q, scope, year):
    """Registered households exited by the end of ``year`` and not returned by then (hand rule)."""
    rows = q.dicts("SELECT hh_id, kind, identified_year, exit_year, returned_year FROM household "
                   "WHERE village_code LIKE :p", p=scope.prefix + "%")
    return {r["hh_id"] for r in rows if r["kind"] == "建档立卡户" and r["identified_year"] is not None
            and r["identified_year"] <= year and r["exit_year"] is not None and r["exit_year"] <= year
            and (r["returned_year"] is None or r["returned_year"] > year)}


def latest_income(q, scope, year):
    key = ("income", id(q.engine), scope)
    if key not in _CACHE:
        _CACHE[key] = q.rows("SELECT i.hh_id, i.year, i.per_capita_net FROM income i "
                             "JOIN household h ON h.hh_id = i.hh_id WHERE h.village_code LIKE :p",
                             p=scope.prefix + "%")
    latest = {}
    for hh, y, pcn in _CACHE[key]:
        if y <= year and (hh not in latest or y > latest[hh][0]):
            latest[hh] = (y, float(pcn))
    return latest


def watched_at(rows, year):
    return {r["hh_id"] for r in state(rows, year)[2]}


@pytest.mark.parametrize("year, margin", [(2020, 10), (2022, 30), (2026, 0), (2026, 10)])
def test_income_warnings(registry_engine, q, scopes, year, margin):
    for scope in scopes:
        lines = hand_lines(q, scope)  # an income is judged against the line of its own year
        got = monitoring.income_warnings(registry_engine, scope, year, margin, limit=7)
        watched = watched_at(objects(q, scope), year)
        latest = latest_income(q, scope, year)
        hits = sorted(((latest[h][1], h) for h in exited_households(q, scope, year)
                       if h in latest and latest[h][0] in lines
                       and latest[h][1] < lines[latest[h][0]] * (100 + margin) / 100 and h not in watched))
        assert got["total"] == len(hits)
        assert got["below"] == sum(v < lines[latest[h][0]] for v, h in hits)
        assert got["near"] == got["total"] - got["below"]
        assert list(got["rows"]["hh_id"]) == [h for _, h in hits[:7]]
        assert list(got["rows"]["income_year"]) == [latest[h][0] for _, h in hits[:7]]
        assert list(got["rows"]["per_capita_net"]) == [hround(v) for v, _ in hits[:7]]


def test_income_warnings_are_not_empty_somewhere(registry_engine, scopes):
    """Guards the test above against passing on nothing: the demo county has warnings in 2026."""
    got = monitoring.income_warnings(registry_engine, scopes[0], 2026, 10)
    assert got["total"] > 0 and len(got["rows"]) > 0


@pytest.mark.parametrize("year", (2018, 2022, 2026))
def test_health_warnings(registry_engine, q, scopes, year):
    for scope in scopes:
        people = q.rows("SELECT p.hh_id, p.health FROM person p JOIN household h ON h.hh_id = p.hh_id "
                        "WHERE h.village_code LIKE :p", p=scope.prefix + "%")
        ill, disabled = defaultdict(int), defaultdict(int)
        for hh, health in people:
            if health == "患有大病":
                ill[hh] += 1
            elif health == "残疾":
                disabled[hh] += 1
        plain = {h for (h,) in q.rows("SELECT hh_id FROM household WHERE kind = '一般农户' AND village_code LIKE :p",
                                      p=scope.prefix + "%")}
        eligible = exited_households(q, scope, year) | plain
        watched = watched_at(objects(q, scope), year)
        hits = [h for h in eligible if (ill[h] or disabled[h]) and h not in watched]
        latest = latest_income(q, scope, year)
        lines = hand_lines(q, scope)  # an income is judged against the line of its own year
        got = monitoring.health_warnings(registry_engine, scope, year, 10, limit=9)
        assert got["total"] == len(hits)
        assert got["with_illness"] == sum(ill[h] > 0 for h in hits)
        assert got["with_disability"] == sum(disabled[h] > 0 for h in hits)
        low = sum(h in latest and latest[h][0] in lines and latest[h][1] < lines[latest[h][0]] * 1.1 for h in hits)
        assert got["low_income"] == low
        order = sorted(hits, key=lambda h: (h not in latest, latest.get(h, (0, 0.0))[1], h))[:9]
        assert list(got["rows"]["hh_id"]) == order
        assert list(got["rows"]["ill_persons"]) == [ill[h] for h in order]
        assert list(got["rows"]["disabled_persons"]) == [disabled[h] for h in order]
