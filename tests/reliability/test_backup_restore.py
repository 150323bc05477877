"""`iom backup` and `iom restore` (issue 17, item 10), run as the installed command on the
backend ``IOM_DATABASE_URL`` names: a small synthetic force survives the round trip with the
same ``iom summary`` and an intact audit chain, and neither command overwrites what it should
not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from iom.security import audit
from iom.security.roles import Principal
from tests.conftest import ON_POSTGRES, ScratchDatabase

IOM = Path(sys.executable).with_name("iom")


def iom(url: str, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "IOM_ENV"}
    env.update(IOM_DATABASE_URL=url, COLUMNS="200", **env_extra)
    return subprocess.run([str(IOM), *args], env=env, capture_output=True, text=True, timeout=600)


def ok(url: str, *args: str) -> str:
    done = iom(url, *args)
    assert done.returncode == 0, f"iom {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture
def other_db(tmp_path):
    db = ScratchDatabase(tmp_path)
    yield db
    db.drop()


@pytest.fixture(scope="module")
def force(tmp_path_factory):
    """A small force (2,000 people, seed 1) with a few audit rows and a checkpoint, and its
    backup; read-only for the tests."""
    db = ScratchDatabase(tmp_path_factory.mktemp("backup-source"))
    ok(db.url, "init")
    ok(db.url, "synth", "--people", "2000", "--seed", "1")
    engine = db.engine()
    for i in range(3):
        audit.record(engine, actor=Principal(username="om_test", role="offender_manager"), action="read",
                     resource="person", person_id=i + 1, purpose="case management")
    ok(db.url, "audit", "checkpoint")
    file = tmp_path_factory.mktemp("backup-file") / ("force.dump" if ON_POSTGRES else "force.db")
    out = ok(db.url, "backup", str(file))
    assert "2,106 people" in out and "audit log intact" in out
    yield db, file
    db.drop()


def test_restore_into_a_fresh_database_gives_the_same_force(force, other_db):
    source, file = force
    restored = ok(other_db.url, "restore", str(file))
    assert "audit log intact" in restored
    assert ok(other_db.url, "summary") == ok(source.url, "summary")
    assert ok(other_db.url, "summary", "--json") == ok(source.url, "summary", "--json")
    verified = ok(other_db.url, "audit", "verify")
    backed_up = ok(source.url, "audit", "verify")
    # the copy holds the source's rows (the backup's own export row among them) plus its restore row
    rows = lambda out: int(out.split("intact: ")[1].split(" rows")[0].replace(",", ""))  # noqa: E731
    assert rows(verified) == rows(backed_up) + 1
    assert "1 signed checkpoints matched" in verified


def test_restore_refuses_a_database_that_holds_data(force, other_db):
    _, file = force
    ok(other_db.url, "init")
    engine = other_db.engine()
    audit.record(engine, actor=Principal(username="someone", role="administrator"), action="login",
                 resource="session", purpose="")
    done = iom(other_db.url, "restore", str(file))
    assert done.returncode == 2 and "--replace" in done.stderr
    assert json.loads(ok(other_db.url, "summary", "--json"))["people"] == 0  # untouched
    replaced = ok(other_db.url, "restore", str(file), "--replace")
    assert "2,106 people" in replaced and "audit log intact" in replaced


def test_backup_does_not_overwrite_a_file_unasked(force, tmp_path):
    source, _ = force
    target = tmp_path / "exists.bak"
    target.write_text("keep me")
    done = iom(source.url, "backup", str(target))
    assert done.returncode == 2 and "exists" in done.stderr
    assert target.read_text() == "keep me"


def test_a_backup_of_a_broken_log_says_so_and_is_not_restored(fresh_engine, other_db, tmp_path):
    url = fresh_engine.url.render_as_string(hide_password=False)
    for i in range(3):
        audit.record(fresh_engine, actor=Principal(username="om", role="analyst"), action="read", resource="person",
                     person_id=i, purpose="x" * 3)
    with fresh_engine.begin() as conn:
        if fresh_engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET purpose = 'edited' WHERE id = 2"))
    file = tmp_path / "broken.bak"
    done = iom(url, "backup", str(file))
    assert done.returncode == 1 and "BROKEN" in done.stdout and "row id 2" in done.stdout
    assert file.exists()  # kept: it is evidence
    refused = iom(other_db.url, "restore", str(file))
    assert refused.returncode == 2 and "does not verify" in refused.stderr and "row id 2" in refused.stderr
    done = iom(other_db.url, "summary")
    assert done.returncode != 0  # nothing was restored: the database is still uninitialised


def test_a_file_that_is_not_a_backup_is_refused_in_words(other_db, tmp_path):
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"not a database at all " * 100)
    done = iom(other_db.url, "restore", str(junk))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "error:" in done.stderr


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only")
def test_missing_pg_dump_is_a_plain_error(force, tmp_path):
    source, _ = force
    done = iom(source.url, "backup", str(tmp_path / "x.dump"), PATH="/nonexistent")
    assert done.returncode == 2 and "pg_dump is not installed" in done.stderr
