"""The scoring commands end to end on a small register."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from iom.cli import app
from iom.db import make_engine, session_scope
from iom.security import audit

runner = CliRunner()


@pytest.fixture
def url(scratch_db, fresh_engine, make_register):
    with session_scope(fresh_engine) as session:
        make_register(session, people=300)
    return scratch_db.url


def run(url, *args):
    result = runner.invoke(app, ["--db", url, *args], standalone_mode=False, catch_exceptions=True)
    return result


def test_score_select_override_explain(url, tmp_path):
    assert "scored" in run(url, "score", "--train").output
    first = run(url, "select", "--npu", "WS", "--json")
    assert first.exception is None, first.output
    data = json.loads(first.output)
    assert "2019-03-01" <= data["as_of"] <= "2019-03-31" and data["capacity"] == 36 * 25
    assert all(r["explanation"] for r in data["rows"] if r["decision"] != "exit")
    assert json.loads(run(url, "select", "--npu", "WS", "--json").output) == data  # deterministic
    pseudo = data["rows"][0]["pseudo_id"]

    refused = run(url, "override", pseudo, "--exclude", "--until", "2019-12-31")
    assert refused.exception is not None and "needs a reason" in str(refused.exception)
    done = run(url, "override", pseudo, "--exclude", "--reason", "in custody", "--until", "2019-12-31", "--user", "sgt.a")
    assert done.exception is None and "override #" in done.output
    number = done.output.split("override #")[1].split(":")[0]
    assert "approved by insp.a" in run(url, "approve-override", number, "--user", "insp.a").output
    after = json.loads(run(url, "select", "--npu", "WS", "--json").output)
    row = next(r for r in after["rows"] if r["pseudo_id"] == pseudo) if any(r["pseudo_id"] == pseudo for r in after["rows"]) else None
    assert row is None or (row["decision"] == "exit" and row["override"]["reason"] == "in custody")

    revoked = run(url, "revoke-override", number, "--reason", "released early", "--user", "insp.b")
    assert revoked.exception is None and f"override #{number} revoked by insp.b" in revoked.output
    assert "no override #9999" in str(run(url, "revoke-override", "9999", "--reason", "released early").exception)

    explained = run(url, "explain", pseudo, "--json")
    e = json.loads(explained.output)
    assert sum(p["points"] for p in e["parts"] if p["score"] == "rfg") == e["rfg"]
    assert "composite" in run(url, "explain", pseudo).output
    with session_scope(make_engine(url)) as session:
        logged = [(e.username, e.action, e.resource) for e in audit.search(session)]
    assert ("sgt.a", "write", "override") in logged and ("insp.b", "write", "override") in logged
    assert sum(action == "read" and resource == "score_explanation" for _, action, resource in logged) == 2

    trained = run(url, "model", "train", "--cutoff", "2017-09-30")
    assert trained.exception is None, trained.output
    assert "OGRS3" in run(url, "model", "report").output

    page = tmp_path / "fairness.html"
    fair = run(url, "fairness", "--as-of", "2017-09-30", "--html", str(page))
    assert fair.exception is None, fair.output
    assert "Selection fairness audit" in page.read_text()
    every = run(url, "select", "--npu", "all", "--top", "3")
    assert every.exception is None and "WS as of" in every.output and "BN as of" in every.output
    bad = run(url, "select", "--npu", "ZZ")
    assert "no NPU 'ZZ'" in str(bad.exception)
