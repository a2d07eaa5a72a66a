"""Per-village figures for the village map (村级地图) and one village's file (村档案).

Definitions
- Registry states, 贫困发生率 and 未脱贫: ``data_access.rules`` (year-aware, at the end of the year).
- 脱贫进度 (%): households exited by the end of the year ÷ households in the registry then.
- 监测对象数: monitoring-object records identified by the end of the year (``at_risk`` = not removed then).
- 入户率 (%): households with a current assignment (结对帮扶 running at the end of the period) that
  had at least one visit of kind 入户走访 in the period ÷ those households. The period is the
  calendar year, or for the as-of year the 12 months up to the data's as-of date (``rules.visit_period``).
- 资金投入 (元/人): money arranged (安排) to the year's projects placed in the village ÷ the
  village's registered persons (建档立卡人数) at the end of the year.
- Late projects (逾期项目): the year's projects placed in the village whose planned end lies before
  the cut-off (the end of the year, or the as-of date when earlier) and that were not finished
  (no actual end) or finished after their planned end (``rules.late``).
- 2021 onward (``indicators_for``): 本年新识别监测户 = records identified during the year; 监测对象占比 (%) =
  persons of the monitoring objects identified by the year's end ÷ 农村户籍人口; 衔接资金安排 (万元) = the
  year's 衔接资金 (the four levels, ``codes.LINKAGE_FUNDS``) arranged to projects placed in the village.
  贫困发生率, 未脱贫人数 and 脱贫进度 are campaign figures (2014–2020) and are not offered then.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, distinct, exists, func, literal, or_, select
from sqlalchemy.engine import Engine

from ..codes import HOUSEHOLD_KIND_REGISTERED, LINKAGE_FUNDS, MONEY_PAID, MONEY_SPENT, is_consolidation_year
from ..names import display_name_sql
from ..privacy import mask_id, mask_phone
from ..report.money import WAN
from ..schema import arrangement as A
from ..schema import fund as F
from ..schema import assignment as AS
from ..schema import help_unit as U
from ..schema import helper as HP
from ..schema import household as H
from ..schema import money_flow as MF
from ..schema import monitoring_object as MO
from ..schema import person as PE
from ..schema import project as P
from ..schema import region as R
from ..schema import visit as V
from ..summary import read as summary
from ..scope import Scope
from ..rules import (
    HOME_VISIT_KINDS, assigned_on, current_member, exited_by, home_visited, in_registry, late, late_cutoff,
    members_at, not_exited_by, poor_at, population_year, returned_by, status_expr, visit_period, visit_rate_label,
)
from .common import count_if, frame, pct, people_if, people_year, populations, ratio, region_in

VISIT_KINDS_COUNTED = HOME_VISIT_KINDS  # 入户率 as the help page counts it (queries.help)

# The indicators the map and the ranking offer: key -> (中文名, unit, higher_is_worse, digits).
INDICATORS = {  # every indicator's spec, whatever the year
    "incidence": ("贫困发生率", "%", True, 2),
    "not_exited_persons": ("未脱贫人数", "人", True, 0),
    "exit_progress": ("脱贫进度", "%", False, 2),
    "monitoring_households": ("监测对象数", "户", True, 0),
    "monitoring_at_risk": ("风险未消除监测户", "户", True, 0),
    "visit_rate": ("入户率", "%", False, 2),
    "funds_per_person": ("资金投入(人均)", "元/人", False, 0),
    "late_projects": ("逾期项目数", "个", True, 0),
    "monitoring_new": ("本年新识别监测户", "户", True, 0),
    "monitoring_share": ("监测对象占比", "%", True, 2),
    "linkage_arranged": ("衔接资金安排", "万元", False, 2),
}
CAMPAIGN_INDICATORS = {k: INDICATORS[k] for k in (  # 2014–2020
    "incidence", "not_exited_persons", "exit_progress", "monitoring_households", "monitoring_at_risk", "visit_rate",
    "funds_per_person", "late_projects")}
ERA_INDICATORS = {k: INDICATORS[k] for k in (  # 2021 onward: 防返贫监测 and 衔接资金
    "monitoring_at_risk", "monitoring_households", "monitoring_new", "monitoring_share", "visit_rate",
    "linkage_arranged", "funds_per_person", "late_projects")}
CAMPAIGN_ONLY = tuple(k for k in CAMPAIGN_INDICATORS if k not in ERA_INDICATORS)


def indicators_for(year: int) -> dict:
    """The indicators offered for ``year``: the campaign's up to 2020, the present era's from 2021."""
    return ERA_INDICATORS if is_consolidation_year(year) else CAMPAIGN_INDICATORS


def default_indicator(year: int) -> str:
    """贫困发生率 up to 2020, 风险未消除监测户 from 2021."""
    return "monitoring_at_risk" if is_consolidation_year(year) else "incidence"


def indicator_label(key: str, year: int, as_of: dt.date) -> str:
    """The name an indicator is shown with: INDICATORS' name, 入户率 with its period (``rules.visit_rate_label``)."""
    return visit_rate_label(year, as_of) if key == "visit_rate" else INDICATORS[key][0]


