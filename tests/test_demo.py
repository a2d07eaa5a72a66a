"""The demo-data generator: determinism, internal consistency, geometry, CLI.

Every check recomputes the figure independently (raw SQL, own check-digit and
shoelace code), so it can fail; none re-uses the generator's own helpers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import text

from data_access import db, schema

ROOT = Path(__file__).resolve().parent.parent
COUNTY = "523199000000"
AS_OF = dt.date(2026, 10, 31)
SEED = 7


def _demo():
    from tests.helpers import demo_module

    return demo_module()


@pytest.fixture(scope="module")
def small(make_db):
    """URL of the shared small SQLite demo database (seed 7)."""
    return make_db("small", SEED, backend="sqlite")


@pytest.fixture(scope="module")
def q(small, sql):
    """This module checks the SQLite demo only (conftest's ``q`` is per backend)."""
    return sql(small)


# What the app writes as it is used (sign-ins and exports of the tests that share the seed-7 database, used sign-in
# links, imports): not the demo's content.
RUNTIME_TABLES = ("audit_log", "used_token", "import_log")


def _dump(engine) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, with dates as ISO text (comparable across backends)."""
    out = {}
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            if table.name in RUNTIME_TABLES:
                continue
            rows = conn.execute(text(f"SELECT * FROM {table.name}")).all()  # raw values, no type processing
            norm = []
            for r in rows:
                norm.append(tuple(
                    v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else
                    int(v) if isinstance(v, bool) else round(v, 6) if isinstance(v, float) else v for v in r))
            if table.name == "meta":  # data_version is a time stamp by design (cache key)
                # summary_version = data_version
                norm = [r for r in norm if r[0] not in ("data_version", "summary_version")]
            out[table.name] = sorted(norm, key=repr)
    return out


# ---- determinism -------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_other_seed_differs(tmp_path, small):
    demo = _demo()
    dumps = {"a": _dump(db.get_engine(small))}
    for name, seed in (("b", SEED), ("c", SEED + 1)):
        engine = db.get_engine(f"sqlite:///{tmp_path / name}.db")
        demo.generate(engine, scale="small", seed=seed)
        dumps[name] = _dump(engine)
        engine.dispose()
    a, b, c = dumps["a"], dumps["b"], dumps["c"]
    assert sum(len(v) for v in a.values()) > 10_000
    for table in a:
        assert a[table] == b[table], f"table {table} differs between two runs with the same seed"
    differing = [t for t in a if a[t] != c[t]]
    assert {"household", "person", "income", "region"} <= set(differing)


def test_summary_counts_match_tables(make_db, small, sql):
    summary = make_db.summaries[small]
    s = sql(small)
    for table in schema.metadata.sorted_tables:
        if table.name not in RUNTIME_TABLES:
            assert summary["rows"][table.name] == s.scalar(f"SELECT count(*) FROM {table.name}"), table.name
    assert summary["scale"] == "small" and summary["seed"] == SEED and summary["seconds"] > 0  # speed: bench/


def test_meta_keys(q):
    meta = dict(q.rows("SELECT key, value FROM meta"))
    assert meta["schema_version"] == str(schema.SCHEMA_VERSION)
    assert meta["data_as_of"] == "2026-10-31"
    assert meta["is_demo"] == "1"
    assert meta["county_name"] == "云岭县" and meta["province_name"] == "黔山省"
    assert meta["demo_seed"] == str(SEED) and meta["demo_scale"] == "small"
    assert meta["data_version"].isdigit()


def test_unknown_scale_and_province_on_sqlite_are_refused(tmp_path):
    demo = _demo()
    engine = db.get_engine(f"sqlite:///{tmp_path / 'refuse.db'}")
    with pytest.raises(db.RegistryError, match="规模"):
        demo.generate(engine, scale="huge")
    with pytest.raises(db.RegistryError, match="PostgreSQL"):
        demo.generate(engine, scale="province")
    with engine.connect() as conn:  # refused before touching the database
        assert conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar() == 0


# ---- regions and geometry ----------------------------------------------------------


def test_region_tree_codes_and_names(q):
    rows = q.dicts("SELECT * FROM region")
    by_code = {r["code"]: r for r in rows}
    levels = Counter(r["level"] for r in rows)
    assert levels["province"] == levels["city"] == levels["county"] == 1
    assert levels["town"] == 3 and 10 <= levels["village"] <= 16
    assert by_code["520000000000"]["name"] == "黔山省"
    assert by_code["523100000000"]["name"] == "青岚市"
    assert by_code[COUNTY]["name"] == "云岭县"
    for r in rows:
        if r["level"] == "town":
            assert r["parent_code"] == COUNTY and r["code"][9:] == "000"
            kind = int(r["code"][6:9])
            assert (100 < kind < 200 and r["name"].endswith("镇")) or (200 < kind < 400 and r["name"].endswith("乡"))
        if r["level"] == "village":
            assert r["parent_code"] == r["code"][:9] + "000" and r["code"][9] == "2"
            assert r["name"].endswith("村")
    names = defaultdict(list)
    for r in rows:
        if r["level"] == "village":
            names[r["parent_code"]].append(r["name"])
    assert all(len(v) == len(set(v)) for v in names.values())


def test_rural_population_sums_up(q):
    rows = q.dicts("SELECT code, level, parent_code, rural_population FROM region")
    kids = defaultdict(int)
    for r in rows:
        if r["parent_code"]:
            kids[r["parent_code"]] += r["rural_population"]
    for r in rows:
        if r["level"] != "village":
            assert r["rural_population"] == kids[r["code"]], r["code"]
        else:
            assert r["rural_population"] > 0


def test_poor_villages(q):
    rows = q.rows("SELECT is_poor_village, poor_village_exit_year FROM region WHERE level='village'")
    poor = [y for p, y in rows if p]
    assert 0.2 <= len(poor) / len(rows) <= 0.4
    assert all(2016 <= y <= 2020 for y in poor)
    assert all(y is None for p, y in rows if not p)


def _shoelace(ring):
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:])) / 2


def _geometries(q, level):
    return {code: json.loads(g) for code, g in
            q.rows("SELECT code, geometry FROM region WHERE level = :l", l=level)}


def test_every_polygon_is_closed_and_counter_clockwise(q):
    for level in ("village", "town", "county"):
        for code, g in _geometries(q, level).items():
            assert g["type"] == "Polygon", code
            ring = g["coordinates"][0]
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert _shoelace(ring) > 0, f"{code}: outer ring not counter-clockwise"
            assert all(104.0 < x < 106.0 and 26.0 < y < 27.8 for x, y in ring)


def test_villages_tile_their_town_and_towns_tile_the_county(q):
    villages, towns, county = _geometries(q, "village"), _geometries(q, "town"), _geometries(q, "county")

    def area(g):
        return abs(_shoelace(g["coordinates"][0])) - sum(abs(_shoelace(h)) for h in g["coordinates"][1:])

    for tcode, tg in towns.items():
        vs = [g for c, g in villages.items() if c[:9] == tcode[:9]]
        assert vs
        total = sum(area(g) for g in vs)
        assert abs(total - area(tg)) <= 1e-6 * area(tg), tcode
    assert abs(sum(area(g) for g in towns.values()) - area(county[COUNTY])) <= 1e-6 * area(county[COUNTY])

    # No gaps, no overlaps: every village edge is either shared (reversed) by exactly one other
    # village or lies on the county outline.
    def segments(g):
        ring = [tuple(p) for p in g["coordinates"][0]]
        return list(zip(ring, ring[1:]))

    owner = {}
    for code, g in villages.items():
        for seg in segments(g):
            assert seg not in owner, f"edge used twice in the same direction ({code}, {owner.get(seg)})"
            owner[seg] = code
    outline = set(segments(county[COUNTY]))
    for seg, code in owner.items():
        rev = (seg[1], seg[0])
        assert (rev in owner and owner[rev] != code) or seg in outline, f"gap next to {code}"


def test_centroids_lie_in_their_polygons_bbox(q):
    for code, lon, lat, g in q.rows("SELECT code, lon, lat, geometry FROM region "
                                    "WHERE level IN ('village','town','county')"):
        ring = json.loads(g)["coordinates"][0]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        assert min(xs) <= lon <= max(xs) and min(ys) <= lat <= max(ys), code


def _area(g):
    polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    return sum(abs(_shoelace(p[0])) - sum(abs(_shoelace(h)) for h in p[1:]) for p in polys)


def test_province_path_several_counties_and_cities(make_db, sql):
    """The multi-county code path (used at province scale), on a tiny 4-county province."""
    url = make_db("test_province", 5, backend="sqlite")
    t = sql(url)
    rows = t.dicts("SELECT code, level, parent_code, rural_population, geometry FROM region")
    levels = Counter(r["level"] for r in rows)
    assert levels["province"] == 1 and levels["city"] == 2 and levels["county"] == 4
    by_code = {r["code"]: r for r in rows}
    assert by_code[COUNTY]["parent_code"] == "523100000000"
    children = defaultdict(list)
    for r in rows:
        if r["parent_code"]:
            children[r["parent_code"]].append(r)
    for r in rows:
        if r["level"] == "village":
            continue
        kids = children[r["code"]]
        assert kids and r["rural_population"] == sum(k["rural_population"] for k in kids), r["code"]
        parent_area = _area(json.loads(r["geometry"]))
        assert abs(sum(_area(json.loads(k["geometry"])) for k in kids) - parent_area) <= 1e-6 * parent_area
    # ID numbers carry each person's own county prefix and stay unique across counties
    assert t.scalar("SELECT count(*) FROM person p JOIN household h ON h.hh_id = p.hh_id "
                    "WHERE substr(p.id_number, 1, 6) <> substr(h.county_code, 1, 6)") == 0
    assert t.scalar("SELECT count(DISTINCT id_number) FROM person") == t.scalar("SELECT count(*) FROM person")
    # the documented problems exist once, in 云岭县 only
    assert t.scalar("SELECT count(*) FROM project WHERE region_code IS NULL") == 2
    assert t.scalar("SELECT count(DISTINCT county_code) FROM project WHERE region_code IS NULL") == 1
    counties = {c for c, in t.rows("SELECT DISTINCT county_code FROM household")}
    assert len(counties) == 4


# ---- households and persons ------------------------------------------------------------


def test_member_count_equals_person_rows(q):
    bad = q.scalar("SELECT count(*) FROM household h LEFT JOIN (SELECT hh_id, count(*) n FROM person"
                   " WHERE leave_date IS NULL GROUP BY hh_id) p"
                   " ON p.hh_id = h.hh_id WHERE coalesce(p.n, 0) <> h.member_count")
    assert bad == 0
    assert q.scalar("SELECT count(*) FROM person p JOIN household h ON h.hh_id = p.hh_id "
                    "WHERE p.village_code <> h.village_code") == 0
    assert q.scalar("SELECT min(member_count) FROM household") >= 1
    assert q.scalar("SELECT max(member_count) FROM household") <= 8
    mean = q.scalar("SELECT avg(member_count) FROM household")
    assert 3.2 <= mean <= 4.1
    heads = q.rows("SELECT hh_id, count(*) FROM person WHERE relation = '户主' AND leave_date IS NULL GROUP BY hh_id")
    assert len(heads) == q.scalar("SELECT count(*) FROM household") and all(n == 1 for _, n in heads)
    assert q.scalar("SELECT count(*) FROM household h JOIN person p ON p.hh_id = h.hh_id AND p.relation = '户主' "
                    "WHERE p.name <> h.head_name") == 0


def test_membership_changes_are_realistic(q):
    """Births after identification join at birth; some deaths, marriages out and in; the dates make sense."""
    rows = q.dicts("SELECT p.*, h.identified_year FROM person p JOIN household h ON h.hh_id = p.hh_id")
    reasons = Counter(r["leave_reason"] for r in rows if r["leave_date"] is not None)
    assert reasons["死亡"] > 0 and reasons["婚嫁"] > 0
    assert set(reasons) <= {"死亡", "迁出", "婚嫁", "其他"}
    assert all(r["leave_reason"] is None for r in rows if r["leave_date"] is None)
    for r in rows:
        start = r["identified_year"] or 2014
        birth = dt.date.fromisoformat(str(r["birth_date"]))
        if birth.year > start or (birth.year == start and birth > dt.date(start, 1, 1)):
            assert str(r["join_date"]) == str(r["birth_date"]), r["person_id"]  # joined at birth
        if r["join_date"] is not None:
            assert str(r["join_date"]) >= str(r["birth_date"]) and str(r["join_date"]) <= str(AS_OF)
        if r["leave_date"] is not None:
            assert str(r["leave_date"])[:4] > str(start - 1) and str(r["leave_date"]) < str(AS_OF)
            assert r["relation"] != "户主"
    married_in = [r for r in rows if r["join_date"] is not None and r["relation"] in ("之儿媳", "之女婿")
                  and str(r["join_date"]) != str(r["birth_date"])]
    assert married_in


def _check_char(body):
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def test_id_numbers_valid_unique_and_consistent(q):
    rows = q.rows("SELECT id_number, birth_date, birth_year, sex FROM person")
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids))
    for idn, birth, year, sex in rows:
        assert len(idn) == 18 and idn[:17].isdigit() and idn[:6] == COUNTY[:6]
        assert _check_char(idn[:17]) == idn[17], idn
        born = dt.date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
        assert str(born) == str(birth) and born.year == year and born <= AS_OF
        assert (int(idn[16]) % 2 == 1) == (sex == "男")


def test_person_fields_are_plausible(q):
    rows = q.dicts("SELECT * FROM person")
    for r in rows:
        age = 2026 - r["birth_year"]
        if r["relation"] == "户主":
            assert age >= 18
        if 6 <= age <= 15 and r["schooling"] == "非在校生":
            continue
        if 6 <= age <= 11:
            assert r["schooling"] == "小学"
        if age < 16:
            assert r["labour_skill"] == "无劳动力" and r["work_status"] == "未外出务工"
        assert (r["work_months"] == 0) == (r["work_status"] == "未外出务工")
    insured = sum(1 for r in rows if r["medical_insurance"])
    assert insured / len(rows) > 0.99


def test_household_status_consistent_with_years(q):
    rows = q.dicts("SELECT * FROM household")
    registered = [r for r in rows if r["kind"] == "建档立卡户"]
    monitoring = [r for r in rows if r["kind"] == "一般农户"]
    assert len(registered) >= 500 and monitoring
    for r in registered:
        assert 2014 <= r["identified_year"] <= 2019
        assert r["attribute"] and r["main_cause"] and r["standard"]
        if r["exit_year"] is None:
            assert r["status"] == "未脱贫" and r["returned_year"] is None and r["exit_step"] != "销号"
            assert r["policy_status"] is None
        else:
            assert r["identified_year"] + 1 <= r["exit_year"] <= 2020
            if r["returned_year"] is None:
                assert r["status"] == "已脱贫" and r["exit_step"] == "销号" and r["policy_status"]
            else:
                assert r["status"] == "返贫" and r["exit_year"] < r["returned_year"] <= 2023
        if r["relocated"]:
            assert 2016 <= r["relocation_year"] <= 2019 and r["relocation_site"]
        else:
            assert r["relocation_year"] is None and r["relocation_site"] is None
    for r in monitoring:
        assert r["identified_year"] is r["exit_year"] is r["attribute"] is r["main_cause"] is r["status"] is None
    share = Counter(r["attribute"] for r in registered)
    assert 0.65 < share["一般贫困户"] / len(registered) < 0.85
    assert all(r["village_code"][:9] == r["town_code"][:9] and r["county_code"] == COUNTY for r in rows)


def test_other_causes_differ_from_main_cause(q):
    assert q.scalar("SELECT count(*) FROM other_cause o JOIN household h ON h.hh_id = o.hh_id "
                    "WHERE o.cause = h.main_cause") == 0
    assert q.scalar("SELECT max(n) FROM (SELECT count(*) n FROM other_cause GROUP BY hh_id) t") <= 2


# ---- income and lines --------------------------------------------------------------------


def test_income_rows_and_formula(q):
    lines = dict(q.rows("SELECT year, amount FROM poverty_line WHERE kind='贫困线' AND province=''"))
    lines.update(q.rows("SELECT year, amount FROM poverty_line WHERE kind='监测线' AND province='52'"))
    assert lines[2016] == 2952 and lines[2014] == 2800 and lines[2020] == 4000 and 2021 in lines
    hh = {r["hh_id"]: r for r in q.dicts("SELECT * FROM household WHERE kind='建档立卡户'")}
    rows = q.dicts("SELECT * FROM income")
    size_at = Counter()  # members at each year's end, from the person rows' own dates
    people = q.rows("SELECT hh_id, birth_year, join_date, leave_date FROM person")
    for hh_id, born, joined, left in people:
        if hh_id not in hh:
            continue
        for y in range(hh[hh_id]["identified_year"], 2026):
            if born <= y and (joined is None or str(joined)[:4] <= str(y)) and (left is None or str(left)[:4] > str(y)):
                size_at[(hh_id, y)] += 1
    years = defaultdict(list)
    for r in rows:
        years[r["hh_id"]].append(r["year"])
        h = hh[r["hh_id"]]
        assert r["members"] == size_at[(r["hh_id"], r["year"])], (r["hh_id"], r["year"])  # 家庭人口数 of that year
        net = r["wage"] + r["business_income"] - r["business_cost"] + r["property_income"] + r["transfer_income"]
        assert abs(r["per_capita_net"] - net / r["members"]) < 1e-6
        assert min(r["wage"], r["business_income"], r["business_cost"], r["property_income"],
                   r["transfer_income"], r["transfer_excluded"]) >= 0
        poor = (h["exit_year"] is None or r["year"] < h["exit_year"]
                or (h["returned_year"] is not None and r["year"] >= h["returned_year"]))
        if poor:
            assert r["per_capita_net"] < lines[r["year"]], (r["hh_id"], r["year"])
        elif r["year"] <= 2020:
            assert r["per_capita_net"] >= lines[r["year"]] * 0.999, (r["hh_id"], r["year"])
    assert set(years) == set(hh)
    for hid, ys in years.items():
        assert sorted(ys) == list(range(hh[hid]["identified_year"], 2026))
    verified = dict(q.rows("SELECT year, verified FROM poverty_line WHERE kind='贫困线'"))
    assert verified[2016] and not verified[2017]


# ---- help and monitoring -----------------------------------------------------------------


def test_assignments_and_visits(q):
    assert q.scalar("SELECT count(*) FROM household") == q.scalar(
        "SELECT count(DISTINCT hh_id) FROM assignment WHERE end_date IS NULL")
    assert q.scalar("SELECT count(*) FROM assignment a JOIN household h ON h.hh_id = a.hh_id "
                    "JOIN helper p ON p.helper_id = a.helper_id "
                    "WHERE a.village_code <> h.village_code OR p.town_code <> h.town_code") == 0
    assert q.scalar("SELECT count(*) FROM visit v JOIN assignment a ON a.hh_id = v.hh_id "
                    "WHERE a.helper_id <> v.helper_id OR v.village_code <> a.village_code") == 0
    lo, hi = q.rows("SELECT min(visit_date), max(visit_date) FROM visit")[0]
    assert str(lo) >= "2024-01-01" and str(hi) <= "2026-10-31"
    # some households not visited in the last 90 days, but most are
    recent = q.scalar("SELECT count(DISTINCT hh_id) FROM visit WHERE visit_date > '2026-08-01'")
    total = q.scalar("SELECT count(*) FROM household")
    assert 0.5 * total < recent < total


def test_monitoring_objects(q):
    rows = q.dicts("SELECT m.*, h.member_count, h.kind AS hh_kind, h.status, h.returned_year FROM monitoring_object m "
                   "JOIN household h ON h.hh_id = m.hh_id")
    assert rows
    for r in rows:
        assert r["persons"] == r["member_count"]
        assert "2021-01-01" <= str(r["identified_date"]) <= "2026-10-31"
        if r["removed_date"] is not None:
            assert r["identified_date"] < r["removed_date"] and str(r["removed_date"]) <= "2026-10-31"
        if r["kind"] == "脱贫不稳定户":  # exited, or fell back after 2020 and identified that year
            assert r["hh_kind"] == "建档立卡户" and r["status"] in ("已脱贫", "返贫")
            if r["status"] == "返贫":
                assert r["returned_year"] == dt.date.fromisoformat(str(r["identified_date"])[:10]).year >= 2021
        else:
            assert r["hh_kind"] == "一般农户"
    monitoring_households = q.scalar("SELECT count(*) FROM household WHERE kind='一般农户'")
    assert monitoring_households == sum(1 for r in rows if r["hh_kind"] == "一般农户")


def test_help_measures(q):
    # registered households' yearly measures (2015–2025); beyond them only monitoring objects' (监测帮扶), in a
    # year they are under monitoring
    monitored = ("EXISTS (SELECT 1 FROM monitoring_object o WHERE o.hh_id = m.hh_id "
                 "AND o.identified_date < :next AND (o.removed_date IS NULL OR o.removed_date >= :first))")
    for year in range(2015, 2027):
        assert q.scalar("SELECT count(*) FROM help_measure m JOIN household h ON h.hh_id = m.hh_id "
                        "WHERE m.year = :y AND (m.village_code <> h.village_code OR NOT (("
                        "h.kind = '建档立卡户' AND m.year <= 2025 AND m.year >= h.identified_year) OR "
                        + monitored + "))",
                        y=year, first=f"{year}-01-01", next=f"{year + 1}-01-01") == 0, year
    assert q.scalar("SELECT count(*) FROM help_measure WHERE year < 2015 OR year > 2026") == 0
    assert q.scalar("SELECT count(*) FROM (SELECT hh_id, year, measure FROM help_measure "
                    "GROUP BY hh_id, year, measure HAVING count(*) > 1) t") == 0
    low = q.scalar("SELECT count(*) FROM household WHERE attribute='低保贫困户'")
    with_dibao = q.scalar("SELECT count(DISTINCT m.hh_id) FROM help_measure m JOIN household h ON h.hh_id=m.hh_id "
                          "WHERE h.attribute='低保贫困户' AND m.measure='低保兜底'")
    assert low == with_dibao


def test_exit_targets_add_up(q):
    county = dict((y, (h, p, v)) for _, y, h, p, v in
                  q.rows("SELECT * FROM exit_target WHERE region_code = :c", c=COUNTY))
    towns = q.rows("SELECT year, sum(households), sum(persons), sum(villages) FROM exit_target "
                   "WHERE region_code <> :c GROUP BY year", c=COUNTY)
    assert sorted(county) == list(range(2015, 2021))
    for y, h, p, v in towns:
        assert county[y] == (h, p, v)
    for _year, target, actual in q.rows(
            "SELECT t.year, t.households, (SELECT count(*) FROM household h WHERE h.county_code = t.region_code "
            "AND h.exit_year = t.year) FROM exit_target t WHERE t.region_code = :c", c=COUNTY):
        assert abs(target - actual) <= 0.12 * actual + 2


# ---- funds and projects ----------------------------------------------------------------


def _problems(make_db, small):
    return make_db.summaries[small]["problems"]


def test_exactly_the_documented_place_problems(make_db, small, q):
    no_place = q.rows("SELECT project_id, county_code FROM project WHERE region_code IS NULL "
                      "OR town_code IS NULL")
    assert sorted(p for p, _ in no_place) == sorted(_problems(make_db, small)["no_place"])
    assert len(no_place) == 2 and all(c == COUNTY for _, c in no_place)
    assert q.scalar("SELECT count(*) FROM project WHERE region_code IS NULL AND "
                    "(town_code IS NOT NULL OR village_code IS NOT NULL)") == 0
    # otherwise the place is consistent: a village, or a town with no village
    for region, town, village in q.rows("SELECT region_code, town_code, village_code FROM project "
                                        "WHERE region_code IS NOT NULL"):
        assert region[:9] + "000" == town and village in (None, region)


def test_money_invariants_except_the_documented_problem(make_db, small, q):
    over = q.rows(
        "SELECT a.fund_id, a.project_id, a.amount,"
        " coalesce((SELECT sum(amount) FROM money_flow m WHERE m.fund_id=a.fund_id AND m.project_id=a.project_id"
        "  AND m.kind='拨付'),0),"
        " coalesce((SELECT sum(amount) FROM money_flow m WHERE m.fund_id=a.fund_id AND m.project_id=a.project_id"
        "  AND m.kind='支出'),0) FROM arrangement a")
    spent_over = {p for _, p, _, paid, spent in over if spent > paid}
    assert spent_over == set(_problems(make_db, small)["spent_over_paid"]) and len(spent_over) == 1
    assert all(paid <= amount for _, _, amount, paid, _ in over)
    # per fund: arranged <= allocated, most of it arranged
    for fid, amount, arranged in q.rows("SELECT f.fund_id, f.amount, (SELECT coalesce(sum(amount),0) FROM "
                                        "arrangement a WHERE a.fund_id=f.fund_id) FROM fund f"):
        assert arranged <= amount, fid
    total, arranged = q.rows("SELECT (SELECT sum(amount) FROM fund), (SELECT sum(amount) FROM arrangement)")[0]
    assert 0.75 * total < arranged <= total
    assert q.scalar("SELECT count(*) FROM money_flow m LEFT JOIN arrangement a ON a.fund_id=m.fund_id "
                    "AND a.project_id=m.project_id WHERE a.fund_id IS NULL") == 0
    assert q.scalar("SELECT count(*) FROM arrangement a JOIN fund f ON f.fund_id=a.fund_id JOIN project p "
                    "ON p.project_id=a.project_id WHERE f.year <> p.year") == 0
    assert q.scalar("SELECT count(*) FROM money_flow m JOIN project p ON p.project_id = m.project_id "
                    "WHERE CAST(substr(CAST(m.flow_date AS TEXT), 1, 4) AS INTEGER) <> p.year "
                    "OR m.flow_date > '2026-10-31'") == 0
    assert q.scalar("SELECT max(n) FROM (SELECT count(*) n FROM arrangement GROUP BY project_id) t") <= 3
    # the current year is not fully spent
    paid26, spent26, alloc26 = q.rows(
        "SELECT (SELECT sum(m.amount) FROM money_flow m JOIN fund f ON f.fund_id=m.fund_id WHERE f.year=2026"
        " AND m.kind='拨付'),"
        " (SELECT sum(m.amount) FROM money_flow m JOIN fund f ON f.fund_id=m.fund_id WHERE f.year=2026"
        " AND m.kind='支出'),"
        " (SELECT sum(amount) FROM fund WHERE year=2026)")[0]
    assert spent26 < alloc26 and paid26 < alloc26


def test_project_status_dates_and_beneficiaries(q):
    for r in q.dicts("SELECT * FROM project"):
        assert r["beneficiary_poor_households"] <= r["beneficiary_households"]
        assert r["budget"] > 0 and r["planned_start"] < r["planned_end"]
        if r["status"] == "计划":
            assert r["actual_start"] is None and r["actual_end"] is None
        elif r["status"] == "在建":
            assert r["actual_start"] is not None and r["actual_end"] is None
        else:
            assert r["actual_start"] < r["actual_end"] and str(r["actual_end"]) <= "2026-10-31"
        if r["year"] <= 2023:
            assert r["status"] in ("完工", "验收", "报账")
    assert q.scalar("SELECT count(*) FROM project WHERE year=2026 AND status IN ('计划','在建')") > 0
    bad = q.scalar(
        "SELECT count(*) FROM project_beneficiary b JOIN project p ON p.project_id=b.project_id "
        "JOIN household h ON h.hh_id=b.hh_id WHERE h.village_code NOT LIKE substr(p.region_code,1,"
        " CASE WHEN p.village_code IS NULL THEN 9 ELSE 12 END) || '%'")
    assert bad == 0
    assert q.scalar("SELECT count(*) FROM project p WHERE beneficiary_households < "
                    "(SELECT count(*) FROM project_beneficiary b WHERE b.project_id=p.project_id)") == 0
    assert q.scalar("SELECT count(*) FROM project p WHERE budget < (SELECT coalesce(sum(amount),0) "
                    "FROM project_beneficiary b WHERE b.project_id=p.project_id)") == 0


# ---- CLI -----------------------------------------------------------------------------


def _cli(*args, env=None):
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    full_env.pop("REGISTRY_DB_URL", None)
    return subprocess.run([sys.executable, "-m", "data_access", *args], capture_output=True, text=True,
                          cwd=ROOT, env=full_env, timeout=120)


def test_cli_demo_small(tmp_path):
    path = tmp_path / "cli.db"
    res = _cli("demo", "--db", f"sqlite:///{path}", "--scale", "small", "--seed", "3")
    assert res.returncode == 0, res.stderr
    assert "农户(household)" in res.stdout and "用时" in res.stdout
    n = int(res.stdout.split("农户(household):")[1].split("行")[0].replace(",", "").strip())
    import sqlite3

    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM household").fetchone()[0] == n > 0
        assert conn.execute("SELECT value FROM meta WHERE key='demo_seed'").fetchone()[0] == "3"


@pytest.mark.parametrize("url", ["nosuchdb://x/y", "postgresql+psycopg://nobody@127.0.0.1:1/nodb"])
def test_cli_bad_db_url_exits_1_with_chinese_message(url):
    res = _cli("demo", "--db", url, "--scale", "small")
    assert res.returncode == 1
    assert "Traceback" not in res.stderr + res.stdout
    assert "错误" in res.stderr and any("\u4e00" <= ch <= "\u9fff" for ch in res.stderr.replace("错误", ""))


def test_cli_usage_error_is_chinese_and_exit_1():
    res = _cli("demo", "--scale", "huge")
    assert res.returncode == 1 and "错误" in res.stderr and "Traceback" not in res.stderr


# ---- PostgreSQL ------------------------------------------------------------------------


@pytest.mark.postgresql
def test_postgresql_generation_matches_sqlite(pg_database, small):
    demo = _demo()
    url = pg_database("demo_test")
    engine = db.get_engine(url)
    summary = demo.generate(engine, scale="small", seed=SEED)
    assert summary["backend"] == "postgresql"
    on_pg, on_sqlite = _dump(engine), _dump(db.get_engine(small))
    for table in on_sqlite:
        assert on_pg[table] == on_sqlite[table], f"{table} differs between PostgreSQL and SQLite"
    with engine.connect() as conn:  # explicit ids did not leave the sequences behind
        before = conn.execute(text("SELECT max(visit_id) FROM visit")).scalar()
        conn.execute(text("INSERT INTO visit (helper_id, hh_id, village_code, visit_date) "
                          "SELECT helper_id, hh_id, village_code, DATE '2026-10-30' FROM assignment LIMIT 1"))
        assert conn.execute(text("SELECT max(visit_id) FROM visit")).scalar() > before
        conn.rollback()
        fks = conn.execute(text("SELECT count(*) FROM pg_constraint WHERE contype='f'")).scalar()
    assert fks == sum(len(t.foreign_key_constraints) for t in schema.metadata.sorted_tables)


@pytest.mark.postgresql
def test_postgresql_parallel_load_matches_sqlite(pg_database, make_db):
    """Province code path: counties loaded by 2 worker processes give the same content."""
    demo = _demo()
    engine = db.get_engine(pg_database("demo_par"))
    summary = demo.generate(engine, scale="test_province", seed=5, workers=2)
    assert summary["counties"] == 4
    on_pg, on_sqlite = _dump(engine), _dump(db.get_engine(make_db("test_province", 5, backend="sqlite")))
    for table in on_sqlite:
        assert on_pg[table] == on_sqlite[table], f"{table} differs (parallel PostgreSQL vs SQLite)"
