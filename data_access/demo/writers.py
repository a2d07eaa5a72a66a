"""Writing the demo's rows: batched INSERT (any backend), executemany (SQLite), COPY (PostgreSQL), and the
PostgreSQL bulk-load helpers (secondary indexes and foreign keys dropped and rebuilt, sequences fixed)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Date, Integer, text

from .. import schema


# ---------------------------------------------------------------------------
# writers


class SqlWriter:
    """Batched ``INSERT`` through SQLAlchemy (any backend)."""

    def __init__(self, conn, chunk: int = 10_000):
        self.conn = conn
        self.chunk = chunk
        self.rows: dict[str, int] = {}

    def write(self, table, rows) -> None:
        cols = [c.name for c in table.columns]
        batch = []
        n = 0
        for r in rows:
            batch.append(dict(zip(cols, r)))
            if len(batch) >= self.chunk:
                self.conn.execute(table.insert(), batch)
                n += len(batch)
                batch = []
        if batch:
            self.conn.execute(table.insert(), batch)
            n += len(batch)
        self.rows[table.name] = self.rows.get(table.name, 0) + n


class SqliteWriter(SqlWriter):
    """SQLite: plain ``executemany`` of tuples (10x faster than dict parameters).

    Values are stored exactly as SQLAlchemy's SQLite types store them: dates as
    ISO text, booleans as 0/1.
    """

    def write(self, table, rows) -> None:
        cols = [c.name for c in table.columns]
        dates = [i for i, c in enumerate(table.columns) if isinstance(c.type, Date)]
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        cur = self.conn.connection.dbapi_connection.cursor()
        batch = []
        n = 0
        for r in rows:
            if dates:
                r = list(r)
                for i in dates:
                    if r[i] is not None:
                        r[i] = r[i].isoformat()
            batch.append(r)
            if len(batch) >= self.chunk:
                cur.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
            n += len(batch)
        cur.close()
        self.rows[table.name] = self.rows.get(table.name, 0) + n


class CopyWriter(SqlWriter):
    """PostgreSQL ``COPY … FROM STDIN`` through psycopg 3, inside the caller's transaction."""

    def __init__(self, conn):
        super().__init__(conn)
        self.raw = conn.connection.dbapi_connection

    def write(self, table, rows) -> None:
        cols = [c.name for c in table.columns]
        n = 0
        with self.raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)
                n += 1
        self.rows[table.name] = self.rows.get(table.name, 0) + n


def writer_for(conn) -> SqlWriter:
    return {"postgresql": CopyWriter, "sqlite": SqliteWriter}.get(conn.dialect.name, SqlWriter)(conn)


def _secondary_indexes():
    return [ix for t in schema.metadata.sorted_tables for ix in t.indexes]


def drop_secondary_indexes(conn) -> None:
    for ix in _secondary_indexes():
        ix.drop(conn)


def create_secondary_indexes(conn) -> None:
    for ix in _secondary_indexes():
        ix.create(conn)


def drop_foreign_keys(conn) -> list[tuple[str, str, str]]:
    """Drop the foreign keys of our tables (PostgreSQL); returns what to re-create."""
    names_ = [t.name for t in schema.metadata.sorted_tables]
    fks = conn.execute(text(
        "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname = ANY(:names) "
        "ORDER BY c.relname, k.conname"), {"names": names_}).all()
    for table, name, _ in fks:
        conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    return [tuple(r) for r in fks]


def restore_foreign_keys(conn, fks) -> None:
    for table, name, definition in fks:
        conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))


def fix_sequences(conn) -> None:
    """After explicit ids, move each serial sequence past the largest id."""
    for table in schema.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer) or isinstance(pk[0].type, BigInteger):
            continue
        col = pk[0]
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": col.name}).scalar()
        if seq:
            conn.execute(text(f"SELECT setval('{seq}', "
                              f"COALESCE((SELECT MAX({col.name}) FROM {table.name}), 0) + 1, false)"))
