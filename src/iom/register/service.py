"""Register services: set up a database, load reference data, summarise what is held."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from iom import migrate
from iom.cohorts import service as cohorts
from iom.dates import REFERENCE_EVENTS, reference_date_from
from iom.db import Base, session_scope
from iom.reference import as_bool, as_int_or_none, read_reference
from iom.errors import NotFound
from iom.register.models import CostOfCrime, Crime, Offence, Person, RegisterVersion, Unit
from iom.register.schemas import Summary


def load_reference_data(session: Session) -> dict[str, int]:
    """Insert or update the shipped reference tables (idempotent)."""
    units = read_reference("register", "units")
    # Parents before children, so the self-reference holds while inserting.
    order = {"force": 0, "lomu": 1, "npu": 2}
    for row in sorted(units, key=lambda r: order[r["kind"]]):
        session.merge(
            Unit(
                code=row["code"],
                name=row["name"],
                kind=row["kind"],
                parent_code=row["parent_code"] or None,
                officers=as_int_or_none(row["officers"]),
                caseload_per_officer=as_int_or_none(row["caseload_per_officer"]),
                source=row["source"],
            )
        )
        session.flush()
    costs = read_reference("register", "cost_of_crime")
    for row in costs:
        session.merge(
            CostOfCrime(
                category=row["category"],
                description=row["description"],
                cost_pence=int(row["cost_pence"]),
                price_base=row["price_base"],
                checked=as_bool(row["checked"]),
                source=row["source"],
            )
        )
    session.flush()
    offences = read_reference("register", "offences")
    for row in offences:
        session.merge(
            Offence(
                code=row["code"],
                description=row["description"],
                offence_group=row["offence_group"],
                subgroup=row["subgroup"],
                mode_of_trial=row["mode_of_trial"],
                gravity=int(row["gravity"]),
                harm_days=int(row["harm_days"]),
                harm_source=row["harm_source"],
                ogrs3_category=int(row["ogrs3_category"]),
                cost_category=row["cost_category"],
                is_crime=as_bool(row["is_crime"]),
                domestic_abuse=as_bool(row["domestic_abuse"]),
                hate=as_bool(row["hate"]),
                cohort_classification=row["cohort_classification"] or None,
            )
        )
    n_classes = cohorts.load_classifications(session)
    return {"units": len(units), "cost_of_crime": len(costs), "offences": len(offences), "classifications": n_classes}


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
