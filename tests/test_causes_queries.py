"""致贫原因 queries checked against independent SQL (LIKE on code prefixes, person joins, hand counts)."""

from collections import Counter, defaultdict

import pytest
from sqlalchemy import text

from data_access.queries import causes, overview
from tests.helpers import MEMBERS_AT, hround, like, rows, scopes, year_end

YEARS = (2016, 2020, 2026)


REGISTERED = "h.kind = '建档立卡户' AND h.identified_year <= :y AND h.village_code LIKE :p"


def registered_households(engine, scope, year):
    """Every registered household of the scope at ``year`` as dicts (for hand counts in Python)."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            f"SELECT h.hh_id, h.village_code, h.main_cause, h.attribute, h.identified_year, h.exit_year, "
            f"h.returned_year, {MEMBERS_AT} AS member_count FROM household h WHERE {REGISTERED}"),
            {"y": year, "p": like(scope), "end": year_end(year)}).mappings()]  # people: members at the year's end


def as_counts(df, *keys):
    return {tuple(r[k] for k in keys): (int(r["households"]), int(r["persons"])) for _, r in df.iterrows()}


@pytest.mark.parametrize("year", YEARS)
def test_cause_mix(registry_engine, year):
    for scope in scopes(registry_engine):
        got = causes.cause_mix(registry_engine, scope, year)
        # persons counted from the person table, not from member_count
        households = dict(rows(registry_engine, f"SELECT COALESCE(h.main_cause, '未填写'), COUNT(*) FROM household h "
                                                f"WHERE {REGISTERED} GROUP BY COALESCE(h.main_cause, '未填写')",
                               y=year, p=like(scope)))
        persons = dict(rows(registry_engine, "SELECT COALESCE(h.main_cause, '未填写'), COUNT(p.person_id) "
                                             "FROM household h "
                                             f"JOIN person p ON p.hh_id = h.hh_id WHERE {REGISTERED} "
                                             "AND p.birth_year <= :y AND (p.join_date IS NULL OR p.join_date <= :end) "
                                             "AND (p.leave_date IS NULL OR p.leave_date > :end) "
                                             "GROUP BY COALESCE(h.main_cause, '未填写')", y=year, p=like(scope),
                            end=year_end(year)))
        assert dict(zip(got["cause"], got["households"])) == households
        assert dict(zip(got["cause"], got["persons"])) == persons
        total_h, total_p = sum(households.values()), sum(persons.values())
        for r in got.itertuples():
            assert r.households_pct == hround(100 * households[r.cause] / total_h, 2)
            assert r.persons_pct == hround(100 * persons[r.cause] / total_p, 2)
        assert list(got["households"]) == sorted(got["households"], reverse=True)
        head = overview.registry_counts(registry_engine, scope, year)
        assert (total_h, total_p) == (head["registered_households"], head["registered_persons"])
    assert causes.cause_mix(registry_engine, scopes(registry_engine)[0], year)["households"].sum() > 0


@pytest.mark.parametrize("year", (2018, 2026))
def test_cause_by_child(registry_engine, year):
    county, town, village = scopes(registry_engine)
    for scope, digits in ((county, 9), (town, 12)):
        got = causes.cause_by_child(registry_engine, scope, year)
        want = {}
        for h in registered_households(registry_engine, scope, year):
            key = (h["village_code"][:digits] + "0" * (12 - digits), h["main_cause"] or "未填写")
            n, p = want.get(key, (0, 0))
            want[key] = (n + 1, p + h["member_count"])
        assert as_counts(got, "code", "cause") == want
        names = dict(rows(registry_engine, "SELECT code, name FROM region WHERE parent_code = :c", c=scope.code))
        assert all(names[c] == n for c, n in zip(got["code"], got["name"]))
    assert causes.cause_by_child(registry_engine, village, year).empty


@pytest.mark.parametrize("year", YEARS)
def test_cause_by_attribute_and_identified_year(registry_engine, year):
    for scope in scopes(registry_engine):
        got = causes.cause_by_attribute(registry_engine, scope, year)
        want = {(c or "未填写", a or "未填写"): (n, p) for c, a, n, p in rows(
            registry_engine, f"SELECT h.main_cause, h.attribute, COUNT(*), SUM({MEMBERS_AT}) FROM household h "
                             f"WHERE {REGISTERED} GROUP BY h.main_cause, h.attribute", y=year, p=like(scope),
            end=year_end(year))}
        assert as_counts(got, "cause", "attribute") == want

        got = causes.cause_by_identified_year(registry_engine, scope, year)
        want = Counter()
        people = Counter()
        for h in registered_households(registry_engine, scope, year):
            key = (h["identified_year"], h["main_cause"] or "未填写")
            want[key] += 1
            people[key] += h["member_count"]
        assert as_counts(got, "identified_year", "cause") == {k: (want[k], people[k]) for k in want}
        assert all(y <= year for y in got["identified_year"])


@pytest.mark.parametrize("year", (2015, 2018, 2020, 2026))
def test_cause_by_status(registry_engine, year):
    for scope in scopes(registry_engine):
        got = causes.cause_by_status(registry_engine, scope, year)
        want = defaultdict(lambda: [0, 0])
        for h in registered_households(registry_engine, scope, year):
            if h["returned_year"] is not None and h["returned_year"] <= year:
                status = "返贫"
            elif h["exit_year"] is not None and h["exit_year"] <= year:
                status = "已脱贫"
            else:
                status = "未脱贫"
            want[(h["main_cause"] or "未填写", status)][0] += 1
            want[(h["main_cause"] or "未填写", status)][1] += h["member_count"]
        assert as_counts(got, "cause", "status") == {k: tuple(v) for k, v in want.items()}
        if scope.level == "county" and year == 2026:
            assert "返贫" in set(got["status"]) and "已脱贫" in set(got["status"])


@pytest.mark.parametrize("year", (2016, 2026))
def test_cause_combinations_and_other_causes(registry_engine, year):
    for scope in scopes(registry_engine):
        households = {h["hh_id"]: h for h in registered_households(registry_engine, scope, year)}
        others = defaultdict(list)
        for hh_id, cause in rows(registry_engine, "SELECT o.hh_id, o.cause FROM other_cause o JOIN household h "
                                                  "ON h.hh_id = o.hh_id WHERE h.village_code LIKE :p", p=like(scope)):
            others[hh_id].append(cause)
        pairs = defaultdict(lambda: [0, 0])
        secondary = defaultdict(lambda: [0, 0])
        for hh_id, h in households.items():
            for other in others.get(hh_id) or ["无"]:
                pairs[(h["main_cause"] or "未填写", other)][0] += 1
                pairs[(h["main_cause"] or "未填写", other)][1] += h["member_count"]
            for other in others.get(hh_id, []):
                secondary[other][0] += 1
                secondary[other][1] += h["member_count"]
        got = causes.cause_combinations(registry_engine, scope, year)
        assert as_counts(got, "main_cause", "other_cause") == {k: tuple(v) for k, v in pairs.items()}
        got = causes.other_cause_counts(registry_engine, scope, year)
        assert as_counts(got, "cause") == {(k,): tuple(v) for k, v in secondary.items()}
        for r in got.itertuples():
            assert r.households_pct == hround(100 * secondary[r.cause][0] / len(households), 2)
    county = scopes(registry_engine)[0]
    assert causes.other_cause_counts(registry_engine, county, 2026)["households"].sum() > 0


def test_cause_order_puts_unknown_and_blank_last():
    assert causes.cause_order({"其他", "因病", "奇怪", "未填写", "缺水"}) == ["因病", "缺水", "其他", "奇怪", "未填写"]
