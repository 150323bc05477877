"""The audit log: append, search, export and verify a keyed hash chain over every row.

Each row stores ``prev_hash`` (the previous row's hash, or 64 zeros for the first) and
``row_hash`` = HMAC-SHA256, keyed with ``IOM_AUDIT_KEY`` (held outside the database), of its
id, ``prev_hash`` and its own content. Editing, deleting or reordering a row breaks every hash
after it, and without the key nobody can recompute the chain to hide it. Rows written before
the key (migration 0012) carry ``chain`` 1 and are checked by the old rule, plain SHA-256
without the id; a keyed row may never be followed by an unkeyed one.

Ids are given out here, the last id plus one, so a gap always means a removed row. Every
``CHECKPOINT_EVERY`` appends, and on ``iom audit checkpoint``, a signed checkpoint of the head
(rows, last id, head hash) is written; deleting the newest rows or truncating the table no
longer matches it, and one exported to a file (``--export``, ``--against``) also outlives an
owner who empties both tables. Appends are serialised (a process lock, plus a
transaction-scoped advisory lock on PostgreSQL or the write lock on SQLite, so that other
processes wait too) and committed at once, so the chain never forks. There is deliberately
no update or delete function here."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from iom.errors import UserError
from iom.formatting import csv_cell
from iom.security.models import AuditCheckpoint, AuditEvent
from iom.security.roles import Principal
from iom.security.settings import audit_key

GENESIS = "0" * 64
#: ``AuditEvent.chain``: plain SHA-256 (rows from before the key), HMAC-SHA256 with the key.
UNKEYED, KEYED = 1, 2
#: A signed checkpoint is written with every keyed row whose id is a multiple of this; verify
#: expects one there, so deleting the checkpoints is itself a break. Changing it would make
#: older logs fail verify: it is part of the format.
CHECKPOINT_EVERY = 100
CHECKPOINT_FORMAT = "iom-audit-checkpoint"
_APPEND_LOCK = threading.Lock()
_PG_LOCK_KEY = 0x10A0D17  # arbitrary, constant: one advisory lock for the audit chain
ACTIONS = ("read", "write", "search", "export", "approve", "login", "login_failed", "logout", "denied")
EXPORT_COLUMNS = ("id", "at", "username", "role", "action", "resource", "person_id", "purpose", "detail", "prev_hash",
                  "row_hash", "chain")


def _utc_text(at: dt.datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def _canonical(items: list) -> bytes:
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def unkeyed_hash(prev_hash: str, *, at: dt.datetime, username: str, role: str, action: str, resource: str,
                 person_id: int | None, purpose: str, detail: str) -> str:
    """Chain 1, the rule before migration 0012: kept only to verify those rows."""
    payload = [prev_hash, _utc_text(at), username, role, action, resource, person_id, purpose, detail]
    return hashlib.sha256(_canonical(payload)).hexdigest()


def keyed_hash(key: bytes, prev_hash: str, *, id: int, at: dt.datetime, username: str, role: str, action: str,
               resource: str, person_id: int | None, purpose: str, detail: str) -> str:
    """Chain 2: the id is inside the MAC too, so renumbering rows to close a gap needs the key."""
    payload = ["iom-audit", KEYED, id, prev_hash, _utc_text(at), username, role, action, resource, person_id,
               purpose, detail]
    return hmac.new(key, _canonical(payload), hashlib.sha256).hexdigest()


def _expected_hash(key: bytes, event: AuditEvent, prev_hash: str) -> str:
    fields = dict(at=event.at, username=event.username, role=event.role, action=event.action,
                  resource=event.resource, person_id=event.person_id, purpose=event.purpose, detail=event.detail)
    if event.chain == KEYED:
        return keyed_hash(key, prev_hash, id=event.id, **fields)
    return unkeyed_hash(prev_hash, **fields)


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as signed: from the database or from an exported file (``source``)."""

    at: str
    rows: int
    last_id: int
    head_hash: str
    keyed_from: int | None
    signature: str
    source: str = "checkpoint"

    def message(self) -> bytes:
        return _canonical([CHECKPOINT_FORMAT, 1, self.rows, self.last_id, self.head_hash, self.keyed_from, self.at])

    def sign(self, key: bytes) -> str:
        return hmac.new(key, self.message(), hashlib.sha256).hexdigest()

    def signed_by(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signature, self.sign(key))

    def as_json(self) -> dict:
        return {"format": CHECKPOINT_FORMAT, "version": 1, "at": self.at, "rows": self.rows, "last_id": self.last_id,
                "head_hash": self.head_hash, "keyed_from": self.keyed_from, "signature": self.signature}

    @classmethod
    def of(cls, row: AuditCheckpoint) -> Checkpoint:
        return cls(at=_utc_text(row.at), rows=row.rows, last_id=row.last_id, head_hash=row.head_hash,
                   keyed_from=row.keyed_from, signature=row.signature, source=f"checkpoint #{row.id}")


