"""One county's facts: households and members, monitoring, income, help measures, cadres and visits,
funds, projects and money flows, targets (``CountyGenerator``)."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from .. import codes, schema
from ..rules import id_check_char
from . import names
from .common import (
    AS_OF, CURRENT_YEAR, ID_BLOCK, LAST_INCOME_YEAR, LINE_OF_YEAR, MEDIAN_INCOME, Picker, rand_choice,
    rand_day, rand_int, rand_split, seeded_rng,
)
from .distributions import (
    ATTRIBUTE, CATEGORY_ORDER, EDU_MID, EDU_OLD, EDU_YOUNG, EDU_YOUNGEST, ETHNICITY, EXIT_LAGGING,
    EXIT_NORMAL, FUND_ORDER, FUND_ORDER_2021, FUND_SHARES, FUND_SHARES_2021, FUND_TOTAL_YI,
    HEALTH_MID, HEALTH_OLD, HEALTH_YOUNG, HH_SIZE,
    HOUSEHOLD_TARGETED, HOUSE_EXITED, HOUSE_MONITORING, HOUSE_POOR, IDENTIFIED, MAIN_CAUSE, MON_RISK,
    MON_RISK_SUDDEN, MON_YEAR, OTHER_CAUSES, PROJECTS_PER_YEAR, STANDARD, STATUS_BY_YEAR, SUBCATEGORIES,
    VILLAGE_EXIT_LAGGING, VILLAGE_EXIT_NORMAL, VISIT_KIND, VISIT_NOTES, WORK_ABLE,
)
from .places import County, Town, Village
from .writers import SqlWriter


FIRST_MEMBER_YEAR = 2014  # households without an identification year: members followed from 2014

# ---------------------------------------------------------------------------
# one county


class HH:
    __slots__ = (
        "hh_id", "town", "village", "kind", "attribute", "standard", "main_cause", "others", "id_year",
        "exit_year", "returned_year", "status", "policy", "exit_step", "relocated", "reloc_year", "reloc_site",
        "house", "water", "food", "phone", "members", "head_name", "group", "n_labour", "n_migrant",
        "students", "sick", "disabled", "z", "below_years", "helper", "labour", "spans", "former",
    )

    def size_at(self, year: int) -> int:
        """Members at the end of ``year`` (rules.member_at): joined by then, not yet left."""
        return sum(1 for joined, left in self.spans if joined <= year and (left is None or left > year))


class CountyGenerator:
    """Generates and writes every fact table of one county."""

    def __init__(self, seed: int, county: County, hh_total: int, main: bool, shared_units: list[tuple],
                 single_county: bool = True):
        self.seed = seed
        self.county = county
        self.hh_total = hh_total
        self.scale = hh_total / 25_000
        self.main = main
        self.shared_units = shared_units
        self.single_county = single_county
        self.id_base = county.index * ID_BLOCK
        self.households: list[HH] = []
        self.by_village: dict[str, list[HH]] = {}
        self.villages = {v.code: v for t in county.towns for v in t.villages}
        self.town_of = {v.code: t for t in county.towns for v in t.villages}
        self.problems: dict[str, list[str]] = {}
        self.monitored: list[tuple] = []  # (household, identified, removed) of each monitoring object

    def rng(self, part: str) -> random.Random:
        return seeded_rng(self.seed, self.county.code, part)

    def run(self, w: SqlWriter) -> None:
        self.make_households(w)
        self.make_monitoring(w)
        self.make_work(w)
        self.make_income(w)
        self.make_measures(w)
        self.make_help(w)
        self.make_money(w)
        self.make_targets(w)

    # -- households and persons ------------------------------------------------

    def make_households(self, w: SqlWriter) -> None:
        rng = self.rng("households")
        county = self.county
        villages = [v for t in county.towns for v in t.villages]
        for t in county.towns:
            picker = VILLAGE_EXIT_LAGGING if t.lagging else VILLAGE_EXIT_NORMAL
            for v in t.villages:
                if v.is_poor:
                    v.exit_year = picker(rng)
        # registered households per village ~ rural population x incidence
        weights = [v.rural_population * (0.32 if v.is_poor else 0.15) * rng.uniform(0.8, 1.2) / 3.6 for v in villages]
        counts = _apportion(self.hh_total, weights)
        n_monitoring = round(0.03 * self.hh_total * 0.45)
        mon_counts = _apportion(n_monitoring, [v.rural_population for v in villages])
        sites = [f"{county.short}县城北新区安置点", f"{county.short}县城东安置点"] + \
            [f"{t.name}集镇安置点" for t in county.towns[:3]]
        used_ids: set[int] = set()
        self.member_rng = self.rng("members")  # membership changes: their own stream, the rest unchanged
        hh_rows, cause_rows, person_rows = [], [], []
        for v, n_reg, n_mon in zip(villages, counts, mon_counts):
            town = self.town_of[v.code]
            n_groups = rand_int(rng, 4, 12)
            lst = self.by_village.setdefault(v.code, [])
            for i in range(n_reg + n_mon):
                h = HH()
                h.hh_id = f"{v.code}{i + 1:04d}"
                h.town, h.village = town, v
                h.group = f"{rand_int(rng, 1, n_groups)}组"
                h.helper = None
                h.below_years = ()
                h.z = rng.gauss(0, 1)
                if i < n_reg:
                    self._registered(rng, h, town, v, sites)
                else:
                    self._monitoring_household(rng, h)
                self._members(rng, h, person_rows, used_ids)
                lst.append(h)
                self.households.append(h)
                hh_rows.append(self._hh_row(h))
                for c in h.others:
                    cause_rows.append((h.hh_id, c))
        for h in self.households:  # after all current members, so their ID numbers stay as they were
            self._former_members(h, *h.former, person_rows, used_ids, h.spans)
        self._village_exit_years(villages)
        person_rows.sort(key=lambda r: r[0])
        w.write(schema.household, hh_rows)
        w.write(schema.other_cause, cause_rows)
        w.write(schema.person, person_rows)

    def _registered(self, rng, h: HH, town: Town, v: Village, sites) -> None:
        h.kind = codes.HOUSEHOLD_KIND_REGISTERED
        h.attribute = ATTRIBUTE(rng)
        h.standard = STANDARD(rng)
        h.main_cause = MAIN_CAUSE(rng)
        n_other = rand_choice(rng, (0, 0, 1, 1, 1, 2))
        h.others = tuple(rng.sample([c for c in OTHER_CAUSES if c != h.main_cause], n_other))
        h.id_year = IDENTIFIED(rng)
        never = rng.random() < (0.005 if town.lagging else 0.0022)
        if never:
            h.exit_year = None
        else:
            picker = EXIT_LAGGING if town.lagging else EXIT_NORMAL
            ey = picker(rng)
            if v.is_poor and v.exit_year and rng.random() < 0.96:
                ey = min(ey, v.exit_year)
            h.exit_year = min(2020, max(ey, h.id_year + 1))
        h.returned_year = None
        if h.exit_year and rng.random() < 0.005:
            h.returned_year = rand_int(rng, max(2017, h.exit_year + 1), 2023)
        if h.exit_year is None:
            h.status, h.policy = codes.STATUS_NOT_EXITED, None
            h.exit_step = rand_choice(rng, codes.EXIT_STEPS[:-1]) if rng.random() < 0.7 else None
        elif h.returned_year is not None:
            h.status, h.policy = codes.STATUS_RETURNED, None
            h.exit_step = rand_choice(rng, codes.EXIT_STEPS[:2]) if rng.random() < 0.4 else None
        else:
            h.status = codes.STATUS_EXITED
            h.policy = codes.POST2020_POLICY[0] if rng.random() < 0.75 else codes.POST2020_POLICY[1]
            h.exit_step = codes.EXIT_STEPS[-1]
        h.relocated = rng.random() < (0.105 if v.is_poor else 0.055)
        if h.relocated:
            h.reloc_year = rand_int(rng, 2016, max(2016, min(2019, h.exit_year or 2019)))
            h.reloc_site = rand_choice(rng, sites)
        else:
            h.reloc_year = h.reloc_site = None
        exited = h.status == codes.STATUS_EXITED
        h.house = "安全" if h.relocated else (HOUSE_EXITED if exited else HOUSE_POOR)(rng)
        h.water = rng.random() < (0.995 if exited else 0.97)
        h.food = rng.random() < (0.9995 if exited else 0.99)
        h.phone = names.phone(rng)

    def _monitoring_household(self, rng, h: HH) -> None:
        h.kind = codes.HOUSEHOLD_KIND_MONITORING
        h.attribute = h.standard = h.main_cause = None
        h.others = ()
        h.id_year = h.exit_year = h.returned_year = None
        h.status = h.policy = h.exit_step = None
        h.relocated, h.reloc_year, h.reloc_site = False, None, None
        h.house = HOUSE_MONITORING(rng)
        h.water = rng.random() < 0.97
        h.food = rng.random() < 0.995
        h.phone = names.phone(rng)

    def _hh_row(self, h: HH) -> tuple:
        return (
            h.hh_id, self.county.code, h.town.code, h.village.code, h.group, h.head_name, h.members, h.kind,
            h.attribute, h.standard, h.main_cause, h.id_year, h.exit_year, h.returned_year, h.status, h.policy,
            h.exit_step, h.relocated, h.reloc_year, h.reloc_site, h.house, h.water, h.food, h.phone,
        )

    def _members(self, rng, h: HH, rows: list, used_ids: set) -> None:
        size = HH_SIZE(rng)
        if h.main_cause == "缺劳力":
            head_age = rand_int(rng, 58, 86)
        elif size == 1:
            head_age = int(rng.triangular(30, 92, 70))
        else:
            head_age = int(rng.triangular(24, 86, 50))
        head_sex = "男" if rng.random() < 0.85 else "女"
        members = [("户主", head_sex, head_age)]
        if size > 1 and rng.random() < (0.88 if head_age < 75 else 0.6):
            if head_sex == "男":
                members.append(("配偶", "女", min(95, max(19, head_age + rand_int(rng, -6, 3)))))
            else:
                members.append(("配偶", "男", min(95, max(20, head_age + rand_int(rng, -3, 6)))))
        if len(members) < size - 1 and head_age < 45 and rng.random() < 0.3:
            rel, sex = ("之母", "女") if rng.random() < 0.6 else ("之父", "男")
            members.append((rel, sex, min(95, head_age + rand_int(rng, 22, 32))))
        son_age = None
        has_dil = False
        while len(members) < size:
            r = rng.random()
            children = [m for m in members if m[0] in ("之子", "之女")]
            if head_age >= 52 and son_age and son_age >= 20 and not has_dil and r < 0.5:
                members.append(("之儿媳", "女", max(18, son_age + rand_int(rng, -4, 2))))
                has_dil = True
            elif head_age >= 50 and children and r < 0.75:
                sex = "男" if rng.random() < 0.52 else "女"
                members.append(("之孙子" if sex == "男" else "之孙女", sex, rand_int(rng, 0, min(20, head_age - 44))))
            elif r > 0.985:
                members.append(("之兄弟姐妹" if r > 0.993 else "其他", "男" if rng.random() < 0.5 else "女",
                                max(0, head_age + rand_int(rng, -10, 10))))
            else:
                sex = "男" if rng.random() < 0.52 else "女"
                age = rand_int(rng, max(0, head_age - 42), max(0, head_age - 20))
                members.append(("之子" if sex == "男" else "之女", sex, age))
                if sex == "男" and (son_age is None or age > son_age):
                    son_age = age
        h.members = len(members)
        surname = rand_choice(rng, names.SURNAMES)
        eth = ETHNICITY(rng)
        # health forced by the main cause
        forced = {}
        adults = [i for i, m in enumerate(members) if m[2] >= 16] or [0]
        if h.main_cause == "因病":
            forced[rand_choice(rng, adults)] = "患有大病" if rng.random() < 0.5 else "长期慢性病"
        elif h.main_cause == "因残":
            forced[rand_choice(rng, adults)] = "残疾"
        n_labour = n_migrant = students = sick = disabled = 0
        h.labour = []
        spans: list[tuple[int, int | None]] = []  # (first year-end as a member, year left) per person
        head_name = ""
        for i, (rel, sex, age) in enumerate(members):
            if rel in ("户主", "之子", "之女", "之孙子", "之孙女") and (rel != "户主" or sex == "男"):
                name = names.person_name(rng, sex, surname)
            else:
                name = names.person_name(rng, sex)
            if i == 0:
                head_name = name
            by = CURRENT_YEAR - age
            last = date(by, 12, 31) if by < CURRENT_YEAR else AS_OF
            bd = rand_day(rng, date(by, 1, 1), last)
            ethnicity = eth if (rel != "配偶" and rel != "之儿媳") or rng.random() < 0.8 else ETHNICITY(rng)
            # schooling and education
            schooling = "非在校生"
            if 3 <= age <= 5:
                schooling = "学前教育" if rng.random() < 0.85 else "非在校生"
            elif 6 <= age <= 15:
                if rng.random() < 0.0007:
                    schooling = "非在校生"
                elif age <= 11:
                    schooling = "小学"
                elif age <= 14:
                    schooling = ("七年级", "八年级", "九年级")[age - 12]
                else:
                    schooling = rand_choice(rng, ("高中一年级", "高中一年级", "中职一年级", "九年级"))
            elif 16 <= age <= 17 and rng.random() < 0.7:
                k = age - 15
                schooling = ("高中" if rng.random() < 0.65 else "中职") + ("一", "二", "三")[k] + "年级"
            elif 18 <= age <= 21 and rng.random() < 0.25:
                schooling = ("大专及以上" if rng.random() < 0.5
                             else "高职" + ("一", "二", "三")[min(2, age - 18)] + "年级")
            if age < 6:
                education = "学龄前儿童"
            elif schooling != "非在校生" and age <= 21:
                education = ("小学" if schooling == "小学"
                             else "初中" if schooling.endswith(("七年级", "八年级", "九年级"))
                             else "大专及以上" if schooling.startswith(("高职", "大专")) else "高中")
            elif age < 16:
                education = "小学"
            else:
                education = (EDU_OLD if by < 1960 else EDU_MID if by < 1980 else EDU_YOUNG if by < 2000
                             else EDU_YOUNGEST)(rng)
            if schooling not in ("非在校生", "学前教育"):
                students += 1
            health = forced.get(i) or (HEALTH_YOUNG if age < 40 else HEALTH_MID if age < 65 else HEALTH_OLD)(rng)
            sick += health in ("长期慢性病", "患有大病")
            disabled += health == "残疾"
            # labour
            if age < 16 or (schooling != "非在校生" and age < 23):
                skill = "无劳动力"
            elif age >= 70:
                skill = "无劳动力" if rng.random() < 0.7 else "丧失劳动力"
            elif health == "患有大病":
                skill = "丧失劳动力" if rng.random() < 0.5 else "弱劳动力或半劳动力"
            elif health == "残疾":
                r = rng.random()
                skill = "丧失劳动力" if r < 0.4 else "弱劳动力或半劳动力" if r < 0.8 else "普通劳动力"
            elif health == "长期慢性病":
                skill = "弱劳动力或半劳动力" if rng.random() < 0.6 else "普通劳动力"
            elif age >= 65:
                r = rng.random()
                skill = "弱劳动力或半劳动力" if r < 0.6 else "普通劳动力" if r < 0.8 else "丧失劳动力"
            else:
                r = rng.random()
                skill = "普通劳动力" if r < 0.75 else "技能劳动力" if r < 0.95 else "弱劳动力或半劳动力"
            if skill in ("普通劳动力", "技能劳动力"):
                n_labour += 1
                work = WORK_ABLE(rng)
            elif skill == "弱劳动力或半劳动力":
                work = "乡(镇)内务工" if rng.random() < 0.2 else "未外出务工"
            else:
                work = "未外出务工"
            if work == "未外出务工":
                months = 0
            else:
                n_migrant += 1
                months = rand_int(rng, 3, 10) if work == "乡(镇)内务工" else rand_int(rng, 6, 12)
            med = rng.random() >= 0.0008
            serious = med and rng.random() < 0.995
            idn = self._id_number(rng, bd, sex, used_ids)
            ph = h.phone if i == 0 else (names.phone(rng) if age >= 18 and rng.random() < 0.3 else None)
            if skill in ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力"):
                h.labour.append((f"{h.hh_id}{i + 1:02d}", work, months))
            joined = self._join_date(h, rel, bd)
            rows.append((
                f"{h.hh_id}{i + 1:02d}", h.hh_id, h.village.code, name, idn, rel, sex, ethnicity, bd, by,
                education, schooling, health, skill, work, months, med, serious, ph, joined, None, None,
            ))
            spans.append((max(by, joined.year) if joined else by, None))
        h.spans = spans
        h.former = (members, surname, eth)  # former members come after every household's (_former_members)
        h.head_name = head_name
        h.n_labour, h.n_migrant, h.students, h.sick, h.disabled = n_labour, n_migrant, students, sick, disabled

    def _start(self, h: HH) -> date:
        """The day the registry starts following the household's members (its identification year)."""
        return date(h.id_year or FIRST_MEMBER_YEAR, 1, 1)

    def _join_date(self, h: HH, rel: str, bd: date) -> date | None:
        """Born after identification: joins at birth; a daughter-in-law may have married in since."""
        start = self._start(h)
        if bd >= start:
            return bd
        rng = self.member_rng
        if rel in ("之儿媳", "之女婿") and bd.year >= CURRENT_YEAR - 34 and rng.random() < 0.55:
            earliest = max(start + timedelta(days=1), date(bd.year + 20, 1, 1))
            if earliest < AS_OF:
                return rand_day(rng, earliest, AS_OF)
        return None

    def _id_number(self, rng, bd: date, sex: str, used_ids: set) -> str:
        """A GB 11643 number no one else has: county prefix, birth date, a sequence whose parity is the sex."""
        sex_parity = 1 if sex == "男" else 0
        ordinal = bd.toordinal()
        while True:
            seq = int(rng.random() * 500) * 2 + sex_parity
            key = ordinal * 1000 + seq
            if key not in used_ids:
                used_ids.add(key)
                break
        body = f"{self.county.prefix}{bd:%Y%m%d}{seq:03d}"
        return body + id_check_char(body)

    def _former_members(self, h: HH, members: list, surname: str, eth: str, rows: list, used_ids: set,
                        spans: list) -> None:
        """Members who left after identification (减员): deaths of the old, daughters married out, moves."""
        rng = self.member_rng
        start = self._start(h)
        if start >= AS_OF - timedelta(days=400):
            return
        head_age = members[0][2]
        leaving = []
        if rng.random() < (0.16 if head_age >= 45 else 0.05):  # a parent (or the head's spouse) died
            rel, sex = ("之母", "女") if rng.random() < 0.55 else ("之父", "男")
            leaving.append((rel, sex, "死亡", rand_int(rng, 68, 96)))
        if head_age >= 44 and rng.random() < 0.09:  # a daughter married out
            leaving.append(("之女", "女", "婚嫁", rand_int(rng, 19, 29)))
        if rng.random() < 0.015:
            leaving.append(("之子", "男", "迁出", rand_int(rng, 20, 40)))
        for k, (rel, sex, reason, age_at_leave) in enumerate(leaving):
            left = rand_day(rng, start + timedelta(days=1), AS_OF - timedelta(days=1))
            by = left.year - age_at_leave
            bd = rand_day(rng, date(by, 1, 1), date(by, 12, 31))
            if bd >= start:
                continue
            idn = self._id_number(rng, bd, sex, used_ids)
            name = names.person_name(rng, sex, surname if rel in ("之子", "之女") else None)
            old = age_at_leave >= 65
            rows.append((
                f"{h.hh_id}{len(members) + k + 1:02d}", h.hh_id, h.village.code, name, idn,
                rel, sex, eth, bd, by, "文盲或半文盲" if old else "初中", "非在校生",
                "长期慢性病" if old else "健康", "无劳动力" if old else "普通劳动力", "未外出务工", 0,
                True, True, None, None, left, reason,
            ))
            spans.append((by, left.year))

    def _village_exit_years(self, villages: list[Village]) -> None:
        """A poor village 出列 when its remaining poor are under 3 % of its population."""
        for v in villages:
            if not v.is_poor:
                continue
            hhs = [h for h in self.by_village[v.code] if h.kind == codes.HOUSEHOLD_KIND_REGISTERED]
            year = v.exit_year
            while year < 2020:
                poor = sum(h.members for h in hhs if h.id_year <= year and (
                    h.exit_year is None or h.exit_year > year or (h.returned_year and h.returned_year <= year)))
                if poor < 0.03 * v.rural_population:
                    break
                year += 1
            v.exit_year = year

    # -- monitoring --------------------------------------------------------------

    def make_monitoring(self, w: SqlWriter) -> None:
        rng = self.rng("monitoring")
        reg = [h for h in self.households if h.kind == codes.HOUSEHOLD_KIND_REGISTERED]
        mon = [h for h in self.households if h.kind == codes.HOUSEHOLD_KIND_MONITORING]
        n_obj = round(0.03 * len(reg))
        n_unstable = max(1, n_obj - len(mon)) if mon else n_obj
        candidates = [h for h in reg if h.status == codes.STATUS_EXITED]
        weights = [(2.0 if h.main_cause in ("因病", "因残") else 1.0) * (1.5 if h.town.lagging else 1.0)
                   for h in candidates]
        unstable = _weighted_sample(rng, candidates, weights, min(n_unstable, len(candidates)))
        # 返贫 after 2020 is a monitoring matter: each such household is a 脱贫不稳定户 identified in the
        # year it fell back, except two deliberate data problems in the main county (the warnings must
        # name them: problems["returned_outside_monitoring"]).
        returned = sorted((h for h in reg if h.returned_year and h.returned_year >= codes.CONSOLIDATION_SINCE),
                          key=lambda h: h.hh_id)
        left_out = (returned[:2] if len(returned) >= 4 else returned[:1]) if self.main else []
        if left_out:
            self.problems["returned_outside_monitoring"] = [h.hh_id for h in left_out]
        fallen = [h for h in returned if h not in left_out]
        n_sudden = round(len(mon) * 10 / 45)
        rows = []
        objs = [(h, "脱贫不稳定户") for h in unstable] + [(h, "脱贫不稳定户") for h in fallen] + \
            [(h, "突发严重困难户" if i < n_sudden else "边缘易致贫户") for i, h in enumerate(mon)]
        objs.sort(key=lambda o: o[0].hh_id)
        for n, (h, kind) in enumerate(objs, 1):
            year = MON_YEAR(rng)
            if h.returned_year and h.returned_year >= codes.CONSOLIDATION_SINCE:
                year = h.returned_year
            ident = rand_day(rng, date(year, 1, 1), min(date(year, 12, 31), AS_OF - timedelta(days=7)))
            removed = None
            if rng.random() < 0.75:
                r = ident + timedelta(days=rand_int(rng, 90, 540))
                removed = r if r <= AS_OF else None
            risk = MON_RISK_SUDDEN(rng) if kind == "突发严重困难户" else MON_RISK(rng)
            if kind == "脱贫不稳定户":
                end = (removed.year - 1) if removed else LAST_INCOME_YEAR
                h.below_years = tuple(range(ident.year, max(ident.year, end) + 1))
            rows.append((self.id_base + n, h.hh_id, h.village.code, kind, risk, ident, removed, h.members))
            self.monitored.append((h, ident, removed))
        w.write(schema.monitoring_object, rows)
        w.write(schema.monitoring_found, self._found_rows(rows))

    def _found_rows(self, objects):
        """风险发现: found 1–14 days before identification as a rule; about 8 % (15 % in lagging townships)
        took 16–45 days (past the usual 15-day deadline); channel by kind."""
        rng = self.rng("found")
        out = []
        for oid, _hh, village, kind, _risk, ident, _removed, _persons in objects:
            slow = rng.random() < (0.15 if self.town_of[village].lagging else 0.08)
            days = rand_int(rng, 16, 45) if slow else rand_int(rng, 1, 14)
            found = ident - timedelta(days=days)
            r = rng.random()
            channel = (codes.CHANNELS[2] if kind == "突发严重困难户" and r < 0.5 else
                       codes.CHANNELS[0] if r < 0.3 else codes.CHANNELS[1] if r < 0.8 else codes.CHANNELS[2])
            out.append((oid, found, channel))
        return out

    # -- 务工 by year (2021–) ------------------------------------------------------

    def make_work(self, w: SqlWriter) -> None:
        """One work_year row per labour-force member of a registered household and year 2021–: the last
        year is the member's recorded 务工状况; going back a year, a worker was not yet working with
        probability 0.07 and a non-worker was working with 0.03 (so 务工 grows, with changes both ways)."""
        rng = self.rng("work")
        rows = []
        for h in self.households:
            if h.kind != codes.HOUSEHOLD_KIND_REGISTERED:
                continue
            for pid, work, months in h.labour:
                status, m = work, months
                for year in range(CURRENT_YEAR, codes.CONSOLIDATION_SINCE - 1, -1):
                    rows.append((pid, year, h.hh_id, h.village.code, status, m))
                    if status != "未外出务工" and rng.random() < 0.07:
                        status, m = "未外出务工", 0
                    elif status == "未外出务工" and rng.random() < 0.03:
                        status, m = "县外省内务工", rand_int(rng, 6, 12)
        w.write(schema.work_year, rows)

    # -- income ------------------------------------------------------------------

    def make_income(self, w: SqlWriter) -> None:
        w.write(schema.income, self._income_rows(self.rng("income")))

    def _income_rows(self, rng):
        for h in self.households:
            if h.kind != codes.HOUSEHOLD_KIND_REGISTERED:
                continue
            for y in range(h.id_year, LAST_INCOME_YEAR + 1):
                m = h.size_at(y)  # 家庭人口数 of the income's year
                line = LINE_OF_YEAR[y]
                poor = (h.exit_year is None or y < h.exit_year) or (h.returned_year and y >= h.returned_year)
                if poor:
                    pcn = line * rng.uniform(0.45, 0.97)
                elif y in h.below_years:
                    pcn = line * rng.uniform(0.8, 0.99)
                elif rng.random() < 0.03:
                    pcn = line * rng.uniform(1.005, 1.095)
                else:
                    floor = 1.1 * line
                    pcn = floor + (MEDIAN_INCOME[y] - floor) * math.exp(0.7 * (0.8 * h.z + 0.6 * rng.gauss(0, 1)))
                    pcn = min(pcn, 8 * line)
                net = round(pcn * m)
                s_w = rng.uniform(0.45, 0.75) if h.n_migrant else rng.uniform(0.05, 0.25)
                s_t = {"低保贫困户": rng.uniform(0.3, 0.55), "特困供养贫困户": rng.uniform(0.6, 0.9)}.get(
                    h.attribute, rng.uniform(0.08, 0.25))
                s_p = rng.uniform(0.0, 0.05)
                total = s_w + s_t + s_p
                if total > 0.95:
                    s_w, s_t, s_p = (s * 0.95 / total for s in (s_w, s_t, s_p))
                wage, transfer, prop = round(net * s_w), round(net * s_t), round(net * s_p)
                nb = net - wage - transfer - prop
                if nb >= 0:
                    bi = round(nb / (1 - rng.uniform(0.2, 0.45)))
                    bc = bi - nb
                else:
                    bi, bc = 0, -nb
                excluded = rand_int(rng, 200, 3000) if rng.random() < 0.5 else 0
                pc = (wage + bi - bc + prop + transfer) / m
                yield (h.hh_id, y, m, wage, bi, bc, prop, transfer, excluded, pc)

    # -- help measures -------------------------------------------------------------

    def make_measures(self, w: SqlWriter) -> None:
        w.write(schema.help_measure, self._measure_rows(self.rng("measures")))

    def _measure_rows(self, rng):
        n = self.id_base
        base = {"产业帮扶": 3.0, "就业帮扶": 2.0, "公益岗位": 0.7, "技能培训": 1.0, "资产收益分红": 1.0,
                "生态护林员": 0.4, "健康帮扶": 0.6, "教育帮扶": 0.3, "扶贫小额信贷": 0.6}
        count_poor = Picker({1: 25, 2: 45, 3: 30})
        count_exited = Picker({1: 65, 2: 30, 3: 5})
        for h in self.households:
            if h.kind != codes.HOUSEHOLD_KIND_REGISTERED:
                continue
            wts = dict(base)
            if h.main_cause == "因病" or h.sick:
                wts["健康帮扶"] += 4
            if h.main_cause == "因学" or h.students:
                wts["教育帮扶"] += 3
            if h.main_cause == "缺资金":
                wts["扶贫小额信贷"] += 3
            if h.main_cause == "缺技术":
                wts["技能培训"] += 3
            if h.main_cause == "缺劳力" or h.n_labour == 0:
                wts["公益岗位"] += 1.5
                wts["就业帮扶"] = 0.3
            picker = Picker(wts)
            for y in range(max(2015, h.id_year), LAST_INCOME_YEAR + 1):
                poor = h.exit_year is None or y < h.exit_year or (h.returned_year and y >= h.returned_year)
                k = (count_poor if poor else count_exited)(rng)
                chosen: list[str] = []
                if h.attribute == "低保贫困户":
                    chosen.append("低保兜底")
                elif h.attribute == "特困供养贫困户":
                    chosen.append("特困供养")
                if h.relocated and y == h.reloc_year:
                    chosen.append("易地扶贫搬迁")
                if poor and h.house in codes.DANGEROUS_HOUSE_GRADES and y == max(2015, h.id_year) + 1:
                    chosen.append("危房改造")
                guard = 0
                while len(chosen) < k and guard < 20:
                    guard += 1
                    mm = picker(rng)
                    if mm not in chosen:
                        chosen.append(mm)
                for mm in chosen:
                    n += 1
                    yield (n, h.hh_id, h.village.code, y, mm, self._measure_amount(rng, mm, h))
        # 监测帮扶: a monitoring object gets at least one measure in each year it is under monitoring
        # (a registered household's yearly measures count; about 3 % of the object-years are left without)
        have = {}
        mon_picker = Picker({"产业帮扶": 3, "就业帮扶": 3, "公益岗位": 1.5, "健康帮扶": 2, "教育帮扶": 1,
                             "技能培训": 1, "低保兜底": 1, "资产收益分红": 0.5})
        for h, ident, removed in self.monitored:
            registered = h.kind == codes.HOUSEHOLD_KIND_REGISTERED
            last = removed.year if removed else CURRENT_YEAR
            for y in range(ident.year, last + 1):
                if registered and y <= LAST_INCOME_YEAR or have.get((h.hh_id, y)) or rng.random() < 0.03:
                    continue
                have[(h.hh_id, y)] = True
                for mm in sorted({mon_picker(rng) for _ in range(rand_int(rng, 1, 2))}):
                    n += 1
                    yield (n, h.hh_id, h.village.code, y, mm, self._measure_amount(rng, mm, h))

    @staticmethod
    def _measure_amount(rng, measure: str, h: HH):
        m = h.members
        if measure == "产业帮扶":
            return rand_int(rng, 10, 80) * 100
        if measure == "就业帮扶":
            return rand_int(rng, 5, 20) * 100 if rng.random() < 0.6 else None
        if measure == "公益岗位":
            return rand_int(rng, 50, 80) * 120
        if measure == "教育帮扶":
            return rand_int(rng, 10, 50) * 100
        if measure == "健康帮扶":
            return rand_int(rng, 5, 200) * 100
        if measure == "危房改造":
            return rand_int(rng, 15, 35) * 1000
        if measure == "易地扶贫搬迁":
            return 20_000 * m
        if measure == "低保兜底":
            return rand_int(rng, 250, 380) * 12 * max(1, m - rand_int(rng, 0, max(0, m - 1)))
        if measure == "特困供养":
            return rand_int(rng, 5000, 8000)
        if measure == "扶贫小额信贷":
            return rand_choice(rng, (10_000, 20_000, 30_000, 50_000))
        if measure == "资产收益分红":
            return rand_int(rng, 2, 10) * 100
        if measure == "生态护林员":
            return 10_000
        if measure == "技能培训":
            return rand_int(rng, 5, 15) * 100 if rng.random() < 0.5 else None
        return None

    # -- help units, cadres, assignments, visits -----------------------------------

    def make_help(self, w: SqlWriter) -> None:
        rng = self.rng("help")
        county = self.county
        prefix = "县" if self.single_county else county.name
        units = []
        stems = names.COUNTY_UNITS[:30 if self.scale >= 0.5 else 3]
        for k, stem in enumerate(stems, 1):
            units.append((f"U{county.prefix}{k:03d}", prefix + stem, "县级"))
        town_units = {}
        for k, t in enumerate(county.towns, 1):
            uid = f"U{county.prefix}T{k:02d}"
            town_units[t.code] = uid
            units.append((uid, f"{'' if self.single_county else county.name}{t.name}人民政府", "乡镇"))
        w.write(schema.help_unit, units)
        county_unit_ids = [u[0] for u in units if u[2] == "县级"]
        higher = [u for u in self.shared_units if u[3] in (None, county.city_code)]
        higher_ids = {lvl: [u[0] for u in higher if u[2] == lvl] for lvl in ("中央", "省级", "市级")}
        level_pick = Picker({"乡镇": 25, "县级": 55, "市级": 10, "省级": 8, "中央": 2})
        helpers, assigns, visits = [], [], []
        hn = 0
        start = date(2021, 1, 1)
        vid = self.id_base
        vstart = date(2024, 1, 1)
        for t in county.towns:
            hhs = [h for v in t.villages for h in self.by_village[v.code]]
            i = 0
            while i < len(hhs):
                size = rand_int(rng, 8, 12)
                group = hhs[i:i + size]
                i += size
                hn += 1
                hid = f"H{county.prefix}{hn:05d}"
                lvl = level_pick(rng)
                pool = town_units[t.code] if lvl == "乡镇" else (higher_ids.get(lvl) or county_unit_ids)
                unit = pool if isinstance(pool, str) else rand_choice(rng, pool)
                sex = "男" if rng.random() < 0.6 else "女"
                helpers.append((hid, names.person_name(rng, sex), unit, t.code, names.phone(rng)))
                for h in group:
                    h.helper = hid
                    assigns.append((hid, h.hh_id, start, None, h.village.code))
                    # visits roughly quarterly; lagging townships less and less regularly
                    if t.lagging:
                        lo, hi, skip = 100, 200, 0.15
                    else:
                        lo, hi, skip = 70, 100, 0.04
                    d = vstart + timedelta(days=rand_int(rng, 0, lo))
                    while d <= AS_OF:
                        if rng.random() >= skip:
                            kind = VISIT_KIND(rng)
                            vid += 1
                            visits.append((vid, hid, h.hh_id, h.village.code, d, kind,
                                           rand_choice(rng, VISIT_NOTES[kind])))
                        d += timedelta(days=rand_int(rng, lo, hi))
        w.write(schema.helper, helpers)
        w.write(schema.assignment, assigns)
        w.write(schema.visit, visits)

    # -- funds and projects ------------------------------------------------------------

    def make_money(self, w: SqlWriter) -> None:
        rng = self.rng("money")
        county = self.county
        fund_rows, project_rows, arr_rows, flow_rows, ben_rows = [], [], [], [], []
        flow_id = self.id_base
        doc_prefix = {
            "中央财政专项扶贫资金": "财农", "省级财政专项扶贫资金": "黔山财农",
            "市级财政专项扶贫资金": county.city_name[:-1] + "财农",
            "县级财政专项扶贫资金": county.short + "财农",
            "统筹整合财政涉农资金": county.short + "府发", "东西部扶贫协作资金": "黔山协作办",
            "定点帮扶资金": "定点帮扶函", "社会帮扶资金": county.short + "社帮",
            "金融扶贫资金": county.short + "金融办",
            "中央财政衔接推进乡村振兴补助资金": "财农", "省级财政衔接推进乡村振兴补助资金": "黔山财农",
            "市级财政衔接推进乡村振兴补助资金": county.city_name[:-1] + "财农",
            "县级财政衔接推进乡村振兴补助资金": county.short + "财农", "东西部协作资金": "黔山协作办",
            "地方政府债券": "黔山财债",
        }
        cat_pick = {y: Picker(_category_weights(y)) for y in range(2015, CURRENT_YEAR + 1)}
        villages = [v for t in county.towns for v in t.villages]
        registered = {code: [h for h in hs if h.kind == codes.HOUSEHOLD_KIND_REGISTERED]
                      for code, hs in self.by_village.items()}
        projects_all = []
        for year in range(2015, CURRENT_YEAR + 1):
            total = FUND_TOTAL_YI[year] * 1e8 * self.scale * rng.uniform(0.92, 1.08)
            table, order = (FUND_SHARES, FUND_ORDER) if year < codes.CONSOLIDATION_SINCE else \
                (FUND_SHARES_2021, FUND_ORDER_2021)
            shares = {s: sh * rng.uniform(0.8, 1.2) for s, (sh, _) in table.items()}
            ssum = sum(shares.values())
            funds = []  # (fund_id, source, amount, date, arranged_target)
            fk = 0
            doc_no = {}
            for source in table:
                batches = table[source][1] if self.scale >= 0.2 else 1
                amount = total * shares[source] / ssum
                parts = [rng.uniform(0.6, 1.4) for _ in range(batches)]
                for b, p in enumerate(parts):
                    fk += 1
                    fid = f"F{county.prefix}{year}{fk:02d}"
                    amt = int(round(amount * p / sum(parts), -3))
                    last = min(date(year, 3 * (b + 1) + 3, 28), AS_OF - timedelta(days=60))
                    d = rand_day(rng, date(year, 1, 10) if b == 0 else date(year, 3 * b + 1, 1), last)
                    doc_no[source] = doc_no.get(source, rand_int(rng, 1, 20)) + rand_int(rng, 3, 30)
                    doc = f"{doc_prefix[source]}〔{year}〕{doc_no[source]}号"
                    name = f"{year}年{source}" + (f"(第{b + 1}批)" if batches > 1 else "")
                    share = rng.uniform(0.9, 0.99) if year <= 2024 else rng.uniform(0.85, 0.97) if year == 2025 \
                        else rng.uniform(0.6, 0.9)
                    funds.append((fid, source, amt, d, int(amt * share)))
                    fund_rows.append((fid, doc, name, source, year, county.code, county.code, amt, d))
            # projects for the year, streamed against the funds
            n_proj = max(3, round(PROJECTS_PER_YEAR[year] * self.scale * rng.uniform(0.9, 1.1)))
            projs = []
            for _ in range(n_proj):
                cat = cat_pick[year](rng)
                sigma = 0.9
                mu = {"农村基础设施": 1.0, "易地扶贫搬迁": 1.4, "产业发展": 0.8, "金融扶贫": 1.2}.get(cat, 0.3)
                projs.append([cat, rng.lognormvariate(mu, sigma)])
            projs.sort(key=lambda p: (CATEGORY_ORDER.index(p[0]), -p[1]))
            funds.sort(key=lambda f: (order.index(f[1]), f[0]))
            capacity = sum(f[4] for f in funds)
            wsum = sum(p[1] for p in projs)
            fi, left = 0, funds[0][4]
            acc = 0.0
            done = 0
            for pk, (cat, weight) in enumerate(projs, 1):
                acc += weight
                need = round(capacity * acc / wsum) - done  # a capped project's shortfall passes on
                parts = []
                while need > 0 and fi < len(funds) and len(parts) < 3:
                    take = min(need, left)
                    if take > 0:
                        parts.append((funds[fi], take))
                        need -= take
                        left -= take
                        done += take
                    if left <= 0:
                        fi += 1
                        left = funds[fi][4] if fi < len(funds) else 0
                projects_all.append((year, pk, cat, parts))
        # places, statuses, dates, flows
        lag_towns = {t.code for t in county.towns if t.lagging}
        for year, pk, cat, parts in projects_all:
            pid = f"P{county.prefix}{year}{pk:04d}"
            sub = rand_choice(rng, SUBCATEGORIES[cat])
            if rng.random() < 0.8 or cat == "农村基础设施":
                v = rand_choice(rng, villages)
                town = self.town_of[v.code]
                place_name, region_code, village_code = v.name, v.code, v.code
                hh_pool = [h for h in registered[v.code] if h.id_year <= year]
                rural_hh = v.rural_population / 3.6
            else:
                town = rand_choice(rng, county.towns)
                v = None
                place_name, region_code, village_code = town.name, town.code, None
                hh_pool = [h for vv in town.villages for h in registered[vv.code] if h.id_year <= year]
                rural_hh = sum(vv.rural_population for vv in town.villages) / 3.6
            lagging = town.code in lag_towns
            arranged = sum(a for _, a in parts)
            budget = int(round(arranged * rng.uniform(1.0, 1.15), -2)) if arranged else rand_int(rng, 5, 50) * 10_000
            budget = max(budget, arranged)
            if year <= 2023:
                status = STATUS_BY_YEAR["old"](rng)
            elif year == 2024:
                status = STATUS_BY_YEAR[2024](rng)
            else:
                status = STATUS_BY_YEAR[f"{year}lag" if lagging else year](rng)
            ps = rand_day(rng, date(year, 3, 1), date(year, 6, 30))
            pe = ps + timedelta(days=rand_int(rng, 90, 270))
            a_start = a_end = None
            if status != "计划":
                a_start = min(ps + timedelta(days=rand_int(rng, -10, 40)), AS_OF - timedelta(days=30))
                if status != "在建":
                    late = rng.random() < 0.2
                    a_end = pe + timedelta(days=rand_int(rng, 15, 120) if late else rand_int(rng, -30, 10))
                    a_end = min(max(a_end, a_start + timedelta(days=30)), AS_OF - timedelta(days=rand_int(rng, 1, 20)))
            if cat in HOUSEHOLD_TARGETED:
                households = rand_int(rng, 10, 80)
            else:
                households = max(10, int(rural_hh * rng.uniform(0.2, 0.9)))
            poor_hh = min(households, max(1, int(len(hh_pool) * rng.uniform(0.3, 1.0))) if hh_pool else 0)
            persons = round(households * rng.uniform(3.2, 4.0))
            project_rows.append([
                pid, f"{place_name}{sub}项目", cat, sub, region_code, county.code, town.code, village_code, year,
                status, budget, ps, pe, a_start, a_end, households, poor_hh, persons,
            ])
            # beneficiaries
            k = min(poor_hh, len(hh_pool), 40)
            if k:
                chosen = rng.sample(hh_pool, k)
                chosen.sort(key=lambda h: h.hh_id)
                per = int(budget * rng.uniform(0.3, 0.6) / k) if cat in HOUSEHOLD_TARGETED else None
                for h in chosen:
                    ben_rows.append((pid, h.hh_id, per))
            # arrangements and flows
            year_end = min(date(year, 12, 31), AS_OF)
            for (fid, _src, _amt, fdate, _t), amount in parts:
                adate = min(fdate + timedelta(days=rand_int(rng, 5, 40)), year_end - timedelta(days=20))
                arr_rows.append((fid, pid, amount, adate))
                pr, sr = _flow_ratios(rng, status)
                if lagging and year >= 2025:
                    sr *= 0.6
                paid = int(amount * pr)
                spent = int(paid * sr)
                if paid <= 0:
                    continue
                pdates = sorted(rand_day(rng, adate, year_end) for _ in range(rand_int(rng, 1, 3)))
                for part, d in zip(rand_split(rng, paid, len(pdates)), pdates):
                    if part:
                        flow_id += 1
                        flow_rows.append([flow_id, fid, pid, codes.MONEY_PAID, part, d])
                if spent > 0:
                    sdates = sorted(rand_day(rng, pdates[0], year_end) for _ in range(rand_int(rng, 1, 3)))
                    for part, d in zip(rand_split(rng, spent, len(sdates)), sdates):
                        if part:
                            flow_id += 1
                            flow_rows.append([flow_id, fid, pid, codes.MONEY_SPENT, part, d])
        if self.main:
            flow_id = self._inject_problems(rng, project_rows, flow_rows, ben_rows, flow_id)
        w.write(schema.fund, fund_rows)
        w.write(schema.project, project_rows)
        w.write(schema.arrangement, arr_rows)
        w.write(schema.money_flow, flow_rows)
        w.write(schema.project_beneficiary, ben_rows)

    def _inject_problems(self, rng, project_rows, flow_rows, ben_rows, flow_id) -> int:
        """The documented data problems (see the module docstring)."""
        # 1. two projects without a place (prefer old, finished ones)
        old = [p for p in project_rows if p[8] in (2019, 2023)]
        chosen = [rand_choice(rng, [p for p in old if p[8] == y]) for y in (2019, 2023)]
        for p in chosen:
            p[4] = p[6] = p[7] = None
        gone = {p[0] for p in chosen}
        ben_rows[:] = [b for b in ben_rows if b[0] not in gone]
        # 2. one project whose 支出 exceeds its 拨付
        paid_by_arr: dict[tuple, int] = {}
        spent_by_arr: dict[tuple, int] = {}
        for f in flow_rows:
            d = paid_by_arr if f[3] == codes.MONEY_PAID else spent_by_arr
            d[(f[1], f[2])] = d.get((f[1], f[2]), 0) + f[4]
        lag = {t.code for t in self.county.towns if t.lagging}
        with_paid = {k[1] for k in paid_by_arr}
        ok = [p for p in project_rows if p[0] in with_paid and p[0] not in gone]
        cands = ([p for p in ok if p[8] == CURRENT_YEAR and p[9] == "在建" and p[6] not in lag]
                 or [p for p in ok if p[8] == CURRENT_YEAR] or ok)
        p = rand_choice(rng, cands)
        key = next(k for k in paid_by_arr if k[1] == p[0])
        over = paid_by_arr[key] - spent_by_arr.get(key, 0) + int(paid_by_arr[key] * rng.uniform(0.05, 0.15)) + 1
        flow_id += 1
        flow_rows.append([flow_id, key[0], p[0], codes.MONEY_SPENT, over, AS_OF - timedelta(days=rand_int(rng, 3, 20))])
        self.problems.update(no_place=sorted(gone), spent_over_paid=[p[0]])
        return flow_id

    # -- exit targets --------------------------------------------------------------------

    def make_targets(self, w: SqlWriter) -> None:
        rng = self.rng("targets")
        rows = []
        county_sum = {y: [0, 0, 0] for y in range(2015, 2021)}
        for t in self.county.towns:
            hhs = [h for v in t.villages for h in self.by_village[v.code] if h.kind == codes.HOUSEHOLD_KIND_REGISTERED]
            for y in range(2015, 2021):
                n = sum(1 for h in hhs if h.exit_year == y)
                p = sum(h.members for h in hhs if h.exit_year == y)
                vil = sum(1 for v in t.villages if v.is_poor and v.exit_year == y)
                f = rng.uniform(0.9, 1.1)
                tv = max(0, vil + (rand_choice(rng, (-1, 1)) if vil and rng.random() < 0.2 else 0))
                row = (t.code, y, round(n * f), round(p * f), tv)
                rows.append(row)
                for i in range(3):
                    county_sum[y][i] += row[2 + i]
        rows = [(self.county.code, y, *county_sum[y]) for y in range(2015, 2021)] + rows
        w.write(schema.exit_target, rows)


