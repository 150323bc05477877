"""CSV import into the register: people, crimes, vulnerability markers, cohort memberships
and the risk and management histories.

Why it is shaped this way:

* every row is checked by a Pydantic model at the edge, then against the reference data
  and the people already held, and every problem is reported with file, line and column;
* the whole import is one transaction: one bad row anywhere and nothing is written;
* files are streamed in chunks (``Settings.batch_size`` rows), references are resolved with
  one batched query per chunk and rows are written with ``INSERT .. ON CONFLICT`` so memory
  stays bounded however long the file is, and re-importing the same file updates in place;
* a person's ``pseudo_id`` is drawn at random on first import and never changes after.

The CSV layouts are documented in ``docs/import-export.md``.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import (
    ValidationError,
)
from sqlalchemy import Table, any_, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from iom.cohorts.models import (
    Classification,
    CohortMembership,
    ManagementRecord,
    RiskLevelRecord,
)
from iom.cohorts import current_state
from iom.config import get_settings
from iom.csv_input import CsvFault, CsvReader, open_csv
from iom.db import insert_rows, refresh_statistics, upsert
from iom.errors import UserError
from iom.plugins import contributions, resolve
from iom.reference import read_reference
from iom.register.models import (
    Crime,
    Offence,
    Person,
    Unit,
    VulnerabilityMarker,
)

#: Problems collected before the import gives up and reports.
MAX_ERRORS = 100
#: Keys per ``IN (...)`` look-up (SQLite allows 32,766 bound parameters).
LOOKUP_BATCH = 5_000
#: Earliest plausible date of birth or event.
EARLIEST = dt.date(1900, 1, 1)
from iom.register.import_rows import (
    CrimeRow,
    FileResult,
    ImportFailed,
    ImportResult,
    ManagementRow,
    MarkerRow,
    MembershipRow,
    PersonRow,
    Progress,
    RiskRow,
    RowError,
    ImportRow,
)

# --------------------------------------------------------------------------------------
# File kinds


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[ImportRow]
    #: A column only this kind of file has: positional files are recognised by it.
    signature: str
    writer: Callable[[_Context, list[tuple[int, Any]], FileResult], None]
    #: Upserted by source_id: new rows are told apart by counting this table.
    upserts: Table | None = None

    @property
    def required(self) -> list[str]:
        return [n for n, f in self.model.model_fields.items() if f.is_required()]

    @property
    def columns(self) -> list[str]:
        return list(self.model.model_fields)


@dataclass
class _Context:
    """What a writer needs: the connection, reference codes and the error sink."""

    conn: Connection
    today: dt.date
    file: str
    errors: list[RowError]
    offences: dict[str, tuple[bool, bool]]
    npus: set[str]
    lomus: set[str]
    ethnicities: set[str]
    markers: set[str]
    classifications: set[str]
    #: People whose memberships or histories this import wrote (``current_state.refresh``).
    touched: set[int] = field(default_factory=set)

    @property
    def writing(self) -> bool:
        """Once anything is wrong we only check, since the transaction will roll back."""
        return not self.errors

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_ERRORS

    def error(self, line: int | None, column: str | None, reason: str) -> None:
        if not self.full:
            self.errors.append(RowError(self.file, line, column, reason))


def _load_context(conn: Connection, today: dt.date, errors: list[RowError]) -> _Context:
    units = conn.execute(select(Unit.code, Unit.kind)).all()
    if not units:
        raise UserError("the database has no reference data: run `iom init` first")
    return _Context(
        conn=conn,
        today=today,
        file="",
        errors=errors,
        offences={c: (da, hate) for c, da, hate in conn.execute(select(Offence.code, Offence.domestic_abuse, Offence.hate))},
        npus={c for c, k in units if k == "npu"},
        lomus={c for c, k in units if k == "lomu"},
        ethnicities={r["code"] for r in read_reference("register", "ethnicities")},
        markers={r["code"] for r in read_reference("register", "vulnerability_markers")},
        classifications=set(conn.scalars(select(Classification.code))),
    )


def _chunks(keys: Iterable[Any], size: int = LOOKUP_BATCH) -> Iterator[list[Any]]:
    keys = list(keys)
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _ids_by_source(conn: Connection, table: Table, keys: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    keys = set(keys)
    if conn.dialect.name == "postgresql" and keys:
        # One array parameter (= ANY), not thousands of bound values: the driver's per-value
        # query rewriting cost more than the look-up itself.
        wanted = bindparam("keys", value=sorted(keys), type_=ARRAY(table.c.source_id.type))
        found.update(conn.execute(select(table.c.source_id, table.c.id).where(table.c.source_id == any_(wanted))).all())
        return found
    for part in _chunks(keys):
        found.update(conn.execute(select(table.c.source_id, table.c.id).where(table.c.source_id.in_(part))).all())
    return found


def _new_pseudo_id() -> str:
    """``P`` and 11 random base-32 characters (55 bits): unguessable, never reused."""
    return "P" + base64.b32encode(secrets.token_bytes(7)).decode()[:11]


def _people_ids(ctx: _Context, rows: list[tuple[int, Any]], columns: Sequence[str]) -> dict[str, int]:
    """Resolve person source ids named in ``columns``; report any that are not held."""
    wanted = {getattr(r, c) for _, r in rows for c in columns if getattr(r, c) is not None}
    ids = _ids_by_source(ctx.conn, Person.__table__, wanted)
    for line, row in rows:
        for column in columns:
            value = getattr(row, column)
            if value is not None and value not in ids:
                ctx.error(line, column, f"no person with source_id {value!r} (import people first)")
    return ids


def _check_dates(ctx: _Context, line: int, row: Any, columns: Sequence[str]) -> bool:
    ok = True
    for column in columns:
        value = getattr(row, column)
        if value is None:
            continue
        if value > ctx.today:
            ctx.error(line, column, f"date {value} is in the future")
            ok = False
        elif value < EARLIEST:
            ctx.error(line, column, f"date {value} is before {EARLIEST}")
            ok = False
    return ok


def _duplicates(
    ctx: _Context, rows: list[tuple[int, Any]], key: Callable[[Any], Any], what: str, column: str | None = None
) -> list[tuple[int, Any]]:
    """Drop (and report) rows whose key repeats within a chunk; the database cannot upsert both."""
    first: dict[Any, int] = {}
    kept = []
    for line, row in rows:
        k = key(row)
        if k in first:
            ctx.error(line, column, f"duplicate {what} {k!r} (also on line {first[k]})")
        else:
            first[k] = line
            kept.append((line, row))
    return kept


def _tally(result: FileResult, written: int) -> None:
    """Upserts count as updates here; ``_import_file`` moves the new rows across by
    counting the table before and after (cheaper than asking which keys exist)."""
    result.updated += written


# --------------------------------------------------------------------------------------
# Writers: check one chunk against references, then (if all is well so far) write it.


def _write_people(ctx: _Context, rows: list[tuple[int, PersonRow]], result: FileResult) -> None:
    rows = _duplicates(ctx, rows, lambda r: r.source_id, "source_id", "source_id")
    good = []
    for line, r in rows:
        ok = _check_dates(ctx, line, r, ["date_of_birth"])
        if r.ethnicity not in ctx.ethnicities:
            ctx.error(line, "ethnicity", f"unknown ethnicity code {r.ethnicity!r}")
            ok = False
        if r.home_npu is not None and r.home_npu not in ctx.npus:
            ctx.error(line, "home_npu", f"unknown NPU code {r.home_npu!r}")
            ok = False
        if ok:
            good.append(r)
    if not ctx.writing:
        return
    values = [{**r.model_dump(), "pseudo_id": _new_pseudo_id()} for r in good]
    upsert(ctx.conn, Person.__table__, values, ["source_id"], keep=["pseudo_id"])
    _tally(result, len(values))


def _write_crimes(ctx: _Context, rows: list[tuple[int, CrimeRow]], result: FileResult) -> None:
    rows = _duplicates(ctx, rows, lambda r: r.source_id, "source_id", "source_id")
    people = _people_ids(ctx, rows, ["person_source_id", "victim_source_id"])
    values = []
    for line, r in rows:
        ok = _check_dates(ctx, line, r, ["committed_on", "recorded_on", "outcome_on"])
        if ok and r.recorded_on < r.committed_on:
            ctx.error(line, "recorded_on", f"recorded on {r.recorded_on}, before it was committed ({r.committed_on})")
            ok = False
        if ok and r.outcome_on is not None and r.outcome_on < r.committed_on:
            ctx.error(line, "outcome_on", f"outcome on {r.outcome_on}, before it was committed ({r.committed_on})")
            ok = False
        flags = ctx.offences.get(r.offence_code)
        if flags is None:
            ctx.error(line, "offence_code", f"unknown offence code {r.offence_code!r}")
            ok = False
        if r.npu_code not in ctx.npus:
            ctx.error(line, "npu_code", f"unknown NPU code {r.npu_code!r}")
            ok = False
        if r.victim_source_id is not None and r.victim_source_id == r.person_source_id:
            ctx.error(line, "victim_source_id", "the victim is the same person as the suspect or offender")
            ok = False
        if not ok or not ctx.writing or r.person_source_id not in people:
            continue
        if r.victim_source_id is not None and r.victim_source_id not in people:
            continue
        values.append(
            {
                "source_id": r.source_id,
                "person_id": people[r.person_source_id],
                "involvement": r.involvement,
                "committed_on": r.committed_on,
                "recorded_on": r.recorded_on,
                "offence_code": r.offence_code,
                "npu_code": r.npu_code,
                "domestic_abuse": flags[0] if r.domestic_abuse is None else r.domestic_abuse,
                "alcohol_related": r.alcohol_related,
                "hate": flags[1] if r.hate is None else r.hate,
                "victim_person_id": people.get(r.victim_source_id) if r.victim_source_id else None,
                "outcome": r.outcome,
                "outcome_on": r.outcome_on,
            }
        )
    if not ctx.writing:
        return
    upsert(ctx.conn, Crime.__table__, values, ["source_id"])
    _tally(result, len(values))


def _check_period(ctx: _Context, line: int, row: Any, columns: tuple[str, str], before: str) -> bool:
    """Both dates plausible, and the end (if any) not before the start."""
    start_col, end_col = columns
    if not _check_dates(ctx, line, row, list(columns)):
        return False
    start, end = getattr(row, start_col), getattr(row, end_col)
    if end is not None and end < start:
        ctx.error(line, end_col, before.format(start=start, end=end))
        return False
    return True


def _check_code(ctx: _Context, line: int, column: str, value: str, known, what: str) -> bool:
    if value not in known:
        ctx.error(line, column, f"{what} {value!r}")
        return False
    return True


def _write_memberships(ctx: _Context, rows: list[tuple[int, MembershipRow]], result: FileResult) -> None:
    rows = _duplicates(ctx, rows, lambda r: r.source_id, "source_id", "source_id")
    people = _people_ids(ctx, rows, ["person_source_id"])
    values = []
    for line, r in rows:
        ok = _check_period(ctx, line, r, ("adopted_on", "exited_on"), "exited on {end}, before adoption ({start})")
        ok = _check_code(ctx, line, "classification_code", r.classification_code, ctx.classifications,
                         "unknown cohort classification") and ok
        if ok and ctx.writing and r.person_source_id in people:
            values.append({**r.model_dump(exclude={"person_source_id"}), "person_id": people[r.person_source_id]})
    if not ctx.writing:
        return
    upsert(ctx.conn, CohortMembership.__table__, values, ["source_id"])
    ctx.touched.update(v["person_id"] for v in values)
    _tally(result, len(values))


def _write_markers(ctx: _Context, rows: list[tuple[int, MarkerRow]], result: FileResult) -> None:
    """Markers have no source id: (person, marker, started_on) identifies one."""
    rows = _duplicates(ctx, rows, lambda r: (r.person_source_id, r.marker, r.started_on.isoformat()), "marker")
    people = _people_ids(ctx, rows, ["person_source_id"])
    good = []
    for line, r in rows:
        ok = _check_period(ctx, line, r, ("started_on", "ended_on"), "ended on {end}, before it started ({start})")
        ok = _check_code(ctx, line, "marker", r.marker, ctx.markers, "unknown vulnerability marker") and ok
        if ok and r.person_source_id in people:
            good.append((people[r.person_source_id], r))
    if not ctx.writing:
        return
    table = VulnerabilityMarker.__table__
    held: dict[tuple[int, str, dt.date], int] = {}
    for part in _chunks({(pid, r.marker, r.started_on) for pid, r in good}):
        held.update(
            ((p, m, s), i)
            for i, p, m, s in ctx.conn.execute(
                select(table.c.id, table.c.person_id, table.c.marker, table.c.started_on).where(
                    tuple_(table.c.person_id, table.c.marker, table.c.started_on).in_(part)
                )
            )
        )
    inserts, updates = [], []
    for pid, r in good:
        marker_id = held.get((pid, r.marker, r.started_on))
        row = {"ended_on": r.ended_on, "source": r.source}
        if marker_id is None:
            inserts.append({"person_id": pid, "marker": r.marker, "started_on": r.started_on, **row})
        else:
            updates.append({"b_id": marker_id, **row})
    if inserts:
        insert_rows(ctx.conn, table, inserts)
    if updates:
        ctx.conn.execute(
            table.update().where(table.c.id == bindparam("b_id")).values(ended_on=bindparam("ended_on"), source=bindparam("source")),
            updates,
        )
    result.inserted += len(inserts)
    result.updated += len(updates)


def _append_history(
    ctx: _Context,
    rows: list[tuple[int, Any]],
    result: FileResult,
    *,
    table: Table,
    row_model: type[ImportRow],
) -> None:
    """Append-only histories: a row already held is skipped; a different row on the same
    date for the same person (in any imported column) is an error: history is corrected by a
    newer row, not edits."""
    fields = [f for f in row_model.model_fields if f not in ("person_source_id", "effective_from")]
    rows = _duplicates(ctx, rows, lambda r: (r.person_source_id, r.effective_from.isoformat()), "person and effective_from")
    people = _people_ids(ctx, rows, ["person_source_id"])
    good = [(line, people[r.person_source_id], r) for line, r in rows if _check_dates(ctx, line, r, ["effective_from"]) and r.person_source_id in people]
    held: dict[tuple[int, dt.date], tuple] = {}
    for part in _chunks({(pid, r.effective_from) for _, pid, r in good}):
        cols = [table.c[f] for f in fields]
        for p, e, *vals in ctx.conn.execute(
            select(table.c.person_id, table.c.effective_from, *cols).where(tuple_(table.c.person_id, table.c.effective_from).in_(part))
        ):
            held[(p, e)] = tuple(vals)
    inserts = []
    for line, pid, r in good:
        new = tuple(getattr(r, f) for f in fields)
        old = held.get((pid, r.effective_from))
        if old is None:
            inserts.append({"person_id": pid, "effective_from": r.effective_from, **r.model_dump(exclude={"person_source_id", "effective_from"})})
        elif old == new:
            result.unchanged += 1
        else:
            shown = ", ".join(f"{f}={v!r}" for f, v in zip(fields, old))
            ctx.error(line, None, f"history is append-only: {r.person_source_id} already has a record from {r.effective_from} ({shown})")
    if ctx.writing and inserts:
        insert_rows(ctx.conn, table, inserts)
        ctx.touched.update(row["person_id"] for row in inserts)
        result.inserted += len(inserts)


def _write_risk(ctx: _Context, rows: list[tuple[int, RiskRow]], result: FileResult) -> None:
    _append_history(ctx, rows, result, table=RiskLevelRecord.__table__, row_model=RiskRow)


def _write_management(ctx: _Context, rows: list[tuple[int, ManagementRow]], result: FileResult) -> None:
    for line, r in rows:
        if r.lomu_code not in ctx.lomus:
            ctx.error(line, "lomu_code", f"unknown LOMU code {r.lomu_code!r}")
    _append_history(
        ctx,
        rows,
        result,
        table=ManagementRecord.__table__,
        row_model=ManagementRow,
    )


#: In the order they are imported: people first, since everything else refers to them.
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("people", PersonRow, "given_name", _write_people, Person.__table__),
        Kind("markers", MarkerRow, "marker", _write_markers),
        Kind("cohorts", MembershipRow, "classification_code", _write_memberships, CohortMembership.__table__),
        Kind("risk", RiskRow, "level", _write_risk),
        Kind("management", ManagementRow, "offender_type", _write_management),
        Kind("crimes", CrimeRow, "offence_code", _write_crimes, Crime.__table__),
    )
}


def known_kinds() -> dict[str, Kind]:
    """Every installed domain's import kinds (``Domain.import_kinds``), in load order."""
    kinds: dict[str, Kind] = {}
    for target in contributions("import_kinds"):
        kinds.update(resolve(target))
    return kinds


