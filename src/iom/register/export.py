"""Export every table to Parquet, for DuckDB/Polars analytics and for handing data on.

Why it is shaped this way: rows are read in primary-key order and written in fixed-size
batches with one ``ParquetWriter`` per table, so memory stays bounded and the same data
always gives byte-identical files (the manifest's sha256 lets anyone check that). Output is
built in a temporary directory next to the target and renamed into place at the end, so a
failed export never leaves half-written files where the old ones were.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Column, Table, select, types
from sqlalchemy.engine import Engine

from iom.config import get_settings
from iom.errors import UserError

#: Rows per fetch from the database (bounds memory).
EXPORT_BATCH = 10_000
#: Rows per Parquet row group (bounds memory too: held as compact Arrow columns).
ROW_GROUP = 100_000
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class TableExport:
    table: str
    file: str
    rows: int
    sha256: str


def _arrow_type(column: Column) -> tuple[pa.DataType, Callable[[Any], Any] | None]:
    """Arrow type for a column, and a converter for values that need one."""
    t = column.type
    if isinstance(t, types.Boolean):
        return pa.bool_(), None
    if isinstance(t, types.Integer):
        return pa.int64(), None
    if isinstance(t, types.DateTime):
        if t.timezone:
            return pa.timestamp("us", tz="UTC"), _to_utc
        return pa.timestamp("us"), None
    if isinstance(t, types.Date):
        return pa.date32(), None
    if isinstance(t, types.Time):
        return pa.time64("us"), None
    if isinstance(t, types.Float):
        return pa.float64(), None
    if isinstance(t, types.Numeric):
        if t.scale is not None and t.precision is not None:
            return pa.decimal128(t.precision, t.scale), _to_decimal
        return pa.float64(), _to_float
    if isinstance(t, types.LargeBinary):
        return pa.binary(), None
    if isinstance(t, types.JSON):
        return pa.string(), _to_json
    if isinstance(t, (types.String, types.Enum)):
        return pa.string(), None
    return pa.string(), _to_str


def _to_utc(value: Any) -> Any:
    # SQLite hands back naive datetimes for timezone-aware columns: they were stored as UTC.
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _to_decimal(value: Any) -> Any:
    return None if value is None else decimal.Decimal(value)


def _to_float(value: Any) -> Any:
    return None if value is None else float(value)


def _to_json(value: Any) -> Any:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _to_str(value: Any) -> Any:
    return None if value is None else str(value)


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, _arrow_type(c)[0], nullable=c.nullable or False) for c in table.columns]
    )


def _order_by(table: Table) -> list[Column]:
    keys = list(table.primary_key.columns)
    return keys or list(table.columns)  # no primary key: order by every column


def _export_table(engine: Engine, table: Table, path: Path, batch: int) -> int:
    """Fetch ``batch`` rows at a time into Arrow, and write a row group per ``ROW_GROUP`` rows
    (row-group boundaries depend only on the row count, so the bytes are reproducible)."""
    schema = arrow_schema(table)
    converters = [_arrow_type(c)[1] for c in table.columns]
    rows = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    row_group = max(ROW_GROUP, batch)
    with engine.connect() as conn, pq.ParquetWriter(
        path, schema, compression="zstd", write_statistics=True, store_schema=True
    ) as writer:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(
            select(*table.columns).order_by(*_order_by(table))
        )
        for part in result.partitions(batch):
            arrays = []
            for values, convert, field in zip(zip(*part), converters, schema):
                if convert is not None:
                    values = [convert(v) for v in values]
                arrays.append(pa.array(values, type=field.type))
            pending.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
            pending_rows += len(part)
            rows += len(part)
            del part, arrays
            if pending_rows >= row_group:
                whole = pa.Table.from_batches(pending, schema=schema)
                writer.write_table(whole.slice(0, row_group), row_group_size=row_group)
                rest = whole.slice(row_group)
                pending, pending_rows = rest.to_batches(), rest.num_rows
        if pending_rows or rows == 0:
            writer.write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=row_group)
    return rows


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: Not data to hand on: the register version is bookkeeping (it starts at random and moves
#: with every write, so identical data would give different bytes), user accounts hold
#: password hashes, which never leave the database, and the sign-in throttle's attempts are
#: bookkeeping of the last few minutes (what anyone typed as a username, and from where).
#: The current-state stamp and the register version are counters of this database, not data.
NOT_EXPORTED = frozenset({"register_version", "person_current_state_stamp", "users", "login_attempts"})


def exported_tables() -> list[str]:
    """The tables an export holds, in the order it writes them."""
    from iom.models import metadata

    return sorted(name for name in metadata.tables if name not in NOT_EXPORTED)


def check_target(directory: Path | str | None, *, overwrite: bool = False) -> Path:
    """Where an export to ``directory`` would go, or why it cannot: checked before anything is
    read, so a command can audit an export it will really make."""
    given = Path(directory) if directory is not None else get_settings().data_dir / "export"
    target = given.resolve()  # "." has no name to stage beside; a link is followed, not replaced
    if target.exists() and not target.is_dir():
        raise UserError(f"{given} exists and is not a directory")
    if target.exists() and any(target.iterdir()):
        if not overwrite:
            raise UserError(f"{given} already holds files: choose an empty directory or pass --overwrite")
        if not (target / MANIFEST).is_file():
            raise UserError(f"{given} holds files but no {MANIFEST}: --overwrite only replaces an earlier export")
    return target


def export_database(
    engine: Engine,
    directory: Path | str | None = None,
    *,
    overwrite: bool = False,
    batch_size: int = EXPORT_BATCH,
    progress: Callable[[str, int], None] | None = None,
) -> list[TableExport]:
    """Write every table of ``iom.models.metadata`` to ``directory/<table>.parquet`` plus
    ``manifest.json``; returns what was written, table by table in name order."""
    from iom.models import metadata

    given = Path(directory) if directory is not None else get_settings().data_dir / "export"
    target = check_target(given, overwrite=overwrite)
    with staged_directory(target, what=f"an export beside {given}") as staging:
        written = []
        for name in exported_tables():
            file = f"{name}.parquet"
            rows = _export_table(engine, metadata.tables[name], staging / file, batch_size)
            written.append(TableExport(table=name, file=file, rows=rows, sha256=_sha256(staging / file)))
            if progress:
                progress(name, rows)
        manifest = {"format": "iom-export/1", "tables": [asdict(w) for w in written]}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return written


@contextmanager
def staged_directory(target: Path, *, what: str) -> Iterator[Path]:
    """A new directory beside ``target`` to write into: swapped into place when the block
    finishes (``swap_into_place``), removed if it fails. ``what`` names it in the error when
    nothing can be written there."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    except OSError as exc:
        raise UserError(f"cannot write {what}: {exc.strerror or exc}") from None
    try:
        yield staging
        swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_into_place(staging: Path, target: Path) -> None:
    """Rename a finished directory (an export, a national data set) over ``target``; the old
    one goes only once the new is in, so a failure leaves one or the other, never half."""
    if target.exists() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        staging.rename(target)
        return
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
    target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(directory: Path | str) -> list[TableExport]:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise UserError(f"{path}: no export manifest here")
    return [TableExport(**t) for t in json.loads(path.read_text(encoding="utf-8"))["tables"]]
