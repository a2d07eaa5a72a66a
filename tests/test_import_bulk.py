"""Issue 19 item 5: the importer's bulk reads and writes (data_access/importer/bulk.py) on both backends.

They bypass SQLAlchemy's per-row parameter handling (executemany of tuples, COPY on PostgreSQL, key lists as
one parameter), so each is checked against plain SQL: the rows stored, the rows found, and a refused write
raised as SQLAlchemy's IntegrityError that the importer recognises as a repeated ID number.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from data_access import schema
from data_access.importer import bulk, locking
from tests.helpers import new_id, rows as q


def _household(clone) -> tuple[str, str]:
    return q(clone, "SELECT hh_id, village_code FROM household ORDER BY hh_id")[0]


def test_insert_rows_stores_dates_booleans_and_nulls(clone):
    hh_id, village = _household(clone)
    people = [
        {"person_id": "BULK01", "hh_id": hh_id, "village_code": village, "name": "甲",
         "birth_date": dt.date(1980, 2, 29), "birth_year": 1980, "medical_insurance": True,
         "serious_illness_insurance": False, "id_number": None},
        {"person_id": "BULK02", "hh_id": hh_id, "village_code": village, "name": "乙", "medical_insurance": None},
    ]
    columns = ["person_id", "hh_id", "village_code", "name", "birth_date", "birth_year", "medical_insurance",
               "serious_illness_insurance", "id_number"]
    with clone.begin() as conn:
        bulk.insert_rows(conn, schema.person, columns, people)
    t = schema.person
    with clone.connect() as conn:
        stored = conn.execute(select(t.c.person_id, t.c.name, t.c.birth_date, t.c.birth_year, t.c.medical_insurance,
                                     t.c.serious_illness_insurance).where(t.c.person_id.like("BULK%"))
                              .order_by(t.c.person_id)).all()
    assert [tuple(r) for r in stored] == [("BULK01", "甲", dt.date(1980, 2, 29), 1980, True, False),
                                          ("BULK02", "乙", None, None, None, None)]
    raw = q(clone, "SELECT COUNT(*) FROM person WHERE person_id LIKE 'BULK%' AND hh_id = :h", h=hh_id)
    assert raw == [(2,)]


def test_update_rows_changes_only_the_matched_rows(clone):
    before = dict(q(clone, "SELECT person_id, name FROM person ORDER BY person_id LIMIT 3"))
    first, second, third = sorted(before)
    with clone.begin() as conn:
        bulk.update_rows(conn, schema.person, ("person_id",), ("name", "birth_date"),
                         [{"k_person_id": first, "v_name": "新名一", "v_birth_date": dt.date(2001, 1, 2)},
                          {"k_person_id": second, "v_name": "新名二", "v_birth_date": None}])
    after = dict(q(clone, "SELECT person_id, name FROM person WHERE person_id IN (:a, :b, :c)",
                   a=first, b=second, c=third))
    assert after == {first: "新名一", second: "新名二", third: before[third]}
    t = schema.person
    with clone.connect() as conn:
        stmt = select(t.c.person_id, t.c.birth_date).where(t.c.person_id.in_([first, second]))
        dates = dict(conn.execute(stmt).all())
    assert dates == {first: dt.date(2001, 1, 2), second: None}


@pytest.mark.parametrize("kind", ["text", "int", "mixed"])
def test_select_in_finds_the_same_rows_as_plain_in(clone, kind):
    t = schema.person
    if kind == "int":
        column, keys = t.c.birth_year, [1950, 1990, 2010, 1800]
    else:
        ids = [r[0] for r in q(clone, "SELECT person_id FROM person ORDER BY person_id")]
        keys = ids[::7] + ["NO-SUCH-PERSON"]
        if kind == "mixed":  # not one type: falls back to chunked IN
            keys = keys + [12345]
        column = t.c.person_id
    with clone.connect() as conn:
        found = sorted(tuple(r) for r in bulk.select_in(conn, (t.c.person_id, t.c.birth_year), column, keys))
        plain = sorted(tuple(r) for r in conn.execute(
            select(t.c.person_id, t.c.birth_year).where(column.in_([k for k in keys if type(k) is type(keys[0])]))))
    assert found == plain
    assert found, "the keys were chosen among stored rows"
    if kind == "mixed":
        with clone.connect() as conn:
            assert bulk.key_filter(conn, column, keys) is None


def test_a_repeated_id_number_is_refused_as_the_importer_expects(clone):
    hh_id, village = _household(clone)
    number = q(clone, "SELECT id_number FROM person WHERE id_number IS NOT NULL ORDER BY person_id")[0][0]
    rows = [{"person_id": "BULKDUP1", "hh_id": hh_id, "village_code": village, "name": "丙", "id_number": new_id(
        "19800101", 450)}, {"person_id": "BULKDUP2", "hh_id": hh_id, "village_code": village, "name": "丁",
                            "id_number": number}]
    with pytest.raises(IntegrityError) as caught:
        with clone.begin() as conn:
            bulk.insert_rows(conn, schema.person, ["person_id", "hh_id", "village_code", "name", "id_number"], rows)
    assert locking.is_duplicate_id(caught.value)
    assert q(clone, "SELECT COUNT(*) FROM person WHERE person_id LIKE 'BULKDUP%'") == [(0,)]
