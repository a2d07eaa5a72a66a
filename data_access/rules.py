"""The registry's own rules: what its words mean, used by the queries AND the summary tables alike.

Registry states. A registered household's state at the end of year ``Y``:
- in the registry (建档立卡, cumulative): kind = 建档立卡户 and identified_year <= Y
- 返贫 (returned):  in the registry and returned_year <= Y
- 已脱贫 (exited):   in the registry, exit_year <= Y and not returned by Y
- 未脱贫 (not exited): in the registry, not exited by Y and not returned by Y
The three states partition the registry.

Two labels, two figures, shown with these words on every page, in the brief and on the slides:
- 已脱贫 = the state above: exited by the end of Y and not returned by then (``exited_by``);
- 累计脱贫(含其后返贫) = every household in the registry that exited in or before Y, including those
  that returned to poverty later (``ever_exited_by``): 已脱贫 plus the exited households that returned.

Poor people for 贫困发生率 are those not exited plus those returned, divided by the rural population (农村户籍人口)
of the same year (``population_year``: a village without a figure for the year takes its latest earlier
year's, else the figure kept without a year).

People of a past year (``member_at``, ``members_at``): a person counts in year Y only when a member of
the household at Y's end: born by then, joined by then (a blank join date: a member since identification)
and not yet left (a blank leave date: still a member). Every person count of a year (建档立卡人数, 已脱贫
and 未脱贫 人数, the incidence's numerator, household size, per-area and summary tables, brief, slides)
counts the members at that year's end; today's figures (``current_member``) count today's members, the
same as the year of the as-of date.
Every state depends only on (kind, identified_year, exit_year, returned_year) and takes the table
as an argument, so the same predicate answers on ``household`` and on a summary table grouped by
those columns (``data_access.summary``).

The line of a year: 贫困线 up to LAST_POVERTY_LINE_YEAR (2020), then the province's 监测线 (the other
kind where one is missing); a provincial row wins over the national one (``line_amounts``,
``line_by_year``). One rule judges every income (户档案, 查询, 脱贫进度's 收入临界, 防返贫监测's 收入预警
and 健康预警): an income is compared with the line of the income's own year (``income_line``), never
with the line of the year on screen nor with an earlier year's line; an income whose year has no line
is not judged.

Home visits (帮扶力量):
- a household is assigned at a date when an assignment (结对帮扶) covers it: start_date <= date and
  (end_date is empty or end_date >= date); the assignment's village places it in a scope;
- a visit (入户) counts only when its kind is 入户走访 (HOME_VISIT_KINDS): a phone call or a policy
  meeting is a contact, not a home visit;
- 入户率 of a period [start, end] = assigned households at ``end`` with at least one home visit
  (by any cadre) in the period ÷ assigned households at ``end``;
- "no visit in N days" at a date: no home visit in the N days ending on that date (date included),
  so the households without a visit in 90 days are exactly the assigned households minus those
  visited in the 90-day 入户率 period ending on the same date;
- the village map's, the village page's and the overview ranking's 入户率 of a year is over
  ``visit_period(year, as_of)``; 帮扶力量 shows it over the last N days (default 90) or over that period;
- a 入户率 label always names its period (``visit_rate_label``): 近12个月入户率 (the as-of year),
  2018年入户率 (a past calendar year), 近90天入户率 (the last 90 days), never a bare 入户率.

"Late" (逾期) project: a planned end before the cutoff (the end of the year, or the as-of date if
earlier: ``late_cutoff``) and not finished by its planned end (``late``).

ID numbers (居民身份证号码, GB 11643): 17 digits and a check character (``id_check_char``).
``is_valid_id`` is the one test of a well-formed number; the importer also requires the birth date
(digits 7–14) to exist (``id_birth_date``), and the demo generator writes only such numbers.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
from sqlalchemy import (
    BigInteger, Integer, and_, case, cast, exists, extract, func, literal, not_, or_, select, union_all,
)
from sqlalchemy.engine import Engine

from .codes import (
    HOUSEHOLD_KIND_REGISTERED, MONITORING_LINE, POVERTY_LINE, STATUS_EXITED, STATUS_NOT_EXITED,
    STATUS_RETURNED,
)
from .schema import assignment as A
from .schema import household as H
from .schema import meta as M
from .schema import person as P
from .schema import poverty_line as L
from .schema import project as PR
from .schema import region as R
from .schema import village_population as VP
from .schema import visit as V
from .scope import Scope

# ---- registry states at a year's end ------------------------------------------------


def in_registry(year: int, h=H):
    return and_(h.c.kind == HOUSEHOLD_KIND_REGISTERED, h.c.identified_year <= year)


def returned_by(year: int, h=H):
    return and_(in_registry(year, h), h.c.returned_year.is_not(None), h.c.returned_year <= year)


def exited_by(year: int, h=H):
    """已脱贫 at the end of ``year``: exited by then and not returned by then."""
    return and_(
        in_registry(year, h),
        h.c.exit_year.is_not(None),
        h.c.exit_year <= year,
        or_(h.c.returned_year.is_(None), h.c.returned_year > year),
    )


def ever_exited_by(year: int, h=H):
    """累计脱贫(含其后返贫) at the end of ``year``: in the registry with an exit in or before ``year``,
    whether or not the household returned to poverty afterwards (not a state: see ``exited_by``)."""
    return and_(in_registry(year, h), h.c.exit_year.is_not(None), h.c.exit_year <= year)


def not_exited_by(year: int, h=H):
    return and_(
        in_registry(year, h),
        or_(h.c.exit_year.is_(None), h.c.exit_year > year),
        or_(h.c.returned_year.is_(None), h.c.returned_year > year),
    )


def poor_at(year: int, h=H):
    """Counted as poor for the incidence rate: not exited, or returned."""
    return or_(not_exited_by(year, h), returned_by(year, h))


def status_expr(year: int):
    """The household's 脱贫状态 at the end of ``year`` (the kind for non-registered households)."""
    return case(
        (returned_by(year), literal(STATUS_RETURNED)),
        (exited_by(year), literal(STATUS_EXITED)),
        (not_exited_by(year), literal(STATUS_NOT_EXITED)),
        else_=H.c.kind,
    )


