"""Importing the national system's exports (.xlsx / .csv): validated, in one transaction, idempotent.

    result = run_import(engine, scope, [("人员名单.xlsx", data)], user="张三", dry_run=False, skip_invalid=False)

1. Read every file (``importer.read``), find each sheet's header row and kind
   (``spec``), read its cells (``values``).
2. Validate across rows, sheets, files and the database (``importer.builders``),
   in dependency order: places → targets, lines → households and persons →
   incomes, monitoring, help → funds → projects → arrangements → flows.
3. By default nothing is written when any row is invalid; with
   ``skip_invalid`` the valid rows are written and the rest reported.
   Writing is an upsert by each table's key in ONE transaction: a record is
   inserted when new, updated only in the columns the file has and only when
   a value differs, and never deleted because the file does not mention it.
   Re-importing the same file therefore writes nothing. ``member_count`` is
   kept equal to the household's person rows. A write bumps
   ``meta.data_version`` so cached page figures refresh.
4. Every run is logged in ``import_log`` (who, when, file name and SHA-256,
   rows read / written / rejected), dry runs included.

``scope`` (or None for no limit) is the region the importing user may write in.
"""

from __future__ import annotations

import argparse
from collections import Counter
import datetime as dt
import functools
import gc
import getpass
import hashlib
import io
from itertools import chain, compress
from operator import attrgetter, le, methodcaller, not_
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import and_, bindparam, inspect, literal, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .. import db, schema
from ..progress import Progress, reporter
from ..summary.refresh import refresh as refresh_summaries
from . import spec
from . import bulk, locking
from .batch import ERROR, NOTICE, Batch, Problem, Record, refuse_outside_scope
from .builders import BUILDERS, ORDER
from .builders.common import same
from .builders.persons import finish_persons
from .parse import parse_sheet
from .read import FileError, read
from .template import DEFAULT_DOCS, DEFAULT_TEMPLATE, write_docs, write_template
from ..scope import Scope, ScopeError

TABLE_TITLES = {
    "region": "区划", "village_population": "农村户籍人口",
    "exit_target": "年度减贫任务", "poverty_line": "贫困线/监测线", "household": "户",
    "other_cause": "其他致贫原因", "person": "人", "income": "收入", "monitoring_object": "监测对象",
    "help_unit": "帮扶单位", "helper": "帮扶责任人", "assignment": "结对帮扶", "visit": "走访记录",
    "help_measure": "帮扶措施", "fund": "资金", "project": "项目", "arrangement": "资金安排", "money_flow": "拨付支出",
    "work_year": "分年务工", "monitoring_found": "风险发现",
}
WRITE_ORDER = ("region", "village_population", "exit_target", "poverty_line", "household", "other_cause", "person",
               "work_year", "income", "monitoring_object", "monitoring_found", "help_unit", "helper", "assignment",
               "visit", "help_measure", "fund", "project", "arrangement", "money_flow")
# Key of each table; tables with a surrogate id are matched on a natural key and updated by id.
KEYS = {
    "region": ("code",), "village_population": ("village_code", "year"),
    "exit_target": ("region_code", "year"), "poverty_line": ("year", "kind", "province"),
    "household": ("hh_id",), "person": ("person_id",), "income": ("hh_id", "year"),
    "monitoring_object": ("hh_id", "identified_date"), "help_unit": ("unit_id",), "helper": ("helper_id",),
    "assignment": ("helper_id", "hh_id", "start_date"), "visit": ("helper_id", "hh_id", "visit_date", "kind"),
    "help_measure": ("hh_id", "year", "measure"), "fund": ("fund_id",), "project": ("project_id",),
    "work_year": ("person_id", "year"), "monitoring_found": ("object_id",),
    "arrangement": ("fund_id", "project_id"), "money_flow": ("fund_id", "project_id", "kind", "flow_date", "amount"),
}
# Column headers for the report of changed columns (the template's headers; a few columns differ from keys).
COLUMN_TITLES = {f.key: f.header for kind in spec.SHEET_KINDS for f in kind.fields} | {
    ("household", "phone"): "户联系电话", ("person", "phone"): "人联系电话", "member_count": "人数",
    ("project", "name"): "项目名称", ("fund", "name"): "资金名称", "village_code": "行政村区划代码",
    "town_code": "乡(镇)区划代码", "county_code": "县区划代码"}
SURROGATE = {"monitoring_object": "id", "visit": "visit_id", "help_measure": "id", "money_flow": "id"}
IGNORED_SHEETS = ("说明", "填表说明", "填报说明", "目录", "封面")


@dataclass
class FileReport:
    name: str
    sha256: str
    size: int
    format: str = ""
    encoding: str | None = None
    sheets: list[dict] = field(default_factory=list)  # name, kind, header_row, rows
    rows_read: int = 0
    rows_rejected: int = 0
    rows_written: int = 0
    error: str | None = None


