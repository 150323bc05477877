"""Who is in which IOM cohort on a date, and their current risk level and management."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from iom.cohorts.models import Classification, CohortMembership, ManagementRecord, RiskLevelRecord


def active_memberships(as_of: dt.date) -> Select:
    """Memberships in force on ``as_of`` (adopted on or before, not yet exited)."""
    return select(CohortMembership).where(
        CohortMembership.adopted_on <= as_of,
        or_(CohortMembership.exited_on.is_(None), CohortMembership.exited_on > as_of),
    )


def current_member_ids(as_of: dt.date) -> Select:
    """Distinct ids of people in at least one cohort on ``as_of``."""
    m = active_memberships(as_of).subquery()
    return select(m.c.person_id).distinct()


def count_current_members(session: Session, as_of: dt.date) -> int:
    return session.scalar(select(func.count()).select_from(current_member_ids(as_of).subquery())) or 0


def classification_counts(session: Session, as_of: dt.date) -> dict[str, int]:
    m = active_memberships(as_of).subquery()
    rows = session.execute(
        select(m.c.classification_code, func.count(func.distinct(m.c.person_id))).group_by(
            m.c.classification_code
        )
    )
    counts = {code: 0 for code in session.scalars(select(Classification.code).order_by(Classification.code))}
    counts.update({code: n for code, n in rows})
    return counts


def latest_before(model, as_of: dt.date) -> Select:
    """The newest row per person of an append-only history, as it stood on ``as_of``."""
    ranked = (
        select(
            model.id,
            func.row_number()
            .over(partition_by=model.person_id, order_by=(model.effective_from.desc(), model.id.desc()))
            .label("rank"),
        )
        .where(model.effective_from <= as_of)
        .subquery()
    )
    return select(model).join(ranked, and_(ranked.c.id == model.id, ranked.c.rank == 1))


def current_risk_levels(session: Session, as_of: dt.date) -> dict[int, str]:
    """Risk level on ``as_of`` of each current cohort member."""
    latest = latest_before(RiskLevelRecord, as_of).subquery()
    members = current_member_ids(as_of).subquery()
    rows = session.execute(
        select(latest.c.person_id, latest.c.level).join(members, members.c.person_id == latest.c.person_id)
    )
    return dict(rows.all())


def risk_split(session: Session, as_of: dt.date) -> dict[str, int]:
    counts = Counter(current_risk_levels(session, as_of).values())
    return {level: counts.get(level, 0) for level in ("High", "Medium", "Low")}


def current_management(session: Session, as_of: dt.date) -> dict[int, ManagementRecord]:
    return {r.person_id: r for r in session.scalars(latest_before(ManagementRecord, as_of))}
