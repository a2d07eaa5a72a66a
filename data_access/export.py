"""Exports: Excel (.xlsx) and CSV files built chunk by chunk, masked and capped (no streamlit).

- .xlsx (xlsxwriter, constant-memory mode): the table's Chinese headers (units included
  by the caller), a bold frozen header row, column widths from the header and the
  first chunk's values (CJK characters count double), numbers kept as numbers, IDs
  and other codes as text.
- .csv: UTF-8 with a BOM so Excel opens it as Chinese text.
- Input is an iterable of DataFrames (``stream_query`` yields them from the database
  a few thousand rows at a time), so a large export never holds the whole table.
- ``row_cap`` stops the file at that many rows (``truncated`` tells the caller);
  ``masked=True`` masks personal data in every chunk (data_access.privacy).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
import xlsxwriter
from sqlalchemy.engine import Engine

from .db import read_secrets
from .privacy import mask_frame
from .progress import Progress

DEFAULT_ROW_CAP = 50_000
MAX_ROW_CAP = 500_000
CHUNK_ROWS = 5_000
MAX_COLUMN_WIDTH = 48
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
FORMATS = {"xlsx": XLSX_MIME, "csv": CSV_MIME}

@dataclass(frozen=True)
class ExportFile:
    data: bytes
    rows: int  # data rows written (header excluded)
    truncated: bool  # the row cap stopped the export before the end of the data
    mime: str
    extension: str


def configured_row_cap() -> int:
    """The deployment's row cap: REGISTRY_EXPORT_ROW_CAP, else ``[export] row_cap`` in secrets.toml."""
    raw = os.environ.get("REGISTRY_EXPORT_ROW_CAP")
    if raw is None:
        try:
            raw = read_secrets().get("export", {}).get("row_cap")
        except Exception:  # an unreadable secrets file is reported where the database is opened
            raw = None
    try:
        return clamp_row_cap(int(raw)) if raw not in (None, "") else DEFAULT_ROW_CAP
    except (TypeError, ValueError):
        return DEFAULT_ROW_CAP


def clamp_row_cap(row_cap: int | None) -> int:
    if row_cap is None:
        return DEFAULT_ROW_CAP
    return max(1, min(int(row_cap), MAX_ROW_CAP))


def frame_chunks(df: pd.DataFrame, size: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """An in-memory table as chunks (the same interface as ``stream_query``)."""
    if df.empty:
        yield df
        return
    for start in range(0, len(df), size):
        yield df.iloc[start:start + size]


def stream_query(engine: Engine, stmt, columns: list[str] | None = None,
                 chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Run ``stmt`` with a server-side cursor and yield DataFrames of ``chunk_rows`` rows.

    Yields one empty frame (with the columns) when there are no rows.
    """
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
        names = columns or list(result.keys())
        empty = True
        for part in result.partitions(chunk_rows):
            empty = False
            yield pd.DataFrame([tuple(r) for r in part], columns=names)
        if empty:
            yield pd.DataFrame([], columns=names)


def display_width(value) -> int:
    """Width in Excel character cells: East Asian wide characters count two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (str, bytes)) else False
    except (TypeError, ValueError):
        return False


def _capped(chunks: Iterable[pd.DataFrame], row_cap: int, masked: bool):
    """Yield (chunk, truncated_here) pairs with at most ``row_cap`` rows in all, masked if asked."""
    remaining = row_cap
    for chunk in chunks:
        if remaining <= 0:
            if len(chunk):
                yield chunk.iloc[0:0], True
            return
        part = chunk.iloc[:remaining]
        cut = len(chunk) > remaining
        remaining -= len(part)
        yield (mask_frame(part) if masked else part), cut
        if cut:
            return


def _written(rows: int, total: int | None) -> tuple[float, str]:
    """The progress after ``rows`` rows of ``total`` expected (unknown: the bar stands full)."""
    goal = total or max(rows, 1)
    return min(rows / goal, 1.0), f"已写入 {rows:,} 行"


def _peek_truncated(chunks: Iterator[pd.DataFrame]) -> bool:
    """After the cap is reached exactly: is there any row left?"""
    for chunk in chunks:
        if len(chunk):
            return True
    return False


def to_xlsx(chunks: Iterable[pd.DataFrame], *, sheet: str = "数据", row_cap: int | None = None,
            masked: bool = True, progress: Progress | None = None, total: int | None = None,
            text_columns: Iterable[str] = ()) -> ExportFile:
    """Write the chunks' rows to one worksheet; the first chunk's columns are the header."""
    cap = clamp_row_cap(row_cap)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="export-") as tmp:
        book = xlsxwriter.Workbook(buffer, {
            "constant_memory": True, "tmpdir": tmp, "strings_to_numbers": False,
            "strings_to_formulas": False, "strings_to_urls": False,
        })
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
        decimal = book.add_format({"num_format": "#,##0.00"})
        sheet_ = book.add_worksheet(_sheet_name(sheet))
        text_cols = set(text_columns)
        rows = 0
        truncated = False
        header: list[str] | None = None
        source = iter(chunks)
        for chunk, cut in _capped(source, cap, masked):
            if header is None:
                header = [str(c) for c in chunk.columns]
                for j, name in enumerate(header):
                    sheet_.write_string(0, j, name, head)
                    sheet_.set_column(j, j, _column_width(name, chunk.iloc[:, j] if len(chunk.columns) else []))
                sheet_.freeze_panes(1, 0)
                sheet_.set_row(0, 24)
            for values in chunk.itertuples(index=False, name=None):
                rows += 1
                for j, value in enumerate(values):
                    _write_cell(sheet_, rows, j, value, header[j] in text_cols, decimal)
            if progress:
                progress(*_written(rows, total))
            truncated = truncated or cut
        if not truncated and rows >= cap:
            truncated = _peek_truncated(source)
        if header is None:
            sheet_.write_string(0, 0, "无数据", head)
        elif header:
            sheet_.autofilter(0, 0, max(rows, 1), len(header) - 1)
        book.close()
    return ExportFile(buffer.getvalue(), rows, truncated, XLSX_MIME, "xlsx")


