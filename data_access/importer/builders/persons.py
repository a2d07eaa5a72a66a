"""人员 sheets: households and persons, checked across the rows of one household and the database."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from operator import itemgetter

from ... import codes, schema
from ...rules import id_birth_date
from .. import bulk, values as V
from ..batch import Batch, Record, Row, Sheet, cell_text
from .common import MONITORED, REGISTERED, county_of, duplicates, place_of, same, town_of


# ---- 人员 (households and persons) -------------------------------------------------------------------

HOUSEHOLD_KEYS = (
    "region_code", "county_name", "town_name", "village_name", "natural_village", "head_name", "member_count",
    "hh_type", "attribute", "standard", "main_cause", "other_causes", "identified_year", "exit_year",
    "returned_year", "status", "policy_status", "relocated", "relocation_year", "relocation_site", "house_grade",
    "dangerous_house", "safe_water", "food_clothing_ok", "hh_phone", "mon_kind", "mon_risk", "mon_identified",
    "mon_removed", "mon_removed_date",
)
PERSON_COLUMNS = ("name", "id_number", "relation", "sex", "ethnicity", "birth_date", "education", "schooling",
                  "health", "labour_skill", "work_status", "work_months", "medical_insurance",
                  "serious_illness_insurance", "phone", "join_date", "leave_date", "leave_reason")

STATUS_WORDS = {
    "未脱贫": codes.STATUS_NOT_EXITED, "贫困": codes.STATUS_NOT_EXITED, "未脱贫户": codes.STATUS_NOT_EXITED,
    "在档未脱贫": codes.STATUS_NOT_EXITED, "否": codes.STATUS_NOT_EXITED,
    "已脱贫": codes.STATUS_EXITED, "脱贫": codes.STATUS_EXITED, "稳定脱贫": codes.STATUS_EXITED,
    "标注脱贫": codes.STATUS_EXITED, "是": codes.STATUS_EXITED, "脱贫享受政策": codes.STATUS_EXITED,
    "脱贫不享受政策": codes.STATUS_EXITED, "已脱贫户": codes.STATUS_EXITED,
    "返贫": codes.STATUS_RETURNED, "已返贫": codes.STATUS_RETURNED, "返贫户": codes.STATUS_RETURNED,
}
# 户类型 -> (kind, status or None, policy or None); "监测户" depends on the monitoring type.
HH_TYPES = {
    "脱贫户": (REGISTERED, codes.STATUS_EXITED, None), "已脱贫户": (REGISTERED, codes.STATUS_EXITED, None),
    "稳定脱贫户": (REGISTERED, codes.STATUS_EXITED, None), "脱贫人口": (REGISTERED, codes.STATUS_EXITED, None),
    "脱贫不稳定户": (REGISTERED, codes.STATUS_EXITED, None),
    "脱贫享受政策": (REGISTERED, codes.STATUS_EXITED, "脱贫享受政策"),
    "脱贫享受政策户": (REGISTERED, codes.STATUS_EXITED, "脱贫享受政策"),
    "脱贫不享受政策": (REGISTERED, codes.STATUS_EXITED, "脱贫不享受政策"),
    "脱贫不享受政策户": (REGISTERED, codes.STATUS_EXITED, "脱贫不享受政策"),
    "贫困户": (REGISTERED, None, None), "建档立卡户": (REGISTERED, None, None),
    "建档立卡贫困户": (REGISTERED, None, None), "未脱贫户": (REGISTERED, codes.STATUS_NOT_EXITED, None),
    "返贫户": (REGISTERED, codes.STATUS_RETURNED, None),
    "一般农户": (MONITORED, None, None), "非贫困户": (MONITORED, None, None),
    "边缘易致贫户": (MONITORED, None, None), "边缘户": (MONITORED, None, None),
    "突发严重困难户": (MONITORED, None, None), "监测户": None, "监测对象": None,
}
POLICY_WORDS = {
    "脱贫享受政策": "脱贫享受政策", "享受政策": "脱贫享受政策", "享受": "脱贫享受政策", "是": "脱贫享受政策",
    "脱贫不享受政策": "脱贫不享受政策", "不享受政策": "脱贫不享受政策", "不享受": "脱贫不享受政策",
    "否": "脱贫不享受政策",
}
NOT_MONITORED = {"否", "无", "非监测对象", "不是", "一般农户"}
# Descriptive household columns whose blank cell keeps the stored value (years and states are not: a blank
# 脱贫年度 says "not exited" and is checked against the status).
KEEP_WHEN_BLANK = frozenset({"natural_village", "attribute", "standard", "main_cause", "relocation_year",
                             "relocation_site", "safe_water", "food_clothing_ok"})
ID_CARD_TYPES = {"", "居民身份证", "身份证", "第二代居民身份证", "二代身份证", "中华人民共和国居民身份证"}


def _relation(value: str | None) -> tuple[str | None, bool]:
    if not value:
        return None, False
    if value in codes.RELATIONS:
        return value, False
    mapped = V.VALUE_SYNONYMS.get(value)
    if mapped in codes.RELATIONS:
        return mapped, False
    return "其他", True


def _household_value(rows: list[Row], key: str, batch: Batch, head: Row | None,
                     ordered: list[Row] | None = None, dicts: list[dict] | None = None) -> object:
    """The household field agreed by all rows (blank rows ignored); flags rows that disagree.
    ``ordered``: the rows, head first (computed when not given); ``dicts``: their values."""
    if ordered is None:
        ordered = ([head] if head else []) + [r for r in rows if r is not head]
    values = [d.get(key) for d in (dicts if dicts is not None else [r.values for r in ordered])]
    if values.count(values[0]) == len(values):  # the usual case: every row says the same
        return values[0] if values[0] not in (None, []) else None
    chosen = None
    source = None
    for row in ordered:
        if key not in row.sheet.present or key not in row.values:
            continue
        value = row.values[key]
        if value in (None, []):
            continue
        if chosen is None:
            chosen, source = value, row
        elif not same(value, chosen) and not (isinstance(value, list) and set(value) == set(chosen)):
            batch.error(row, key, f"同一户各行的“{row.sheet.headers.get(key, key)}”不一致:"
                                  f"本行为“{cell_text(row.raw.get(key))}”,"
                                  f"第 {source.number} 行为“{cell_text(source.raw.get(key))}”")
    return chosen


def _repeats(values: list) -> bool:
    """True when a value other than None is in ``values`` more than once."""
    distinct = set(values)
    distinct.discard(None)
    return len(distinct) < len(values) - values.count(None)


def work_year_of(batch: Batch, row: Row) -> int:
    """The year a person row's 务工状况 stands for (kept by year in work_year for the labour force of 建档立卡户,
    as the 2021– 脱贫劳动力务工 figures count it): the sheet's 导出时间, else the import's as-of date, else
    this year (the date the import stamps as the data's as-of date then)."""
    day = getattr(row.sheet, "exported_at", None) or getattr(batch, "as_of", None) or dt.date.today()
    return day.year


def build_persons(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    for sheet in sheets:
        for key, what in (("income_per_capita", "人均纯收入"), ("person_identified", "人员识别时间")):
            if key in sheet.present:
                batch.sheet_notice(sheet, sheet.headers[key], f"“{what}”列未导入:" + (
                    "收入请用“收入”表导入(需有年度与各项收入)" if key == "income_per_capita" else "库中无此字段"))
    # -- person-level values; in the same pass: the rows of each household, the 人编号 and 证件号码 given
    births: dict[str, dt.date] = {}  # digits 7-14 of a checked ID number -> its birth date
    groups: dict[str, list[Row]] = defaultdict(list)  # hh_id -> its rows, in file order
    row_pids: list = []  # each row's 人编号 (None too)
    row_numbers: list = []  # each row's 证件号码 as checked (None too)
    derived: set[Row] = set()  # the rows whose 性别 and 出生日期 may come from the 证件号码
    relations = codes.RELATIONS
    for row in rows:
        v = row.values
        id_type = v.get("id_type") or ""
        raw = v.get("id_number")
        if raw is not None and id_type not in ID_CARD_TYPES:
            # Another document (e.g. 残疾证): keep its number as written, without ID-card checks.
            v["id_number"] = V.squeeze(V.clean(raw))[:18]
        elif raw is not None:
            try:
                v["id_number"] = V.id_number(raw)
            except V.Bad as exc:
                v["id_number"] = None
                batch.error(row, "id_number", str(exc))
        rel = v.get("relation")
        if rel not in relations:  # (a standard one is kept as it is: _relation's first answer)
            relation, free = _relation(rel)
            if free:
                batch.tally(row.sheet, "relation", rel)
            v["relation"] = relation
        number = v.get("id_number")
        if number and id_type in ID_CARD_TYPES and len(number) == 18:
            birth = births.get(number[6:14])
            if birth is None:
                birth = births[number[6:14]] = id_birth_date(number)
            sex = "男" if int(number[16]) % 2 else "女"  # V.id_sex
            given_sex = v.get("sex")
            if not given_sex:
                v["sex"] = sex
            elif given_sex != sex:
                batch.error(row, "sex", f"性别与证件号码不符(证件号码第 17 位表示{sex})")
            given_birth = v.get("birth_date")
            if not given_birth:
                v["birth_date"] = birth
            elif given_birth != birth:
                batch.error(row, "birth_date", f"出生日期与证件号码不符(证件号码中为 {birth.isoformat()})")
            derived.add(row)
        pid = v.get("person_id")
        if not pid and not number and not row.bad:
            batch.error(row, "id_number" if "id_number" in row.sheet.present else "person_id",
                        "人编号与证件号码都为空,无法识别此人", "")
        row_pids.append(pid)
        row_numbers.append(number)
        hh_id = v.get("hh_id")
        if hh_id:
            groups[hh_id].append(row)
    file_pids = set(row_pids)
    wanted = set(row_numbers)
    wanted.discard(None)
    for sheet in sheets:
        batch.flush_tallies(sheet, "relation", "与户主关系中有 {n} 行不是标准称谓,已记为“其他”")
    for key, what, every in (("person_id", "人编号", row_pids), ("id_number", "证件号码", row_numbers)):
        # (when no row at all repeats another's value, the valid rows do not either)
        if _repeats(every) and _repeats([r.values.get(key) for r in rows if not r.bad]):
            duplicates(batch, rows, lambda r, key=key: r.values.get(key), what)

    # -- database state of the people and households mentioned
    hh_ids = groups.keys()
    db_hh = batch.db_households(hh_ids)
    # The stored people of these households (their members, for member_count) and, among them, those of the
    # file; then the file's other 人编号 (new people, or moved from another household).
    # (No stored person at all, as in a first import: nothing to look up.)
    db_members: dict[str, set[str]] = defaultdict(set)
    by_pid = {}
    people = batch.stores_any(schema.person)
    for p in batch.fetch(schema.person, "hh_id", hh_ids) if people else ():
        pid = p["person_id"]
        if p["leave_date"] is None:  # member_count counts today's members only (rules.current_member)
            db_members[p["hh_id"]].add(pid)
        if pid in file_pids:
            by_pid[pid] = p
    for p in batch.fetch(schema.person, "person_id", file_pids - by_pid.keys()) if people else ():
        by_pid[p["person_id"]] = p
    stored_causes: dict[str, list[str]] = defaultdict(list)  # for "a blank 其他致贫原因 keeps them"
    for r in (batch.fetch(schema.other_cause, "hh_id", hh_ids, ("hh_id", "cause"))
              if batch.stores_any(schema.other_cause) else ()):
        stored_causes[r["hh_id"]].append(r["cause"])
    batch.stored_causes = stored_causes
    t = schema.person
    by_idn: dict[str, tuple] = {}  # 证件号码 -> (person_id, hh_id) stored
    if by_pid and getattr(batch, "unique_ids", False):
        # person.id_number is unique in the database: a number the row's own stored person (by 人编号) has
        # is nobody else's, so only the other numbers need looking up.
        for pid, idn in zip(row_pids, row_numbers):
            stored = by_pid.get(pid) if idn else None
            if stored is not None and stored["id_number"] == idn:
                by_idn[idn] = (stored["person_id"], stored["hh_id"])
        wanted -= by_idn.keys()
    for pid, hh, idn in bulk.select_in(batch.conn, (t.c.person_id, t.c.hh_id, t.c.id_number), t.c.id_number,
                                       sorted(wanted)) if people and wanted else ():
        by_idn[idn] = (pid, hh)
    extra_pids = set()  # (a 人编号 of the file was looked up above, found or not: only the others, from 证件号码)
    pid_of: dict[Row, str | None] = {}  # a valid row -> the person it stands for (its 人编号, else found by 证件号码)
    for row, pid, idn in zip(rows, row_pids, row_numbers):
        if row.bad:
            continue
        known = by_idn.get(idn) if idn else None
        if pid:
            if known and known[0] != pid:
                batch.error(row, "id_number", f"该证件号码在数据库中属于另一人(人编号 {known[0]},"
                                              f"户编号 {known[1]})")
                continue
        else:
            pid = known[0] if known else idn
        pid_of[row] = pid
        if pid and pid not in file_pids:
            extra_pids.add(pid)
    for p in batch.fetch(schema.person, "person_id", extra_pids) if people else ():
        by_pid[p["person_id"]] = p
    looked_up = file_pids | extra_pids
    batch.plan.known["person"] = {pid: by_pid.get(pid) for pid in looked_up if pid is not None}

    # Each household; then member_count = its person rows after the import (moves included)
    finals: dict[str, dict] = {}
    file_members: dict[str, set[str]] = {}
    moved_out: dict[str, set[str]] = defaultdict(set)
    left_members: dict[str, set[str]] = {}  # rows with a leave date: former members
    clear_blanks = batch.clear_blanks
    one_sheet = (sheets[0],) if len(sheets) == 1 else None  # then every household's rows are of that sheet
    villages: dict[tuple, str] = {}
    for hh_id, members in groups.items():
        final = _build_household(batch, hh_id, members, db_hh.get(hh_id), one_sheet, villages)
        if final is not None:
            finals[hh_id] = final
        current, former = file_members[hh_id], left_members[hh_id] = set(), set()
        for row in members:  # (only this household's rows: its bad rows are known now)
            if row.bad:
                continue
            pid = pid_of.get(row)
            if not pid:
                continue
            old = by_pid.get(pid)
            if "leave_date" in row.sheet.present:
                left = row.values.get("leave_date")
                if left is None and old and not clear_blanks:
                    left = old.get("leave_date")
            else:
                left = old.get("leave_date") if old else None
            if left is None:
                current.add(pid)
            else:
                former.add(pid)
            if old and old["hh_id"] != hh_id:
                moved_out[old["hh_id"]].add(pid)
    for hh_id, final in finals.items():
        members = groups[hh_id]
        if any(r.bad for r in members):
            continue
        total = len(((db_members[hh_id] - moved_out[hh_id]) | file_members[hh_id]) - left_members[hh_id])
        given = final.pop("_given_count", None)
        if given is not None and given != total:
            kept = len(db_members[hh_id] - moved_out[hh_id] - file_members[hh_id] - left_members[hh_id])
            left = len(left_members[hh_id])
            detail = (f"文件中该户 {len(file_members[hh_id]) + left} 行" + (f",其中 {left} 人已减员" if left else "")
                      + (f",数据库中另有 {kept} 人未列在文件中(不会被删除)" if kept else ""))
            for row in members:
                batch.error(row, "member_count", f"人数为 {given},但该户导入后共有 {total} 人({detail})")
            continue
        final["member_count"] = total

    # Reject whole households when any of their rows is bad.
    for hh_id, members in groups.items():
        if any(r.bad for r in members):
            if batch.skip_invalid:
                for row in members:
                    if not row.bad:
                        batch.error(row, None, "同一户的其他行有错误,整户未导入", hh_id, header="户编号")
            finals.pop(hh_id, None)
            batch.rejected_households.add(hh_id)
    kept_blanks = batch.kept_blanks
    plan = batch.plan
    sheet_columns: dict = {}  # sheet -> the person columns its rows give (derived or not), their getters, flags
    sheet = columns = None
    work_years: dict[int, int] = {}  # id(sheet) -> work_year_of its rows
    labour_force = codes.LABOUR_FORCE_SKILLS
    moved_rows: dict[str, list[Row]] = defaultdict(list)  # households outside the file that lose members
    for hh_id, final in finals.items():
        members = groups[hh_id]
        batch.households[hh_id] = final
        hh_columns = final.pop("_columns")
        values = {k: final[k] for k in hh_columns}
        values["hh_id"] = hh_id
        values["member_count"] = final["member_count"]
        plan.put("household", (hh_id,), values, members, {"relocated": False})
        causes = final.pop("_other_causes", None)
        if causes is not None:
            plan.other_causes[hh_id] = Record({"causes": causes}, members)
        mon = final.pop("_monitoring", None)
        if mon is not None:
            defaults = {"main_risk": mon.pop("_default_risk")} if "_default_risk" in mon else {}
            mon["persons"] = final["member_count"]
            plan.put("monitoring_object", (hh_id, mon["identified_date"]), mon, members, defaults)
        village_code = final["village_code"]
        registered = final["kind"] == REGISTERED
        for row in members:
            pv = row.values
            pid = pid_of[row]
            known = by_pid.get(pid)
            if row.sheet is not sheet:
                sheet = row.sheet
                columns = sheet_columns.get(sheet)
                if columns is None:
                    present = sheet.present
                    plain = [k for k in PERSON_COLUMNS if k in present]
                    derived = [k for k in PERSON_COLUMNS if k in present or k in ("sex", "birth_date")]
                    columns = sheet_columns[sheet] = (
                        (plain, itemgetter(*plain) if len(plain) > 1 else None),
                        (derived, itemgetter(*derived) if len(derived) > 1 else None),
                        "labour_skill" in present, "work_status" in present, "work_months" in present)
                given_columns, derived_columns, has_skill, has_work, has_months = columns
            given, getter = derived_columns if row in derived else given_columns
            try:
                person = dict(zip(given, getter(pv))) if getter is not None else dict(zip(given, map(pv.get, given)))
            except KeyError:  # a value the row lacks is None, as pv.get gives
                person = dict(zip(given, map(pv.get, given)))
            if known is not None:
                if not clear_blanks:  # else a blank keeps nothing (Batch.keeps)
                    for k in [k for k, value in person.items()
                              if not value and (value is None or value == "" or value == [])]:
                        old = known.get(k)  # Batch.keeps inline (a blank value, a stored record, no clear_blanks)
                        if not (old is None or old == "" or old == [] or old == set()):
                            kept_blanks[(sheet, k)] += 1
                            del person[k]
                if known["hh_id"] != hh_id and known["hh_id"] not in groups:
                    moved_rows[known["hh_id"]].append(row)
            if "birth_date" in person:
                person["birth_year"] = person["birth_date"].year if person["birth_date"] else None
            person["person_id"] = pid
            person["hh_id"] = hh_id
            person["village_code"] = village_code
            plan.put("person", (pid,), person, [row], fresh=True)
            if registered and has_work and pv.get("work_status"):  # 脱贫劳动力务工 of the year
                skill = pv.get("labour_skill") if has_skill else (known or {}).get("labour_skill")
                left = person["leave_date"] if "leave_date" in person else (known or {}).get("leave_date")
                if skill in labour_force and left is None:  # a member now
                    year = work_years.get(id(sheet))
                    if year is None:  # one year per sheet
                        year = work_years[id(sheet)] = work_year_of(batch, row)
                    work = {"person_id": pid, "year": year, "hh_id": hh_id, "village_code": village_code,
                            "work_status": pv["work_status"]}
                    if has_months:
                        work["work_months"] = pv.get("work_months")
                    plan.put("work_year", (pid, year), work, [row], fresh=True)
    # Households outside the file that lose members to a move keep a true member_count.
    if moved_rows:
        remaining: dict[str, int] = Counter()
        leaving = {pid_of[r] for rs in moved_rows.values() for r in rs}
        for p in batch.fetch(schema.person, "hh_id", moved_rows, ("person_id", "hh_id", "leave_date")):
            if p["person_id"] not in leaving and p["leave_date"] is None:
                remaining[p["hh_id"]] += 1
        for hh_id, rs in moved_rows.items():
            batch.plan.put("household", (hh_id,), {"hh_id": hh_id, "member_count": remaining[hh_id]}, rs)


PLAIN_HOUSEHOLD_KEYS = ("natural_village", "attribute", "standard", "main_cause", "identified_year", "exit_year",
                        "returned_year", "relocated", "relocation_year", "relocation_site", "safe_water",
                        "food_clothing_ok")  # taken as the file gives them (a blank may keep the stored value)
PLACE_KEYS = ("region_code", "county_name", "town_name", "village_name")


def _build_household(batch: Batch, hh_id: str, members: list[Row], db: dict | None,
                     sheets: tuple | None = None, villages: dict | None = None) -> dict | None:
    """``sheets``: the sheets of the household's rows when known (one sheet); ``villages``: the village codes
    already found (place_of's answers that were a code), by the row's sheet and place columns."""
    if sheets is None:
        sheets = tuple({id(r.sheet): r.sheet for r in members}.values())
    cache = batch.__dict__.setdefault("_household_columns", {})  # the sheets of a household -> their columns
    known = cache.get(sheets)
    if known is None:
        union = set().union(*(sh.present for sh in sheets))
        hh_keys = tuple(k for k in HOUSEHOLD_KEYS if k in union)
        known = cache[sheets] = (union, hh_keys, itemgetter(*hh_keys) if len(hh_keys) > 1 else None,
                                 tuple((k, k in KEEP_WHEN_BLANK) for k in PLAIN_HOUSEHOLD_KEYS if k in union),
                                 any(k in union for k in PLACE_KEYS))
    present, hh_keys, getter, plain_keys, has_place = known
    heads = [r for r in members if r.values.get("relation") == "户主"]
    for extra in heads[1:]:
        batch.error(extra, "relation", f"一户只能有一个户主(第 {heads[0].number} 行也是户主)")
    head = heads[0] if heads else None
    ordered = members if head is None or head is members[0] else [head] + [r for r in members if r is not head]
    dicts = [r.values for r in ordered]
    try:
        tuples = list(map(getter, dicts)) if getter is not None else None
    except KeyError:  # a row whose sheet lacks one of the columns: the general path
        tuples = None
    n = len(dicts)
    if tuples is not None and tuples.count(tuples[0]) == n:  # the usual case: every row says the same
        hv = dict(zip(hh_keys, tuples[0]))
        if [] in tuples[0]:  # (as _household_value: an empty list is None)
            hv = {k: None if v == [] else v for k, v in hv.items()}
    elif tuples is None:
        hv = {key: _household_value(members, key, batch, head, ordered, dicts) for key in hh_keys}
    else:
        hv = {}
        for key, values in zip(hh_keys, zip(*tuples)):  # as _household_value, its usual case inline
            first = values[0]
            if values.count(first) == n:
                hv[key] = first if first not in (None, []) else None
            else:
                hv[key] = _household_value(members, key, batch, head, ordered, dicts)
    for r in members:
        if r.bad:
            return None
    first = head or members[0]

    final: dict = dict(db) if db else {}
    columns: set[str] = set()  # the columns the file gives (final[column] is its value)

    # place
    if has_place:
        v = first.values
        where = (first.sheet, v.get("region_code"), v.get("county_name"), v.get("town_name"), v.get("village_name"))
        code = villages.get(where) if villages is not None else None
        if code is None:
            code = place_of(batch, first, ("village",), required=db is None)
            if first.bad:
                return None
            if code and villages is not None:
                villages[where] = code
        if code:
            final["village_code"] = code
            final["town_code"] = town_of(code)
            final["county_code"] = county_of(code)
            columns.update(("village_code", "town_code", "county_code"))
    # The stored household's place, not only the file's: a limited importer may not pull another region's
    # household into its own.
    if db and not batch.in_scope(db["village_code"]):
        batch.error(first, "hh_id", f"该户在数据库中属于 {db['village_code']},超出本账号可导入的范围")
        return None
    if not final.get("village_code"):
        batch.error(first, "region_code" if "region_code" in present else "village_name",
                    "新户缺少地点(区划代码,或 乡(镇)+行政村 名称)", "")
        return None
    for key, keep in plain_keys:
        value = hv[key]
        if keep and value in (None, "", []) and batch.keeps(first, key, value, db):
            continue
        final[key] = value
        columns.add(key)
    if "relocated" in columns:
        final["relocated"] = bool(final["relocated"])
    if "hh_phone" in present and not batch.keeps(first, "hh_phone", hv["hh_phone"], db, "phone"):
        final["phone"] = hv["hh_phone"]
        columns.add("phone")
    # head of household
    head_name = hv.get("head_name")
    if head and head_name:
        name = head.values.get("name")
        if name != head_name and V.squeeze(name or "") != V.squeeze(head_name):
            batch.error(head, "head_name", f"户主姓名“{head_name}”与户主行的姓名“{name}”不一致")
            return None
    name = head_name or (head.values.get("name") if head else None)
    if name:
        final["head_name"] = name
        columns.add("head_name")
    elif not db:
        for row in members:
            batch.error(row, "relation", "该户没有“与户主关系”为户主的行,也未填户主姓名;数据库中也没有此户", "")
        return None
    if "member_count" in present and hv.get("member_count") is not None:
        final["_given_count"] = hv["member_count"]
    # kind, status and years
    mon_kind_raw = hv.get("mon_kind")
    mon_kind = None
    if mon_kind_raw and mon_kind_raw not in NOT_MONITORED:
        try:
            mon_kind = V.code(mon_kind_raw, codes.MONITORING_KINDS, "监测对象类型")
        except V.Bad as exc:
            batch.error(first, "mon_kind", str(exc))
            return None
    status_given = policy_given = None
    if "hh_type" in present and hv.get("hh_type"):
        t = hv["hh_type"]
        spec = HH_TYPES.get(t, "unknown")
        if spec == "unknown":
            batch.error(first, "hh_type", f"户类型“{t}”无法识别(可用:脱贫户、贫困户、监测户、一般农户、"
                                           "脱贫享受政策、脱贫不享受政策)")
            return None
        if spec is None:  # 监测户
            spec = (REGISTERED, codes.STATUS_EXITED, None) if mon_kind == "脱贫不稳定户" else (MONITORED, None, None)
        final["kind"] = spec[0]
        columns.add("kind")
        status_given, policy_given = spec[1], spec[2]
    if "status" in present and hv.get("status"):
        word = hv["status"]
        status = STATUS_WORDS.get(word)
        if status is None:
            batch.error(first, "status", f"脱贫状态“{word}”无法识别(可用:未脱贫、已脱贫、返贫)")
            return None
        if status_given and status != status_given:
            batch.error(first, "status", f"脱贫状态“{word}”与户类型“{hv['hh_type']}”矛盾")
            return None
        status_given = status
        if word in POLICY_WORDS and word.startswith("脱贫"):
            policy_given = POLICY_WORDS[word]
    if "policy_status" in present and hv.get("policy_status"):
        word = hv["policy_status"]
        policy = POLICY_WORDS.get(word)
        if policy is None:
            batch.error(first, "policy_status", f"享受政策情况“{word}”无法识别(可用:脱贫享受政策、脱贫不享受政策)")
            return None
        if policy_given and policy != policy_given:
            batch.error(first, "policy_status", f"享受政策情况与户类型“{hv.get('hh_type')}”矛盾")
            return None
        policy_given = policy
    if "kind" not in final or final.get("kind") is None:
        final["kind"] = REGISTERED
        columns.add("kind")
    registered = final["kind"] == REGISTERED
    iy, ey, ry = final.get("identified_year"), final.get("exit_year"), final.get("returned_year")
    if registered:
        if iy is None:
            key = "identified_year" if "identified_year" in present else "hh_id"
            batch.error(first, key, "建档立卡户缺少识别年度(首次识别时间)", hv.get("identified_year") or "")
            return None
        derived = codes.STATUS_RETURNED if ry else codes.STATUS_EXITED if ey else codes.STATUS_NOT_EXITED
        status = status_given or derived
        if status != derived:
            if status == codes.STATUS_EXITED and not ey:
                reason = ("户类型为脱贫户(或状态已脱贫),但没有脱贫年度" +
                          ("" if "exit_year" in present else ":文件没有“脱贫年度”列,数据库中也没有此户的脱贫年度,"
                                                             "请在文件中增加“脱贫年度”列"))
            elif status == codes.STATUS_RETURNED:
                reason = "脱贫状态为返贫,但没有返贫年度"
            elif status == codes.STATUS_NOT_EXITED:
                reason = f"脱贫状态为未脱贫,但有脱贫年度 {ey}" if ey else f"脱贫状态为未脱贫,但有返贫年度 {ry}"
            else:
                reason = f"脱贫状态为已脱贫,但有返贫年度 {ry}"
            key = "hh_type" if "hh_type" in present and not ("status" in present and hv.get("status")) else "status"
            batch.error(first, key, reason)
            return None
        if ey is not None and ey < iy:
            batch.error(first, "exit_year", f"脱贫年度 {ey} 早于识别年度 {iy}")
            return None
        if ry is not None and (ey is None or ry < ey):
            batch.error(first, "returned_year", f"返贫年度 {ry} 应晚于脱贫年度" + (f" {ey}" if ey else "(无脱贫年度)"))
            return None
        final["status"] = status
        columns.add("status")
        if policy_given is not None:
            if status != codes.STATUS_EXITED:
                batch.error(first, "policy_status", "只有已脱贫户才有“享受政策”情况")
                return None
            final["policy_status"] = policy_given
            columns.add("policy_status")
        elif status != codes.STATUS_EXITED and final.get("policy_status"):
            final["policy_status"] = None
            columns.add("policy_status")
    else:
        if status_given in (codes.STATUS_EXITED, codes.STATUS_RETURNED) or ey or ry:
            batch.error(first, "hh_type", "一般农户(非建档立卡户)不应有脱贫或返贫信息")
            return None
        final["status"] = None
        columns.add("status")
        if final.get("policy_status"):
            final["policy_status"] = None
            columns.add("policy_status")
    # houses
    if "house_grade" in present or "dangerous_house" in present:
        grade = hv.get("house_grade")
        flag = hv.get("dangerous_house")
        if flag:
            dangerous = None
            try:
                dangerous = V.boolean(flag)
            except V.Bad:
                try:
                    grade_from_flag = V.code(flag, codes.HOUSE_GRADES, "危房等级")
                except V.Bad:
                    batch.error(first, "dangerous_house", "危房户应为“是”“否”或危房等级(C级/D级)")
                    return None
                if grade and grade != grade_from_flag:
                    batch.error(first, "dangerous_house", f"危房户“{flag}”与危房等级“{grade}”不一致")
                    return None
                grade = grade_from_flag
            known = final.get("house_grade") if "house_grade" not in present else None
            if dangerous is True:
                if grade is None and known in codes.DANGEROUS_HOUSE_GRADES:
                    grade = known  # the database already knows which grade
                elif grade is None:
                    grade = "C"
                    batch.tally(first.sheet, "dangerous_house", hh_id)
                elif grade not in codes.DANGEROUS_HOUSE_GRADES:
                    batch.error(first, "dangerous_house", f"危房户为“是”,但危房等级为“{grade}”(不是 C 或 D 级)")
                    return None
            elif dangerous is False:
                if grade in codes.DANGEROUS_HOUSE_GRADES:
                    batch.error(first, "dangerous_house", f"危房户为“否”,但危房等级为“{grade}”")
                    return None
                grade = grade or (known if known in ("安全", "A", "B") else "安全")
        final["house_grade"] = grade
        columns.add("house_grade")
    # other causes
    if "other_causes" in present and not (hv["other_causes"] in (None, "", []) and batch.keeps(
            first, "other_causes", hv["other_causes"], {"other_causes": _stored_causes(batch, hh_id)} if db else None)):
        others = [c for c in (hv.get("other_causes") or []) if c != final.get("main_cause")]
        final["_other_causes"] = set(others)
    # monitoring object (2022 export columns)
    if mon_kind:
        ident = hv.get("mon_identified")
        if ident is None:
            batch.error(first, "mon_identified" if "mon_identified" in present else "mon_kind",
                        "监测对象缺少风险识别时间", hv.get("mon_identified") or "")
            return None
        removed_date = hv.get("mon_removed_date")
        removed = hv.get("mon_removed")
        if removed is True and removed_date is None:
            batch.error(first, "mon_removed", "风险已消除,但没有风险消除时间")
            return None
        if removed is False and removed_date is not None:
            batch.error(first, "mon_removed_date", "风险未消除,却填了风险消除时间")
            return None
        if removed_date is not None and removed_date < ident:
            batch.error(first, "mon_removed_date", f"风险消除时间早于识别时间 {ident.isoformat()}")
            return None
        mon = {"hh_id": hh_id, "village_code": final["village_code"], "kind": mon_kind, "identified_date": ident}
        if "mon_removed_date" in present or "mon_removed" in present:
            mon["removed_date"] = removed_date
        if "mon_risk" in present and hv.get("mon_risk"):
            mon["main_risk"] = hv["mon_risk"]
        else:
            mon["_default_risk"] = "其他"
            batch.tally(first.sheet, "mon_risk", hh_id)
        final["_monitoring"] = mon
    final["_columns"] = columns
    return final


def _stored_causes(batch: Batch, hh_id: str) -> list[str]:
    return getattr(batch, "stored_causes", {}).get(hh_id, [])


def finish_persons(batch: Batch, sheets: list[Sheet]) -> None:
    for sheet in sheets:
        batch.flush_tallies(sheet, "dangerous_house", "{n} 户危房户为“是”但未填危房等级,按 C 级(危房)记录")
        batch.flush_tallies(sheet, "mon_risk", "文件没有“主要风险”:{n} 户监测对象的主要风险按“其他”记录"
                                               "(数据库中已有的风险保持不变),请用“监测对象”表补充")
