"""巩固衔接 (2021–): the present era's headline, as the meetings after 2020 read it.

Definitions (each figure below, at the end of ``year``, in the caller's scope):
- 脱贫人口: registered households 已脱贫 at the year's end (``rules.exited_by``), 户 and 人 (member_count),
  split by the household's 脱贫享受政策 / 脱贫不享受政策 (``household.policy_status``, the registry's current
  mark); 未标注 = exited households with neither mark. The mark is the state at the data's as-of date
  (meta ``data_as_of``) and is kept for no other year: the split is given for the as-of year only
  (``policy_split``'s ``marked``), other years get None and the pages say why.
- 监测对象 (composed with ``queries.monitoring`` in ``report.era.headline``): the records identified by the
  year's end (户 = records, 人 = persons),
  by kind in the code list's order (a deployment's own kinds, e.g. 即时帮扶, included), 风险已消除 /
  未消除 at the year's end, 本年新识别 = identified during the year.
- 帮扶覆盖: of the monitoring objects under monitoring at some time in the year (identified by its end,
  risk not removed before 1 January), those whose household has at least one 帮扶措施 of that year.
- 脱贫户年人均纯收入: over the 已脱贫 households with an income record of the year, total net income ÷
  people (Σ 年人均纯收入 × 人数 ÷ Σ 人数, 元); growth (%) on the same figure of the year before.
- 脱贫劳动力务工: persons of 已脱贫 households with a ``work_year`` row of the year whose 务工状况 is one of
  the four 务工 kinds (not 未外出务工); change on the year before. None when the database has no
  ``work_year`` table or no row for the year.
- 返贫 after 2020 is a monitoring matter: a registered household with returned_year >= 2021 is counted
  by its monitoring record; ``returned_outside_monitoring`` lists those without one (a data problem).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, case, exists, func, inspect, literal, or_, select
from sqlalchemy.engine import Engine

from .. import codes
from ..codes import CONSOLIDATION_SINCE, POLICY_ENJOYING, POLICY_NOT_ENJOYING, WORK_STATUS
from ..rules import exited_by, in_registry
from ..schema import help_measure as HM
from ..schema import household as H
from ..schema import income as I
from ..schema import meta as M
from ..schema import monitoring_object as MO
from ..schema import region as R
from ..schema import work_year as W
from ..scope import Scope
from ..summary import read as summary
from .common import count_if, frame, pct, people_if, people_year

WORKING = tuple(s for s in WORK_STATUS if s != "未外出务工")
_has_work_table: dict[str, bool] = {}


def has_work_table(engine: Engine) -> bool:
    key = str(engine.url)
    if not _has_work_table.get(key):  # a missing table is looked for again: an import may create it
        with engine.connect() as conn:
            _has_work_table[key] = inspect(conn).has_table(W.name)
    return _has_work_table[key]


def policy_marked_year(engine: Engine) -> int | None:
    """The year the 享受政策 marks stand for: the year of the data's as-of date (None when unknown)."""
    with engine.connect() as conn:
        as_of = conn.execute(select(M.c.value).where(M.c.key == "data_as_of")).scalar()
    text = str(as_of or "")[:4]
    return int(text) if text.isdigit() else None


