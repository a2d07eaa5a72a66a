"""Reading export files: .xlsx workbooks and .csv text (UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030).

``read(name, data)`` returns the file's sheets, each a list of
``(row number as the user sees it, [cell values])``. Workbooks are read by a
streaming parser of the sheet XML (several times faster than openpyxl on
100,000-row exports); cells keep their type: text, int, float, bool, and
dates for numbers formatted as dates. Anything that is not a readable
workbook or text file raises :class:`FileError` with a Chinese message.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.parsers import expat


class FileError(Exception):
    """The file cannot be read at all; ``str(exc)`` is the reason in Chinese."""


@dataclass
class RawSheet:
    file: str
    name: str
    rows: list[tuple[int, list]] = field(default_factory=list)


@dataclass
class RawFile:
    name: str
    kind: str  # "xlsx" / "csv"
    encoding: str | None
    sheets: list[RawSheet]


def read(name: str, data: bytes) -> RawFile:
    lower = name.lower()
    if not data:
        raise FileError("文件是空的(0 字节)")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return RawFile(name, "xlsx", None, read_xlsx(name, data))
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError("这是旧版 Excel(.xls)文件,暂不支持:请在 Excel 中“另存为” .xlsx 后再导入")
    if lower.endswith((".xlsx", ".xlsm")):
        raise FileError("扩展名是 .xlsx,但内容不是 Excel 工作簿(文件可能已损坏、不完整或被改了扩展名)")
    if data[:5] == b"%PDF-":
        raise FileError("这是 PDF 文件,无法导入:请从系统导出 Excel 或 CSV")
    text, encoding = decode(data)
    return RawFile(name, "csv", encoding, [read_csv_text(name, text)])


# ---- CSV -------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8"), "UTF-8(带 BOM)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16"), "UTF-16"
    if b"\x00" in data[:4096]:
        raise FileError("文件不是文本(CSV)也不是 Excel 工作簿,无法导入")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030/GBK"
    except UnicodeDecodeError:
        raise FileError("无法识别文件编码(支持 UTF-8 与 GBK/GB18030),文件可能不是 CSV") from None


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileError(f"文件声明为 {encoding} 编码,但第 {exc.start} 字节处无法解码(文件可能已损坏)") from None


_EXCEL_TEXT = re.compile(r'^="(.*)"$')


def read_csv_text(name: str, text: str) -> RawSheet:
    head = [line for line in text.splitlines()[:40] if line.strip()]
    delimiter = max((",", "\t", ";", "|"), key=lambda d: sum(line.count(d) for line in head))
    sheet = RawSheet(name, "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            values = []
            for cell in cells:
                m = _EXCEL_TEXT.match(cell)
                if m:
                    cell = m.group(1)
                values.append(cell if cell.strip() else None)
            while values and values[-1] is None:
                values.pop()
            sheet.rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise FileError(f"CSV 格式错误(第 {reader.line_num} 行):{exc}") from None
    return sheet


# ---- XLSX ------------------------------------------------------------------------

# Built-in number formats that are dates or times (ECMA-376 18.8.30, plus the CJK ones).
DATE_FORMAT_IDS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
EPOCH = dt.datetime(1899, 12, 30)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(el, name: str):
    for key, value in el.attrib.items():
        if _local(key) == name:
            return value
    return None


def _is_date_format(code: str) -> bool:
    code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code.lower())
    return bool(re.search(r"[ymdhs]", code)) and "general" not in code


def read_xlsx(name: str, data: bytes) -> list[RawSheet]:
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        names = set(book.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        raise FileError("文件不是有效的 Excel(.xlsx)工作簿,或已损坏、不完整(例如下载未完成)") from None
    if "xl/workbook.xml" not in names:
        raise FileError("压缩包中没有 Excel 工作簿(xl/workbook.xml):可能是 Word 文档或其他压缩文件")
    try:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        rels = {}
        if "xl/_rels/workbook.xml.rels" in names:
            for rel in ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels")):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                rels[rel.get("Id")] = path
        shared = _shared_strings(book.read("xl/sharedStrings.xml")) if "xl/sharedStrings.xml" in names else []
        date_styles = _date_styles(book.read("xl/styles.xml")) if "xl/styles.xml" in names else set()
        sheets = []
        for el in workbook.iter():
            if _local(el.tag) != "sheet":
                continue
            path = rels.get(_attr(el, "id"))
            if not path or path not in names:
                continue
            rows = _sheet_rows(book.read(path), shared, date_styles)
            sheets.append(RawSheet(name, el.get("name", ""), rows))
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, ValueError, IndexError, expat.ExpatError,
            ElementTree.ParseError) as exc:
        raise FileError(f"Excel 工作簿内容已损坏或不完整,无法读取({type(exc).__name__})") from None
    if not sheets:
        raise FileError("Excel 工作簿中没有工作表")
    return sheets


def _shared_strings(xml: bytes) -> list[str]:
    out: list[str] = []
    parts: list[str] = []
    state = {"t": False, "rph": 0}

    def start(tag, attrs):
        if tag == "si":
            parts.clear()
        elif tag == "t" and not state["rph"]:
            state["t"] = True
        elif tag == "rPh":
            state["rph"] += 1

    def end(tag):
        if tag == "si":
            out.append("".join(parts))
        elif tag == "t":
            state["t"] = False
        elif tag == "rPh":
            state["rph"] -= 1

    def chars(text):
        if state["t"]:
            parts.append(text)

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    parser.Parse(_strip_ns(xml), True)
    return out


def _strip_ns(xml: bytes) -> bytes:
    """Drop element prefixes (x:row → row) so both plain and prefixed OOXML parse the same."""
    if re.search(rb"<[A-Za-z][\w.-]*:(worksheet|sst)\b", xml[:4000]):
        return re.sub(rb"<(/?)[A-Za-z][\w.-]*:", rb"<\1", xml)
    return xml


def _date_styles(xml: bytes) -> set[int]:
    root = ElementTree.fromstring(xml)
    custom = {}
    for el in root.iter():
        if _local(el.tag) == "numFmt":
            custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
    out = set()
    for el in root.iter():
        if _local(el.tag) == "cellXfs":
            for i, xf in enumerate(x for x in el if _local(x.tag) == "xf"):
                fmt = int(xf.get("numFmtId", "0"))
                if fmt in DATE_FORMAT_IDS or (fmt in custom and _is_date_format(custom[fmt])):
                    out.add(i)
    return out


_COLUMNS: dict[str, int] = {}
_DIGITS = "0123456789"


def _column(ref: str) -> int:
    letters = ref.rstrip(_DIGITS)
    n = _COLUMNS.get(letters)
    if n is None:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        n -= 1
        _COLUMNS[letters] = n
    return n


def _sheet_rows(xml: bytes, shared: list[str], date_styles: set[int]) -> list[tuple[int, list]]:
    """Rows of one worksheet: [(row number, [cell values...])], empty rows left out."""
    rows: list[tuple[int, list]] = []
    cells: list = []
    rnum = 0
    col = -1
    ctype = None
    style = "0"
    value = None
    collecting = False
    inline = False
    dates = {str(i) for i in date_styles}

    def start(tag, attrs):
        nonlocal rnum, col, ctype, style, value, collecting, inline, cells
        if tag == "c":
            ref = attrs.get("r")
            col = _column(ref) if ref else col + 1
            ctype = attrs.get("t")
            style = attrs.get("s", "0")
            value = None
        elif tag == "v":
            collecting = True
            value = ""
        elif tag == "t":
            if inline:
                collecting = True
                if value is None:
                    value = ""
        elif tag == "is":
            inline = True
        elif tag == "row":
            r = attrs.get("r")
            rnum = int(r) if r else rnum + 1
            col = -1
            cells = []

    def end(tag):
        nonlocal collecting, inline
        if tag == "c":
            raw = value
            if raw is None:
                return
            t = ctype
            if t == "s":
                cell = shared[int(raw)]
            elif t == "str" or t == "inlineStr" or t == "e":
                cell = raw
            elif t == "b":
                cell = raw.strip() == "1"
            elif t == "d":
                cell = dt.datetime.fromisoformat(raw.strip().replace("Z", ""))
            else:
                text = raw.strip()
                if not text:
                    return
                cell = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
                if style in dates and 0 < cell < 2958466:
                    stamp = EPOCH + dt.timedelta(days=float(cell))
                    cell = stamp.date() if stamp.time() == dt.time(0) else stamp
            if type(cell) is str and not cell.strip():
                return
            gap = col - len(cells)
            if gap >= 0:
                if gap:
                    cells.extend([None] * gap)
                cells.append(cell)
            else:
                cells[col] = cell
        elif tag == "v" or tag == "t":
            collecting = False
        elif tag == "is":
            inline = False
        elif tag == "row":
            if cells:
                rows.append((rnum, cells))

    def chars(text):
        nonlocal value
        if collecting:
            value += text

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    parser.Parse(_strip_ns(xml), True)
    return rows