# ---- members at a year's end ------------------------------------------------------------


def _year_of(date_column):
    return cast(extract("year", date_column), Integer)


def member_from(p=P):
    """The first year at whose end the person is a member (birth or join, the later); NULL: always."""
    born, joined = p.c.birth_year, _year_of(p.c.join_date)
    return case((born.is_(None), joined), (joined.is_(None), born), (joined > born, joined), else_=born)


def member_to(p=P):
    """The year the person left (减员); NULL: still a member."""
    return _year_of(p.c.leave_date)


def member_at(year, p=P):
    """The person is a member at the end of ``year`` (an int or a year column): born and joined by then
    and not yet left."""
    return and_(or_(p.c.birth_year.is_(None), p.c.birth_year <= year),
                or_(p.c.join_date.is_(None), _year_of(p.c.join_date) <= year),
                or_(p.c.leave_date.is_(None), _year_of(p.c.leave_date) > year))


def current_member(p=P):
    """A member today (no leave date): the household's member_count counts these."""
    return p.c.leave_date.is_(None)


def members_at(year, h=H):
    """The household's members at the end of ``year`` (an int, a year column, or None for today).

    today's member_count, less today's members not yet born or joined then, plus the former members
    still there then. On a summary table (``data_access.summary``) the change rows carry that
    correction (member_from, member_to, member_change); on ``household`` it is read from ``person``.
    """
    if year is None:
        return h.c.member_count
    if "member_change" in h.c:
        present = and_(or_(h.c.member_from.is_(None), h.c.member_from <= year),
                       or_(h.c.member_to.is_(None), h.c.member_to > year))
        return h.c.member_count + case(
            (and_(present, h.c.member_to.is_not(None)), h.c.member_change),
            (and_(not_(present), h.c.member_to.is_(None)), -h.c.member_change), else_=0)
    at = member_at(year)
    correction = select(func.coalesce(func.sum(case(
        (and_(at, P.c.leave_date.is_not(None)), 1), (and_(not_(at), P.c.leave_date.is_(None)), -1), else_=0)), 0)
    ).where(P.c.hh_id == h.c.hh_id).scalar_subquery()
    return h.c.member_count + correction


def population_year(year: int, villages_in):
    """农村户籍人口 of the villages ``villages_in`` (a condition on region ``R``) at ``year``: per village the
    figure of that year, else of its latest earlier year, else the figure kept without a year
    (region.rural_population). Returns (village code, population) rows as a subquery."""
    # per village the newest row up to ``year``: one backward step on the (village_code, year) key, not
    # a GROUP BY over every village's rows (0.22 -> 0.09 s for the 20,000 villages of a province)
    own = (select(VP.c.population).where(VP.c.village_code == R.c.code, VP.c.year <= year)
           .order_by(VP.c.year.desc()).limit(1).correlate(R).scalar_subquery())
    return (select(R.c.code.label("code"), func.coalesce(own, R.c.rural_population).label("population"))
            .where(R.c.level == "village", villages_in).subquery("population"))


