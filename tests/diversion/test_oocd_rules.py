"""Out-of-court disposal decisions on hand-made crimes: each tier's rules, the Inspector's
authority outside the criteria, the DA pilot's start date, the 2022 policy's DPP consent, and
every refusal in words; then the lifecycle, driven at random, never takes an illegal step."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from iom.diversion import lifecycle, service
from iom.diversion.models import Condition, Disposal, DisposalEvent
from iom.errors import Conflict, FieldError, UserError
from iom.register.models import Crime, Person

D = dt.date
AS_OF = D(2019, 3, 31)
#: The lifecycle written out by hand (issue 13): proposed → authorised → issued → complied |
#: breached → prosecuted | penalty; withdrawn before issue.
LEGAL = {("proposed", "authorise"): "authorised", ("proposed", "withdraw"): "withdrawn",
         ("authorised", "issue"): "issued", ("authorised", "withdraw"): "withdrawn",
         ("issued", "comply"): "complied", ("issued", "breach"): "breached",
         ("breached", "prosecute"): "prosecuted", ("breached", "fine"): "penalty"}


class Cases:
    def __init__(self, session) -> None:
        self.session, self.n = session, 0

    def person(self, born: dt.date = D(1985, 5, 5)) -> int:
        self.n += 1
        p = Person(pseudo_id=f"OC{self.n:06d}", source_id=f"oocd-{self.n}", given_name="Test", family_name=f"P{self.n}",
                   date_of_birth=born, sex="M", ethnicity="W_BRI", home_npu="BN")
        self.session.add(p)
        self.session.flush()
        return p.id

    def crime(self, person: int, code: str, on: dt.date = D(2019, 2, 1)) -> int:
        self.n += 1
        c = Crime(source_id=f"oocd-crime-{self.n}", person_id=person, involvement="offender", committed_on=on,
                  recorded_on=on, offence_code=code, npu_code="BN", outcome="pending")
        self.session.add(c)
        self.session.flush()
        return c.id


@pytest.fixture
def cases(db_session) -> Cases:
    return Cases(db_session)


def decide(session, person: int, crime: int, tier: str, *, on: dt.date = AS_OF, **answers):
    values = service.check_decision(session, person_id=person, crime_id=crime, tier=tier,
                                    policy=answers.pop("policy", None), admission=answers.pop("admission", True),
                                    consent=answers.pop("consent", True), victim_views=None,
                                    factors=answers.pop("factors", []), rationale="proportionate",
                                    custody_expected=answers.pop("custody_expected", False),
                                    intervention_available=answers.pop("intervention_available", False),
                                    dpp_consent=answers.pop("dpp_consent", False), on=on)
    assert not answers
    return service.add_decision(session, values=values, by="tester")


def issue(session, row: Disposal, on: dt.date, *, rank: str = "sergeant") -> Disposal:
    for action, extra in (("authorise", {"rank": rank}), ("issue", {})):
        target = service.check_change(session, row, action=action, on=on, version=row.version, **extra)
        service.apply_change(session, row, action=action, target=target, on=on, by="tester", **extra)
    return row


def test_a_first_low_level_summary_offence_gets_a_community_resolution(db_session, cases):
    person = cases.person()
    crime = cases.crime(person, "008/90")  # malicious communications: summary, gravity 1
    row = decide(db_session, person, crime, "community_resolution")
    assert (row.status, row.gravity, row.authority_required, row.outside_criteria) == ("proposed", 1, "sergeant", [])
    options = {o.tier: o for o in service.options(db_session, service.crime_facts(db_session, crime), policy_code=None,
                                                  on=AS_OF, admission=True, consent=True)}
    assert options["community_resolution"].allowed and not options["conditional_caution"].allowed
    assert any("points to" in words for words in options["conditional_caution"].bars)


def test_a_third_community_resolution_in_two_years_needs_an_inspector(db_session, cases):
    person = cases.person()
    for on in (D(2017, 6, 1), D(2018, 5, 1)):
        issue(db_session, decide(db_session, person, cases.crime(person, "008/90", on), "community_resolution", on=on),
              on)
    third = decide(db_session, person, cases.crime(person, "008/90"), "community_resolution")
    assert third.authority_required == "inspector"
    assert "2 earlier community resolutions in 2 years" in third.outside_criteria[0]
    with pytest.raises(FieldError, match="only an Inspector can authorise it"):
        service.check_change(db_session, third, action="authorise", on=AS_OF, version=third.version, rank="sergeant")
    assert service.check_change(db_session, third, action="authorise", on=AS_OF, version=third.version,
                                rank="inspector") == "authorised"
    # Two years on, the first no longer counts.
    later = cases.person()
    issue(db_session, decide(db_session, later, cases.crime(later, "008/90", D(2016, 6, 1)), "community_resolution",
                             on=D(2016, 6, 1)), D(2016, 6, 1))
    issue(db_session, decide(db_session, later, cases.crime(later, "008/90", D(2018, 5, 1)), "community_resolution",
                             on=D(2018, 5, 1)), D(2018, 5, 1))
    assert decide(db_session, later, cases.crime(later, "008/90"), "community_resolution").authority_required == "sergeant"


def test_an_either_way_case_with_an_intervention_gets_a_conditional_caution(db_session, cases):
    person = cases.person()
    crime = cases.crime(person, "008/20")  # assault on an emergency worker: either way, gravity 2
    with pytest.raises(FieldError, match="needs an intervention"):
        decide(db_session, person, crime, "conditional_caution")
    with pytest.raises(FieldError, match="custody or a high-level community order is expected"):
        decide(db_session, person, crime, "conditional_caution", intervention_available=True, custody_expected=True)
    row = decide(db_session, person, crime, "conditional_caution", intervention_available=True)
    assert row.tier == "conditional_caution" and row.authority_required == "sergeant"
    target = service.check_change(db_session, row, action="authorise", on=AS_OF, version=row.version, rank="sergeant")
    service.apply_change(db_session, row, action="authorise", target=target, on=AS_OF, by="t", rank="sergeant")
    with pytest.raises(FieldError, match="issued with its conditions"):
        service.check_change(db_session, row, action="issue", on=AS_OF, version=row.version)
    outside = decide(db_session, person, cases.crime(person, "008/20"), "community_resolution", policy="npcc-2017",
                     factors=["first_offence"])
    assert outside.authority_required == "inspector"
    assert outside.outside_criteria == ["a community resolution is for summary offences; Assault on an emergency "
                                        "worker is either way (an Inspector may authorise it in exceptional "
                                        "circumstances)"]


def test_an_indictable_only_offence_is_refused_unless_the_dpp_consents_under_the_2022_policy(db_session, cases):
    person = cases.person()
    crime = cases.crime(person, "034/01")  # robbery: indictable only, gravity 4
    with pytest.raises(FieldError, match="triable only on indictment: the NPCC two-tier framework"):
        decide(db_session, person, crime, "conditional_caution", intervention_available=True)
    lowered = ["minor_role", "remorse"]
    with pytest.raises(FieldError, match="allows it only with the DPP's consent, which is not recorded"):
        decide(db_session, person, crime, "diversionary_caution", policy="pcsc-2022", factors=lowered)
    row = decide(db_session, person, crime, "diversionary_caution", policy="pcsc-2022", factors=lowered, dpp_consent=True)
    assert (row.policy, row.base_gravity, row.gravity) == ("pcsc-2022", 4, 2)


@pytest.mark.parametrize("on, allowed", [(D(2018, 11, 30), False), (D(2018, 12, 1), True)])
def test_the_da_conditional_caution_pilot_starts_on_its_date(db_session, cases, on, allowed):
    person = cases.person()
    crime = cases.crime(person, "105/DA", on)  # common assault (domestic): summary, gravity 2
    if allowed:
        row = decide(db_session, person, crime, "conditional_caution", intervention_available=True)
        assert row.pilot == "da-conditional-caution"
    else:
        with pytest.raises(FieldError, match="not given for domestic abuse outside an approved pilot .*2018-12-01"):
            decide(db_session, person, crime, "conditional_caution", intervention_available=True)


def test_no_admission_or_no_agreement_is_refused_with_every_reason(db_session, cases):
    person = cases.person()
    with pytest.raises(FieldError) as refused:
        decide(db_session, person, cases.crime(person, "008/90"), "community_resolution", admission=False,
               consent=False)
    assert "no admission" in str(refused.value) and "no agreement" in str(refused.value)


def test_a_youth_disposal_is_marked_youth(db_session, cases):
    young = cases.person(born=D(2002, 6, 1))
    row = decide(db_session, young, cases.crime(young, "008/90", D(2019, 1, 5)), "community_resolution")
    assert row.youth


def test_a_crime_has_one_disposal_and_a_stale_version_is_refused(db_session, cases):
    person = cases.person()
    crime = cases.crime(person, "008/90")
    row = decide(db_session, person, crime, "community_resolution")
    with pytest.raises(FieldError, match="already has disposal"):
        decide(db_session, person, crime, "community_resolution")
    with pytest.raises(Conflict, match="changed since you opened it"):
        service.check_change(db_session, row, action="authorise", on=AS_OF, version=row.version + 1, rank="sergeant")


# --- the lifecycle ------------------------------------------------------------------------------------

def test_the_machine_allows_exactly_the_issue_s_changes():
    assert lifecycle.TABLE == LEGAL
    assert lifecycle.FINAL == {"complied", "prosecuted", "penalty", "withdrawn"}
    with pytest.raises(UserError, match="a disposal that is complied cannot be marked breached"):
        lifecycle.after("complied", "breach")


@pytest.mark.parametrize("policy, tier, code, follow, target, refused", [
    ("npcc-2017", "conditional_caution", "008/20", "prosecute", "prosecuted", "fine"),
    ("pcsc-2022", "community_caution", "008/90", "fine", "penalty", "prosecute"),
])
def test_a_breach_leads_where_the_policy_says(db_session, cases, policy, tier, code, follow, target, refused):
    person = cases.person()
    row = decide(db_session, person, cases.crime(person, code), tier, policy=policy, intervention_available=True,
                 on=D(2019, 3, 1))
    values = service.check_condition(db_session, row, kind="rehabilitative", description="attend the course",
                                     due_on=D(2019, 3, 20), provider=None, on=D(2019, 3, 1))
    condition = service.add_condition(db_session, values=values, referral_id=None, by="t")
    issue(db_session, row, D(2019, 3, 1))
    assert service.overdue(db_session, on=D(2019, 3, 20)) == []  # due that day: not yet past
    (found, late), = service.overdue(db_session, on=D(2019, 3, 21))
    assert found.id == row.id and late.id == condition.id
    service.breach_overdue(db_session, found, late, on=D(2019, 3, 21), by="sweep")
    assert row.status == "breached" and condition.status == "failed"
    with pytest.raises(FieldError, match="leads to"):
        service.check_change(db_session, row, action=refused, on=AS_OF, version=row.version)
    done = service.apply_change(db_session, row, action=follow, target=service.check_change(
        db_session, row, action=follow, on=AS_OF, version=row.version), on=AS_OF, by="t")
    assert done.status == target and done.closed_on == AS_OF


def test_no_illegal_change_is_reachable(db_session, cases):
    person = cases.person()
    session = db_session

    class Disposals(RuleBasedStateMachine):
        """One disposal driven by random actions and condition marks, beside a model status."""

        def __init__(self) -> None:
            super().__init__()
            self.row = decide(session, person, cases.crime(person, "008/20", D(2019, 1, 1)), "conditional_caution",
                              intervention_available=True, on=D(2019, 1, 2))
            self.conditions = []
            self.status = "proposed"

        @rule(action=st.sampled_from(("authorise", "issue", "withdraw", "prosecute", "fine")))
        def act(self, action):
            try:
                target = service.check_change(session, self.row, action=action, on=AS_OF, version=self.row.version,
                                              rank="inspector")
            except UserError:
                assert (self.status, action) not in LEGAL or action == "fine" or (
                    action == "issue" and not self.conditions)
                return
            assert LEGAL[(self.status, action)] == target
            service.apply_change(session, self.row, action=action, target=target, on=AS_OF, by="t", rank="inspector")
            self.status = target

        @rule()
        def add_condition(self):
            try:
                values = service.check_condition(session, self.row, kind="reparative", description="apology",
                                                 due_on=None, provider=None, on=AS_OF)
            except UserError:
                assert self.status not in ("proposed", "authorised")
                return
            self.conditions.append(service.add_condition(session, values=values, referral_id=None, by="t"))

        @rule(complied=st.booleans())
        def mark(self, complied):
            pending = [c for c in self.conditions if c.status == "pending"]
            if not pending:
                return
            try:
                service.check_condition_done(session, pending[0], complied=complied, on=AS_OF)
            except UserError:
                assert self.status != "issued"
                return
            service.mark_condition(session, pending[0], complied=complied, on=AS_OF, by="t")
            if not complied:
                self.status = "breached"
            elif all(c.status == "complied" for c in self.conditions):
                self.status = "complied"

        @invariant()
        def stored_matches_and_history_chains(self):
            assert self.row.status == self.status
            events = session.scalars(select(DisposalEvent).where(DisposalEvent.disposal_id == self.row.id)
                                     .order_by(DisposalEvent.id)).all()
            assert [e.from_status for e in events[1:]] == [e.to_status for e in events[:-1]]
            assert all(any(LEGAL.get((e.from_status, a)) == e.to_status for a in lifecycle.ACTIONS)
                       for e in events[1:])
            assert session.scalar(select(Condition.id).where(Condition.disposal_id == self.row.id,
                                                             Condition.status == "failed").limit(1)) is None \
                or self.status in ("breached", "prosecuted")

    run_state_machine_as_test(Disposals, settings=settings(max_examples=150, stateful_step_count=15, deadline=None,
                                                            suppress_health_check=list(HealthCheck)))
