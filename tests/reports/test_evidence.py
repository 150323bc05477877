"""The report's verdicts follow the evidence hierarchy: no bold verdict on an unmatched
comparison; where matched and unmatched disagree the section says so and why; the cost
avoided per day carries its interval and the regression-to-the-mean caveat."""

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from iom.analytics.sample import random_register
from iom.analytics.source import from_frames
from iom.evaluation.service import evaluate_frame
from iom.reports.service import adoption_section, comparison_section, programme_section

VERDICTS = "significant reduction|significant increase|no significant difference|too small to evaluate"
BOLD_VERDICT = re.compile(rf"<b>({VERDICTS})</b>( \((\w+) comparison)?")


def bold_verdicts(paragraphs) -> list[tuple[str, str]]:
    """(verdict, design) for every bold verdict in the paragraphs."""
    return [(m.group(1), m.group(3)) for p in paragraphs for m in BOLD_VERDICT.finditer(p)]


def disagreeing_frame(seed: int = 4, n: int = 4000) -> pd.DataFrame:
    """Adoption chosen for prior offending, reoffending from prior offending alone: unmatched,
    the adopted reoffend far more; matched on prior offending, the gap closes."""
    rng = np.random.default_rng(seed)
    prior = rng.poisson(2.0, n)
    adopted = rng.random(n) < 1 / (1 + np.exp(-(prior - 5.0)))
    reoffended = (rng.random(n) < 1 / (1 + np.exp(-(prior - 3.0) * 0.8))).astype(int)
    return pd.DataFrame({"group": np.where(adopted, "adopted", "not adopted"), "reoffended": reoffended,
                         "days": np.where(reoffended == 1, rng.integers(1, 365, n), 365).astype(float),
                         "log_prior": np.log1p(prior), "age": rng.integers(18, 60, n)})


def test_matched_and_unmatched_disagree_and_the_report_says_which_to_read():
    frame = disagreeing_frame()
    result = evaluate_frame(frame, group_col="group", control="not adopted", event_col="reoffended",
                            time_col="days", covariates=["log_prior", "age"],
                            selection="people are adopted at a peak of their offending")
    raw = result.comparison("adopted")
    assert raw.p_value < 0.001 and raw.difference < -0.2  # unmatched: a large, "significant" increase
    s = comparison_section("Programme: constructed", frame, result, source="test")
    found = bold_verdicts(s.paragraphs)
    assert found and all(design == "matched" for _, design in found)
    assert ("significant increase", "matched") not in found
    text = " ".join(s.paragraphs)
    assert "significant increase" not in text  # the unmatched gap is described, never a verdict
    unmatched = next(p for p in s.paragraphs if p.startswith("Unmatched, descriptive"))
    assert "<b>" not in unmatched and "more per 100" in unmatched
    reconciled = next(p for p in s.paragraphs if p.startswith("The designs disagree"))
    assert "matched comparison is the one to read" in reconciled and "peak of their offending" in reconciled
    assert s.headline.startswith(result.headline("adopted").verdict + " (matched comparison")


def test_without_matching_the_section_gives_no_bold_verdict():
    frame = disagreeing_frame()
    result = evaluate_frame(frame, group_col="group", control="not adopted", event_col="reoffended")
    s = comparison_section("Programme: unmatched only", frame, result, source="test")
    assert bold_verdicts(s.paragraphs) == []
    assert s.paragraphs[0].startswith("Descriptive only (all adopted against all not adopted")
    assert s.headline.startswith("descriptive (unmatched comparison")


@pytest.fixture(scope="module")
def con():
    return from_frames(random_register(seed=2, people=1500))


@pytest.mark.parametrize("name", ["oocd-vs-charge", "iom-ppo"])
def test_every_programme_verdict_comes_from_a_matched_or_randomised_comparison(con, name):
    s = programme_section(con, name=name, as_of=dt.date(2018, 12, 31))
    found = bold_verdicts(s.paragraphs)
    assert found, s.paragraphs
    assert all(design in ("matched", "randomised") for _, design in found)
    assert any(p.startswith("Unmatched, descriptive") and "<b>" not in p for p in s.paragraphs)
    assert s.headline.startswith(f"{name}: ")


def test_the_board_report_has_no_bold_verdict_on_an_unmatched_comparison(report_path):
    text = report_path.read_text(encoding="utf-8")
    found = [(m.group(1), m.group(3)) for m in BOLD_VERDICT.finditer(text)]
    assert found and all(design in ("matched", "randomised") for _, design in found)


def test_the_cost_avoided_has_an_interval_and_the_caveat(con):
    s = adoption_section(con, as_of=dt.date(2018, 12, 31))
    head = re.search(r"<b>(−?£[\d,]+)</b> \(95% range (−?£[\d,]+) to (−?£[\d,]+)", s.paragraphs[0])
    assert head, s.paragraphs[0]
    point, lower, upper = (float(v.replace("£", "").replace(",", "").replace("−", "-")) for v in head.groups())
    assert lower <= point <= upper and lower < upper
    assert "95% range" in s.headline and "regression to the mean" in s.headline
    assert any("regression to the mean" in p for p in s.paragraphs)
    assert any(p.startswith("Why this is not the 2015 paper") for p in s.paragraphs)
    assert any("in shape only" in p and "against the paper" in p for p in s.paragraphs)
    assert len(s.tables) == 2 and "offenders (paper)" in s.tables[1]
