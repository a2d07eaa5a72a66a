"""Excel/CSV exports: same rows as the query, Chinese headers, frozen header, no unmasked ID numbers."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from data_access import export as ex
from data_access.rules import is_valid_id
from data_access.queries import dossier, households as hq
from data_access.scope import Scope
from tests.helpers import scalar

ID_LIKE = re.compile(r"\d{17}[\dXx]")


def read_xlsx(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    return sheet, values[0], values[1:]


def real_ids(engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT id_number FROM person WHERE id_number IS NOT NULL"))}


def no_clear_ids(cells, ids: set[str]) -> bool:
    """No cell holds one of the database's ID numbers (人编号 may look like one; it is not personal)."""
    return not any(m in ids for c in cells if isinstance(c, str) for m in ID_LIKE.findall(c))


def all_pages(engine, scope, f, year, masked=True):
    frames, page = [], 1
    while True:
        df = hq.list_page(engine, scope, f, year, masked=masked, page=page, page_size=200)
        frames.append(df)
        if len(df) < 200:
            return pd.concat(frames, ignore_index=True)
        page += 1


@pytest.mark.parametrize("params", [
    {"cols": ",".join(hq.COLUMNS)},
    {"status": "已脱贫", "main_cause": "因病", "sort": "-income"},
    {"exit_year": "1990"},  # empty
])
def test_xlsx_has_the_query_rows(registry_engine, params):
    scope = Scope.of("523199101000")
    f = hq.HouseholdFilter.from_params(params)
    expected = all_pages(registry_engine, scope, f, 2026)
    made = ex.to_xlsx(hq.iter_export(registry_engine, scope, f, 2026, masked=True, row_cap=10_000, chunk_rows=97),
                      sheet="农户查询名单", row_cap=10_000)
    sheet, header, body = read_xlsx(made.data)
    assert header == [hq.COLUMNS[c].header for c in expected.columns]
    assert made.rows == len(body) == len(expected) == hq.count_households(registry_engine, scope, f, 2026)["households"]
    assert not made.truncated
    assert [r[0] for r in body] == list(expected["hh_id"])  # same rows, same order
    for got, want in zip(body, expected.itertuples(index=False)):
        for g, w in zip(got, want):
            if w is None or w is pd.NA:
                assert g is None
            elif isinstance(w, float):
                assert g == pytest.approx(w)
            else:
                assert g == w or str(g) == str(w)
    assert sheet.freeze_panes == "A2"
    assert sheet.title == "农户查询名单"
    for i, name in enumerate(header):
        letter = openpyxl.utils.get_column_letter(i + 1)
        assert sheet.column_dimensions[letter].width >= ex.display_width(name)  # the header fits
    assert no_clear_ids((c for row in body for c in row), real_ids(registry_engine))


def test_member_export_masks_ids(registry_engine):
    hh = scalar(registry_engine, "SELECT hh_id FROM household ORDER BY member_count DESC, hh_id")
    scope = Scope.of("523199000000")
    clear = dossier.household_members(registry_engine, scope, hh, masked=False).rename(
        columns={"id_number": "证件号码", "phone": "联系电话", "name": "姓名"})
    ids = real_ids(registry_engine)
    assert any(is_valid_id(v) for v in clear["证件号码"])  # the test data has real-looking IDs
    for fmt in ("xlsx", "csv"):
        made = ex.export(fmt, ex.frame_chunks(clear), masked=True)
        if fmt == "xlsx":
            _, header, body = read_xlsx(made.data)
            cells = [c for row in body for c in row]
        else:
            text_ = made.data.decode("utf-8-sig")
            cells = [c for row in csv.reader(io.StringIO(text_)) for c in row]
        assert no_clear_ids(cells, ids)
        assert made.rows == len(clear)
    unmasked = ex.to_xlsx(ex.frame_chunks(clear), masked=False)
    assert not no_clear_ids((c for row in read_xlsx(unmasked.data)[2] for c in row), ids)  # the check can fail


def test_csv_utf8_bom_and_rows(registry_engine):
    scope = Scope.of("523199000000")
    f = hq.HouseholdFilter.from_params({"attribute": "低保贫困户"})
    made = ex.to_csv(hq.iter_export(registry_engine, scope, f, 2026, row_cap=5_000), row_cap=5_000)
    assert made.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(made.data.decode("utf-8-sig"))))
    assert table[0] == [hq.COLUMNS[c].header for c in f.columns]
    expected = all_pages(registry_engine, scope, f, 2026)
    assert [r[0] for r in table[1:]] == list(expected["hh_id"])


def test_row_cap_truncates_and_says_so(registry_engine):
    scope = Scope.of("523199000000")
    f = hq.HouseholdFilter()
    total = hq.count_households(registry_engine, scope, f, 2026)["households"]
    done = []
    made = ex.to_xlsx(hq.iter_export(registry_engine, scope, f, 2026, row_cap=100, chunk_rows=40), row_cap=100,
                      progress=lambda fraction, message: done.append((fraction, message)))
    _, _, body = read_xlsx(made.data)
    assert made.truncated and made.rows == len(body) == 100 < total
    written = [int(message.removeprefix("已写入 ").removesuffix(" 行").replace(",", "")) for _, message in done]
    assert written == sorted(written) and written[-1] == 100
    assert all(0.0 <= fraction <= 1.0 for fraction, _ in done)
    exact = ex.to_csv(ex.frame_chunks(pd.DataFrame({"a": range(5)}), 2), row_cap=5)
    assert not exact.truncated and exact.rows == 5
    over = ex.to_csv(ex.frame_chunks(pd.DataFrame({"a": range(6)}), 5), row_cap=5)
    assert over.truncated and over.rows == 5


def test_stream_query_chunks(registry_engine):
    from sqlalchemy import select

    from data_access.schema import household as H

    stmt = select(H.c.hh_id, H.c.member_count).where(H.c.county_code == "523199000000").order_by(H.c.hh_id)
    chunks = list(ex.stream_query(registry_engine, stmt, chunk_rows=100))
    assert all(len(c) <= 100 for c in chunks)
    joined = pd.concat(chunks, ignore_index=True)
    count = scalar(registry_engine, "SELECT COUNT(*) FROM household WHERE village_code LIKE '523199%'")
    assert len(joined) == count and list(joined["hh_id"]) == sorted(joined["hh_id"])


def test_file_name_and_cap_settings(monkeypatch):
    assert ex.file_name("未脱贫/户 名单", "xlsx", when=pd.Timestamp("2025-01-02").date()) == \
        "未脱贫_户_名单_20250102.xlsx"
    monkeypatch.setenv("REGISTRY_EXPORT_ROW_CAP", "1234")
    assert ex.configured_row_cap() == 1234
    monkeypatch.setenv("REGISTRY_EXPORT_ROW_CAP", "not a number")
    assert ex.configured_row_cap() == ex.DEFAULT_ROW_CAP
    monkeypatch.setenv("REGISTRY_EXPORT_ROW_CAP", str(10 ** 9))
    assert ex.configured_row_cap() == ex.MAX_ROW_CAP