def policy_split(engine: Engine, scope: Scope, year: int) -> dict:
    """脱贫人口 at the end of ``year`` and its split. Keys: exited_households, exited_persons,
    policy_households, policy_persons (享受政策), no_policy_households, no_policy_persons (不享受政策),
    unmarked_households, unmarked_persons; marked_year (``policy_marked_year``) and marked (``year`` is that
    year, or it is unknown). When not marked, the six split figures are None: the current mark says
    nothing of an earlier year."""
    marked_year = policy_marked_year(engine)
    marked = marked_year is None or int(year) == marked_year
    done = exited_by(year)
    enjoy = and_(done, H.c.policy_status == POLICY_ENJOYING)
    not_enjoy = and_(done, H.c.policy_status == POLICY_NOT_ENJOYING)
    at = people_year(engine, year)
    stmt = select(count_if(done), people_if(done, H, at), count_if(enjoy), people_if(enjoy, H, at),
                  count_if(not_enjoy), people_if(not_enjoy, H, at)).where(scope.where(H), in_registry(year))
    ps = summary.policy_for(engine, scope) if at is None else None
    vy = summary.village_years_for(engine, (year,)) if not marked else None
    if ps is not None:  # today's members: the same sums per county, state and mark (data_access.summary)
        done = exited_by(year, ps)
        enjoy = and_(done, ps.c.policy_status == POLICY_ENJOYING)
        not_enjoy = and_(done, ps.c.policy_status == POLICY_NOT_ENJOYING)
        stmt = select(*[f(cond, ps) for cond in (done, enjoy, not_enjoy) for f in (count_if, people_if)]) \
            .where(scope.where(ps), in_registry(year, ps))
    elif vy is not None:  # not marked: only 脱贫人口 is shown, the same counts per village and year
        stmt = select(*[func.coalesce(func.sum(c), 0) for c in (vy.c.exited_households, vy.c.exited_persons)],
                      *[literal(0)] * 4).where(scope.where(vy), vy.c.year == year)
    with engine.connect() as conn:
        eh, ep, ph, pp, nh, np_ = map(int, conn.execute(stmt).one())
    out = {"exited_households": eh, "exited_persons": ep, "marked_year": marked_year, "marked": marked,
           "policy_households": ph, "policy_persons": pp, "no_policy_households": nh, "no_policy_persons": np_,
           "unmarked_households": eh - ph - nh, "unmarked_persons": ep - pp - np_}
    if not marked:
        out.update(dict.fromkeys(("policy_households", "policy_persons", "no_policy_households",
                                  "no_policy_persons", "unmarked_households", "unmarked_persons")))
    return out


def monitored_in_year(year: int, mo=MO):
    """The record was under monitoring at some time in ``year``: identified by its end, risk not removed
    before its first day."""
    return and_(mo.c.identified_date <= dt.date(year, 12, 31),
                or_(mo.c.removed_date.is_(None), mo.c.removed_date >= dt.date(year, 1, 1)))


def help_coverage(engine: Engine, scope: Scope, year: int) -> dict:
    """Monitoring objects under monitoring in ``year`` with at least one 帮扶措施 of that year.
    Keys: base_households, helped_households, helped_pct (%)."""
    helped = exists(select(1).where(HM.c.hh_id == MO.c.hh_id, HM.c.year == year))
    stmt = select(func.count(), count_if(helped)).where(scope.where(MO), monitored_in_year(year))
    mh = summary.monitoring_help_for(engine)
    if mh is not None:  # the records with a measure in the year, counted once per refresh (data_access.summary)
        got = select(func.coalesce(func.sum(mh.c.records), 0)).where(
            scope.where(mh), mh.c.year == year, monitored_in_year(year, mh)).scalar_subquery()
        stmt = select(func.count(), got).where(scope.where(MO), monitored_in_year(year))
    with engine.connect() as conn:
        base, got = map(int, conn.execute(stmt).one())
    return {"base_households": base, "helped_households": got, "helped_pct": pct(got, base)}


def exited_income(engine: Engine, scope: Scope, year: int) -> dict:
    """脱贫户年人均纯收入 of ``year`` (元, float; None without records). Keys: households, persons, average."""
    stmt = (select(func.count(), func.coalesce(func.sum(I.c.members), 0),
                   func.sum(I.c.per_capita_net * I.c.members))
            .select_from(H.join(I, and_(I.c.hh_id == H.c.hh_id, I.c.year == year)))
            .where(scope.where(H), exited_by(year)))
    iy = summary.incomes_for(engine, scope)
    if iy is not None:  # the same sums per county and state (data_access.summary)
        stmt = (select(func.coalesce(func.sum(iy.c.households), 0), func.coalesce(func.sum(iy.c.persons), 0),
                       func.sum(iy.c.total))
                .where(scope.where(iy), iy.c.year == year, exited_by(year, iy)))
    with engine.connect() as conn:
        n, persons, total = conn.execute(stmt).one()
    persons = int(persons or 0)
    return {"households": int(n), "persons": persons,
            "average": float(total) / persons if persons and total is not None else None}


def latest_income_year(engine: Engine, scope: Scope, year: int) -> int:
    """The income year the headline reads for ``year``: ``year`` itself, or the latest earlier year with
    an income record in the scope (a year's incomes are registered after it ends); ``year`` when none."""
    # Steps down from the newest income year <= ``year`` (an index seek each) until one has a record in
    # the scope: the same year as MAX(year) over the scope's records, without reading them all.
    with engine.connect() as conn:
        candidate = conn.execute(select(func.max(I.c.year)).where(I.c.year <= year)).scalar()
        while candidate is not None:
            present = conn.execute(select(I.c.hh_id).select_from(I.join(H, H.c.hh_id == I.c.hh_id))
                                   .where(I.c.year == candidate, scope.where(H)).limit(1)).first()
            if present is not None:
                return int(candidate)
            candidate = conn.execute(select(func.max(I.c.year)).where(I.c.year < candidate)).scalar()
    return int(year)