@dataclass
class ImportResult:
    files: list[FileReport]
    problems: list[Problem]
    tables: dict[str, dict[str, int]]  # title -> {"新增": n, "更新": n, "删除": n}
    dry_run: bool
    skip_invalid: bool
    written: bool = False
    fatal: str | None = None
    log_ids: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sheets and columns left out at the user's word
    blocking: int = 0  # errors that --skip-invalid cannot pass: a sheet or a money column not understood
    exported_at: dt.date | None = None  # the latest 导出时间 printed above a header
    fields: dict[str, Counter] = field(default_factory=dict)  # table title -> changed column header -> records

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def notices(self) -> list[Problem]:
        return [p for p in self.problems if p.level == NOTICE]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_written(self) -> int:
        return sum(f.rows_written for f in self.files)

    @property
    def changes(self) -> int:
        return sum(sum(c.values()) for c in self.tables.values())

    def summary(self) -> str:
        if self.fatal:
            return f"导入失败:{self.fatal}"
        done = "试导入(未写入数据库)" if self.dry_run else ("已写入数据库" if self.written else "未写入数据库")
        parts = [f"{done}:读取 {self.rows_read} 行"]
        if self.dry_run:
            parts.append(f"可写入(有变化)的 {self.rows_written} 行")
        else:
            parts.append(f"写入(有变化)的 {self.rows_written} 行")
        parts.append(f"拒绝 {self.rows_rejected} 行")
        text = ",".join(parts)
        if self.blocking:
            text += (f"。有 {self.blocking} 个工作表或金额列未能识别,为免漏记数据,本次没有写入任何数据"
                     "(确认不需要时可指明跳过)")
        elif self.errors and not self.skip_invalid:
            text += f"。发现 {len(self.errors)} 处错误,按“全部成功才写入”的规则,本次没有写入任何数据"
        changes = self.change_text()
        if changes:
            text += f"。{'将' if self.dry_run or not self.written else ''}{changes}"
        elif not self.errors or (self.skip_invalid and not self.blocking):
            text += "。数据库中的数据与文件一致,没有需要更新的内容"
        left_out = list(self.skipped)
        if self.skip_invalid and self.rows_rejected:
            left_out.append(f"有错误的 {self.rows_rejected} 行")
        if left_out:
            text += "。注意:本次跳过了 " + "、".join(left_out) + ",这些内容没有导入"
        return text + "。"

    @property
    def incomplete(self) -> bool:
        """Something in the files was not imported (errors, skipped rows, sheets or columns): exit non-zero."""
        return bool(self.errors or self.skipped or self.rows_rejected)

    def fields_text(self) -> str:
        """Which columns the run changes in stored records, e.g. 户:户联系电话 20 条、自然村 3 条."""
        return ";".join(f"{title}:" + "、".join(f"{c} {n} 条" for c, n in counts.most_common())
                        for title, counts in self.fields.items() if counts)

    def change_text(self) -> str:
        bits = []
        for title, counts in self.tables.items():
            words = [f"{k} {v}" for k, v in counts.items() if v]
            if words:
                bits.append(f"{title}({'、'.join(words)})")
        return ";".join(bits)


# ---- the run --------------------------------------------------------------------------------------------


_GC_LOCK = threading.Lock()
_GC_STATE: dict = {"depth": 0, "enabled": True}