def _villages_in(scope: Scope):
    return and_(R.c.level == "village", region_in(scope))


REGISTRY_COLUMNS = ("registered_households", "registered_persons", "exited_households", "not_exited_households",
                    "not_exited_persons", "returned_persons", "poor_persons")


def indicators(engine: Engine, scope: Scope, year: int, as_of: dt.date) -> pd.DataFrame:
    """Every village in the scope with the map's indicators at the end of ``year``.

    Columns: code, name, town_code, town_name, is_poor_village, poor_village_exit_year,
    rural_population, registered_households, registered_persons, exited_households,
    not_exited_households, not_exited_persons, returned_persons, poor_persons, incidence (%),
    exit_progress (%), monitoring_households, monitoring_persons, monitoring_at_risk, monitoring_new,
    monitoring_share (%), assigned_households, visited_households, visit_rate (%), arranged (元),
    funds_per_person (元/人), linkage_yuan (元), linkage_arranged (万元), projects, late_projects.
    Ordered by code. Rates are None (NaN) where the base is 0.
    """
    town = R.alias("town")
    pop = population_year(year, region_in(scope))
    places_stmt = (
        select(R.c.code, display_name_sql(R.c.name).label("name"), R.c.parent_code.label("town_code"),
               display_name_sql(town.c.name).label("town_name"),
               R.c.is_poor_village, R.c.poor_village_exit_year, pop.c.population.label("rural_population"))
        .select_from(R.outerjoin(town, town.c.code == R.c.parent_code).outerjoin(pop, pop.c.code == R.c.code))
        .where(_villages_in(scope)).order_by(R.c.code)
    )
    df = frame(engine, places_stmt)
    for stmt in _village_parts(engine, scope, year, as_of):
        part = frame(engine, stmt)
        df = df.merge(part, on="code", how="left")
    counts = ["registered_households", "registered_persons", "exited_households", "not_exited_households",
              "not_exited_persons", "returned_persons", "poor_persons", "monitoring_households",
              "monitoring_persons", "monitoring_at_risk", "monitoring_new", "assigned_households",
              "visited_households", "arranged", "linkage_yuan", "projects", "late_projects"]
    for col in counts:
        df[col] = df[col].fillna(0).astype("int64")
    df["is_poor_village"] = df["is_poor_village"].astype(bool)
    df["rural_population"] = df["rural_population"].fillna(0).astype("int64")
    return _rates(df).reset_index(drop=True)


