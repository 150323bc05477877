"""`iom measures --by lead_agency` and `--by supervision`: groups that add up to the cohort,
counted independently, on the tiny register and on the shared synthetic force."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.analytics.service import SUPERVISION, default_start, reoffending_measures
from iom.analytics.source import connect
from iom.cohorts.models import LEAD_AGENCIES, CohortMembership, ManagementRecord


def test_every_lead_agency_has_a_supervision_kind():
    assert set(SUPERVISION) == set(LEAD_AGENCIES)
    assert set(SUPERVISION.values()) == {"statutory", "non-statutory"}
    assert SUPERVISION["Police"] == "non-statutory"


def _counts(frame) -> dict[str, int]:
    return frame.set_index("group")["offenders"].to_dict()


def test_on_the_tiny_register(small_engine):
    # Person 3 passes to the National Probation Service before the index date (2017-09-30).
    with Session(small_engine) as s:
        s.add(ManagementRecord(person_id=3, effective_from=dt.date(2017, 6, 1), offender_type="Core",
                               lead_agency="National Probation Service", lomu_code="LCV"))
        s.commit()
    con = connect(engine=small_engine)
    assert _counts(reoffending_measures(con, by="lead_agency")) == {"National Probation Service": 1, "Police": 2}
    assert _counts(reoffending_measures(con, by="supervision")) == {"non-statutory": 2, "statutory": 1}


def test_the_command_groups_by_supervision(scratch_db, small_engine):
    result = subprocess.run([sys.executable, "-m", "iom.cli", "--db", scratch_db.url, "measures", "--by", "supervision",
                             "--json"], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert {r["group"]: r["offenders"] for r in json.loads(result.stdout)} == {"non-statutory": 3}
    helped = subprocess.run([sys.executable, "-m", "iom.cli", "measures", "--help"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert "non-statutory when the police lead" in " ".join(helped.stdout.split())


@pytest.fixture(scope="module")
def force_con(force_engine):
    return connect(engine=force_engine, scope="cohort")


@pytest.mark.parametrize("by", ["lead_agency", "supervision"])
def test_on_the_synthetic_force_groups_match_an_independent_count(force_engine, force_con, by):
    start = default_start(force_con)
    frame = reoffending_measures(force_con, by=by, start=start)
    with Session(force_engine) as s:
        members = {pid for pid, in s.execute(select(CohortMembership.person_id).where(
            CohortMembership.adopted_on <= start,
            CohortMembership.exited_on.is_(None) | (CohortMembership.exited_on >= start)))}
        latest: dict[int, tuple[dt.date, str]] = {}
        for pid, since, agency in s.execute(select(ManagementRecord.person_id, ManagementRecord.effective_from,
                                                   ManagementRecord.lead_agency)
                                            .where(ManagementRecord.effective_from <= start)):
            if pid not in latest or since > latest[pid][0]:
                latest[pid] = (since, agency)
    agency = {pid: latest[pid][1] if pid in latest else "unknown" for pid in members}
    expected = Counter(agency.values() if by == "lead_agency" else (SUPERVISION.get(a, "unknown") for a in agency.values()))
    assert _counts(frame) == dict(expected)
    assert frame["offenders"].sum() == len(members) == reoffending_measures(force_con, by="force", start=start)["offenders"].sum()
    assert len(expected) >= 2  # the force has more than one kind


def test_a_parquet_export_gives_the_same_groups(small_engine, tmp_path):
    from iom.register.export import export_database

    export_database(small_engine, tmp_path / "export")
    for by in ("lead_agency", "supervision"):
        from_db = reoffending_measures(connect(engine=small_engine), by=by)
        assert from_db.equals(reoffending_measures(connect(parquet_dir=tmp_path / "export"), by=by)), by
