"""One import at a time, and ID numbers unique in the database itself.

``serialise(conn)`` is the first statement of every import's transaction: it waits until no other
import holds the lock, so two concurrent imports cannot both pass the "ID number already belongs to
another person" check and both write (PostgreSQL: a transaction-scoped advisory lock; SQLite: the first
write of the transaction takes the database's write lock, waiting up to ``WAIT_SECONDS``).

``ensure_unique_ids(conn)`` adds the unique index on ``person.id_number`` to a database created before it
existed (new databases get it from ``schema``), unless the stored data already repeats a number: then it
returns how many numbers repeat and the importer says so.
"""

from __future__ import annotations

from sqlalchemy import inspect, text

LOCK_KEY = 240_724_001  # pg_advisory_xact_lock key of the importer
LOCK_ROW = "import_lock"
WAIT_SECONDS = 600
UNIQUE_INDEX = "ux_person_id_number"


def serialise(conn) -> None:
    """Block until this transaction is the only import running (held until commit or rollback)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        return
    conn.exec_driver_sql(f"PRAGMA busy_timeout = {WAIT_SECONDS * 1000}")
    # The transaction's first statement is a write: SQLite takes its write lock here and keeps it.
    conn.execute(text("UPDATE meta SET value = value WHERE key = :k"), {"k": LOCK_ROW})


def ensure_unique_ids(conn) -> int:
    """Create the unique index on person.id_number when missing; the count of repeated numbers if it can't."""
    if UNIQUE_INDEX in {ix["name"] for ix in inspect(conn).get_indexes("person")}:
        return 0
    repeated = conn.execute(text(
        "SELECT COUNT(*) FROM (SELECT id_number FROM person WHERE id_number IS NOT NULL "
        "GROUP BY id_number HAVING COUNT(*) > 1) d")).scalar()
    if repeated:
        return int(repeated)
    conn.execute(text(f"CREATE UNIQUE INDEX IF NOT EXISTS {UNIQUE_INDEX} ON person (id_number)"))
    return 0


def is_duplicate_id(exc: Exception) -> bool:
    """The database refused a write because an ID number is already stored."""
    return UNIQUE_INDEX in str(getattr(exc, "orig", exc)) or "person.id_number" in str(getattr(exc, "orig", exc))
