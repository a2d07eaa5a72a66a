"""Every workbook format a county has (.xlsx .xls .xlsb .ods, read with python-calamine), the 导出时间 line,
and refusing workbooks that would expand far beyond their size (issue 24 item 6).

The fixtures under tests/fixtures/ are written by tests/fixtures/make_workbooks.py (its PLACES and PERSONS are
the expected rows); .xls and .ods are LibreOffice's conversions of the .xlsx, .xlsb is written record by record.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from data_access import db
from data_access.importer import read as R
from tests.helpers import errors, rows as q, run, snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
import make_workbooks as M  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _day(value):
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


@pytest.mark.parametrize("ext", ["xlsx", "xls", "xlsb", "ods"])
def test_each_workbook_format_writes_exactly_its_rows(empty, ext):
    name = f"people.{ext}"
    result = run(empty, [(name, (FIXTURES / name).read_bytes())])
    assert errors(result) == [] and result.written, result.problems
    assert result.files[0].format == ext
    assert [(s["name"], s["kind"], s["header_row"], s["rows"]) for s in result.files[0].sheets] == [
        ("区划", "区划", 1, len(M.PLACES) - 1), ("人员", "人员", 3, len(M.PERSONS))]
    regions = q(empty, "SELECT code, name, level, parent_code, rural_population FROM region ORDER BY code")
    levels = {"县": "county", "乡镇": "town", "行政村": "village"}
    assert [(c, n, lv, p, pop) for c, n, lv, p, pop in regions] == [
        (code, name, levels[level], parent, pop) for code, name, level, parent, pop in M.PLACES[1:]]
    people = q(empty, "SELECT p.hh_id, p.name, p.id_number, p.relation, p.sex, p.birth_date, h.member_count, "
                      "h.village_code, h.safe_water FROM person p JOIN household h ON h.hh_id = p.hh_id "
                      "ORDER BY p.id_number")
    c = {h: i for i, h in enumerate(M.PERSON_HEADER)}
    expected = sorted(((r[c["户编号"]], r[c["姓名"]], r[c["证件号码"]], r[c["与户主关系"]], r[c["性别"]],
                        r[c["出生日期"]], r[c["人数"]], r[c["区划代码"]], r[c["是否安全饮水"]] == "是")
                       for r in M.PERSONS), key=lambda t: t[2])
    assert [(*p[:5], _day(p[5]), p[6], p[7], bool(p[8])) for p in people] == expected
    # The 导出时间 line above the header is the data's as-of date.
    assert db.read_meta(empty)["data_as_of"] == "2020-10-31"


def test_as_of_overrides_the_export_time(empty):
    result = run(empty, [("people.xlsx", (FIXTURES / "people.xlsx").read_bytes())], as_of=dt.date(2020, 12, 31))
    assert result.written and result.exported_at == dt.date(2020, 10, 31)
    assert db.read_meta(empty)["data_as_of"] == "2020-12-31"


def test_export_time_variants_above_the_header():
    from data_access.importer.spec import exported_at

    assert exported_at([(1, ["云岭县建档立卡人员名单"]), (2, ["导出时间:2020-10-31 16:02"])]) == dt.date(2020, 10, 31)
    assert exported_at([(1, ["导出时间:", "2020/10/31"])]) == dt.date(2020, 10, 31)
    assert exported_at([(1, ["导出时间", dt.datetime(2019, 12, 31, 9, 0)])]) == dt.date(2019, 12, 31)
    assert exported_at([(1, ["导出日期:2020年6月30日"])]) == dt.date(2020, 6, 30)
    assert exported_at([(1, ["云岭县"]), (2, ["单位:万元"])]) is None


# ---- bombs -------------------------------------------------------------------------------------------------------


def _xlsx(sheet_data: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    ns = "http://schemas.openxmlformats.org"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", f'<Types xmlns="{ns}/package/2006/content-types"><Default Extension="xml" '
                                          'ContentType="application/xml"/></Types>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" '
                                  f'Type="{ns}/officeDocument/2006/relationships/officeDocument" '
                                  'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/'
                                      '2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
                                      '</sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{ns}/package/2006/relationships">'
                                                 f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/'
                                                 'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                                                 '</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData>'.encode()
                   + sheet_data + b"</sheetData></worksheet>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def _refused(data: bytes, name: str = "bomb.xlsx", limits: str = "R.LIMITS") -> tuple[str, int]:
    """Read ``data`` in a fresh interpreter: (the refusal, peak memory in MB)."""
    script = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {str(ROOT)!r})
        from data_access.importer import read as R
        data = sys.stdin.buffer.read()
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            R.read({name!r}, data, {limits})
            print("READ")
        except R.FileError as exc:
            print(exc)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], input=data, capture_output=True, timeout=300, check=True)
    message, peak = out.stdout.decode().strip().rsplit("\n", 1)
    return message, int(peak)


def test_two_far_apart_cells_are_refused_before_reading():
    """2 cells, A1 and XFD1048576: a 1 KB file the reader would expand to 17 billion cells."""
    data = _xlsx(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    assert len(data) < 2000
    message, peak = _refused(data)
    assert message == ("文件过大,为保护服务器未读取:工作表“xl/worksheets/sheet1.xml”展开后有 1,048,576 行 × 16,384 列,"
                       "全部工作表超过 8,000,000 个单元格的上限。请把数据分成几个较小的文件分别导入")
    assert peak < 50


def test_a_zip_bomb_is_refused_from_its_directory():
    """A sheet of 100 MB of blanks compresses to 100 KB: refused from the zip directory, nothing inflated.

    (With the limit lowered to 64 MB so the test need not compress the 600 MB it takes to pass 512 MB.)
    """
    data = _xlsx(b"<row>" + b" " * (100 * 2**20) + b"</row>")
    assert len(data) < 2**20 // 4
    message, peak = _refused(data, limits="R.Limits(uncompressed_bytes=64 * 2**20)")
    assert message == "文件过大,为保护服务器未读取:解压后约 100 MB,上限 64 MB。请把数据分成几个较小的文件分别导入"
    assert peak < 50
    message, peak = _refused(data)  # within 512 MB, but 1,000 times its compressed size
    assert message.startswith("文件过大,为保护服务器未读取:“xl/worksheets/sheet1.xml”压缩了 ")
    assert message.endswith(" 倍(上限 200 倍),疑似压缩炸弹。请把数据分成几个较小的文件分别导入")
    assert peak < 50


def test_a_lying_zip_directory_is_caught_while_inflating():
    """The directory says 1 KB but the member inflates to 40 MB: reading stops at the stated size (CRC fails)."""
    data = bytearray(_xlsx(b"<row>" + b" " * (40 * 2**20) + b"</row>"))
    big = 40 * 2**20
    for i in range(len(data) - 4):  # patch the stated uncompressed size in both headers
        if data[i:i + 4] in (b"PK\x03\x04", b"PK\x01\x02"):
            off = i + (22 if data[i:i + 4] == b"PK\x03\x04" else 24)
            if struct_u32(data, off) >= big:
                data[off:off + 4] = (1024).to_bytes(4, "little")
    message, peak = _refused(bytes(data))
    assert message == "文件不是有效的 Excel 工作簿,或已损坏、不完整(例如下载未完成)"
    assert peak < 50


def struct_u32(data, off) -> int:
    return int.from_bytes(data[off:off + 4], "little")


def test_too_many_shared_strings_are_refused():
    """Counted while streaming sharedStrings.xml (here against a limit of 1,000 rather than 2,000,000)."""
    strings = b"".join(b"<si><t>%d</t></si>" % i for i in range(1001))
    data = _xlsx(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
                 {"xl/sharedStrings.xml": b'<sst xmlns="x">' + strings + b"</sst>"})
    with pytest.raises(R.FileError) as refused:
        R.read("a.xlsx", data, R.Limits(shared_strings=1000))
    assert str(refused.value) == ("文件过大,为保护服务器未读取:共享字符串超过 1,000 个。"
                                  "请把数据分成几个较小的文件分别导入")
    assert R.read("a.xlsx", data, R.Limits(shared_strings=1001)).sheets[0].rows == [(1, ["0"])]


def test_an_ods_repeating_a_cell_a_billion_times_is_refused():
    content = (b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               b'<table:table table:name="S"><table:table-row table:number-rows-repeated="1048576">'
               b'<table:table-cell table:number-columns-repeated="1024" office:value-type="float" office:value="1">'
               b'<text:p>1</text:p></table:table-cell></table:table-row></table:table>'
               b'</office:spreadsheet></office:body></office:document-content>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
    message, peak = _refused(out.getvalue(), "bomb.ods")
    assert message == ("文件过大,为保护服务器未读取:工作表“S”展开后有 1,048,576 行 × 1,024 列,全部工作表超过 "
                       "8,000,000 个单元格的上限。请把数据分成几个较小的文件分别导入")
    assert peak < 50


def test_a_refused_bomb_leaves_the_database_unchanged(empty):
    before = snapshot(empty)
    data = _xlsx(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    result = run(empty, [("bomb.xlsx", data)])
    assert not result.written and [p.reason for p in result.errors] == [
        "文件过大,为保护服务器未读取:工作表“xl/worksheets/sheet1.xml”展开后有 1,048,576 行 × 16,384 列,"
        "全部工作表超过 8,000,000 个单元格的上限。请把数据分成几个较小的文件分别导入"]
    assert snapshot(empty) == before


def test_limits_are_checked_on_the_real_reader():
    """A workbook within a small cell limit reads; one cell more is refused (the limit is what is enforced)."""
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c><c r="B%d"><v>2</v></c></row>' % (i, i, i)
                    for i in range(1, 51))
    data = _xlsx(rows)
    assert len(R.read("a.xlsx", data, R.Limits(cells=100)).sheets[0].rows) == 50
    with pytest.raises(R.FileError, match="超过 99 个单元格的上限"):
        R.read("a.xlsx", data, R.Limits(cells=99))



@pytest.mark.parametrize("late, area", [
    (b'<row r="40"><c r="A40"><v>1</v></c><c r="F40"><v>1</v></c></row>', 40 * 6),  # a wider row late on
    (b'<row r="9"><c r="A9"><v>1</v></c></row><row r="3"><c r="C3"><v>1</v></c></row>', 30 * 3),  # rows out of order
    (b'<row r="2"><c r="B0000077"><v>1</v></c></row>', 77 * 3),  # leading zeros: row 77
    (b'<row r="31"><c r="AA31"><v>1</v></c></row>', 31 * 27),  # two letters
    (b'<row r="31"><c t="n" r="E31"><v>1</v></c></row>', 31 * 5),  # reference not first: counted by expat
    (b'<row r="31"><c><v>1</v></c><c r="D31"><v>1</v></c></row>', 31 * 4),  # a cell without a reference
])
def test_the_cell_scan_finds_the_exact_area_in_any_chunk(monkeypatch, late, area):
    """The scan reads every reference only in chunks where one may lie beyond the running maximum; the area it
    finds is exact wherever the far cell is (here chunks of 64 bytes, so the far cell is in a late chunk)."""
    monkeypatch.setattr(R, "CHUNK", 64)
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c><c r="C%d"><v>2</v></c></row>' % (i, i, i)
                    for i in range(1, 31))
    data = _xlsx(rows + late)
    book = zipfile.ZipFile(io.BytesIO(data))
    scan = R._Scan(R.LIMITS)
    scan.member(book, book.getinfo("xl/worksheets/sheet1.xml"), "xlsx")
    assert scan.cells == area
    with pytest.raises(R.FileError, match=f"超过 {area - 1:,} 个单元格的上限"):
        R.check_zip(data, R.Limits(cells=area - 1))

# ---- the 2021– monitoring system's export ----------------------------------------------------------------------

MONITORING_HEADER = ["户编号", "户主姓名", "监测对象类别", "识别监测时间", "致贫风险1", "致贫风险2", "致贫风险3",
                     "风险消除方式", "风险消除时间", "监测人口数", "帮扶措施"]
MONITORING_ROWS = [
    ["5231991012010002", "王五", "边缘易致贫户", dt.date(2021, 5, 10), "因病", "因学", None, "帮扶消除",
     dt.date(2022, 3, 1), 1, "健康帮扶、就业帮扶"],
    ["5231991012010001", "张三", "脱贫不稳定户", dt.date(2022, 7, 1), "因灾", None, None, None, None, 2, "产业帮扶"],
]


def _monitoring_export() -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    ws = book.add_worksheet("监测对象")
    ws.write_string(0, 0, "防返贫监测对象信息")
    ws.write_string(1, 0, "导出时间:2022-10-31 09:30")
    ws.write_row(2, 0, MONITORING_HEADER)
    for r, row in enumerate(MONITORING_ROWS, 3):
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date)
            elif v is not None:
                ws.write(r, c, v)
    book.close()
    return out.getvalue()


def test_a_2021_monitoring_export(empty):
    assert run(empty, [("people.xlsx", (FIXTURES / "people.xlsx").read_bytes())]).written
    result = run(empty, [("监测对象.xlsx", _monitoring_export())])
    assert errors(result) == [] and result.written, result.problems
    assert [p.as_tuple() for p in result.notices] == [
        ("监测对象.xlsx", "监测对象", None, "致贫风险2", "", "已核对,数据库中不单独保存此项", "提示"),
        ("监测对象.xlsx", "监测对象", None, "风险消除方式", "", "已核对,数据库中不单独保存此项", "提示")]
    got = q(empty, "SELECT hh_id, village_code, kind, main_risk, identified_date, removed_date, persons "
                   "FROM monitoring_object ORDER BY hh_id")
    c = {h: i for i, h in enumerate(MONITORING_HEADER)}
    expected = sorted((r[c["户编号"]], "523199101201", r[c["监测对象类别"]], r[c["致贫风险1"]], r[c["识别监测时间"]],
                       r[c["风险消除时间"]], r[c["监测人口数"]]) for r in MONITORING_ROWS)
    assert [(h, v, k, m, _day(i), _day(d) if d else None, p) for h, v, k, m, i, d, p in got] == expected
    assert q(empty, "SELECT hh_id, year, measure FROM help_measure ORDER BY hh_id, measure") == sorted(
        (r[c["户编号"]], 2022, m) for r in MONITORING_ROWS for m in r[c["帮扶措施"]].split("、"))
    assert db.read_meta(empty)["data_as_of"] == "2022-10-31"


def test_a_monitoring_risk_outside_the_code_list_is_named(empty):
    assert run(empty, [("people.xlsx", (FIXTURES / "people.xlsx").read_bytes())]).written
    before = snapshot(empty)
    MONITORING_ROWS[1][5] = "因为太穷"
    try:
        result = run(empty, [("监测对象.xlsx", _monitoring_export())])
    finally:
        MONITORING_ROWS[1][5] = None
    assert [e[:5] for e in errors(result)] == [("监测对象.xlsx", "监测对象", 5, "致贫风险2", "因为太穷")]
    assert errors(result)[0][5].startswith("“因为太穷”不在监测风险代码表中")
    assert snapshot(empty) == before


# ---- a large .xlsx sheet read in two halves at once ---------------------------------------------------------------


def _read_both_ways(monkeypatch, data: bytes) -> tuple[list, list, int]:
    """(sheets read as ``read`` does with every worksheet "large" and the scan's chunks small, the whole workbook
    read at once, how many times the halves were read)."""
    calls = []
    halves = R._read_halves
    monkeypatch.setattr(R, "SPLIT_FROM", 1)
    monkeypatch.setattr(R, "CHUNK", 64)
    monkeypatch.setattr(R, "_read_halves", lambda *a: calls.append(1) or halves(*a))
    split = [(s.name, s.hidden, s.rows) for s in R.read("a.xlsx", data).sheets]
    whole = [(s.name, s.hidden, s.rows) for s in R.read_workbook("a.xlsx", data, R.check_zip(data))]
    return split, whole, len(calls)


def test_a_workbook_read_in_halves_gives_the_rows_of_the_whole(monkeypatch):
    """Two sheets, shared strings, dates, numbers, blanks and a 导出时间 line: the same rows, cell for cell."""
    data = (FIXTURES / "people.xlsx").read_bytes()
    split, whole, calls = _read_both_ways(monkeypatch, data)
    assert calls == 1 and split == whole
    assert [len(rows) for _, _, rows in split] == [len(M.PLACES), len(M.PERSONS) + 3]  # 标题, 导出时间, 表头


@pytest.mark.parametrize("first, second", [("C", "A"), ("A", "C"), ("B", "B")])
def test_halves_starting_in_different_columns_are_aligned(monkeypatch, first, second):
    """Calamine starts a range at its first non-empty column; when the halves start in different columns, the
    rows are shifted as the whole sheet's are (blank rows and empty styled cells included)."""
    def rows(numbers, col):
        return b"".join(b'<row r="%d"><c r="%s%d" t="inlineStr"><is><t>x%d</t></is></c><c r="E%d"><v>%d.5</v></c>'
                        b'<c r="F%d" s="0"/></row><row r="%d"/>' % (n, col.encode(), n, n, n, n, n, n + 1)
                        for n in numbers)
    data = _xlsx(rows(range(1, 60, 2), first) + rows(range(61, 120, 2), second))
    split, whole, calls = _read_both_ways(monkeypatch, data)
    assert calls == 1 and split == whole
    origin = min(first, second)
    assert whole[0][2][0] == (1, [None] * (ord(first) - ord(origin)) + ["x1"] + [None] * (ord("D") - ord(first))
                              + [1.5])
    assert whole[0][2][-1] == (119, [None] * (ord(second) - ord(origin)) + ["x119"] + [None] * (ord("D") - ord(second))
                               + [119.5])


@pytest.mark.parametrize("sheet, halves", [
    # a row without a number (calamine numbers it after the row before; its cells say so too)
    (b'<row r="%d"><c r="A%d"><v>1</v></c></row><row><c r="B%d"><v>2</v></c></row>', 1),
    (b'<row r="%d"><c r="A%d"><v>1</v></c></row><!-- <row r="%d"><c r="A9"><v>1</v></c></row> -->', 0),
    (b'<row r="%d"><c r="A%d"><v>1</v></c></row><![CDATA[ <row r="%d"> ]]>', 0),
])
def test_sheets_are_cut_only_where_the_cut_is_exact(monkeypatch, sheet, halves):
    """Only a sheet without comments or CDATA (which could hold a row tag) is cut, at a numbered row."""
    data = _xlsx(b"".join(sheet % (n, n, n + 1) for n in range(1, 200, 2)))
    split, whole, calls = _read_both_ways(monkeypatch, data)
    assert calls == halves and split == whole
    assert len(whole[0][2]) == (200 if halves else 100)