def to_csv(chunks: Iterable[pd.DataFrame], *, row_cap: int | None = None, masked: bool = True,
           progress: Progress | None = None, total: int | None = None) -> ExportFile:
    """UTF-8 with BOM, comma-separated, header first; numbers as written, empty for missing."""
    cap = clamp_row_cap(row_cap)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    rows = 0
    truncated = False
    header_done = False
    source = iter(chunks)
    for chunk, cut in _capped(source, cap, masked):
        if not header_done:
            writer.writerow([str(c) for c in chunk.columns])
            header_done = True
        for values in chunk.itertuples(index=False, name=None):
            writer.writerow(["" if _is_missing(v) else _csv_value(v) for v in values])
            rows += 1
        if progress:
            progress(*_written(rows, total))
        truncated = truncated or cut
    if not truncated and rows >= cap:
        truncated = _peek_truncated(source)
    return ExportFile(text.getvalue().encode("utf-8-sig"), rows, truncated, CSV_MIME, "csv")


def export(fmt: str, chunks: Iterable[pd.DataFrame], **kwargs) -> ExportFile:
    if fmt == "xlsx":
        return to_xlsx(chunks, **kwargs)
    if fmt == "csv":
        kwargs.pop("sheet", None)
        kwargs.pop("text_columns", None)
        return to_csv(chunks, **kwargs)
    raise ValueError(f"不支持的导出格式:{fmt}")


def file_name(name: str, extension: str, when: dt.date | None = None) -> str:
    """'未脱贫户名单' -> '未脱贫户名单_20250101.xlsx' (characters unsafe in file names removed)."""
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("_") or "导出"
    stamp = (when or dt.date.today()).strftime("%Y%m%d")
    return f"{safe[:60]}_{stamp}.{extension}"


def _sheet_name(name: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", "", name).strip() or "数据"
    return cleaned[:31]


def _column_width(header: str, sample) -> float:
    widest = display_width(header)
    for value in list(sample)[:500]:
        if not _is_missing(value):
            widest = max(widest, display_width(_text_of(value)))
    return float(min(max(widest + 2, 6), MAX_COLUMN_WIDTH))


def _text_of(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:,.2f}"
    return str(value)


def _csv_value(value):
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()[:10] if not isinstance(value, dt.datetime) else value.isoformat(sep=" ")
    return value


def _write_cell(sheet, row: int, col: int, value, as_text: bool, decimal) -> None:
    """Integers unformatted (years must not read 2,016), decimals with 2 places, codes as text."""
    if _is_missing(value):
        return
    if isinstance(value, (bool, np.bool_)):
        sheet.write_string(row, col, "是" if value else "否")
    elif as_text or isinstance(value, str):
        sheet.write_string(row, col, str(value))
    elif isinstance(value, (int, np.integer)):
        sheet.write_number(row, col, int(value))
    elif isinstance(value, (float, np.floating)):
        sheet.write_number(row, col, float(value), decimal)
    elif isinstance(value, pd.Timestamp):
        sheet.write_string(row, col, value.strftime("%Y-%m-%d"))
    elif isinstance(value, (dt.datetime, dt.date)):
        sheet.write_string(row, col, value.isoformat()[:10])
    else:
        sheet.write_string(row, col, str(value))
