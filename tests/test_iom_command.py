"""The `iom` command as a user meets it: help everywhere, plain errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def iom(*args: str, env_url: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "iom.cli"]
    if env_url:
        cmd += ["--db", env_url]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [["--help"], ["init", "--help"], ["synth", "--help"], ["summary", "--help"]])
def test_help(args):
    result = iom(*args)
    assert result.returncode == 0
    assert "Usage" in result.stdout


@pytest.mark.parametrize(
    "url, message",
    [("nosuchdb://x", "bad database URL"),
     ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot connect")],
)
def test_bad_database_url_is_a_plain_error(url, message):
    result = iom("summary", env_url=url)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_synth_on_an_uninitialised_database_says_what_to_do(scratch_db):
    result = iom("synth", "--people", "1000", env_url=scratch_db.url)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_init_synth_summary_round_trip(scratch_db):
    assert iom("init", env_url=scratch_db.url).returncode == 0
    synth = iom("synth", "--seed", "9", "--people", "1000", env_url=scratch_db.url)
    assert synth.returncode == 0, synth.stderr
    out = iom("summary", "--json", "--as-of", "2019-03-31", env_url=scratch_db.url)
    data = json.loads(out.stdout)
    assert data["current_members"] == round(6501 * 1000 / 20000)
    assert sum(data["risk"].values()) == data["current_members"]


@pytest.mark.parametrize("args", [["summary", "--as-of", "2019-02-30"], ["summary", "--bogus"], ["select"], []])
def test_usage_errors_are_one_plain_line_and_exit_2(scratch_db, args):
    result = iom(*args, env_url=scratch_db.url)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Error" in result.stderr


def test_a_bad_setting_is_named_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "IOM_DATABASE_URL"}
    result = subprocess.run([sys.executable, "-m", "iom.cli", "summary"], capture_output=True, text=True, cwd=tmp_path,
                            env={**env, "IOM_BATCH_SIZE": "abc"}, timeout=120)
    assert result.returncode == 2 and "IOM_BATCH_SIZE" in result.stderr and "Traceback" not in result.stderr


def test_replace_with_bad_arguments_leaves_the_data_alone(scratch_db):
    assert iom("init", env_url=scratch_db.url).returncode == 0
    assert iom("synth", "--seed", "3", "--people", "1000", env_url=scratch_db.url).returncode == 0
    before = json.loads(iom("summary", "--json", env_url=scratch_db.url).stdout)
    refused = iom("synth", "--replace", "--people", "5", env_url=scratch_db.url)
    assert refused.returncode == 2 and "at least 1,000" in refused.stderr
    assert json.loads(iom("summary", "--json", env_url=scratch_db.url).stdout) == before


@pytest.mark.parametrize("args, expected", [
    (["measures"], "run `iom init`"),
    (["measures", "--follow-up", "-3"], "--follow-up"),
    (["report", "--out", "{file}"], "cannot use"),
])
def test_more_bad_input_is_one_plain_line(scratch_db, tmp_path, args, expected):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory")
    if args[0] == "report":
        assert iom("init", env_url=scratch_db.url).returncode == 0
        assert iom("synth", "--people", "1000", env_url=scratch_db.url).returncode == 0
    result = iom(*[a.format(file=a_file) for a in args], env_url=scratch_db.url)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in " ".join(result.stderr.split())
