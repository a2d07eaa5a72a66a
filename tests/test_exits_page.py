"""The 脱贫进度 page in AppTest (the real app.py): opens at every level, shows the database's numbers."""

import pytest
from sqlalchemy import text

from data_access.db import get_engine
from data_access.queries import exits
from tests.helpers import MEMBERS_AT, hround, like, metrics, one, open_page, population_at, scopes, year_end

PAGE = "pages/exits.py"
REGISTERED = "kind = '建档立卡户' AND identified_year <= :y AND village_code LIKE :p"


@pytest.fixture(scope="module")
def levels(sqlite_demo_url):
    return scopes(get_engine(sqlite_demo_url))


@pytest.mark.parametrize("level,year", [(0, 2018), (1, 2026), (2, 2019)], ids=["county", "town", "village"])
def test_exit_page_figures(sqlite_demo_url, levels, level, year):
    scope = levels[level]
    engine = get_engine(sqlite_demo_url)
    at = open_page(sqlite_demo_url, PAGE, region=scope.code, year=year)
    assert not at.exception, at.exception
    assert not at.warning
    shown = metrics(at)
    exited = one(engine, f"SELECT COUNT(*) FROM household WHERE {REGISTERED} AND exit_year = :y",
                 y=year, p=like(scope))[0]
    not_exited = one(engine, f"SELECT COUNT(*) FROM household WHERE {REGISTERED} "
                             "AND (exit_year IS NULL OR exit_year > :y) "
                             "AND (returned_year IS NULL OR returned_year > :y)", y=year, p=like(scope))[0]
    returned = one(engine, f"SELECT COUNT(*) FROM household WHERE {REGISTERED} AND returned_year <= :y",
                   y=year, p=like(scope))[0]
    cumulative = one(engine, "SELECT COUNT(*) FROM household WHERE kind = '建档立卡户' AND exit_year <= :y "
                             "AND village_code LIKE :p", y=year, p=like(scope))[0]
    target = one(engine, "SELECT COUNT(*), MAX(households) FROM exit_target WHERE region_code = :c AND year = :y",
                 c=scope.code, y=year)
    campaign = year <= 2020 or exited or (target[0] and target[1])  # after 2020: no exits nor targets to show
    if campaign:
        assert shown["本年脱贫(户)"] == f"{exited:,}"
    else:
        assert "本年脱贫(户)" not in shown and "任务完成率(%)" not in shown
    assert shown["累计脱贫(户,含其后返贫)"] == f"{cumulative:,}"
    if year < 2026:  # the procedure shows only that year's 销号 (steps are not kept per year)
        assert shown[f"{year}年销号(户)"] == f"{exited:,}"
    else:
        steps = next(f.value for f in at.dataframe if "环节" in f.value.columns).set_index("环节")
        with engine.connect() as conn:
            pending = dict(conn.execute(text(
                "SELECT exit_step, COUNT(*) FROM household WHERE kind = '建档立卡户' AND village_code LIKE :p "
                "AND (exit_year IS NULL OR returned_year IS NOT NULL) "
                "AND exit_step IS NOT NULL AND exit_step <> '销号' "
                "GROUP BY exit_step"), {"p": like(scope)}).all())
        assert {k: int(v) for k, v in steps["户数(户)"].items() if k != "销号"} == {
            k: pending.get(k, 0) for k in ("民主评议", "核实", "户认可", "公示", "公告")}
    assert shown["未脱贫(户)"] == f"{not_exited:,}"
    assert shown["返贫(户)"] == f"{returned:,}"
    near = exits.near_line(engine, scope, year, 10.0, limit=1)
    unmet = exits.unmet_guarantees(engine, scope, year, limit=1)
    assert shown["收入临界(户)"] == f"{near['households']:,}"
    assert shown["三保障缺项(户)"] == (f"{unmet['households']:,}" if unmet["judged"] else "—")
    if target[0] and target[1]:
        assert shown["任务完成率(%)"] == f"{hround(100 * exited / target[1], 2):.2f}%"
    elif campaign:
        assert shown["任务完成率(%)"] == "无任务"
    at_year = min(year, 2020)  # no 贫困发生率 after 2020: the page shows 2020's, named so
    poor = one(engine, f"SELECT COALESCE(SUM({MEMBERS_AT}), 0) FROM household h WHERE "
                       f"{REGISTERED} AND (exit_year IS NULL OR exit_year > :y OR returned_year <= :y)",
               y=at_year, p=like(scope), end=year_end(at_year))[0]
    rural = population_at(engine, scope.prefix, at_year)
    label = "贫困发生率(%)" if year <= 2020 else "2020年贫困发生率(%)"
    assert shown[label] == f"{100 * poor / rural:.2f}%"
    if year > 2020:
        assert "贫困发生率(%)" not in shown
        assert any("2021年起不再计算贫困发生率" in c.value for c in at.caption)
    villages = one(engine, "SELECT COUNT(*), "
                           "COALESCE(SUM(CASE WHEN poor_village_exit_year <= :y THEN 1 ELSE 0 END), 0) "
                           "FROM region WHERE level = 'village' AND is_poor_village = 1 AND code LIKE :p",
                   y=year, p=like(scope))
    if villages[0]:
        assert shown["贫困村(个)"] == f"{villages[0]}"
        assert shown["已出列(个)"] == f"{villages[1]}"
    else:
        assert "贫困村(个)" not in shown


