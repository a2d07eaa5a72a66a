"""Consistency checks on a small database with one planted problem of each kind (SQLite and PostgreSQL).

The demo holds only two kinds (projects with no place, spending over payment); here
each rule of data_problems is broken once, on purpose, and must be found, with
nothing else reported and the clean records left alone.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert

from data_access import db, schema
from data_access.queries import funds
from data_access.scope import Scope
from data_access.summary import read as summary
from data_access.summary.refresh import refresh

COUNTY, TOWN_A, TOWN_B = "529902000000", "529902101000", "529902102000"
VILLAGE_A, VILLAGE_B = "529902101201", "529902102201"
D = dt.date(2020, 5, 1)

# (project_id, region_code, town_code, village_code, budget): P4's town code disagrees with its village.
PROJECTS = [
    ("P1", VILLAGE_A, TOWN_A, VILLAGE_A, 1000), ("P2", VILLAGE_A, TOWN_A, VILLAGE_A, 1000),
    ("P3", None, None, None, 1000), ("P4", VILLAGE_B, TOWN_A, VILLAGE_B, 1000),
    ("P5", TOWN_B, TOWN_B, None, 1000), ("P6", VILLAGE_B, TOWN_B, VILLAGE_B, 1000),
    ("P7", VILLAGE_B, TOWN_B, VILLAGE_B, 10), ("OK", VILLAGE_B, TOWN_B, VILLAGE_B, 1000),
]
FUNDS = [("S1", 100), ("S2", 5000)]  # S1: 120 arranged out of 100 allocated
ARRANGEMENTS = [("S1", "P1", 80), ("S1", "P2", 40), ("S2", "P3", 50), ("S2", "P4", 50), ("S2", "P5", 50),
                ("S2", "P6", 0), ("S2", "P7", 30), ("S2", "OK", 500)]
FLOWS = [  # (fund, project, kind, amount)
    ("S1", "P1", "拨付", 90), ("S1", "P1", "支出", 50),  # P1: paid 90 > arranged 80
    ("S1", "P2", "拨付", 10), ("S1", "P2", "支出", 20),  # P2: spent 20 > paid 10
    ("S1", "P5", "拨付", 5),  # no arrangement of S1 to P5
    ("S2", "OK", "拨付", 400), ("S2", "OK", "支出", 300), ("S2", "OK", "支出", -7),  # a negative movement
]
EXPECTED = {
    (funds.PROBLEM_ARRANGED_OVER_ALLOCATED, "S1"),
    (funds.PROBLEM_PAID_OVER_ARRANGED, "P1"),
    (funds.PROBLEM_SPENT_OVER_PAID, "P2"),
    (funds.PROBLEM_NO_PLACE, "P3"),
    (funds.PROBLEM_PLACE_CODES, "P4"),
    (funds.PROBLEM_FLOW_WITHOUT_ARRANGEMENT, "5"),
    (funds.PROBLEM_NOT_POSITIVE, "S2 / P6"),
    (funds.PROBLEM_NOT_POSITIVE, "8"),
    (funds.PROBLEM_ARRANGED_OVER_BUDGET, "P7"),
}


def build(url: str) -> None:
    engine = db.get_engine(url)
    db.create_schema(engine)
    with engine.begin() as conn:
        db.set_meta(conn, data_as_of="2020-12-31", is_demo="0", data_version="checks")
        conn.execute(insert(schema.region), [
            {"code": c, "name": n, "level": lvl, "parent_code": p, "is_poor_village": False}
            for c, n, lvl, p in ((COUNTY, "检查县", "county", None), (TOWN_A, "甲镇", "town", COUNTY),
                                 (TOWN_B, "乙镇", "town", COUNTY), (VILLAGE_A, "甲村", "village", TOWN_A),
                                 (VILLAGE_B, "乙村", "village", TOWN_B))])
        conn.execute(insert(schema.fund), [
            {"fund_id": f, "doc_no": f, "name": f, "source": "中央财政专项扶贫资金", "year": 2020,
             "region_code": COUNTY, "county_code": COUNTY, "amount": a, "allocated_date": D} for f, a in FUNDS])
        conn.execute(insert(schema.project), [
            {"project_id": p, "name": f"项目{p}", "category": "其他", "region_code": r, "county_code": COUNTY,
             "town_code": t, "village_code": v, "year": 2020, "status": "在建", "budget": b,
             "planned_start": D, "planned_end": D, "actual_start": None, "actual_end": None}
            for p, r, t, v, b in PROJECTS])
        conn.execute(insert(schema.arrangement), [
            {"fund_id": f, "project_id": p, "amount": a, "arranged_date": D} for f, p, a in ARRANGEMENTS])
        conn.execute(insert(schema.money_flow), [
            {"id": i, "fund_id": f, "project_id": p, "kind": k, "amount": a, "flow_date": D}
            for i, (f, p, k, a) in enumerate(FLOWS, 1)])


@pytest.fixture(params=["sqlite", "postgresql"])
def checks_url(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'checks.db'}" if request.param == "sqlite" else \
        request.getfixturevalue("pg_database")("funds_checks")
    build(url)
    return url


def test_each_planted_problem_is_found(checks_url):
    engine = db.get_engine(checks_url)
    got = funds.data_problems(engine, Scope.of(COUNTY), 2020)
    assert set(zip(got["problem"], got["object_id"])) == EXPECTED
    assert "OK" not in set(got["object_id"])
    row = got[got["problem"] == funds.PROBLEM_SPENT_OVER_PAID].iloc[0]
    assert (row["amount"], row["compared_to"]) == (20, 10)
    row = got[got["problem"] == funds.PROBLEM_ARRANGED_OVER_ALLOCATED].iloc[0]
    assert (row["amount"], row["compared_to"]) == (120, 100)
    assert funds.data_problems(engine, Scope.of(COUNTY), 2019).empty


def test_problems_below_the_county_and_in_the_flow(checks_url):
    engine = db.get_engine(checks_url)
    town_a = funds.data_problems(engine, Scope.of(TOWN_A), 2020)
    # town A holds P1, P2 and (by its town code) P4; P3 has no place and shows only at the county
    assert {pid for pid in town_a["object_id"] if pid.startswith("P")} == {"P1", "P2", "P4"}
    rows = funds.flow(engine, Scope.of(COUNTY), 2020)
    # one source: 5100 allocated, 800 arranged; the money with no place is labelled, not put on a town
    assert rows.loc[rows["category"] == funds.UNARRANGED, "amount"].tolist() == [5100 - 800]
    unplaced = rows[rows["place_name"] == funds.NO_PLACE]
    assert list(unplaced["project_id"]) == ["P3"] and unplaced["amount"].sum() == 50


def test_the_money_summaries_give_the_same_checks_and_sums(checks_url):
    """summary_money / summary_money_problem (fresh after refresh) against the base tables (stale): every planted
    problem, an orphan movement and a negative one included, at each scope, for the year, another and every year."""
    engine = db.get_engine(checks_url)
    scopes = [Scope.of(c) for c in (COUNTY, TOWN_A, TOWN_B, VILLAGE_A, VILLAGE_B)]

    def figures():
        out = []
        for scope in scopes:
            for year in (2019, 2020, None):
                out.append(funds.data_problems(engine, scope, year))
            for year in (2019, 2020):
                out += [funds.totals(engine, scope, year), funds.execution(engine, scope, year),
                        funds.execution_by(engine, scope, year, "source"),
                        funds.projects(engine, scope, year, D, 0), funds.projects(engine, scope, year, D, 1)]
        return out

    base = figures()
    refresh(engine)
    assert summary.money_for(engine) is not None and summary.money_problems_for(engine) is not None
    with engine.connect() as conn:
        flagged = {r[0] for r in conn.execute(summary.money_problem_summary.select())}
    # every project breaks one rule (P5: its movement without a 安排 of S1; OK: its negative movement)
    assert flagged == {p for p, *_ in PROJECTS}
    for old, new in zip(base, figures(), strict=True):
        if isinstance(old, dict):
            assert old == new
        else:
            pd.testing.assert_frame_equal(old, new)
