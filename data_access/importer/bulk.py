"""Bulk reads and writes for the importer, without SQLAlchemy's per-row parameter handling.

100,000 person rows pass through here: rows go to the driver as tuples (``exec_driver_sql`` executemany on
SQLite, ``COPY … FROM STDIN`` through psycopg on PostgreSQL), after each column's own bind processor (e.g.
SQLite's dates), and key look-ups send the whole key list as ONE parameter (PostgreSQL ``= ANY(array)``,
SQLite ``json_each``) instead of hundreds of ``IN (…)`` statements. Driver errors are raised as
SQLAlchemy's (``DBAPIError``), as ``conn.execute`` would.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import any_, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

BATCH = 5000
IN_CHUNK = 500


def _processors(conn, table, columns):
    dialect = conn.dialect
    return [table.c[c].type._cached_bind_processor(dialect) for c in columns]


def _tuples(rows, columns, processors):
    plain = [tuple(map(r.get, columns)) for r in rows]
    if not any(processors) or not plain:
        return plain
    # Column by column: each processor mapped over its whole column (no Python loop per row).
    table = list(zip(*plain))
    for i, p in enumerate(processors):
        if p:
            column = table[i]
            if set(map(type, column)) <= _DATES:  # dates repeat (birth, join, leave): each distinct one once
                converted = {v: p(v) for v in set(column)}
                table[i] = map(converted.__getitem__, column)
            else:
                table[i] = map(p, column)
    return list(zip(*table))


_DATES = {dt.date, type(None)}  # exactly date (a datetime is never equal to a date): equal values, equal output


def _quoted(conn, names) -> str:
    quote = conn.dialect.identifier_preparer.quote
    return ", ".join(quote(n) for n in names)


def insert_rows(conn, table, columns: list[str], rows: list[dict]) -> None:
    """INSERT ``rows`` (dicts; a missing key is NULL) into ``table``'s ``columns``."""
    if not rows:
        return
    values = _tuples(rows, columns, _processors(conn, table, columns))
    name = conn.dialect.identifier_preparer.format_table(table)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        sql = f"COPY {name} ({_quoted(conn, columns)}) FROM STDIN"
        raw = conn.connection.driver_connection
        try:
            with raw.cursor() as cur, cur.copy(sql) as copy:
                for row in values:
                    copy.write_row(row)
        except raw.Error as exc:
            raise DBAPIError.instance(sql, None, exc, type(raw).Error) from exc
        return
    marks = ", ".join([_mark(conn)] * len(columns))
    sql = f"INSERT INTO {name} ({_quoted(conn, columns)}) VALUES ({marks})"
    for i in range(0, len(values), BATCH):
        conn.exec_driver_sql(sql, values[i:i + BATCH])


def update_rows(conn, table, match: tuple[str, ...], columns: tuple[str, ...], params: list[dict]) -> None:
    """UPDATE ``columns`` (params ``v_<col>``) WHERE ``match`` (params ``k_<col>``), one statement per batch."""
    if not params:
        return
    mark = _mark(conn)
    quote = conn.dialect.identifier_preparer.quote
    name = conn.dialect.identifier_preparer.format_table(table)
    sql = (f"UPDATE {name} SET " + ", ".join(f"{quote(c)} = {mark}" for c in columns) +
           " WHERE " + " AND ".join(f"{quote(c)} = {mark}" for c in match))
    order = [f"v_{c}" for c in columns] + [f"k_{c}" for c in match]
    processors = _processors(conn, table, list(columns) + list(match))
    values = _tuples(params, order, processors)
    for i in range(0, len(values), BATCH):
        conn.exec_driver_sql(sql, values[i:i + BATCH])


def _mark(conn) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def key_filter(conn, column, keys: list):
    """``column IN keys`` as one parameter when the keys are all text (or all integers); None otherwise."""
    if not keys or not (all(type(k) is str for k in keys) or all(type(k) is int for k in keys)):
        return None
    if conn.dialect.name == "postgresql":
        item = column.type if type(keys[0]) is str else postgresql.BIGINT()
        return column == any_(bindparam("keys", list(keys), type_=postgresql.ARRAY(item)))
    if conn.dialect.name == "sqlite":
        each = select(literal_column("value")).select_from(
            func.json_each(bindparam("keys", json.dumps(list(keys), ensure_ascii=False))))
        return column.in_(each.scalar_subquery())
    return None


def select_in(conn, columns, key_column, keys) -> list:
    """Rows of ``select(*columns)`` whose ``key_column`` is one of ``keys`` (any order), as plain tuples.

    The driver's rows are taken as they come (``cursor.fetchall()``), and only the columns whose type converts
    a driver value (e.g. SQLite's dates, stored as text) pass through that type's result processor: no
    SQLAlchemy ``Row`` per row (on a re-import 100,000 stored people are read several times)."""
    keys = list(keys)
    where = key_filter(conn, key_column, keys)
    if where is not None:
        statements = [select(*columns).where(where)]
    else:
        statements = [select(*columns).where(key_column.in_(keys[i:i + IN_CHUNK]))
                      for i in range(0, len(keys), IN_CHUNK)]
    out: list = []
    for stmt in statements:
        result = conn.execute(stmt)
        cursor = result.cursor
        types = [d[1] for d in cursor.description]
        rows = cursor.fetchall()
        result.close()
        convert = [(i, p) for i, p in ((i, c.type.dialect_impl(conn.dialect).result_processor(conn.dialect, types[i]))
                                       for i, c in enumerate(columns)) if p is not None]
        if not convert:
            out.extend(rows)
            continue
        for row in rows:
            row = list(row)
            for i, p in convert:
                row[i] = p(row[i])
            out.append(tuple(row))
    return out