def test_exit_page_lists_and_settings(sqlite_demo_url, levels):
    engine = get_engine(sqlite_demo_url)
    county = levels[0]
    at = open_page(sqlite_demo_url, PAGE, year=2016, list="not_exited", threshold="2", margin="15")
    assert not at.exception, at.exception
    assert not at.warning
    shown = metrics(at)
    assert any("低于2%" in (m.help or "") for m in at.metric if m.label == "可出列(个)")
    remaining = exits.poor_villages(engine, county, 2016, 2.0)
    remaining = remaining[~remaining["exited"]]
    assert shown["可出列(个)"] == f"{int(remaining['below_threshold'].sum())}"
    assert shown["收入临界(户)"] == f"{exits.near_line(engine, county, 2016, 15.0, limit=1)['households']:,}"
    listed = next(f.value for f in at.dataframe if "户编号" in f.value.columns)
    with engine.connect() as conn:
        first = [r[0] for r in conn.execute(text(
            "SELECT hh_id FROM household WHERE kind = '建档立卡户' AND identified_year <= 2016 AND county_code = :c "
            "AND (exit_year IS NULL OR exit_year > 2016) AND (returned_year IS NULL OR returned_year > 2016) "
            "ORDER BY village_code, hh_id"), {"c": county.code})]
    assert list(listed["户编号"]) == first[:exits.LIST_LIMIT]
    assert "身份证" not in " ".join(listed.columns)  # lists carry no ID or phone numbers

    at = open_page(sqlite_demo_url, PAGE, year=2026, list="unmet")
    assert not at.exception
    listed = next(f.value for f in at.dataframe if "户编号" in f.value.columns)
    assert len(listed) == min(exits.unmet_guarantees(engine, county, 2026, limit=1)["households"], exits.LIST_LIMIT)

    at = open_page(sqlite_demo_url, PAGE, year=2026, threshold="7", margin="abc", list="nothing")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "threshold" in warnings and "margin" in warnings and "list" in warnings
    assert any("低于3%" in (m.help or "") for m in at.metric if m.label == "可出列(个)")


def test_exit_page_presentation_mode(sqlite_demo_url, levels):
    engine = get_engine(sqlite_demo_url)
    at = open_page(sqlite_demo_url, PAGE, year=2018, mode="present")
    assert not at.exception, at.exception
    assert not at.segmented_control and not at.number_input
    exited = one(engine, "SELECT COUNT(*) FROM household WHERE kind = '建档立卡户' AND exit_year = 2018 "
                         "AND county_code = :c", c=levels[0].code)[0]
    assert metrics(at)["本年脱贫(户)"] == f"{exited:,}"
    assert "未脱贫(户)" not in metrics(at)  # the warnings are on the full page, not on the projector screen
