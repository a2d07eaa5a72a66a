"""From parsed sheets to the rows to write: validation across rows, sheets and the database.

``Batch`` holds one import: the database connection (read-only here), the
region scope the importer may write in, every problem found, and the
``Plan`` (per table, the desired rows by key with the file rows they came
from). Builders run in dependency order (places before households before
incomes...), so a reference is checked against the file's valid rows and the
database. Nothing here writes; see ``importer.write_plan``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from .. import codes, schema
from ..rules import id_birth_date
from . import values as V
from .spec import Header, SheetKind
from ..scope import Scope, ScopeError, level_of_code

ERROR = "错误"
NOTICE = "提示"
CHUNK = 500

REGISTERED = codes.HOUSEHOLD_KIND_REGISTERED
MONITORED = codes.HOUSEHOLD_KIND_MONITORING


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

    def put(self, table: str, key: tuple, values: dict, rows: list[Row], defaults: dict | None = None) -> None:
        existing = self.tables[table].get(key)
        if existing is None:
            self.tables[table][key] = Record(dict(values), list(rows), dict(defaults or {}))
        else:
            existing.values.update(values)
            existing.defaults.update(defaults or {})
            existing.rows.extend(r for r in rows if r not in existing.rows)

    def drop_rows(self, bad: set[int]) -> None:
        """Forget every record that came from a rejected row."""
        for table, records in self.tables.items():
            for key in [k for k, rec in records.items() if any(id(r) in bad for r in rec.rows)]:
                del records[key]
        for key in [k for k, rec in self.other_causes.items() if any(id(r) in bad for r in rec.rows)]:
            del self.other_causes[key]


def _text(raw) -> str:
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
    def __init__(self, conn, scope: Scope | None, file_names: list[str], skip_invalid: bool = False):
        self.conn = conn
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
                                     _text(value), reason, level))

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

    def in_scope(self, code: str) -> bool:
        return self.scope is None or self.scope.contains(code)

    # ---- database look-ups (chunked, never per row) -------------------------------------

    def fetch(self, table, key_col: str, keys, columns=None) -> list[dict]:
        keys = sorted({k for k in keys if k is not None})
        cols = [table.c[c] for c in columns] if columns else list(table.c)
        out: list[dict] = []
        names = [c.name for c in cols]
        for i in range(0, len(keys), CHUNK):
            part = keys[i:i + CHUNK]
            stmt = select(*cols).where(table.c[key_col].in_(part))
            out.extend(dict(zip(names, r)) for r in self.conn.execute(stmt).all())
        return out

    def db_households(self, hh_ids) -> dict[str, dict | None]:
        missing = [h for h in set(hh_ids) if h not in self._db_households]
        if missing:
            for h in missing:
                self._db_households[h] = None
            for row in self.fetch(schema.household, "hh_id", missing):
                self._db_households[row["hh_id"]] = row
        return {h: self._db_households.get(h) for h in hh_ids}

    def household(self, hh_id: str) -> dict | None:
        """The household after this import (file's valid rows over the database), or None."""
        if hh_id in self.households:
            return self.households[hh_id]
        return self.db_households([hh_id])[hh_id]


# ---- places --------------------------------------------------------------------------------


def _place_key(name: str) -> str:
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
        self.children: dict[str | None, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        stmt = select(schema.region.c.code, schema.region.c.name, schema.region.c.level,
                      schema.region.c.parent_code)
        for row in conn.execute(stmt).mappings():
            self.add(row["code"], row["name"], row["level"], row["parent_code"])

    def add(self, code: str, name: str, level: str, parent: str | None) -> None:
        old = self.by_code.get(code)
        if old:
            names = self.children[old["parent_code"]][_place_key(old["name"])]
            if code in names:
                names.remove(code)
        self.by_code[code] = {"code": code, "name": name, "level": level, "parent_code": parent}
        self.children[parent][_place_key(name)].append(code)

    def of_level(self, level: str, scope: Scope | None) -> list[str]:
        return [c for c, r in self.by_code.items() if r["level"] == level and (scope is None or scope.contains(c))]

    def resolve(self, code: str | None, county: str | None, town: str | None, village: str | None,
                levels: tuple[str, ...], scope: Scope | None) -> str | None:
        """The region meant by a code and/or names; raises V.Bad when none or several fit."""
        if code:
            region = self.by_code.get(code)
            if region is None:
                raise V.Bad(f"区划代码 {code} 在数据库和本次文件的区划表中都不存在")
            if region["level"] not in levels:
                want = "或".join(codes.REGION_LEVEL_LABELS[x] for x in levels)
                raise V.Bad(f"区划代码 {code} 是{codes.REGION_LEVEL_LABELS[region['level']]},此处应为{want}")
            chain = self.chain(code)
            for level, name in (("county", county), ("town", town), ("village", village)):
                if name and level in chain and _place_key(chain[level]["name"]) != _place_key(name):
                    raise V.Bad(f"区划代码 {code} 对应“{chain[level]['name']}”,与名称“{name}”不符")
            return code
        if not (town or village or county):
            return None
        if village and not town:
            raise V.Bad("只有行政村名称,缺少乡(镇)名称,无法确定地点")
        counties = self.of_level("county", scope)
        if county:
            counties = [c for c in counties if _place_key(self.by_code[c]["name"]) == _place_key(county)]
            if not counties:
                raise V.Bad(f"找不到县(市、区)“{county}”")
        if not town:
            if "county" not in levels:
                raise V.Bad("缺少乡(镇)名称,无法确定地点")
            if len(counties) != 1:
                raise V.Bad(f"县名称“{county}”对应多个县" if county else "未填地点")
            return counties[0]
        towns = [t for c in counties for t in self.children[c].get(_place_key(town), [])]
        if not towns:
            raise V.Bad(f"找不到乡(镇)“{town}”" + (f"(在{county}内)" if county else ""))
        if len(towns) > 1:
            raise V.Bad(f"乡(镇)名称“{town}”在多个县重复,请填写县名称或区划代码")
        if not village:
            if "town" not in levels:
                raise V.Bad("缺少行政村名称,无法确定地点")
            return towns[0]
        villages = self.children[towns[0]].get(_place_key(village), [])
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


def derived_parent(code: str) -> str | None:
    level = level_of_code(code)
    return {
        "village": code[:9] + "000",
        "town": code[:6] + "000000",
        "county": code[:4] + "00000000",
        "city": code[:2] + "0000000000",
        "province": None,
    }[level]


def county_of(code: str) -> str:
    return code[:6] + "000000"


def town_of(code: str) -> str:
    return code[:9] + "000"


LEVEL_WORDS = {
    "省": "province", "自治区": "province", "直辖市": "province",
    "市": "city", "地区": "city", "州": "city", "盟": "city", "地级市": "city",
    "县": "county", "区": "county", "县(区)": "county", "县级市": "county", "旗": "county", "县(市、区)": "county",
    "县(市、区、旗)": "county",
    "乡镇": "town", "乡": "town", "镇": "town", "街道": "town", "乡(镇)": "town", "乡镇(街道)": "town", "苏木": "town",
    "行政村": "village", "村": "village", "社区": "village", "居委会": "village", "村委会": "village",
    "村(居)委会": "village", "行政村(社区)": "village",
}
for _level, _label in codes.REGION_LEVEL_LABELS.items():
    LEVEL_WORDS[_label] = _level
    LEVEL_WORDS[_level] = _level


# ---- reading rows -------------------------------------------------------------------------


def _raw(raw, f):
    return None if V.is_empty(raw) else V.squeeze(V.clean(raw))


PARSERS = {
    "text": lambda raw, f, unit: V.text(raw, f.max_len),
    "id": lambda raw, f, unit: V.identifier(raw, f.max_len),
    "idnum": lambda raw, f, unit: None if V.is_empty(raw) else raw,  # checked with 证件类型 in build_persons
    "region": lambda raw, f, unit: V.region_code(raw),
    "phone": lambda raw, f, unit: V.phone(raw),
    "int": lambda raw, f, unit: V.integer(raw, f.lo, f.hi),
    "float": lambda raw, f, unit: V.decimal_number(raw, f.lo, f.hi),
    "money": lambda raw, f, unit: V.money(raw, unit or "元", lo=f.lo if f.lo is not None else 0),
    "date": lambda raw, f, unit: V.date(raw),
    "year": lambda raw, f, unit: V.year(raw),
    "bool": lambda raw, f, unit: V.boolean(raw),
    "code": lambda raw, f, unit: V.code(raw, f.allowed, f.what),
    "codes": lambda raw, f, unit: V.codes_list(raw, f.allowed, f.what),
    "raw": lambda raw, f, unit: _raw(raw, f),
}


SUM_WORDS = ("合计", "总计", "小计", "累计", "汇总")
FOOTER_WORDS = ("注", "说明", "备注", "制表", "填表", "审核", "负责人", "单位负责人", "填报", "统计人")


def _first_text(cells: list) -> str | None:
    for c in cells:
        if c is not None:
            text = V.squeeze(V.clean(c))
            if text:
                return text
    return None


def _skip(cells: list, header_texts: list[str]) -> bool:
    """Empty rows, 合计 rows, footnotes and the header repeated (page breaks in printed exports)."""
    first = _first_text(cells)
    if first is None:
        return True
    if first.startswith(SUM_WORDS):
        return True
    if first.startswith(FOOTER_WORDS) and sum(1 for c in cells if c is not None and V.clean(c)) == 1:
        return True
    if header_texts and first == header_texts[0]:
        return [V.squeeze(V.clean(c)) for c in cells if c is not None and V.clean(c)] == header_texts
    return False


def parse_sheet(batch: Batch, file_index: int, file_name: str, name: str, rows: list[tuple[int, list]],
                header: Header) -> Sheet:
    sheet = Sheet(file_index, file_name, name, header.kind, header)
    kind = header.kind
    for col, key, unit, text in header.columns:
        sheet.present.add(key)
        sheet.headers.setdefault(key, text)
        f = kind.field(key)
        if f.kind == "money":
            if unit in ("万元", "元"):
                sheet.units[key] = unit
            elif header.sheet_unit:
                sheet.units[key] = header.sheet_unit
            else:
                sheet.units[key] = "元"
                batch.sheet_notice(sheet, text, "表头未注明金额单位,按“元”读取(如为万元,请把表头写成“金额(万元)”)")
    for text in header.unknown:
        batch.sheet_notice(sheet, text, "未识别的列,已忽略")
    for text, target in header.duplicates:
        batch.sheet_notice(sheet, text, f"与前面的“{target}”列重复,已忽略此列")
    missing = [f.header for f in kind.fields if f.required and f.key not in sheet.present]
    if missing:
        batch.problems.append(Problem(file_name, name, rows[header.row_index][0],
                                      "、".join(missing), "", "缺少必需的列:" + "、".join(missing), ERROR))
        sheet.rows = []
        sheet.missing_columns = True  # type: ignore[attr-defined]
        return sheet
    header_texts = [V.squeeze(V.clean(c)) for c in rows[header.row_index][1] if c is not None and V.clean(c)]
    specs = []
    for col, key, _, _ in header.columns:
        f = kind.field(key)
        sheet.cols.setdefault(key, col)
        cache = {} if f.kind in CACHED_KINDS else None
        specs.append((col, key, PARSERS[f.kind], f, sheet.units.get(key), cache, f.kind == "codes"))
    required = [kind.field(k) for k in sheet.present if kind.field(k).required]
    for number, cells in rows[header.row_index + 1:]:
        if _skip(cells, header_texts):
            continue
        values: dict = {}
        row = Row(file_index, sheet, number, values, cells)
        width = len(cells)
        for col, key, parser, f, unit, cache, multi in specs:
            raw = cells[col] if col < width else None
            if raw is None:
                value = [] if multi else None
            elif cache is not None and type(raw) is not bool:
                value = cache.get(raw, _MISS)
                if value is _MISS:
                    try:
                        value = parser(raw, f, unit)
                    except V.Bad as exc:
                        value = _Failed(str(exc))
                    cache[raw] = value
            else:
                try:
                    value = parser(raw, f, unit)
                except V.Bad as exc:
                    value = _Failed(str(exc))
            if type(value) is _Failed:
                batch.error(row, key, value.reason, raw, header=header_text(sheet, col))
                value = [] if multi else None
            if multi and key in values:  # several columns feed one list
                values[key] = values[key] + [c for c in value if c not in values[key]]
            else:
                values[key] = list(value) if multi else value
        for f in required:
            if values.get(f.key) in (None, []) and V.is_empty(cells[sheet.cols[f.key]]
                                                               if sheet.cols[f.key] < width else None):
                batch.error(row, f.key, f"“{f.header}”为必填项,不能为空", "")
        sheet.rows.append(row)
    return sheet


CACHED_KINDS = ("text", "code", "codes", "bool", "year", "date", "int", "float", "money", "region", "raw")
_MISS = object()


class _Failed:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


def header_text(sheet: Sheet, col: int) -> str:
    return next((text for c, _, _, text in sheet.header.columns if c == col), "")


# ---- helpers shared by the builders ------------------------------------------------------------


def duplicates(batch: Batch, rows: list[Row], key_fn, what: str) -> None:
    """Flag rows whose key repeats an earlier row of the batch."""
    first: dict = {}
    for row in rows:
        if row.bad:
            continue
        key = key_fn(row)
        if key is None:
            continue
        if key in first:
            other = first[key]
            where = f"第 {other.number} 行" if other.sheet is row.sheet else \
                f"{batch.file_names[other.file]}“{other.sheet.name}”第 {other.number} 行"
            batch.error(row, None, f"与{where}重复(同一{what})", "、".join(str(k) for k in key if k is not None)
                        if isinstance(key, tuple) else key)
        else:
            first[key] = row


def provided(row: Row, keys) -> dict:
    """Values of the columns the row's sheet has (an empty cell there means NULL)."""
    return {k: row.values.get(k) for k in keys if k in row.sheet.present}


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def place_of(batch: Batch, row: Row, levels: tuple[str, ...], required: bool = True) -> str | None:
    v = row.values
    if not any(k in row.sheet.present for k in ("region_code", "county_name", "town_name", "village_name")):
        return None
    try:
        code = batch.places.resolve(v.get("region_code"), v.get("county_name"), v.get("town_name"),
                                    v.get("village_name"), levels, batch.scope)
    except V.Bad as exc:
        key = "region_code" if v.get("region_code") else ("village_name" if v.get("village_name") else "town_name")
        batch.error(row, key, str(exc))
        return None
    if code is None and required:
        batch.error(row, "region_code" if "region_code" in row.sheet.present else "town_name", "地点为空", "")
        return None
    if code is not None and not batch.in_scope(code):
        batch.error(row, "region_code" if v.get("region_code") else "village_name",
                    f"地点 {code} 超出本账号可导入的范围({batch.scope.code})", code)
        return None
    return code


def stable_id(prefix: str, *parts) -> str:
    digest = hashlib.sha1("|".join(str(p or "") for p in parts).encode("utf-8")).hexdigest()[:16].upper()
    return f"{prefix}{digest}"


# ---- 区划 ----------------------------------------------------------------------------------------------


def build_places(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    duplicates(batch, rows, lambda r: r.values.get("code"), "区划代码")
    pending = []
    for row in rows:
        v = row.values
        code = v.get("code")
        if row.bad or not code:
            continue
        try:
            level = level_of_code(code)
        except ScopeError as exc:
            batch.error(row, "code", str(exc))
            continue
        if v.get("level"):
            given = LEVEL_WORDS.get(v["level"])
            if given is None:
                batch.error(row, "level", "级别应为 省/市/县/乡镇/行政村")
                continue
            if given != level:
                batch.error(row, "level", f"级别与代码不符:代码 {code} 表示{codes.REGION_LEVEL_LABELS[level]}")
                continue
        parent = derived_parent(code)
        if v.get("parent_code") and v["parent_code"] != parent:
            batch.error(row, "parent_code", f"上级区划代码与代码不符:{code} 的上级应为 {parent}")
            continue
        if not batch.in_scope(code):
            batch.error(row, "code", f"区划 {code} 超出本账号可导入的范围({batch.scope.code})")
            continue
        if level != "village" and v.get("is_poor_village"):
            batch.error(row, "is_poor_village", "只有行政村可以是贫困村")
            continue
        poor = v.get("is_poor_village")
        if v.get("exit_year") is not None and poor is False:
            batch.error(row, "exit_year", "非贫困村不应有出列年度")
            continue
        pending.append((row, code, level, parent))
    # Parents may come later in the file: register every valid region first, then check parents.
    for row, code, level, parent in pending:
        batch.places.add(code, row.values["name"], level, parent)
    for row, code, level, parent in pending:
        if level in ("town", "village") and parent not in batch.places.by_code:
            batch.error(row, "code", f"上级区划 {parent} 在数据库和本文件中都不存在")
            continue
        values = {"code": code, "name": row.values["name"], "level": level, "parent_code": parent}
        values |= provided(row, ("rural_population", "lon", "lat"))
        if "is_poor_village" in row.sheet.present:
            values["is_poor_village"] = bool(row.values.get("is_poor_village"))
        if "exit_year" in row.sheet.present:
            values["poor_village_exit_year"] = row.values.get("exit_year")
        batch.plan.put("region", (code,), values, [row])
    # Rejected rows must not serve as places for later sheets.
    for row, code, _, _ in pending:
        if row.bad:
            batch.places.by_code.pop(code, None)


# ---- 年度减贫任务 and lines ------------------------------------------------------------------------


def build_targets(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    for row in rows:
        if row.bad:
            continue
        code = place_of(batch, row, ("county", "town"))
        if code:
            row.values["_code"] = code
    duplicates(batch, rows, lambda r: (r.values.get("_code"), r.values.get("year"))
               if r.values.get("_code") else None, "地区和年度")
    for row in rows:
        if row.bad or not row.values.get("_code"):
            continue
        values = {"region_code": row.values["_code"], "year": row.values["year"]}
        values |= provided(row, ("households", "persons", "villages"))
        batch.plan.put("exit_target", (values["region_code"], values["year"]), values, [row])


def build_lines(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    provinces = {_place_key(r["name"]): c[:2] for c, r in batch.places.by_code.items() if r["level"] == "province"}
    for row in rows:
        if row.bad:
            continue
        province = row.values.get("province") or ""
        if province in ("全国", "国家"):
            province = ""
        if province and not re.fullmatch(r"\d{2}", province):
            if re.fullmatch(r"\d{12}", province):
                province = province[:2]
            elif _place_key(province) in provinces:
                province = provinces[_place_key(province)]
            else:
                batch.error(row, "province", "省份应填省级区划代码的前两位(如 52),或数据库中已有的省名称")
                continue
        row.values["_province"] = province
    duplicates(batch, rows, lambda r: (r.values.get("year"), r.values.get("line_kind"), r.values.get("_province")),
               "年度、类别与省份")
    for row in rows:
        if row.bad:
            continue
        values = {"year": row.values["year"], "kind": row.values["line_kind"], "province": row.values["_province"],
                  "amount": row.values["amount"]}
        values |= provided(row, ("source",))
        if "verified" in row.sheet.present:
            values["verified"] = bool(row.values.get("verified"))
        batch.plan.put("poverty_line", (values["year"], values["kind"], values["province"]), values, [row])


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
                  "serious_illness_insurance", "phone")

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


def _household_value(rows: list[Row], key: str, batch: Batch, head: Row | None) -> object:
    """The household field agreed by all rows (blank rows ignored); flags rows that disagree."""
    ordered = ([head] if head else []) + [r for r in rows if r is not head]
    values = [r.values.get(key) for r in ordered]
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
            batch.error(row, key, f"同一户各行的“{row.sheet.headers.get(key, key)}”不一致:本行为“{_text(row.raw.get(key))}”,"
                                  f"第 {source.number} 行为“{_text(source.raw.get(key))}”")
    return chosen


def build_persons(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    for sheet in sheets:
        for key, what in (("income_per_capita", "人均纯收入"), ("person_identified", "人员识别时间")):
            if key in sheet.present:
                batch.sheet_notice(sheet, sheet.headers[key], f"“{what}”列未导入:" + (
                    "收入请用“收入”表导入(需有年度与各项收入)" if key == "income_per_capita" else "库中无此字段"))
    # -- person-level values
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
        relation, free = _relation(v.get("relation"))
        if free:
            batch.tally(row.sheet, "relation", v.get("relation"))
        v["relation"] = relation
        number = v.get("id_number")
        if number and id_type in ID_CARD_TYPES and len(number) == 18:
            birth, sex = id_birth_date(number), V.id_sex(number)
            if v.get("sex") and v["sex"] != sex:
                batch.error(row, "sex", f"性别与证件号码不符(证件号码第 17 位表示{sex})")
            if v.get("birth_date") and v["birth_date"] != birth:
                batch.error(row, "birth_date", f"出生日期与证件号码不符(证件号码中为 {birth.isoformat()})")
            v.setdefault("sex", None)
            v["sex"] = v["sex"] or sex
            v["birth_date"] = v.get("birth_date") or birth
            v["_derived"] = True
        if not v.get("person_id") and not number and not row.bad:
            batch.error(row, "id_number" if "id_number" in row.sheet.present else "person_id",
                        "人编号与证件号码都为空,无法识别此人", "")
    for sheet in sheets:
        batch.flush_tallies(sheet, "relation", "与户主关系中有 {n} 行不是标准称谓,已记为“其他”")
    duplicates(batch, rows, lambda r: r.values.get("person_id"), "人编号")
    duplicates(batch, rows, lambda r: r.values.get("id_number"), "证件号码")

    # -- database state of the people and households mentioned
    hh_ids = {r.values.get("hh_id") for r in rows if r.values.get("hh_id")}
    db_hh = batch.db_households(hh_ids)
    by_pid = {p["person_id"]: p for p in batch.fetch(
        schema.person, "person_id", {r.values.get("person_id") for r in rows}, ("person_id", "hh_id", "id_number"))}
    by_idn = {p["id_number"]: p for p in batch.fetch(
        schema.person, "id_number", {r.values.get("id_number") for r in rows}, ("person_id", "hh_id", "id_number"))}
    for row in rows:
        v = row.values
        if row.bad:
            continue
        known = by_idn.get(v.get("id_number")) if v.get("id_number") else None
        if v.get("person_id"):
            if known and known["person_id"] != v["person_id"]:
                batch.error(row, "id_number", f"该证件号码在数据库中属于另一人(人编号 {known['person_id']},"
                                              f"户编号 {known['hh_id']})")
                continue
            v["_pid"] = v["person_id"]
        else:
            v["_pid"] = known["person_id"] if known else v["id_number"]
    # Members already in the database for these households, and moves between households.
    db_members: dict[str, set[str]] = defaultdict(set)
    for p in batch.fetch(schema.person, "hh_id", hh_ids, ("person_id", "hh_id")):
        db_members[p["hh_id"]].add(p["person_id"])
    extra_pids = {r.values.get("_pid") for r in rows if r.values.get("_pid")} - set(by_pid)
    for p in batch.fetch(schema.person, "person_id", extra_pids, ("person_id", "hh_id", "id_number")):
        by_pid[p["person_id"]] = p

    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.values.get("hh_id"):
            groups[row.values["hh_id"]].append(row)

    finals: dict[str, dict] = {}
    for hh_id, members in groups.items():
        final = _build_household(batch, hh_id, members, db_hh.get(hh_id))
        if final is not None:
            finals[hh_id] = final

    # member_count = the household's person rows after the import (moves included)
    file_members: dict[str, set[str]] = defaultdict(set)
    moved_out: dict[str, set[str]] = defaultdict(set)
    for hh_id, members in groups.items():
        for row in members:
            pid = row.values.get("_pid")
            if not pid or row.bad:
                continue
            file_members[hh_id].add(pid)
            old = by_pid.get(pid)
            if old and old["hh_id"] != hh_id:
                moved_out[old["hh_id"]].add(pid)
    for hh_id, final in finals.items():
        members = groups[hh_id]
        if any(r.bad for r in members):
            continue
        total = len((db_members[hh_id] - moved_out[hh_id]) | file_members[hh_id])
        given = final.pop("_given_count", None)
        if given is not None and given != total:
            kept = len(db_members[hh_id] - moved_out[hh_id] - file_members[hh_id])
            detail = f"文件中该户 {len(file_members[hh_id])} 行" + (f",数据库中另有 {kept} 人未列在文件中(不会被删除)"
                                                               if kept else "")
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
    for hh_id, final in finals.items():
        members = groups[hh_id]
        batch.households[hh_id] = final
        columns = final.pop("_columns")
        values = {k: final[k] for k in columns} | {"hh_id": hh_id, "member_count": final["member_count"]}
        batch.plan.put("household", (hh_id,), values, members, {"relocated": False})
        causes = final.pop("_other_causes", None)
        if causes is not None:
            batch.plan.other_causes[hh_id] = Record({"causes": causes}, members)
        mon = final.pop("_monitoring", None)
        if mon is not None:
            defaults = {"main_risk": mon.pop("_default_risk")} if "_default_risk" in mon else {}
            mon["persons"] = final["member_count"]
            batch.plan.put("monitoring_object", (hh_id, mon["identified_date"]), mon, members, defaults)
        for row in members:
            pv = row.values
            person = {k: pv.get(k) for k in PERSON_COLUMNS if k in row.sheet.present or
                      (k in ("sex", "birth_date") and pv.get("_derived"))}
            if "birth_date" in person:
                person["birth_year"] = person["birth_date"].year if person["birth_date"] else None
            person |= {"person_id": pv["_pid"], "hh_id": hh_id, "village_code": final["village_code"]}
            batch.plan.put("person", (pv["_pid"],), person, [row])
    # Households outside the file that lose members to a move keep a true member_count.
    moved_rows: dict[str, list[Row]] = defaultdict(list)
    for hh_id in finals:
        for row in groups[hh_id]:
            old = by_pid.get(row.values.get("_pid"))
            if old and old["hh_id"] != hh_id and old["hh_id"] not in groups:
                moved_rows[old["hh_id"]].append(row)
    if moved_rows:
        remaining: dict[str, int] = Counter()
        leaving = {r.values["_pid"] for rs in moved_rows.values() for r in rs}
        for p in batch.fetch(schema.person, "hh_id", moved_rows, ("person_id", "hh_id")):
            if p["person_id"] not in leaving:
                remaining[p["hh_id"]] += 1
        for hh_id, rs in moved_rows.items():
            batch.plan.put("household", (hh_id,), {"hh_id": hh_id, "member_count": remaining[hh_id]}, rs)


def _build_household(batch: Batch, hh_id: str, members: list[Row], db: dict | None) -> dict | None:
    sheet = members[0].sheet
    present = set().union(*(r.sheet.present for r in members))
    heads = [r for r in members if r.values.get("relation") == "户主"]
    for extra in heads[1:]:
        batch.error(extra, "relation", f"一户只能有一个户主(第 {heads[0].number} 行也是户主)")
    head = heads[0] if heads else None
    hv = {key: _household_value(members, key, batch, head) for key in HOUSEHOLD_KEYS if key in present}
    if any(r.bad for r in members):
        return None
    first = head or members[0]

    final: dict = dict(db) if db else {}
    columns: set[str] = set()

    def put(column, value):
        final[column] = value
        columns.add(column)

    # place
    if any(k in present for k in ("region_code", "county_name", "town_name", "village_name")):
        code = place_of(batch, first, ("village",), required=db is None)
        if first.bad:
            return None
        if code:
            put("village_code", code)
            put("town_code", town_of(code))
            put("county_code", county_of(code))
    if not final.get("village_code"):
        batch.error(first, "region_code" if "region_code" in present else "village_name",
                    "新户缺少地点(区划代码,或 乡(镇)+行政村 名称)", "")
        return None
    if db and not batch.in_scope(final["village_code"]):
        batch.error(first, "hh_id", f"该户在数据库中属于 {final['village_code']},超出本账号可导入的范围")
        return None
    for key in ("natural_village", "attribute", "standard", "main_cause", "identified_year", "exit_year",
                "returned_year", "relocated", "relocation_year", "relocation_site", "safe_water", "food_clothing_ok"):
        if key in present:
            put(key, hv.get(key))
    if "relocated" in columns:
        final["relocated"] = bool(final["relocated"])
    if "hh_phone" in present:
        put("phone", hv.get("hh_phone"))
    # head of household
    head_name = hv.get("head_name")
    if head and head_name and V.squeeze(head.values.get("name") or "") != V.squeeze(head_name):
        batch.error(head, "head_name", f"户主姓名“{head_name}”与户主行的姓名“{head.values.get('name')}”不一致")
        return None
    name = head_name or (head.values.get("name") if head else None)
    if name:
        put("head_name", name)
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
        put("kind", spec[0])
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
        put("kind", REGISTERED)
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
        put("status", status)
        if policy_given is not None:
            if status != codes.STATUS_EXITED:
                batch.error(first, "policy_status", "只有已脱贫户才有“享受政策”情况")
                return None
            put("policy_status", policy_given)
        elif status != codes.STATUS_EXITED and final.get("policy_status"):
            put("policy_status", None)
    else:
        if status_given in (codes.STATUS_EXITED, codes.STATUS_RETURNED) or ey or ry:
            batch.error(first, "hh_type", "一般农户(非建档立卡户)不应有脱贫或返贫信息")
            return None
        put("status", None)
        if final.get("policy_status"):
            put("policy_status", None)
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
        put("house_grade", grade)
    # other causes
    if "other_causes" in present:
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


def finish_persons(batch: Batch, sheets: list[Sheet]) -> None:
    for sheet in sheets:
        batch.flush_tallies(sheet, "dangerous_house", "{n} 户危房户为“是”但未填危房等级,按 C 级(危房)记录")
        batch.flush_tallies(sheet, "mon_risk", "文件没有“主要风险”:{n} 户监测对象的主要风险按“其他”记录"
                                               "(数据库中已有的风险保持不变),请用“监测对象”表补充")


# ---- sheets that refer to households ---------------------------------------------------------------


def household_for(batch: Batch, row: Row) -> dict | None:
    hh_id = row.values.get("hh_id")
    if not hh_id:
        return None
    hh = batch.household(hh_id)
    if hh is None:
        reason = (f"户编号 {hh_id} 的人员行有错误未导入,数据库中也没有此户" if hh_id in batch.rejected_households
                  else f"户编号 {hh_id} 在数据库和本次文件中都不存在")
        batch.error(row, "hh_id", reason)
        return None
    if not batch.in_scope(hh["village_code"]):
        batch.error(row, "hh_id", f"该户属于 {hh['village_code']},超出本账号可导入的范围")
        return None
    return hh


INCOME_MONEY = ("wage", "business_income", "business_cost", "property_income", "transfer_income", "transfer_excluded")


def build_incomes(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    hh_ids = {r.values.get("hh_id") for r in rows}
    batch.db_households(hh_ids)
    duplicates(batch, rows, lambda r: (r.values.get("hh_id"), r.values.get("year")), "户编号和年度")
    existing = {(r["hh_id"], r["year"]): r for r in batch.fetch(schema.income, "hh_id", hh_ids)}
    for sheet in sheets:
        absent = [sheet.kind.field(k).header for k in INCOME_MONEY if k not in sheet.present]
        if absent:
            batch.sheet_notice(sheet, "、".join(absent), "文件没有这些收入列:新增的收入记录按 0 元计,已有记录保持不变")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        key = (v["hh_id"], v["year"])
        db = existing.get(key) or {}
        members = v.get("members") if v.get("members") is not None else (db.get("members") or hh["member_count"])
        if not members:
            batch.error(row, "members", "家庭人口数为 0,无法计算人均纯收入", "")
            continue
        parts = {k: (v.get(k) or 0) if k in row.sheet.present else (db.get(k) or 0) for k in INCOME_MONEY}
        net = (parts["wage"] + parts["business_income"] - parts["business_cost"] + parts["property_income"]
               + parts["transfer_income"]) / members
        given = v.get("per_capita_net")
        if given is not None and abs(given - net) > 1:
            batch.error(row, "per_capita_net", f"年人均纯收入与各项收入不符:按各项收入计算为 {net:,.2f} 元"
                                               f"((工资性+生产经营性−生产经营性支出+财产性+转移性)÷{members} 人)")
            continue
        values = {"hh_id": v["hh_id"], "year": v["year"], "members": members, "per_capita_net": net}
        values |= {k: parts[k] for k in INCOME_MONEY if k in row.sheet.present}
        batch.plan.put("income", key, values, [row], {k: 0 for k in INCOME_MONEY})


def _removal(batch: Batch, row: Row, ident, removed, removed_date) -> bool:
    if removed is True and removed_date is None:
        batch.error(row, "mon_removed", "风险已消除,但没有风险消除时间")
        return False
    if removed is False and removed_date is not None:
        batch.error(row, "mon_removed_date", "风险未消除,却填了风险消除时间")
        return False
    if removed_date is not None and ident is not None and removed_date < ident:
        batch.error(row, "mon_removed_date", f"风险消除时间早于识别时间 {ident.isoformat()}")
        return False
    return True


def build_monitoring(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    batch.db_households({r.values.get("hh_id") for r in rows})
    duplicates(batch, rows, lambda r: (r.values.get("hh_id"), r.values.get("mon_identified")), "户编号和识别时间")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        if not _removal(batch, row, v["mon_identified"], v.get("mon_removed"), v.get("mon_removed_date")):
            continue
        values = {"hh_id": v["hh_id"], "village_code": hh["village_code"], "kind": v["mon_kind"],
                  "main_risk": v["mon_risk"], "identified_date": v["mon_identified"]}
        if "mon_removed_date" in row.sheet.present or "mon_removed" in row.sheet.present:
            values["removed_date"] = v.get("mon_removed_date")
        if v.get("persons") is not None:
            values["persons"] = v["persons"]
        batch.plan.put("monitoring_object", (v["hh_id"], v["mon_identified"]), values, [row],
                       {"persons": hh["member_count"]})


def build_helpers(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    batch.db_households({r.values.get("hh_id") for r in rows})
    units = list(batch.conn.execute(select(schema.help_unit)).mappings())
    unit_by_name = defaultdict(list)
    for u in units:
        unit_by_name[V.squeeze(u["name"])].append(u["unit_id"])
    db_helpers = batch.fetch(schema.helper, "name", {r.values.get("helper_name") for r in rows})
    helper_by_name = defaultdict(list)
    for h in db_helpers:
        helper_by_name[(V.squeeze(h["name"]), h["unit_id"])].append(h["helper_id"])
    seen_units: dict[str, Row] = {}
    seen_helpers: dict[str, Row] = {}
    for row in rows:
        if row.bad:
            continue
        v = row.values
        unit_id = v.get("unit_id")
        if not unit_id:
            found = unit_by_name.get(V.squeeze(v["unit_name"]), [])
            unit_id = found[0] if len(found) == 1 else stable_id("U", V.squeeze(v["unit_name"]))
        helper_id = v.get("helper_id")
        if not helper_id:
            found = helper_by_name.get((V.squeeze(v["helper_name"]), unit_id), [])
            helper_id = found[0] if len(found) == 1 else stable_id("H", V.squeeze(v["helper_name"]), unit_id,
                                                                 v.get("helper_phone"))
        v["_unit"], v["_helper"] = unit_id, helper_id
        for seen, key, fields, what in ((seen_units, unit_id, ("unit_name", "unit_level"), "帮扶单位"),
                                        (seen_helpers, helper_id, ("helper_name", "helper_phone", "_unit"), "帮扶责任人")):
            other = seen.get(key)
            if other is None:
                seen[key] = row
                continue
            for f in fields:
                if f in row.sheet.present or f == "_unit":
                    a, b = v.get(f), other.values.get(f)
                    if a is not None and b is not None and a != b:
                        label = "所属单位" if f == "_unit" else row.sheet.headers.get(f, f)
                        batch.error(row, None if f == "_unit" else f,
                                    f"同一{what}({key})在第 {other.number} 行的“{label}”为“{_text(b)}”,与本行不同",
                                    a, header=row.sheet.headers.get("unit_name") if f == "_unit" else None)
    duplicates(batch, rows, lambda r: (r.values.get("_helper"), r.values.get("hh_id"), r.values.get("start_date"))
               if r.values.get("_helper") else None, "帮扶责任人、户编号与结对日期")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        if v.get("end_date") and v["end_date"] < v["start_date"]:
            batch.error(row, "end_date", "结束日期早于结对日期")
            continue
        unit = {"unit_id": v["_unit"], "name": v["unit_name"]} | ({"level": v.get("unit_level")}
                                                                   if "unit_level" in row.sheet.present else {})
        batch.plan.put("help_unit", (v["_unit"],), unit, [row])
        helper = {"helper_id": v["_helper"], "name": v["helper_name"], "unit_id": v["_unit"]}
        if "helper_phone" in row.sheet.present:
            helper["phone"] = v.get("helper_phone")
        batch.plan.put("helper", (v["_helper"],), helper, [row], {"town_code": hh["town_code"]})
        batch.helpers.setdefault(v["_helper"], {"name": v["helper_name"], "unit_name": v["unit_name"]})
        assignment = {"helper_id": v["_helper"], "hh_id": v["hh_id"], "start_date": v["start_date"],
                      "village_code": hh["village_code"]}
        if "end_date" in row.sheet.present:
            assignment["end_date"] = v.get("end_date")
        batch.plan.put("assignment", (v["_helper"], v["hh_id"], v["start_date"]), assignment, [row])


def build_visits(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    batch.db_households({r.values.get("hh_id") for r in rows})
    db_by_id = {h["helper_id"]: h for h in batch.fetch(schema.helper, "helper_id",
                                                       {r.values.get("helper_id") for r in rows})}
    db_by_name = defaultdict(list)
    for h in batch.fetch(schema.helper, "name", {r.values.get("helper_name") for r in rows}):
        db_by_name[V.squeeze(h["name"])].append(h)
    unit_names = {u["unit_id"]: u["name"] for u in batch.conn.execute(select(schema.help_unit)).mappings()}
    for row in rows:
        if row.bad:
            continue
        v = row.values
        helper_id = v.get("helper_id")
        if helper_id:
            if helper_id not in db_by_id and helper_id not in batch.helpers:
                batch.error(row, "helper_id", f"帮扶责任人编号 {helper_id} 在数据库和本次文件中都不存在")
                continue
        elif v.get("helper_name"):
            name = V.squeeze(v["helper_name"])
            found = {h["helper_id"]: unit_names.get(h["unit_id"], "") for h in db_by_name.get(name, [])}
            found |= {hid: h["unit_name"] for hid, h in batch.helpers.items() if V.squeeze(h["name"]) == name}
            if v.get("unit_name"):
                found = {k: u for k, u in found.items() if V.squeeze(u) == V.squeeze(v["unit_name"])}
            if len(found) != 1:
                batch.error(row, "helper_name", f"找不到帮扶责任人“{v['helper_name']}”" if not found else
                            f"有 {len(found)} 位帮扶责任人叫“{v['helper_name']}”,请填写帮扶责任人编号或帮扶单位")
                continue
            helper_id = next(iter(found))
        else:
            batch.error(row, "helper_name", "帮扶责任人编号和姓名都为空", "")
            continue
        v["_helper"] = helper_id
    duplicates(batch, rows, lambda r: (r.values.get("_helper"), r.values.get("hh_id"), r.values.get("visit_date"),
                                       r.values.get("visit_kind")) if r.values.get("_helper") else None,
               "帮扶责任人、户、日期与方式")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        values = {"helper_id": v["_helper"], "hh_id": v["hh_id"], "village_code": hh["village_code"],
                  "visit_date": v["visit_date"], "kind": v.get("visit_kind")}
        if "note" in row.sheet.present:
            values["note"] = v.get("note")
        batch.plan.put("visit", (v["_helper"], v["hh_id"], v["visit_date"], v.get("visit_kind")), values, [row])


def build_measures(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    batch.db_households({r.values.get("hh_id") for r in rows})
    duplicates(batch, rows, lambda r: (r.values.get("hh_id"), r.values.get("year"), r.values.get("measure")),
               "户、年度与措施")
    for row in rows:
        if row.bad:
            continue
        hh = household_for(batch, row)
        if hh is None:
            continue
        v = row.values
        values = {"hh_id": v["hh_id"], "village_code": hh["village_code"], "year": v["year"], "measure": v["measure"]}
        if "amount" in row.sheet.present:
            values["amount"] = v.get("amount")
        batch.plan.put("help_measure", (v["hh_id"], v["year"], v["measure"]), values, [row])


# ---- funds and projects ---------------------------------------------------------------------------------


def build_funds(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    duplicates(batch, rows, lambda r: r.values.get("fund_id"), "资金编号")
    counties = batch.places.of_level("county", batch.scope)
    for row in rows:
        if row.bad:
            continue
        v = row.values
        code = place_of(batch, row, ("county", "town"), required=False)
        if row.bad:
            continue
        if code is None:
            if len(counties) != 1:
                batch.error(row, "region_code" if "region_code" in row.sheet.present else "fund_id",
                            "未填接收资金的地区(区划代码或县、乡(镇)名称),且数据库中不止一个县", "")
                continue
            code = counties[0]
        values = {"fund_id": v["fund_id"], "source": v["source"], "year": v["year"], "amount": v["amount"],
                  "region_code": code, "county_code": county_of(code)}
        values |= provided(row, ("doc_no", "allocated_date"))
        if "fund_name" in row.sheet.present:
            values["name"] = v.get("fund_name")
        batch.plan.put("fund", (v["fund_id"],), values, [row])


def build_projects(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    duplicates(batch, rows, lambda r: r.values.get("project_id"), "项目编号")
    for row in rows:
        if row.bad:
            continue
        v = row.values
        code = place_of(batch, row, ("town", "village"), required=True)
        if code is None:
            if not row.bad:
                batch.error(row, "region_code", "缺少项目地点(区划代码,或 乡(镇)/行政村 名称)", "")
            continue
        bad = False
        for a, b, what in (("planned_start", "planned_end", "计划"), ("actual_start", "actual_end", "实际")):
            if v.get(a) and v.get(b) and v[b] < v[a]:
                batch.error(row, b, f"{what}完工日期早于{what}开工日期")
                bad = True
        if v.get("beneficiary_poor_households") is not None and v.get("beneficiary_households") is not None \
                and v["beneficiary_poor_households"] > v["beneficiary_households"]:
            batch.error(row, "beneficiary_poor_households", "受益贫困户数大于受益户数")
            bad = True
        if bad:
            continue
        level = level_of_code(code)
        values = {"project_id": v["project_id"], "name": v["project_name"], "category": v["category"],
                  "year": v["year"], "status": v["status"], "budget": v["budget"], "region_code": code,
                  "county_code": county_of(code), "town_code": town_of(code),
                  "village_code": code if level == "village" else None}
        values |= provided(row, ("subcategory", "planned_start", "planned_end", "actual_start", "actual_end",
                                 "beneficiary_households", "beneficiary_poor_households", "beneficiary_persons"))
        batch.plan.put("project", (v["project_id"],), values, [row])


def _fund_amounts(batch: Batch, fund_ids) -> dict[str, int]:
    """下达 amount per fund after this import: the file's value over the database's."""
    out = {r["fund_id"]: r["amount"] for r in batch.fetch(schema.fund, "fund_id", fund_ids, ("fund_id", "amount"))}
    for (fund_id,), rec in batch.plan.tables.get("fund", {}).items():
        if fund_id in fund_ids:
            out[fund_id] = rec.values["amount"]
    return out


def build_arrangements(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    duplicates(batch, rows, lambda r: (r.values.get("fund_id"), r.values.get("project_id")), "资金编号与项目编号")
    fund_ids = {r.values.get("fund_id") for r in rows}
    funds = _fund_amounts(batch, fund_ids)
    projects = {r["project_id"] for r in batch.fetch(schema.project, "project_id",
                                                     {r.values.get("project_id") for r in rows}, ("project_id",))}
    projects |= {k[0] for k in batch.plan.tables.get("project", {})}
    for row in rows:
        if row.bad:
            continue
        v = row.values
        if v["fund_id"] not in funds:
            batch.error(row, "fund_id", f"资金编号 {v['fund_id']} 在数据库和本次文件中都不存在")
        if v["project_id"] not in projects:
            batch.error(row, "project_id", f"项目编号 {v['project_id']} 在数据库和本次文件中都不存在")
    # 安排 may not exceed 下达, per fund, counting the database's other arrangements.
    totals = defaultdict(int)
    for r in batch.fetch(schema.arrangement, "fund_id", fund_ids, ("fund_id", "project_id", "amount")):
        totals[r["fund_id"]] += r["amount"]
        totals[(r["fund_id"], r["project_id"])] = r["amount"]
    file_rows = defaultdict(list)
    for row in rows:
        if not row.bad:
            v = row.values
            totals[v["fund_id"]] += v["amount"] - totals.get((v["fund_id"], v["project_id"]), 0)
            file_rows[v["fund_id"]].append(row)
    for fund_id, frows in file_rows.items():
        if totals[fund_id] > (funds.get(fund_id) or 0):
            for row in frows:
                batch.error(row, "amount", f"资金 {fund_id} 安排合计 {totals[fund_id]:,} 元,超过下达金额 "
                                           f"{funds.get(fund_id) or 0:,} 元")
    for row in rows:
        if row.bad:
            continue
        v = row.values
        values = {"fund_id": v["fund_id"], "project_id": v["project_id"], "amount": v["amount"]}
        values |= provided(row, ("arranged_date",))
        batch.plan.put("arrangement", (v["fund_id"], v["project_id"]), values, [row])


def build_flows(batch: Batch, sheets: list[Sheet]) -> None:
    rows = [r for s in sheets for r in s.rows]
    key = lambda r: (r.values.get("fund_id"), r.values.get("project_id"), r.values.get("flow_kind"),  # noqa: E731
                     r.values.get("flow_date"), r.values.get("amount"))
    duplicates(batch, rows, key, "资金、项目、类型、日期与金额")
    project_ids = {r.values.get("project_id") for r in rows}
    arranged = {(r["fund_id"], r["project_id"]): r["amount"]
                for r in batch.fetch(schema.arrangement, "project_id", project_ids)}
    for k, rec in batch.plan.tables.get("arrangement", {}).items():
        arranged[k] = rec.values["amount"]
    existing = batch.fetch(schema.money_flow, "project_id", project_ids)
    known = {(r["fund_id"], r["project_id"], r["kind"], r["flow_date"], r["amount"]) for r in existing}
    sums = defaultdict(int)
    for r in existing:
        sums[(r["fund_id"], r["project_id"], r["kind"])] += r["amount"]
    pair_rows = defaultdict(list)
    for row in rows:
        if row.bad:
            continue
        v = row.values
        pair = (v["fund_id"], v["project_id"])
        if pair not in arranged:
            batch.error(row, "project_id", f"资金 {pair[0]} 没有安排到项目 {pair[1]}(数据库和本次文件的资金安排中都没有)")
            continue
        if key(row) not in known:
            sums[(*pair, v["flow_kind"])] += v["amount"]
        pair_rows[pair].append(row)
    for pair, prow in pair_rows.items():
        paid, spent = sums[(*pair, codes.MONEY_PAID)], sums[(*pair, codes.MONEY_SPENT)]
        reason = None
        if paid > arranged[pair]:
            reason = f"资金 {pair[0]} 对项目 {pair[1]} 累计拨付 {paid:,} 元,超过安排的 {arranged[pair]:,} 元"
        elif spent > paid:
            reason = f"资金 {pair[0]} 对项目 {pair[1]} 累计支出 {spent:,} 元,超过拨付的 {paid:,} 元"
        if reason:
            for row in prow:
                batch.error(row, "amount", reason)
    for row in rows:
        if row.bad:
            continue
        v = row.values
        values = {"fund_id": v["fund_id"], "project_id": v["project_id"], "kind": v["flow_kind"],
                  "amount": v["amount"], "flow_date": v["flow_date"]}
        batch.plan.put("money_flow", key(row), values, [row])


BUILDERS = {
    "places": build_places, "targets": build_targets, "lines": build_lines, "persons": build_persons,
    "incomes": build_incomes, "monitoring": build_monitoring, "helpers": build_helpers, "visits": build_visits,
    "measures": build_measures, "funds": build_funds, "projects": build_projects,
    "arrangements": build_arrangements, "flows": build_flows,
}
ORDER = ("places", "targets", "lines", "persons", "incomes", "monitoring", "helpers", "visits", "measures", "funds",
         "projects", "arrangements", "flows")
