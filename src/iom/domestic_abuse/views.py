"""What readers see of domestic abuse: the monthly list (and its CSV for the meeting), a
person's DA part (the record's tab), MARAC criteria for a victim, the pilot cohort, and the
timeline's DA events. The other side of a person's incidents (their victims, or a victim's
perpetrators) appears by pseudo id only; pseudonymised readers (analysts) see no names and no
free text. Every read is audited."""

from __future__ import annotations

import csv
import io

from sqlalchemy import or_, select

from iom.casefile.access import Access, RecordContext
from iom.casefile.schemas import TimelineEvent
from iom.domestic_abuse import monthly, service
from iom.domestic_abuse.models import DashAssessment, MaracReferral, SpjAssessment
from iom.domestic_abuse.rules import instrument
from iom.domestic_abuse.schemas import DaPart, MaracCheck, MonthlyList, PilotCohort
from iom.formatting import csv_cell

#: The permission every domestic-abuse read needs (``iom.security.roles``).
READ = "read_domestic_abuse"


def _require(access: Access, doing: str) -> None:
    access.require(READ, f"this role cannot {doing}")


def monthly_list(access: Access, *, month: str | None) -> MonthlyList:
    """The month's list in the reader's scope, audited as a search naming everyone on it."""
    _require(access, "read domestic-abuse lists")
    found = access.kept_view("da list", month, build=lambda: monthly.monthly_list(
        access.session, access.user, month=month, as_of=access.as_of))
    access.log("search", "da_list", month=found.month,
               people=sorted({row.person_id for section in found.sections for row in section.rows}))
    return found


CSV_COLUMNS = ("section", "rank", "pseudo_id", "name", "age", "home_npu", "score", "recency", "frequency", "gravity",
               "victims", "incidents", "others", "first_on", "latest_on", "gravest_offence", "at_marac",
               "last_marac_on", "managed", "repeat_marac", "also_in", "other_pseudo_ids")


def list_csv(found: MonthlyList) -> str:
    """The list as one CSV for the meeting: one row per person per section, in rank order."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for section in found.sections:
        for rank, row in enumerate(section.rows, 1):
            points = {p.part: p.points for p in row.parts}
            writer.writerow([csv_cell(v) for v in (
                section.code, rank, row.pseudo_id, row.name, row.age, row.home_npu, row.score, points["recency"],
                points["frequency"], points["gravity"], points["victims"], row.incidents, row.others, row.first_on,
                row.latest_on, row.gravest_offence, "yes" if row.at_marac else "no", row.last_marac_on,
                "yes" if row.managed else "no", "yes" if row.repeat_marac else "no", " ".join(row.also_in),
                " ".join(row.other_pseudo_ids))])
    return out.getvalue()


def person_da(access: Access, person_id: int) -> DaPart:
    """One person's DA incidents, DASH, MARAC, SARA/SAM and programme eligibility (audited)."""
    _require(access, "read domestic-abuse records")
    who = access.read_subject(person_id, resource="domestic_abuse")
    return service.part(access.session, access.user, who.id, as_of=access.as_of)


def marac_check(access: Access, victim_id: int) -> MaracCheck:
    """Which MARAC criteria the victim's case meets on the access's date (a read of their record)."""
    _require(access, "read domestic-abuse records")
    who = access.read_subject(victim_id, resource="marac_criteria")
    return service.marac_criteria(access.session, victim_id=who.id, on=access.as_of)


def pilot_cohort(access: Access, *, month: str | None) -> PilotCohort:
    """The month's pilot cohort: the saved one if it was saved, else as it would be saved now."""
    _require(access, "read domestic-abuse lists")
    found, members = service.pilot_members(access.session, access.user, month=month, as_of=access.as_of)
    saved = service.saved_cohort(access.session, found.month)
    cohort = service.cohort_out(access.session, saved) if saved is not None else PilotCohort(
        id=None, month=found.month, window_start=found.window_start, window_end=found.window_end,
        rules_version=found.rules_version, size=len(members), person_ids=[m.person_id for m in members],
        pseudo_ids=[m.pseudo_id for m in members])
    access.log("search", "da_pilot_cohort", month=cohort.month, saved=cohort.id, people=cohort.person_ids)
    return cohort


def for_record(ctx: RecordContext) -> DaPart | None:
    """The record's ``domestic_abuse`` part (the DA tab), for readers with the permission."""
    if ctx.restricted_hidden or not ctx.user.can(READ):
        return None
    return service.part(ctx.session, ctx.user, ctx.person_id, as_of=ctx.as_of)


def timeline(ctx: RecordContext) -> list[TimelineEvent]:
    """DASH, MARAC referrals and final SARA/SAM records on the timeline, for readers with the
    permission (kept with the record: the DA tables bump the register version)."""
    if not ctx.user.can(READ) or ctx.restricted_hidden:
        return []
    session, pid = ctx.session, ctx.person_id
    events = []
    for row in session.scalars(select(DashAssessment).where(
            or_(DashAssessment.victim_person_id == pid, DashAssessment.perpetrator_person_id == pid),
            DashAssessment.assessed_on <= ctx.as_of)):
        role = "victim" if row.victim_person_id == pid else "perpetrator"
        events.append(TimelineEvent(on=row.assessed_on, kind="domestic_abuse",
                                    text=f"DASH ({role}): {row.yes_count} yes, {row.band} risk"))
    for row in session.scalars(select(MaracReferral).where(
            or_(MaracReferral.victim_person_id == pid, MaracReferral.perpetrator_person_id == pid),
            MaracReferral.referred_on <= ctx.as_of)):
        role = "victim" if row.victim_person_id == pid else "perpetrator"
        events.append(TimelineEvent(on=row.referred_on, kind="domestic_abuse",
                                    text=f"{'Repeat ' if row.repeat else ''}MARAC referral ({role}) by "
                                         f"{row.referring_agency}"))
    for row in session.scalars(select(SpjAssessment).where(SpjAssessment.person_id == pid,
                                                           SpjAssessment.status == "final",
                                                           SpjAssessment.assessed_on <= ctx.as_of)):
        judged = row.judgements.get("case_prioritisation")
        events.append(TimelineEvent(on=row.assessed_on, kind="domestic_abuse",
                                    text=f"{instrument(row.instrument).name} finalised"
                                         + (f": case prioritisation {judged}" if judged else "")))
    return events
