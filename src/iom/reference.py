"""Reference data shipped as CSV inside the package (``<domain>/data/*.csv``), and the one
way it is loaded: each domain lists its tables as ``ReferenceTable`` rows in its
``reference_tables.REFERENCE_TABLES`` and ``load_reference_tables`` upserts them."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.db import upsert


@cache
def read_reference(domain: str, name: str) -> tuple[dict[str, str], ...]:
    """Rows of ``iom/<domain>/data/<name>.csv`` as dicts of strings (cached, read-only)."""
    with resources.files(f"iom.{domain}").joinpath("data", f"{name}.csv").open(encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


def as_int_or_none(text: str) -> int | None:
    return int(text) if text.strip() else None


def as_text_or_none(text: str) -> str | None:
    """A blank cell is "none", as an optional code or reference should be."""
    return text if text.strip() else None


@dataclass(frozen=True)
class ReferenceTable:
    """One shipped CSV and the model it fills, declared rather than hand-mapped.

    The CSV's columns are the model's (``renamed`` maps a CSV column to another model
    column); ``convert`` turns a column's text into its value, other columns stay text.
    ``parent`` names a column referring to the table's own key: rows are then written
    parents first, so the reference holds at every row."""

    domain: str
    #: The CSV file (without ``.csv``) and the key of its count.
    name: str
    model: Any
    convert: Mapping[str, Callable[[str], Any]] = field(default_factory=dict)
    renamed: Mapping[str, str] = field(default_factory=dict)
    parent: str | None = None

    def rows(self) -> list[dict[str, Any]]:
        """The CSV's rows as column values, in the order they can be written."""
        table = self.model.__table__
        where = f"iom/{self.domain}/data/{self.name}.csv"
        rows = [{self.renamed.get(k, k): v for k, v in r.items()} for r in read_reference(self.domain, self.name)]
        columns = set(rows[0]) if rows else set()
        unknown = sorted((columns | set(self.convert)) - set(table.c.keys()))
        if unknown:
            raise ValueError(f"{where}: not columns of {table.name}: {', '.join(unknown)}")
        unused = sorted(set(self.convert) - columns)
        if unused:
            raise ValueError(f"{where}: no such column to convert: {', '.join(unused)}")
        rows = [{k: self.convert[k](v) if k in self.convert else v for k, v in r.items()} for r in rows]
        return _parents_first(rows, table.primary_key.columns[0].key, self.parent, where) if self.parent else rows


def _parents_first(rows: list[dict[str, Any]], key: str, parent: str, where: str) -> list[dict[str, Any]]:
    """Rows ordered by depth below their root (stable within a depth)."""
    parents = {r[key]: r[parent] for r in rows}
    depth: dict[Any, int] = {}
    for start in parents:
        chain = []
        node = start
        while node is not None and node not in depth:
            if node in chain:
                raise ValueError(f"{where}: {parent} loops back to {node!r}")
            chain.append(node)
            node = parents.get(node)  # a parent held already but not listed counts as a root
        base = depth.get(node, -1)
        for offset, item in enumerate(reversed(chain), start=1):
            depth[item] = base + offset
    return sorted(rows, key=lambda r: depth[r[key]])


def load_reference_tables(session: Session, tables: Sequence[ReferenceTable]) -> dict[str, int]:
    """Upsert ``tables`` in the order given (a table before those that refer to it); returns
    rows per table name. Idempotent: loading again leaves the same rows.

    Only rows that differ from those held are written, so loading unchanged data writes
    nothing and leaves the register version (and every view kept on it) alone."""
    session.flush()
    conn = session.connection()
    counts = {}
    for ref in tables:
        table, rows = ref.model.__table__, ref.rows()
        if rows:
            names = list(rows[0])
            held = {tuple(r) for r in conn.execute(select(*(table.c[n] for n in names)))}
            upsert(conn, table, [r for r in rows if tuple(r[n] for n in names) not in held])
        counts[ref.name] = len(rows)
    session.expire_all()  # objects loaded before now see the rows as written
    return counts
