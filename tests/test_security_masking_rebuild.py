"""Issue 24 item 2: a masked role receives nothing that completes a masked ID number.

The attacker's way: a masked ID ``5231**********3351`` hides the county digits and the birth date; the
county code is on every page and the 家庭成员 table showed the full 出生日期, so every ID was rebuilt
(county + birth date + the last four, checked by the check digit). This test collects everything a
领导 and a 工作人员 receive (every element of the pages, the household export files) and tries every
combination of the region codes and dates found there with each masked ID it sees.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from data_access import auth, export as ex
from data_access.privacy import mask_frame
from data_access.rules import is_valid_id
from tests.helpers import open_page

SECRET = "masking-rebuild-secret-Zq3v9XkT2mB7pLw4rYd8nHc1sGf6j"

MASKED = re.compile(r"(\d{4})\*{10}(\d{3}[\dX])")
CODE12 = re.compile(r"(?<!\d)(\d{12})(?!\d)")
DATES = (re.compile(r"((?:19|20)\d\d)-(\d\d)-(\d\d)"), re.compile(r"((?:19|20)\d\d)/(\d\d)/(\d\d)"),
         re.compile(r"((?:19|20)\d\d)年(\d{1,2})月(\d{1,2})日"),
         re.compile(r"(?<!\d)((?:19|20)\d\d)(\d\d)(\d\d)(?!\d)"))


def element_text(node) -> list[str]:
    """Every proto under an AppTest node (what the websocket carried to the browser)."""
    out = []
    proto = getattr(node, "proto", None)
    if proto is not None:
        out.append(str(proto))
    value = getattr(node, "value", None)
    if hasattr(value, "to_csv"):
        out.append(value.to_csv(index=False))
    for child in getattr(node, "children", {}).values():
        out.extend(element_text(child))
    return out


def rebuilt(received: str, true_ids: list[str]) -> list[str]:
    """The true IDs an attacker rebuilds from ``received``."""
    prefixes = {m[:6] for m in CODE12.findall(received)}
    dates = set()
    for pattern in DATES:
        for y, m, d in pattern.findall(received):
            dates.add(f"{y}{int(m):02d}{int(d):02d}")
    found = set()
    for head, tail in set(MASKED.findall(received)):
        for prefix in prefixes:
            if not prefix.startswith(head):
                continue
            for date in dates:
                candidate = prefix + date + tail
                if is_valid_id(candidate):
                    found.add(candidate)
    return sorted(found & set(true_ids))


def xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(",".join("" if v is None else str(v) for v in row)
                     for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))


@pytest.fixture
def rebuild_db(registry_backend, make_db, monkeypatch, sql):
    from data_access.db import get_engine

    monkeypatch.setenv("REGISTRY_AUTH_SECRET", SECRET)
    url = make_db("small", 11, backend=registry_backend)
    q = sql(get_engine(url))
    hhs = [r[0] for r in q.rows("SELECT hh_id FROM household WHERE kind='建档立卡户' AND member_count >= 3 "
                                "ORDER BY hh_id LIMIT 3")]
    return url, q, hhs


@pytest.mark.parametrize("role", ["领导", "工作人员"])
def test_no_masked_id_can_be_rebuilt(rebuild_db, role):
    url, q, hhs = rebuild_db
    ids = [r[0] for r in q.rows("SELECT id_number FROM person WHERE hh_id IN (:a, :b, :c) AND id_number IS NOT NULL",
                                a=hhs[0], b=hhs[1], c=hhs[2])]
    assert len(ids) >= 9
    town = q.scalar("SELECT town_code FROM household WHERE hh_id = :h", h=hhs[0])
    received = [town]  # the user knows their own region
    for hh in hhs:
        for page, params in (("pages/household.py", {"hh": hh}), ("pages/query.py", {"q": hh})):
            at = open_page(url, page, token=auth.make_token(SECRET, "m1", "测试", town, role), **params)
            assert not at.exception, at.exception
            page_text = "\n".join(element_text(at.main) + element_text(at.sidebar))
            received.append(page_text)
            # the download files are built from the tables the page shows, masked as the button does
            for df in at.dataframe:
                frame = df.value
                received.append(xlsx_text(ex.export("xlsx", ex.frame_chunks(frame), sheet="t",
                                                    row_cap=max(len(frame), 1), masked=True).data))
                received.append(ex.export("csv", ex.frame_chunks(frame), sheet="t", row_cap=max(len(frame), 1),
                                          masked=True).data.decode("utf-8-sig"))
    text = "\n".join(received)
    assert not [i for i in ids if i in text], "a full ID number was sent"
    assert MASKED.search(text), "the masked form is shown"
    assert rebuilt(text, ids) == []


def test_the_attack_works_on_a_full_birth_date():
    """The attacker above is not toothless: given a full birth date it rebuilds the ID."""
    true = "523199199001011236"
    if not is_valid_id(true):
        true = next(true[:17] + c for c in "0123456789X" if is_valid_id(true[:17] + c))
    shown = f"523199101000 {true[:4]}**********{true[-4:]} 1990-01-01"
    assert rebuilt(shown, [true]) == [true]
    assert rebuilt(f"523199101000 {true[:4]}**********{true[-4:]} 1990", [true]) == []


def test_mask_frame_keeps_only_the_birth_year():
    import datetime as dt

    import pandas as pd

    df = pd.DataFrame({"姓名": ["甲", "乙"], "出生日期": [dt.date(1990, 1, 31), "19851203"]})
    out = mask_frame(df)
    assert list(out.columns) == ["姓名", "出生年份"]
    assert list(out["出生年份"]) == [1990, 1985]


# ---- filters that could complete a masked value (issue 24 item 2, by way of the 查询 filters) -------------


def _candidates(true_id: str, county: str) -> list[str]:
    """What a masked user can try: county code + every day of the shown birth year + the shown last four."""
    import datetime as dt

    year = int(true_id[6:10])
    days = (dt.date(year, 1, 1) + dt.timedelta(n) for n in range(366))
    return [c for c in (county[:6] + d.strftime("%Y%m%d") + true_id[-4:] for d in days if d.year == year)
            if is_valid_id(c)]


def test_a_masked_user_cannot_probe_id_numbers_through_the_search(registry_engine, q):
    from data_access.queries import households as hq
    from data_access.scope import Scope

    county = Scope.of("523199000000")
    true_id, hh = q.one("SELECT id_number, hh_id FROM person WHERE id_number IS NOT NULL ORDER BY person_id "
                        "LIMIT 1 OFFSET 7")
    tries = _candidates(true_id, county.code)
    assert true_id in tries and len(tries) > 10
    answers = []
    for candidate in tries:
        f = hq.HouseholdFilter.from_params({"q": candidate})
        for name, call in (("查询", hq.query_page), ("导出", hq.iter_export)):
            try:
                got = call(registry_engine, county, f, 2026, masked=True)
                answers.append((name, candidate, len(got["rows"]) if name == "查询" else len(list(got))))
            except hq.FilterError as exc:
                assert exc.messages == [hq.ID_SEARCH_MASKED]
    assert answers == [], "a masked search answered: found/not found tells the hidden birth date"
    # a 管理员 (who sees the number) still finds the household by it
    got = hq.query_page(registry_engine, county, hq.HouseholdFilter.from_params({"q": true_id}), 2026, masked=False)
    assert list(got["rows"]["hh_id"]) == [hh]


@pytest.mark.parametrize("role", ["领导", "工作人员", None])
def test_the_query_page_refuses_an_id_search_for_masked_roles(registry_url, q, monkeypatch, role):
    true_id = q.scalar("SELECT id_number FROM person WHERE id_number IS NOT NULL ORDER BY person_id LIMIT 1")
    if role is None:  # open demo mode is masked too
        monkeypatch.delenv("REGISTRY_AUTH_SECRET", raising=False)
        at = open_page(registry_url, "pages/query.py", q=true_id)
    else:
        monkeypatch.setenv("REGISTRY_AUTH_SECRET", SECRET)
        at = open_page(registry_url, "pages/query.py", q=true_id,
                       token=auth.make_token(SECRET, "m1", "测试", "523199000000", role))
    assert not at.exception
    assert any("只对能看到完整证件号码的管理员开放" in w.value for w in at.warning)
    assert not at.metric, "no count answers the probe"
    assert true_id not in "".join(str(v) for v in at.query_params.values())


def test_no_filter_sort_or_column_of_the_query_reads_birth_dates():
    """The 查询 contract has no age or birth-date filter, sort or column (they would narrow a masked birth date)."""
    from data_access.queries import households as hq

    names = hq.HouseholdFilter.PARAMS + hq.SORTABLE + tuple(hq.COLUMNS)
    assert not [n for n in names if "birth" in n or "age" == n or n.startswith("age_")]
    assert not [c.header for c in hq.COLUMNS.values() if "出生" in c.header or "年龄" in c.header]
