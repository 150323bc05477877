"""The sign-in throttle: failed sign-ins limited per username and per client address together,
counted in the database (``login_attempts``) so that every process serving the app sees the
same counts.

An attempt is counted, as *pending*, before its password is checked: the check is slow, and a
burst of parallel guesses must not all pass a limit that none of them has reached yet. A
pending attempt is not a failure, though: an attempt that would pass the limit only because of
attempts still being checked waits for them to settle, so ten people signing in as one user at
once all get in, while a burst of wrong guesses gets no more checks than the limit.

Failures are written to the audit log one row each up to ``logged_each`` per address and
window; beyond that they are counted, and one row per address and window says how many there
were (written by the first sign-in after the window closes), so nobody can fill the log by
guessing."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from iom.config import Settings
from iom.security.service import LoginRefused
from iom.web.models import LoginAttempt

#: A pending attempt older than this was abandoned (its process died mid-check): a failure.
PENDING_STALE = dt.timedelta(seconds=60)
#: How long an attempt waits for attempts still being checked, and how often it looks again.
WAIT_SECONDS, POLL_SECONDS = 10.0, 0.05
#: One advisory lock for the throttle's counts on PostgreSQL (SQLite: its write lock).
_PG_LOCK_KEY = 0x1061A7
#: Usernames a summary row names (typed by whoever tried; the rest are counted).
SUMMARY_NAMES = 10
_SETTLED = ("failed", "forgiven", "refused")


@dataclass(frozen=True)
class Limits:
    window: int = 900
    per_user: int = 5
    per_address: int = 50
    logged_each: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(window=settings.login_window_seconds, per_user=settings.login_failures_per_user,
                   per_address=settings.login_failures_per_address, logged_each=settings.login_failures_logged_each)


@dataclass(frozen=True)
class Summary:
    """Failures from one address in one closed window that had no audit row of their own."""

    address: str
    start: dt.datetime
    end: dt.datetime
    failures: int
    usernames: list[str]

    def detail(self) -> dict:
        return {"client": self.address, "failures": self.failures, "from": self.start.isoformat(),
                "until": self.end.isoformat(), "usernames": self.usernames, "summary": True}


def _utc(at: dt.datetime) -> dt.datetime:
    """SQLite hands timezone-aware columns back naive: they were written as UTC."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def username_key(username: str) -> str:
    return username.strip().lower()[:64]


