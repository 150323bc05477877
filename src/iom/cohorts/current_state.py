"""The current-state table (``PersonCurrentState``), kept where the histories are written so
a caseload is one indexed read instead of the newest row of three histories per person.

What "current" means: what the histories give on the reference date
(``iom.register.service.reference_date``, the web's and every command's default as-of), by
the rules the caseload has always read them with: the newest risk and management row with
``effective_from`` on or before that date (ties by id), the memberships adopted on or before
it and not exited by it, the newest risk review on or before it. Rows dated later (a risk
decision or an exit recorded ahead) do not count yet: the first of them is the row's
``next_change_on``, the day it stops holding.

Who calls ``refresh``: every writer of the histories, after writing, in its own transaction
(services never commit): the importer once per import for the people its files touched,
the synthetic force once for everyone, the casework services (adoption, exit, risk review),
the allocation of an officer and the sample force. ``holds`` tells a reader whether the
table answers for a date; when it does not (a write to the histories that bypassed
``refresh``, a date the rows do not cover) the reader goes back to the histories. Writes to the
rest of the register (a scoring run, MAPPA, DA) leave it holding: the stamp follows the four
history tables alone (``HISTORY_TABLES``, migration 0017)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from itertools import islice

from sqlalchemy import and_, case, delete, exists, func, or_, select, true, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from iom.cohorts.models import (CohortMembership, CurrentStateStamp, ManagementRecord, PersonCurrentState,
                                RiskLevelRecord, RiskReview)
from iom.register.service import reference_date

STATE = PersonCurrentState.__table__
#: People per ``IN (...)`` list (SQLite allows 32,766 bound parameters).
CHUNK = 5_000
#: The columns ``refresh`` writes, in the order ``_rows`` selects them.
COLUMNS = [c.name for c in STATE.columns]

Bind = Session | Connection
Condition = Callable[[object], object]


def refresh(bind: Bind, *, person_ids: Iterable[int] | None = None, as_of: dt.date | None = None) -> int:
    """Recompute, from the histories, the rows of ``person_ids`` (None: everyone) and of every
    row that no longer holds on ``as_of`` (default: the reference date, which a write may have
    moved), then stamp the register version. Set-based: one ``INSERT .. SELECT`` upsert per
    ``CHUNK`` people. Returns the number of people recomputed. Never commits."""
    on = as_of or reference_date(bind)
    if person_ids is None:
        done = _write(bind, on, lambda column: true())
    else:
        ids = {int(i) for i in person_ids}
        ids.update(bind.scalars(select(STATE.c.person_id).where(not_holding(on))))
        done = 0
        ordered = iter(sorted(ids))
        while part := list(islice(ordered, CHUNK)):
            done += _write(bind, on, lambda column, part=part: column.in_(part))
    _stamp(bind)
    return done


def holds(bind: Bind, as_of: dt.date) -> bool:
    """Whether the table gives what the histories give on ``as_of``: nothing was written to the
    histories since the last refresh (the stamp's two versions agree) and every row covers
    ``as_of``."""
    stamp = bind.execute(select(CurrentStateStamp.history_version, CurrentStateStamp.state_version)
                         .where(CurrentStateStamp.id == 1)).first()
    if stamp is None or stamp.state_version != stamp.history_version:
        return False
    return bind.scalar(select(STATE.c.person_id).where(not_holding(as_of)).limit(1)) is None


def not_holding(as_of: dt.date):
    """Rows that do not cover ``as_of``: a history event lies between their date and it."""
    return or_(STATE.c.changed_on > as_of, STATE.c.next_change_on <= as_of)


def _write(bind: Bind, on: dt.date, cond: Condition) -> int:
    rows = _rows(on, cond)
    stmt = _insert(bind)(STATE).from_select(COLUMNS, rows)
    stmt = stmt.on_conflict_do_update(index_elements=["person_id"],
                                      set_={c: stmt.excluded[c] for c in COLUMNS if c != "person_id"})
    done = bind.execute(stmt).rowcount or 0
    # Someone whose last history row went (a replaced import) has no state to keep.
    bind.execute(delete(STATE).where(cond(STATE.c.person_id), STATE.c.person_id.not_in(_people(cond))))
    return done


def _insert(bind: Bind):
    """The dialect's ``insert``, which has ``on_conflict_do_update`` (SQLite and PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _stamp(bind: Bind) -> None:
    """The table is now up to date with the histories as they are in this transaction."""
    stamp = CurrentStateStamp.__table__
    if bind.execute(stamp.update().where(stamp.c.id == 1)
                    .values(state_version=stamp.c.history_version)).rowcount == 0:
        start = secrets.randbits(48)
        bind.execute(stamp.insert().values(id=1, history_version=start, state_version=start))


def _events(cond: Condition):
    """Every dated event of the four histories, per person: where the state can change."""
    r, g, m, v = (RiskLevelRecord.__table__, ManagementRecord.__table__, CohortMembership.__table__,
                  RiskReview.__table__)
    return union_all(
        select(r.c.person_id, r.c.effective_from.label("day")).where(cond(r.c.person_id)),
        select(g.c.person_id, g.c.effective_from).where(cond(g.c.person_id)),
        select(m.c.person_id, m.c.adopted_on).where(cond(m.c.person_id)),
        select(m.c.person_id, m.c.exited_on).where(cond(m.c.person_id), m.c.exited_on.is_not(None)),
        select(v.c.person_id, v.c.reviewed_on).where(cond(v.c.person_id)),
    ).subquery("events")


def _people(cond: Condition):
    events = _events(cond)
    return select(events.c.person_id)


def _latest(table, on: dt.date, cond: Condition, *columns):
    """Per person, the newest row on ``on`` (NOT EXISTS a newer one, by the person's index)."""
    newer = table.alias()
    return select(table.c.person_id, *columns).where(
        cond(table.c.person_id), table.c.effective_from <= on,
        ~exists().where(newer.c.person_id == table.c.person_id, newer.c.effective_from <= on,
                        or_(newer.c.effective_from > table.c.effective_from,
                            and_(newer.c.effective_from == table.c.effective_from, newer.c.id > table.c.id))))


def _rows(on: dt.date, cond: Condition):
    """The state on ``on`` of everyone ``cond`` picks who has any history, in ``COLUMNS``."""
    r, g, m, v = (RiskLevelRecord.__table__, ManagementRecord.__table__, CohortMembership.__table__,
                  RiskReview.__table__)
    events = _events(cond)
    spans = (select(events.c.person_id,
                    func.max(case((events.c.day <= on, events.c.day))).label("changed_on"),
                    func.min(case((events.c.day > on, events.c.day))).label("next_change_on"))
             .group_by(events.c.person_id).subquery("spans"))
    risk = _latest(r, on, cond, r.c.level, r.c.effective_from).subquery("risk")
    managed = _latest(g, on, cond, g.c.offender_type, g.c.lead_agency, g.c.lomu_code, g.c.officer,
                      g.c.effective_from).subquery("managed")
    members = (select(m.c.person_id, func.count(func.distinct(m.c.classification_code)).label("n"),
                      func.max(m.c.adopted_on).label("adopted_on"))
               .where(cond(m.c.person_id), m.c.adopted_on <= on, or_(m.c.exited_on.is_(None), m.c.exited_on > on))
               .group_by(m.c.person_id).subquery("members"))
    newest = (select(v.c.person_id, func.max(v.c.reviewed_on).label("reviewed_on"))
              .where(cond(v.c.person_id), v.c.reviewed_on <= on).group_by(v.c.person_id).subquery("newest"))
    review = (select(v.c.person_id, newest.c.reviewed_on, func.max(v.c.next_due).label("review_due"))
              .join(newest, and_(newest.c.person_id == v.c.person_id, newest.c.reviewed_on == v.c.reviewed_on))
              .group_by(v.c.person_id, newest.c.reviewed_on).subquery("review"))
    return (
        select(spans.c.person_id, spans.c.changed_on, spans.c.next_change_on, risk.c.level, risk.c.effective_from,
               managed.c.offender_type, managed.c.lead_agency, managed.c.lomu_code, managed.c.officer,
               managed.c.effective_from, func.coalesce(members.c.n, 0), members.c.adopted_on,
               review.c.reviewed_on, review.c.review_due)
        .select_from(spans)
        .outerjoin(risk, risk.c.person_id == spans.c.person_id)
        .outerjoin(managed, managed.c.person_id == spans.c.person_id)
        .outerjoin(members, members.c.person_id == spans.c.person_id)
        .outerjoin(review, review.c.person_id == spans.c.person_id)
        # SQLite reads ON CONFLICT after a join as the join's ON without a WHERE.
        .where(true())
    )