def _fewer_gc_passes(fn):
    """Run ``fn`` with the cyclic garbage collector paused: an import makes millions of rows, dicts and lists
    that live until it ends, and every collection pass walks all of them again (with the first threshold
    raised to 50,000 allocations the passes still took 2.5–5 s of the 100,000-person import, most of it in
    the full collections of a re-import). Reference counting still frees everything that is not a cycle;
    the collector resumes (if it was on) when the last running import ends, and collects the cycles then."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _GC_LOCK:
            if _GC_STATE["depth"] == 0:
                _GC_STATE["enabled"] = gc.isenabled()
                gc.disable()
            _GC_STATE["depth"] += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with _GC_LOCK:
                _GC_STATE["depth"] -= 1
                if _GC_STATE["depth"] == 0 and _GC_STATE["enabled"]:
                    gc.enable()

    return wrapper


@_fewer_gc_passes
def run_import(engine: Engine, scope: Scope | None, files: list[tuple[str, bytes]], *, user: str | None = None,
               dry_run: bool = False, skip_invalid: bool = False, progress: Progress | None = None,
               as_of: dt.date | None = None, skip_sheets=(), skip_columns=(),
               refresh: str = "wait", clear_blanks: bool = False) -> ImportResult:
    """Validate ``files`` and (unless ``dry_run`` or invalid) write them in one transaction.

    ``skip_sheets`` (sheet or file names, "*" for every unrecognised sheet) and ``skip_columns`` (headers) are
    what the user said to leave out; any other sheet or money column the importer does not understand is an
    error that stops the write. ``as_of`` overrides the data's as-of date, which is otherwise the latest
    导出时间 printed above a header (else, on a new database, today). ``refresh``: "after" rebuilds the summary
    tables once the import is committed, in a background thread (the call returns at once); "wait" rebuilds
    before returning; "no" leaves them stale (the pages then read the base tables). ``clear_blanks``: a blank
    cell clears the stored value (by default it keeps it).
    """
    say = reporter(progress)
    reports = [FileReport(name, hashlib.sha256(data).hexdigest(), len(data)) for name, data in files]
    result = ImportResult(reports, [], {}, dry_run, skip_invalid)
    raw_files = []
    for i, (name, data) in enumerate(files):
        say(0.3 * i / max(1, len(files)), f"读取文件 {name}")
        try:
            raw = read(name, data)
        except FileError as exc:
            reports[i].error = str(exc)
            result.problems.append(Problem(name, "", None, "", "", str(exc), ERROR))
            raw_files.append(None)
            continue
        reports[i].format, reports[i].encoding = raw.kind, raw.encoding
        raw_files.append(raw)
    say(0.3, "识别表头")
    names = [name for name, _ in files]
    log_region = scope.code if scope else None
    try:
        db.ensure_added_columns(engine)
        with engine.begin() as conn:  # its own transaction: kept even when this import writes nothing
            _add_later_tables(conn)
            repeated = locking.ensure_unique_ids(conn)
            log_region = scope.code if scope else _root_region(conn)
        if repeated:
            result.problems.append(Problem("", "", None, "证件号码", str(repeated), (
                f"数据库中已有 {repeated} 个证件号码重复登记,无法建立证件号码唯一约束;"
                "本次导入仍逐行检查重复,请清理重复记录"), NOTICE))
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                locking.serialise(conn)  # one import at a time: checks and writes see each other
                batch = Batch(conn, scope, names, skip_invalid, clear_blanks)
                batch.problems = result.problems
                batch.unique_ids = not repeated  # type: ignore[attr-defined]  # the unique index on id_number
                batch.skip_columns = {spec.norm_header(c) for c in skip_columns}  # type: ignore[attr-defined]
                batch.result = result  # type: ignore[attr-defined]
                batch.as_of = as_of  # type: ignore[attr-defined]
                sheets = _parse(batch, raw_files, reports, set(skip_sheets))
                say(0.45, "校验数据")
                by_kind: dict[str, list] = {}
                for sheet in sheets:
                    by_kind.setdefault(sheet.kind.key, []).append(sheet)
                for n, key in enumerate(ORDER):
                    if key in by_kind:
                        say(0.45 + 0.25 * n / len(ORDER), f"校验:{spec.BY_KEY[key].title}")
                        BUILDERS[key](batch, by_kind[key])
                if "persons" in by_kind:
                    finish_persons(batch, by_kind["persons"])
                refuse_outside_scope(batch)
                batch.report_kept_blanks()
                all_rows = [r for s in sheets for r in s.rows]
                bad = {id(r) for r in all_rows if r.bad}
                for row in all_rows:
                    if row.bad:
                        reports[row.file].rows_rejected += 1
                may_write = (not result.errors or skip_invalid) and not result.blocking
                if may_write:
                    batch.plan.drop_rows(bad)
                    say(0.7, "写入数据库" if not dry_run else "试写入(最后撤销)")
                    stats, changed = write_plan(conn, batch.plan, progress, result.fields)
                    result.tables = {TABLE_TITLES[t]: c for t, c in stats.items() if any(c.values())}
                    for row in all_rows:
                        if id(row) in changed:
                            reports[row.file].rows_written += 1
                    if result.changes and not dry_run:
                        db.bump_data_version(conn)
                        _stamp_meta(conn, as_of or result.exported_at)
                        result.written = True
                if result.written:
                    result.log_ids = _log(conn, result, user, log_region)
                    _audit(conn, result, user, scope)
                    trans.commit()
                else:
                    trans.rollback()
            except BaseException:
                if trans.is_active:
                    trans.rollback()
                raise
            if not result.written:
                with conn.begin():
                    result.log_ids = _log(conn, result, user, log_region)
    except SQLAlchemyError as exc:
        result.fatal = ("写入数据库时出错:证件号码与数据库中已有的人重复(可能有另一导入同时写入),本次导入已全部撤销。"
                        if locking.is_duplicate_id(exc) else
                        f"写入数据库时出错,本次导入已全部撤销。{str(getattr(exc, 'orig', exc))[:300]}")
        result.written = False
        result.tables = {}
        for report in reports:
            report.rows_written = 0
        try:
            with engine.begin() as conn:
                result.log_ids = _log(conn, result, user, log_region)
        except SQLAlchemyError:
            pass
    if result.written and refresh == "wait":
        _refresh_summaries(engine, progress)
    elif result.written and refresh == "after":
        refresh_after(engine)
    say(1.0, "完成")
    return result


def _refresh_summaries(engine: Engine, progress: Progress | None = None) -> None:
    """Rebuild the summary tables (data_access.summary) from the data just written.

    The import is already committed; if the rebuild fails the summaries stay marked stale
    (meta.summary_version != data_version) and every page reads the base tables instead.
    """
    reporter(progress)(0.95, "更新汇总表")
    with _REFRESH_LOCK:
        try:
            refresh_summaries(engine)
        except SQLAlchemyError:
            pass


_REFRESH_LOCK = threading.Lock()
_REFRESHING: list[threading.Thread] = []


def refresh_after(engine: Engine) -> threading.Thread:
    """Rebuild the summaries in a background thread, after the import has committed and returned.

    Until it finishes the summaries are stale (summary_version behind data_version) and the pages read
    the base tables, as they do whenever summaries are stale. Rebuilds run one at a time.
    """
    thread = threading.Thread(target=_refresh_summaries, args=(engine,), name="summary-refresh", daemon=True)
    _REFRESHING[:] = [t for t in _REFRESHING if t.is_alive()] + [thread]
    thread.start()
    return thread


def wait_for_refresh(timeout: float | None = None) -> bool:
    """Wait for the background summary rebuilds started by imports; True when none is left running."""
    for thread in list(_REFRESHING):
        thread.join(timeout)
    return not any(t.is_alive() for t in _REFRESHING)


def _parse(batch: Batch, raw_files, reports: list[FileReport], skip_sheets: set[str] = frozenset()) -> list:
    sheets = []
    result = batch.result  # type: ignore[attr-defined]
    for i, raw in enumerate(raw_files):
        if raw is None:
            continue
        found = False
        for raw_sheet in raw.sheets:
            label = raw_sheet.name
            if label in skip_sheets or (not label and raw.name in skip_sheets):
                found = True
                if raw_sheet.rows:
                    result.skipped.append(f"工作表“{label or raw.name}”")
                    batch.problems.append(Problem(raw.name, label, None, "", "", "按要求跳过此工作表,未导入", NOTICE))
                continue
            header = spec.detect_header(raw_sheet.rows, raw_sheet.name)
            if header is None:
                if raw_sheet.rows and raw_sheet.name not in IGNORED_SHEETS:
                    found = found or "*" in skip_sheets
                    _unrecognised(batch, raw, raw_sheet, "*" in skip_sheets)
                continue
            exported = spec.exported_at(raw_sheet.rows[:header.row_index])
            if exported and (result.exported_at is None or exported > result.exported_at):
                result.exported_at = exported
            sheet = parse_sheet(batch, i, raw.name, label, raw_sheet.rows, header)
            sheet.exported_at = exported  # type: ignore[attr-defined]
            found = True
            reports[i].sheets.append({"name": label or raw.name, "kind": header.kind.title,
                                      "header_row": raw_sheet.rows[header.row_index][0], "rows": len(sheet.rows)})
            reports[i].rows_read += len(sheet.rows)
            sheets.append(sheet)
        if not found:
            reports[i].error = "文件中没有可导入的内容:没有找到任何可识别的表头(请对照导入模板的列名)"
            batch.problems.append(Problem(raw.name, "", None, "", "", reports[i].error, ERROR))
    return sheets


def _unrecognised(batch: Batch, raw, raw_sheet, skip: bool) -> None:
    """A sheet with rows but no header the importer knows: an error (nothing is written) unless skipped."""
    result = batch.result  # type: ignore[attr-defined]
    label = raw_sheet.name
    where = f"--skip-sheet {label or raw.name}"
    if skip:
        result.skipped.append(f"工作表“{label or raw.name}”")
        batch.problems.append(Problem(raw.name, label, None, "", "", "没有找到可识别的表头,按要求跳过此工作表", NOTICE))
        return
    cells = [(n, c) for n, row in raw_sheet.rows[:spec.MAX_HEADER_SCAN] for c in row if spec.money_word(c)]
    money = next((x for x in cells if spec.money_word(x[1]) in spec.AMOUNT_WORDS), cells[0] if cells else None)
    if getattr(raw_sheet, "hidden", False) and not money:
        batch.problems.append(Problem(raw.name, label, None, "", "",
                                      "隐藏的工作表,没有可识别的表头,也没有金额(多为下拉选项列表),未导入", NOTICE))
        return
    if money:
        reason = (f"此工作表含金额(第 {money[0]} 行“{str(money[1]).strip()}”),但没有找到可识别的表头:为免漏记资金,"
                  f"本次没有写入任何数据。请对照导入模板修改列名,或确认不需要后指明跳过此工作表({where})")
        batch.problems.append(Problem(raw.name, label, money[0], "", str(money[1]).strip()[:64], reason, ERROR))
    else:
        first = raw_sheet.rows[0][0]
        reason = ("没有找到可识别的表头,无法判断此工作表的内容:本次没有写入任何数据。请对照导入模板修改列名,"
                  f"或确认不需要后指明跳过此工作表({where})")
        batch.problems.append(Problem(raw.name, label, first, "", "", reason, ERROR))
    result.blocking += 1


# ---- writing ------------------------------------------------------------------------------------------------


def _table(name: str):
    return schema.metadata.tables[name]


def _insert_defaults(table) -> dict:
    out = {}
    for col in table.columns:
        if col.default is not None and getattr(col.default, "is_scalar", False):
            out[col.name] = col.default.arg
    return out


def _existing(conn, table, key_cols: tuple[str, ...], keys, known: dict | None = None) -> dict[tuple, dict]:
    """Stored rows by key; ``known`` (single-column keys: value -> row or None) are rows already read."""
    first = key_cols[0]
    found: dict[tuple, dict] = {}
    if known and len(key_cols) == 1:
        wanted = []  # (the keys are distinct one-column tuples)
        get = known.get
        for key in keys:
            row = get(key[0], _UNKNOWN)
            if row is _UNKNOWN:
                wanted.append(key[0])
            elif row is not None:
                found[key] = row
    else:
        wanted = list({k[0] for k in keys})
    if not wanted or conn.execute(select(literal(1)).select_from(table).limit(1)).first() is None:
        return found  # (an empty table, e.g. on a first import: no need to send the keys)
    wanted.sort(key=None if all(type(k) is str for k in wanted) else str)  # (str(k) is k for a str)
    names = list(table.c.keys())
    where = [names.index(c) for c in key_cols]
    for row in bulk.select_in(conn, list(table.c), table.c[first], wanted):
        key = tuple(row[j] for j in where)
        if key not in found:
            found[key] = dict(zip(names, row))
    return found


_UNKNOWN = object()


def write_plan(conn, plan, progress: Progress | None = None,
               fields: dict[str, Counter] | None = None) -> tuple[dict[str, dict[str, int]], set[int]]:
    """Upsert the plan's records in WRITE_ORDER; returns per-table counts and ids of the rows that changed data.
    ``fields`` (if given) gets, per table title, how many stored records each column changes in."""
    say = reporter(progress)
    stats: dict[str, dict[str, int]] = {}
    changed: set[int] = set()
    for n, name in enumerate(WRITE_ORDER):
        say(0.7 + 0.28 * n / len(WRITE_ORDER), f"写入:{TABLE_TITLES[name]}")
        if name == "other_cause":
            stats[name] = _write_other_causes(conn, plan.other_causes, changed)
            continue
        records = plan.tables.get(name)
        if name == "monitoring_found" and records:
            records = _found_by_object(conn, records)
        if records:
            counts = Counter()
            stats[name] = _upsert(conn, _table(name), KEYS[name], SURROGATE.get(name), records, changed, counts,
                                  getattr(plan, "known", {}).get(name))
            if fields is not None and counts:
                fields[TABLE_TITLES[name]] = Counter({COLUMN_TITLES.get((name, c), COLUMN_TITLES.get(c, c)): n
                                                      for c, n in counts.items()})
        if name == "money_flow" and getattr(plan, "ledger_flows", None):
            ledger = _write_ledger_flows(conn, plan.ledger_flows, changed)
            old = stats.setdefault(name, {})
            for k, n in ledger.items():
                old[k] = old.get(k, 0) + n
    return stats, changed


def _found_by_object(conn, records: dict[tuple, Record]) -> dict[tuple, Record]:
    """风险发现 rows are planned on their monitoring object's natural key (户编号, 识别时间); once the objects
    are written, key them on the object's id."""
    t = schema.monitoring_object
    hh_ids = sorted({k[0] for k in records})
    ids: dict[tuple, int] = {}
    for i in range(0, len(hh_ids), 500):
        for oid, hh_id, day in conn.execute(select(t.c.id, t.c.hh_id, t.c.identified_date)
                                            .where(t.c.hh_id.in_(hh_ids[i:i + 500]))):
            ids[(hh_id, day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)[:10]))] = oid
    out = {}
    for key, rec in records.items():
        oid = ids.get(key)
        if oid is not None:
            values = {k: v for k, v in rec.values.items() if k not in ("hh_id", "identified_date")}
            out[(oid,)] = Record(values | {"object_id": oid}, rec.rows, rec.defaults)
    return out


