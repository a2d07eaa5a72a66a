"""Reading export files: workbooks (.xlsx .xlsm .xlsb .xls .ods) and .csv text (UTF-8, UTF-8 with BOM, UTF-16,
GBK/GB18030).

``read(name, data)`` returns the file's sheets, each a list of
``(row number as the user sees it, [cell values])``. Workbooks are read with
python-calamine (Rust; several times faster than a Python XML parser on
100,000-row exports); cells keep their type: text, int, float, bool, and
dates for numbers formatted as dates. Before anything is decompressed, a
workbook's size is checked against ``LIMITS`` (zip directory sizes and ratios,
then the cells each sheet spans and the shared strings, counted while streaming
the XML in small chunks), so a small file that would expand to gigabytes is
refused with a Chinese message instead of filling memory. Anything that is not
a readable workbook or text file raises :class:`FileError` with a Chinese message.

A large .xlsx worksheet (``SPLIT_FROM``) is read in two halves at once, one per core: the scan keeps what it
inflates, the reader cuts the sheet's XML at a row near its middle into two workbooks stored uncompressed, and
calamine parses them in two threads (it releases the GIL while parsing); the rows are the whole sheet's.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import struct
import zipfile
from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter
from dataclasses import dataclass, field
from functools import lru_cache
from xml.parsers import expat

import python_calamine


class FileError(Exception):
    """The file cannot be read at all; ``str(exc)`` is the reason in Chinese."""


@dataclass(frozen=True)
class Limits:
    """How large a workbook may be once expanded (a small zip can expand a thousandfold)."""

    uncompressed_bytes: int = 512 * 2**20  # all zip members together, as the zip directory states and as read
    ratio: int = 200  # expansion of any member larger than ratio_from
    ratio_from: int = 16 * 2**20
    members: int = 10_000
    cells: int = 8_000_000  # rows × columns each sheet spans (what the reader allocates), all sheets together
    shared_strings: int = 2_000_000


LIMITS = Limits()
MB = 2**20


@dataclass
class RawSheet:
    file: str
    name: str
    rows: list[tuple[int, list]] = field(default_factory=list)
    hidden: bool = False


@dataclass
class RawFile:
    name: str
    kind: str  # "xlsx" / "xlsm" / "xlsb" / "xls" / "ods" / "csv"
    encoding: str | None
    sheets: list[RawSheet]


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".xltx", ".xltm")


def read(name: str, data: bytes, limits: Limits = LIMITS) -> RawFile:
    lower = name.lower()
    if not data:
        raise FileError("文件是空的(0 字节)")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        kept = Inflated()
        kind = check_zip(data, limits, kept)
        return RawFile(name, kind, None, read_workbook(name, data, kind, limits, kept))
    if data[:8] == OLE:
        return RawFile(name, "xls", None, read_workbook(name, data, "xls", limits))
    if lower.endswith(WORKBOOK_EXTENSIONS):
        ext = lower.rsplit(".", 1)[-1]
        raise FileError(f"扩展名是 .{ext},但内容不是 Excel 或 ODS 工作簿(文件可能已损坏、不完整或被改了扩展名)")
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


# ---- workbooks: size checks before reading ----------------------------------------------------------------

_BROKEN = "文件不是有效的 Excel 工作簿,或已损坏、不完整(例如下载未完成)"
_SPLIT = "请把数据分成几个较小的文件分别导入"
CHUNK = 1 << 20


def _too_big(what: str) -> FileError:
    return FileError(f"文件过大,为保护服务器未读取:{what}。{_SPLIT}")


class Inflated(dict):
    """Member name -> its inflated chunks, as the zip scan read them; ``plain``: the worksheets that may be cut
    at a row (``_halves``)."""

    plain: frozenset[str] = frozenset()


def check_zip(data: bytes, limits: Limits = LIMITS, keep: Inflated | None = None) -> str:
    """The workbook kind of a zip file ("xlsx", "xlsm", "xlsb", "ods"), after checking how far it expands.

    First the zip directory (member count, declared sizes and ratios, nothing decompressed); then every member
    is decompressed in 1 MB chunks (never whole) to confirm the sizes, and the sheets are scanned for the cells
    they span and the shared strings they hold. Raises FileError when a limit is passed.
    ``keep``: when an .xlsx/.xlsm has a worksheet large enough to be read in two halves (``split_worth``), it
    gets every member's inflated chunks by name, so the reader need not inflate them again.
    """
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        infos = book.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise FileError(_BROKEN) from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" in names:
        kind = "xlsm" if "xl/vbaProject.bin" in names else "xlsx"
    elif "xl/workbook.bin" in names:
        kind = "xlsb"
    elif "content.xml" in names and b"spreadsheet" in _small(book, "mimetype"):
        kind = "ods"
    elif "content.xml" in names:
        raise FileError("这是 ODF 文字或演示文档,不是电子表格:请导入 .ods、Excel 或 CSV 文件")
    elif "word/document.xml" in names:
        raise FileError("这是 Word 文档(.docx),不是 Excel 工作簿:请从系统导出 Excel 或 CSV")
    else:
        raise FileError("压缩包中没有 Excel 或 ODS 工作簿:可能是其他压缩文件")
    if len(infos) > limits.members:
        raise _too_big(f"压缩包内有 {len(infos):,} 个文件")
    total = sum(i.file_size for i in infos)
    if total > limits.uncompressed_bytes:
        raise _too_big(f"解压后约 {total / MB:,.0f} MB,上限 {limits.uncompressed_bytes / MB:,.0f} MB")
    for i in infos:
        if i.file_size > limits.ratio_from and i.file_size > limits.ratio * max(1, i.compress_size):
            raise _too_big(f"“{i.filename}”压缩了 {i.file_size / max(1, i.compress_size):,.0f} 倍"
                           f"(上限 {limits.ratio} 倍),疑似压缩炸弹")
    scan = _Scan(limits)
    if keep is not None and kind in ("xlsx", "xlsm") and split_worth(infos, len(data)):
        scan.keep = keep
    try:
        for i in infos:
            scan.member(book, i, kind)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error, expat.ExpatError):
        raise FileError(_BROKEN) from None
    if scan.keep is not None:
        scan.keep.plain = frozenset(scan.plain)
    return kind


def _small(book: zipfile.ZipFile, name: str) -> bytes:
    try:
        with book.open(name) as f:
            return f.read(200)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return b""


_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,9})"')
_SHARED_PREFIXED = re.compile(rb"</\w+:si>")  # with bytes.count(b"</si>"): every </si> and </x:si>
_PREFIXED = re.compile(rb"<[A-Za-z][\w.-]*:worksheet\b")


def _col_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        n = n * 26 + ord(ch) - 64
    return n



def _col_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _at_most(text: str, first: str, low: str) -> list[str]:
    """Regex alternatives for the strings (characters ``low``-``Z``/``9``, first one from ``first``) that are
    no greater than ``text``: shorter ones, or as long and not greater character by character."""
    top = "Z" if low == "A" else "9"
    n = len(text)
    out = [f"[{first}-{top}][{low}-{top}]{{0,{n - 2}}}"] if n > 1 else []
    for i, ch in enumerate(text):
        lo = first if i == 0 else low
        if ch > lo:
            out.append(re.escape(text[:i]) + f"[{lo}-{chr(ord(ch) - 1)}]" +
                       (f"[{low}-{top}]{{{n - i - 1}}}" if i < n - 1 else ""))
    out.append(re.escape(text))
    return out


@lru_cache(maxsize=64)
def _beyond(row: int, col: int) -> re.Pattern:
    """A cell reference that is not a plain ``[A-Z]{1,3}[1-9][0-9]{0,8}"`` within column ``col`` and row ``row``
    (a leading zero counts as not plain: the chunk is then read reference by reference, which is exact). One
    negative look-ahead per reference: about half the cost of testing "malformed or beyond" as alternatives."""
    if not row or not col:
        return re.compile(rb'<c r="')  # nothing is within: read every reference
    cols = "|".join(_at_most(_col_letters(col), "A", "A"))
    rows = "|".join(_at_most(str(row), "1", "0"))
    return re.compile(b'<c r="(?!(?:' + cols.encode() + b")(?:" + rows.encode() + b')")')


@lru_cache(maxsize=64)
def _odd_cell(row: int, col: int) -> re.Pattern:
    """A cell tag (``<c>`` or ``<c ...``) that does not start with a plain reference within column ``col`` and
    row ``row``. When a chunk has none, its cells (``<c `` and ``<c>``) and its references (``<c r="``) are the
    same tags, all within (row, col): one search answers what three counts and ``_beyond`` would."""
    if not row or not col:
        return re.compile(rb"<c[ >]")  # nothing is within: every cell tag is odd
    cols = "|".join(_at_most(_col_letters(col), "A", "A"))
    rows = "|".join(_at_most(str(row), "1", "0"))
    return re.compile(b'<c(?:>| (?!r="(?:' + cols.encode() + b")(?:" + rows.encode() + b')"))')


@lru_cache(maxsize=64)
def _odd_cell_or_markup(row: int, col: int) -> re.Pattern:
    """``_odd_cell``, or ``<!`` (a comment, CDATA or DOCTYPE): one search tells both, for a sheet that may be
    read in halves (``_halves`` cuts the XML at a row tag, exact only when no comment or CDATA could hold one)."""
    if not row or not col:
        return re.compile(rb"<(?:!|c[ >])")
    cols = "|".join(_at_most(_col_letters(col), "A", "A"))
    rows = "|".join(_at_most(str(row), "1", "0"))
    return re.compile(b'<(?:!|c(?:>| (?!r="(?:' + cols.encode() + b")(?:" + rows.encode() + b')")))')


class _Scan:
    """Running totals over a workbook's members: bytes actually decompressed, cells spanned, shared strings."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.bytes = 0
        self.cells = 0
        self.strings = 0
        self.keep: dict[str, list[bytes]] | None = None  # member name -> its inflated chunks, when asked
        self.plain: set[str] = set()  # worksheets (when keeping) scanned fast with no "<!" in them

    def add_area(self, rows: int, cols: int, sheet: str) -> None:
        self.cells += rows * cols
        if self.cells > self.limits.cells:
            raise _too_big(f"工作表“{sheet}”展开后有 {rows:,} 行 × {cols:,} 列,全部工作表超过 "
                           f"{self.limits.cells:,} 个单元格的上限")

    def chunks(self, book: zipfile.ZipFile, info: zipfile.ZipInfo):
        kept = None
        if self.keep is not None:
            kept = self.keep[info.filename] = []  # read again (e.g. by _xml_extent): kept afresh
        with book.open(info) as f:
            while True:
                chunk = f.read(CHUNK)
                if not chunk:
                    return
                self.bytes += len(chunk)
                if self.bytes > self.limits.uncompressed_bytes:
                    raise _too_big(f"解压后超过 {self.limits.uncompressed_bytes / MB:,.0f} MB")
                if kept is not None:
                    if self.bytes > SPLIT_UP_TO:  # more than the directory said: keep nothing
                        self.keep.clear()
                        self.keep = kept = None
                    else:
                        kept.append(chunk)
                yield chunk

    def member(self, book: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str) -> None:
        name = info.filename
        if kind in ("xlsx", "xlsm") and name.startswith("xl/worksheets/") and name.endswith(".xml"):
            self.xlsx_sheet(book, info)
        elif kind in ("xlsx", "xlsm") and name == "xl/sharedStrings.xml":
            for chunk in self._overlapping(book, info):
                self.strings += chunk.count(b"</si>")
                if b":si>" in chunk:
                    self.strings += len(_SHARED_PREFIXED.findall(chunk))
                if self.strings > self.limits.shared_strings:
                    raise _too_big(f"共享字符串超过 {self.limits.shared_strings:,} 个")
        elif kind == "xlsb" and name.startswith("xl/worksheets/") and name.endswith(".bin"):
            self.xlsb_sheet(book, info)
        elif kind == "xlsb" and name == "xl/sharedStrings.bin":
            self.xlsb_strings(book, info)
        elif kind == "ods" and name == "content.xml":
            self.ods_content(book, info)
        else:
            for _ in self.chunks(book, info):  # confirm the declared size (and the CRC) without keeping anything
                pass

    def _overlapping(self, book, info):
        """Chunks cut after their last '<', the rest carried into the next one, so no tag is split."""
        carry = b""
        for chunk in self.chunks(book, info):
            chunk = carry + chunk
            cut = chunk.rfind(b"<")
            if cut <= 0:
                carry = b""
                yield chunk
            else:
                carry = chunk[cut:]
                if len(carry) > 4096:  # not XML as Excel writes it; scan it as it is
                    carry = b""
                    yield chunk
                else:
                    yield chunk[:cut]
        if carry:
            yield carry

    def xlsx_sheet(self, book, info) -> None:
        """Rows × columns a worksheet spans: the highest row number and column letter in its cell references.

        Exact, without a Python object per cell: each chunk's last reference raises the running maximum (a
        reference that exists), then ONE regex search asks whether any reference of the chunk lies beyond it or
        is not a plain ``A1`` reference; only then is that chunk's every reference read. The references counted
        (``<c r="``) must equal the cells (``<c ``), else the sheet is measured exactly through expat.
        """
        max_row = max_col = 0
        cells = refs = 0
        first = True
        plain = self.keep is not None
        for chunk in self._overlapping(book, info):
            if first and _PREFIXED.search(chunk[:4000]):
                return self._xml_extent(book, info)
            first = False
            at = chunk.rfind(b'<c r="')
            last = _CELL_REF.match(chunk, at) if at >= 0 else None
            row = col = 0
            if last:
                col, row = _col_number(last.group(1)), int(last.group(2))
            row, col = max(max_row, row), max(max_col, col)
            if plain:
                odd = _odd_cell_or_markup(row, col).search(chunk)
                if odd is not None and chunk.startswith(b"<!", odd.start()):
                    plain = False
                    odd = _odd_cell(row, col).search(chunk)
            else:
                odd = _odd_cell(row, col).search(chunk)
            if odd is None:  # as many cells as references, all within (row, col)
                max_row, max_col = row, col
                continue
            if plain and b"<!" in chunk:
                plain = False
            cells += chunk.count(b"<c ") + chunk.count(b"<c>")
            n = chunk.count(b'<c r="')
            if not n:
                continue
            if _beyond(row, col).search(chunk) is None:  # every reference well-formed and within (row, col)
                refs += n
                max_row, max_col = row, col
                continue
            found = _CELL_REF.findall(chunk)
            if found:
                refs += len(found)
                letters = set(map(_FIRST, found))
                max_col = max(max_col, _col_number(max(letters, key=lambda x: (len(x), x))))
                max_row = max(max_row, max(map(int, set(map(_SECOND, found)))))
        if cells != refs:
            return self._xml_extent(book, info)  # cells without references: count exactly
        if plain:
            self.plain.add(info.filename)
        self.add_area(max_row, max_col, info.filename)

    def _xml_extent(self, book, info) -> None:
        """Exact extent by streaming the sheet XML through expat (slower; for sheets written without references)."""
        state = {"row": 0, "col": 0, "max_row": 0, "max_col": 0}

        def start(tag, attrs):
            tag = tag.rsplit(":", 1)[-1]
            if tag == "row":
                r = attrs.get("r")
                state["row"] = int(r) if r else state["row"] + 1
                state["col"] = 0
            elif tag == "c":
                ref = attrs.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    state["col"] = _col_number(letters)
                    digits = ref[len(letters):]
                    if digits:
                        state["max_row"] = max(state["max_row"], int(digits))
                else:
                    state["col"] += 1
                state["max_col"] = max(state["max_col"], state["col"])
                state["max_row"] = max(state["max_row"], state["row"])

        parser = expat.ParserCreate()
        parser.StartElementHandler = start
        for chunk in self.chunks(book, info):
            parser.Parse(chunk, False)
            if state["max_row"] * state["max_col"] + self.cells > self.limits.cells:
                break
        else:
            parser.Parse(b"", True)
        self.add_area(state["max_row"], state["max_col"], info.filename)

    def ods_content(self, book, info) -> None:
        """Rows × columns each table spans, repeats (table:number-rows/columns-repeated) multiplied out."""
        st = {"table": "", "row": 0, "row_rep": 1, "col": 0, "max_row": 0, "max_col": 0, "row_has": False,
              "cell_rep": 1, "cell_has": False, "in_cell": False}

        def start(tag, attrs):
            if tag == "table:table":
                st.update(table=attrs.get("table:name", ""), row=0, max_row=0, max_col=0)
            elif tag == "table:table-row":
                st.update(row_rep=int(attrs.get("table:number-rows-repeated", "1")), col=0, row_has=False)
            elif tag in ("table:table-cell", "table:covered-table-cell"):
                st.update(cell_rep=int(attrs.get("table:number-columns-repeated", "1")), in_cell=True,
                          cell_has="office:value-type" in attrs)
            elif st["in_cell"] and tag in ("text:p", "text:span", "text:s"):
                st["cell_has"] = True

        def end(tag):
            if tag in ("table:table-cell", "table:covered-table-cell"):
                st["col"] += st["cell_rep"]
                if st["cell_has"]:
                    st["max_col"] = max(st["max_col"], st["col"])
                    st["row_has"] = True
                st["in_cell"] = False
            elif tag == "table:table-row":
                st["row"] += st["row_rep"]
                if st["row_has"]:
                    st["max_row"] = st["row"]
            elif tag == "table:table":
                self.add_area(st["max_row"], st["max_col"], st["table"])

        parser = expat.ParserCreate()
        parser.StartElementHandler, parser.EndElementHandler = start, end
        for chunk in self.chunks(book, info):
            parser.Parse(chunk, False)
            if st["max_row"] * st["max_col"] + self.cells > self.limits.cells:
                self.add_area(st["max_row"], st["max_col"], st["table"])
        parser.Parse(b"", True)

    def xlsb_records(self, book, info):
        """(record type, payload) of a BIFF12 part, read whole (its size is already bounded and confirmed)."""
        data = b"".join(self.chunks(book, info))
        i, n = 0, len(data)
        while i < n:
            rtype = data[i]
            i += 1
            if rtype & 0x80:
                rtype = (rtype & 0x7F) | ((data[i] & 0x7F) << 7)
                i += 1
            size = shift = 0
            for _ in range(4):
                b = data[i]
                i += 1
                size |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            yield rtype, data[i:i + min(size, 8)]
            i += size

    def xlsb_sheet(self, book, info) -> None:
        max_row = max_col = 0
        row = 0
        for rtype, head in self.xlsb_records(book, info):
            if rtype == 0 and len(head) >= 4:  # BrtRowHdr
                row = struct.unpack_from("<I", head)[0]
            elif 1 <= rtype <= 13 and len(head) >= 4:  # BrtCell*: column first
                col = struct.unpack_from("<I", head)[0]
                max_row = max(max_row, row + 1)
                max_col = max(max_col, col + 1)
        self.add_area(max_row, max_col, info.filename)

    def xlsb_strings(self, book, info) -> None:
        for rtype, head in self.xlsb_records(book, info):
            if rtype == 159 and len(head) >= 8:  # BrtBeginSst: cstTotal, cstUnique
                unique = struct.unpack_from("<I", head, 4)[0]
                if unique > self.limits.shared_strings:
                    raise _too_big(f"共享字符串 {unique:,} 个,上限 {self.limits.shared_strings:,} 个")
            elif rtype == 19:  # BrtSSTItem
                self.strings += 1
                if self.strings > self.limits.shared_strings:
                    raise _too_big(f"共享字符串超过 {self.limits.shared_strings:,} 个")


# ---- workbooks: reading ----------------------------------------------------------------------------------


SPLIT_FROM = 16 * MB  # a worksheet's XML from this size is read in two halves at once (two cores)
SPLIT_UP_TO = 256 * MB  # all members together, inflated: beyond, the halves' copies would cost too much memory
SPLIT_RATIO = 32  # ... and at most this many times the file's size (real exports: 5-12), so that the scan keeps
# little of a small file that a limit refuses (it keeps what it inflates until it has read the whole workbook)


def split_worth(infos: list[zipfile.ZipInfo], size: int) -> bool:
    """Whether an .xlsx is worth reading in halves: a large worksheet, the whole not too large (inflated, and
    for the file's size), no member name twice."""
    names = [i.filename for i in infos]
    total = sum(i.file_size for i in infos)
    return (len(set(names)) == len(names) and total <= min(SPLIT_UP_TO, SPLIT_RATIO * size) and
            any(n.startswith("xl/worksheets/") and n.endswith(".xml") and i.file_size >= SPLIT_FROM
                for n, i in zip(names, infos)))


_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')


def _window(chunks: list[bytes], i: int, step: int) -> tuple[int, bytes]:
    """At least 1 MB of ``chunks`` joined, from chunk ``i`` on (step 1) or back to it (step -1): (index of the
    window's first chunk, the bytes)."""
    j, size = i, 0
    while 0 <= j < len(chunks) and size < MB:
        size += len(chunks[j])
        j += step
    lo, hi = (i, j) if step > 0 else (j + 1, i + 1)
    return lo, chunks[lo] if hi == lo + 1 else b"".join(chunks[lo:hi])


def _halves(chunks: list[bytes]) -> tuple[list, list] | None:
    """A worksheet's XML (as chunks) cut in two at a row tag near its middle: (first, second), each a list of byte
    pieces that make a worksheet with those rows and the rest of the sheet's XML; None when the cut points are
    not where this looks for them (``<sheetData>`` in the first MB, ``</sheetData>`` in the last, a
    ``<row r="`` in the MB after the middle chunk's start). The scan has made sure there is no ``<!`` (comment,
    CDATA) that could hold a row tag, and calamine numbers a row without r="…" after the row before it, so the
    second half, which starts with a numbered row, gives the rows the whole sheet gives there."""
    n = len(chunks)
    if n < 3:
        return None
    head_at, head = _window(chunks, 0, 1)
    start = head.find(b"<sheetData>")
    tail_at, tail = _window(chunks, n - 1, -1)
    end = tail.rfind(b"</sheetData>")
    mid_at = n // 2
    _, middle = _window(chunks, mid_at, 1)
    cut = middle.find(b'<row r="')
    if start < 0 or end < 0 or cut < 0:
        return None
    start += len(b"<sheetData>")
    offsets = [0]
    for c in chunks:
        offsets.append(offsets[-1] + len(c))
    start, end, cut = offsets[head_at] + start, offsets[tail_at] + end, offsets[mid_at] + cut
    if not start <= cut < end:
        return None

    def part(a: int, b: int) -> list:
        """The bytes a..b of the XML as views of its chunks."""
        out = []
        for i in range(len(chunks)):
            lo, hi = max(a, offsets[i]), min(b, offsets[i + 1])
            if lo < hi:
                out.append(memoryview(chunks[i])[lo - offsets[i]:hi - offsets[i]])
        return out

    total = offsets[-1]
    return part(0, cut) + part(end, total), part(0, start) + part(cut, total)


def _stored_zip(members: list[tuple[zipfile.ZipInfo, list]]):
    """A zip of the given members (info, byte pieces), stored uncompressed (calamine then inflates nothing),
    written to a memory file (Linux memfd) that calamine opens by path, else to a BytesIO (calamine copies that
    through Python's file API, about twice as slow)."""
    try:
        fd = os.memfd_create("import-half", getattr(os, "MFD_CLOEXEC", 0))
    except (AttributeError, OSError):
        fd = None
    if fd is not None and os.path.exists(f"/proc/self/fd/{fd}"):
        out = os.fdopen(fd, "w+b")
    else:
        if fd is not None:
            os.close(fd)
        fd, out = None, io.BytesIO()
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            for info, pieces in members:
                with z.open(zipfile.ZipInfo(info.filename, info.date_time), "w") as f:
                    for piece in pieces:
                        f.write(piece)
        if fd is None:
            out.seek(0)
            return lambda: python_calamine.CalamineWorkbook.from_filelike(out)
        out.flush()
    except BaseException:
        out.close()
        raise

    def open_book():
        try:
            return python_calamine.CalamineWorkbook.from_path(f"/proc/self/fd/{fd}")  # its own descriptor
        finally:
            out.close()
    return open_book


def _split_books(data: bytes, kept: Inflated):
    """Two workbooks (as functions that open them) from the scan's inflated members: the first with every large
    worksheet's first half, the second with their second halves (its other worksheets empty); None when no
    worksheet splits."""
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    if any(i.filename not in kept for i in infos):
        return None
    first, second = [], []
    split = False
    for info in infos:
        name = info.filename
        pieces = kept[name]
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            halves = (_halves(pieces) if name in kept.plain and sum(map(len, pieces)) >= SPLIT_FROM else None)
            if halves:
                first.append((info, halves[0]))
                second.append((info, halves[1]))
                split = True
            else:
                first.append((info, pieces))
                second.append((info, [_EMPTY_SHEET]))
        else:
            first.append((info, pieces))
            second.append((info, pieces))
    if not split:
        return None
    return _stored_zip(first), _stored_zip(second)


def _open_sheets(open_book, names: list[str]) -> list:
    found = open_book()
    return [found.get_sheet_by_name(name) for name in names]


def _read_halves(name: str, first, second) -> list[RawSheet]:
    """The worksheets of the two half workbooks (``_split_books``): the second is parsed in another thread while
    this one parses the first and turns its rows into Python's; the halves' rows are joined."""
    book = first()
    metas = [meta for meta in book.sheets_metadata
             if str(meta.typ).rsplit(".", 1)[-1] in ("WorkSheet", "Worksheet")]
    pool = ThreadPoolExecutor(1, thread_name_prefix="calamine")
    try:
        later = pool.submit(_open_sheets, second, [meta.name for meta in metas])
    finally:
        pool.shutdown(wait=False)
    del second
    sheets = []
    for i, meta in enumerate(metas):
        raw = RawSheet(name, meta.name, hidden=str(meta.visible).rsplit(".", 1)[-1] != "Visible")
        raw.rows = _joined(book.get_sheet_by_name(meta.name), lambda i=i: later.result()[i])
        sheets.append(raw)
    return sheets


def _joined(a, second) -> list[tuple[int, list]]:
    """The rows of a worksheet read in two halves (``second()`` gives the second half's sheet), as the whole
    sheet read at once gives them: calamine starts a range at its first non-empty column, so the half that
    starts further right is shifted to the other's."""
    if a.start is None or not a.height:
        b = second()
        return _rows(b.to_python(skip_empty_area=True), b.start[0] + 1) if b.start is not None and b.height else []
    rows = _rows(a.to_python(skip_empty_area=True), a.start[0] + 1)
    b = second()
    if b.start is None or not b.height:
        return rows
    more = _rows(b.to_python(skip_empty_area=True), b.start[0] + 1)
    shift = b.start[1] - a.start[1]
    if shift > 0:
        pad = [None] * shift
        more = [(n, pad + cells) for n, cells in more]
    elif shift < 0:
        pad = [None] * -shift
        rows = [(n, pad + cells) for n, cells in rows]
    return rows + more


def read_workbook(name: str, data: bytes, kind: str, limits: Limits = LIMITS,
                  kept: Inflated | None = None) -> list[RawSheet]:
    """Every worksheet of a workbook (python-calamine), cells as text, int, float, bool, date or datetime.

    ``kept``: the scan's inflated members (``check_zip``). A large worksheet is then read in two halves at once,
    each by calamine in its own thread (calamine parses without holding the GIL): two workbooks are put
    together, stored uncompressed, one with the first half of its rows, one with the second (each with all the
    shared strings and styles), and the halves' rows joined give what the whole sheet gives.
    """
    try:
        sheets = None
        if kept:
            try:
                halves = _split_books(data, kept)
                kept.clear()  # the chunks are in the halves' files now (or not needed)
                sheets = _read_halves(name, *halves) if halves else None
            except BaseException as exc:  # a Rust panic too; read whole: what fails then is what the user is told
                if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
                    raise
                sheets = None
        if sheets is None:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheets = []
            for meta in book.sheets_metadata:
                if str(meta.typ).rsplit(".", 1)[-1] not in ("WorkSheet", "Worksheet"):
                    continue
                sheet = book.get_sheet_by_name(meta.name)
                if kind == "xls" and sheet.height * sheet.width > limits.cells:
                    raise _too_big(f"工作表“{meta.name}”有 {sheet.height:,} 行 × {sheet.width:,} 列")
                raw = RawSheet(name, meta.name, hidden=str(meta.visible).rsplit(".", 1)[-1] != "Visible")
                start = sheet.start
                first = start[0] + 1 if start else 1
                raw.rows = _rows(sheet.to_python(skip_empty_area=True), first)
                sheets.append(raw)
    except FileError:
        raise
    except python_calamine.PasswordError:
        raise FileError("工作簿设有打开密码,无法读取:请在 Excel 中取消密码后再导入") from None
    except BaseException as exc:  # calamine's own errors, and a Rust panic (not an Exception subclass)
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            raise
        if kind == "xls" and data[:8] == OLE and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00" in data[:1 << 16]:
            raise FileError("工作簿设有打开密码,无法读取:请在 Excel 中取消密码后再导入") from None
        what = {"xls": "旧版 Excel(.xls)", "xlsb": "Excel 二进制(.xlsb)", "ods": "ODS"}.get(kind, "Excel")
        raise FileError(f"{what}工作簿内容已损坏或不完整,无法读取({type(exc).__name__})") from None
    if not sheets:
        raise FileError("工作簿中没有工作表")
    return sheets


def _rows(values: list[list], first: int) -> list[tuple[int, list]]:
    """Calamine's rows as the importer's: empty cells None, empty rows left out.

    Numbers stay as calamine gives them (float; the value parsers read 2.0 as 2), blank-looking text stays
    text (the parsers treat it as empty): one pass per row in C, no per-cell Python.
    """
    out = []
    for n, row in enumerate(values, first):
        cells = [None if v == "" else v for v in row]
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            out.append((n, cells))
    return out
