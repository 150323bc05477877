"""Security tables: users and the hash-chained, append-only audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in
from iom.security.roles import USER_ROLES

ROLES = USER_ROLES


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(sql_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: argon2 hash (pwdlib); the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(24))
    lomu_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    #: The officer this user is, as management records name them: their own caseload.
    officer: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped on sign-out: signed session cookies carry it, so older cookies stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """One consultation, disclosure, alteration or erasure (DPA 2018 Part 3, s.62).

    Append-only: the code has no update or delete path, and each row carries the hash of the
    row before it plus its own content, so ``iom audit verify`` detects any later edit.
    ``chain`` says how ``row_hash`` was made: 1, plain SHA-256 (rows from before migration
    0012); 2, HMAC-SHA256 with ``IOM_AUDIT_KEY`` over the id too.
    ``person_id`` has no foreign key on purpose: the log must outlive an erased record."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(16))
    resource: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    purpose: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)
    chain: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))


class AuditCheckpoint(Base):
    """A signed statement of the audit chain's head (HMAC with ``IOM_AUDIT_KEY``): the log
    had ``rows`` rows up to ``last_id``, whose hash was ``head_hash``, and its keyed rows
    began at ``keyed_from``. Rows deleted from the end, or a truncated table, no longer
    match it. Append-only like the log."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rows: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(Integer, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    keyed_from: Mapped[int | None] = mapped_column(Integer)
    signature: Mapped[str] = mapped_column(String(64))
