"""The shell's tables, kept in the database so that every process serving the app sees the
same: the sign-in throttle's recent attempts (``iom.web.throttle``) and the forms kept across a
sign-in (``iom.http.drafts``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in

#: ``pending``: its password is being checked; ``failed``: wrong; ``forgiven``: wrong, but the
#: username has signed in since (it counts against the address only); ``refused``: turned away
#: by the throttle before any check (counts against nothing, but is audited like a failure).
STATES = ("pending", "failed", "forgiven", "refused")
#: How a settled attempt reached the audit log: a row of its own, or a window's summary row.
AUDITED = ("each", "summary")


class LoginAttempt(Base):
    """One sign-in attempt of the last window. A right password deletes its row; the rest are
    deleted once the window has passed and the audit log has them."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        CheckConstraint(sql_in("state", STATES), name="state"),
        CheckConstraint(f"audited IS NULL OR {sql_in('audited', AUDITED)}", name="audited"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: As typed, trimmed and lower-cased: an unknown name counts like a known one.
    username: Mapped[str] = mapped_column(String(64), index=True)
    #: The client's address as the app sees it (a trusted proxy's ``X-Forwarded-For``, else the peer).
    address: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(8))
    audited: Mapped[str | None] = mapped_column(String(8))


class KeptDraft(Base):
    """A form sent after its session ended, given back once to the same user on the same page
    after they sign in again; deleted then, or after a session's length."""

    __tablename__ = "kept_drafts"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    path: Mapped[str] = mapped_column(String(2000))
    #: The form's fields as JSON (never its CSRF token).
    fields: Mapped[str] = mapped_column(Text)
    #: The user whose session it was (not a foreign key: a user is never deleted, only disabled).
    owner_id: Mapped[int] = mapped_column(Integer)
    kept_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