def _category_weights(year: int) -> dict[str, float]:
    w = {"产业发展": 30, "农村基础设施": 28, "人居环境": 7, "就业扶贫": 6, "易地扶贫搬迁": 4, "教育扶贫": 5,
         "健康扶贫": 4, "危房改造": 6, "金融扶贫": 4, "公益岗位": 3, "其他": 3}
    if year > 2020:
        w["易地扶贫搬迁"] = 1.5  # 后续扶持 only
        w["危房改造"] = 2
        w["人居环境"] = 10
    return w


def _flow_ratios(rng, status: str) -> tuple[float, float]:
    if status == "报账":
        return 1.0, 1.0
    if status == "验收":
        return rng.uniform(0.9, 1.0), rng.uniform(0.85, 1.0)
    if status == "完工":
        return rng.uniform(0.7, 1.0), rng.uniform(0.6, 1.0)
    if status == "在建":
        return rng.uniform(0.2, 0.7), rng.uniform(0.3, 0.9)
    return 0.0, 0.0


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[:rest]:
        out[i] += 1
    return out


def _weighted_sample(rng, items: list, weights: list[float], k: int) -> list:
    """k distinct items, drawn with probability proportional to weight (Efraimidis–Spirakis)."""
    keyed = [(rng.random() ** (1.0 / w), i) for i, w in enumerate(weights)]
    keyed.sort(reverse=True)
    return [items[i] for _, i in keyed[:k]]
