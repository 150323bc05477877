"""Who a command's audit rows name: the role it was given (``--user``), else the operating-
system account, never an empty name; and every row carries that account (``os_user``), read
from the process's own uid, not from ``$USER``. `iom export`, every person's whole record,
writes an ``export`` row before any file, and a refused export writes none. The installed
command runs as a subprocess, as a person would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from iom.casefile.commands import console_user
from iom.db import session_scope
from iom.security.models import AuditEvent
from iom.synth import sample

SRC = Path(__file__).resolve().parents[2] / "src"


def _iom(url: str, *args: str, **env: str | None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "COLUMNS": "200"}
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, *args], capture_output=True, text=True,
                          env=environ, timeout=300)


def _rows(engine, **where) -> list[AuditEvent]:
    with session_scope(engine) as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(session.scalars(query))


@pytest.fixture
def sampled(scratch_db, fresh_engine):
    with session_scope(fresh_engine) as session:
        people = sample.build(session)
    return scratch_db.url, fresh_engine, people


def test_the_account_is_named_when_no_role_is(sampled):
    url, engine, people = sampled
    account = console_user()
    assert account and account != "cli"
    for extra, env in (((), {"USER": None}), (("--user", ""), {}), (("--user", "  "), {"USER": "cli"})):
        done = _iom(url, "person", str(people.birmingham), "--json", *extra, **env)
        assert done.returncode == 0, done.stderr
    reads = _rows(engine, action="read", resource="person")
    assert [row.username for row in reads] == [account] * 3
    assert all(json.loads(row.detail)["os_user"] == account for row in reads)


def test_a_named_role_is_recorded_with_the_account_that_ran_it(sampled):
    url, engine, people = sampled
    done = _iom(url, "person", str(people.birmingham), "--json", "--user", "pc.a", USER="mallory")
    assert done.returncode == 0, done.stderr
    (read,) = _rows(engine, action="read", resource="person")
    assert (read.username, read.role) == ("pc.a", "console")
    detail = json.loads(read.detail)
    assert detail["os_user"] == console_user() != "mallory"  # the uid's name, not what $USER says
    assert detail["via"] == "cli"


def test_iom_export_is_audited_before_anything_is_written(sampled, tmp_path):
    url, engine, _ = sampled
    out = tmp_path / "export"
    done = _iom(url, "export", str(out), USER=None)
    assert done.returncode == 0, done.stderr
    (row,) = _rows(engine, action="export")
    detail = json.loads(row.detail)
    assert (row.username, row.resource) == (console_user(), "database")
    assert detail["directory"] == str(out.resolve()) and "people" in detail["tables"] and "users" not in detail["tables"]
    assert "login_attempts" not in detail["tables"]
    assert (out / "manifest.json").is_file()
    refused = _iom(url, "export", str(out))  # the directory holds the first export now
    assert refused.returncode == 2 and "already holds files" in refused.stderr
    assert len(_rows(engine, action="export")) == 1, "a refused export is not logged as one"
