"""Referral fixtures: the web's sample with one user per role, plus people who meet or break
each kind of provider rule, and a way to run the real `iom` command in a subprocess."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from iom.casework.models import NeedRating, NeedsAssessment
from iom.cohorts.models import ManagementRecord
from iom.db import session_scope
from iom.register.models import Person, VulnerabilityMarker
from iom.synth import sample

# The web's fixtures (a migrated database with the sample, users, signed-in clients).
from tests.web.conftest import _fast_argon2, app, login, password_hash, people, web_db  # noqa: F401

AS_OF = sample.AS_OF
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class Cast:
    """People (ids) chosen for what the rules look at, all in the LBM LOMU's scope unless said."""

    youth: int            # 17 on AS_OF, lives in BW
    turns_18: int         # 18 on AS_OF exactly (birthday that day), lives in BW
    walsall: int          # adult living in WS (LWS: outside LBM's scope)
    moved: int            # adult living in WS but managed by LBM (the sample's "moved")
    bw_adult: int         # adult man living in BW
    woman: int            # adult woman living in BN
    smi: int              # adult in BE with a current SMI_REGISTER marker
    smi_ended: int        # adult in BE whose SMI_REGISTER marker ended before AS_OF
    mental_health: int    # adult in BE with a MENTAL_HEALTH marker only
    multiple_needs: int   # adult in BS: drugs severe, accommodation standard
    one_need: int         # adult in BS: drugs standard only (the rest none)
    old_needs: int        # adult in BS: two needs in an old assessment, none in the latest


def _person(session, n: int, *, born: dt.date, sex: str = "M", npu: str = "BN") -> int:
    p = Person(pseudo_id=f"REF{n:04d}", source_id=f"referrals-{n}", given_name="Test", family_name=f"Referral{n}",
               date_of_birth=born, sex=sex, ethnicity="W_BRI", home_npu=npu)
    session.add(p)
    session.flush()
    return p.id


def _assessment(session, person_id: int, on: dt.date, ratings: dict[str, str]) -> None:
    a = NeedsAssessment(person_id=person_id, assessed_on=on, assessor="test", pathways_version="pathways-v1")
    session.add(a)
    session.flush()
    for pathway in ("accommodation", "health", "drugs", "alcohol", "ete"):
        session.add(NeedRating(assessment_id=a.id, pathway=pathway, level=ratings.get(pathway, "none")))


@pytest.fixture
def cast(web_db, people) -> Cast:  # noqa: F811
    engine, _ = web_db
    adult = dt.date(1985, 5, 5)
    with session_scope(engine) as session:
        c = Cast(
            youth=_person(session, 1, born=dt.date(2001, 4, 1), npu="BW"),
            turns_18=_person(session, 2, born=dt.date(2001, 3, 31), npu="BW"),
            walsall=people.walsall, moved=people.moved,
            bw_adult=_person(session, 3, born=adult, npu="BW"),
            woman=_person(session, 4, born=adult, sex="F", npu="BN"),
            smi=_person(session, 5, born=adult, npu="BE"),
            smi_ended=_person(session, 6, born=adult, npu="BE"),
            mental_health=_person(session, 7, born=adult, npu="BE"),
            multiple_needs=_person(session, 8, born=adult, npu="BS"),
            one_need=_person(session, 9, born=adult, npu="BS"),
            old_needs=_person(session, 10, born=adult, npu="BS"),
        )
        for pid, marker, start, end in ((c.smi, "SMI_REGISTER", dt.date(2017, 1, 1), None),
                                        (c.smi, "MENTAL_HEALTH", dt.date(2016, 1, 1), None),
                                        (c.smi_ended, "SMI_REGISTER", dt.date(2017, 1, 1), dt.date(2019, 1, 1)),
                                        (c.mental_health, "MENTAL_HEALTH", dt.date(2016, 1, 1), None)):
            session.add(VulnerabilityMarker(person_id=pid, marker=marker, started_on=start, ended_on=end, source="test"))
        _assessment(session, c.multiple_needs, dt.date(2019, 2, 1), {"drugs": "severe", "accommodation": "standard"})
        _assessment(session, c.one_need, dt.date(2019, 2, 1), {"drugs": "standard"})
        _assessment(session, c.old_needs, dt.date(2018, 1, 1), {"drugs": "severe", "alcohol": "severe"})
        _assessment(session, c.old_needs, dt.date(2019, 1, 1), {})
        # Everyone new is managed by LBM, so LBM's users see them wherever they live.
        for pid in (c.youth, c.turns_18, c.bw_adult, c.woman, c.smi, c.smi_ended, c.mental_health, c.multiple_needs,
                    c.one_need, c.old_needs):
            session.add(ManagementRecord(person_id=pid, effective_from=dt.date(2018, 6, 1), offender_type="Core",
                                         lead_agency="Police", lomu_code="LBM", officer="PC Test"))
    return c


@pytest.fixture
def iom(scratch_db, cast):
    """``iom(*args)`` -> the real command's CompletedProcess on this test's database, as of the sample's date."""

    def run(*args: str, check: bool = False) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])]),
               "COLUMNS": "200"}
        done = subprocess.run([sys.executable, "-m", "iom.cli", "--db", scratch_db.url, *args], capture_output=True,
                              text=True, env=env, timeout=120)
        if check:
            assert done.returncode == 0, done.stderr
        return done

    return run