def _write_ledger_flows(conn, ledger: dict, changed: set[int]) -> dict[str, int]:
    """A ledger's cumulative 拨付/支出 per (fund, project): the stored flows of the kinds the ledger gives are
    replaced by the ledger's one flow per kind (left alone when they already equal it)."""
    t = schema.money_flow
    pairs = sorted(ledger)
    stored: dict[tuple, list] = {}
    project_ids = sorted({p for _, p in pairs})
    for i in range(0, len(project_ids), 500):
        stmt = select(t.c.id, t.c.fund_id, t.c.project_id, t.c.kind, t.c.flow_date, t.c.amount).where(
            t.c.project_id.in_(project_ids[i:i + 500]))
        for row in conn.execute(stmt):
            if (row.fund_id, row.project_id) in ledger:
                stored.setdefault((row.fund_id, row.project_id, row.kind), []).append(row)
    delete, insert = [], []
    for pair in pairs:
        flows, rows, kinds = ledger[pair]
        for kind in sorted(kinds):
            old = stored.get((*pair, kind), [])
            want = flows.get(kind)
            if want and len(old) == 1 and old[0].flow_date == want[0] and old[0].amount == want[1]:
                continue
            if not want and not old:
                continue
            delete += [{"k_id": r.id} for r in old]
            if want:
                insert.append({"fund_id": pair[0], "project_id": pair[1], "kind": kind, "flow_date": want[0],
                               "amount": want[1]})
            changed.update(id(r) for r in rows)
    if delete:
        conn.execute(t.delete().where(t.c.id == bindparam("k_id")), delete)
    if insert:
        conn.execute(t.insert(), insert)
    return {"新增": len(insert), "删除": len(delete)}


