"""Issue 24 (low): a township 管理员 sees only the imports of their own region on 数据管理.

A run is logged with the region it was limited to (the county for an unlimited run); rows logged before
regions were have none and are shown at county level only. An older database gains the column on first use.
"""

from __future__ import annotations

from sqlalchemy import text

from data_access import db
from data_access.importer import run as importer
from data_access.scope import Scope
from tests.helpers import rows as q
from tests.helpers import run, village_scope

COUNTY = Scope.of("523199000000")


def _runs(engine):
    """One dry run each: unlimited, town A, a village of A, town B; returns {name: log id}."""
    village = village_scope(engine)
    town_a = Scope.of(village.code[:9] + "000")
    town_b = Scope.of(q(engine, "SELECT code FROM region WHERE level='town' AND code <> :t ORDER BY code",
                        t=town_a.code)[0][0])
    ids = {}
    for name, scope in (("county", None), ("a", town_a), ("village", village), ("b", town_b)):
        result = run(engine, [(f"{name}.csv", "户编号,姓名\n".encode())], scope=scope, dry_run=True)
        ids[name] = result.log_ids[0]
    return ids, town_a, village, town_b


def _seen(engine, scope) -> set[int]:
    return set(importer.history(engine, scope, limit=50)["id"])


def test_each_admin_sees_only_the_imports_of_their_region(clone):
    with clone.begin() as conn:
        old = conn.execute(text("SELECT MAX(id) FROM import_log")).scalar()
    ids, town_a, village, town_b = _runs(clone)
    logged = dict(q(clone, "SELECT id, region_code FROM import_log WHERE id >= :i", i=min(ids.values())))
    assert logged == {ids["county"]: COUNTY.code, ids["a"]: town_a.code, ids["village"]: village.code,
                      ids["b"]: town_b.code}
    everything = {r[0] for r in q(clone, "SELECT id FROM import_log")}
    assert _seen(clone, COUNTY) == everything
    assert _seen(clone, town_a) == {ids["a"], ids["village"]}
    assert _seen(clone, village) == {ids["village"]}
    assert _seen(clone, town_b) == {ids["b"]}
    if old is not None:  # the demo's own log rows have no region: county only
        assert old in _seen(clone, COUNTY) and old not in _seen(clone, town_a)


def test_an_older_database_gains_the_region_and_keeps_its_rows_county_only(clone):
    with clone.begin() as conn:
        conn.execute(text("ALTER TABLE import_log DROP COLUMN region_code"))
        conn.execute(text("INSERT INTO import_log (imported_at, user_id, file_name, file_hash, rows_read, "
                          "rows_written, rows_rejected, dry_run, message) VALUES (CURRENT_TIMESTAMP, 'old', "
                          "'旧.xlsx', 'x', 1, 1, 0, FALSE, '旧记录')"))
        before = conn.execute(text("SELECT MAX(id) FROM import_log")).scalar()
    db._columns_ready.discard(clone.url.render_as_string(hide_password=False))
    town = Scope.of(village_scope(clone).code[:9] + "000")
    assert before not in _seen(clone, town)  # history alone upgrades the database
    assert before in _seen(clone, COUNTY)
    result = run(clone, [("新.csv", "户编号,姓名\n".encode())], scope=town, dry_run=True)
    assert _seen(clone, town) == set(result.log_ids)
    assert q(clone, "SELECT region_code FROM import_log WHERE id = :i", i=before) == [(None,)]
