"""The monthly list on hand-made incidents: who is in which section, the window's edges, the
age rule, RFGV in parts, MARAC and management marks, and scope. Then on the synthetic force,
section counts against an independent count written here."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from iom.cohorts.models import CohortMembership, ManagementRecord
from iom.domestic_abuse import monthly
from iom.domestic_abuse.models import MaracReferral
from iom.errors import FieldError
from iom.register.models import Crime, Person
from iom.security.roles import Principal, cli_actor

D = dt.date
AS_OF = D(2019, 3, 31)
CONSOLE = cli_actor("da-tester")


class Force:
    """People and incidents made by hand in the test's session."""

    def __init__(self, session) -> None:
        self.session = session
        self.n = 0

    def person(self, *, born: dt.date = D(1985, 5, 5), npu: str = "BN", given: str = "Test") -> int:
        self.n += 1
        p = Person(pseudo_id=f"DA{self.n:06d}", source_id=f"da-test-{self.n}", given_name=given,
                   family_name=f"Person{self.n}", date_of_birth=born, sex="M", ethnicity="W_BRI", home_npu=npu)
        self.session.add(p)
        self.session.flush()
        return p.id

    def incident(self, perp: int, victim: int | None, on: dt.date, code: str = "105/DA", **flags) -> None:
        self.n += 1
        self.session.add(Crime(source_id=f"da-crime-{self.n}", person_id=perp, involvement="suspect", committed_on=on,
                               recorded_on=on, offence_code=code, npu_code="BN", victim_person_id=victim,
                               outcome="pending", **flags))
        self.session.flush()


@pytest.fixture
def force(db_session) -> Force:
    return Force(db_session)


def listed(session, month: str = "2019-03", user: Principal = CONSOLE):
    return monthly.monthly_list(session, user, month=month, as_of=AS_OF)


def ids(found, section: str) -> set[int]:
    return {r.person_id for r in found.section(section).rows}


def test_two_victims_inside_the_window_make_a_serial_perpetrator(db_session, force):
    perp, a, b = force.person(), force.person(), force.person()
    force.incident(perp, a, D(2018, 12, 3))
    force.incident(perp, b, D(2019, 2, 27), code="NC/DA1")  # a non-crime incident counts too
    found = listed(db_session)
    assert (found.window_start, found.window_end) == (D(2018, 12, 1), D(2019, 2, 28))
    assert perp in ids(found, "serial")
    assert perp not in ids(found, "repeat")  # one incident per victim
    row = next(r for r in found.section("serial").rows if r.person_id == perp)
    assert row.others == 2 and row.incidents == 2
    assert sorted(row.other_pseudo_ids) == sorted(db_session.get(Person, p).pseudo_id for p in (a, b))
    assert sum(p.points for p in row.parts) == row.score
    assert {p.part for p in row.parts} == {"recency", "frequency", "gravity", "victims"}
    assert all(p.words for p in row.parts)


def test_an_incident_four_months_back_is_outside_the_window(db_session, force):
    perp, a, b = force.person(), force.person(), force.person()
    force.incident(perp, a, D(2018, 11, 30))  # the day before the window opens
    force.incident(perp, b, D(2019, 1, 10))
    force.incident(perp, b, D(2019, 3, 1))  # after the window: the March list does not see it
    found = listed(db_session)
    assert perp not in ids(found, "serial")
    assert perp not in ids(found, "repeat")
    assert perp in ids(listed(db_session, "2019-02"), "serial")  # November is inside February's window


def test_a_fifteen_year_old_is_excluded(db_session, force):
    young = force.person(born=D(2003, 6, 1))  # 15 throughout the window
    turning = force.person(born=D(2003, 1, 15))  # 16 on 2019-01-15
    a, b = force.person(), force.person()
    force.incident(young, a, D(2018, 12, 10))
    force.incident(young, b, D(2019, 2, 10))
    force.incident(turning, a, D(2019, 1, 14))  # aged 15 that day
    force.incident(turning, b, D(2019, 1, 20))
    force.incident(turning, b, D(2019, 2, 20))
    found = listed(db_session)
    assert young not in ids(found, "serial") | ids(found, "repeat")
    assert turning not in ids(found, "serial")  # only one victim counts from their sixteenth birthday
    assert turning in ids(found, "repeat")
    assert a not in ids(found, "repeat_victims") and b in ids(found, "repeat_victims")


def test_a_non_da_stalking_offence_is_in_the_stalking_section_only(db_session, force):
    stalker, target = force.person(), force.person()
    force.incident(stalker, target, D(2019, 1, 5), code="008/50")  # stalking, not DA
    force.incident(stalker, target, D(2019, 1, 25), code="008/50")
    domestic = force.person()
    force.incident(domestic, target, D(2019, 1, 5), code="008/5D")  # stalking (domestic): a DA incident
    found = listed(db_session)
    assert stalker in ids(found, "stalking")
    assert stalker not in ids(found, "serial") | ids(found, "repeat")
    assert target not in ids(found, "repeat_victims")  # one DA incident against them
    assert domestic not in ids(found, "stalking")
    row = next(r for r in found.section("stalking").rows if r.person_id == stalker)
    assert row.incidents == 2 and row.also_in == []


