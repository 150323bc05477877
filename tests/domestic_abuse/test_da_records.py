"""DASH banding, MARAC criteria and repeat MARAC, SARA v3 and SAM finalisation, the pilot cohort
and DRIVE / CARA eligibility, through the service on hand-made records."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from iom.domestic_abuse import service
from iom.domestic_abuse.models import DashAssessment
from iom.domestic_abuse.rules import dash_rules, instrument
from iom.domestic_abuse.schemas import Rating
from iom.errors import Conflict, FieldError

from tests.domestic_abuse.test_da_list import AS_OF, CONSOLE, Force

D = dt.date
QUESTIONS = [q.code for q in dash_rules().questions]


def answers(yes: int) -> dict[str, str]:
    return {code: "yes" if i < yes else "no" for i, code in enumerate(QUESTIONS)}


@pytest.fixture
def force(db_session) -> Force:
    return Force(db_session)


def dash(session, victim: int, perp: int | None, *, yes: int, on: dt.date = D(2019, 3, 1), judgement=None,
         reason=None, relationship="intimate_partner") -> DashAssessment:
    values = service.check_dash(session, victim_id=victim, perpetrator_id=perp, assessed_on=on, as_of=AS_OF,
                                relationship=relationship, answers=answers(yes), judgement_band=judgement,
                                judgement_reason=reason)
    return service.add_dash(session, values=values, by="tester")


def refer(session, victim: int, perp: int | None, on: dt.date, *, reason=None, dash_id=None):
    values = service.check_marac(session, victim_id=victim, perpetrator_id=perp, referred_on=on, as_of=AS_OF,
                                 referring_agency="police", judgement_reason=reason, dash_id=dash_id)
    return service.add_marac(session, values=values, by="tester")


# --- DASH ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("yes, band", [(0, "standard"), (9, "standard"), (10, "medium"), (13, "medium"), (14, "high"),
                                       (24, "high")])
def test_the_yes_count_gives_the_band(yes, band):
    counted, by_count, final = service.dash_band(answers(yes), judgement_band=None, rules=dash_rules())
    assert (counted, by_count, final) == (yes, band, band)


def test_fourteen_yes_is_high_and_marac_eligible(db_session, force):
    victim, perp = force.person(), force.person()
    row = dash(db_session, victim, perp, yes=14)
    out = service.dash_out(db_session, row)
    assert (out.yes_count, out.band, out.marac_eligible) == (14, "high", True)
    assert not service.dash_out(db_session, dash(db_session, victim, perp, yes=13, on=D(2019, 3, 2))).marac_eligible


def test_judgement_raises_a_band_with_a_reason_and_never_lowers_it(db_session, force):
    victim, perp = force.person(), force.person()
    raised = dash(db_session, victim, perp, yes=13, judgement="high", reason="threats to kill since the incident")
    assert (raised.band_by_count, raised.judgement_band, raised.band) == ("medium", "high", "high")
    assert service.dash_out(db_session, raised).marac_eligible
    with pytest.raises(FieldError, match="say why"):
        dash(db_session, victim, perp, yes=13, judgement="high")
    with pytest.raises(FieldError, match="never lower it") as refused:
        dash(db_session, victim, perp, yes=14, judgement="medium", reason="victim says it is better")
    assert refused.value.field == "dash-judgement"


def test_a_dash_needs_every_answer_and_known_codes(db_session, force):
    victim = force.person()
    partial = {code: "no" for code in QUESTIONS[:-1]}
    with pytest.raises(FieldError, match="answer every DASH question"):
        service.dash_band(partial, judgement_band=None, rules=dash_rules())
    with pytest.raises(FieldError, match="no DASH question 'Q99'"):
        service.dash_band({**answers(0), "Q99": "yes"}, judgement_band=None, rules=dash_rules())
    with pytest.raises(FieldError, match="relationship must be one of"):
        dash(db_session, victim, None, yes=3, relationship="neighbour")
    with pytest.raises(FieldError, match="after"):
        dash(db_session, victim, None, yes=3, on=D(2019, 4, 1))


# --- MARAC ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("months_after, status", [(11, "repeat"), (12, "repeat"), (13, "new"), (0, "new")])
def test_repeat_status_by_months_since_the_last_referral(months_after, status):
    last = D(2017, 6, 15)
    incident = D(2017 + (6 + months_after - 1) // 12, (6 + months_after - 1) % 12 + 1, 15)
    assert service.repeat_status(last, incident, months=12) == status


@pytest.mark.parametrize("months_after, repeat", [(11, True), (13, False)])
def test_repeat_marac_from_records(db_session, force, months_after, repeat):
    victim, perp = force.person(), force.person()
    first_on = D(2017, 12, 1)
    refer(db_session, victim, perp, first_on, reason="professional judgement: escalating threats")
    incident_on = D(2018 + (months_after - 1) // 12, (months_after - 1) % 12 + 1, 1)
    force.incident(perp, victim, incident_on)
    check = service.marac_criteria(db_session, victim_id=victim, on=incident_on + dt.timedelta(days=2))
    assert check.repeat is repeat and ("repeat" in check.criteria) is repeat
    assert check.last_referral_on == first_on


def test_a_referral_needs_a_criterion_and_judgement_needs_its_reason(db_session, force):
    victim, perp = force.person(), force.person()
    force.incident(perp, victim, D(2019, 2, 1))
    with pytest.raises(FieldError, match="meets no MARAC criterion") as refused:
        refer(db_session, victim, perp, D(2019, 3, 1))
    assert "professional judgement" in str(refused.value)
    made = refer(db_session, victim, perp, D(2019, 3, 1), reason="victim fears for her life")
    assert made.criteria == ["professional_judgement"] and not made.repeat
    with pytest.raises(FieldError, match="already referred"):
        refer(db_session, victim, perp, D(2019, 3, 1), reason="again")
    with pytest.raises(FieldError, match="referring agency must be one of"):
        service.check_marac(db_session, victim_id=victim, perpetrator_id=perp, referred_on=D(2019, 3, 2), as_of=AS_OF,
                            referring_agency="The Neighbours", judgement_reason="x", dash_id=None)


def test_high_dash_and_escalation_are_criteria(db_session, force):
    victim, perp = force.person(), force.person()
    high = dash(db_session, victim, perp, yes=15, on=D(2019, 2, 20))
    made = refer(db_session, victim, perp, D(2019, 2, 25))
    assert made.criteria == ["dash_high"] and made.dash_id == high.id
    other = force.person()
    for day in (D(2018, 5, 1), D(2018, 9, 1)):
        force.incident(perp, other, day)
    assert "escalation" not in service.marac_criteria(db_session, victim_id=other, on=D(2019, 3, 1)).criteria
    force.incident(perp, other, D(2019, 2, 1))  # the third in twelve months
    check = service.marac_criteria(db_session, victim_id=other, on=D(2019, 3, 1))
    assert "escalation" in check.criteria and check.incidents_in_escalation_window == 3
    assert "escalation" not in service.marac_criteria(db_session, victim_id=other, on=D(2019, 5, 2)).criteria


# --- SARA v3 and SAM ----------------------------------------------------------------------------------

def spj(session, person: int, code: str, *, judgements: dict, finalise: bool):
    values = service.check_spj(session, person_id=person, instrument_code=code, victim_id=None, assessed_on=AS_OF,
                               as_of=AS_OF, ratings={"N1": Rating(past="Y", recent="P", relevance="high")},
                               judgements=judgements, scenarios=["repeat against a new partner"],
                               plan={"supervision": "weekly"}, finalise=finalise)
    return service.add_spj(session, values=values, finalise=finalise, by="tester")


@pytest.mark.parametrize("code, count", [("sara-v3", 3), ("sam", 5)])
def test_a_record_is_final_only_with_all_its_judgements(db_session, force, code, count):
    person = force.person()
    tool = instrument(code)
    assert len(tool.judgements) == count
    every = {j.code: j.options[-1].code for j in tool.judgements}
    short = dict(list(every.items())[:-1])
    with pytest.raises(FieldError, match="cannot be finalised without all its summary judgements"):
        spj(db_session, person, code, judgements=short, finalise=True)
    draft = spj(db_session, person, code, judgements=short, finalise=False)
    out = service.spj_out(db_session, draft)
    assert out.status == "draft" and len(out.missing) == 1
    with pytest.raises(Conflict, match="changed since you opened it"):
        service.check_spj_update(db_session, draft, version=draft.version + 1, ratings={}, judgements={},
                                 scenarios=[], plan={}, finalise=True)
    last = tool.judgements[-1]
    values = service.check_spj_update(db_session, draft, version=draft.version, ratings={},
                                      judgements={last.code: last.options[0].code}, scenarios=[], plan={}, finalise=True)
    final = service.update_spj(db_session, draft, values=values, finalise=True, by="tester")
    assert (final.status, final.version, final.judgements) == ("final", 2, {**short, last.code: last.options[0].code})
    assert final.ratings["N1"] == {"past": "Y", "recent": "P", "relevance": "high"}  # kept from the draft
    with pytest.raises(FieldError, match="is final"):
        service.check_spj_update(db_session, final, version=final.version, ratings={}, judgements={}, scenarios=[],
                                 plan={}, finalise=False)


def test_spj_refuses_unknown_factors_and_options(db_session, force):
    person = force.person()
    with pytest.raises(FieldError, match="has no factor 'Z9'"):
        service.check_spj(db_session, person_id=person, instrument_code="sara-v3", victim_id=None, assessed_on=AS_OF,
                          as_of=AS_OF, ratings={"Z9": Rating(past="Y")}, judgements={}, scenarios=[], plan={},
                          finalise=False)
    with pytest.raises(FieldError, match="one of low, moderate, high"):
        spj(db_session, person, "sara-v3", judgements={"case_prioritisation": "extreme"}, finalise=False)
    with pytest.raises(FieldError, match="instrument must be one of"):
        service.check_spj(db_session, person_id=person, instrument_code="hcr-20", victim_id=None, assessed_on=AS_OF,
                          as_of=AS_OF, ratings={}, judgements={}, scenarios=[], plan={}, finalise=False)


# --- the pilot cohort and programmes -------------------------------------------------------------------

def test_the_pilot_cohort_is_marac_and_serial_together(db_session, force):
    both, serial_only, marac_only = force.person(), force.person(), force.person()
    for perp in (both, serial_only, marac_only):
        a, b = force.person(), force.person()
        force.incident(perp, a, D(2019, 1, 3))
        if perp != marac_only:
            force.incident(perp, b, D(2019, 2, 3))
    for perp in (both, marac_only):
        victim = force.person()
        refer(db_session, victim, perp, D(2018, 10, 1), reason="judgement")
    found, members = service.pilot_members(db_session, CONSOLE, month="2019-03", as_of=AS_OF)
    assert [m.person_id for m in members] == [both]
    saved = service.save_cohort(db_session, found=found, members=members, by="tester")
    assert saved.size == 1 and saved.person_ids == [both] and saved.month == "2019-03"
    with pytest.raises(Conflict, match="was saved on"):
        service.save_cohort(db_session, found=found, members=members, by="tester")


def test_the_pilot_cohort_on_the_synthetic_force_is_marac_intersect_serial(force_engine):
    from sqlalchemy import select

    from iom.domestic_abuse.models import DaCohort, DaCohortMember, MaracReferral

    with Session(force_engine) as session:
        found, members = service.pilot_members(session, CONSOLE, month="2019-03", as_of=AS_OF)
        serial = {r.person_id for r in found.section("serial").rows}
        at_marac = set(session.scalars(select(MaracReferral.perpetrator_person_id).where(
            MaracReferral.referred_on >= D(2018, 3, 1), MaracReferral.referred_on < D(2019, 3, 1))))
        saved = session.scalar(select(DaCohort).where(DaCohort.month == "2019-03"))
        kept = set(session.scalars(select(DaCohortMember.person_id).where(DaCohortMember.cohort_id == saved.id)))
    assert {m.person_id for m in members} == serial & at_marac == kept


@pytest.mark.parametrize("yes, relationship, npu, drive, cara", [
    (15, "intimate_partner", "BS", True, False),
    (15, "intimate_partner", "WV", True, False),  # DA risk met; the provider's area rule refuses later
    (11, "intimate_partner", "BS", False, True),
    (11, "family", "BS", False, False),
    (3, "intimate_partner", "BN", False, True),
])
def test_drive_and_cara_eligibility(db_session, force, yes, relationship, npu, drive, cara):
    perp, victim = force.person(npu=npu), force.person()
    dash(db_session, victim, perp, yes=yes, relationship=relationship)
    found = {e.programme: e for e in service.eligibility(db_session, perp, on=AS_OF)}
    assert (found["drive"].eligible, found["cara"].eligible) == (drive, cara)
    assert all(e.reasons for e in found.values() if not e.eligible)


def test_no_dash_means_no_programme_and_marac_counts_as_high(db_session, force):
    perp, victim = force.person(), force.person()
    found = {e.programme: e for e in service.eligibility(db_session, perp, on=AS_OF)}
    assert not found["drive"].eligible and "no DASH names them" in found["drive"].reasons[0]
    refer(db_session, victim, perp, D(2019, 1, 5), reason="judgement")
    found = {e.programme: e for e in service.eligibility(db_session, perp, on=AS_OF)}
    assert found["drive"].eligible and found["drive"].risk_band == "high"
