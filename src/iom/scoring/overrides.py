"""Overrides: the records, their checks and their conditional state changes. Each state change
is called through ``flows``, which checks scope and appends the audit row first."""

from __future__ import annotations

import datetime as dt
import fcntl
import threading

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from iom.dates import months_after
from iom.errors import Conflict, FieldError, NotFound, UserError
from iom.register.models import Person
from iom.register.service import reference_date
from iom.scoring.common import now
from iom.scoring.config import OverridePolicy, override_policy
from iom.scoring.models import Override

#: Decisions' turn on a SQLite database with no file to lock beside (``_hold_decisions``).
_DECISIONS = threading.Lock()
#: An override that no one has ended: pending or approved.
LIVE = (Override.revoked_at.is_(None), Override.rejected_at.is_(None))


def check_reason(reason: str | None, *, policy: OverridePolicy, what: str) -> str:
    text = (reason or "").strip()
    if len(text) < policy.reason_min_chars:
        raise FieldError(f"{what} needs a reason of at least {policy.reason_min_chars} characters"
                         + (f" (this one has {len(text)})" if text else ""), field="reason")
    return text


def check_override(*, include: bool, reason: str, until: dt.date | None, valid_from: dt.date,
                   policy: OverridePolicy | None = None) -> None:
    """What an override needs before anything is recorded of it: a reason long enough to say
    why, and an end date from the day it starts to at most ``max_months_ahead`` later."""
    policy = policy or override_policy()
    check_reason(reason, policy=policy, what="an override to " + ("include" if include else "exclude") + " someone")
    latest = months_after(valid_from, policy.max_months_ahead)
    if until is None or not valid_from <= until <= latest:
        raise FieldError(f"the override must run until a date on or after {valid_from} and by {latest}, not {until}",
                         field="until")


def check_new_override(session: Session, *, person_id: int, include: bool, reason: str, until: dt.date | None,
                       valid_from: dt.date, policy: OverridePolicy | None = None) -> None:
    """``check_override``, and no live override of the same person the same way already."""
    check_override(include=include, reason=reason, until=until, valid_from=valid_from, policy=policy)
    same = session.scalar(select(Override.id).where(
        Override.person_id == person_id, Override.include.is_(include), Override.until >= valid_from, *LIVE).limit(1))
    if same is not None:
        raise FieldError(f"override #{same} already {'includes' if include else 'excludes'} this person: "
                         "revoke it first, or let it run", field="include")


def create_override(
    session: Session, *, person_id: int, include: bool, reason: str, until: dt.date, user: str,
    valid_from: dt.date | None = None, policy: OverridePolicy | None = None,
) -> Override:
    """Record professional judgement (pending approval under the default policy)."""
    if not user or not user.strip():
        raise UserError("an override needs the name of the user making it")
    if session.get(Person, person_id) is None:
        raise NotFound(f"no person with id {person_id}")
    valid_from = valid_from or reference_date(session)
    check_new_override(session, person_id=person_id, include=include, reason=reason, until=until,
                       valid_from=valid_from, policy=policy)
    row = Override(person_id=person_id, include=include, reason=reason.strip(), created_by=user.strip(),
                   created_at=now(), valid_from=valid_from, until=until)
    session.add(row)
    session.flush()
    return row


