"""Seed 002's county, rebuilt with known numbers: the 致贫原因 page must show exactly them.

Seed 002 reports people by cause: 缺劳力 3820 人, 因灾 1160 人, 孤寡残 4225 人, 其他 3059 人 (12264 人 in
all, as the report says). 孤寡残 (孤寡、残疾, "需社会保障") is not on the national cause list; the
registry would record these households under 因残, so the test data does that and the page must
show 因残 4225 人. Nothing is added to codes.CAUSES.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import insert

from data_access import schema
from data_access.db import create_schema, get_engine, set_meta
from data_access.queries import causes
from data_access.scope import Scope
from tests.helpers import metrics, open_page, texts

SEED002_PERSONS = {"缺劳力": 3820, "因灾": 1160, "因残": 4225, "其他": 3059}
COUNTY = "523199000000"
VILLAGES = {  # village -> town
    "523199101201": "523199101000", "523199101202": "523199101000", "523199201201": "523199201000",
}
SIZES = (4, 3, 5, 2, 6, 1, 3, 4)


def households_for(cause: str, persons: int):
    """Split ``persons`` into households of SIZES (the last takes the remainder), placed round-robin."""
    sizes, left = [], persons
    for size in itertools.cycle(SIZES):
        if left <= size:
            sizes.append(left)
            break
        sizes.append(size)
        left -= size
    villages = itertools.cycle(sorted(VILLAGES))
    return [(cause, size, next(villages)) for size in sizes]


def build(url: str) -> dict:
    """Create the seed-002 registry at ``url``; returns the expected people per (town, cause)."""
    engine = get_engine(url)
    create_schema(engine)
    regions = [dict(code=COUNTY, name="云岭县", level="county", parent_code=None, is_poor_village=False)]
    for town in sorted(set(VILLAGES.values())):
        regions.append(dict(code=town, name=f"镇{town[6:9]}", level="town", parent_code=COUNTY, is_poor_village=False))
    for village, town in VILLAGES.items():
        regions.append(dict(code=village, name=f"村{village[9:]}", level="village", parent_code=town,
                            is_poor_village=True, rural_population=20_000))
    hh_rows, person_rows, by_town = [], [], {}
    plan = [h for cause, n in SEED002_PERSONS.items() for h in households_for(cause, n)]
    for i, (cause, size, village) in enumerate(plan):
        hh_id = f"{village}{i:05d}"
        hh_rows.append(dict(hh_id=hh_id, county_code=COUNTY, town_code=VILLAGES[village], village_code=village,
                            head_name=f"户主{i}", member_count=size, kind="建档立卡户",
                            attribute=("一般贫困户", "低保贫困户", "特困供养贫困户")[i % 3], main_cause=cause,
                            identified_year=2014, status="未脱贫", relocated=False))
        person_rows += [dict(person_id=f"{hh_id}-{k}", hh_id=hh_id, village_code=village, name=f"成员{i}-{k}")
                        for k in range(size)]
        key = (VILLAGES[village], cause)
        by_town[key] = by_town.get(key, 0) + size
    # Households the cause figures must not count: a non-registered farmer and one identified later.
    hh_rows.append(dict(hh_id="X1", county_code=COUNTY, town_code="523199101000", village_code="523199101201",
                        head_name="一般农户", member_count=2, kind="一般农户", main_cause=None, relocated=False))
    hh_rows.append(dict(hh_id="X2", county_code=COUNTY, town_code="523199101000", village_code="523199101201",
                        head_name="新识别户", member_count=3, kind="建档立卡户", main_cause="缺劳力",
                        identified_year=2015, status="未脱贫", relocated=False))
    person_rows += [dict(person_id=f"X1-{k}", hh_id="X1", village_code="523199101201", name="甲") for k in range(2)]
    person_rows += [dict(person_id=f"X2-{k}", hh_id="X2", village_code="523199101201", name="乙") for k in range(3)]
    with engine.begin() as conn:
        conn.execute(insert(schema.region), [{"poor_village_exit_year": None, "rural_population": None, **r}
                                             for r in regions])
        blank = {"attribute": None, "main_cause": None, "identified_year": None, "status": None}
        conn.execute(insert(schema.household), [{**blank, **h} for h in hh_rows])
        conn.execute(insert(schema.person), person_rows)
        set_meta(conn, data_as_of="2015-12-31", is_demo="0", data_version="seed002", county_name="云岭县")
    return by_town


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seed002(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('seed002') / 'registry.db'}"
    else:
        url = request.getfixturevalue("pg_database")("seed002")
    return url, build(url)


def test_queries_give_seed002_numbers(seed002):
    url, by_town = seed002
    engine = get_engine(url)
    mix = causes.cause_mix(engine, Scope.of(COUNTY), 2014)
    assert dict(zip(mix["cause"], mix["persons"])) == SEED002_PERSONS
    assert mix["persons"].sum() == 12264
    towns = causes.cause_by_child(engine, Scope.of(COUNTY), 2014)
    assert {(c, k): int(p) for c, k, p in zip(towns["code"], towns["cause"], towns["persons"])} == by_town
    # 2015 adds the household identified that year (3 people, 缺劳力)
    later = causes.cause_mix(engine, Scope.of(COUNTY), 2015)
    assert dict(zip(later["cause"], later["persons"])) == {**SEED002_PERSONS, "缺劳力": 3823}


def test_cause_page_shows_seed002_numbers(seed002, monkeypatch):
    url, _ = seed002
    monkeypatch.setenv("REGISTRY_ALLOW_OPEN", "1")  # not the demo database, no sign-in configured
    at = open_page(url, "pages/causes.py", year=2014, measure="persons")
    assert not at.exception, at.exception
    shown = at.dataframe[0].value
    assert list(shown.columns[:3]) == ["主要致贫原因", "户数(户)", "人数(人)"]
    assert dict(zip(shown["主要致贫原因"], shown["人数(人)"])) == SEED002_PERSONS
    assert metrics(at)["建档立卡人数(人)"] == "12,264"
    page_text = texts(at)
    for cause, people in SEED002_PERSONS.items():
        assert f"{cause} {people:,} 人" in page_text
    assert "孤寡残" not in page_text  # recorded as 因残, see the module docstring
