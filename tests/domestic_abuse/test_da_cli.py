"""`iom da` as a user runs it: the list's JSON and CSV on a synthetic force, the DASH refusal
as one line with exit 2, MARAC, SARA from a file, the pilot cohort and a DRIVE referral, each
audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from iom.cli import app
from iom.db import session_scope
from iom.security import audit
from iom.synth import sample

from tests.domestic_abuse.test_da_list import independent_counts
from tests.domestic_abuse.test_da_records import QUESTIONS
from tests.mappa.conftest import run_iom

runner = CliRunner()


def inline(url: str, *args: str) -> str:
    done = runner.invoke(app, ["--db", url, *args], standalone_mode=False, catch_exceptions=True)
    assert done.exception is None, f"{done.output}\n{done.exception!r}"
    return done.output


def test_the_list_as_json_and_csv_matches_an_independent_count(force_db, force_engine, tmp_path):
    out = tmp_path / "list.csv"
    done = run_iom(force_db.url, "da", "list", "--month", "2019-03", "--json", "--csv", str(out), "--user", "da-cli")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    with Session(force_engine) as session:
        want = independent_counts(session, dt.date(2018, 12, 1), dt.date(2019, 2, 28))
        logged = [e for e in audit.search(session, username="da-cli") if e.resource == "da_list"]
    assert {s["code"]: s["count"] for s in body["sections"]} == want
    assert {s["code"]: len(s["rows"]) for s in body["sections"]} == want
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == sum(want.values())
    assert {r["section"] for r in rows} <= set(want)
    first = body["sections"][1]["rows"][0]
    assert next(r for r in rows if r["section"] == "repeat" and r["rank"] == "1")["pseudo_id"] == first["pseudo_id"]
    assert len(logged) == 1 and logged[0].action == "search"
    everyone = {r["person_id"] for s in body["sections"] for r in s["rows"]}
    assert set(json.loads(logged[0].detail)["people"]) == everyone
    summary = run_iom(force_db.url, "da", "list", "--month", "2019-03", "--summary", "--user", "da-cli")
    assert summary.returncode == 0 and summary.stdout.count("\n") == 1
    assert f"{want['repeat']:,} repeat perpetrators" in summary.stdout


@pytest.fixture
def sample_db(scratch_db, fresh_engine):
    with session_scope(fresh_engine) as session:
        people = sample.build(session)
        pseudo = {p: f"PSEUDO{n:04d}" for n, p in enumerate((people.birmingham, people.walsall, people.restricted,
                                                              people.victim, people.moved), 1)}
    return scratch_db.url, fresh_engine, people, pseudo


def test_a_dash_lowered_by_judgement_is_refused_in_one_line(sample_db):
    url, _, people, pseudo = sample_db
    yes = ",".join(QUESTIONS[:14])
    done = run_iom(url, "da", "dash", pseudo[people.victim], "--perpetrator", pseudo[people.moved], "--relationship",
                   "intimate_partner", "--yes", yes, "--judgement", "medium", "--reason", "she says it is better")
    assert done.returncode == 2
    assert done.stdout == "" and done.stderr.count("\n") <= 2  # one message (a terminal may wrap it)
    assert "never lower it" in done.stderr and "Traceback" not in done.stderr
    made = run_iom(url, "da", "dash", pseudo[people.victim], "--perpetrator", pseudo[people.moved], "--relationship",
                   "intimate_partner", "--yes", yes)
    assert made.returncode == 0, made.stderr
    assert "14 yes, high risk; meets the MARAC high-risk criterion" in made.stdout


def test_marac_spj_pilot_and_drive_from_the_console(sample_db, tmp_path):
    url, engine, people, pseudo = sample_db
    victim, perp = pseudo[people.victim], pseudo[people.moved]
    refused = run_iom(url, "da", "marac", victim, "--perpetrator", perp)
    assert refused.returncode == 2 and "meets no MARAC criterion" in refused.stderr
    inline(url, "da", "dash", victim, "--perpetrator", perp, "--relationship", "intimate_partner",
           "--yes", ",".join(QUESTIONS[:16]), "--user", "om-cli")
    out = inline(url, "da", "marac", victim, "--perpetrator", perp, "--user", "om-cli")
    assert "MARAC referral #1" in out and "DASH" in out
    shown = json.loads(inline(url, "da", "show", perp, "--json", "--user", "om-cli"))
    assert [m["criteria"] for m in shown["marac"]] == [["dash_high"]]
    drive = {e["programme"]: e for e in shown["eligibility"]}["drive"]
    assert drive["eligible"] and drive["risk_band"] == "high"
    # DRIVE's own rule: the moved person lives in Walsall, outside DRIVE's NPUs.
    outside = run_iom(url, "da", "refer", perp, "--programme", "drive", "--reason", "high-harm perpetrator")
    assert outside.returncode == 2 and "Birmingham and Sandwell" in outside.stderr
    direct = run_iom(url, "refer", perp, "--provider", "drive", "--pathway", "attitudes", "--reason", "direct")
    assert direct.returncode == 2 and "only through the domestic abuse domain" in direct.stderr
    # SARA v3 from a file: a draft without all judgements, finalised once they are made.
    draft = tmp_path / "sara.json"
    draft.write_text(json.dumps({"ratings": {"N1": {"past": "Y", "recent": "Y", "relevance": "high"}},
                                 "judgements": {"case_prioritisation": "high", "serious_physical_harm": "moderate"},
                                 "scenarios": ["further assault after separation"],
                                 "plan": {"victim_safety": "IDVA safety plan"}}))
    refused = run_iom(url, "da", "spj", perp, "--instrument", "sara-v3", "--from", str(draft), "--finalise")
    assert refused.returncode == 2 and "Imminence of violence" in refused.stderr
    out = inline(url, "da", "spj", perp, "--instrument", "sara-v3", "--from", str(draft))
    assert "draft" in out and "still needs summary judgement: Imminence of violence" in out
    rest = tmp_path / "rest.json"
    rest.write_text(json.dumps({"judgements": {"imminent_violence": "low"}}))
    stale = run_iom(url, "da", "spj", "--record", "1", "--version", "7", "--from", str(rest), "--finalise")
    assert stale.returncode == 2 and "changed since you opened it" in stale.stderr
    out = inline(url, "da", "spj", "--record", "1", "--version", "1", "--from", str(rest), "--finalise")
    assert "(version 2): final" in out
    with session_scope(engine) as session:
        actions = [(e.action, e.resource) for e in audit.search(session, username="om-cli")]
    assert ("write", "dash") in actions and ("write", "marac_referral") in actions
    assert ("read", "domestic_abuse") in actions
