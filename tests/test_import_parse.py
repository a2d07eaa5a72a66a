"""parse_sheet's two paths (data_access/importer/parse.py): the usual row looked up in the columns' caches at
once, and cell by cell (bool cells where a cache may hold 0 or 1, several columns feeding one list, short rows);
both must give each cell what its parser gives, and the same problems."""

from __future__ import annotations

import datetime as dt

import pytest

from data_access import db
from data_access.importer import parse, spec, values as V
from data_access.importer.batch import Batch

HEADERS = ["户编号", "姓名", "人数", "务工时间(月)", "是否参加城乡居民基本医疗保险", "出生日期", "人联系电话",
           "证件号码"]


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    engine = db.get_engine(f"sqlite:///{tmp_path_factory.mktemp('parse')}/t.db")
    db.create_schema(engine)
    with engine.connect() as c:
        yield c
    engine.dispose()


def parsed(conn, body: list[list], headers=HEADERS):
    rows = [(1, list(headers))] + [(i + 2, r) for i, r in enumerate(body)]
    header = spec.detect_header(rows, "人员")
    batch = Batch(conn, None, ["f.xlsx"])
    sheet = parse.parse_sheet(batch, 0, "f.xlsx", "人员", rows, header)
    return sheet, [(p.row, p.column, p.value, p.reason) for p in batch.problems]


def expect(raw, parser):
    """What the field's parser gives for ``raw``: (value, None) or (None, reason)."""
    try:
        return parser(raw), None
    except V.Bad as exc:
        return None, str(exc)


def test_a_bool_cell_is_parsed_as_itself_where_the_column_already_holds_1_or_0(conn):
    body = [
        ["0001", "甲", 1.0, 0.0, 1.0, "1980-01-02", "13800138000", "x"],
        ["0001", "乙", True, False, True, "1980-01-02", "13800138000", "y"],  # True == 1.0, False == 0.0
        ["0002", "丙", 1.0, 0.0, False, dt.datetime(1981, 3, 4), 13800138001.0, "z"],
        ["0003", True, 3.0, True, 0.0, "1980-02-30", "138x0013", "w"],  # 姓名 holds no 0/1 key
        ["0004", "丁", False, 12.0, 1.0, None],  # a short row
    ]
    sheet, problems = parsed(conn, body)
    assert [r.values["member_count"] for r in sheet.rows] == [1, None, 1, 3, None]
    assert [r.values["work_months"] for r in sheet.rows] == [0, None, 0, None, 12]
    assert [r.values["medical_insurance"] for r in sheet.rows] == [True, True, False, False, True]
    assert [r.values["name"] for r in sheet.rows] == ["甲", "乙", "丙", "True", "丁"]
    assert [r.values["birth_date"] for r in sheet.rows] == [dt.date(1980, 1, 2), dt.date(1980, 1, 2),
                                                            dt.date(1981, 3, 4), None, None]
    assert [r.values["phone"] for r in sheet.rows] == ["13800138000", "13800138000", "13800138001", None, None]
    assert [r.bad for r in sheet.rows] == [False, True, False, True, True]
    bad_bool = expect(True, V.integer)[1]
    assert bad_bool == expect(False, V.integer)[1]
    assert [(row, column) for row, column, _, _ in problems] == [
        (3, "人数"), (3, "务工时间(月)"), (5, "务工时间(月)"), (5, "出生日期"), (5, "人联系电话"), (6, "人数")]
    assert problems[0][3] == problems[1][3] == problems[2][3] == problems[5][3] == bad_bool
    assert problems[3][3] == expect("1980-02-30", V.date)[1]
    assert problems[4][3] == expect("138x0013", V.phone)[1]


def test_the_usual_rows_give_what_the_cell_by_cell_path_gives(conn):
    """The same rows through both paths: once as they are, once with a second 姓名 column (several columns
    for one field never take the quick path) — every other value and problem must be the same."""
    body = [["000" + str(i % 7), f"名{i % 5}", float(i % 9), float(i % 13), float(i % 2),
             ["1980-01-02", "1980-13-02", dt.datetime(1990, 5, 6), 32000.0, "", None][i % 6],
             ["13800138000", "12", None, 13800138000.0][i % 4], f"id{i}"] for i in range(60)]
    quick, quick_problems = parsed(conn, body)
    slow, slow_problems = parsed(conn, [r + [None] for r in body], HEADERS + ["家庭人口"])
    assert [r.values for r in quick.rows] == [{k: v for k, v in r.values.items() if k in quick.present}
                                              for r in slow.rows]
    assert quick_problems == [p for p in slow_problems if p[1] != "家庭人口"]
    assert all(type(r.values["member_count"]) in (int, type(None)) for r in quick.rows)