def exited_workers(engine: Engine, scope: Scope, year: int) -> dict | None:
    """脱贫劳动力 of ``year`` (persons with a work_year row) and those in work (务工). None when there
    is no work_year data for the year. Keys: labour, working, working_pct."""
    if not has_work_table(engine):
        return None
    working = W.c.work_status.in_(WORKING)
    stmt = (select(func.count(), count_if(working))
            .select_from(W.join(H, H.c.hh_id == W.c.hh_id))
            .where(scope.where(W), W.c.year == year, exited_by(year)))
    wy = summary.work_for(engine, scope)
    if wy is not None:  # the same counts per county and state (data_access.summary)
        stmt = (select(func.coalesce(func.sum(wy.c.persons), 0),
                       func.coalesce(func.sum(case((wy.c.working == 1, wy.c.persons), else_=0)), 0))
                .where(scope.where(wy), wy.c.year == year, exited_by(year, wy)))
    with engine.connect() as conn:
        labour, work = map(int, conn.execute(stmt).one())
    if not labour:
        return None
    return {"labour": labour, "working": work, "working_pct": pct(work, labour)}


def identified_in_year(engine: Engine, scope: Scope, year: int) -> tuple[int, int]:
    """监测对象 identified during ``year``: (户 = records, 人 = persons)."""
    stmt = select(func.count(), func.coalesce(func.sum(MO.c.persons), 0)).where(
        scope.where(MO), MO.c.identified_date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    with engine.connect() as conn:
        households, persons = conn.execute(stmt).one()
    return int(households), int(persons)


def growth_pct(now, before):
    """(now ÷ before − 1) × 100, two decimals; None when either is missing or before is 0."""
    if now is None or before in (None, 0):
        return None
    return round(100.0 * (now / before - 1.0), 2)


# ---- 返贫 after 2020: a monitoring matter -----------------------------------------------------------------


def _returned_outside(scope: Scope, year: int):
    monitored = exists(select(1).where(MO.c.hh_id == H.c.hh_id, MO.c.identified_date <= dt.date(year, 12, 31)))
    return and_(scope.where(H), in_registry(year), H.c.returned_year.is_not(None),
                H.c.returned_year >= CONSOLIDATION_SINCE, H.c.returned_year <= year, ~monitored)


def returned_outside_count(engine: Engine, scope: Scope, year: int) -> int:
    """Households marked 返贫 in 2021..``year`` without a monitoring record identified by the year's end."""
    stmt = select(func.count()).where(_returned_outside(scope, year))
    ps = summary.policy_for(engine, scope)
    if ps is not None:  # the same count per county and state, with the first monitoring year (data_access.summary)
        stmt = select(count_if(_returned_outside_grouped(year, ps), ps)).where(scope.where(ps))
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def _returned_outside_grouped(year: int, ps):
    """``_returned_outside`` on summary_policy's rows (a county's households of one state and first monitoring year)."""
    return and_(in_registry(year, ps), ps.c.returned_year.is_not(None), ps.c.returned_year >= CONSOLIDATION_SINCE,
                ps.c.returned_year <= year, or_(ps.c.watched_year.is_(None), ps.c.watched_year > year))


def returned_outside_monitoring(engine: Engine, scope: Scope, year: int, limit: int = 200) -> pd.DataFrame:
    """The data problem of 返贫 after 2020 (``_returned_outside``), by household number. Columns: hh_id,
    head_name, town, village, member_count, returned_year."""
    village, town = R.alias("village"), R.alias("town")
    where = _returned_outside(scope, year)
    ps = summary.policy_for(engine, scope)
    if ps is not None:  # only the counties that have such households (a province scanned 2 million for a few)
        with engine.connect() as conn:
            counties = list(conn.execute(select(ps.c.county_code).distinct()
                                         .where(scope.where(ps), _returned_outside_grouped(year, ps))).scalars())
        where = and_(where, H.c.county_code.in_(counties))
    stmt = (select(H.c.hh_id, H.c.head_name, town.c.name.label("town"), village.c.name.label("village"),
                   H.c.member_count, H.c.returned_year)
            .outerjoin(village, village.c.code == H.c.village_code)
            .outerjoin(town, town.c.code == H.c.town_code)
            .where(where).order_by(H.c.hh_id).limit(limit))
    return frame(engine, stmt)


def kinds_in_use() -> tuple[str, ...]:
    """The monitoring kinds shown (national, then the deployment's)."""
    return codes.monitoring_kinds()


def income_series(engine: Engine, scope: Scope, first_year: int, last_year: int) -> pd.DataFrame:
    """脱贫户年人均纯收入 per income year in ``first_year``..``last_year`` (``exited_income`` of each year, in
    one query: a household counts in the years it was 已脱贫 at the year's end). Columns: year, households,
    persons, average (元), growth_pct (on the row before, when it is the year before)."""
    exited_then = and_(H.c.kind == codes.HOUSEHOLD_KIND_REGISTERED, H.c.identified_year <= I.c.year,
                       H.c.exit_year.is_not(None), H.c.exit_year <= I.c.year,
                       or_(H.c.returned_year.is_(None), H.c.returned_year > I.c.year))
    stmt = (select(I.c.year, func.count().label("households"), func.sum(I.c.members).label("persons"),
                   func.sum(I.c.per_capita_net * I.c.members).label("total"))
            .select_from(I.join(H, H.c.hh_id == I.c.hh_id))
            .where(scope.where(H), I.c.year.between(first_year, last_year), exited_then)
            .group_by(I.c.year).order_by(I.c.year))
    iy = summary.incomes_for(engine, scope)
    if iy is not None:  # the same sums per county and state (data_access.summary)
        then = and_(iy.c.kind == codes.HOUSEHOLD_KIND_REGISTERED, iy.c.identified_year <= iy.c.year,
                    iy.c.exit_year.is_not(None), iy.c.exit_year <= iy.c.year,
                    or_(iy.c.returned_year.is_(None), iy.c.returned_year > iy.c.year))
        stmt = (select(iy.c.year, func.sum(iy.c.households).label("households"),
                       func.sum(iy.c.persons).label("persons"), func.sum(iy.c.total).label("total"))
                .where(scope.where(iy), iy.c.year.between(first_year, last_year), then)
                .group_by(iy.c.year).order_by(iy.c.year))
    df = frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["year", "households", "persons", "average", "growth_pct"])
    df["year"] = df["year"].astype(int)
    df["households"] = df["households"].astype(int)
    df["persons"] = df["persons"].astype(int)
    df["average"] = [float(t) / p if p else None for t, p in zip(df["total"], df["persons"])]
    prev = dict(zip(df["year"], df["average"]))
    df["growth_pct"] = [growth_pct(a, prev.get(y - 1)) for y, a in zip(df["year"], df["average"])]
    return df[["year", "households", "persons", "average", "growth_pct"]]