class LoginThrottle:
    """Counts sign-in attempts in ``engine`` under ``limits``; see the module's docstring."""

    def __init__(self, engine: Engine, limits: Limits | None = None) -> None:
        self.engine = engine
        self.limits = limits or Limits()

    # --- the counts, under one lock ----------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        """One short transaction holding the throttle's lock, so a count and the row it allows
        are one step for every process."""
        with self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            try:
                yield connection
                connection.commit()
            except BaseException:
                connection.rollback()
                raise

    def _window_start(self, now: dt.datetime) -> dt.datetime:
        """The start of the fixed audit window ``now`` falls in."""
        seconds = int(now.timestamp()) // self.limits.window * self.limits.window
        return dt.datetime.fromtimestamp(seconds, dt.UTC)

    def _counts(self, connection: Connection, column, value: str, states: tuple[str, ...],
                now: dt.datetime) -> tuple[int, int]:
        """(settled failures, attempts still being checked) for one username or address."""
        stale = now - PENDING_STALE
        rows = connection.execute(
            select(LoginAttempt.state, LoginAttempt.at).where(
                column == value, LoginAttempt.at >= now - dt.timedelta(seconds=self.limits.window),
                LoginAttempt.state.in_((*states, "pending")))
        ).all()
        checking = sum(1 for state, at in rows if state == "pending" and _utc(at) >= stale)
        return len(rows) - checking, checking

    def _audited_each(self, connection: Connection, row_id: int, address: str, now: dt.datetime) -> bool:
        """Whether this failure gets an audit row of its own (and mark it so), or waits for its
        window's summary."""
        given = connection.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.address == address, LoginAttempt.audited == "each",
            LoginAttempt.at >= self._window_start(now)))
        if given >= self.limits.logged_each:
            return False
        connection.execute(update(LoginAttempt).where(LoginAttempt.id == row_id).values(audited="each"))
        return True

    def _refuse(self, connection: Connection, username: str, address: str, now: dt.datetime,
                message: str) -> LoginRefused:
        row_id = connection.execute(insert(LoginAttempt).values(
            at=now, username=username, address=address, state="refused")).inserted_primary_key[0]
        refusal = LoginRefused(message)
        refusal.audit_each = self._audited_each(connection, row_id, address, now)
        return refusal

    def _begin(self, username: str, address: str) -> int:
        """A pending attempt's id, once the limits allow it; else LoginRefused (its row written)."""
        minutes = max(1, round(self.limits.window / 60))
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            now = dt.datetime.now(dt.UTC)
            refusal = None
            with self._locked() as connection:
                connection.execute(delete(LoginAttempt).where(
                    LoginAttempt.at < now - dt.timedelta(seconds=self.limits.window),
                    (LoginAttempt.audited.is_not(None)) | (LoginAttempt.state == "pending")))
                user_failed, user_checking = self._counts(connection, LoginAttempt.username, username, ("failed",), now)
                addr_failed, addr_checking = self._counts(connection, LoginAttempt.address, address,
                                                          ("failed", "forgiven"), now)
                if user_failed >= self.limits.per_user or addr_failed >= self.limits.per_address:
                    refusal = self._refuse(connection, username, address, now,
                                           f"too many failed sign-ins: try again in {minutes} minutes")
                elif (user_failed + user_checking < self.limits.per_user
                        and addr_failed + addr_checking < self.limits.per_address):
                    return connection.execute(insert(LoginAttempt).values(
                        at=now, username=username, address=address, state="pending")).inserted_primary_key[0]
                elif time.monotonic() > deadline:
                    refusal = self._refuse(connection, username, address, now,
                                           "too many sign-ins at once for this name or address: try again in a minute")
            if refusal is not None:
                raise refusal  # after the commit: the refused attempt is counted for the audit log
            time.sleep(POLL_SECONDS)  # others are being checked: see how they went

    # --- one attempt --------------------------------------------------------------------------

    @contextmanager
    def attempt(self, *, username: str, address: str) -> Iterator[None]:
        """Count a sign-in around its password check (the block): a LoginRefused from the block
        is a failure (``audit_each`` set on it: whether it gets an audit row of its own), a block
        that ends normally a success, which forgives the username's earlier failures."""
        name = username_key(username)
        row_id = self._begin(name, address)
        try:
            yield
        except LoginRefused as exc:
            now = dt.datetime.now(dt.UTC)
            with self._locked() as connection:
                connection.execute(update(LoginAttempt).where(LoginAttempt.id == row_id).values(state="failed", at=now))
                exc.audit_each = self._audited_each(connection, row_id, address, now)
            raise
        except BaseException:
            with self._locked() as connection:  # not an answer about the password: not counted
                connection.execute(delete(LoginAttempt).where(LoginAttempt.id == row_id))
            raise
        with self._locked() as connection:
            connection.execute(delete(LoginAttempt).where(LoginAttempt.id == row_id))
            connection.execute(update(LoginAttempt).where(LoginAttempt.username == name, LoginAttempt.state == "failed")
                               .values(state="forgiven"))

    # --- the audit log's summaries ------------------------------------------------------------

    def write_summaries(self, write: Callable[[Summary], object]) -> int:
        """Hand ``write`` one summary per address and closed window of the failures that had no
        audit row of their own (returns how many failures they covered). The rows are marked
        first, so two processes never both write one, and unmarked again if ``write`` fails, so
        none is lost."""
        now = dt.datetime.now(dt.UTC)
        closed = self._window_start(now)
        with self._locked() as connection:
            rows = connection.execute(select(LoginAttempt.id, LoginAttempt.at, LoginAttempt.address, LoginAttempt.username)
                                      .where(LoginAttempt.audited.is_(None), LoginAttempt.state.in_(_SETTLED),
                                             LoginAttempt.at < closed)
                                      .order_by(LoginAttempt.id)).all()
            if not rows:
                return 0
            connection.execute(update(LoginAttempt).where(LoginAttempt.id.in_([r.id for r in rows]))
                               .values(audited="summary"))
        groups: dict[tuple[str, dt.datetime], list] = defaultdict(list)
        for row in rows:
            groups[(row.address, self._window_start(_utc(row.at)))].append(row)
        for (address, start), members in list(groups.items()):
            names = list(dict.fromkeys(m.username for m in members))[:SUMMARY_NAMES]
            try:
                write(Summary(address=address, start=start, end=start + dt.timedelta(seconds=self.limits.window),
                              failures=len(members), usernames=names))
            except BaseException:
                left = [m.id for ms in groups.values() for m in ms]
                with self._locked() as connection:
                    connection.execute(update(LoginAttempt).where(LoginAttempt.id.in_(left)).values(audited=None))
                raise
            del groups[(address, start)]
        return len(rows)
