"""脱贫进度 queries checked against independent SQL and hand counts in Python."""

import datetime as dt
from collections import defaultdict

import pytest
from sqlalchemy import text

from data_access import rules
from data_access.queries import exits, villages
from tests.helpers import hround, like, members_at, population_at, rows, scopes


@pytest.fixture(scope="module")
def size(registry_engine) -> dict[tuple[str, int], int]:
    """(hh_id, year) -> members at the year's end (from the person rows' dates): a past year's people."""
    return members_at(registry_engine, range(2014, 2027))


def households(engine, scope, extra_columns=""):
    """Every registered household of the scope (any year) as dicts."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT hh_id, village_code, identified_year, exit_year, returned_year, member_count, exit_step"
            f"{extra_columns} FROM household WHERE kind = '建档立卡户' AND village_code LIKE :p ORDER BY hh_id"),
            {"p": like(scope)}).mappings()]


def state(h, year):
    """None (not registered yet), 返贫, 已脱贫 or 未脱贫 at the end of ``year``: the written rule, in Python."""
    if h["identified_year"] is None or h["identified_year"] > year:
        return None
    if h["returned_year"] is not None and h["returned_year"] <= year:
        return "返贫"
    if h["exit_year"] is not None and h["exit_year"] <= year:
        return "已脱贫"
    return "未脱贫"


def rural(engine, prefix, year):
    return population_at(engine, prefix, year)


def test_progress_cumulative(registry_engine, size):
    for scope in scopes(registry_engine)[:2]:
        got = exits.progress(registry_engine, scope, 2014, 2026)
        exited = dict(rows(registry_engine, "SELECT exit_year, COUNT(*) FROM household WHERE kind = '建档立卡户' "
                                            "AND village_code LIKE :p AND exit_year IS NOT NULL GROUP BY exit_year",
                           p=like(scope)))
        targets = dict(rows(registry_engine, "SELECT year, households FROM exit_target WHERE region_code = :c",
                            c=scope.code))
        running, goal = 0, None
        for r in got.itertuples():
            running += exited.get(r.year, 0)
            if targets.get(r.year) is not None:
                goal = (goal or 0) + targets[r.year]
            assert r.cum_exited_households == running
            assert r.cum_target_households == goal
        everyone = households(registry_engine, scope)
        for r in got.itertuples():  # people: members at the year's end (the exit year's for those exited then)
            assert r.cum_exited_persons == sum(size.get((h["hh_id"], r.year), 0) for h in everyone
                                               if h["exit_year"] is not None and h["exit_year"] <= r.year)
            assert r.exited_persons == sum(size.get((h["hh_id"], r.year), 0) for h in everyone
                                           if h["exit_year"] == r.year)
        assert running > 0 and goal is not None


def test_child_incidence(registry_engine, size):
    county, town, village = scopes(registry_engine)
    for scope, digits in ((county, 9), (town, 12)):
        got = exits.child_incidence(registry_engine, scope, 2014, 2026)
        kids = rows(registry_engine, "SELECT code, name FROM region WHERE parent_code = :c ORDER BY code", c=scope.code)
        assert len(got) == len(kids) * 13
        poor = defaultdict(int)
        for h in households(registry_engine, scope):
            for y in range(2014, 2027):
                if state(h, y) in ("未脱贫", "返贫"):
                    poor[(h["village_code"][:digits], y)] += size.get((h["hh_id"], y), 0)
        for r in got.itertuples():
            population = rural(registry_engine, r.code[:digits], r.year)
            assert r.poor_persons == poor[(r.code[:digits], r.year)]
            assert r.rural_population == population
            assert r.incidence == (hround(100 * r.poor_persons / population, 2) if population else None)
        ranking = villages.child_indicators(registry_engine, scope, 2018, dt.date(2026, 10, 31)).set_index("code")
        for r in got[got["year"] == 2018].itertuples():
            assert r.incidence == ranking.loc[r.code, "incidence"]
    assert exits.child_incidence(registry_engine, village, 2014, 2026).empty


@pytest.mark.parametrize("year,threshold", [(2017, 3.0), (2019, 2.0), (2026, 3.0)])
def test_poor_villages(registry_engine, size, year, threshold):
    for scope in scopes(registry_engine):
        got = exits.poor_villages(registry_engine, scope, year, threshold).set_index("code")
        want = [(*r, population_at(registry_engine, r[0], year)) for r in rows(
            registry_engine, "SELECT v.code, v.name, t.name, v.poor_village_exit_year "
                             "FROM region v JOIN region t ON t.code = v.parent_code WHERE v.level = 'village' "
                             "AND v.is_poor_village = :yes AND v.code LIKE :p", yes=True, p=like(scope))]
        assert sorted(got.index) == sorted(r[0] for r in want)
        poor = defaultdict(int)
        for h in households(registry_engine, scope):
            if state(h, year) in ("未脱贫", "返贫"):
                poor[h["village_code"]] += size.get((h["hh_id"], year), 0)
        for code, name, town_name, exit_year, population in want:
            r = got.loc[code]
            assert (r["name"], r["town_name"]) == (name, town_name)
            exited = exit_year is not None and exit_year <= year
            assert bool(r["exited"]) == exited
            assert r["exit_year"] == (exit_year if exited else None)
            assert r["poor_persons"] == poor[code]
            incidence = hround(100 * poor[code] / population, 2) if population else None
            assert r["incidence"] == incidence
            assert bool(r["below_threshold"]) == (incidence is not None and incidence < threshold)
        assert list(got["exited"]) == sorted(got["exited"])  # villages still to exit come first


def test_village_exits_by_year(registry_engine):
    for scope in scopes(registry_engine)[:2]:
        got = exits.village_exits_by_year(registry_engine, scope, 2014, 2026)
        done = dict(rows(registry_engine, "SELECT poor_village_exit_year, COUNT(*) FROM region WHERE level = 'village' "
                                          "AND is_poor_village = :yes AND code LIKE :p GROUP BY poor_village_exit_year",
                         yes=True, p=like(scope)))
        targets = dict(rows(registry_engine, "SELECT year, villages FROM exit_target WHERE region_code = :c",
                            c=scope.code))
        for r in got.itertuples():
            assert r.exited_villages == done.get(r.year, 0)
            target = targets.get(r.year)
            assert (r.target_villages if r.target_villages == r.target_villages else None) == target
        assert got["exited_villages"].sum() == sum(n for y, n in done.items() if y is not None)


@pytest.mark.parametrize("year", (2016, 2019, 2026))
def test_not_exited_and_returned_lists(registry_engine, size, year):
    for scope in scopes(registry_engine):
        everyone = households(registry_engine, scope)
        for fn, wanted in ((exits.not_exited_list, "未脱贫"), (exits.returned_list, "返贫")):
            chosen = sorted((h["village_code"], h["hh_id"], size.get((h["hh_id"], year), 0)) for h in everyone
                            if state(h, year) == wanted)
            got = fn(registry_engine, scope, year, limit=7, offset=0)
            assert got["households"] == len(chosen)
            assert got["persons"] == sum(c[2] for c in chosen)
            assert list(got["rows"]["hh_id"]) == [c[1] for c in chosen[:7]]
            page2 = fn(registry_engine, scope, year, limit=7, offset=7)
            assert list(page2["rows"]["hh_id"]) == [c[1] for c in chosen[7:14]]
            assert list(got["rows"].columns) == exits.LIST_COLUMNS
    county = scopes(registry_engine)[0]
    assert exits.not_exited_list(registry_engine, county, 2016)["households"] > 0
    assert exits.returned_list(registry_engine, county, 2026)["households"] > 0


def lines_by_hand(engine):
    """year -> amount: the national 贫困线 up to 2020, the province's 监测线 from 2021 (the demo's rows)."""
    national = dict(rows(engine, "SELECT year, amount FROM poverty_line WHERE kind = '贫困线' AND province = ''"))
    province = dict(rows(engine, "SELECT year, amount FROM poverty_line WHERE kind = '监测线' AND province = '52'"))
    return {y: (national[y] if y <= 2020 else province[y]) for y in set(national) | set(province)
            if (y <= 2020 and y in national) or (y > 2020 and y in province)}


def test_line_by_year(registry_engine, county_scope):
    got = rules.line_by_year(registry_engine, county_scope, 2014, 2026)
    hand = lines_by_hand(registry_engine)
    assert dict(zip(got["year"], got["amount"])) == {y: a for y, a in hand.items() if 2014 <= y <= 2026}
    assert set(got[got["year"] <= 2020]["kind"]) == {"贫困线"} and set(got[got["year"] > 2020]["kind"]) == {"监测线"}


@pytest.mark.parametrize("year,margin", [(2018, 10.0), (2026, 10.0), (2026, 20.0)])
def test_near_line(registry_engine, size, year, margin):
    lines = lines_by_hand(registry_engine)
    for scope in scopes(registry_engine):
        incomes = defaultdict(dict)
        for hh_id, y, pcn in rows(registry_engine, "SELECT i.hh_id, i.year, i.per_capita_net FROM income i "
                                                    "JOIN household h "
                                                    "ON h.hh_id = i.hh_id WHERE h.village_code LIKE :p", p=like(scope)):
            incomes[hh_id][y] = pcn
        risky, below, unjudged = [], 0, 0
        for h in households(registry_engine, scope):
            if state(h, year) != "已脱贫":
                continue
            years = [y for y in incomes.get(h["hh_id"], {}) if y <= year]
            if not years or max(years) not in lines:
                unjudged += 1
                continue
            latest = max(years)
            pcn, line = incomes[h["hh_id"]][latest], lines[latest]
            if pcn < line * (1 + margin / 100):
                risky.append(((pcn - line) * 100.0 / line, h["hh_id"], size.get((h["hh_id"], year), 0), latest, line))
                below += pcn < line
        risky.sort()
        got = exits.near_line(registry_engine, scope, year, margin, limit=5)
        assert got["households"] == len(risky)
        assert got["persons"] == sum(r[2] for r in risky)
        assert (got["below_households"], got["near_households"]) == (below, len(risky) - below)
        assert got["unjudged_households"] == unjudged
        assert list(got["rows"]["hh_id"]) == [r[1] for r in risky[:5]]
        assert list(got["rows"]["income_year"]) == [r[3] for r in risky[:5]]
        assert list(got["rows"]["line"]) == [r[4] for r in risky[:5]]
        assert list(got["rows"]["line_kind"]) == ["贫困线" if r[3] <= 2020 else "监测线" for r in risky[:5]]
        assert list(got["rows"]["above_line_pct"]) == [hround(r[0], 2) for r in risky[:5]]
    county = scopes(registry_engine)[0]
    assert exits.near_line(registry_engine, county, 2026, 20.0)["households"] > 0


@pytest.mark.parametrize("year", (2018, 2026))
def test_unmet_guarantees(registry_engine, year):
    as_of_year = int(str(rows(registry_engine, "SELECT value FROM meta WHERE key = 'data_as_of'")[0][0])[:4])
    if year < as_of_year:  # the registry keeps house, water, schooling and insurance for today only
        for scope in scopes(registry_engine):
            got = exits.unmet_guarantees(registry_engine, scope, year, limit=6)
            assert not got["judged"] and got["households"] is None and got["rows"].empty
            assert got["status_year"] == as_of_year
        return
    for scope in scopes(registry_engine):
        members = defaultdict(list)
        for hh_id, birth_year, schooling, insured in rows(
                registry_engine, "SELECT p.hh_id, p.birth_year, p.schooling, p.medical_insurance FROM person p "
                                 "WHERE p.village_code LIKE :p AND p.leave_date IS NULL", p=like(scope)):
            members[hh_id].append((birth_year, schooling, insured))
        flagged = []
        by_item = defaultdict(int)
        for h in households(registry_engine, scope, ", house_grade, safe_water, food_clothing_ok"):
            if state(h, year) != "已脱贫":
                continue
            kids = sum(1 for b, s, _ in members[h["hh_id"]]
                       if b is not None and 6 <= year - b <= 15 and s == "非在校生")
            uninsured = sum(1 for _, _, ins in members[h["hh_id"]] if ins is not None and not ins)
            items = {
                "dangerous_house": h["house_grade"] in ("C", "D"), "out_of_school": kids > 0,
                "no_insurance": uninsured > 0, "unsafe_water": h["safe_water"] is not None and not h["safe_water"],
                "food_clothing": h["food_clothing_ok"] is not None and not h["food_clothing_ok"],
            }
            for k, v in items.items():
                by_item[k] += v
            if any(items.values()):
                flagged.append((h["village_code"], h["hh_id"], h["member_count"], items, kids, uninsured))
        flagged.sort()
        got = exits.unmet_guarantees(registry_engine, scope, year, limit=6)
        assert got["households"] == len(flagged)
        assert got["persons"] == sum(f[2] for f in flagged)
        assert got["by_item"] == {k: by_item[k] for k in exits.GUARANTEE_ITEMS}
        assert list(got["rows"]["hh_id"]) == [f[1] for f in flagged[:6]]
        for (_, _, _, items, kids, uninsured), (_, r) in zip(flagged, got["rows"].iterrows()):
            assert {k: bool(r[k]) for k in items} == items
            assert (r["children_out"], r["uninsured"]) == (kids, uninsured)
    county = scopes(registry_engine)[0]
    assert exits.unmet_guarantees(registry_engine, county, 2026)["households"] > 0


@pytest.mark.parametrize("year", (2017, 2020, 2026))
def test_exit_pipeline(registry_engine, size, year):
    for scope in scopes(registry_engine):
        got = exits.exit_pipeline(registry_engine, scope, year, 2026).set_index("step")
        assert list(got.index) == ["民主评议", "核实", "户认可", "公示", "公告", "销号"]
        everyone = households(registry_engine, scope)
        done = [h for h in everyone if h["exit_year"] == year and h["identified_year"] <= year]
        assert (got.loc["销号", "households"], got.loc["销号", "persons"]) == (
            len(done), sum(size.get((h["hh_id"], year), 0) for h in done))
        for step in ["民主评议", "核实", "户认可", "公示", "公告"]:
            if year < 2026:
                assert got.loc[step, "households"] is None or got.loc[step, "households"] != got.loc[step, "households"]
                continue
            at_step = [h for h in everyone if h["exit_step"] == step and state(h, 2026) in ("未脱贫", "返贫")]
            assert (got.loc[step, "households"], got.loc[step, "persons"]) == (
                len(at_step), sum(h["member_count"] for h in at_step))