# ---- 衔接资金 (2021–): by level, and the share arranged to 产业发展 ----------------------------------------
# The year's funds of the four 财政衔接推进乡村振兴补助资金 levels. For a county (or wider) scope the base is
# the money 下达 to the scope; the money 安排 to projects, 拨付 and 支出 count every movement to date on the
# year's funds (as queries.funds). Below the county only the money arranged to projects placed in the scope.
# 产业发展 share = 安排 of the funds to 产业发展 projects ÷ 安排 of the funds to all projects (placed in the
# region), for 中央衔接资金 (the central rule's figure) and for all four levels.

INDUSTRY = "产业发展"
ALLOCATION_LEVELS = ("province", "city", "county")  # funds are allocated to these levels (as queries.funds)


def linkage_by_level(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """衔接资金 of ``year`` by level. Columns: level (中央/省级/市级/县级), source, allocated (None below the
    county), arranged, paid, spent (元), spent_rate (% of allocated, or of arranged below the county)."""
    from ..schema import arrangement as A
    from ..schema import fund as F
    from ..schema import money_flow as MF
    from ..schema import project as P
    county_up = scope.level in ALLOCATION_LEVELS
    where = [F.c.year == year, F.c.source.in_(codes.LINKAGE_FUNDS)]
    if county_up:
        where.append(scope.where(F))
    with engine.connect() as conn:
        allocated = dict(conn.execute(select(F.c.source, func.sum(F.c.amount)).where(*where)
                                      .group_by(F.c.source)).all()) if county_up else {}
        arr_where = list(where) if county_up else where + [scope.where(P)]
        arranged = dict(conn.execute(
            select(F.c.source, func.sum(A.c.amount)).select_from(
                A.join(F, F.c.fund_id == A.c.fund_id).join(P, P.c.project_id == A.c.project_id))
            .where(*arr_where).group_by(F.c.source)).all())
        flows = conn.execute(
            select(F.c.source, MF.c.kind, func.sum(MF.c.amount)).select_from(
                MF.join(F, F.c.fund_id == MF.c.fund_id).join(P, P.c.project_id == MF.c.project_id))
            .where(*arr_where).group_by(F.c.source, MF.c.kind)).all()
    moved = {(s, k): int(v or 0) for s, k, v in flows}
    rows = []
    for source in codes.LINKAGE_FUNDS:
        alloc = int(allocated.get(source) or 0) if county_up else None
        arr = int(arranged.get(source) or 0)
        spent = moved.get((source, codes.MONEY_SPENT), 0)
        rows.append({"level": codes.LINKAGE_LEVELS[source], "source": source, "allocated": alloc, "arranged": arr,
                     "paid": moved.get((source, codes.MONEY_PAID), 0), "spent": spent,
                     "spent_rate": pct(spent, alloc if county_up else arr)})
    return pd.DataFrame(rows)


def _industry_columns():
    from ..schema import arrangement as A
    from ..schema import fund as F
    from ..schema import project as P

    central = F.c.source == codes.CENTRAL_LINKAGE_FUND
    industry = P.c.category == INDUSTRY
    amount = A.c.amount

    def total(cond):
        return func.coalesce(func.sum(case((cond, amount), else_=0)), 0)

    cols = [total(central).label("central_arranged"), total(and_(central, industry)).label("central_industry"),
            func.coalesce(func.sum(amount), 0).label("linkage_arranged"),
            total(industry).label("linkage_industry")]
    source = A.join(F, F.c.fund_id == A.c.fund_id).join(P, P.c.project_id == A.c.project_id)
    return cols, source, F, P


def _with_shares(df: pd.DataFrame, threshold) -> pd.DataFrame:
    for col in ("central_arranged", "central_industry", "linkage_arranged", "linkage_industry"):
        df[col] = df[col].fillna(0).astype("int64")
    df["central_share"] = [pct(i, a) for i, a in zip(df["central_industry"], df["central_arranged"])]
    df["linkage_share"] = [pct(i, a) for i, a in zip(df["linkage_industry"], df["linkage_arranged"])]
    df["threshold"] = threshold
    df["below"] = [threshold is not None and s is not None and s < threshold for s in df["central_share"]]
    return df


def industry_share(engine: Engine, scope: Scope, year: int, threshold: float | None) -> dict:
    """The scope's 产业发展 share of ``year``'s 衔接资金 (module notes) against ``threshold`` (%; None: not
    judged). Keys: central_arranged, central_industry, central_share, linkage_arranged, linkage_industry,
    linkage_share (元 / %), threshold, below (central share under the threshold)."""
    cols, source, F, P = _industry_columns()
    stmt = (select(*cols).select_from(source)
            .where(scope.where(P), F.c.year == year, F.c.source.in_(codes.LINKAGE_FUNDS)))
    row = _with_shares(frame(engine, stmt), threshold).to_dict("records")[0]
    row["below"] = bool(row["below"])
    return row


def industry_share_by_region(engine: Engine, scope: Scope, year: int, threshold: float | None) -> pd.DataFrame:
    """``industry_share`` per child region (every child listed, by code; projects without a place in the
    child level are left out). Columns: code, name, the keys of ``industry_share``."""
    if scope.child_level is None:
        return pd.DataFrame(columns=["code", "name", "central_arranged", "central_industry", "central_share",
                                     "linkage_arranged", "linkage_industry", "linkage_share", "threshold", "below"])
    cols, source, F, P = _industry_columns()
    key = scope.child_key(P)
    per = (select(key.label("code"), *cols).select_from(source)
           .where(scope.where(P), F.c.year == year, F.c.source.in_(codes.LINKAGE_FUNDS))
           .group_by(key).subquery())
    regions = select(R.c.code, R.c.name).where(R.c.parent_code == scope.code).subquery()
    names = [c for c in per.c.keys() if c != "code"]
    stmt = (select(regions.c.code, regions.c.name, *[per.c[c] for c in names])
            .outerjoin(per, per.c.code == regions.c.code).order_by(regions.c.code))
    return _with_shares(frame(engine, stmt), threshold)