def test_repeat_perpetrators_and_victims_ranked_by_rfgv(db_session, force):
    low, high, v1, v2 = force.person(), force.person(), force.person(), force.person()
    force.incident(low, v1, D(2018, 12, 5))
    force.incident(low, v1, D(2018, 12, 20))
    for day in (D(2019, 1, 10), D(2019, 2, 1), D(2019, 2, 25)):
        force.incident(high, v2, day, code="008/D6" if day.month == 2 else "105/DA")
    found = listed(db_session)
    rows = found.section("repeat").rows
    order = [r.person_id for r in rows]
    assert order.index(high) < order.index(low)
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)
    victims = ids(found, "repeat_victims")
    assert {v1, v2} <= victims
    v2_row = next(r for r in found.section("repeat_victims").rows if r.person_id == v2)
    assert v2_row.incidents == 3 and v2_row.others == 1


def test_marac_and_management_marks_and_the_threat_list(db_session, force):
    perp, a, b = force.person(), force.person(), force.person()
    force.incident(perp, a, D(2019, 1, 3))
    force.incident(perp, b, D(2019, 1, 4))
    other, c, d = force.person(), force.person(), force.person()
    force.incident(other, c, D(2019, 1, 3))
    force.incident(other, d, D(2019, 1, 4))
    db_session.add(MaracReferral(victim_person_id=a, perpetrator_person_id=perp, referred_on=D(2018, 6, 1),
                                 referring_agency="Police", criteria=["dash_high"], rules_version="t", recorded_by="t"))
    db_session.add(MaracReferral(victim_person_id=c, perpetrator_person_id=other, referred_on=D(2017, 6, 1),
                                 referring_agency="Police", criteria=["dash_high"], rules_version="t", recorded_by="t"))
    db_session.add(CohortMembership(person_id=perp, classification_code="MSV", adopted_on=D(2018, 1, 1),
                                    adoption_reason="test"))
    db_session.flush()
    found = listed(db_session)
    rows = {r.person_id: r for r in found.section("serial").rows}
    assert rows[perp].at_marac and rows[perp].last_marac_on == D(2018, 6, 1) and rows[perp].managed
    assert not rows[other].at_marac and not rows[other].managed  # referred too long ago
    assert found.section("serial").not_at_marac == sum(not r.at_marac for r in found.section("serial").rows)


def test_an_offender_manager_sees_only_their_scope_and_an_analyst_no_names(db_session, force):
    here, there = force.person(npu="BN"), force.person(npu="WV")
    for perp in (here, there):
        a, b = force.person(), force.person()
        force.incident(perp, a, D(2019, 1, 3))
        force.incident(perp, b, D(2019, 1, 9))
    om = Principal(username="om", role="offender_manager", lomu_code="LBM")
    mine = ids(listed(db_session, user=om), "serial")
    assert here in mine and there not in mine
    db_session.add(ManagementRecord(person_id=there, effective_from=D(2018, 1, 1), offender_type="Core",
                                    lead_agency="Police", lomu_code="LBM", officer="PC Test"))
    db_session.flush()
    assert there in ids(listed(db_session, user=om), "serial")  # managed by LBM now
    analyst = Principal(username="an", role="analyst")
    rows = listed(db_session, user=analyst).section("serial").rows
    assert rows and all(r.name is None for r in rows)
    assert all(r.name for r in listed(db_session).section("serial").rows)


@pytest.mark.parametrize("month, words", [("2019-13", "YYYY-MM"), ("March", "YYYY-MM"), ("2019-05", "ends after")])
def test_a_bad_month_is_refused_in_words(db_session, month, words):
    with pytest.raises(FieldError, match=words):
        listed(db_session, month)


# --- on the synthetic force -------------------------------------------------------------------

INCIDENTS = text("""
SELECT c.person_id, c.victim_person_id, c.recorded_on, c.domestic_abuse, o.domestic_abuse, o.subgroup,
       p.date_of_birth
FROM crimes c JOIN offences o ON o.code = c.offence_code JOIN people p ON p.id = c.person_id
WHERE c.recorded_on >= :start AND c.recorded_on <= :end
""")


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def independent_counts(session, start: dt.date, end: dt.date) -> dict[str, int]:
    """Serial: DA incidents against 2+ victims; repeat: 2+ against one victim; repeat victims:
    2+ DA incidents against them; stalking: 1+ non-DA stalking or harassment offence; every
    incident by someone 16 or over that day."""
    victims, pairs, against, stalking = defaultdict(set), defaultdict(int), defaultdict(int), set()
    for perp, victim, on, crime_da, offence_da, subgroup, born in session.execute(INCIDENTS, {"start": start, "end": end}):
        on, born = _day(on), _day(born)
        if on.year - born.year - ((on.month, on.day) < (born.month, born.day)) < 16:
            continue
        if crime_da or offence_da:
            if victim is not None:
                victims[perp].add(victim)
                pairs[perp, victim] += 1
                against[victim] += 1
        elif subgroup == "Stalking and harassment":
            stalking.add(perp)
    return {"serial": sum(len(v) >= 2 for v in victims.values()),
            "repeat": len({p for (p, _), n in pairs.items() if n >= 2}),
            "repeat_victims": sum(n >= 2 for n in against.values()), "stalking": len(stalking)}


@pytest.mark.parametrize("month, start, end", [("2019-03", D(2018, 12, 1), D(2019, 2, 28)),
                                               ("2018-07", D(2018, 4, 1), D(2018, 6, 30))])
def test_section_counts_on_the_synthetic_force_match_an_independent_count(force_engine, month, start, end):
    with Session(force_engine) as session:
        found = listed(session, month)
        want = independent_counts(session, start, end)
    assert (found.window_start, found.window_end) == (start, end)
    assert found.counts() == want
    assert want["repeat"] > 0 and want["repeat_victims"] > 0 and want["stalking"] > 0
