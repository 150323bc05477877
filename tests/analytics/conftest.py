"""A tiny register, small enough to work every measure out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from iom.cohorts.models import CohortMembership, ManagementRecord
from iom.register.models import Crime, Person

D = dt.date
BURGLARY, DAMAGE = "028/01", "058/09"  # domestic_burglary £5,930; criminal_damage £1,350


def build_small_register(engine) -> None:
    with Session(engine) as s:
        for pid, npu in ((1, "WS"), (2, "WS"), (3, "CV"), (4, "CV"), (5, "BN")):
            s.add(Person(id=pid, pseudo_id=f"P{pid}", source_id=f"S{pid}", given_name="A", family_name="B",
                         date_of_birth=D(1990, 1, 1), sex="M", ethnicity="W_BRI", home_npu=npu))
        s.flush()
        for i, (pid, code, adopted, exited) in enumerate((
            (1, "BURGLARY", D(2017, 1, 1), None),
            (2, "MSV", D(2017, 6, 1), D(2018, 6, 1)),
            (3, "BURGLARY", D(2017, 3, 1), None),
            (3, "PPO", D(2017, 3, 1), None),
            (5, "MSV", D(2018, 1, 1), None),
        )):
            s.add(CohortMembership(person_id=pid, classification_code=code, adopted_on=adopted, exited_on=exited))
        for pid, kind, lomu in ((1, "Core", "LWS"), (2, "Risk", "LWS"), (3, "Core", "LCV"), (5, "Core", "LBM")):
            s.add(ManagementRecord(person_id=pid, effective_from=D(2017, 1, 1), offender_type=kind,
                                   lead_agency="Police", lomu_code=lomu))
        crimes = [
            # person, offence, committed, recorded, outcome, outcome_on
            (1, BURGLARY, D(2017, 12, 1), D(2017, 12, 2), "charge", D(2018, 2, 1)),  # recorded + proven
            (1, DAMAGE, D(2018, 5, 1), D(2018, 5, 1), "nfa", None),  # recorded only
            (1, DAMAGE, D(2016, 12, 15), D(2016, 12, 15), "nfa", None),  # before adoption
            (2, DAMAGE, D(2017, 3, 1), D(2017, 3, 1), "nfa", None),  # before adoption
            (2, DAMAGE, D(2018, 8, 15), D(2018, 8, 15), "caution", D(2018, 8, 20)),  # after exit; proven
            (3, BURGLARY, D(2018, 9, 1), D(2018, 9, 2), "charge", D(2019, 4, 15)),  # proven too late
            (4, BURGLARY, D(2019, 3, 30), D(2019, 3, 31), "pending", None),  # not in cohort; sets as-of
        ]
        for i, (pid, code, committed, recorded, outcome, outcome_on) in enumerate(crimes):
            s.add(Crime(source_id=f"C{i}", person_id=pid, involvement="offender", committed_on=committed,
                        recorded_on=recorded, offence_code=code, npu_code="WS", outcome=outcome, outcome_on=outcome_on))
        s.commit()


@pytest.fixture
def small_engine(fresh_engine):
    build_small_register(fresh_engine)
    return fresh_engine