def _hold_decisions(session: Session) -> None:
    """SQLite has no row lock, and its one write lock cannot be held across a decision's audit
    row (committed first, on another connection). So decisions on one SQLite database take
    turns under a file lock beside it (across threads and processes alike), held until this
    session's transaction ends: whoever waited then reads the override as the other left it."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or session.info.get("holds_decisions"):
        return
    path = bind.url.database
    try:
        if not path or path == ":memory:":
            raise OSError("no file to lock beside")
        handle = open(f"{path}-decisions", "a")  # noqa: SIM115 (closed when the transaction ends)
        fcntl.flock(handle, fcntl.LOCK_EX)
        release = handle.close
    except OSError:
        _DECISIONS.acquire()
        release = _DECISIONS.release
    session.info["holds_decisions"] = True

    def ended(_session: Session, transaction) -> None:
        if transaction.parent is None and session.info.pop("holds_decisions", False):
            release()

    event.listen(session, "after_transaction_end", ended)


def get_override(session: Session, override_id: int, *, lock: bool = False) -> Override:
    """The override; ``lock`` re-reads it under a lock held until the transaction ends (a row
    lock on PostgreSQL, ``_hold_decisions`` on SQLite) so a decision checked now cannot be
    overtaken before it is recorded."""
    if lock:
        _hold_decisions(session)
    row = session.get(Override, override_id, with_for_update=lock or None, populate_existing=lock)
    if row is None:
        raise NotFound(f"no override #{override_id}")
    return row


def check_decision(row: Override, *, decider: str) -> None:
    """Why ``decider`` may not approve or reject ``row``, if they may not."""
    if not decider or not decider.strip():
        raise UserError("deciding an override needs the decider's name")
    if decider.strip() == row.created_by:
        raise UserError(f"override #{row.id} was made by {row.created_by}; someone else must decide it")
    if row.state != "pending":
        who = {"approved": row.approved_by, "rejected": row.rejected_by, "revoked": row.revoked_by}[row.state]
        raise Conflict(f"override #{row.id} was already {row.state} by {who}")


def _decide(session: Session, row: Override, condition, **values) -> Override:
    """One conditional update: whoever changes the row first wins; the other gets Conflict."""
    done = session.execute(update(Override).where(Override.id == row.id, *condition).values(**values)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(f"override #{row.id} was decided by someone else just now: reload and check it")
    session.refresh(row)
    return row


def approve_override(session: Session, *, override_id: int, approver: str) -> Override:
    row = get_override(session, override_id)
    check_decision(row, decider=approver)
    return _decide(session, row, (Override.approved_at.is_(None), *LIVE), approved_by=approver.strip(), approved_at=now())


def check_rejection(row: Override, *, decider: str, reason: str, policy: OverridePolicy | None = None) -> str:
    """``check_decision``, and a reason long enough to say why; the reason, cleaned."""
    check_decision(row, decider=decider)
    return check_reason(reason, policy=policy or override_policy(), what="rejecting an override")


def reject_override(session: Session, *, override_id: int, user: str, reason: str,
                    policy: OverridePolicy | None = None) -> Override:
    row = get_override(session, override_id)
    text = check_rejection(row, decider=user, reason=reason, policy=policy)
    return _decide(session, row, (Override.approved_at.is_(None), *LIVE), rejected_by=user.strip(), rejected_at=now(),
                   decision_reason=text)


def check_revocation(row: Override, *, reason: str, policy: OverridePolicy | None = None) -> None:
    if row.state in ("revoked", "rejected"):
        raise Conflict(f"override #{row.id} is already {row.state}")
    check_reason(reason, policy=policy or override_policy(), what="revoking an override")


def revoke_override(session: Session, *, override_id: int, user: str, reason: str,
                    policy: OverridePolicy | None = None) -> Override:
    row = get_override(session, override_id)
    check_revocation(row, reason=reason, policy=policy)
    return _decide(session, row, LIVE, revoked_by=user, revoked_at=now(), decision_reason=reason.strip())


def list_overrides(session: Session, *, npu_code: str | None = None) -> list[Override]:
    query = select(Override).order_by(Override.created_at.desc(), Override.id.desc())
    if npu_code is not None:
        query = query.join(Person, Person.id == Override.person_id).where(Person.home_npu == npu_code)
    return list(session.scalars(query))


def active_overrides(session: Session, as_of: dt.date, person_ids=None, *,
                     policy: OverridePolicy | None = None) -> dict[int, Override]:
    """The override in force for each person on ``as_of``: live, in its dates and, under a
    policy that needs approval, approved. An approved override always beats one awaiting
    approval; among equals the latest made wins."""
    policy = policy or override_policy()
    query = select(Override).where(Override.valid_from <= as_of, Override.until >= as_of, *LIVE)
    if policy.need_approval:
        query = query.where(Override.approved_at.is_not(None))
    if person_ids is not None:
        query = query.where(Override.person_id.in_(list(person_ids)))
    rows = sorted(session.scalars(query), key=lambda r: (r.approved_at is not None, r.created_at, r.id))
    active: dict[int, Override] = {}
    for row in rows:
        active[row.person_id] = row
    return active


def live_override_people(session: Session, as_of: dt.date) -> set[int]:
    """People with a live override on ``as_of``, approved or awaiting approval: every run
    scores them, so an approval takes effect in the next selection without a rescore."""
    return set(session.scalars(select(Override.person_id).where(
        Override.valid_from <= as_of, Override.until >= as_of, *LIVE)))