# --------------------------------------------------------------------------------------
# Reading files


def _open(path: Path) -> tuple[BinaryIO, CsvReader, int]:
    """The file and its rows, read within ``iom.csv_input``'s line and row limits."""
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if not path.is_file():
        raise UserError(f"{path}: not a file")
    size = path.stat().st_size
    if size == 0:
        raise UserError(f"{path}: the file is empty (expected a header row)")
    binary, reader = open_csv(path)
    return binary, reader, size


def _read_header(path: Path, reader: Any) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"{path}: the file is empty (expected a header row)") from None
    return [h.strip() for h in header]


def detect_kind(path: Path) -> str:
    """Which kind of file ``path`` is, told by its header."""
    binary, reader, _ = _open(path)
    with binary:
        try:
            header = set(_read_header(path, iter(reader)))
        except CsvFault as exc:
            raise UserError(f"{path} line {exc.line}: malformed CSV header: {exc.reason}") from None
    for kind in known_kinds().values():
        if kind.signature in header:
            return kind.name
    signatures = ", ".join(f"{k.signature!r} ({k.name})" for k in known_kinds().values())
    raise UserError(f"{path}: cannot tell what this file holds from its header; expected a column {signatures}")


def _check_header(path: Path, kind: Kind, header: list[str]) -> None:
    seen = set()
    repeated = sorted({h for h in header if h in seen or seen.add(h)})
    if repeated:
        raise UserError(f"{path}: column(s) repeated in the header: {', '.join(repeated)}")
    missing = [c for c in kind.required if c not in header]
    unknown = [c for c in header if c not in kind.model.model_fields]
    problems = []
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if problems:
        raise UserError(
            f"{path}: wrong header for a {kind.name} file: {'; '.join(problems)}. "
            f"Expected columns: {', '.join(kind.columns)} (see docs/import-export.md)"
        )