def _upsert(conn, table, key_cols, surrogate, records: dict[tuple, Record], changed: set[int],
            counts: Counter | None = None, known: dict | None = None) -> dict[str, int]:
    existing = _existing(conn, table, key_cols, records.keys(), known)
    defaults = _insert_defaults(table)
    inserts: list[dict] = []
    updates: dict[tuple, list[dict]] = {}
    if not existing:  # nothing stored yet (a first import): every record is an insert
        recs = records.values()
        if any(map(_DEFAULTS, recs)):
            inserts = [rec.defaults | rec.values if rec.defaults else rec.values for rec in recs]
        else:
            inserts = list(map(_VALUES, recs))
        changed.update(map(id, chain.from_iterable(map(_ROWS, recs))))
    olds = list(map(existing.get, records)) if existing else []
    if olds and olds.count(None) == 0:  # the usual re-import: every record stored, most the same (each value
        recs = list(records.values())  # `is` or == the stored one, what the test in _update starts with)
        for i in compress(range(len(recs)), map(not_, _unchanged(recs, olds))):
            _update(recs[i], olds[i], key_cols, surrogate, updates, changed, counts)
    else:
        for rec, old in zip(records.values(), olds):
            if old is None:
                inserts.append(rec.defaults | rec.values if rec.defaults else rec.values)
                changed.update(map(id, rec.rows))
            elif not rec.values.items() <= old.items():
                _update(rec, old, key_cols, surrogate, updates, changed, counts)
    if inserts:
        if defaults:
            inserts = [r if defaults.keys() <= r.keys() else defaults | r for r in inserts]
        columns = sorted(set().union(*(r.keys() for r in inserts)) | set(defaults))
        bulk.insert_rows(conn, table, columns, inserts)
    match_cols = (surrogate,) if surrogate else key_cols
    n_updates = 0
    for cols, params in updates.items():
        bulk.update_rows(conn, table, match_cols, cols, params)
        n_updates += len(params)
    return {"新增": len(inserts), "更新": n_updates}


