"""The 2021– pages in AppTest (the real app.py) on the SQLite demo: the overview's era cards, the 防返贫监测
page's lifecycle figures and 数据问题, and the 资金项目 page's 衔接资金 view equal independent SQL, for the
county, a township and a village; the campaign years keep their overview."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import MEMBERS_AT, metrics, open_page, scopes, texts, year_end

YEAR = 2024


@pytest.fixture(scope="module")
def q(sqlite_demo_url, sql):
    return sql(sqlite_demo_url)


def count(n) -> str:
    return f"{int(n):,}"


def by_level(q):
    return dict(zip(("county", "town", "village"), (s for s in scopes(q))))


@pytest.mark.parametrize("level", ["county", "town", "village"])
def test_overview_era_cards_equal_sql(sqlite_demo_url, q, level):
    scope = by_level(q)[level]
    p = scope.prefix + "%"
    at = open_page(sqlite_demo_url, "pages/overview.py", region=scope.code, year=YEAR)
    assert not at.exception, at.exception
    shown = metrics(at)
    exited = ("kind = '建档立卡户' AND identified_year <= :y AND exit_year <= :y "
              "AND (returned_year IS NULL OR returned_year > :y) AND village_code LIKE :p")
    end_year = year_end(YEAR)  # people: the members at the year's end
    hh, pp = q.rows(f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE {exited}", y=YEAR, p=p,
                    end=end_year)[0]
    assert shown[f"脱贫人口({count(hh)}户)"] == f"{count(pp)}人"
    for label in ("脱贫享受政策", "脱贫不享受政策"):
        hh, pp = q.rows(f"SELECT COUNT(*), COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE {exited} "
                        "AND policy_status = :s", y=YEAR, p=p, s=label, end=end_year)[0]
        assert shown[f"{label}({count(hh)}户)"] == f"{count(pp)}人", label
    end = f"{YEAR}-12-31"
    n, persons = q.rows("SELECT COUNT(*), COALESCE(SUM(persons), 0) FROM monitoring_object "
                        "WHERE village_code LIKE :p AND identified_date <= :d", p=p, d=end)[0]
    assert shown[f"监测对象({count(n)}户)"] == f"{count(persons)}人"
    n, persons = q.rows("SELECT COUNT(*), COALESCE(SUM(persons), 0) FROM monitoring_object WHERE village_code LIKE :p "
                        "AND identified_date <= :d AND removed_date IS NOT NULL AND removed_date <= :d",
                        p=p, d=end)[0]
    assert shown[f"风险已消除({count(n)}户)"] == f"{count(persons)}人"
    n, persons = q.rows("SELECT COUNT(*), COALESCE(SUM(persons), 0) FROM monitoring_object WHERE village_code LIKE :p "
                        "AND identified_date BETWEEN :a AND :d", p=p, a=f"{YEAR}-01-01", d=end)[0]
    assert shown[f"{YEAR}年新识别({count(n)}户)"] == f"{count(persons)}人"
    for kind, n, persons in q.rows("SELECT kind, COUNT(*), SUM(persons) FROM monitoring_object WHERE village_code "
                                   "LIKE :p AND identified_date <= :d GROUP BY kind", p=p, d=end):
        assert shown[f"{kind}({count(n)}户)"] == f"{count(persons)}人", kind
    base, helped = q.rows(
        "SELECT COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM help_measure m WHERE m.hh_id = o.hh_id AND m.year = :y) "
        "THEN 1 ELSE 0 END) FROM monitoring_object o WHERE o.village_code LIKE :p AND o.identified_date <= :d "
        "AND (o.removed_date IS NULL OR o.removed_date >= :a)", y=YEAR, p=p, d=end, a=f"{YEAR}-01-01")[0]
    assert shown["落实帮扶措施(%)"] == (f"{round(100 * helped / base, 2):.2f}%" if base else "—")
    exited_h = ("h.kind = '建档立卡户' AND h.identified_year <= :y AND h.exit_year <= :y "
                "AND (h.returned_year IS NULL OR h.returned_year > :y) AND h.village_code LIKE :p")
    total, people = q.rows(f"SELECT SUM(i.per_capita_net * i.members), SUM(i.members) FROM income i "
                           f"JOIN household h ON h.hh_id = i.hh_id WHERE i.year = :y AND {exited_h}", y=YEAR, p=p)[0]
    assert shown[f"{YEAR}年脱贫户人均纯收入(元)"] == f"{int(total / people + 0.5):,}"
    working = q.scalar(f"SELECT COUNT(*) FROM work_year w JOIN household h ON h.hh_id = w.hh_id WHERE w.year = :y "
                       f"AND w.work_status <> '未外出务工' AND {exited_h}", y=YEAR, p=p)
    assert shown["脱贫劳动力务工(人)"] == count(working)
    assert "贫困发生率(%)" not in shown and "不再计算贫困发生率" in texts(at)


def test_campaign_year_overview_unchanged(sqlite_demo_url, q):
    at = open_page(sqlite_demo_url, "pages/overview.py", region=by_level(q)["county"].code, year=2020)
    assert not at.exception
    shown = metrics(at)
    assert "贫困发生率(%)" in shown and "建档立卡户数(户)" in shown
    assert not any(k.startswith("脱贫享受政策") for k in shown)


def test_monitoring_page_lifecycle_and_returned_problem(sqlite_demo_url, q, demo_summary):
    county = by_level(q)["county"]
    at = open_page(sqlite_demo_url, "pages/monitoring.py", region=county.code, year=2026)
    assert not at.exception, at.exception
    shown = metrics(at)
    rows = q.rows("SELECT o.identified_date, f.found_date FROM monitoring_object o JOIN monitoring_found f "
                  "ON f.object_id = o.id WHERE o.identified_date BETWEEN '2026-01-01' AND '2026-12-31'")
    days = [(dt.date.fromisoformat(str(i)[:10]) - dt.date.fromisoformat(str(f)[:10])).days for i, f in rows]
    assert shown["有风险发现时间(户)"] == count(len(days))
    assert shown["超过15天识别(户)"] == count(sum(d > 15 for d in days))
    assert shown["平均识别用时(天)"] == f"{round(sum(days) / len(days), 1):.1f}"
    deliberate = demo_summary["problems"]["returned_outside_monitoring"]
    heads = [s.value for s in at.subheader]
    assert f"数据问题:2020年后返贫而未纳入监测的户({len(deliberate)} 户)" in heads
    listed = next(d.value for d in at.dataframe if "返贫年度" in d.value.columns)
    assert sorted(listed["户编号"].astype(str).str.extract(r"(\d{16})")[0]) == sorted(deliberate)


def test_funds_page_linkage_view(sqlite_demo_url, q):
    county = by_level(q)["county"]
    at = open_page(sqlite_demo_url, "pages/funds.py", region=county.code, year=YEAR, view="衔接资金")
    assert not at.exception, at.exception
    levels = at.dataframe[0].value.set_index("级次")
    allocated = q.scalar("SELECT SUM(amount) FROM fund WHERE year = :y AND source = '中央财政衔接推进乡村振兴补助资金'",
                         y=YEAR)
    unit = [c for c in levels.columns if c.startswith("下达")][0]
    divisor = 1e8 if "亿元" in unit else 1e4
    assert levels.loc["中央", unit] == pytest.approx(allocated / divisor, abs=0.0001)
    central, industry = q.rows(
        "SELECT SUM(a.amount), SUM(CASE WHEN p.category = '产业发展' THEN a.amount ELSE 0 END) FROM arrangement a "
        "JOIN fund f ON f.fund_id = a.fund_id JOIN project p ON p.project_id = a.project_id "
        "WHERE f.year = :y AND f.source = '中央财政衔接推进乡村振兴补助资金' AND p.county_code = :c",
        y=YEAR, c=county.code)[0]
    assert f"中央衔接资金用于产业发展的比重:{round(100 * industry / central, 2):.2f}%" in texts(at)
    towns = at.dataframe[1].value
    assert len(towns) == q.scalar("SELECT COUNT(*) FROM region WHERE parent_code = :c", c=county.code)
    # a campaign year has no 衔接资金 view
    at = open_page(sqlite_demo_url, "pages/funds.py", region=county.code, year=2019, view="衔接资金")
    assert not at.exception
    assert not any("衔接资金" in s.value for s in at.subheader)
