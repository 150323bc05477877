"""Bulk writing of generated column arrays: executemany on SQLite, COPY on PostgreSQL.

Rows go in with explicit ids (so references are known without round trips); on
PostgreSQL the id sequences are moved past them afterwards."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from iom.db import Base
from iom.synth.generator import NO_DATE

CHUNK = 50_000


def _column_values(table: Table, name: str, values: np.ndarray, dialect: str) -> list:
    """One column as Python values the driver accepts: dates from day numbers, NO_DATE and -1 ids as NULL."""
    column = table.c[name]
    kind = column.type.python_type if hasattr(column.type, "python_type") else object
    if kind.__name__ == "date":
        days = np.asarray(values, dtype=np.int64)
        text = days.astype("datetime64[D]").astype(str).astype(object)
        text[days == NO_DATE] = None
        return text.tolist()
    if kind is bool:
        flags = np.asarray(values, dtype=bool)
        return flags.astype(int).tolist() if dialect == "sqlite" else flags.tolist()
    if kind is int and name.endswith("_id") and column.nullable:
        ints = np.asarray(values, dtype=np.int64).astype(object)
        ints[np.asarray(values) < 0] = None
        return ints.tolist()
    return np.asarray(values).tolist()


def write_table(connection: Connection, table_name: str, columns: dict[str, np.ndarray],
                advance: Callable[[int], None] | None = None) -> int:
    table = Base.metadata.tables[table_name]
    dialect = connection.dialect.name
    names = list(columns)
    n = len(next(iter(columns.values())))
    raw = connection.connection.driver_connection
    # Secondary indexes are cheaper to build once over the loaded rows than to keep up to date.
    indexes = list(table.indexes) if n > 100_000 else []
    for index in indexes:
        index.drop(connection)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        values = [_column_values(table, name, columns[name][start:stop], dialect) for name in names]
        rows = list(zip(*values))
        if dialect == "postgresql":
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY {table_name} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            placeholders = ", ".join("?" for _ in names)
            raw.executemany(f"INSERT INTO {table_name} ({', '.join(names)}) VALUES ({placeholders})", rows)
        if advance:
            advance(stop - start)
    for index in indexes:
        index.create(connection)
    if dialect == "postgresql" and "id" in names:
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table_name}))"
        )
    return n
