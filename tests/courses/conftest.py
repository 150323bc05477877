"""Course fixtures: one adult managed in the LBM LOMU with an alcohol-related assault (ARV's
kind of offence) and a domestic assault on his partner with a standard-risk DASH (CARA's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from iom.cohorts.models import ManagementRecord
from iom.db import session_scope
from iom.domestic_abuse.models import DashAssessment
from iom.register.models import Crime, Person

AS_OF = dt.date(2019, 3, 31)


@dataclass
class Case:
    person: int
    victim: int
    assault: int       # alcohol-related common assault, not DA: ARV's
    domestic: int      # domestic common assault on his partner: CARA's
    theft: int         # a theft: no course's


def make_crime(session, person: int, code: str, *, n: int, alcohol: bool = False, da: bool = False,
           victim: int | None = None, on: dt.date = dt.date(2019, 2, 1)) -> int:
    crime = Crime(source_id=f"course-{n}", person_id=person, involvement="offender", committed_on=on, recorded_on=on,
                  offence_code=code, npu_code="BN", outcome="pending", alcohol_related=alcohol, domestic_abuse=da,
                  victim_person_id=victim)
    session.add(crime)
    session.flush()
    return crime.id


@pytest.fixture
def case(fresh_engine) -> Case:
    with session_scope(fresh_engine) as session:
        people = []
        for n, sex in ((1, "M"), (2, "F")):
            p = Person(pseudo_id=f"COURSE{n:03d}", source_id=f"course-person-{n}", given_name="Test",
                       family_name=f"Course{n}", date_of_birth=dt.date(1985, 1, n), sex=sex, ethnicity="W_BRI",
                       home_npu="BN")
            session.add(p)
            session.flush()
            people.append(p.id)
        person, victim = people
        session.add(ManagementRecord(person_id=person, effective_from=dt.date(2018, 1, 1), offender_type="Core",
                                     lead_agency="Police", lomu_code="LBM", officer="PC Test"))
        found = Case(person=person, victim=victim,
                     assault=make_crime(session, person, "105/01", n=1, alcohol=True),
                     domestic=make_crime(session, person, "105/DA", n=2, da=True, victim=victim),
                     theft=make_crime(session, person, "028/01", n=3))
        session.add(DashAssessment(victim_person_id=victim, perpetrator_person_id=person, crime_id=found.domestic,
                                   assessed_on=dt.date(2019, 2, 2), relationship="intimate_partner", answers={},
                                   yes_count=4, band_by_count="standard", band="standard", rules_version="dash-v1",
                                   recorded_by="test"))
        return found
