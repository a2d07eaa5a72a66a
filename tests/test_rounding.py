"""四舍五入 everywhere (issue 18, item 5): a half rounds up in every formatter, on SQLite and PostgreSQL.

Python's ``round`` and format specs round half to even (5,286.5 → "5,286", 302.5 → "302", 1/32 → 3.12 %), so the
old formatters showed a half as the even neighbour. The databases below are copies in which a household's income
is set to a half (5,286.50 元) and a township's removal times to a mean of a half (302.5 days); what the pages
show is compared with the same figures rounded half up from independent SQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_access.queries import common, dossier, monitoring
from data_access.report import formatting as fmt
from data_access.report import money as amounts
from data_access.scope import Scope
from tests.helpers import SqlRunner, day, like, metrics, open_page


def by_hand(x, digits: int = 0) -> str:
    q = Decimal(str(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{q:,}"


@pytest.mark.parametrize("value, digits, shown", [
    (5286.5, 0, "5,287"), (302.5, 0, "303"), (0.5, 0, "1"), (1.5, 0, "2"), (2.5, 0, "3"), (-2.5, 0, "-3"),
    (2.675, 2, "2.68"), (0.125, 2, "0.13"), (12.25, 1, "12.3"), (1234567.5, 0, "1,234,568"),
])
def test_halves_go_up(value, digits, shown):
    assert fmt.number(value, digits) == shown == by_hand(value, digits)
    assert fmt.half_up(value, digits) == float(shown.replace(",", ""))


@given(st.lists(st.tuples(st.integers(-5, 10**7), st.integers(-3, 10**6)), max_size=40),
       st.sampled_from([(2, 100), (1, 1), (0, 1), (3, 1000)]))
def test_ratios_at_once_equal_ratio_pair_by_pair(pairs, digits_scale):
    digits, scale = digits_scale
    numerators, denominators = [n for n, _ in pairs], [d for _, d in pairs]
    assert fmt.ratios(numerators, denominators, digits, scale) == [
        fmt.ratio(n, d, digits, scale) for n, d in pairs]


def test_ratios_halves_go_up():
    assert fmt.ratios([1, 5, 3, 0, 7], [32, 10, 0, 4, 2], 2, 100) == [3.13, 50.0, None, 0.0, 350.0]


def test_every_formatter_rounds_half_up():
    assert common.pct(1, 32) == 3.13  # 3.125: round() gives 3.12
    assert common.pct(1, 8) == 12.5 and common.pct(0, 5) == 0.0 and common.pct(3, 0) is None
    assert fmt.share(1, 16, 1) == "6.3%"  # 6.25
    assert fmt.share(1, 8) == "13%"  # 12.5
    assert fmt.signed(0.125, 2) == "+0.13" and fmt.signed(-0.5) == "-1"
    assert fmt.percent(3.125) == "3.13%"
    assert fmt.money(12_349.5, "万元") == "1.23 万元"  # 1.234950 万元; rounding to whole 元 first read 1.24
    assert fmt.money(12_350, "万元") == "1.24 万元" and fmt.money(-12_350, "万元") == "-1.24 万元"
    assert amounts.WAN.value(12_350) == 1.24
    assert fmt.ratio(5, 2, 0) == 3.0 and fmt.number(None) == "—" and fmt.number(float("nan")) == "—"


@pytest.fixture
def copy(registry_url, cloner) -> SqlRunner:
    from data_access.db import get_engine

    return SqlRunner(get_engine(cloner(registry_url, "rounding")))


def test_income_of_a_half_reads_rounded_up(copy):
    q = copy
    hh, year = q.one("SELECT hh_id, MAX(year) FROM income GROUP BY hh_id ORDER BY hh_id LIMIT 1")
    q.execute("UPDATE income SET per_capita_net = 5286.5 WHERE hh_id = :h AND year = :y", h=hh, y=year)
    stored = q.scalar("SELECT per_capita_net FROM income WHERE hh_id = :h AND year = :y", h=hh, y=year)
    village = q.scalar("SELECT village_code FROM household WHERE hh_id = :h", h=hh)
    income = dossier.household_income(q.engine, Scope.of(village), hh).set_index("year")
    # the figure 户档案 shows as 人均纯收入(元)
    assert fmt.number(income.loc[year, "per_capita_net"]) == by_hand(stored) == "5,287"


def half_removal_times(q, scope: Scope, year: int) -> int:
    """Set the township's risks removed in ``year`` to 302 and 303 days (an odd one out is reopened), so the
    mean is 302.5; the number of removals left."""
    rows = q.rows("SELECT id, removed_date FROM monitoring_object WHERE village_code LIKE :p "
                  "AND removed_date BETWEEN :s AND :e ORDER BY id", p=like(scope),
                  s=dt.date(year, 1, 1), e=dt.date(year, 12, 31))
    if len(rows) % 2:
        q.execute("UPDATE monitoring_object SET removed_date = NULL WHERE id = :i", i=rows[-1][0])
        rows = rows[:-1]
    for i, (oid, removed) in enumerate(rows):
        q.execute("UPDATE monitoring_object SET identified_date = :d WHERE id = :i",
                  d=day(removed) - dt.timedelta(days=302 + i % 2), i=oid)
    return len(rows)


def test_removal_time_of_a_half_reads_rounded_up(copy):
    q, year = copy, 2025
    town = q.scalar("SELECT substr(village_code, 1, 9) || '000' AS t FROM monitoring_object "
                    "WHERE removed_date BETWEEN :s AND :e GROUP BY substr(village_code, 1, 9) "
                    "ORDER BY COUNT(*) DESC, t LIMIT 1", s=dt.date(year, 1, 1), e=dt.date(year, 12, 31))
    scope = Scope.of(town)
    assert half_removal_times(q, scope, year) >= 2
    days = [(day(r) - day(i)).days for i, r in q.rows(
        "SELECT identified_date, removed_date FROM monitoring_object WHERE village_code LIKE :p "
        "AND removed_date BETWEEN :s AND :e", p=like(scope), s=dt.date(year, 1, 1), e=dt.date(year, 12, 31))]
    mean = Fraction(sum(days), len(days))
    assert mean == Fraction(605, 2)
    got = monitoring.removal_time(q.engine, scope, year)
    # the figure 防返贫监测 shows as 消除用时(天) and 平均用时(天)
    assert fmt.number(got["avg_days_whole"]) == by_hand(Decimal(mean.numerator) / mean.denominator) == "303"
    if q.engine.dialect.name == "sqlite":
        at = open_page(str(q.engine.url), "pages/monitoring.py", region=town, year=year)
        assert not at.exception, at.exception
        assert metrics(at)["消除用时(天)"] == "303"
