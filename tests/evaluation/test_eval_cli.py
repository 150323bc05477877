"""`iom evaluate` on a CSV: the JDL check as JSON, and bad input as a plain message, exit 2."""

import json
import subprocess
import sys

import pandas as pd
import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "iom.cli", *args], capture_output=True, text=True, timeout=120)


def run_in_process(monkeypatch, capsys, *args):
    """``iom`` as the entry point runs it, without a new interpreter: (exit code, stderr)."""
    from iom.cli import main

    monkeypatch.setattr(sys, "argv", ["iom", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


@pytest.fixture
def jdl_csv(tmp_path):
    rows = [("treated", 1)] * 22 + [("treated", 0)] * 50 + [("control", 1)] * 860 + [("control", 0)] * 1140
    frame = pd.DataFrame(rows, columns=["arm", "reoffended"])
    frame["days"] = [(i * 37) % 365 + 1 for i in range(len(frame))]
    frame["age"] = [18 + (i * 7) % 40 for i in range(len(frame))]
    frame["cost"] = frame["reoffended"] * 500_000
    path = tmp_path / "jdl.csv"
    frame.to_csv(path, index=False)
    return path


def test_jdl_check_json(jdl_csv):
    out = run("evaluate", str(jdl_csv), "--group-col", "arm", "--control", "control", "--event-col", "reoffended",
              "--time-col", "days", "--covariates", "age", "--cost-col", "cost", "--programme-cost", "1000", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    comp = result["comparisons"][0]
    assert comp["group"] == "treated"
    assert round(comp["difference_lower"] * 100) == 1
    assert round(comp["difference_upper"] * 100) in (22, 23)
    assert {c["group"] for c in result["survival"]["curves"]} == {"control", "treated"}
    assert result["matched"][0]["matched_pairs"] > 60
    assert {b["covariate"] for b in result["matched"][0]["balance"]} == {"age"}
    roi = result["roi"][0]
    # (43% − 30.6%) × £5,000 × 72 people ≈ £44,700 avoided for £1,000.
    assert roi["ratio"] == pytest.approx((0.43 - 22 / 72) * 5000 * 72 / 1000)
    assert roi["ratio_lower"] < roi["ratio"] < roi["ratio_upper"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--group-col", "nope", "--control", "control", "--event-col", "reoffended"], "column(s) not found: nope"),
        (["--group-col", "arm", "--control", "control", "--event-col", "age"], "must be binary"),
        (["--group-col", "arm", "--control", "nobody", "--event-col", "reoffended"], "has no members"),
    ],
)
def test_bad_input_exits_non_zero_without_traceback(jdl_csv, args, message, monkeypatch, capsys):
    code, err = run_in_process(monkeypatch, capsys, "evaluate", str(jdl_csv), *args)
    assert code == 2
    assert message in err.replace("\n", " ")
    assert "Traceback" not in err


def test_missing_file(tmp_path, monkeypatch, capsys):
    code, err = run_in_process(monkeypatch, capsys, "evaluate", str(tmp_path / "none.csv"), "--group-col", "a",
                               "--control", "b", "--event-col", "c")
    assert code == 2 and "file not found" in err


def test_missing_file_as_a_real_process(tmp_path):
    out = run("evaluate", str(tmp_path / "none.csv"), "--group-col", "a", "--control", "b", "--event-col", "c")
    assert out.returncode == 2 and "file not found" in out.stderr and "Traceback" not in out.stderr


def test_randomise_command_appends_to_the_log(tmp_path):
    from typer.testing import CliRunner

    from iom.cli import app

    referrals = tmp_path / "referrals.txt"
    referrals.write_text("R1\nR2\nR3\nR4\n")
    log = tmp_path / "alloc.jsonl"
    out = CliRunner().invoke(app, ["randomise", str(referrals), "--log", str(log), "--trial", "t", "--seed", "3"])
    assert out.exit_code == 0, out.output
    lines = log.read_text().splitlines()
    assert len(lines) == 4
    from iom.evaluation.randomise import block_allocations

    expected = [a["arm"] for a in block_allocations(["R1", "R2", "R3", "R4"], seed=3)]
    assert [json.loads(x)["arm"] for x in lines] == expected
    assert set(expected) == {"control", "treatment"}
