"""The sign-in throttle's table (``iom.web.throttle``): recent sign-in attempts, kept in the
database so that every process serving the app counts the same attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, Integer, String
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