def _unchanged(recs: list[Record], olds: list[dict]):
    """Per record, True when each of its values `is` or == the stored record's (False: to be compared column by
    column)."""
    return map(le, map(_ITEMS, map(_VALUES, recs)), map(_ITEMS, olds))


def _update(rec: Record, old: dict, key_cols, surrogate, updates: dict[tuple, list[dict]], changed: set[int],
            counts: Counter | None) -> None:
    """Plan the UPDATE of stored record ``old`` to ``rec`` (the columns that differ), if any differs."""
    values = rec.values
    diff = {c: v for c, v in values.items()
            if c not in key_cols and old.get(c) != v and not same(old.get(c), v)}
    if diff:
        if counts is not None:
            counts.update(diff.keys())
        where = {surrogate: old[surrogate]} if surrogate else {c: old[c] for c in key_cols}
        cols = tuple(sorted(diff))
        updates.setdefault(cols, []).append({f"k_{c}": v for c, v in where.items()} |
                                            {f"v_{c}": v for c, v in diff.items()})
        changed.update(map(id, rec.rows))


_DEFAULTS, _VALUES, _ROWS = attrgetter("defaults"), attrgetter("values"), attrgetter("rows")
_ITEMS = methodcaller("items")


def _write_other_causes(conn, wanted: dict[str, Record], changed: set[int]) -> dict[str, int]:
    if not wanted:
        return {}
    t = schema.other_cause
    have: dict[str, set[str]] = {h: set() for h in wanted}
    for hh_id, cause in bulk.select_in(conn, (t.c.hh_id, t.c.cause), t.c.hh_id, sorted(wanted)):
        have[hh_id].add(cause)
    add, remove = [], []
    for hh_id, rec in wanted.items():
        new = rec.values["causes"] - have[hh_id]
        old = have[hh_id] - rec.values["causes"]
        add += [{"hh_id": hh_id, "cause": c} for c in sorted(new)]
        remove += [{"k_hh": hh_id, "k_cause": c} for c in sorted(old)]
        if new or old:
            changed.update(id(r) for r in rec.rows)
    if remove:
        conn.execute(t.delete().where(and_(t.c.hh_id == bindparam("k_hh"), t.c.cause == bindparam("k_cause"))),
                     remove)
    bulk.insert_rows(conn, t, ["hh_id", "cause"], add)
    return {"新增": len(add), "删除": len(remove)}


def _stamp_meta(conn, as_of: dt.date | None) -> None:
    meta = dict(conn.execute(select(schema.meta.c.key, schema.meta.c.value)).all())
    if as_of is not None:
        db.set_meta(conn, data_as_of=as_of.isoformat())
    elif "data_as_of" not in meta:
        db.set_meta(conn, data_as_of=dt.date.today().isoformat())
    if "is_demo" not in meta:
        db.set_meta(conn, is_demo="0")


def _root_region(conn) -> str | None:
    """The region an unlimited run covers: the database's one county (else its one top region, else None)."""
    r = schema.region
    for where in (r.c.level == "county", r.c.parent_code.is_(None)):
        found = conn.execute(select(r.c.code).where(where).limit(2)).all()
        if len(found) == 1:
            return found[0][0]
    return None


def _log(conn, result: ImportResult, user: str | None, region_code: str | None) -> list[int]:
    now = dt.datetime.now().replace(microsecond=0)
    ids = []
    for report in result.files:
        errors = sum(1 for p in result.errors if p.file == report.name)
        if result.fatal:
            message = result.fatal
        elif report.error:
            message = report.error
        elif result.dry_run:
            change = result.change_text()
            message = f"试导入:{errors} 处错误" + (f";可写入 {change}" if change else ";与数据库一致")
        elif result.written:
            message = result.change_text() + (f";跳过 {len(result.errors)} 处错误的行" if result.errors else "")
        elif result.errors and result.skip_invalid:
            message = f"无变化;本批文件 {len(result.errors)} 处错误的行已跳过"
        else:
            message = f"未写入:本批文件共 {len(result.errors)} 处错误" if result.errors else "无变化"
        row = conn.execute(schema.import_log.insert().values(
            imported_at=now, user_id=(user or "")[:64] or None, file_name=report.name[:255],
            file_hash=report.sha256, rows_read=report.rows_read, rows_written=report.rows_written,
            rows_rejected=report.rows_rejected, dry_run=result.dry_run, message=message[:2000],
            region_code=region_code,
        ))
        ids.append(row.inserted_primary_key[0])
    return ids


