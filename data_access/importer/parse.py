"""A sheet's rows read into values: each cell by its field's parser, problems noted on the batch.

``parse_sheet`` takes the rows under a detected header (``importer.spec``) and returns the ``Sheet``
with its ``Row``s: empty, 合计 and footnote rows and repeated headers are skipped, money columns get
their unit, missing required columns and cells are errors.
"""

from __future__ import annotations

from itertools import chain, repeat
from operator import itemgetter

from . import spec, values as V
from .batch import ERROR, Batch, Problem, Row, Sheet
from .spec import Header


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
    for _col, key, unit, text in header.columns:
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
    skip = getattr(batch, "skip_columns", set())
    result = getattr(batch, "result", None)
    for text in header.unknown:
        word = spec.money_word(text)
        if word and spec.norm_header(text) not in skip:
            batch.problems.append(Problem(
                file_name, name, rows[header.row_index][0], text, "",
                f"列名含“{word}”,是金额一类的列,但未能识别:为免漏记资金,本次没有写入任何数据。请按导入模板修改列名,"
                f"或确认不需要后指明跳过此列(--skip-column {text})", ERROR))
            if result is not None:
                result.blocking += 1
        elif word:
            batch.sheet_notice(sheet, text, "按要求跳过此列,未导入")
            if result is not None:
                result.skipped.append(f"列“{text}”")
        else:
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
    columns: list[_Column] = []
    pending: list = []
    risky: list[int] = []  # the cells (by position) whose column's cache holds a key equal to 0 or 1
    for i, (col, key, _, _) in enumerate(header.columns):
        f = kind.field(key)
        sheet.cols.setdefault(key, col)
        multi = f.kind == "codes"
        cache = _Column(PARSERS[f.kind], f, sheet.units.get(key), f.kind in CACHED_KINDS, multi, i, col, pending,
                       risky)
        columns.append(cache)
        specs.append((col, key, cache.parse, f, cache.unit, cache if cache.store else None, multi))
    required = [kind.field(k) for k in sheet.present if kind.field(k).required]
    keys = [s[1] for s in specs]
    cols = [s[0] for s in specs]
    # The usual sheet (each field in one column, two or more columns): a row's values are looked up in the
    # columns' caches by one C-level map; a value not cached yet is parsed by its column's __missing__.
    fast = len(set(keys)) == len(keys) and len(keys) > 1
    if fast:
        for c in columns:
            c[None] = c.empty  # a blank cell (only the general path below sees a bool, which equals 0 or 1)
        multis = [s[1] for s in specs if s[6]]
        template = dict.fromkeys(keys)
        seen = 0
        if cols == list(range(len(cols))):
            pick = None
        else:
            pick = itemgetter(*cols)
            pad = [None] * (max(cols) + 1)
    for number, cells in rows[header.row_index + 1:]:
        c0 = cells[0] if cells else None
        # The usual first cell, plain ASCII digits (a code or number), is its own text and no 合计 or footnote word.
        usual = type(c0) is str and c0.isdigit() and c0.isascii() and not (header_texts and c0 == header_texts[0])
        if not usual and _skip(cells, header_texts):
            continue
        if fast and len(risky) != seen:
            seen = len(risky)
            check = sorted(set(risky))
            top, check = check[-1], itemgetter(*check, check[0])
        # a bool cell (True equals 1) goes cell by cell when its column's cache may hold a 0 or 1
        if fast and (not seen or bool not in map(type, check(cells) if len(cells) > top else cells)):
            if pick is None:
                values = template.copy()  # (every key in place: no resizing while it fills)
                values.update(zip(keys, map(dict.__getitem__, columns, chain(cells, _NONES))))
            else:
                width = len(cells)
                values = template.copy()
                values.update(zip(keys, map(dict.__getitem__, columns,
                                            pick(cells + pad[width:] if width < len(pad) else cells))))
            row = Row(file_index, sheet, number, values, cells)
            for k in multis:
                values[k] = list(values[k])
            if pending:
                for i, raw, reason in pending:
                    batch.error(row, keys[i], reason, raw, header=header_text(sheet, cols[i]))
                pending.clear()
            width = len(cells)
        else:
            row, width = _general_row(batch, file_index, sheet, number, cells, specs, columns)
        values = row.values
        for f in required:
            if values.get(f.key) in (None, []) and V.is_empty(cells[sheet.cols[f.key]]
                                                               if sheet.cols[f.key] < width else None):
                batch.error(row, f.key, f"“{f.header}”为必填项,不能为空", "")
        sheet.rows.append(row)
    return sheet


def _general_row(batch: Batch, file_index: int, sheet: Sheet, number: int, cells: list, specs: list,
                 columns: list) -> tuple[Row, int]:
    """One row cell by cell: any width, bool cells (never looked up in a cache: True equals 1), several
    columns feeding one list."""
    values: dict = {}
    row = Row(file_index, sheet, number, values, cells)
    width = len(cells)
    for col, key, parser, f, unit, cache, multi in specs:
        raw = cells[col] if col < width else None
        reason = None
        if raw is None:
            value = [] if multi else None
        elif cache is not None and type(raw) is not bool:
            value = cache.get(raw, _MISS)
            if value is _MISS:
                reason = cache.failed.get(raw)
                if reason is None:
                    try:
                        value = parser(raw, f, unit)
                    except V.Bad as exc:
                        reason = cache.failed[raw] = str(exc)
                    else:
                        cache.put(raw, value)
        else:
            try:
                value = parser(raw, f, unit)
            except V.Bad as exc:
                reason = str(exc)
        if reason is not None:
            batch.error(row, key, reason, raw, header=header_text(sheet, col))
            value = [] if multi else None
        if multi and key in values:  # several columns feed one list
            values[key] = values[key] + [c for c in value if c not in values[key]]
        else:
            values[key] = list(value) if multi else value
    return row, width


class _Column(dict):
    """A column's parsed values by raw cell (``store``: cached; else parsed each time); a cell that does not
    parse is noted in ``pending`` (column index, raw, reason) and reads as blank."""

    __slots__ = ("parse", "f", "unit", "store", "multi", "index", "col", "pending", "risky", "failed", "empty")

    def __init__(self, parse, f, unit, store: bool, multi: bool, index: int, col: int, pending: list, risky: list):
        super().__init__()
        self.parse, self.f, self.unit, self.store, self.multi = parse, f, unit, store, multi
        self.index, self.col, self.pending, self.risky, self.failed = index, col, pending, risky, {}
        self.empty = [] if multi else None

    def __missing__(self, raw):
        if type(raw) is bool:  # parsed each time, never stored (True equals 1)
            try:
                return self.parse(raw, self.f, self.unit)
            except V.Bad as exc:
                self.pending.append((self.index, raw, str(exc)))
                return self.empty
        reason = self.failed.get(raw)
        if reason is None:
            try:
                value = self.parse(raw, self.f, self.unit)
            except V.Bad as exc:
                reason = self.failed[raw] = str(exc)
            else:
                if self.store:
                    self.put(raw, value)
                return value
        self.pending.append((self.index, raw, reason))
        return self.empty

    def put(self, raw, value) -> None:
        if type(raw) is not str and (raw == 1 or raw == 0):  # a bool cell would find it (True == 1, False == 0)
            self.risky.append(self.col)
        self[raw] = value


_NONES = repeat(None)


CACHED_KINDS = ("text", "id", "phone", "code", "codes", "bool", "year", "date", "int", "float", "money", "region",
                "raw")
_MISS = object()


def header_text(sheet: Sheet, col: int) -> str:
    return next((text for c, _, _, text in sheet.header.columns if c == col), "")