def _lock(session: Session) -> None:
    """Hold the chain's lock until the caller's transaction ends (PostgreSQL; SQLite's write
    lock is taken by ``record`` itself)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _add_checkpoint(session: Session, *, key: bytes, rows: int, last_id: int, head_hash: str,
                    keyed_from: int | None) -> AuditCheckpoint:
    at = dt.datetime.now(dt.UTC)
    signed = Checkpoint(at=_utc_text(at), rows=rows, last_id=last_id, head_hash=head_hash, keyed_from=keyed_from,
                        signature="")
    row = AuditCheckpoint(at=at, rows=rows, last_id=last_id, head_hash=head_hash, keyed_from=keyed_from,
                          signature=signed.sign(key))
    session.add(row)
    session.flush()
    return row


def _scheduled_checkpoint(session: Session, *, key: bytes, event: AuditEvent) -> None:
    """At every ``CHECKPOINT_EVERY``-th id, inside the append's transaction. The count follows
    from the previous checkpoint (ids after it are gap-free: they are given out here)."""
    last = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    if last is not None and last.last_id < event.id:
        rows = last.rows + (event.id - last.last_id)
    else:
        rows = session.scalar(select(func.count()).select_from(AuditEvent))
    keyed_from = last.keyed_from if last is not None and last.keyed_from is not None else (
        session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.chain == KEYED)))
    _add_checkpoint(session, key=key, rows=rows, last_id=event.id, head_hash=event.row_hash, keyed_from=keyed_from)


def record(
    engine: Engine,
    *,
    actor: Principal,
    action: str,
    resource: str,
    purpose: str,
    person_id: int | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event in its own committed transaction (fail closed: raises if it cannot)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    key = audit_key()  # refused outside development without a real key, before anything is written
    detail_text = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), default=str)
    with _APPEND_LOCK, Session(engine, expire_on_commit=False) as session, session.begin():
        if engine.dialect.name == "sqlite":
            # Take the write lock before reading the last hash: the driver would otherwise
            # read it outside any transaction, and another process (a CLI command beside the
            # server) could append in between and fork the chain.
            session.execute(text("BEGIN IMMEDIATE"))
        _lock(session)
        last = session.execute(select(AuditEvent.id, AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)).first()
        prev_id, prev = (last.id, last.row_hash) if last else (0, GENESIS)
        # Microsecond precision is what both backends store, so the hash survives a round trip.
        fields = dict(
            at=dt.datetime.now(dt.UTC),
            username=actor.username[:64],
            role=actor.role[:24],
            action=action,
            resource=resource[:64],
            person_id=person_id,
            purpose=purpose or "",
            detail=detail_text,
        )
        event = AuditEvent(id=prev_id + 1, **fields, prev_hash=prev, chain=KEYED,
                           row_hash=keyed_hash(key, prev, id=prev_id + 1, **fields))
        session.add(event)
        if event.id % CHECKPOINT_EVERY == 0:
            session.flush()
            _scheduled_checkpoint(session, key=key, event=event)
    return event


def checkpoint(session: Session) -> Checkpoint:
    """Sign the chain's head now (``iom audit checkpoint``); the caller commits."""
    key = audit_key()
    _lock(session)
    # Count and last id in one statement, so they describe the same moment; a row's hash never
    # changes, so reading it afterwards is safe.
    rows, last_id = session.execute(select(func.count(), func.max(AuditEvent.id)).select_from(AuditEvent)).one()
    head = session.scalar(select(AuditEvent.row_hash).where(AuditEvent.id == last_id)) if last_id else GENESIS
    keyed_from = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.chain == KEYED))
    if keyed_from is not None and (last_id is None or keyed_from > last_id):
        keyed_from = None  # appended after the count: not part of this checkpoint
    return Checkpoint.of(_add_checkpoint(session, key=key, rows=rows, last_id=last_id or 0, head_hash=head,
                                         keyed_from=keyed_from))