def _pydantic_errors(ctx: _Context, line: int, exc: ValidationError) -> None:
    for err in exc.errors(include_url=False):
        column = str(err["loc"][0]) if err["loc"] else None
        if err["type"] == "missing":
            reason = "a value is required"
        elif err["type"] in ("too_long", "string_too_long"):
            reason = f"longer than the {err['ctx']['max_length']} characters allowed"
        else:
            reason = err["msg"].removeprefix("Value error, ")
        ctx.error(line, column, reason)


def _import_file(ctx: _Context, kind: Kind, path: Path, batch: int, progress: Progress | None) -> FileResult:
    result = FileResult(kind.name, str(path))
    ctx.file = path.name
    held_before = _count(ctx.conn, kind.upserts) if kind.upserts is not None else 0
    binary, reader, size = _open(path)
    with binary:
        records = iter(reader)
        header = _read_header(path, records)
        _check_header(path, kind, header)
        width = len(header)
        chunk: list[tuple[int, Any]] = []
        for record in records:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            line = reader.line
            result.rows += 1
            if len(record) != width:
                ctx.error(line, None, f"expected {width} fields, found {len(record)}")
            else:
                values = {h: v.strip() for h, v in zip(header, record) if v and not v.isspace()}
                try:
                    chunk.append((line, kind.model.model_validate(values)))
                except ValidationError as exc:
                    _pydantic_errors(ctx, line, exc)
            if len(chunk) >= batch:
                kind.writer(ctx, chunk, result)
                chunk = []
                if progress:
                    progress(kind.name, reader.bytes_read, size)
            if ctx.full:
                break
        if chunk:
            kind.writer(ctx, chunk, result)
    if progress:
        progress(kind.name, size, size)
    if result.rows == 0:
        ctx.error(None, None, "the file has a header but no rows")
    if kind.upserts is not None and ctx.writing:
        result.inserted = _count(ctx.conn, kind.upserts) - held_before
        result.updated -= result.inserted
    return result


