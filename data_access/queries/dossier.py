"""The household dossier (户档案): one household's file, found by its 户编号 inside a scope.

Profile (with its 脱贫状态 at the end of the year: ``rules.status_expr``), members, yearly income against
the year's line (``rules.line_by_year``), help measures, cadres (结对帮扶), visits, projects it benefited
from, its monitoring history and 两不愁三保障. Every function returns nothing for a household outside
the scope; ID and phone numbers are masked unless ``masked`` is False.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from ..codes import CAUSES, COMPULSORY_SCHOOL_AGES, DANGEROUS_HOUSE_GRADES
from ..privacy import mask_birth, mask_id, mask_phone
from ..rules import current_member, line_by_year, members_at, status_expr
from ..schema import assignment as A
from ..schema import help_measure as HM
from ..schema import help_unit as U
from ..schema import helper as HP
from ..schema import household as H
from ..schema import income as I
from ..schema import monitoring_object as MO
from ..schema import other_cause as OC
from ..schema import person as P
from ..schema import project as PR
from ..schema import project_beneficiary as PB
from ..schema import region as R
from ..schema import visit as V
from ..scope import Scope
from .common import frame, half_up, people_year, ratio


def _in_scope(scope: Scope, hh_id: str):
    return and_(H.c.hh_id == hh_id, scope.where(H))


def household_profile(engine: Engine, scope: Scope, hh_id: str, year: int, masked: bool = True) -> dict | None:
    """The household's record, or None when it does not exist inside ``scope``.

    Keys: the household columns, town_name, village_name, status_at_year (脱贫状态 at the end of
    ``year``), members_at_year (家庭人口 at the end of ``year``: ``rules.members_at``; member_count is
    today's), other_causes (list); phone masked when ``masked``.
    """
    village, town = R.alias("village_r"), R.alias("town_r")
    stmt = (
        select(H, town.c.name.label("town_name"), village.c.name.label("village_name"),
               status_expr(year).label("status_at_year"),
               members_at(people_year(engine, year)).label("members_at_year"))
        .select_from(H.outerjoin(village, village.c.code == H.c.village_code)
                     .outerjoin(town, town.c.code == H.c.town_code))
        .where(_in_scope(scope, hh_id))
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
        if row is None:
            return None
        causes = [c for (c,) in conn.execute(select(OC.c.cause).where(OC.c.hh_id == hh_id))]
    out = dict(row)
    order = {c: i for i, c in enumerate(CAUSES)}
    out["other_causes"] = sorted(causes, key=lambda c: (order.get(c, 99), c))
    if masked and out.get("phone"):
        out["phone"] = mask_phone(out["phone"])
    return out


def household_members(engine: Engine, scope: Scope, hh_id: str, masked: bool = True) -> pd.DataFrame:
    """Today's members (``rules.current_member``): person_id, name, id_number (masked unless ``masked``
    is False), relation, sex,
    ethnicity, birth_date (birth_year instead when ``masked``: a full date would complete the ID),
    education, schooling, health, labour_skill, work_status, work_months,
    medical_insurance, serious_illness_insurance, phone. 户主 first, then by 人编号."""
    stmt = (
        select(P.c.person_id, P.c.name, P.c.id_number, P.c.relation, P.c.sex, P.c.ethnicity, P.c.birth_date,
               P.c.education, P.c.schooling, P.c.health, P.c.labour_skill, P.c.work_status, P.c.work_months,
               P.c.medical_insurance, P.c.serious_illness_insurance, P.c.phone)
        .select_from(P.join(H, H.c.hh_id == P.c.hh_id))
        .where(_in_scope(scope, hh_id), current_member(P))
        .order_by(case((P.c.relation == "户主", 0), else_=1), P.c.person_id)
    )
    df = frame(engine, stmt)
    if masked:
        # A full birth date completes a masked ID number: masked roles get the birth year instead.
        df.insert(list(df.columns).index("birth_date"), "birth_year",
                  pd.array([mask_birth(v) for v in df["birth_date"]], dtype="Int64"))
        df = df.drop(columns=["birth_date"])
    if masked and not df.empty:
        df["id_number"] = [mask_id(v) if v else v for v in df["id_number"]]
        df["phone"] = [mask_phone(v) if v else v for v in df["phone"]]
    return df


def household_income(engine: Engine, scope: Scope, hh_id: str) -> pd.DataFrame:
    """Yearly income (元): year, members, wage, business_income, business_cost, property_income,
    transfer_income, transfer_excluded, per_capita_net, line, line_kind (the year's 贫困线 or 监测线,
    None when there is none), above_line_pct (% above the line). By year."""
    stmt = (
        select(I.c.year, I.c.members, I.c.wage, I.c.business_income, I.c.business_cost, I.c.property_income,
               I.c.transfer_income, I.c.transfer_excluded, I.c.per_capita_net)
        .select_from(I.join(H, H.c.hh_id == I.c.hh_id))
        .where(_in_scope(scope, hh_id))
        .order_by(I.c.year)
    )
    df = frame(engine, stmt)
    if df.empty:
        return df.assign(line=pd.Series(dtype=object), line_kind=pd.Series(dtype=object),
                         above_line_pct=pd.Series(dtype=object))
    lines = line_by_year(engine, scope, int(df["year"].min()), int(df["year"].max()))
    amount = dict(zip(lines["year"], lines["amount"]))
    kind = dict(zip(lines["year"], lines["kind"]))
    df["line"] = [int(amount[y]) if y in amount else None for y in df["year"]]
    df["line_kind"] = [kind.get(y) for y in df["year"]]
    df["above_line_pct"] = [ratio(v - a, a, 2, 100) if a else None
                            for v, a in zip(df["per_capita_net"], df["line"])]
    df["per_capita_net"] = [half_up(v, 2) for v in df["per_capita_net"]]
    return df


def household_measures(engine: Engine, scope: Scope, hh_id: str) -> pd.DataFrame:
    """帮扶措施 by year: year, measure, amount (元, None where the measure carries no money)."""
    stmt = (
        select(HM.c.year, HM.c.measure, HM.c.amount)
        .select_from(HM.join(H, H.c.hh_id == HM.c.hh_id))
        .where(_in_scope(scope, hh_id))
        .order_by(HM.c.year.desc(), HM.c.measure, HM.c.id)
    )
    return frame(engine, stmt)


def household_helpers(engine: Engine, scope: Scope, hh_id: str, masked: bool = True) -> pd.DataFrame:
    """结对帮扶: helper_id, helper_name, unit_name, unit_level, phone (masked), start_date, end_date;
    newest first."""
    stmt = (
        select(A.c.helper_id, HP.c.name.label("helper_name"), U.c.name.label("unit_name"),
               U.c.level.label("unit_level"), HP.c.phone, A.c.start_date, A.c.end_date)
        .select_from(A.join(H, H.c.hh_id == A.c.hh_id).join(HP, HP.c.helper_id == A.c.helper_id)
                     .join(U, U.c.unit_id == HP.c.unit_id))
        .where(_in_scope(scope, hh_id))
        .order_by(A.c.start_date.desc(), A.c.helper_id)
    )
    df = frame(engine, stmt)
    if masked and not df.empty:
        df["phone"] = [mask_phone(v) if v else v for v in df["phone"]]
    return df


def household_visits(engine: Engine, scope: Scope, hh_id: str) -> pd.DataFrame:
    """走访记录: visit_date, helper_name, kind, note; newest first."""
    stmt = (
        select(V.c.visit_date, HP.c.name.label("helper_name"), V.c.kind, V.c.note)
        .select_from(V.join(H, H.c.hh_id == V.c.hh_id).outerjoin(HP, HP.c.helper_id == V.c.helper_id))
        .where(_in_scope(scope, hh_id))
        .order_by(V.c.visit_date.desc(), V.c.visit_id.desc())
    )
    return frame(engine, stmt)


def household_projects(engine: Engine, scope: Scope, hh_id: str) -> pd.DataFrame:
    """Projects the household benefited from: project_id, name, category, year, status, amount
    (元 reaching the household, None where unknown); newest first."""
    stmt = (
        select(PR.c.project_id, PR.c.name, PR.c.category, PR.c.year, PR.c.status, PB.c.amount)
        .select_from(PB.join(H, H.c.hh_id == PB.c.hh_id).join(PR, PR.c.project_id == PB.c.project_id))
        .where(_in_scope(scope, hh_id))
        .order_by(PR.c.year.desc(), PR.c.project_id)
    )
    return frame(engine, stmt)


def household_monitoring(engine: Engine, scope: Scope, hh_id: str) -> pd.DataFrame:
    """监测 history: kind, main_risk, identified_date, removed_date, persons; oldest first."""
    stmt = (
        select(MO.c.kind, MO.c.main_risk, MO.c.identified_date, MO.c.removed_date, MO.c.persons)
        .select_from(MO.join(H, H.c.hh_id == MO.c.hh_id))
        .where(_in_scope(scope, hh_id))
        .order_by(MO.c.identified_date, MO.c.id)
    )
    return frame(engine, stmt)


GUARANTEES = ("吃穿不愁", "义务教育有保障", "基本医疗有保障", "住房安全有保障", "饮水安全有保障")
MET, UNMET, UNKNOWN = "达标", "未达标", "未记录"


def household_guarantees(engine: Engine, scope: Scope, hh_id: str, year: int) -> pd.DataFrame:
    """两不愁三保障 (and safe water) of the household in ``year``: item, state (达标/未达标/未记录), detail.

    Same definitions as the exit page (queries.exits): a member aged 6–15 in ``year`` (by birth
    year) who is 非在校生 fails 义务教育; a member with medical_insurance false fails 基本医疗;
    a C/D house fails 住房; safe_water false fails 饮水; food_clothing_ok false fails 吃穿.
    """
    low, high = COMPULSORY_SCHOOL_AGES
    age = year - P.c.birth_year
    member_stmt = (
        select(
            func.count(),
            func.coalesce(func.sum(case((and_(P.c.birth_year.is_not(None), age >= low, age <= high), 1),
                                        else_=0)), 0),
            func.coalesce(func.sum(case((and_(P.c.birth_year.is_not(None), age >= low, age <= high,
                                              P.c.schooling == "非在校生"), 1), else_=0)), 0),
            func.coalesce(func.sum(case((P.c.medical_insurance.is_(False), 1), else_=0)), 0),
            func.coalesce(func.sum(case((P.c.medical_insurance.is_(None), 1), else_=0)), 0),
        )
        .select_from(P.join(H, H.c.hh_id == P.c.hh_id))
        .where(_in_scope(scope, hh_id), current_member(P))
    )
    hh_stmt = select(H.c.food_clothing_ok, H.c.house_grade, H.c.safe_water).where(_in_scope(scope, hh_id))
    with engine.connect() as conn:
        hh = conn.execute(hh_stmt).first()
        members, school_age, out_of_school, uninsured, unknown_ins = map(int, conn.execute(member_stmt).one())
    if hh is None:
        return pd.DataFrame(columns=["item", "state", "detail"])
    food, grade, water = hh

    def flag(value, ok_text, bad_text):
        if value is None:
            return UNKNOWN, "未录入"
        return (MET, ok_text) if value else (UNMET, bad_text)

    rows = [("吃穿不愁", *flag(food, "不愁吃、不愁穿", "吃穿未达标"))]
    if out_of_school:
        rows.append(("义务教育有保障", UNMET, f"义务教育阶段(6–15岁){school_age}人,其中{out_of_school}人未在校"))
    else:
        rows.append(("义务教育有保障", MET, f"义务教育阶段(6–15岁){school_age}人,均在校" if school_age
                     else "无义务教育阶段成员"))
    if uninsured:
        rows.append(("基本医疗有保障", UNMET, f"{members}人中{uninsured}人未参加城乡居民基本医疗保险"))
    elif unknown_ins:
        rows.append(("基本医疗有保障", UNKNOWN, f"{unknown_ins}人参保情况未录入"))
    else:
        rows.append(("基本医疗有保障", MET, f"{members}人均参加城乡居民基本医疗保险"))
    if grade is None:
        rows.append(("住房安全有保障", UNKNOWN, "危房等级未录入"))
    elif grade in DANGEROUS_HOUSE_GRADES:
        rows.append(("住房安全有保障", UNMET, f"{grade}级危房"))
    else:
        rows.append(("住房安全有保障", MET, "住房安全" if grade == "安全" else f"{grade}级(非危房)"))
    rows.append(("饮水安全有保障", *flag(water, "饮水安全", "饮水不安全")))
    return pd.DataFrame(rows, columns=["item", "state", "detail"])
