"""Household query (count, paged list, search) checked against a hand count, on SQLite and PostgreSQL.

The reference reads the small demo database's rows with plain SQL and applies each filter in
Python, written from the definitions (domain.md and queries.common's docstring), not from
the query code: scope by code prefix, states by the year rules, income of the income year, etc.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from data_access.rules import id_check_char
from data_access.queries import households as hq
from data_access.scope import Scope
from tests.helpers import dicts, members_at, scopes

REGISTERED, WATCH_ONLY = "建档立卡户", "一般农户"


class Reference:
    """The small database in Python, and every filter applied by hand."""

    def __init__(self, engine):
        self.households = dicts(engine, "SELECT * FROM household")
        self.other = {}
        for r in dicts(engine, "SELECT hh_id, cause FROM other_cause"):
            self.other.setdefault(r["hh_id"], set()).add(r["cause"])
        self.income = {(r["hh_id"], r["year"]): float(r["per_capita_net"])
                       for r in dicts(engine, "SELECT hh_id, year, per_capita_net FROM income")}
        self.income_years = sorted({y for _, y in self.income})
        self.lines = dicts(engine, "SELECT year, kind, province, amount FROM poverty_line")
        self.watch = dicts(engine, "SELECT hh_id, kind, main_risk, identified_date, removed_date "
                                   "FROM monitoring_object")
        self.assign = dicts(engine, "SELECT a.hh_id, a.helper_id, h.unit_id, a.start_date, a.end_date "
                                   "FROM assignment a, helper h WHERE h.helper_id = a.helper_id")
        self.people = dicts(engine, "SELECT hh_id, name, id_number FROM person")
        self.members, self.watch_of, self.assign_of = {}, {}, {}
        for m in self.people:
            self.members.setdefault(m["hh_id"], []).append(m)
        for w in self.watch:
            self.watch_of.setdefault(w["hh_id"], []).append(w)
        for a in self.assign:
            self.assign_of.setdefault(a["hh_id"], []).append(a)
        self.village = {h["hh_id"]: h["village_code"] for h in self.households}
        self._years: dict = {}

    @staticmethod
    def _date(value):
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])

    def line(self, year):
        """贫困线 up to 2020, 监测线 after; a provincial row beats the national one (as exits.py says)."""
        wanted = "贫困线" if year <= 2020 else "监测线"
        candidates = [r for r in self.lines if r["year"] == year]
        candidates.sort(key=lambda r: (r["kind"] != wanted, not r["province"]))
        return candidates[0]["amount"] if candidates else None

    def income_year(self, prefix, year):
        """The newest income year up to ``year`` with a row for a household in the scope."""
        if (prefix, year) not in self._years:
            years = {y for (hh, y) in self.income if y <= year and self.village[hh].startswith(prefix)}
            self._years[(prefix, year)] = max(years) if years else None
        return self._years[(prefix, year)]

    def state(self, h, year):
        if h["kind"] != REGISTERED or h["identified_year"] is None or h["identified_year"] > year:
            return None
        if h["returned_year"] is not None and h["returned_year"] <= year:
            return "返贫"
        if h["exit_year"] is not None and h["exit_year"] <= year:
            return "已脱贫"
        return "未脱贫"

    def matches(self, h, p: dict, year: int, income_year, line) -> bool:
        end, start = dt.date(year, 12, 31), dt.date(year, 1, 1)
        hh = h["hh_id"]
        watched = [w for w in self.watch_of.get(hh, []) if self._date(w["identified_date"]) <= end]
        if self.state(h, year) is None and not (h["kind"] == WATCH_ONLY and watched):
            return False

        def listed(name):
            return [v for v in p.get(name, "").split(",") if v]

        if listed("main_cause") and h["main_cause"] not in listed("main_cause"):
            return False
        if listed("other_cause") and not (self.other.get(hh, set()) & set(listed("other_cause"))):
            return False
        if listed("attribute") and h["attribute"] not in listed("attribute"):
            return False
        if listed("status") and self.state(h, year) not in listed("status"):
            return False
        for name in ("identified_year", "exit_year"):
            if name in p:
                lo, _, hi = p[name].partition("-") if "-" in p[name] else (p[name], "", p[name])
                value = h[name]
                if value is None or (lo and value < int(lo)) or (hi and value > int(hi)):
                    return False
        income = self.income.get((hh, income_year)) if income_year else None
        if "income_min" in p and (income is None or income < float(p["income_min"])):
            return False
        if "income_max" in p and (income is None or income > float(p["income_max"])):
            return False
        if "line_margin" in p and (income is None or not income < line * (1 + float(p["line_margin"]) / 100)):
            return False
        if "relocated" in p and bool(h["relocated"]) != (p["relocated"] == "1"):
            return False
        if "house" in p:
            grades = {g for v in listed("house") for g in (("C", "D") if v == "danger" else (v,))}
            if h["house_grade"] not in grades:
                return False
        if "water" in p and (h["safe_water"] is None or bool(h["safe_water"]) != (p["water"] == "1")):
            return False
        if any(k in p for k in ("monitoring_kind", "risk", "removed")):
            def fits(w):
                removed = w["removed_date"] is not None and self._date(w["removed_date"]) <= end
                return ((not listed("monitoring_kind") or w["kind"] in listed("monitoring_kind"))
                        and (not listed("risk") or w["main_risk"] in listed("risk"))
                        and ("removed" not in p or removed == (p["removed"] == "1")))
            if not any(fits(w) for w in watched):
                return False
        if "helper" in p or "unit" in p:
            def active(a):
                return (self._date(a["start_date"]) <= end
                        and (a["end_date"] is None or self._date(a["end_date"]) >= start)
                        and ("helper" not in p or a["helper_id"] == p["helper"])
                        and ("unit" not in p or a["unit_id"] == p["unit"]))
            if not any(active(a) for a in self.assign_of.get(hh, [])):
                return False
        if "q" in p:
            q = p["q"]
            members = self.members.get(hh, [])
            if q.isdigit() and len(q) == 16:
                return hh == q
            if len(q) == 18:
                return any(m["id_number"] == q for m in members)
            return q in h["head_name"] or any(q in m["name"] for m in members)
        return True

    def select(self, scope: Scope, p: dict, year: int):
        income_year = self.income_year(scope.prefix, year)
        line = self.line(income_year) if income_year else None
        found = [h for h in self.households if h["village_code"].startswith(scope.prefix)
                 and self.matches(h, p, year, income_year, line)]
        return found, income_year


@pytest.fixture(scope="module")
def ref(registry_engine):
    return Reference(registry_engine)


def sample_values(registry_engine):
    """Values from the database itself, so searches and pickers hit something."""
    person = dicts(registry_engine, "SELECT p.name, p.id_number, p.hh_id FROM person p "
                                   "WHERE p.relation <> '户主' ORDER BY p.person_id")[5]
    helper = dicts(registry_engine, "SELECT helper_id, unit_id FROM helper ORDER BY helper_id")[1]
    return person, helper


def combinations(registry_engine):
    person, helper = sample_values(registry_engine)
    wrong_check = person["id_number"][:17] + ("0" if id_check_char(person["id_number"][:17]) != "0" else "1")
    assert wrong_check != person["id_number"]
    return [
        {},
        {"attribute": "低保贫困户", "main_cause": "因病", "exit_year": "2019"},
        {"main_cause": "因病,因残", "status": "已脱贫"},
        {"other_cause": "因学,缺技术"},
        {"status": "未脱贫"}, {"status": "返贫"}, {"status": "未脱贫,返贫"},
        {"identified_year": "2014"}, {"identified_year": "2015-2016"}, {"identified_year": "-2014"},
        {"identified_year": "2019-"}, {"exit_year": "1990"},  # empty
        {"exit_year": "2016-2018", "attribute": "一般贫困户,特困供养贫困户"},
        {"income_min": "0"}, {"income_max": "10000000"}, {"income_min": "5000", "income_max": "9000"},
        {"income_min": "10000000"},  # empty
        {"line_margin": "-100"},  # empty: nobody earns below zero
        {"line_margin": "1000"}, {"line_margin": "20"}, {"line_margin": "0"}, {"line_margin": "-10.5"},
        {"relocated": "1"}, {"relocated": "0", "house": "A,B"}, {"house": "danger"}, {"house": "安全"},
        {"water": "0"}, {"water": "1", "status": "已脱贫"},
        {"monitoring_kind": "脱贫不稳定户"}, {"monitoring_kind": "边缘易致贫户,突发严重困难户", "removed": "0"},
        {"risk": "因病,因残"}, {"removed": "1"}, {"removed": "0"},
        {"helper": helper["helper_id"]}, {"unit": helper["unit_id"]},
        {"unit": helper["unit_id"], "helper": "H-NONE"},  # empty
        {"q": person["name"]}, {"q": person["name"][:1]}, {"q": person["hh_id"]}, {"q": person["id_number"]},
        {"q": "5231990000000000"},  # no such household: empty
        {"q": person["id_number"][:6] + "19000101" + "0000"[:3] + id_check_char(
            person["id_number"][:6] + "19000101" + "000")},  # valid but absent: empty
        {"main_cause": "因病", "other_cause": "缺资金", "status": "已脱贫", "identified_year": "2014-2016",
         "exit_year": "2017-2020", "income_min": "1", "line_margin": "500", "relocated": "0", "water": "1",
         "house": "安全,A,B"},
    ], wrong_check


def test_filter_counts_match_hand_count(registry_engine, ref):
    combos, _ = combinations(registry_engine)
    size = members_at(registry_engine, (2026, 2019))  # people: the members at the year's end
    seen_empty = seen_full = 0
    for year in (2026, 2019):
        for scope in scopes(registry_engine):
            for params in combos:
                f = hq.HouseholdFilter.from_params(params)
                got = hq.count_households(registry_engine, scope, f, year)
                found, income_year = ref.select(scope, params, year)
                assert (got["households"], got["persons"]) == (
                    len(found), sum(size.get((h["hh_id"], year), 0) for h in found)), (year, scope.code, params)
                if any(k in params for k in ("income_min", "income_max", "line_margin")):
                    assert got["income_year"] == income_year
                seen_empty += not found
                seen_full += len(found) > 0
    assert seen_empty and seen_full  # the set exercises both outcomes


def test_base_population_counts_watch_only_households(registry_engine, county_scope):
    """With no filter: registered households identified by the year, plus 一般农户 already monitored."""
    for year in (2014, 2020, 2026):
        expected = dicts(
            registry_engine,
            "SELECT COUNT(*) AS n FROM household h WHERE h.village_code LIKE '523199%' AND "
            "((h.kind = '建档立卡户' AND h.identified_year <= :y) OR (h.kind = '一般农户' AND EXISTS "
            "(SELECT 1 FROM monitoring_object m WHERE m.hh_id = h.hh_id AND m.identified_date <= :d)))",
            y=year, d=dt.date(year, 12, 31))[0]["n"]
        got = hq.count_households(registry_engine, county_scope, hq.HouseholdFilter(), year)
        assert got["households"] == expected


SORTS = ("hh_id", "-hh_id", "head_name", "-member_count", "village", "exit_year", "-exit_year", "income",
         "-income", "status", "attribute", "house_grade", "-safe_water", "line_margin")


@pytest.mark.parametrize("sort", SORTS)
def test_pages_cover_the_count_in_sorted_order(registry_engine, ref, sort):
    scope = scopes(registry_engine)[1]
    params = {"sort": sort, "size": "100", "cols": "hh_id,head_name,member_count,exit_year,income,status"}
    f = hq.HouseholdFilter.from_params(params)
    total = hq.count_households(registry_engine, scope, f, 2026)["households"]
    seen = []
    for page in range(1, math.ceil(total / 100) + 2):
        df = hq.list_page(registry_engine, scope, f, 2026, page=page)
        assert len(df) <= 100
        seen.extend(df["hh_id"])
    found, income_year = ref.select(scope, params, 2026)
    assert len(seen) == total == len(found) and set(seen) == {h["hh_id"] for h in found}

    key, desc = sort.lstrip("-"), sort.startswith("-")

    def value(h):
        if key in ("income", "line_margin"):
            return ref.income.get((h["hh_id"], income_year))
        if key == "status":
            return ref.state(h, 2026) or h["kind"]
        if key == "village":
            return h["village_code"]
        if key in ("relocated", "safe_water"):
            return None if h[key] is None else int(bool(h[key]))
        return h[key]

    present = sorted([h for h in found if value(h) is not None], key=lambda h: h["hh_id"])
    present.sort(key=value, reverse=desc)  # stable: 户编号 ascending within ties
    if desc and key != "hh_id":  # ties stay by ascending 户编号 also when descending
        groups: dict = {}
        for h in present:
            groups.setdefault(value(h), []).append(h)
        present = [h for v in sorted(groups, reverse=True) for h in sorted(groups[v], key=lambda h: h["hh_id"])]
    missing = sorted([h for h in found if value(h) is None], key=lambda h: h["hh_id"])
    assert seen == [h["hh_id"] for h in present + missing]


def test_list_columns_match_sql(registry_engine):
    scope = scopes(registry_engine)[2]
    f = hq.HouseholdFilter.from_params({"cols": ",".join(hq.COLUMNS), "size": "200"})
    df = hq.list_page(registry_engine, scope, f, 2026, masked=False)
    income_year = dicts(registry_engine, "SELECT MAX(i.year) AS y FROM income i JOIN household h ON h.hh_id = i.hh_id "
                                        "WHERE h.village_code = :v AND i.year <= 2026", v=scope.code)[0]["y"]
    for rec in df.to_dict("records"):
        raw = dicts(registry_engine,
                   "SELECT h.*, v.name AS vname, t.name AS tname, i.per_capita_net AS inc FROM household h "
                   "JOIN region v ON v.code = h.village_code JOIN region t ON t.code = h.town_code "
                   "LEFT JOIN income i ON i.hh_id = h.hh_id AND i.year = :y WHERE h.hh_id = :h",
                   h=rec["hh_id"], y=income_year)[0]
        assert (rec["village"], rec["town"], rec["head_name"]) == (raw["vname"], raw["tname"], raw["head_name"])
        assert rec["member_count"] == raw["member_count"] and rec["phone"] == raw["phone"]
        assert (rec["income"] is None) == (raw["inc"] is None)
        if raw["inc"] is not None:
            assert rec["income"] == pytest.approx(float(raw["inc"]), abs=0.005)
        causes = sorted(r["cause"] for r in dicts(registry_engine, "SELECT cause FROM other_cause WHERE hh_id=:h",
                                                 h=rec["hh_id"]))
        assert sorted((rec["other_causes"] or "").split("、")) == (causes or [""])
        helpers = dicts(registry_engine, "SELECT p.name FROM assignment a JOIN helper p ON p.helper_id = a.helper_id "
                                        "WHERE a.hh_id = :h AND a.start_date <= :e AND "
                                        "(a.end_date IS NULL OR a.end_date >= :s)",
                       h=rec["hh_id"], e=dt.date(2026, 12, 31), s=dt.date(2026, 1, 1))
        assert set((rec["helper"] or "").split("、")) - {""} == {r["name"] for r in helpers}
    masked = hq.list_page(registry_engine, scope, f, 2026, masked=True)
    assert all(p is None or "****" in p for p in masked["phone"])


def test_page_holds_one_page_only(registry_engine, county_scope):
    f = hq.HouseholdFilter.from_params({"size": "20", "page": "3"})
    df = hq.list_page(registry_engine, county_scope, f, 2026)
    first = hq.list_page(registry_engine, county_scope, hq.HouseholdFilter.from_params({"size": "100"}), 2026)
    assert len(df) == 20 and list(df["hh_id"]) == list(first["hh_id"][40:60])
    beyond = hq.list_page(registry_engine, county_scope, hq.HouseholdFilter.from_params({"page": "999"}), 2026)
    assert beyond.empty and list(beyond.columns) == list(hq.DEFAULT_COLUMNS)


def test_search_is_limited_to_scope(registry_engine):
    county, town, village = scopes(registry_engine)
    other = dicts(registry_engine, "SELECT h.hh_id, h.head_name, p.id_number FROM household h JOIN person p "
                                  "ON p.hh_id = h.hh_id WHERE h.town_code <> :t ORDER BY h.hh_id", t=town.code)[0]
    for q in (other["hh_id"], other["id_number"]):
        f = hq.HouseholdFilter.from_params({"q": q})
        assert hq.count_households(registry_engine, county, f, 2026)["households"] == 1
        assert hq.count_households(registry_engine, town, f, 2026)["households"] == 0
        assert hq.list_page(registry_engine, town, f, 2026, masked=False).empty  # masked: no ID search at all


@pytest.mark.parametrize("text, kind", [
    ("5231991012010001", "hh_id"), ("王", "name"), ("王小明", "name"), (" 王 小明 ", "name"),
    ("11010519491231002X", "id_number"), ("11010519491231002x", "id_number"),
])
def test_classify_search(text, kind):
    assert hq.classify_search(text)[0] == kind


@pytest.mark.parametrize("text", [
    "110105194912310021",  # check digit wrong
    "110105491231002",  # 15-digit old number
    "11010519491231002",  # 17 digits
    "abc", "DROP TABLE household;", "%", "王%", "1234567890123456789012345678901234", "",
])
def test_search_garbage_gets_chinese_message(text):
    with pytest.raises(hq.FilterError) as info:
        hq.classify_search(text)
    message = info.value.messages[0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    assert "110105194912310021" not in message  # an ID is never echoed unmasked


@pytest.mark.parametrize("params", [
    {"main_cause": "不存在"}, {"status": "脱贫"}, {"attribute": "x"}, {"identified_year": "2016-2014"},
    {"exit_year": "abcd"}, {"income_min": "-1"}, {"income_max": "1e99"}, {"income_min": "nan"},
    {"income_min": "9000", "income_max": "100"}, {"line_margin": "-101"}, {"relocated": "yes"}, {"water": "2"},
    {"house": "E"}, {"monitoring_kind": "低保户"}, {"risk": "因懒"}, {"removed": "true"}, {"helper": "'; --"},
    {"unit": "x" * 40}, {"q": "abc"}, {"sort": "id_number"}, {"page": "0"}, {"page": "-1"}, {"size": "7"},
    {"cols": "hh_id,id_number"},
])
def test_bad_params_raise_chinese_message(params):
    with pytest.raises(hq.FilterError) as info:
        hq.HouseholdFilter.from_params(params)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in info.value.messages)


def test_params_round_trip():
    params = {"main_cause": "因病,因残", "other_cause": "缺资金", "attribute": "低保贫困户", "status": "未脱贫,返贫",
              "identified_year": "2014-2016", "exit_year": "2019", "income_min": "1000", "income_max": "8000.5",
              "line_margin": "20", "relocated": "1", "house": "danger,B", "water": "0",
              "monitoring_kind": "边缘易致贫户", "risk": "因病", "removed": "0", "helper": "H52319900001",
              "unit": "U523199001", "q": "王", "sort": "-income", "page": "3", "size": "100",
              "cols": "hh_id,head_name,income"}
    f = hq.HouseholdFilter.from_params(params)
    assert f.to_params() == params
    assert hq.HouseholdFilter.from_params(f.to_params()) == f
    assert f.house_grades == ("C", "D", "B")
    assert hq.HouseholdFilter.from_params({"main_cause": "因病致贫", "attribute": "五保户"}).to_params() == {
        "main_cause": "因病", "attribute": "特困供养贫困户"}  # export spellings are normalised
    assert hq.HouseholdFilter().to_params() == {}


def test_line_margin_without_a_line_is_a_message(registry_engine, county_scope):
    f = hq.HouseholdFilter.from_params({"line_margin": "10"})
    with pytest.raises(hq.FilterError) as info:
        hq.count_households(registry_engine, county_scope, f, 2010)  # before any income or line
    assert "标准线" in info.value.messages[0]


@pytest.mark.parametrize("params", [{}, {"status": "已脱贫", "sort": "-income"}, {"q": "5231990000000000"},
                                    {"main_cause": "因病", "page": "999"}])
def test_query_page_is_count_plus_list(registry_engine, params):
    """The one-scan version a filter change uses agrees with the separate count and list."""
    for scope in scopes(registry_engine):
        f = hq.HouseholdFilter.from_params(params)
        got = hq.query_page(registry_engine, scope, f, 2026)
        count = hq.count_households(registry_engine, scope, f, 2026)
        assert (got["households"], got["persons"]) == (count["households"], count["persons"])
        assert got["rows"].equals(hq.list_page(registry_engine, scope, f, 2026))
