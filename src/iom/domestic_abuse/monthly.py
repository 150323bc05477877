"""The monthly domestic-abuse list: who, over the window before the month, is a serial
perpetrator, a repeat perpetrator, a repeat victim, or a stalking and harassment (non-DA)
offender, ranked by RFGV with every part in words. Derived from the register's crimes on each
call (nothing stored), for the people in the reader's scope: the incidents are read here, the
sections and scores computed by the analytical layer (``iom.warehouse.da_list``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pyarrow as pa
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from iom.cohorts.service import current_member_ids
from iom.dates import age_on, months_after, months_before, parse_month
from iom.domestic_abuse.models import MaracReferral
from iom.domestic_abuse.rules import MonthlyListRules, Rfgv, marac_rules, monthly_list_rules
from iom.domestic_abuse.schemas import SECTIONS, ListRow, ListSection, MonthlyList, RfgvPart
from iom.errors import FieldError
from iom.register.models import Crime, Offence, Person
from iom.security import scope
from iom.security.roles import Principal
from iom.warehouse import da_list

CHUNK = 1000


def window(month_start: dt.date, rules: MonthlyListRules) -> tuple[dt.date, dt.date]:
    """The first and last day of the ``window_months`` calendar months before the month."""
    return months_before(month_start, rules.window_months), month_start - dt.timedelta(days=1)


def check_month(month_start: dt.date, rules: MonthlyListRules, *, as_of: dt.date) -> tuple[dt.date, dt.date]:
    start, end = window(month_start, rules)
    if end > as_of:
        raise FieldError(f"the list for {month_start:%Y-%m} covers {start} to {end}, which ends after the data's date "
                         f"{as_of}: choose {as_of:%Y-%m} or earlier", field="month")
    return start, end


def incidents(session: Session, *, start: dt.date, end: dt.date, rules: MonthlyListRules,
              person_ids: Iterable[int] | None = None) -> pa.Table:
    """DA incidents and non-DA stalking and harassment offences dated in [start, end], by
    perpetrators old enough on the day (``person_ids``: only those involving these people, as
    perpetrator or victim): the relation ``iom.warehouse.da_list`` tallies."""
    on = getattr(Crime, rules.date_field)
    da = or_(Crime.domestic_abuse.is_(True), Offence.domestic_abuse.is_(True))
    query = (select(Crime.id, Crime.person_id, Crime.victim_person_id, on, Offence.gravity, Offence.description, da,
                    Person.date_of_birth)
             .join(Offence, Offence.code == Crime.offence_code).join(Person, Person.id == Crime.person_id)
             .where(on >= start, on <= end, or_(da, Offence.subgroup.in_(rules.sections.stalking.subgroups))))
    if person_ids is not None:
        ids = list(person_ids)
        query = query.where(or_(Crime.person_id.in_(ids), Crime.victim_person_id.in_(ids)))
    return da_list.incidents_table([
        (crime_id, person_id, victim_id, day, gravity, offence, bool(is_da))
        for crime_id, person_id, victim_id, day, gravity, offence, is_da, born in session.execute(query)
        if born is None or age_on(born, day) >= rules.min_age])


def sections_of(session: Session, *, start: dt.date, end: dt.date, rules: MonthlyListRules,
                person_ids: Iterable[int] | None = None) -> dict[str, dict[int, dict]]:
    """Per section, its people and their tallies and RFGV points (``iom.warehouse.da_list``)."""
    found: dict[str, dict[int, dict]] = {code: {} for code in SECTIONS}
    table = incidents(session, start=start, end=end, rules=rules, person_ids=person_ids)
    if table.num_rows == 0:  # most records' tab: no query to plan
        return found
    frame = da_list.sections_arrow(rules, end, table)
    for row in frame.to_dict("records"):
        for code in SECTIONS:
            if row[code]:
                found[code][int(row["person_id"])] = row
    return found


def rfgv_parts(row: dict, *, weights: Rfgv, victim_side: bool = False) -> list[RfgvPart]:
    """The RFGV parts of a tally in words: recency of the latest incident to the window's end,
    frequency (incidents, capped), gravity of the gravest, and the number of other parties."""
    days, n, k = int(row["recency_days"]), int(row["incidents"]), int(row["others"])
    frequency, victims = int(row["frequency_points"]), int(row["victim_points"])
    who = "perpetrator" if victim_side else "victim"
    return [
        RfgvPart(part="recency", points=int(row["recency_points"]),
                 words=f"latest incident {row['latest_on']}, {days} day{'s' if days != 1 else ''} before the window's end"),
        RfgvPart(part="frequency", points=frequency,
                 words=f"{n} incident{'s' if n != 1 else ''} × {weights.points_per_incident}"
                       + (f" (capped at {weights.max_frequency_points})" if frequency < n * weights.points_per_incident else "")),
        RfgvPart(part="gravity", points=int(row["gravity_points"]),
                 words=f"gravest: {row['gravest_offence']} (gravity {int(row['gravest_gravity'])})"),
        RfgvPart(part="victims", points=victims,
                 words=f"{k} {who}{'s' if k != 1 else ''} × {weights.points_per_victim}"
                       + (f" (capped at {weights.max_victim_points})" if victims < k * weights.points_per_victim else "")),
    ]


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def marac_dates(session: Session, ids: list[int], *, side: str, since: dt.date, before: dt.date) -> dict[int, dt.date]:
    """Per person, their latest MARAC referral in [since, before) as ``side`` ("victim" or
    "perpetrator")."""
    column = MaracReferral.victim_person_id if side == "victim" else MaracReferral.perpetrator_person_id
    latest: dict[int, dt.date] = {}
    for chunk in _chunks(ids):
        for pid, on in session.execute(select(column, MaracReferral.referred_on)
                                       .where(column.in_(chunk), MaracReferral.referred_on >= since,
                                              MaracReferral.referred_on < before)):
            if pid not in latest or on > latest[pid]:
                latest[pid] = on
    return latest


def _people(session: Session, user: Principal, ids: set[int], as_of: dt.date) -> dict[int, Person]:
    """The people among ``ids`` in the user's scope."""
    found: dict[int, Person] = {}
    for chunk in _chunks(sorted(ids)):
        for person in session.scalars(select(Person).where(Person.id.in_(chunk), scope.in_scope(user, as_of))):
            found[person.id] = person
    return found


