"""The evidence hierarchy: randomised, then matched; an unmatched comparison is described and
never gives the verdict; where designs disagree the evaluation says so and why."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from iom.errors import UserError
from iom.evaluation.binary import compare
from iom.evaluation.evidence import weigh
from iom.evaluation.service import evaluate_frame

VERDICT_WORDS = ("significant reduction", "significant increase", "no significant difference")


def confounded(seed: int = 4, n: int = 4000) -> pd.DataFrame:
    """Adoption chosen for prior offending; reoffending driven by prior offending alone, so the
    programme does nothing: unmatched, the adopted reoffend far more; matched, no difference."""
    rng = np.random.default_rng(seed)
    prior = rng.poisson(2.0, n)
    adopted = rng.random(n) < 1 / (1 + np.exp(-(prior - 5.0)))
    reoffended = (rng.random(n) < 1 / (1 + np.exp(-(prior - 3.0) * 0.8))).astype(int)
    return pd.DataFrame({"group": np.where(adopted, "adopted", "not adopted"), "reoffended": reoffended,
                         "days": np.where(reoffended == 1, rng.integers(1, 365, n), 365),
                         "log_prior": np.log1p(prior), "age": rng.integers(18, 60, n)})


@pytest.fixture(scope="module")
def frame():
    return confounded()


@pytest.fixture(scope="module")
def result(frame):
    return evaluate_frame(frame, group_col="group", control="not adopted", event_col="reoffended", time_col="days",
                          covariates=["log_prior", "age"], selection="adopted at a peak of offending")


def test_the_unmatched_comparison_is_described_and_the_matched_one_leads(result):
    raw = result.comparison("adopted")
    assert raw.design == "unmatched" and raw.verdict == "descriptive"
    assert raw.difference < -0.2 and raw.p_value < 0.001  # far more reoffend, unmatched
    assert not any(word in raw.statement for word in VERDICT_WORDS)
    assert raw.summary().startswith("adopted against control: descriptive: ")
    matched = result.matched[0].effect
    assert matched.design == "matched"
    # Like with like, the gap all but closes (the programme does nothing here).
    assert abs(matched.difference) < 0.1 and matched.verdict != "significant increase"
    head = result.headline("adopted")
    assert head.design == "matched" and head.verdict == matched.verdict
    assert head.headline.startswith(f"{matched.verdict} (matched comparison, ")
    assert [r.design for r in head.readings][:2] == ["unmatched", "matched"]
    assert not head.agree
    assert head.reconciliation.startswith("The designs disagree: the matched comparison (")
    assert "the unmatched comparison (all adopted against all not adopted" in head.reconciliation
    assert "adopted at a peak of offending" in head.reconciliation


def test_without_a_matched_comparison_there_is_no_verdict(frame):
    plain = evaluate_frame(frame, group_col="group", control="not adopted", event_col="reoffended")
    head = plain.headline("adopted")
    assert head.design == "unmatched" and head.verdict == "descriptive"
    assert head.headline.startswith("descriptive (unmatched comparison")
    assert not any(word in head.summary() for word in VERDICT_WORDS)


def test_a_randomised_comparison_leads_and_keeps_its_verdict(frame):
    trial = evaluate_frame(frame, group_col="group", control="not adopted", event_col="reoffended",
                           covariates=["log_prior"], design="randomised")
    head = trial.headline("adopted")
    assert trial.comparison("adopted").verdict == "significant increase"
    assert head.design == "randomised" and head.verdict == "significant increase"
    # The matched comparison disagrees; the randomised one is still what to read.
    assert not head.agree and "Randomisation made the groups alike" in head.reconciliation


def test_designs_that_agree_need_no_reconciliation():
    raw = compare(30, 200, 90, 300, design="randomised")
    head = weigh(group="g", raw=raw, raw_label="all g against all control")
    assert head.agree and head.reconciliation is None and head.verdict == "significant reduction"


def test_an_unknown_design_is_refused_in_words(frame):
    with pytest.raises(UserError, match="unknown design 'quasi'"):
        evaluate_frame(frame, group_col="group", control="not adopted", event_col="reoffended", design="quasi")


def run(*args):
    return subprocess.run([sys.executable, "-m", "iom.cli", *args], capture_output=True, text=True, timeout=180)


def test_iom_evaluate_prints_the_design_and_the_headline(frame, tmp_path):
    path = tmp_path / "confounded.csv"
    frame.to_csv(path, index=False)
    args = ["evaluate", str(path), "--group-col", "group", "--control", "not adopted", "--event-col", "reoffended",
            "--covariates", "log_prior,age"]
    out = run(*args)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "design: unmatched" in text
    assert "descriptive (unmatched): " in text
    assert "Headline for adopted: " in text and "(matched comparison, " in text
    assert "The designs disagree" in text
    assert "significant increase" not in text  # the unmatched gap is never said as a verdict
    out = run(*args, "--json")
    assert out.returncode == 0, out.stderr
    dumped = json.loads(out.stdout)
    assert dumped["design"] == "unmatched"
    assert dumped["comparisons"][0]["verdict"] == "descriptive"
    assert dumped["evidence"][0]["design"] == "matched" and dumped["evidence"][0]["reconciliation"]
    randomised = run(*args[:-2], "--design", "randomised")
    assert randomised.returncode == 0, randomised.stderr
    assert "Headline for adopted: significant increase (randomised comparison" in " ".join(randomised.stdout.split())