def _audit(conn, result: ImportResult, user: str | None, scope: Scope | None) -> None:
    conn.execute(schema.audit_log.insert().values(
        at=dt.datetime.now(), user_id=(user or "")[:64] or None, user_name=(user or "命令行")[:64], action="导入",
        scope_code=scope.code if scope else None,
        detail=("、".join(f.name for f in result.files) + ":" + result.change_text())[:2000],
        row_count=result.rows_written,
    ))


# ---- reading the log (for the 数据管理 page) ---------------------------------------------------------------


def history(engine: Engine, scope: Scope, limit: int = 50, run: int = 0) -> pd.DataFrame:
    """The latest imports within ``scope``, newest first (shown to 管理员 only).

    A run's region is the one it was limited to; a row without one (logged before regions were) is shown
    at county level and above only. ``run`` only distinguishes cache entries: the page passes its count of
    imports this session.
    """
    db.ensure_added_columns(engine)
    t = schema.import_log
    in_scope = scope.where(t)
    if scope.level in ("province", "city", "county"):
        in_scope = in_scope | t.c.region_code.is_(None)
    stmt = (select(t.c.id, t.c.imported_at, t.c.user_id, t.c.file_name, t.c.file_hash, t.c.rows_read,
                   t.c.rows_written, t.c.rows_rejected, t.c.dry_run, t.c.message)
            .where(in_scope).order_by(t.c.id.desc()).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=["id", "imported_at", "user_id", "file_name", "file_hash", "rows_read",
                                       "rows_written", "rows_rejected", "dry_run", "message"])


# ---- the report as Excel ------------------------------------------------------------------------------------

PROBLEM_COLUMNS = ["文件", "工作表", "行号", "列", "值", "问题", "级别"]


def problems_frame(result: ImportResult) -> pd.DataFrame:
    return pd.DataFrame([p.as_tuple() for p in result.problems], columns=PROBLEM_COLUMNS).astype(
        {"行号": "Int64"})


