"""Register services: set up a database, load reference data, summarise what is held."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from iom import migrate
from iom.cohorts import service as cohorts
from iom.dates import REFERENCE_EVENTS, reference_date_from
from iom.db import Base, ddl_transaction
from iom.errors import NotFound, UserError
from iom.plugins import contributions, resolve
from iom.reference import load_reference_tables
from iom.register.models import Crime, Person, RegisterVersion, Unit
from iom.register.schemas import Summary


def load_reference_data(session: Session) -> dict[str, int]:
    """Insert or update every domain's shipped reference tables (``Domain.reference_tables``),
    in domain order (idempotent); rows per table."""
    return load_reference_tables(session, [t for target in contributions("reference_tables") for t in resolve(target)])


def init_database(engine: Engine) -> dict[str, int]:
    """Bring the schema to the newest migration and load reference data, in one transaction:
    a failed or killed ``iom init`` leaves the database as it found it, and can be re-run."""
    try:
        with ddl_transaction(engine, foreign_keys=False) as connection:
            return init_schema(connection)
    except DBAPIError as exc:
        if "already exists" not in str(exc.orig):
            raise
        reason = str(exc.orig).strip().splitlines()[0]
        raise UserError(
            f"the database holds tables its migration record does not list ({reason}), as a migration or "
            "`synth --replace` cut short before this version could leave it; nothing was changed. Restore a "
            "backup, or for a demo database run `iom synth --replace` (it builds a new database, keeping users "
            "and the audit log)") from None


def init_schema(connection: Connection) -> dict[str, int]:
    """``init_database`` inside the caller's transaction (``iom synth --replace`` builds a
    whole new database in one); never commits."""
    migrate.upgrade(connection)
    with Session(bind=connection) as session:
        counts = load_reference_data(session)
        session.flush()
    return counts


def npu_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Unit.code).where(Unit.kind == "npu").order_by(Unit.code)))


def register_version(session: Session) -> int | None:
    """The register's change counter (see ``RegisterVersion``); None before migration 0005."""
    return session.scalar(select(RegisterVersion.version).where(RegisterVersion.id == 1))


def reference_date(session: Session) -> dt.date:
    """The date the data runs to (``iom.dates.reference_date_from``): the default as-of date of
    every command and of the web."""
    columns = (Base.metadata.tables[table].c[column] for table, column in REFERENCE_EVENTS)
    return reference_date_from(session.scalar(select(func.max(c))) for c in columns)


def as_of_or_default(session: Session, as_of: dt.date | None) -> dt.date:
    """``as_of`` if given, else the reference date: how every command picks its date."""
    return as_of or reference_date(session)


def summary(session: Session, as_of: dt.date | None = None) -> Summary:
    """Counts a force checks after every load: people, crimes, cohort sizes, risk split."""
    as_of = as_of_or_default(session, as_of)
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


def find_person(session: Session, ref: str | int) -> Person:
    """A person by database id, pseudo_id or source_id."""
    text = str(ref).strip()
    person = session.scalar(select(Person).where((Person.pseudo_id == text) | (Person.source_id == text)))
    if person is None and text.isdigit():
        person = session.get(Person, int(text))
    if person is None:
        raise NotFound(f"no person with pseudo id or source id {text!r}")
    return person