def _village_parts(engine: Engine, scope: Scope, year: int, as_of: dt.date) -> list:
    """The per-village statements of ``indicators`` (each: code and some of its counts, one row per village
    with any), for the registry, monitoring, visits, money, 衔接资金 and projects."""
    end = dt.date(year, 12, 31)
    v_start, v_end = visit_period(year, as_of)
    cutoff = late_cutoff(year, as_of)
    h = summary.households_for(engine, scope)
    registry_stmt = (
        select(h.c.village_code.label("code"),
               count_if(in_registry(year, h), h).label("registered_households"),
               people_if(in_registry(year, h), h, year).label("registered_persons"),
               count_if(exited_by(year, h), h).label("exited_households"),
               count_if(not_exited_by(year, h), h).label("not_exited_households"),
               people_if(not_exited_by(year, h), h, year).label("not_exited_persons"),
               people_if(returned_by(year, h), h, year).label("returned_persons"),
               people_if(poor_at(year, h), h, year).label("poor_persons"))
        .where(scope.where(h)).group_by(h.c.village_code)
    )
    vy = summary.village_years_for(engine, (year,))
    if vy is not None:  # the same counts per village and year, computed once per refresh (data_access.summary)
        registry_stmt = select(vy.c.village_code.label("code"), *[vy.c[name] for name in REGISTRY_COLUMNS]) \
            .where(scope.where(vy), vy.c.year == year)
    removed = and_(MO.c.removed_date.is_not(None), MO.c.removed_date <= end)
    monitoring_stmt = (
        select(MO.c.village_code.label("code"), func.count().label("monitoring_households"),
               func.coalesce(func.sum(MO.c.persons), 0).label("monitoring_persons"),
               count_if(~removed).label("monitoring_at_risk"),
               count_if(MO.c.identified_date >= dt.date(year, 1, 1)).label("monitoring_new"))
        .where(scope.where(MO), MO.c.identified_date <= end).group_by(MO.c.village_code)
    )
    assigned = (
        select(AS.c.village_code, AS.c.hh_id).distinct()
        .where(scope.where(AS), assigned_on(v_end)).subquery()
    )
    visits_stmt = (
        select(assigned.c.village_code.label("code"), func.count().label("assigned_households"),
               count_if(home_visited(v_start, v_end, assigned.c.hh_id)).label("visited_households"))
        .group_by(assigned.c.village_code)
    )
    vs = summary.village_visits_for(engine, year, as_of)
    if vs is not None:  # the same figures, computed once per refresh (data_access.summary)
        visits_stmt = select(vs.c.village_code.label("code"), vs.c.assigned_households,
                             vs.c.visited_households).where(scope.where(vs), vs.c.year == year)
    village_projects = and_(scope.where(P), P.c.year == year, P.c.village_code.is_not(None))
    arranged_stmt = (
        select(P.c.village_code.label("code"), func.coalesce(func.sum(A.c.amount), 0).label("arranged"))
        .select_from(P.join(A, A.c.project_id == P.c.project_id))
        .where(village_projects).group_by(P.c.village_code)
    )
    linkage_stmt = (
        select(P.c.village_code.label("code"), func.coalesce(func.sum(A.c.amount), 0).label("linkage_yuan"))
        .select_from(P.join(A, A.c.project_id == P.c.project_id).join(F, F.c.fund_id == A.c.fund_id))
        .where(scope.where(P), P.c.village_code.is_not(None), F.c.year == year, F.c.source.in_(LINKAGE_FUNDS))
        .group_by(P.c.village_code)
    )
    projects_stmt = (
        select(P.c.village_code.label("code"), func.count().label("projects"),
               count_if(late(cutoff)).label("late_projects"))
        .where(village_projects).group_by(P.c.village_code)
    )
    return [registry_stmt, monitoring_stmt, visits_stmt, arranged_stmt, linkage_stmt, projects_stmt]


SUMMED = ["rural_population", "registered_households", "registered_persons", "exited_households",
          "not_exited_households", "not_exited_persons", "returned_persons", "poor_persons",
          "monitoring_households", "monitoring_persons", "monitoring_at_risk", "monitoring_new",
          "assigned_households", "visited_households", "arranged", "linkage_yuan", "projects", "late_projects"]


