"""Register services: set up a database, load reference data, summarise what is held."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from iom import migrate
from iom.cohorts import service as cohorts
from iom.cohorts.reference_tables import REFERENCE_TABLES as COHORT_REFERENCE_TABLES
from iom.db import session_scope
from iom.reference import load_reference_tables
from iom.register.models import Crime, Person, RegisterVersion, Unit
from iom.register.reference_tables import REFERENCE_TABLES
from iom.register.schemas import Summary


def load_reference_data(session: Session) -> dict[str, int]:
    """Insert or update the shipped reference tables (idempotent): the register's, then the
    cohorts'; rows per table."""
    return load_reference_tables(session, [*REFERENCE_TABLES, *COHORT_REFERENCE_TABLES])


def init_database(engine: Engine) -> dict[str, int]:
    """Bring the schema to the newest migration and load reference data."""
    migrate.upgrade(engine)
    with session_scope(engine) as session:
        return load_reference_data(session)


def npu_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Unit.code).where(Unit.kind == "npu").order_by(Unit.code)))


def register_version(session: Session) -> int | None:
    """The register's change counter (see ``RegisterVersion``); None before migration 0005."""
    return session.scalar(select(RegisterVersion.version).where(RegisterVersion.id == 1))


def data_date(session: Session) -> dt.date:
    """The date the data runs up to (latest recorded crime), or today for an empty register."""
    return session.scalar(select(func.max(Crime.recorded_on))) or dt.date.today()


def summary(session: Session, as_of: dt.date | None = None) -> Summary:
    """Counts a force checks after every load: people, crimes, cohort sizes, risk split."""
    as_of = as_of or data_date(session)
    members = cohorts.current_member_ids(as_of).subquery()
    by_npu = dict(
        session.execute(
            select(Person.home_npu, func.count())
            .join(members, members.c.person_id == Person.id)
            .group_by(Person.home_npu)
        ).all()
    )
    return Summary(
        as_of=as_of,
        people=session.scalar(select(func.count()).select_from(Person)) or 0,
        crimes=session.scalar(select(func.count()).select_from(Crime)) or 0,
        current_members=cohorts.count_current_members(session, as_of),
        classifications=cohorts.classification_counts(session, as_of),
        members_by_npu={code: by_npu.get(code, 0) for code in npu_codes(session)},
        risk=cohorts.risk_split(session, as_of),
    )
