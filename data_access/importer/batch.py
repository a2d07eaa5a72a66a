"""One import's state: the problems found, the plan of rows to write, and the places it may refer to.

``Batch`` holds one import: the database connection (read-only here), the region scope the importer
may write in, every problem found (``Problem``), and the ``Plan`` (per table, the desired rows by key,
as ``Record``s with the file rows they came from). ``Sheet`` and ``Row`` are a parsed sheet and one of
its rows (``importer.parse``); ``Places`` finds a region by code or by names. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import repeat

from sqlalchemy import select

from .. import codes, schema
from . import bulk, values as V
from .spec import Header, SheetKind
from ..scope import Scope

ERROR = "错误"
NOTICE = "提示"
CHUNK = 500


@dataclass
class Problem:
    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    reason: str
    level: str = ERROR

    def as_tuple(self):
        return (self.file, self.sheet, self.row, self.column, self.value, self.reason, self.level)


@dataclass(eq=False)
class Row:
    file: int
    sheet: "Sheet"
    number: int
    values: dict
    cells: list
    bad: bool = False

    @property
    def raw(self) -> dict:
        """The cells as written, by field key (built on demand: only messages need them)."""
        width = len(self.cells)
        return {k: (self.cells[c] if c < width else None) for k, c in self.sheet.cols.items()}


@dataclass(eq=False)
class Sheet:
    file: int
    file_name: str
    name: str
    kind: SheetKind
    header: Header
    rows: list[Row] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    headers: dict[str, str] = field(default_factory=dict)  # field key -> header as written
    units: dict[str, str] = field(default_factory=dict)
    cols: dict[str, int] = field(default_factory=dict)  # field key -> column index (first one)


@dataclass
class Record:
    values: dict
    rows: list[Row]
    defaults: dict = field(default_factory=dict)  # used only when the row is new


class Plan:
    """Desired table rows, by table name and key."""

    def __init__(self):
        self.tables: dict[str, dict[tuple, Record]] = defaultdict(dict)
        self.other_causes: dict[str, Record] = {}  # hh_id -> Record(values={"causes": set})
        # Stored rows the builders already read, per table and key value (None: looked up, not stored),
        # so the writer need not read them again.
        self.known: dict[str, dict] = {}

    def put(self, table: str, key: tuple, values: dict, rows: list[Row], defaults: dict | None = None,
            fresh: bool = False) -> None:
        """``fresh``: ``values``, ``rows`` and ``defaults`` are new objects the caller no longer uses, kept
        as they are (not copied) when the key is new."""
        existing = self.tables[table].get(key)
        if existing is None:
            self.tables[table][key] = (Record(values, rows, defaults if defaults is not None else {}) if fresh else
                                       Record(dict(values), list(rows), dict(defaults or {})))
        else:
            existing.values.update(values)
            existing.defaults.update(defaults or {})
            existing.rows.extend(r for r in rows if r not in existing.rows)

    def drop_rows(self, bad: set[int]) -> None:
        """Forget every record that came from a rejected row."""
        if not bad:  # (a valid file: nothing to forget, no pass over every record's rows)
            return
        for _table, records in self.tables.items():
            for key in [k for k, rec in records.items() if any(id(r) in bad for r in rec.rows)]:
                del records[key]
        for key in [k for k, rec in self.other_causes.items() if any(id(r) in bad for r in rec.rows)]:
            del self.other_causes[key]


def cell_text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e15:
        raw = int(raw)
    if isinstance(raw, dt.datetime):
        return raw.strftime("%Y-%m-%d %H:%M") if raw.time() != dt.time(0) else raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    value = str(raw).strip()
    return value if len(value) <= 100 else value[:100] + "…"


class Batch:
    def __init__(self, conn, scope: Scope | None, file_names: list[str], skip_invalid: bool = False,
                 clear_blanks: bool = False):
        self.conn = conn
        self.clear_blanks = clear_blanks  # a blank cell clears the stored value (else it keeps it)
        self.kept_blanks: Counter = Counter()  # (sheet, field key) -> rows whose blank kept the stored value
        self.scope = scope
        self.file_names = file_names
        self.skip_invalid = skip_invalid
        self.problems: list[Problem] = []
        self.plan = Plan()
        self.places = Places(conn)
        self.households: dict[str, dict] = {}  # hh_id -> final household values (file, valid)
        self.rejected_households: set[str] = set()
        self.helpers: dict[str, dict] = {}  # helper_id -> {"name", "unit_name"} from this file
        self._db_households: dict[str, dict | None] = {}
        self._stored_tables: set[str] = set()  # tables stores_any found rows in
        self._notes: dict[tuple, Counter] = defaultdict(Counter)

    # ---- problems ----------------------------------------------------------------------

    def error(self, row: Row, key: str | None, reason: str, value=None, *, header: str | None = None) -> None:
        row.bad = True
        self._add(row, key, reason, value, header, ERROR)

    def notice(self, row: Row, key: str | None, reason: str, value=None) -> None:
        self._add(row, key, reason, value, None, NOTICE)

    def _add(self, row: Row, key, reason, value, header, level) -> None:
        column = header or (row.sheet.headers.get(key, "") if key else "")
        if value is None and key:
            value = row.raw.get(key)
        self.problems.append(Problem(self.file_names[row.file], row.sheet.name, row.number, column,
                                     cell_text(value), reason, level))

    def sheet_notice(self, sheet: Sheet, column: str, reason: str, value: str = "") -> None:
        self.problems.append(Problem(sheet.file_name, sheet.name, None, column, value, reason, NOTICE))

    def tally(self, sheet: Sheet, key: str, label: str) -> None:
        """Count a repeated notice (e.g. a free-text 与户主关系), reported once per sheet and column."""
        self._notes[(id(sheet), key)][label] += 1

    def flush_tallies(self, sheet: Sheet, key: str, reason: str) -> None:
        counts = self._notes.pop((id(sheet), key), None)
        if counts:
            shown = "、".join(f"{v}({n} 行)" for v, n in counts.most_common(12))
            more = " 等" if len(counts) > 12 else ""
            self.sheet_notice(sheet, sheet.headers.get(key, ""), reason.format(n=sum(counts.values())),
                              shown + more)

    def keeps(self, row: Row, key: str, value, old: dict | None, column: str | None = None) -> bool:
        """True when a blank ``value`` must not overwrite the stored record ``old``'s value in ``column``
        (default ``key``); counted for the report. No stored record, or nothing stored there: False."""
        if value not in (None, "", []) or self.clear_blanks or old is None:
            return False
        if old.get(column or key) in (None, "", [], set()):
            return False
        self.kept_blanks[(row.sheet, key)] += 1
        return True

    def report_kept_blanks(self) -> None:
        for (sheet, key), n in self.kept_blanks.items():
            self.sheet_notice(sheet, sheet.headers.get(key, key), (
                f"{n} 行的“{sheet.headers.get(key, key)}”为空:空白单元格保留了数据库中的原值"
                "(如需清空,请选择“空白单元格清空原值”,命令行用 --clear-blanks)"), str(n))

    def in_scope(self, code: str) -> bool:
        return self.scope is None or self.scope.contains(code)

    # ---- database look-ups (chunked, never per row) -------------------------------------

    def fetch(self, table, key_col: str, keys, columns=None) -> list[dict]:
        keys = sorted({k for k in keys if k is not None})
        cols = [table.c[c] for c in columns] if columns else list(table.c)
        names = [c.name for c in cols]
        return list(map(dict, map(zip, repeat(names), bulk.select_in(self.conn, cols, table.c[key_col], keys))))

    def stores_any(self, table) -> bool:
        """False when ``table`` has no row at all (a first import: every look-up in it would find nothing).
        A table found holding rows is not asked again (nothing is deleted while the import checks)."""
        if table.name in self._stored_tables:
            return True
        if self.conn.execute(select(*table.primary_key.columns).limit(1)).first() is None:
            return False
        self._stored_tables.add(table.name)
        return True

    def db_households(self, hh_ids) -> dict[str, dict | None]:
        missing = [h for h in set(hh_ids) if h not in self._db_households]
        if missing:
            for h in missing:
                self._db_households[h] = None
            for row in self.fetch(schema.household, "hh_id", missing) if self.stores_any(schema.household) else ():
                self._db_households[row["hh_id"]] = row
        self.plan.known["household"] = self._db_households
        return {h: self._db_households.get(h) for h in hh_ids}

    def household(self, hh_id: str) -> dict | None:
        """The household after this import (file's valid rows over the database), or None."""
        if hh_id in self.households:
            return self.households[hh_id]
        return self.db_households([hh_id])[hh_id]


# ---- places --------------------------------------------------------------------------------


def place_key(name: str) -> str:
    text = V.squeeze(unicodedata.normalize("NFKC", name or ""))
    for long, short in (("村民委员会", "村"), ("村委会", "村"), ("居民委员会", "社区"), ("居委会", "社区"),
                        ("人民政府", ""), ("办事处", "")):
        if text.endswith(long):
            text = text[: -len(long)] + short
    return text


class Places:
    """Regions of the database plus those of the file, found by code or by names."""

    def __init__(self, conn):
        self.by_code: dict[str, dict] = {}
        self._resolved: dict[tuple, str | None | V.Bad] = {}  # resolve()'s answers; cleared by add()
        self.children: dict[str | None, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        stmt = select(schema.region.c.code, schema.region.c.name, schema.region.c.level,
                      schema.region.c.parent_code)
        for row in conn.execute(stmt).mappings():
            self.add(row["code"], row["name"], row["level"], row["parent_code"])

    def add(self, code: str, name: str, level: str, parent: str | None) -> None:
        self._resolved.clear()
        old = self.by_code.get(code)
        if old:
            names = self.children[old["parent_code"]][place_key(old["name"])]
            if code in names:
                names.remove(code)
        self.by_code[code] = {"code": code, "name": name, "level": level, "parent_code": parent}
        self.children[parent][place_key(name)].append(code)

    def of_level(self, level: str, scope: Scope | None) -> list[str]:
        return [c for c, r in self.by_code.items() if r["level"] == level and (scope is None or scope.contains(c))]

    def resolve(self, code: str | None, county: str | None, town: str | None, village: str | None,
                levels: tuple[str, ...], scope: Scope | None) -> str | None:
        """The region meant by a code and/or names; raises V.Bad when none or several fit."""
        memo = (code, county, town, village, levels, scope.code if scope else None)
        answer = self._resolved.get(memo, self)
        if answer is self:
            try:
                answer = self._resolve(code, county, town, village, levels, scope)
            except V.Bad as exc:
                answer = exc
            self._resolved[memo] = answer
        if isinstance(answer, V.Bad):
            raise V.Bad(str(answer))
        return answer

    def _resolve(self, code, county, town, village, levels, scope) -> str | None:
        if code:
            region = self.by_code.get(code)
            if region is None:
                raise V.Bad(f"区划代码 {code} 在数据库和本次文件的区划表中都不存在")
            if region["level"] not in levels:
                want = "或".join(codes.REGION_LEVEL_LABELS[x] for x in levels)
                raise V.Bad(f"区划代码 {code} 是{codes.REGION_LEVEL_LABELS[region['level']]},此处应为{want}")
            chain = self.chain(code)
            for level, name in (("county", county), ("town", town), ("village", village)):
                if name and level in chain and place_key(chain[level]["name"]) != place_key(name):
                    raise V.Bad(f"区划代码 {code} 对应“{chain[level]['name']}”,与名称“{name}”不符")
            return code
        if not (town or village or county):
            return None
        if village and not town:
            raise V.Bad("只有行政村名称,缺少乡(镇)名称,无法确定地点")
        counties = self.of_level("county", scope)
        if county:
            counties = [c for c in counties if place_key(self.by_code[c]["name"]) == place_key(county)]
            if not counties:
                raise V.Bad(f"找不到县(市、区)“{county}”")
        if not town:
            if "county" not in levels:
                raise V.Bad("缺少乡(镇)名称,无法确定地点")
            if len(counties) != 1:
                raise V.Bad(f"县名称“{county}”对应多个县" if county else "未填地点")
            return counties[0]
        towns = [t for c in counties for t in self.children[c].get(place_key(town), [])]
        if not towns:
            raise V.Bad(f"找不到乡(镇)“{town}”" + (f"(在{county}内)" if county else ""))
        if len(towns) > 1:
            raise V.Bad(f"乡(镇)名称“{town}”在多个县重复,请填写县名称或区划代码")
        if not village:
            if "town" not in levels:
                raise V.Bad("缺少行政村名称,无法确定地点")
            return towns[0]
        villages = self.children[towns[0]].get(place_key(village), [])
        if not villages:
            raise V.Bad(f"在{self.by_code[towns[0]]['name']}找不到行政村“{village}”")
        if len(villages) > 1:
            raise V.Bad(f"{self.by_code[towns[0]]['name']}有多个名为“{village}”的行政村,请填写区划代码")
        if "village" not in levels:
            raise V.Bad("此处应为乡镇或县,不能是行政村")
        return villages[0]

    def chain(self, code: str) -> dict[str, dict]:
        out = {}
        current = code
        for _ in range(6):
            region = self.by_code.get(current)
            if region is None:
                break
            out[region["level"]] = region
            current = region["parent_code"]
            if not current:
                break
        return out


# ---- the stored record's place (a limited importer may not touch another region's records) --------------

HH_KEYED = ("income", "monitoring_object", "monitoring_found", "assignment", "visit", "help_measure", "work_year")
PROJECT_KEYED = ("arrangement", "money_flow")
# Lines hold for a whole province (or the country): a township or village account may not change them.
LINE_LEVELS = ("province", "city", "county")


def refuse_outside_scope(batch: Batch) -> None:
    """Refuse every planned row that touches a record stored (or planned) outside the importer's region.

    The builders check the place a row names; this checks the place the database already holds for the
    record the row would update (a household, person, fund, project …), so a file cannot pull another
    region's records into its own by naming their ids with a place of its own region.
    """
    scope = batch.scope
    if scope is None:
        return
    plan = batch.plan

    def refuse(rec: Record, key: str, what: str, code: str | None) -> None:
        where = f"在数据库中属于 {code}" if code else "在数据库中没有区划"
        for row in rec.rows:
            if not row.bad:
                batch.error(row, key if key in row.sheet.present else None,
                            f"{what}{where},超出本账号可导入的范围({scope.code}),本行未导入",
                            header=None if key in row.sheet.present else row.sheet.headers.get(key, ""))

    def stored(table, key_col, keys, place_col) -> dict:
        return {r[key_col]: r[place_col] for r in batch.fetch(table, key_col, keys, (key_col, place_col))}

    tables = plan.tables
    hh_ids = {k[0] for k in tables.get("household", {})} | set(plan.other_causes)
    for t in HH_KEYED:
        hh_ids |= {rec.values.get("hh_id") for rec in tables.get(t, {}).values()}
    hh_place = stored(schema.household, "hh_id", hh_ids, "village_code")
    for (hh_id,), rec in tables.get("household", {}).items():
        if hh_id in hh_place and not scope.contains(hh_place[hh_id]):
            refuse(rec, "hh_id", f"户编号 {hh_id} 的户", hh_place[hh_id])
    for hh_id, rec in plan.other_causes.items():
        if hh_id in hh_place and not scope.contains(hh_place[hh_id]):
            refuse(rec, "hh_id", f"户编号 {hh_id} 的户", hh_place[hh_id])
    for t in HH_KEYED:
        for rec in tables.get(t, {}).values():
            hh_id = rec.values.get("hh_id")
            if hh_id in hh_place and not scope.contains(hh_place[hh_id]):
                refuse(rec, "hh_id", f"户编号 {hh_id} 的户", hh_place[hh_id])
    person_place = stored(schema.person, "person_id", {k[0] for k in tables.get("person", {})}, "village_code")
    for (pid,), rec in tables.get("person", {}).items():
        if pid in person_place and not scope.contains(person_place[pid]):
            key = "person_id" if any("person_id" in r.sheet.present for r in rec.rows) else "id_number"
            refuse(rec, key, f"此人(人编号 {pid})", person_place[pid])
    fund_place = stored(schema.fund, "fund_id", {k[0] for k in tables.get("fund", {})}, "region_code")
    for (fund_id,), rec in tables.get("fund", {}).items():
        if fund_id in fund_place and not scope.contains(fund_place[fund_id]):
            refuse(rec, "fund_id", f"资金 {fund_id}", fund_place[fund_id])
    project_ids = {k[0] for k in tables.get("project", {})}
    for t in PROJECT_KEYED:
        project_ids |= {rec.values.get("project_id") for rec in tables.get(t, {}).values()}
    project_place = {r["project_id"]: r["region_code"] or r["county_code"] for r in batch.fetch(
        schema.project, "project_id", project_ids, ("project_id", "region_code", "county_code"))}
    for (project_id,), rec in tables.get("project", {}).items():
        if project_id in project_place and not scope.contains(project_place[project_id]):
            refuse(rec, "project_id", f"项目 {project_id}", project_place[project_id])
    planned_project = {k[0]: rec.values.get("region_code") for k, rec in tables.get("project", {}).items()}
    for t in PROJECT_KEYED:
        for rec in tables.get(t, {}).values():
            project_id = rec.values.get("project_id")
            places = [d[project_id] for d in (project_place, planned_project) if project_id in d]
            outside = [code for code in places if not scope.contains(code)]
            if outside:
                refuse(rec, "project_id", f"项目 {project_id}", outside[0])
    _refuse_help_records(batch, refuse)
    for (code, _year), rec in tables.get("exit_target", {}).items():
        if not scope.contains(code):
            refuse(rec, "region_code", "该减贫任务的区划", code)
    for (code, _year), rec in tables.get("village_population", {}).items():
        if not scope.contains(code):
            refuse(rec, "region_code", "该农村户籍人口的行政村", code)
    if scope.level not in LINE_LEVELS:
        for rec in tables.get("poverty_line", {}).values():
            for row in rec.rows:
                if not row.bad:
                    batch.error(row, None, "贫困线/监测线适用于全省或全国,乡镇、村级账号不能导入", "",
                                header=row.sheet.headers.get("year", ""))


def _refuse_help_records(batch: Batch, refuse) -> None:
    """The 帮扶 sheets: a cadre is the town's where the database keeps them (``helper.town_code``).

    A pairing or visit may name only a cadre whose town overlaps the importer's region; changing a cadre's
    own data needs the cadre's town inside the region; a 帮扶单位 whose cadres work outside the region may
    not be renamed or regraded from it.
    """
    scope = batch.scope
    tables = batch.plan.tables

    def overlaps(code: str | None) -> bool:
        return bool(code) and (scope.contains(code) or scope.code.startswith(Scope.of(code).prefix))

    helper_ids = {k[0] for k in tables.get("helper", {})}
    for t in ("assignment", "visit"):
        helper_ids |= {rec.values.get("helper_id") for rec in tables.get(t, {}).values()}
    stored = {r["helper_id"]: r for r in batch.fetch(schema.helper, "helper_id", helper_ids)}
    for (helper_id,), rec in tables.get("helper", {}).items():
        old = stored.get(helper_id)
        if old is None:
            continue
        changes = any(k in old and old[k] != v for k, v in rec.values.items())
        if not overlaps(old["town_code"]) or changes and not scope.contains(old["town_code"]):
            refuse(rec, "helper_id", f"帮扶责任人 {helper_id}", old["town_code"])
    for t in ("assignment", "visit"):
        for rec in tables.get(t, {}).values():
            old = stored.get(rec.values.get("helper_id"))
            if old is not None and not overlaps(old["town_code"]):
                refuse(rec, "helper_id", f"帮扶责任人 {old['helper_id']}", old["town_code"])
    planned_units = {k[0] for k in tables.get("help_unit", {})}
    units = {r["unit_id"]: r for r in batch.fetch(schema.help_unit, "unit_id", planned_units)}
    changed = {u for (u,), rec in tables.get("help_unit", {}).items()
               if u in units and any(k in units[u] and units[u][k] != v for k, v in rec.values.items())}
    towns: dict[str, set] = {}
    for r in batch.fetch(schema.helper, "unit_id", changed, ("unit_id", "town_code")):
        towns.setdefault(r["unit_id"], set()).add(r["town_code"])
    for unit_id in changed:
        outside = sorted(t or "" for t in towns.get(unit_id, ()) if not scope.contains(t))
        if outside:
            refuse(tables["help_unit"][(unit_id,)], "unit_id",
                   f"帮扶单位 {unit_id}(其帮扶责任人也在其他区划,不能在此修改名称或级别)", outside[0] or None)