def _count(conn: Connection, table: Table) -> int:
    return conn.scalar(select(func.count()).select_from(table)) or 0


class _RollBack(Exception):
    """Raised inside the transaction to undo a check-only import."""


def import_files(
    engine: Engine,
    files: dict[str, Path | str],
    *,
    today: dt.date | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
    check_only: bool = False,
) -> ImportResult:
    """Import ``files`` (kind -> path; kinds as in ``known_kinds()``) in one transaction.

    Raises ``ImportFailed`` (a ``UserError``) listing every problem found, up to
    ``MAX_ERRORS``, and writes nothing if there is any problem at all. With
    ``check_only`` everything is done as for real and then rolled back, so the counts
    returned are what the import would do."""
    kinds = known_kinds()
    unknown = sorted(set(files) - set(kinds))
    if unknown:
        raise UserError(f"unknown kind(s) of import file: {', '.join(unknown)}; known: {', '.join(kinds)}")
    if not files:
        raise UserError("nothing to import: name at least one file")
    paths = {kind: Path(p) for kind, p in files.items()}
    for path in paths.values():  # fail fast on a missing file before any work is done
        _open(path)[0].close()
    today = today or dt.date.today()
    batch = batch_size or get_settings().batch_size
    errors: list[RowError] = []
    result = ImportResult()
    try:
        with engine.begin() as conn:
            ctx = _load_context(conn, today, errors)
            for name, kind in kinds.items():
                if name not in paths:
                    continue
                result.files.append(_import_file(ctx, kind, paths[name], batch, progress))
                if errors:  # later files refer to this one: checking them would only mislead
                    break
            if errors:
                raise ImportFailed(errors, capped=len(errors) >= MAX_ERRORS)
            # Once for the whole import: the people it touched, and anyone a later reference
            # date (new crimes move it) has left behind.
            current_state.refresh(conn, person_ids=ctx.touched)
            if check_only:
                raise _RollBack
    except _RollBack:
        return result
    except DBAPIError as exc:  # a check we do not make ourselves; still nothing is written
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise UserError(f"the database refused the import, nothing was written: {reason}") from None
    refresh_statistics(engine)
    return result


def classify_files(paths: Sequence[Path | str]) -> dict[str, Path]:
    """Map positional files to their kinds by header; two files of one kind is an error."""
    found: dict[str, Path] = {}
    for p in map(Path, paths):
        kind = detect_kind(p)
        if kind in found:
            raise UserError(f"{p} and {found[kind]} are both {kind} files: import one at a time")
        found[kind] = p
    return found
