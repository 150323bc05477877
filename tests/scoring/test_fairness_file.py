"""`iom fairness --file`: rates by group from a file with known counts, intervals, disparities
flagged only where the intervals support them, refusals in words, and the same code as the
register's audit."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from iom.errors import UserError
from iom.scoring.fairness import audit, file_audit, path_audit

#: Per group: (people, reoffended, selected among those who reoffended, selected among those who did not).
KNOWN = {"A": (1000, 400, 300, 120), "B": (500, 250, 150, 100)}


def rows_for(group: str, people: int, reoffended: int, tp: int, fp: int) -> list[dict]:
    """Rows with exactly these counts; scores spread so each band of score holds both outcomes."""
    out = []
    for i in range(people):
        did = i < reoffended
        chosen = i < tp if did else i - reoffended < fp
        k = i if did else i - reoffended
        score = 0.5 + (k % 49) / 100 if chosen else 0.01 + (k % 48) / 100
        out.append({"group": group, "risk": f"{score:.2f}", "reoffended": int(did)})
    return out


def write(path: Path, rows: list[dict], columns=("group", "risk", "reoffended")) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def known_file(tmp_path: Path) -> Path:
    return write(tmp_path / "known.csv", [r for g, counts in KNOWN.items() for r in rows_for(g, *counts)])


def iom(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "IOM_DATABASE_URL": "sqlite:////nonexistent/never-opened.db"}  # --file needs no database
    return subprocess.run([sys.executable, "-m", "iom.cli", *args], capture_output=True, text=True, env=env, timeout=300)


def wilson(k: int, n: int) -> tuple[float, float]:
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def test_the_command_reproduces_known_rates_by_group_with_their_intervals(tmp_path):
    page = tmp_path / "fairness.html"
    done = iom("fairness", "--file", str(known_file(tmp_path)), "--group-col", "group", "--score-col", "risk",
               "--threshold", "0.5", "--outcome-col", "reoffended", "--json", "--html", str(page))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout[done.stdout.index("{"):])
    assert report["people"] == 1500 and report["selected"] == 420 + 250 and report["threshold"] == 0.5
    groups = {g["group"]: g for g in report["attributes"]["group"]["groups"]}
    for name, (people, reoffended, tp, fp) in KNOWN.items():
        g = groups[name]
        expected = {"selection_rate": (tp + fp, people), "false_positive_rate": (fp, people - reoffended),
                    "false_negative_rate": (reoffended - tp, reoffended), "positive_predictive_value": (tp, tp + fp),
                    "observed_rate": (reoffended, people)}
        for field, (k, n) in expected.items():
            rate = g[field]
            assert (rate["events"], rate["n"]) == (k, n), (name, field)
            assert rate["value"] == pytest.approx(k / n, abs=1e-12), (name, field)
            assert (rate["low"], rate["high"]) == pytest.approx(wilson(k, n), abs=1e-12), (name, field)
    # A: FPR 20%, FNR 25%; B: FPR 40%, FNR 40%, both large: the gap in false positives is flagged.
    assert groups["A"]["false_positive_rate"]["value"] == 0.2 and groups["B"]["false_positive_rate"]["value"] == 0.4
    assert report["attributes"]["group"]["reference"] == "A"
    assert any(f.startswith("False positives: 40% (95% 34% to 46%) of group B who did not reoffend were selected")
               and "does not include zero" in f for f in report["flags"]), report["flags"]
    html = page.read_text()
    assert "<h1>Selection fairness audit</h1>" in html and "known.csv" in html and "By group" in html
    assert "Calibration by group" in html


def test_zero_of_thirty_against_one_percent_of_five_thousand_is_not_a_disparity_but_a_clear_gap_is():
    rows = ([{"group": "big", "risk": "0.9" if i < 50 else "0.1", "reoffended": int(i % 5 == 0)} for i in range(5000)]
            + [{"group": "thirty", "risk": "0.1", "reoffended": int(i % 5 == 0)} for i in range(30)]
            + [{"group": "clear", "risk": "0.9" if i < 90 else "0.1", "reoffended": int(i % 5 == 0)} for i in range(300)])
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["group", "risk", "reoffended"])
    writer.writeheader()
    writer.writerows(rows)
    report = file_audit(io.BytesIO(text.getvalue().encode()), source="gap.csv", group_cols=["group"], score_col="risk",
                        outcome_col="reoffended", threshold=0.5)
    attr = report.attributes["group"]
    groups = {g.group: g for g in attr.groups}
    assert attr.reference == "big" and groups["thirty"].judged and groups["thirty"].selection_rate.value == 0
    assert groups["big"].selection_rate.value == 0.01
    assert not any("group thirty" in f for f in report.flags), report.flags
    assert any(n.startswith("Selection: 0% (95% 0% to 11%) of group thirty were selected, against 1.0% (95% 0.8% to 1.3%)")
               and "could be chance" in n for n in attr.unsupported), attr.unsupported
    assert any(f.startswith("Selection: 30% (95% 25% to 35%) of group clear were selected, against 1.0%")
               for f in report.flags), report.flags


def test_a_group_under_the_minimum_size_is_shown_not_judged(tmp_path):
    rows = [r for g, counts in KNOWN.items() for r in rows_for(g, *counts)]
    rows += [{"group": "few", "risk": "0.9", "reoffended": 0} for _ in range(10)]  # everyone selected, nobody reoffended
    report = path_audit(write(tmp_path / "few.csv", rows), group_cols=["group"], score_col="risk",
                        outcome_col="reoffended", threshold=0.5)
    attr = report.attributes["group"]
    assert attr.too_small == ["few"] and not any("few" in f for f in report.flags + attr.unsupported)
    few = next(g for g in attr.groups if g.group == "few")
    assert not few.judged and few.selection_rate.value == 1 and few.false_positive_rate.value == 1


def test_calibration_by_band_flags_a_score_that_means_more_risk_for_one_group(tmp_path):
    rng = np.random.default_rng(5)
    rows = []
    for group, lift, people in (("A", 0.0, 4000), ("B", 0.25, 2000)):
        scores = rng.integers(1, 11, people)  # ten values: read by value, as COMPAS's decile scores
        observed = rng.random(people) < np.clip(scores / 14 + lift, 0, 1)
        rows += [{"group": group, "risk": int(s), "reoffended": int(o)} for s, o in zip(scores, observed)]
    report = path_audit(write(tmp_path / "calibration.csv", rows), group_cols=["group"], score_col="risk",
                        outcome_col="reoffended", threshold=5)
    attr = report.attributes["group"]
    assert not report.score_is_probability and {c.band for c in attr.calibration} == set(range(1, 11))
    assert sum(c.people for c in attr.calibration) == 6000
    cal = [f for f in attr.flags if f.startswith("Calibration at score ")]
    assert len(cal) >= 8 and all("of group B reoffended" in f for f in cal), attr.flags
    # The same data without the lift: no calibration flag.
    flat = [dict(r, reoffended=int(rng.random() < int(r["risk"]) / 14)) for r in rows]
    again = path_audit(write(tmp_path / "flat.csv", flat), group_cols=["group"], score_col="risk",
                       outcome_col="reoffended", threshold=5)
    assert not any(f.startswith("Calibration at") for f in again.flags), again.flags


def test_the_file_audit_and_the_register_audit_are_one_computation(tmp_path):
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"score": np.round(rng.random(3000), 3), "g": rng.choice(["x", "y", "z"], 3000, p=[0.6, 0.3, 0.1])})
    frame["observed"] = (rng.random(3000) < frame["score"]).astype(int)
    frame["selected"] = (frame["score"] >= 0.6).astype(int)
    direct = audit(frame, attributes={"g": "g"})
    path = tmp_path / "same.csv"
    frame.rename(columns={"score": "risk", "observed": "reoffended"})[["g", "risk", "reoffended"]].to_csv(path, index=False)
    from_file = path_audit(path, group_cols=["g"], score_col="risk", outcome_col="reoffended", threshold=0.6)
    drop = {"source", "threshold", "config_version"}
    assert from_file.model_dump(exclude=drop) == direct.model_dump(exclude=drop)


@pytest.mark.parametrize(("content", "options", "words"), [
    (b"", {}, "empty.csv is empty: it needs a header row"),
    (b"group,risk,reoffended\n", {}, "has a header but no rows to audit"),
    (b"group,risk,reoffended\nA,0.4,1\n", {"score_col": "score"}, "has no column 'score' (its columns: group, risk, reoffended)"),
    (b"group,risk,reoffended\nA,0.4,1\nB,high,0\n", {}, "line 3: the score column 'risk' holds 'high', not a number"),
    (b"group,risk,reoffended\nA,,1\n", {}, "line 2: the score column 'risk' is empty"),
    (b"group,risk,reoffended\nA,0.4,1\nA,0.3,2\n", {}, "line 3: the outcome column 'reoffended' holds '2'; it must be 0"),
    (b"group,risk,reoffended\nA,0.4\n", {}, "line 2: 2 fields where the header has 3"),
    (b"group,risk,risk,reoffended\nA,0.4,0.4,1\n", {}, "names the column 'risk' 2 times"),
    (b"group,risk,reoffended\nA,0.4,1\n", {"reference": "Z"}, "no group 'Z' to compare with"),
])
def test_a_bad_file_is_refused_in_words(content, options, words):
    name = "empty.csv" if not content else "bad.csv"
    given = {"group_cols": ["group"], "score_col": "risk", "outcome_col": "reoffended", "threshold": 0.5, **options}
    with pytest.raises(UserError, match=words.replace("(", r"\(").replace(")", r"\)")):
        file_audit(io.BytesIO(content), source=name, **given)


def test_the_command_refuses_a_bad_file_in_one_line_and_exits_non_zero(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("group,risk,reoffended\nA,0.4,1\nB,high,0\n")
    done = iom("fairness", "--file", str(bad), "--group-col", "group", "--score-col", "risk", "--threshold", "0.5",
               "--outcome-col", "reoffended")
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.strip().splitlines() == ["error: bad.csv line 3: the score column 'risk' holds 'high', not a number"]
    missing = iom("fairness", "--file", str(bad), "--group-col", "group", "--score-col", "risk")
    assert missing.returncode != 0 and "--file needs --threshold, --outcome-col too" in missing.stderr
