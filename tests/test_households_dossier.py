"""The household dossier (户档案) functions against independent SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from data_access.privacy import mask_id, mask_phone
from data_access.queries import dossier, households as hq
from data_access.scope import Scope
from tests.helpers import dicts


@pytest.fixture(scope="module")
def sample(registry_engine):
    """Households with the most going on: members of school age, a monitoring record, projects."""
    watched = dicts(registry_engine, "SELECT hh_id FROM monitoring_object ORDER BY hh_id")[0]["hh_id"]
    benefited = dicts(registry_engine, "SELECT hh_id, COUNT(*) AS n FROM project_beneficiary GROUP BY hh_id "
                                      "ORDER BY COUNT(*) DESC, hh_id")[0]["hh_id"]
    big = dicts(registry_engine, "SELECT hh_id FROM household ORDER BY member_count DESC, hh_id")[0]["hh_id"]
    unsafe = dicts(registry_engine, "SELECT hh_id FROM household WHERE house_grade IN ('C','D') OR safe_water = :f "
                                   "ORDER BY hh_id", f=False)
    return [watched, benefited, big] + [r["hh_id"] for r in unsafe[:2]]


def scopes_of(engine, hh_id):
    h = dicts(engine, "SELECT county_code, town_code, village_code FROM household WHERE hh_id = :h", h=hh_id)[0]
    return [Scope.of(h["county_code"]), Scope.of(h["town_code"]), Scope.of(h["village_code"])]


def other_town(engine, hh_id):
    town = dicts(engine, "SELECT town_code FROM household WHERE hh_id = :h", h=hh_id)[0]["town_code"]
    return Scope.of(dicts(engine, "SELECT code FROM region WHERE level = 'town' AND code <> :t ORDER BY code",
                         t=town)[0]["code"])


def test_profile_only_inside_scope(registry_engine, sample):
    for hh in sample:
        raw = dicts(registry_engine, "SELECT * FROM household WHERE hh_id = :h", h=hh)[0]
        for scope in scopes_of(registry_engine, hh):
            got = dossier.household_profile(registry_engine, scope, hh, 2026, masked=False)
            assert got is not None
            for key in ("head_name", "member_count", "attribute", "main_cause", "identified_year", "exit_year",
                        "phone", "house_grade"):
                assert got[key] == raw[key]
            causes = {r["cause"] for r in dicts(registry_engine, "SELECT cause FROM other_cause WHERE hh_id = :h",
                                                h=hh)}
            assert set(got["other_causes"]) == causes
        assert dossier.household_profile(registry_engine, other_town(registry_engine, hh), hh, 2026) is None
        masked = dossier.household_profile(registry_engine, scopes_of(registry_engine, hh)[0], hh, 2026)
        assert masked["phone"] == (mask_phone(raw["phone"]) if raw["phone"] else raw["phone"])
    assert dossier.household_profile(registry_engine, scopes_of(registry_engine, sample[0])[0], "0000000000000000",
                                2026) is None


def test_every_dossier_table_is_refused_outside_scope(registry_engine, sample):
    hh = sample[1]
    outside = other_town(registry_engine, hh)
    for fn, args in ((dossier.household_members, ()), (dossier.household_income, ()), (dossier.household_measures, ()),
                     (dossier.household_helpers, ()), (dossier.household_visits, ()), (dossier.household_projects, ()),
                     (dossier.household_monitoring, ()), (dossier.household_guarantees, (2026,))):
        assert fn(registry_engine, outside, hh, *args).empty, fn.__name__
        assert not fn(registry_engine, scopes_of(registry_engine, hh)[2], hh, *args).empty or \
            fn is dossier.household_monitoring, fn.__name__


def test_members_masked_and_complete(registry_engine, sample):
    for hh in sample:
        raw = dicts(registry_engine, "SELECT person_id, name, id_number, phone, relation FROM person "
                                    "WHERE hh_id = :h ORDER BY person_id", h=hh)
        scope = scopes_of(registry_engine, hh)[1]
        got = dossier.household_members(registry_engine, scope, hh, masked=True)
        assert sorted(got["person_id"]) == [r["person_id"] for r in raw]
        assert got["relation"].iloc[0] == "户主" or "户主" not in {r["relation"] for r in raw}
        by_id = {r["person_id"]: r for r in raw}
        for rec in got.to_dict("records"):
            source = by_id[rec["person_id"]]
            assert rec["id_number"] == mask_id(source["id_number"]) and "*" in rec["id_number"]
            assert rec["id_number"] != source["id_number"]
            if source["phone"]:
                assert rec["phone"] == mask_phone(source["phone"])
        clear = dossier.household_members(registry_engine, scope, hh, masked=False)
        assert set(clear["id_number"]) == {r["id_number"] for r in raw}


def test_income_against_the_line(registry_engine, sample):
    lines = {r["year"]: r["amount"] for r in dicts(
        registry_engine, "SELECT year, amount FROM poverty_line WHERE (year <= 2020 AND kind = '贫困线') "
                         "OR (year > 2020 AND kind = '监测线')")}
    for hh in sample:
        raw = dicts(registry_engine, "SELECT year, per_capita_net, wage + business_income - business_cost + "
                                    "property_income + transfer_income AS net, members FROM income "
                                    "WHERE hh_id = :h ORDER BY year", h=hh)
        got = dossier.household_income(registry_engine, scopes_of(registry_engine, hh)[2], hh)
        assert list(got["year"]) == [r["year"] for r in raw]
        for rec, r in zip(got.to_dict("records"), raw):
            assert rec["per_capita_net"] == pytest.approx(float(r["per_capita_net"]), abs=0.01)
            assert rec["line"] == lines.get(r["year"])
            if rec["line"]:
                assert rec["above_line_pct"] == pytest.approx(
                    (float(r["per_capita_net"]) - rec["line"]) * 100 / rec["line"], abs=0.01)


def test_help_visits_projects_monitoring(registry_engine, sample):
    for hh in sample:
        scope = scopes_of(registry_engine, hh)[0]
        measures = dossier.household_measures(registry_engine, scope, hh)
        raw = dicts(registry_engine, "SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS s FROM help_measure "
                                    "WHERE hh_id = :h", h=hh)[0]
        assert len(measures) == raw["n"] and int(measures["amount"].fillna(0).sum()) == int(raw["s"])
        assert list(measures["year"]) == sorted(measures["year"], reverse=True)

        visits = dossier.household_visits(registry_engine, scope, hh)
        raw_v = dicts(registry_engine, "SELECT visit_date FROM visit WHERE hh_id = :h ORDER BY visit_date DESC", h=hh)
        assert [str(d)[:10] for d in visits["visit_date"]] == [str(r["visit_date"])[:10] for r in raw_v]

        helpers = dossier.household_helpers(registry_engine, scope, hh, masked=True)
        raw_h = dicts(registry_engine, "SELECT p.name, p.phone FROM assignment a, helper p "
                                      "WHERE a.helper_id = p.helper_id AND a.hh_id = :h", h=hh)
        assert sorted(helpers["helper_name"]) == sorted(r["name"] for r in raw_h)
        assert all(p is None or "****" in p for p in helpers["phone"])

        projects = dossier.household_projects(registry_engine, scope, hh)
        raw_p = dicts(registry_engine, "SELECT COUNT(*) AS n, COALESCE(SUM(b.amount), 0) AS s FROM "
                                      "project_beneficiary b WHERE b.hh_id = :h", h=hh)[0]
        assert len(projects) == raw_p["n"] and int(projects["amount"].fillna(0).sum()) == int(raw_p["s"])

        watch = dossier.household_monitoring(registry_engine, scope, hh)
        raw_m = dicts(registry_engine, "SELECT kind, main_risk FROM monitoring_object WHERE hh_id = :h "
                                      "ORDER BY identified_date", h=hh)
        assert list(zip(watch["kind"], watch["main_risk"])) == [(r["kind"], r["main_risk"]) for r in raw_m]


@pytest.mark.parametrize("year", [2016, 2026])
def test_guarantees_by_hand(registry_engine, sample, year):
    for hh in sample:
        h = dicts(registry_engine, "SELECT * FROM household WHERE hh_id = :h", h=hh)[0]
        people = dicts(registry_engine, "SELECT birth_year, schooling, medical_insurance FROM person "
                                       "WHERE hh_id = :h", h=hh)
        out_of_school = sum(1 for p in people if p["birth_year"] is not None and 6 <= year - p["birth_year"] <= 15
                            and p["schooling"] == "非在校生")
        uninsured = sum(1 for p in people if p["medical_insurance"] is not None and not p["medical_insurance"])
        expected = {
            "吃穿不愁": None if h["food_clothing_ok"] is None else bool(h["food_clothing_ok"]),
            "义务教育有保障": out_of_school == 0,
            "基本医疗有保障": uninsured == 0 if uninsured or all(p["medical_insurance"] is not None for p in people)
            else None,
            "住房安全有保障": None if h["house_grade"] is None else h["house_grade"] not in ("C", "D"),
            "饮水安全有保障": None if h["safe_water"] is None else bool(h["safe_water"]),
        }
        got = dossier.household_guarantees(registry_engine, scopes_of(registry_engine, hh)[1], hh, year)
        states = dict(zip(got["item"], got["state"]))
        assert list(states) == list(dossier.GUARANTEES)
        for item, ok in expected.items():
            assert states[item] == {True: dossier.MET, False: dossier.UNMET, None: dossier.UNKNOWN}[ok], (hh, item)


def test_helper_options_match_sql(registry_engine):
    for code in ("523199000000",):
        got = hq.helper_options(registry_engine, Scope.of(code))
        raw = dicts(registry_engine, "SELECT p.helper_id, COUNT(DISTINCT a.hh_id) AS n FROM assignment a "
                                    "JOIN helper p ON p.helper_id = a.helper_id WHERE a.village_code LIKE :p "
                                    "GROUP BY p.helper_id", p=code[:6] + "%")
        assert dict(zip(got["helper_id"], got["households"])) == {r["helper_id"]: r["n"] for r in raw}


def test_visit_dates_are_dates(registry_engine, sample):
    visits = dossier.household_visits(registry_engine, scopes_of(registry_engine, sample[0])[0], sample[0])
    assert all(isinstance(d, dt.date) for d in visits["visit_date"])
