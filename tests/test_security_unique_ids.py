"""Issue 24 item 7: an ID number is stored once, enforced by the database, and imports run one at a time.

The attack: two imports at once, each adding a new person with the same ID number to a different
household, both succeeded on SQLite and PostgreSQL (each checked before the other wrote).
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from data_access.importer import locking, samples as S
from tests.helpers import errors, new_id, run, scalar, village_scope
from tests.helpers import rows as q


def _new_person_file(engine, hh_index: int, number: str, name: str) -> bytes:
    headers, rows = S.sheet_from_db(engine, "persons", village_scope(engine))
    c = {h: i for i, h in enumerate(headers)}
    hh_ids = list(dict.fromkeys(r[c["户编号"]] for r in rows))
    family = [list(r) for r in rows if r[c["户编号"]] == hh_ids[hh_index]]
    extra = list(family[0])
    extra[c["人编号"]] = f"TESTDUP{hh_index}"
    extra[c["姓名"]], extra[c["证件号码"]], extra[c["与户主关系"]] = name, number, "其他"
    extra[c["性别"]] = extra[c["出生日期"]] = None
    family.append(extra)
    for r in family:
        r[c["人数"]] = len(family)
    return S.xlsx_bytes([("人员", headers, family)])


def test_the_database_refuses_a_repeated_id_number(clone):
    number, hh, village = q(clone, "SELECT id_number, hh_id, village_code FROM person "
                                   "WHERE id_number IS NOT NULL ORDER BY person_id")[0]
    with pytest.raises(IntegrityError):
        with clone.begin() as conn:
            conn.execute(text("INSERT INTO person (person_id, hh_id, village_code, name, id_number) "
                              "VALUES ('DUP1', :h, :v, '重复', :n)"), {"h": hh, "v": village, "n": number})
    assert scalar(clone, "SELECT COUNT(*) FROM person WHERE id_number = :n", n=number) == 1


def test_an_older_database_gets_the_index_at_its_next_import(clone):
    with clone.begin() as conn:
        conn.execute(text(f"DROP INDEX {locking.UNIQUE_INDEX}"))
    run(clone, [("空.csv", "户编号,姓名\n".encode())])
    with clone.connect() as conn:
        from sqlalchemy import inspect

        assert locking.UNIQUE_INDEX in {ix["name"] for ix in inspect(conn).get_indexes("person")}


def test_existing_repeats_are_reported_not_fatal(clone):
    number, hh, village = q(clone, "SELECT id_number, hh_id, village_code FROM person "
                                   "WHERE id_number IS NOT NULL ORDER BY person_id")[0]
    with clone.begin() as conn:
        conn.execute(text(f"DROP INDEX {locking.UNIQUE_INDEX}"))
        conn.execute(text("INSERT INTO person (person_id, hh_id, village_code, name, id_number) "
                          "VALUES ('DUP1', :h, :v, '重复', :n)"), {"h": hh, "v": village, "n": number})
    result = run(clone, [("空.csv", "户编号,姓名\n".encode())])
    assert result.fatal is None
    assert any("1 个证件号码重复" in p.reason for p in result.notices)


def test_concurrent_imports_store_one_id_number(clone):
    number = new_id("19800101", 477)
    files = [_new_person_file(clone, 0, number, "甲某"), _new_person_file(clone, 1, number, "乙某")]
    first_inside = threading.Event()
    release = threading.Event()
    results = [None, None]

    def hold(fraction, message):  # the first import pauses inside its transaction, after its checks began
        if message.startswith("校验") and not first_inside.is_set():
            first_inside.set()
            release.wait(60)

    def go(i, progress=None):
        results[i] = run(clone, [(f"并发{i}.xlsx", files[i])], progress=progress)

    a = threading.Thread(target=go, args=(0, hold))
    a.start()
    assert first_inside.wait(60)
    b = threading.Thread(target=go, args=(1,))
    b.start()
    time.sleep(1.5)
    assert results[1] is None, "the second import ran while the first held the lock"
    release.set()
    a.join(120)
    b.join(120)
    assert results[0].written and errors(results[0]) == []
    assert not results[1].written
    assert any("属于另一人" in e[5] for e in errors(results[1]))
    assert scalar(clone, "SELECT COUNT(*) FROM person WHERE id_number = :n", n=number) == 1
