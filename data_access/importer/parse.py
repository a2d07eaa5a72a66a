"""A sheet's rows read into values: each cell by its field's parser, problems noted on the batch.

``parse_sheet`` takes the rows under a detected header (``importer.spec``) and returns the ``Sheet``
with its ``Row``s: empty, 合计 and footnote rows and repeated headers are skipped, money columns get
their unit, missing required columns and cells are errors.
"""

from __future__ import annotations

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


CACHED_KINDS = ("text", "id", "phone", "code", "codes", "bool", "year", "date", "int", "float", "money", "region",
                "raw")
_MISS = object()


class _Failed:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


def header_text(sheet: Sheet, col: int) -> str:
    return next((text for c, _, _, text in sheet.header.columns if c == col), "")