def population_years(years, villages_in, key=None):
    """``population_year`` for several years in one pass: SELECT [key,] y<year>… where each y<year> is the sum
    over the villages ``villages_in`` (a condition on region ``R``; ``key``, an expression on ``R``, groups
    them) of the village's 农村户籍人口 at that year, by the same rule (the year's figure, else its latest
    earlier year's, else region.rural_population). A village's row of year Y stands for the years from Y to
    the year before its next row."""
    # Per village and year the newest row up to that year, as MAX over (year, population) packed into one
    # integer (year × 2^33 + population + 2^32: any 32-bit population), unpacked after: one GROUP BY, no
    # window over the 260,000 rows of a province. A village without such a row keeps region.rural_population.
    shift, offset = literal(2 ** 33, BigInteger()), literal(2 ** 32, BigInteger())
    packed = VP.c.year * shift + (VP.c.population + offset)
    latest = (select(VP.c.village_code, *[func.max(case((VP.c.year <= y, packed))).label(f"p{y}") for y in years])
              .group_by(VP.c.village_code).subquery("pop_latest"))
    keys = [key.label("key")] if key is not None else []
    return (select(*keys, *[func.coalesce(func.sum(func.coalesce(latest.c[f"p{y}"] % shift - offset,
                                                                  R.c.rural_population)), 0).label(f"y{y}")
                            for y in years])
            .select_from(R.outerjoin(latest, latest.c.village_code == R.c.code))
            .where(R.c.level == "village", villages_in).group_by(*([key] if key is not None else [])))


# ---- the poverty and monitoring line of a year ----------------------------------------

LAST_POVERTY_LINE_YEAR = 2020  # from 2021 the province's monitoring line (监测线) applies


def line_amounts(conn, scope: Scope, first_year: int, last_year: int) -> dict[int, tuple[int, str]]:
    """year -> (amount 元, kind): 贫困线 up to 2020, then 监测线 (the other kind where one is missing).

    A provincial row (poverty_line.province = a code prefix of the scope, or the province's name in
    meta) wins over the national one (province "").
    """
    province_name = conn.execute(select(M.c.value).where(M.c.key == "province_name")).scalar() or ""
    rows = conn.execute(
        select(L.c.year, L.c.kind, L.c.province, L.c.amount).where(L.c.year.between(first_year, last_year))
    ).all()
    best: dict[int, tuple[tuple, int, str]] = {}
    for year, kind, prov, amount in rows:
        prov = (prov or "").strip()
        own = bool(prov) and (scope.code.startswith(prov) or prov == province_name)
        if prov and not own:
            continue
        wanted = POVERTY_LINE if year <= LAST_POVERTY_LINE_YEAR else MONITORING_LINE
        rank = (kind != wanted, not own)
        if year not in best or rank < best[year][0]:
            best[year] = (rank, int(amount), kind)
    return {y: (amount, kind) for y, (_, amount, kind) in best.items()}


def line_rows(lines: dict[int, tuple[int, str]]):
    """``line_amounts`` as a subquery (year, amount, kind) of literals, to join an income on its own year."""
    return union_all(*[
        select(literal(y).label("year"), literal(a).label("amount"), literal(k).label("kind"))
        for y, (a, k) in sorted(lines.items())
    ] or [select(literal(0).label("year"), literal(None).label("amount"), literal(None).label("kind"))]
    ).subquery("line")


def income_line(income_year, line):
    """The join condition of the one rule: an income is judged against the line of its own year."""
    return line.c.year == income_year


def line_by_year(engine: Engine, scope: Scope, first_year: int, last_year: int) -> pd.DataFrame:
    """The line used for each year's income check. Columns: year, kind (贫困线/监测线), amount (元)."""
    with engine.connect() as conn:
        lines = line_amounts(conn, scope, first_year, last_year)
    return pd.DataFrame([(y, k, a) for y, (a, k) in sorted(lines.items())], columns=["year", "kind", "amount"])


# ---- home visits and their periods ---------------------------------------------------

HOME_VISIT_KINDS = ("入户走访",)

# Which help measures answer which main cause (致贫原因 → 帮扶措施), for "措施是否对症".
# Causes without a specific measure (因婚, 因丧, 其他) are left out.
MATCHING_MEASURES: dict[str, tuple[str, ...]] = {
    "因病": ("健康帮扶",),
    "因残": ("健康帮扶", "公益岗位", "低保兜底", "特困供养"),
    "因学": ("教育帮扶",),
    "因灾": ("危房改造", "易地扶贫搬迁", "产业帮扶"),
    "缺土地": ("产业帮扶", "资产收益分红", "易地扶贫搬迁"),
    "缺水": ("易地扶贫搬迁",),
    "缺技术": ("技能培训", "就业帮扶"),
    "缺劳力": ("公益岗位", "低保兜底", "特困供养", "资产收益分红"),
    "缺资金": ("扶贫小额信贷", "产业帮扶"),
    "交通条件落后": ("易地扶贫搬迁",),
    "自身发展动力不足": ("就业帮扶", "技能培训", "产业帮扶", "公益岗位"),
}


