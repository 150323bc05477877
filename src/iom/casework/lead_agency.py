"""The lead-agency check: current cohort members whose recorded lead agency the force's rule
(``cohorts/data/lead-agency-v1.toml``, read by ``iom.cohorts.rules.lead_agency_rules``) does
not allow for their age and risk level on the day.

``mismatches`` is the service (a session and plain arguments, never commits); ``check`` is
the audited read a command or a page makes through ``Access``: it reads many people's
records, so it leaves one "search" row in the audit log naming those it reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.casefile.access import Access
from iom.cohorts.models import ManagementRecord, RiskLevelRecord
from iom.cohorts.rules import lead_agency_rules
from iom.cohorts.service import current_member_ids, latest_before
from iom.errors import FieldError
from iom.register.models import Person, Unit
from iom.security import scope
from iom.security.roles import Principal


@dataclass(frozen=True)
class Mismatch:
    person_id: int
    pseudo_id: str
    #: None for a pseudonymised reader.
    name: str | None
    lomu_code: str | None
    age: int
    risk_level: str | None
    #: None: the member has no management record at all.
    recorded_agency: str | None
    allowed_agencies: tuple[str, ...]
    rule: str
    reason: str


@dataclass(frozen=True)
class LeadAgencyReport:
    as_of: dt.date
    lomu: str | None
    rules_version: str
    #: Current members checked (in the reader's scope and the LOMU asked for).
    checked: int
    mismatches: list[Mismatch]

    def as_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "lomu": self.lomu, "rules_version": self.rules_version,
                "checked": self.checked, "count": len(self.mismatches),
                "mismatches": [{**asdict(m), "allowed_agencies": list(m.allowed_agencies)} for m in self.mismatches]}


def age_on(born: dt.date, on: dt.date) -> int:
    """Age in whole years on a day, by birthdays (as the law counts "under 18")."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _check_lomu(session: Session, lomu: str | None) -> None:
    if lomu is not None and session.scalar(select(Unit.code).where(Unit.code == lomu, Unit.kind == "lomu")) is None:
        known = ", ".join(session.scalars(select(Unit.code).where(Unit.kind == "lomu").order_by(Unit.code)))
        raise FieldError(f"no LOMU {lomu!r}: choose one of {known}", field="lomu")


def _members(session: Session, *, as_of: dt.date, lomu: str | None, user: Principal | None):
    """Current members with their current management and risk records (either may be missing)."""
    members = current_member_ids(as_of).subquery()
    managed = latest_before(ManagementRecord, as_of).subquery()
    risk = latest_before(RiskLevelRecord, as_of).subquery()
    query = (select(Person, managed.c.lead_agency, managed.c.lomu_code, risk.c.level)
             .join(members, members.c.person_id == Person.id)
             .outerjoin(managed, managed.c.person_id == Person.id)
             .outerjoin(risk, risk.c.person_id == Person.id)
             .order_by(Person.id))
    if lomu is not None:
        query = query.where(managed.c.lomu_code == lomu)
    if user is not None:
        query = query.where(scope.in_scope(user, as_of))
    return session.execute(query).all()


def _check(session: Session, *, as_of: dt.date, lomu: str | None, user: Principal | None) -> tuple[int, list[Mismatch]]:
    rules = lead_agency_rules()
    rows = _members(session, as_of=as_of, lomu=lomu, user=user)
    hide_names = user is not None and user.pseudonymised
    found = []
    for person, agency, lomu_code, level in rows:
        age = age_on(person.date_of_birth, as_of)
        rule = rules.applying(age=age, risk_level=level)
        if agency in rule.agencies:
            continue
        found.append(Mismatch(
            person_id=person.id, pseudo_id=person.pseudo_id,
            name=None if hide_names else f"{person.given_name} {person.family_name}",
            lomu_code=lomu_code, age=age, risk_level=level, recorded_agency=agency,
            allowed_agencies=tuple(rule.agencies), rule=rule.name, reason=rule.reason))
    return len(rows), found


def mismatches(*, session: Session, as_of: dt.date, lomu: str | None = None) -> list[Mismatch]:
    """Every current cohort member (managed by ``lomu``, if given) whose current management
    record names a lead agency the first matching rule does not allow, or none at all."""
    _check_lomu(session, lomu)
    return _check(session, as_of=as_of, lomu=lomu, user=None)[1]


def check(access: Access, *, lomu: str | None = None) -> LeadAgencyReport:
    """The check as ``access``'s reader may run it: people in their scope only, names hidden
    from a pseudonymised reader, and one "search" audit row naming the people reported."""
    access.require("read_people", "this role cannot read people's records")
    _check_lomu(access.session, lomu)
    checked, found = _check(access.session, as_of=access.as_of, lomu=lomu, user=access.user)
    rules = lead_agency_rules()
    access.log("search", "lead_agency_check", lomu=lomu, rules_version=rules.version, checked=checked,
               people=[m.person_id for m in found])
    return LeadAgencyReport(as_of=access.as_of, lomu=lomu, rules_version=rules.version, checked=checked,
                            mismatches=found)