def _pseudo_ids(session: Session, ids: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(ids)):
        found.update(session.execute(select(Person.id, Person.pseudo_id).where(Person.id.in_(chunk))).all())
    return found


def monthly_list(session: Session, user: Principal, *, month: str | None, as_of: dt.date) -> MonthlyList:
    """The list for ``month`` in the reader's scope, each section ranked by RFGV (highest first)."""
    rules = monthly_list_rules()
    marac = marac_rules()
    produced_on = parse_month(month, as_of=as_of)
    start, end = check_month(produced_on, rules, as_of=as_of)
    found = sections_of(session, start=start, end=end, rules=rules)
    everyone = {pid for members in found.values() for pid in members}
    people = _people(session, user, everyone, end)
    others = _pseudo_ids(session, {int(o) for members in found.values() for t in members.values()
                                   for o in t["other_ids"]})
    managed: set[int] = set()
    for chunk in _chunks(sorted(people)):
        managed.update(session.scalars(select(Person.id).where(Person.id.in_(chunk),
                                                               Person.id.in_(current_member_ids(end)))))
    since = months_before(produced_on, rules.marac_lookback_months)
    perp_ids = sorted({p for code in ("serial", "repeat", "stalking") for p in found[code] if p in people})
    victim_ids = sorted(p for p in found["repeat_victims"] if p in people)
    at_marac = {"perpetrator": marac_dates(session, perp_ids, side="perpetrator", since=since, before=produced_on),
                "victim": marac_dates(session, victim_ids, side="victim", since=since, before=produced_on)}
    repeat_since = months_before(produced_on, marac.repeat_months + rules.window_months)
    last_victim_referral = marac_dates(session, victim_ids, side="victim", since=repeat_since, before=produced_on)
    sections = []
    listed: set[int] = set()
    for code in SECTIONS:
        meta = getattr(rules.sections, code)
        victim_side = code == "repeat_victims"
        side = "victim" if victim_side else "perpetrator"
        rows = []
        for pid, tally in found[code].items():
            person = people.get(pid)
            if person is None:
                continue
            last = at_marac[side].get(pid)
            latest = tally["latest_on"]
            referral = last_victim_referral.get(pid) if victim_side else None
            repeat = referral is not None and referral < latest <= months_after(referral, marac.repeat_months)
            parts = rfgv_parts(tally, weights=rules.rfgv, victim_side=victim_side)
            rows.append(ListRow(
                person_id=pid, pseudo_id=person.pseudo_id,
                name=None if user.pseudonymised else f"{person.given_name} {person.family_name}",
                age=age_on(person.date_of_birth, end) if person.date_of_birth else None, home_npu=person.home_npu,
                incidents=int(tally["incidents"]), others=int(tally["others"]),
                other_pseudo_ids=sorted(others[int(o)] for o in tally["other_ids"] if int(o) in others),
                first_on=tally["first_on"], latest_on=latest, gravest_gravity=int(tally["gravest_gravity"]),
                gravest_offence=tally["gravest_offence"], score=int(tally["score"]), parts=parts,
                at_marac=last is not None, last_marac_on=last, managed=pid in managed, repeat_marac=repeat,
                also_in=[other for other in SECTIONS if other != code and pid in found[other]
                         and (other == "repeat_victims") == victim_side]))
        rows.sort(key=lambda r: (-r.score, -r.latest_on.toordinal(), r.pseudo_id))
        listed.update((side, r.person_id) for r in rows if not r.at_marac)
        sections.append(ListSection(code=code, label=meta.label, description=meta.description, count=len(rows),
                                    not_at_marac=sum(not r.at_marac for r in rows), rows=rows))
    return MonthlyList(month=f"{produced_on:%Y-%m}", produced_on=produced_on, window_start=start, window_end=end,
                       date_field=rules.date_field, rules_version=f"{rules.version}; {marac.version}",
                       sections=sections, not_at_marac=len(listed))


def person_sections(session: Session, person_id: int, *, month_start: dt.date) -> list[str]:
    """The sections of the list for the month starting ``month_start`` this person is in
    (computed from their own incidents only: the record's tab)."""
    rules = monthly_list_rules()
    start, end = window(month_start, rules)
    found = sections_of(session, start=start, end=end, rules=rules, person_ids=[person_id])
    return [code for code in SECTIONS if person_id in found[code]]

