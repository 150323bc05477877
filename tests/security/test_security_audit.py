"""Audit chain, append-only enforcement, users CLI, secrets and login throttling."""

from __future__ import annotations

import csv
import multiprocessing
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from iom.cli import app
from iom.db import make_engine, session_scope
from iom.errors import UserError
from iom.security import audit, service, settings
from iom.security.roles import Principal, console_user

ACTOR = Principal(username="om_test", role="offender_manager", lomu_code="LBM")


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _fill(engine, n: int = 4) -> None:
    for i in range(n):
        audit.record(engine, actor=ACTOR, action="read", resource="person", person_id=i + 1,
                     purpose="case management", detail={"via": "test", "i": i})


def _append_many(url: str, username: str, count: int) -> None:
    """One process appending as fast as it can (run through multiprocessing)."""
    engine = make_engine(url)
    who = Principal(username=username, role="analyst")
    for i in range(count):
        audit.record(engine, actor=who, action="read", resource="person", person_id=i + 1, purpose="concurrency")
    engine.dispose()


def _tamper(engine, statement: str) -> None:
    """What someone with owner rights could do: lift the trigger, then edit the table."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text(statement))


class TestChain:
    def test_intact_chain_verifies(self, fresh_engine):
        _fill(fresh_engine)
        result = CliRunner().invoke(app, ["--db", _url(fresh_engine), "audit", "verify"])
        assert result.exit_code == 0, result.output
        assert "4 rows" in result.output
        with session_scope(fresh_engine) as session:
            rows = audit.search(session)
        assert rows[-1].prev_hash == audit.GENESIS
        assert rows[0].prev_hash == rows[1].row_hash

    def test_editing_one_row_breaks_verify(self, fresh_engine):
        _fill(fresh_engine)
        _tamper(fresh_engine, "UPDATE audit_log SET purpose = 'curiosity' WHERE id = 2")
        result = CliRunner().invoke(app, ["--db", _url(fresh_engine), "audit", "verify"])
        assert result.exit_code == 1
        assert "BROKEN" in result.output and "row id 2" in result.output
        # and the shell sees the failure too (the real entry point, not CliRunner's)
        shell = subprocess.run([sys.executable, "-m", "iom.cli", "--db", _url(fresh_engine), "audit", "verify"],
                               capture_output=True, text=True, timeout=120)
        assert shell.returncode == 1 and "BROKEN" in shell.stdout

    def test_deleting_a_row_breaks_verify(self, fresh_engine):
        _fill(fresh_engine)
        _tamper(fresh_engine, "DELETE FROM audit_log WHERE id = 2")
        with session_scope(fresh_engine) as session:
            result = audit.verify(session)
        assert not result.ok and result.first_bad_id == 3 and "removed" in result.reason

    def test_database_refuses_update_and_delete(self, fresh_engine):
        _fill(fresh_engine, 1)
        for statement in ("UPDATE audit_log SET purpose = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                with fresh_engine.begin() as conn:
                    conn.execute(text(statement))

    def test_export_writes_every_row_and_is_itself_logged(self, fresh_engine, tmp_path):
        _fill(fresh_engine, 3)
        out = tmp_path / "audit.csv"
        result = CliRunner().invoke(app, ["--db", _url(fresh_engine), "audit", "export", str(out)])
        assert result.exit_code == 0, result.output
        with out.open() as handle:
            rows = list(csv.DictReader(handle))
        assert [r["person_id"] for r in rows] == ["1", "2", "3"]
        with session_scope(fresh_engine) as session:
            assert audit.search(session, action="export")[0].username == console_user()  # the account running the export, never "cli"
            assert audit.verify(session).rows == 4

    def test_unknown_action_is_refused(self, fresh_engine):
        with pytest.raises(ValueError):
            audit.record(fresh_engine, actor=ACTOR, action="update", resource="person", purpose="x")

    def test_processes_appending_at_once_keep_one_chain(self, fresh_engine):
        """The server and a CLI command append side by side: no row may be chained to a
        hash that another process has already followed."""
        per_process = 150
        with multiprocessing.get_context("spawn").Pool(3) as pool:
            pool.starmap(_append_many, [(_url(fresh_engine), f"proc{i}", per_process) for i in range(3)])
        with session_scope(fresh_engine) as session:
            result = audit.verify(session)
        assert result.rows == 3 * per_process
        assert result.ok, result.reason


class TestUsers:
    def test_add_user_with_password_on_stdin(self, fresh_engine):
        result = CliRunner().invoke(
            app, ["--db", _url(fresh_engine), "users", "add", "alice", "--role", "supervisor", "--lomu", "LWS", "--password-stdin"],
            input="a long enough password\n",
        )
        assert result.exit_code == 0, result.output
        with session_scope(fresh_engine) as session:
            who = service.authenticate(session, username="alice", password="a long enough password")
            assert (who.role, who.lomu_code) == ("supervisor", "LWS")
            assert service.list_users(session)[0].password_hash.startswith("$argon2id$")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--role", "supervisor"], "needs --lomu"),
            (["--role", "supervisor", "--lomu", "BN"], "not a LOMU"),
            (["--role", "wizard"], "unknown role"),
        ],
    )
    def test_bad_input_is_a_user_error(self, fresh_engine, args, message):
        result = CliRunner().invoke(app, ["--db", _url(fresh_engine), "users", "add", "bob", *args, "--password-stdin"],
                                    input="a long enough password\n")
        assert isinstance(result.exception, UserError) and message in str(result.exception)

    def test_short_password_refused(self, fresh_engine):
        with session_scope(fresh_engine) as session, pytest.raises(UserError, match="at least 12"):
            service.add_user(session, username="carol", password="short", role="analyst")

    def test_demo_users_get_fresh_random_passwords(self, fresh_engine):
        with session_scope(fresh_engine) as session:
            first = service.demo_users(session)
        with session_scope(fresh_engine) as session:
            second = service.demo_users(session)
        assert {login.role for login in first} == {"offender_manager", "supervisor", "analyst", "mappa_specialist", "administrator"}
        assert all(a.password != b.password for a, b in zip(first, second))
        with session_scope(fresh_engine) as session:
            login = second[0]
            assert service.authenticate(session, username=login.username, password=login.password).role == login.role
            with pytest.raises(service.LoginRefused):
                service.authenticate(session, username=login.username, password=first[0].password)


class TestSecretKey:
    def test_missing_key_refused_outside_development(self, monkeypatch):
        monkeypatch.delenv("IOM_SECRET_KEY", raising=False)
        monkeypatch.delenv("IOM_ENV", raising=False)
        with pytest.raises(UserError, match="IOM_SECRET_KEY"):
            settings.secret_key()

    def test_placeholder_refused(self, monkeypatch):
        monkeypatch.setenv("IOM_SECRET_KEY", "changethis")
        monkeypatch.delenv("IOM_ENV", raising=False)
        with pytest.raises(UserError):
            settings.secret_key()

    def test_development_generates_one(self, monkeypatch):
        monkeypatch.delenv("IOM_SECRET_KEY", raising=False)
        monkeypatch.setenv("IOM_ENV", "development")
        assert settings.secret_key() != settings.secret_key()

    def test_real_key_used(self, monkeypatch):
        monkeypatch.setenv("IOM_SECRET_KEY", "k" * 40)
        assert settings.secret_key() == "k" * 40

    def test_serve_refuses_without_key(self, fresh_engine, monkeypatch):
        monkeypatch.delenv("IOM_SECRET_KEY", raising=False)
        monkeypatch.delenv("IOM_ENV", raising=False)
        result = CliRunner().invoke(app, ["--db", _url(fresh_engine), "serve", "--port", "1"])
        assert isinstance(result.exception, UserError)