def export_checkpoint(point: Checkpoint, path: Path) -> None:
    """Write a checkpoint as JSON, to keep where the database's owner cannot reach."""
    try:
        path.write_text(json.dumps(point.as_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None


def load_checkpoint(path: Path) -> Checkpoint:
    """A checkpoint file written by ``iom audit checkpoint --export``, its shape checked in words."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise UserError(f"{path} is not a checkpoint file (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT or data.get("version") != 1:
        raise UserError(f"{path} is not an audit checkpoint file ({CHECKPOINT_FORMAT}, version 1)")
    try:
        point = Checkpoint(at=str(data["at"]), rows=int(data["rows"]), last_id=int(data["last_id"]),
                           head_hash=str(data["head_hash"]),
                           keyed_from=None if data["keyed_from"] is None else int(data["keyed_from"]),
                           signature=str(data["signature"]), source=f"the checkpoint file {path}")
    except (KeyError, TypeError, ValueError):
        raise UserError(f"{path} is an audit checkpoint file with missing or malformed fields") from None
    return point


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str = ""
    #: Signed checkpoints the chain was matched against (the database's and a file's).
    checkpoints: int = 0
    #: The newest id a signed checkpoint covers: rows after it are protected by the chain
    #: alone, and removing them would not show.
    covered_to: int = 0
    #: Rows from before the key (chain 1, plain SHA-256).
    unkeyed: int = 0


def verify(session: Session, *, against: Checkpoint | None = None) -> VerifyResult:
    """Recompute the chain from the first row and match it to every signed checkpoint (and
    ``against``, one read from a file); report the first row that does not fit."""
    key = audit_key()
    points = [Checkpoint.of(row) for row in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))]
    if against is not None:
        points.append(against)
    for point in points:
        if not point.signed_by(key):
            return VerifyResult(False, 0, None, f"{point.source} is not signed with this IOM_AUDIT_KEY: "
                                                "it was forged or edited, or the key is not the one the log was written with")
    pending: dict[int, list[Checkpoint]] = {}
    for point in points:
        if point.last_id > 0:
            pending.setdefault(point.last_id, []).append(point)
    covered_to = max((p.last_id for p in points), default=0)

    def broken(row_id: int | None, reason: str) -> VerifyResult:
        return VerifyResult(False, rows, row_id, reason, len(points), covered_to, unkeyed)

    prev_id, prev_hash, rows, unkeyed, keyed_from = 0, GENESIS, 0, 0, None
    stream = session.execute(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000)).scalars()
    for event in stream:
        rows += 1
        if event.id != prev_id + 1:
            missing = f"row {prev_id + 1}" if event.id == prev_id + 2 else f"rows {prev_id + 1} to {event.id - 1}"
            return broken(event.id, f"ids jump from {prev_id} to {event.id}: {missing} removed")
        if event.chain == KEYED:
            keyed_from = keyed_from or event.id
        elif event.chain == UNKEYED:
            if keyed_from is not None:
                return broken(event.id, "an unkeyed row after keyed ones: the chain was rewritten without the key")
            unkeyed += 1
        else:
            return broken(event.id, f"unknown chain version {event.chain}")
        if event.prev_hash != prev_hash:
            return broken(event.id, "prev_hash does not match the row before: a row was removed, inserted or reordered")
        if event.row_hash != _expected_hash(key, event, prev_hash):
            return broken(event.id, "row content does not match its hash: the row was edited, "
                                    "or the chain recomputed without the key")
        here = pending.pop(event.id, [])
        for point in here:
            if (point.head_hash, point.rows, point.keyed_from) != (event.row_hash, rows, keyed_from):
                return broken(event.id, f"{point.source} (signed {point.at}) says {point.rows:,} rows up to this id, "
                                        f"head {point.head_hash[:12]}…; the log here differs: it was rewritten")
        if not here and event.chain == KEYED and event.id % CHECKPOINT_EVERY == 0:
            return broken(event.id, "the signed checkpoint written with this row is missing: checkpoints were deleted")
        prev_id, prev_hash = event.id, event.row_hash
    if pending:
        newest = max(pending)
        point = pending[newest][0]
        return broken(prev_id + 1, f"rows {prev_id + 1} to {newest} are missing: {point.source} (signed {point.at}) "
                                   f"says the log had {point.rows:,} rows up to id {newest}; the newest rows were "
                                   "deleted or the table truncated")
    return VerifyResult(True, rows, None, "", len(points), covered_to, unkeyed)


def search(
    session: Session,
    *,
    username: str | None = None,
    person_id: int | None = None,
    action: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """Newest first, filtered; dates are inclusive whole days (UTC). Pages by key: the next
    page is the rows before the last id shown (the log grows while it is read, and reading
    it appends a row, so offsets would repeat rows)."""
    query = select(AuditEvent)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if username:
        query = query.where(AuditEvent.username == username)
    if person_id is not None:
        query = query.where(AuditEvent.person_id == person_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if since:
        query = query.where(AuditEvent.at >= dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC))
    if until and until < dt.date.max:
        query = query.where(AuditEvent.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC))
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


def export(session: Session, path: Path) -> int:
    """Write the whole log, hashes included, as CSV so others can re-check the chain. Every
    cell goes through ``csv_cell``: a username an unauthenticated client typed into the
    sign-in form (``=HYPERLINK(…)``) must open as text in a spreadsheet, not run."""
    try:
        handle = path.open("w", newline="", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    count = 0
    with handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        stream = session.execute(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000)).scalars()
        for event in stream:
            writer.writerow([csv_cell(value) for value in (
                event.id, _utc_text(event.at), event.username, event.role, event.action, event.resource,
                event.person_id, event.purpose, event.detail, event.prev_hash, event.row_hash, event.chain,
            )])
            count += 1
    return count
