"""The audit log: append, search, export and verify a hash chain over every row.

Each row stores ``prev_hash`` (the previous row's hash, or 64 zeros for the first) and
``row_hash`` = SHA-256 of ``prev_hash`` and its own content, so editing, deleting or
reordering any row breaks every hash after it. Appends are serialised (a process lock, plus a
transaction-scoped advisory lock on PostgreSQL or the write lock on SQLite, so that other
processes wait too) and committed at once, so the chain never forks. There is deliberately
no update or delete function here."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from iom.errors import UserError
from iom.security.models import AuditEvent
from iom.security.roles import Principal

GENESIS = "0" * 64
_APPEND_LOCK = threading.Lock()
_PG_LOCK_KEY = 0x10A0D17  # arbitrary, constant: one advisory lock for the audit chain
ACTIONS = ("read", "write", "search", "export", "approve", "login", "login_failed", "logout", "denied")
EXPORT_COLUMNS = ("id", "at", "username", "role", "action", "resource", "person_id", "purpose", "detail", "prev_hash", "row_hash")


def _utc_text(at: dt.datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def row_hash(prev_hash: str, *, at: dt.datetime, username: str, role: str, action: str, resource: str,
             person_id: int | None, purpose: str, detail: str) -> str:
    payload = json.dumps(
        [prev_hash, _utc_text(at), username, role, action, resource, person_id, purpose, detail],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
    detail_text = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), default=str)
    with _APPEND_LOCK, Session(engine, expire_on_commit=False) as session, session.begin():
        if engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        elif engine.dialect.name == "sqlite":
            # Take the write lock before reading the last hash: the driver would otherwise
            # read it outside any transaction, and another process (a CLI command beside the
            # server) could append in between and fork the chain.
            session.execute(text("BEGIN IMMEDIATE"))
        prev = session.scalar(select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
        # Microsecond precision is what both backends store, so the hash survives a round trip.
        at = dt.datetime.now(dt.UTC)
        fields = dict(
            at=at,
            username=actor.username[:64],
            role=actor.role[:24],
            action=action,
            resource=resource[:64],
            person_id=person_id,
            purpose=purpose or "",
            detail=detail_text,
        )
        event = AuditEvent(**fields, prev_hash=prev, row_hash=row_hash(prev, **fields))
        session.add(event)
    return event


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str = ""


def verify(session: Session) -> VerifyResult:
    """Recompute the chain from the first row; report the first row that does not match."""
    prev = GENESIS
    rows = 0
    stream = session.execute(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000)).scalars()
    for event in stream:
        rows += 1
        if event.prev_hash != prev:
            return VerifyResult(False, rows, event.id, "prev_hash does not match the row before: a row was removed, inserted or reordered")
        expected = row_hash(
            prev,
            at=event.at,
            username=event.username,
            role=event.role,
            action=event.action,
            resource=event.resource,
            person_id=event.person_id,
            purpose=event.purpose,
            detail=event.detail,
        )
        if event.row_hash != expected:
            return VerifyResult(False, rows, event.id, "row content does not match its hash: the row was edited")
        prev = event.row_hash
    return VerifyResult(True, rows)


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
    """Write the whole log, hashes included, as CSV so others can re-check the chain."""
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
            writer.writerow([
                event.id, _utc_text(event.at), event.username, event.role, event.action, event.resource,
                "" if event.person_id is None else event.person_id, event.purpose, event.detail,
                event.prev_hash, event.row_hash,
            ])
            count += 1
    return count