def _ratio_column(numerator: pd.Series, denominator: pd.Series, scale: int = 100) -> list | np.ndarray:
    """``ratio(n, d, 2, scale)`` for every row (``pct`` with ``scale`` 100): on whole non-negative counts the
    same half-up integer arithmetic in numpy (q = ⌊(2·n·scale·100 + d) ÷ 2d⌋, then q ÷ 100: the same float),
    NaN where d is 0; anything else row by row. 20,000 villages: ~0.3 s row by row."""
    n, d = numerator.to_numpy(), denominator.fillna(0).to_numpy()
    whole = n.dtype.kind in "iu" and d.dtype.kind in "iu" and len(n)
    if not (whole and n.min() >= 0 and d.min() >= 0 and int(n.max()) * scale * 200 < 2 ** 62):
        return [ratio(a, b, 2, scale) for a, b in zip(numerator, denominator.fillna(0))]
    n, d = n.astype("int64"), d.astype("int64")
    base = np.where(d > 0, d, 1)
    out = ((2 * n * scale * 100 + base) // (2 * base)) / 100.0
    return np.where(d > 0, out, np.nan)


def _wan_column(yuan: pd.Series) -> list | np.ndarray:
    """``WAN.value`` of whole 元 for every row: half-up to the 百元 step, ÷ 100 (the same float)."""
    v = yuan.to_numpy()
    if not (v.dtype.kind in "iu" and len(v) and v.min() >= 0 and int(v.max()) < 2 ** 61):
        return [WAN.value(int(x)) for x in yuan]
    step = WAN.step
    return ((2 * v.astype("int64") + step) // (2 * step)) * step / WAN.divisor


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    df["incidence"] = _ratio_column(df.poor_persons, df.rural_population)
    df["exit_progress"] = _ratio_column(df.exited_households, df.registered_households)
    df["visit_rate"] = _ratio_column(df.visited_households, df.assigned_households)
    df["funds_per_person"] = _ratio_column(df.arranged, df.registered_persons, 1)
    df["monitoring_share"] = _ratio_column(df.monitoring_persons, df.rural_population)
    df["linkage_arranged"] = _wan_column(df.linkage_yuan)
    for col in ("incidence", "exit_progress", "visit_rate", "funds_per_person", "monitoring_share",
                "linkage_arranged"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df


def child_indicators(engine: Engine, scope: Scope, year: int, as_of: dt.date) -> pd.DataFrame:
    """The same indicators for each child region of the scope (townships of a county, villages of a town).

    Built from ``indicators`` (one set of definitions for map, ranking and village file): counts are
    summed over the child's villages and the rates recomputed. Columns: code, name, villages,
    poor_villages and the columns of ``indicators`` (SUMMED and the rates). Ordered by code.
    """
    if scope.child_level in (None, "village"):
        out = indicators(engine, scope, year, as_of).copy()
        out["villages"] = 1
        out["poor_villages"] = out["is_poor_village"].astype("int64")
        return out
    digits = {"county": 6, "town": 9}.get(scope.child_level)
    if digits is None:  # province / city: children are cities / counties
        digits = 4 if scope.child_level == "city" else 6
    # The village frame of ``indicators`` summed per child in SQL (8 rows for a province, not its 20,000
    # villages through pandas): each village of the region table in the scope, its 农村户籍人口 and each
    # part's counts joined on its code, as ``indicators`` merges them.
    # 农村户籍人口 per child from summary_population when it answers (no look-up per village), else per village here
    rurals = populations(engine, scope, (year,), key=scope.child_level) \
        if summary.populations_for(engine, scope, (year,)) is not None else None
    pop = population_year(year, region_in(scope))
    village = (select(R.c.code, R.c.is_poor_village, *([pop.c.population] if rurals is None else []))
               .select_from(R.outerjoin(pop, pop.c.code == R.c.code) if rurals is None else R)
               .where(_villages_in(scope)).subquery("v"))
    joined, sums = village, {}
    for i, stmt in enumerate(_village_parts(engine, scope, year, as_of)):
        part = stmt.subquery(f"part{i}")
        joined = joined.outerjoin(part, part.c.code == village.c.code)
        sums.update({c.name: c for c in part.c if c.name != "code"})
    child = func.substr(village.c.code, 1, digits).concat(literal("0" * (12 - digits)))
    stmt = (select(child.label("code"), *[func.coalesce(func.sum(
                village.c.population if col == "rural_population" else sums[col]), 0).label(col)
                for col in SUMMED if col != "rural_population" or rurals is None],
                   func.count().label("villages"),
                   func.coalesce(func.sum(case((village.c.is_poor_village.is_(True), 1), else_=0)), 0)
                   .label("poor_villages"))
            .select_from(joined).group_by(child))
    sums_df = frame(engine, stmt)
    if rurals is not None:
        sums_df["rural_population"] = [rurals.get((code, year), 0) for code in sums_df["code"]]
        sums_df = sums_df[["code", *SUMMED, "villages", "poor_villages"]]
    with engine.connect() as conn:
        names = dict(conn.execute(select(R.c.code, display_name_sql(R.c.name))
                                  .where(R.c.parent_code == scope.code)).all())
    children = pd.DataFrame({"code": sorted(names), "name": [names[c] for c in sorted(names)]})
    out = children.merge(sums_df, on="code", how="left")
    for col in SUMMED + ["villages", "poor_villages"]:
        out[col] = out[col].map(lambda v: 0 if v is None or v != v else int(v)).astype("int64")
    return _rates(out)


# ---- one village's file (村档案) ------------------------------------------------------------


def yearly_states(engine: Engine, scope: Scope, first_year: int, last_year: int) -> pd.DataFrame:
    """Per year: registered, exited, not exited and returned households/persons, poor persons, incidence.

    Columns: year, registered_households, registered_persons, exited_households, exited_persons,
    not_exited_households, not_exited_persons, returned_households, returned_persons, poor_persons,
    rural_population, incidence (%). States at the end of each year.
    """
    years = list(range(first_year, last_year + 1))
    names = ["registered_households", "registered_persons", "exited_households", "exited_persons",
             "not_exited_households", "not_exited_persons", "returned_households", "returned_persons",
             "poor_persons"]
    vy = summary.village_years_for(engine, years)
    h = vy if vy is not None else summary.households_for(engine, scope)
    cols = []
    for y in years:
        if vy is not None:  # the same counts per village and year (data_access.summary)
            cols += [func.coalesce(func.sum(case((vy.c.year == y, vy.c[n]), else_=0)), 0) for n in names]
            continue
        cols += [count_if(in_registry(y, h), h), people_if(in_registry(y, h), h, y), count_if(exited_by(y, h), h),
                 people_if(exited_by(y, h), h, y), count_if(not_exited_by(y, h), h),
                 people_if(not_exited_by(y, h), h, y), count_if(returned_by(y, h), h),
                 people_if(returned_by(y, h), h, y), people_if(poor_at(y, h), h, y)]
    with engine.connect() as conn:
        where = [scope.where(h)] + ([vy.c.year.between(first_year, last_year)] if vy is not None else [])
        row = list(conn.execute(select(*cols).where(*where)).one()) if cols else []
    rurals = populations(engine, scope, years)
    records = []
    for i, y in enumerate(years):
        values = {n: int(v) for n, v in zip(names, row[i * len(names):(i + 1) * len(names)])}
        records.append({"year": y, **values, "rural_population": rurals[y],
                        "incidence": pct(values["poor_persons"], rurals[y])})
    return pd.DataFrame.from_records(records, columns=["year", *names, "rural_population", "incidence"])


def households(engine: Engine, scope: Scope, year: int, masked: bool = True) -> pd.DataFrame:
    """Every household of the scope (registered and monitoring-only), with its state at the end of ``year``.

    Columns: hh_id, head_name, head_id_number and phone (personal data: masked unless ``masked`` is
    False), natural_village, kind, member_count (members at the end of ``year``: ``rules.members_at``),
    attribute, main_cause, identified_year, exit_year,
    returned_year, status (脱贫状态 at the end of the year as ``queries.households.status_expr``: the
    household's kind when it is not in the registry then), monitoring (监测对象 identified by the end
    of the year and not removed then: True/False). Ordered by 户编号.
    """
    end = dt.date(year, 12, 31)
    head = (select(PE.c.id_number).where(PE.c.hh_id == H.c.hh_id, PE.c.relation == "户主", current_member(PE))
            .order_by(PE.c.person_id).limit(1).scalar_subquery())
    watched = exists().where(MO.c.hh_id == H.c.hh_id, MO.c.identified_date <= end,
                             or_(MO.c.removed_date.is_(None), MO.c.removed_date > end))
    stmt = (
        select(H.c.hh_id, H.c.head_name, head.label("head_id_number"), H.c.phone, H.c.natural_village, H.c.kind,
               members_at(people_year(engine, year)).label("member_count"), H.c.attribute, H.c.main_cause,
               H.c.identified_year, H.c.exit_year, H.c.returned_year, status_expr(year).label("status"),
               watched.label("monitoring"))
        .where(scope.where(H)).order_by(H.c.hh_id)
    )
    df = frame(engine, stmt)
    df["monitoring"] = df["monitoring"].astype(bool)
    if masked:
        df["head_id_number"] = df["head_id_number"].map(mask_id, na_action="ignore")
        df["phone"] = df["phone"].map(mask_phone, na_action="ignore")
    return df


def projects(engine: Engine, scope: Scope, year: int, as_of: dt.date) -> pd.DataFrame:
    """Projects placed in the scope from any year up to ``year``, with their money to date.

    Columns: project_id, name, category, year, status, budget, arranged, paid, spent (元),
    planned_end, actual_end, late (by ``late_cutoff(year, as_of)``), beneficiary_households.
    Newest year first.
    """
    cutoff = late_cutoff(year, as_of)
    mine = and_(scope.where(P), P.c.year <= year)
    # the money of the scope's projects only: summing every project's first cost 0.85 s at a province
    ids = select(P.c.project_id).where(mine)
    arranged = (select(A.c.project_id, func.sum(A.c.amount).label("arranged"))
                .where(A.c.project_id.in_(ids)).group_by(A.c.project_id).subquery())
    flows = (select(MF.c.project_id,
                    func.sum(case((MF.c.kind == MONEY_PAID, MF.c.amount), else_=0)).label("paid"),
                    func.sum(case((MF.c.kind == MONEY_SPENT, MF.c.amount), else_=0)).label("spent"))
             .where(MF.c.project_id.in_(ids)).group_by(MF.c.project_id).subquery())
    stmt = (
        select(P.c.project_id, P.c.name, P.c.category, P.c.year, P.c.status, P.c.budget,
               func.coalesce(arranged.c.arranged, 0).label("arranged"),
               func.coalesce(flows.c.paid, 0).label("paid"), func.coalesce(flows.c.spent, 0).label("spent"),
               P.c.planned_end, P.c.actual_end, late(cutoff).label("late"), P.c.beneficiary_households)
        .outerjoin(arranged, arranged.c.project_id == P.c.project_id)
        .outerjoin(flows, flows.c.project_id == P.c.project_id)
        .where(mine)
        .order_by(P.c.year.desc(), P.c.project_id)
    )
    df = frame(engine, stmt)
    for col in ("budget", "arranged", "paid", "spent"):
        df[col] = df[col].fillna(0).astype("int64")
    df["late"] = df["late"].fillna(False).astype(bool)
    return df


def helpers(engine: Engine, scope: Scope, year: int, as_of: dt.date, masked: bool = True) -> pd.DataFrame:
    """帮扶责任人 with a current assignment in the scope and their visits in ``visit_period``.

    Columns: helper_id, name, unit, phone (masked unless ``masked`` is False), households (assigned), visited_households
    (≥1 入户走访 in the period), visits (入户走访 visits to those households in the period),
    last_visit (date of the latest visit of any kind to them up to the period end), visit_rate (%).
    """
    start, end = visit_period(year, as_of)
    mine = and_(scope.where(AS), assigned_on(end))
    in_period = and_(V.c.hh_id == AS.c.hh_id, V.c.helper_id == AS.c.helper_id, V.c.visit_date >= start,
                     V.c.visit_date <= end, V.c.kind.in_(VISIT_KINDS_COUNTED))
    visits = select(func.count()).where(in_period).correlate(AS).scalar_subquery()
    last = (select(func.max(V.c.visit_date)).where(V.c.hh_id == AS.c.hh_id, V.c.helper_id == AS.c.helper_id,
                                                   V.c.visit_date <= end).correlate(AS).scalar_subquery())
    per_pair = (
        select(AS.c.helper_id, AS.c.hh_id, visits.label("visits"), last.label("last_visit"))
        .where(mine).subquery()
    )
    stmt = (
        select(HP.c.helper_id, HP.c.name, U.c.name.label("unit"), HP.c.phone,
               func.count(distinct(per_pair.c.hh_id)).label("households"),
               func.count(distinct(case((per_pair.c.visits > 0, per_pair.c.hh_id)))).label("visited_households"),
               func.coalesce(func.sum(per_pair.c.visits), 0).label("visits"),
               func.max(per_pair.c.last_visit).label("last_visit"))
        .select_from(per_pair.join(HP, HP.c.helper_id == per_pair.c.helper_id)
                     .outerjoin(U, U.c.unit_id == HP.c.unit_id))
        .group_by(HP.c.helper_id, HP.c.name, U.c.name, HP.c.phone)
        .order_by(HP.c.helper_id)
    )
    df = frame(engine, stmt)
    for col in ("households", "visited_households", "visits"):
        df[col] = df[col].fillna(0).astype("int64")
    df["visit_rate"] = pd.to_numeric(pd.Series([pct(v, n) for v, n in zip(df.visited_households, df.households)],
                                               dtype="object"), errors="coerce")
    if masked:
        df["phone"] = df["phone"].map(mask_phone, na_action="ignore")
    return df


def monitoring_objects(engine: Engine, scope: Scope, year: int) -> pd.DataFrame:
    """监测对象 of the scope identified by the end of ``year``, at-risk ones first.

    Columns: hh_id, head_name, kind, main_risk, identified_date, removed_date (None if not removed by
    the end of the year), persons, at_risk (True/False).
    """
    end = dt.date(year, 12, 31)
    removed = and_(MO.c.removed_date.is_not(None), MO.c.removed_date <= end)
    stmt = (
        select(MO.c.hh_id, H.c.head_name, MO.c.kind, MO.c.main_risk, MO.c.identified_date,
               case((removed, MO.c.removed_date), else_=None).label("removed_date"), MO.c.persons,
               case((removed, literal(0)), else_=literal(1)).label("at_risk"))
        .select_from(MO.outerjoin(H, H.c.hh_id == MO.c.hh_id))
        .where(scope.where(MO), MO.c.identified_date <= end)
        .order_by(case((removed, 1), else_=0), MO.c.identified_date, MO.c.id)
    )
    df = frame(engine, stmt)
    df["at_risk"] = df["at_risk"].astype(bool)
    return df


__all__ = ["INDICATORS", "CAMPAIGN_INDICATORS", "ERA_INDICATORS", "CAMPAIGN_ONLY", "indicators_for",
           "default_indicator", "VISIT_KINDS_COUNTED", "indicator_label", "visit_period", "late_cutoff", "indicators",
           "yearly_states",
           "households", "projects", "helpers", "monitoring_objects", "child_indicators", "HOUSEHOLD_KIND_REGISTERED"]