def window(end: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """The ``days``-day period ending on ``end`` (both included)."""
    return end - dt.timedelta(days=days - 1), end


def month_end_windows(on: dt.date, days: int, months: int = 12) -> tuple[tuple[dt.date, dt.date], ...]:
    """The ``days``-day periods ending on each of the last ``months`` month ends up to ``on`` (the
    last one ends on ``on`` itself), oldest first: 入户率 "over time" on the same footing as today's."""
    ends = []
    y, m = on.year, on.month
    for _ in range(months):
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        ends.append(min(on, nxt - dt.timedelta(days=1)))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return tuple(window(end, days) for end in reversed(ends))


def visit_period(year: int, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The period of 入户率: the calendar year, or the 12 months up to ``as_of`` in the as-of year."""
    if year >= as_of.year:
        start = dt.date(as_of.year - 1, as_of.month, as_of.day) + dt.timedelta(days=1) \
            if not (as_of.month == 2 and as_of.day == 29) else dt.date(as_of.year - 1, 3, 1)
        return start, as_of
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def visit_period_words(year: int, as_of: dt.date, days: int | None = None) -> str:
    """How a label names the period of 入户率: 近{days}天 for the ``days``-day window, else the period of
    ``visit_period``: 近12个月 in the as-of year, {year}年 (the calendar year) before it."""
    if days is not None:
        return f"近{days}天"
    return "近12个月" if year >= as_of.year else f"{year}年"


def visit_rate_label(year: int, as_of: dt.date, days: int | None = None) -> str:
    """The label of a 入户率 figure, its period named (``visit_period_words``): 近12个月入户率, 近90天入户率."""
    return f"{visit_period_words(year, as_of, days)}入户率"


def assigned_on(on: dt.date, a=A):
    """The assignment (结对帮扶) covers the date ``on``."""
    return and_(a.c.start_date <= on, or_(a.c.end_date.is_(None), a.c.end_date >= on))


def home_visited(start: dt.date, end: dt.date, hh_id):
    """The household ``hh_id`` had a home visit (入户走访) between ``start`` and ``end``."""
    return exists(select(1).where(V.c.hh_id == hh_id, V.c.visit_date.between(start, end),
                                  V.c.kind.in_(HOME_VISIT_KINDS)))


# ---- late projects -------------------------------------------------------------------


def late_cutoff(year: int, as_of: dt.date) -> dt.date:
    """The date a project's planned end is compared with: the end of the year, or ``as_of`` if earlier."""
    return min(dt.date(year, 12, 31), as_of)


def late(cutoff: dt.date, p=PR):
    """The project is late (逾期) at ``cutoff``: planned to end before it, and not finished by then."""
    return and_(p.c.planned_end.is_not(None), p.c.planned_end < cutoff,
                or_(p.c.actual_end.is_(None), p.c.actual_end > p.c.planned_end))


def place_codes_mismatch(p=PR):
    """The project's region, county, town and village codes disagree (资金项目's 数据问题 地点代码不一致)."""
    town_of_region = func.substr(p.c.region_code, 1, 9).concat(literal("000"))
    return or_(
        and_(p.c.region_code.is_not(None), p.c.county_code != func.substr(p.c.region_code, 1, 6).concat(
            literal("000000"))),
        and_(p.c.village_code.is_not(None), p.c.region_code != p.c.village_code),
        and_(p.c.region_code.is_not(None), or_(p.c.town_code.is_(None), p.c.town_code != town_of_region)),
        and_(p.c.region_code.is_(None), or_(p.c.town_code.is_not(None), p.c.village_code.is_not(None))),
    )


# ---- record numbers ---------------------------------------------------------------------

HH_ID_RE = re.compile(r"^[0-9A-Za-z-]{6,32}$")  # 户编号: 6–32 letters, digits or hyphens


# ---- the ID number (GB 11643) ----------------------------------------------------------

ID_RE = re.compile(r"^\d{17}[\dXx]$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
ID_CHECK_CHARS = "10X98765432"


def id_check_char(first17: str) -> str:
    """GB 11643 check character of the first 17 digits ("0"–"9" or "X")."""
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def is_valid_id(text: str | None) -> bool:
    """True for an 18-character resident ID with a correct GB 11643 check character (x or X).

    The birth date is not checked here (the search box and the masking only need a well-formed
    number); an import also requires it to exist (``id_birth_date``).
    """
    if not isinstance(text, str) or not ID_RE.match(text):
        return False
    return id_check_char(text[:17]) == text[17].upper()


def id_birth_date(number: str) -> dt.date:
    """The birth date in digits 7–14; ValueError when there is no such date."""
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
