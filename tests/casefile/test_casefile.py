"""The case file as web and CLI both use it: one reference date, refusals that leave no
written audit row, and a domain that plugs in from outside without edits to the shell."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from iom import plugins
from iom.casefile import schemas
from iom.cli import app, build
from iom.db import session_scope
from iom.http import pages
from iom.http.deps import current_as_of
from iom.security import audit
from iom.security import service as users
from iom.web.app import create_app

DATA = Path(__file__).resolve().parents[1] / "register" / "data"
IMPORT_FILES = ["people.csv", "crimes.csv", "markers.csv", "cohorts.csv", "risk.csv", "management.csv"]
SECRET = "casefile-test-" + "x" * 40
runner = CliRunner()


def iom(url: str, *args: str):
    return runner.invoke(app, ["--db", url, *args], standalone_mode=False, catch_exceptions=True)


@pytest.fixture
def imported(scratch_db, fresh_engine):
    done = iom(scratch_db.url, "import", *[str(DATA / name) for name in IMPORT_FILES])
    assert done.exception is None, done.output
    return scratch_db.url, fresh_engine


def test_every_command_and_the_web_agree_on_the_as_of_date(imported):
    url, engine = imported
    scored = iom(url, "score", "--train")
    assert scored.exception is None, scored.output
    scored_on = scored.output.split(" as of ")[1].split()[0]
    summary = json.loads(iom(url, "summary", "--json").output)["as_of"]
    selected = {block["as_of"] for block in json.loads(iom(url, "select", "--npu", "all", "--json").output)}
    web = current_as_of(create_app(engine, secret=SECRET, secure_cookies=False)).isoformat()
    assert {scored_on, summary, web} == selected == {summary}
    # and the web finds the scores stored for that date on a person's record
    with session_scope(engine) as session:
        users.add_user(session, username="mappa1", password="a long enough password", role="mappa_specialist")
    client = TestClient(create_app(engine, secret=SECRET, secure_cookies=False))
    assert client.post("/api/v1/session", json={"username": "mappa1", "password": "a long enough password"}).status_code == 200
    person = iom(url, "person", "NICHE-0001", "--json")
    assert person.exception is None, person.output
    record = client.get(f"/api/v1/people/{json.loads(person.output)['id']}").json()
    assert record["as_of"] == summary and record["scores"] and record["scores"][0]["as_of"] == summary


def test_score_without_a_stored_model_says_so_and_trains_only_when_asked(scratch_db, fresh_engine):
    from tests.scoring.conftest import build_register

    with session_scope(fresh_engine) as session:
        build_register(session, people=300)
    url = scratch_db.url
    refused = iom(url, "score")
    assert refused.exception is not None and "iom score --train" in str(refused.exception)
    assert iom(url, "score", "--train").exception is None
    assert iom(url, "score").exception is None  # the model is stored now


def test_a_refused_cli_override_writes_no_audit_row(imported):
    url, engine = imported
    refused = iom(url, "override", "NICHE-0001", "--include", "--reason", "known to partners", "--until", "2000-01-01")
    assert refused.exception is not None and "must run until a date on or after" in str(refused.exception)
    with session_scope(engine) as session:
        assert [e for e in audit.search(session) if e.action == "write"] == []
    made = iom(url, "override", "NICHE-0001", "--include", "--reason", "known to partners", "--until", "2019-12-31",
               "--user", "sgt.a")
    assert made.exception is None, made.output
    with session_scope(engine) as session:
        writes = [(e.username, e.resource) for e in audit.search(session) if e.action == "write"]
    assert writes == [("sgt.a", "override")]


def test_cli_notes_are_audited_reads_and_writes(imported):
    url, engine = imported
    assert iom(url, "note", "add", "NICHE-0001", "--text", "  ", "--user", "pc.b").exception is not None
    assert iom(url, "note", "add", "NICHE-0001", "--text", "seen at home", "--user", "pc.b").exception is None
    listed = iom(url, "note", "list", "NICHE-0001", "--json", "--user", "pc.c")
    assert [n["text"] for n in json.loads(listed.output)] == ["seen at home"]
    with session_scope(engine) as session:
        events = [(e.username, e.action, e.resource) for e in audit.search(session)]
    assert ("pc.b", "write", "person_note") in events and ("pc.c", "read", "person_note") in events
    assert sum(action == "write" for _, action, _ in events) == 1


DEMO = '''
    from iom.plugins import Domain, RecordPart

    DOMAIN = Domain(
        name="demo",
        cli=("demo_domain.parts:register",),
        routers=("demo_domain.parts:api",),
        timeline=("demo_domain.parts:events",),
        record_parts=(RecordPart(name="demo", schema="demo_domain.parts:DemoPart", build="demo_domain.parts:part",
                                 default=None),),
    )
'''
DEMO_PARTS = '''
    from fastapi import APIRouter
    from pydantic import BaseModel

    from iom.casefile.deps import AccessDep
    from iom.casefile.schemas import TimelineEvent

    api = APIRouter(prefix="/api/v1/demo")


    class DemoPart(BaseModel):
        person_id: int


    def part(ctx):
        return DemoPart(person_id=ctx.person_id)


    def events(ctx):
        return [TimelineEvent(on=ctx.as_of, kind="demo", text="demo event")]


    @api.get("/{person_id}")
    def demo(access: AccessDep, person_id: int) -> DemoPart:
        return DemoPart(person_id=access.read_subject(person_id, resource="demo").id)


    def register(app):
        @app.command("demo-hello")
        def hello():
            print("hello from a plugged-in domain")
'''


@pytest.fixture
def demo_domain(tmp_path, monkeypatch):
    package = tmp_path / "demo_domain"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(DEMO))
    (package / "parts.py").write_text(textwrap.dedent(DEMO_PARTS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "INSTALLED", (*plugins.INSTALLED, "demo_domain"))
    for cached in (plugins.domains, schemas.person_detail_model, pages.templates):
        cached.cache_clear()
    yield
    for cached in (plugins.domains, schemas.person_detail_model, pages.templates):
        cached.cache_clear()
    sys.modules.pop("demo_domain", None)
    sys.modules.pop("demo_domain.parts", None)


def test_a_new_domain_plugs_in_without_editing_the_shell(imported, demo_domain):
    url, engine = imported
    said = runner.invoke(build(), ["--db", url, "demo-hello"], catch_exceptions=False)
    assert "hello from a plugged-in domain" in said.output
    with session_scope(engine) as session:
        users.add_user(session, username="mappa2", password="a long enough password", role="mappa_specialist")
    client = TestClient(create_app(engine, secret=SECRET, secure_cookies=False))
    client.post("/api/v1/session", json={"username": "mappa2", "password": "a long enough password"})
    pid = json.loads(iom(url, "person", "NICHE-0001", "--json").output)["id"]
    record = client.get(f"/api/v1/people/{pid}").json()
    assert record["demo"] == {"person_id": pid}
    assert any(e["kind"] == "demo" and e["text"] == "demo event" for e in record["timeline"])
    assert client.get(f"/api/v1/demo/{pid}").json() == {"person_id": pid}
    assert "demo" in client.get("/api/v1/openapi.json").json()["components"]["schemas"]["PersonDetail"]["properties"]
    with session_scope(engine) as session:
        assert ("mappa2", "read", "demo") in {(e.username, e.action, e.resource) for e in audit.search(session)}