def report_xlsx(result: ImportResult) -> bytes:
    """The validation report as an Excel workbook: 问题清单 and 汇总."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet("问题清单")
    sheet.write_row(0, 0, PROBLEM_COLUMNS, bold)
    for i, p in enumerate(result.problems, 1):
        sheet.write_string(i, 0, p.file)
        sheet.write_string(i, 1, p.sheet)
        if p.row is not None:
            sheet.write_number(i, 2, p.row)
        sheet.write_string(i, 3, p.column)
        sheet.write_string(i, 4, p.value, text)
        sheet.write_string(i, 5, p.reason)
        sheet.write_string(i, 6, p.level)
    for col, width in enumerate((24, 14, 8, 22, 24, 70, 6)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    if result.problems:
        sheet.autofilter(0, 0, len(result.problems), len(PROBLEM_COLUMNS) - 1)
    summary = book.add_worksheet("汇总")
    summary.write_string(0, 0, result.summary())
    summary.write_row(2, 0, ["文件", "格式", "编码", "SHA-256", "读取行数", "写入(有变化)行数", "拒绝行数", "文件错误"],
                      bold)
    for i, f in enumerate(result.files, 3):
        summary.write_row(i, 0, [f.name, f.format, f.encoding or "", f.sha256])
        summary.write_row(i, 4, [f.rows_read, f.rows_written, f.rows_rejected])
        summary.write_string(i, 7, f.error or "")
    start = len(result.files) + 5
    summary.write_row(start, 0, ["数据表", "新增", "更新", "删除"], bold)
    for i, (title, counts) in enumerate(result.tables.items(), start + 1):
        summary.write_row(i, 0, [title, counts.get("新增", 0), counts.get("更新", 0), counts.get("删除", 0)])
    summary.set_column(0, 0, 28)
    summary.set_column(3, 3, 66)
    summary.set_column(4, 7, 14)
    book.close()
    return out.getvalue()


# ---- command line --------------------------------------------------------------------------------------------


def _add_later_tables(conn) -> None:
    """work_year and monitoring_found came within schema version 1: a database made before them gets them."""
    have = set(inspect(conn).get_table_names())
    later = [t for t in (schema.work_year, schema.monitoring_found) if t.name not in have]
    if later and "meta" in have:
        schema.metadata.create_all(conn, tables=later)


def _open_for_import(url: str) -> Engine:
    engine = db.get_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except SQLAlchemyError as exc:
        raise db.Unreachable(f"无法连接数据库:{db._redact(url)}", str(getattr(exc, "orig", exc))[:300]) from exc
    if not tables:
        db.create_schema(engine)
        return engine
    if "meta" not in tables:
        raise db.SchemaMismatch("该数据库不是扶贫数据驾驶舱的数据库(缺少 meta 表),不能导入。")
    version = db.read_meta(engine).get("schema_version")
    if version != str(schema.SCHEMA_VERSION):
        raise db.SchemaMismatch(f"数据库结构版本为 {version or '未知'},本程序需要版本 {schema.SCHEMA_VERSION}。")
    return engine


def print_result(result: ImportResult, out=sys.stdout, limit: int = 60) -> None:
    for f in result.files:
        where = f"{f.format.upper()}" + (f",编码 {f.encoding}" if f.encoding else "")
        print(f"文件 {f.name}({where or '无法读取'},SHA-256 {f.sha256[:12]}…)", file=out)
        if f.error:
            print(f"  错误:{f.error}", file=out)
        for s in f.sheets:
            print(f"  工作表“{s['name']}”→ {s['kind']}:表头在第 {s['header_row']} 行,数据 {s['rows']} 行", file=out)
        print(f"  读取 {f.rows_read} 行,写入(有变化)的 {f.rows_written} 行,拒绝 {f.rows_rejected} 行", file=out)
    if result.problems:
        print(f"\n问题清单(错误 {len(result.errors)} 处,提示 {len(result.notices)} 条):", file=out)
        shown = sorted(result.problems, key=lambda p: (p.level != ERROR,))[:limit]
        for p in shown:
            where = "、".join(x for x in (p.file, f"“{p.sheet}”" if p.sheet else "",
                                          f"第 {p.row} 行" if p.row else "",
                                          f"列“{p.column}”" if p.column else "") if x)
            value = f" 值“{p.value}”" if p.value else ""
            print(f"  [{p.level}] {where}{value}:{p.reason}", file=out)
        if len(result.problems) > limit:
            print(f"  ……另有 {len(result.problems) - limit} 条,完整清单请用 --report 输出为 Excel", file=out)
    if result.fields_text():
        verb = "将更新" if result.dry_run or not result.written else "更新"
        print(f"\n{verb}的字段:{result.fields_text()}", file=out)
    print("\n" + result.summary(), file=out)


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help=".xlsx 或 .csv 文件(可多个,作为一批校验与写入)")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="数据库地址(默认同应用:REGISTRY_DB_URL、secrets.toml 或 data/registry.db);空库会自动建表")
    parser.add_argument("--dry-run", action="store_true", help="只校验,不写入")
    parser.add_argument("--skip-invalid", action="store_true", help="写入正确的行,跳过有错误的行(默认:有错误就不写入)")
    parser.add_argument("--clear-blanks", action="store_true",
                        help="空白单元格清空数据库中的原值(默认:空白单元格保留原值)")
    parser.add_argument("--region", help="只允许导入此区划(12 位代码)内的数据")
    parser.add_argument("--user", help="记入导入日志的操作人(默认为系统用户名)")
    parser.add_argument("--as-of", help="数据截至日期(YYYY-MM-DD),写入后显示在页面上")
    parser.add_argument("--report", help="把问题清单与汇总写入此 Excel 文件")
    parser.add_argument("--skip-sheet", action="append", default=[], metavar="NAME",
                        help="确认不需要、跳过此工作表(CSV 用文件名;可多次使用;“*”跳过所有无法识别的工作表)")
    parser.add_argument("--skip-column", action="append", default=[], metavar="HEADER",
                        help="确认不需要、跳过此列(未识别的金额列默认是错误;可多次使用)")


def run_import_cli(args) -> int:
    """Exit code 0: everything imported (or valid); 1: something was not (errors, skipped rows, sheets or columns);
    2: a file or the database cannot be opened."""
    try:
        scope = Scope.of(args.region) if args.region else None
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    except (ScopeError, ValueError) as exc:
        print(f"错误:参数有误:{exc}", file=sys.stderr)
        return 2
    files = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"错误:找不到文件 {name}", file=sys.stderr)
            return 2
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            print(f"错误:无法读取文件 {name}:{exc.strerror}", file=sys.stderr)
            return 2
    try:
        engine = _open_for_import(args.db or db.resolve_url())
    except db.RegistryError as exc:
        print(f"错误:{exc.title}:{exc.message}", file=sys.stderr)
        return 2
    user = args.user or _os_user()
    tty = sys.stderr.isatty()

    def show(fraction: float, message: str) -> None:
        print(f"\r[{fraction * 100:5.1f}%] {message}\033[K", end="", file=sys.stderr, flush=True)

    result = run_import(engine, scope, files, user=user, dry_run=args.dry_run, skip_invalid=args.skip_invalid,
                        progress=show if tty else None, as_of=as_of, skip_sheets=args.skip_sheet,
                        skip_columns=args.skip_column, refresh="after", clear_blanks=args.clear_blanks)
    if tty:
        print(file=sys.stderr)
    print_result(result)
    if args.report:
        Path(args.report).write_bytes(report_xlsx(result))
        print(f"问题清单已写入 {args.report}")
    if result.written and not wait_for_refresh(0):
        print("汇总表正在后台更新(数据已写入;更新完成前页面直接按明细表计算)……", file=sys.stderr, flush=True)
        wait_for_refresh()
    if result.fatal or any(f.error for f in result.files if not f.rows_read):
        return 2
    return 1 if result.incomplete else 0


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "命令行"


def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=str(DEFAULT_TEMPLATE), help="模板文件路径")
    parser.add_argument("--docs", default=str(DEFAULT_DOCS), help="列名说明文档路径(Markdown)")


def run_template_cli(args) -> int:
    write_template(Path(args.out))
    write_docs(Path(args.docs))
    print(f"已生成 {args.out} 与 {args.docs}")
    return 0


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="python -m data_access import")
    add_import_arguments(_parser)
    sys.exit(run_import_cli(_parser.parse_args()))
