"""OGRS3 against the reference calculator's published vectors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from iom.scoring.ogrs3 import age_in_years, ogrs3, ogrs3_vector

#: ``shared/`` sits beside the repository (in CI too): found relative to it, never by an absolute path.
VECTORS = Path(__file__).resolve().parents[3] / "shared/reference/ogrs3/test-vectors.json"

CASES = [c for c in json.loads(VECTORS.read_text()) if c["execution"]]


def _args(case: dict) -> dict:
    d = dt.date.fromisoformat
    return dict(
        sex="F" if case["gender"] == 1 else "M",
        offence_category=case["currentOffenceType"],
        previous_sanctions=case["previousSanctions"],
        date_of_birth=d(case["birthDate"]),
        conviction_date=d(case["convictionDate"]),
        first_sanction_date=d(case["firstSanctionDate"]),
        assessment_date=d(case["assessmentDate"]),
    )


def test_every_executed_vector_matches_to_1e9():
    assert len(CASES) == 782
    misses = []
    for case in CASES:
        p1, p2 = ogrs3(**_args(case))
        if abs(p1 - case["output_ogrs3_year_1"]) > 1e-9 or abs(p2 - case["output_ogrs3_year_2"]) > 1e-9:
            misses.append(case["testNumber"])
    assert misses == []


def test_vectorised_form_agrees_with_the_scalar_one():
    args = [_args(c) for c in CASES]
    p1, p2 = ogrs3_vector(
        female=np.array([a["sex"] == "F" for a in args]),
        offence_category=np.array([a["offence_category"] for a in args]),
        previous_sanctions=np.array([a["previous_sanctions"] for a in args]),
        age_at_conviction=np.array([age_in_years(a["date_of_birth"], a["conviction_date"]) for a in args]),
        age_at_first_sanction=np.array([age_in_years(a["date_of_birth"], a["first_sanction_date"]) for a in args]),
        age_at_assessment=np.array([age_in_years(a["date_of_birth"], a["assessment_date"]) for a in args]),
    )
    np.testing.assert_allclose(p1, [c["output_ogrs3_year_1"] for c in CASES], atol=1e-9, rtol=0)
    np.testing.assert_allclose(p2, [c["output_ogrs3_year_2"] for c in CASES], atol=1e-9, rtol=0)


def test_spec_examples_from_the_reference_calculator():
    day = dt.date(2013, 3, 31)
    born = dt.date(1992, 6, 1)  # age 20
    first = ogrs3(sex="M", offence_category=0, previous_sanctions=0, date_of_birth=born,
                  conviction_date=day, first_sanction_date=day, assessment_date=day)
    assert first == pytest.approx((0.12161553504714574, 0.22130521140511314), abs=1e-12)
    second = ogrs3(sex="M", offence_category=0, previous_sanctions=1, date_of_birth=born,
                   conviction_date=day, first_sanction_date=day, assessment_date=day)
    assert second == pytest.approx((0.3158120100020924, 0.48651769565917), abs=1e-12)


def test_bad_inputs_are_refused():
    day = dt.date(2013, 3, 31)
    with pytest.raises(ValueError, match="sex"):
        ogrs3(sex="U", offence_category=0, previous_sanctions=0, date_of_birth=dt.date(1990, 1, 1),
              conviction_date=day, first_sanction_date=day, assessment_date=day)
    with pytest.raises(ValueError, match="age 10"):
        ogrs3(sex="M", offence_category=0, previous_sanctions=0, date_of_birth=dt.date(2005, 1, 1),
              conviction_date=day, first_sanction_date=day, assessment_date=day)
