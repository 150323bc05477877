"""Fairness audit of the register's selection: a planted disparity is flagged in words; JSON and HTML outputs."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from iom.errors import UserError
from iom.scoring.fairness import age_band, audit, fairness_audit, render_html


def planted(seed: int = 3, *, disparity: bool = True) -> pd.DataFrame:
    """2,400 people; ethnicity B is selected at a third of A's rate when ``disparity``."""
    rng = np.random.default_rng(seed)
    n = 2400
    eth = np.where(np.arange(n) % 2 == 0, "A", "B")
    observed = (rng.random(n) < 0.3).astype(int)
    rate = np.where((eth == "B") & disparity, 0.1, 0.3)
    return pd.DataFrame({
        "selected": (rng.random(n) < rate).astype(int), "observed": observed,
        "score": np.clip(0.3 + rng.normal(0, 0.05, n), 0, 1),
        "ethnicity": eth, "sex": np.where(np.arange(n) % 3 == 0, "F", "M"), "age_band": age_band(rng.integers(18, 60, n)),
    })


def test_planted_disparity_is_flagged_in_words():
    report = audit(planted())
    eth = report.attributes["ethnicity"]
    assert any(f.startswith("Selection:") and "ethnicity B were selected" in f and "does not include zero" in f
               for f in eth.flags)
    assert not any("Selection" in f for f in report.attributes["sex"].flags)
    groups = {g.group: g for g in eth.groups}
    assert groups["B"].selection_rate.value < 0.5 * groups["A"].selection_rate.value
    assert groups["B"].selection_rate.low < groups["B"].selection_rate.value < groups["B"].selection_rate.high
    json.dumps(report.model_dump(mode="json"))  # serialisable as is


def test_no_selection_flag_without_a_disparity():
    report = audit(planted(disparity=False))
    assert not any(f.startswith("Selection") for f in report.flags)


def test_html_renders_the_flags():
    report = audit(planted())
    html = render_html(report)
    assert "<h1>Selection fairness audit</h1>" in html and "By ethnicity" in html
    assert "of ethnicity B were selected" in html and "Compared with <strong>" in html


def test_small_groups_are_shown_but_not_judged():
    frame = planted()
    frame.loc[:9, "ethnicity"] = "C"
    frame.loc[:9, "selected"] = 0
    report = audit(frame)
    assert "C" in report.attributes["ethnicity"].too_small
    assert not any("ethnicity C" in f for f in report.flags)


def test_audit_on_the_register(db_session, small_register):
    report = fairness_audit(db_session, as_of=dt.date(2017, 9, 30))
    assert report.people > 0 and 0 < report.selected <= report.people
    assert set(report.attributes) == {"ethnicity", "sex", "age_band"}
    with pytest.raises(UserError, match="follow-up after 2019-03-31 is incomplete"):
        fairness_audit(db_session, as_of=dt.date(2019, 3, 31))


def test_audit_is_typed_with_a_summary():
    from iom.scoring.schemas import FairnessAudit

    report = audit(planted())
    assert isinstance(report, FairnessAudit)
    n = len(report.flags)
    assert n >= 2
    assert report.summary().startswith(f"Fairness audit: 2,400 scored, {report.selected:,} selected; "
                                       f"{n} disparities the intervals support. {report.flags[0]} (and {n - 1} more)")
    assert report.model_copy(update={"flags": []}).summary().endswith("; no disparity that the intervals support.")
    dumped = report.model_dump(mode="json")
    assert FairnessAudit.model_validate(dumped).model_dump(mode="json") == dumped
    assert list(dumped)[:8] == ["people", "selected", "ratio_threshold", "min_group_size", "calibration_tolerance",
                                "confidence", "attributes", "flags"]
