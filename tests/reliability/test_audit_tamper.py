"""Tampering with the audit log, as someone with the database owner's rights could, makes the
installed ``iom audit verify`` exit 1 and name the first bad row (issue 17, item 2). Runs on
the backend ``IOM_DATABASE_URL`` names; the verdicts come from a child process of the real
entry point, never only from CliRunner."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from iom import migrate
from iom.db import session_scope
from iom.errors import UserError
from iom.register.service import init_database
from iom.security import audit, settings
from iom.security.models import AuditEvent
from iom.security.roles import Principal

IOM = Path(sys.executable).with_name("iom")
ACTOR = Principal(username="om_test", role="offender_manager", lomu_code="LBM")
KEY = os.environ["IOM_AUDIT_KEY"]  # the suite's key (tests/conftest.py)


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def iom(engine, *args: str, key: str = KEY) -> subprocess.CompletedProcess:
    """The installed command, in a child process with the test's database and key."""
    env = {k: v for k, v in os.environ.items() if k != "IOM_ENV"}
    env.update(IOM_DATABASE_URL=_url(engine), IOM_AUDIT_KEY=key, COLUMNS="200")
    return subprocess.run([str(IOM), *args], env=env, capture_output=True, text=True, timeout=180)


def broken_at(engine, row_id: int | None, *args: str, key: str = KEY) -> str:
    done = iom(engine, "audit", "verify", *args, key=key)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BROKEN" in done.stdout, done.stdout
    if row_id is not None:
        assert f"at row id {row_id}:" in done.stdout, done.stdout
    return done.stdout


def fill(engine, n: int) -> None:
    for i in range(n):
        audit.record(engine, actor=ACTOR, action="read", resource="person", person_id=i + 1,
                     purpose="case management", detail={"i": i})


def intact(engine) -> audit.VerifyResult:
    with session_scope(engine) as session:
        result = audit.verify(session)
    assert result.ok, result.reason
    return result


def as_owner(engine, *statements: str) -> None:
    """Lift the append-only triggers (the owner may), then run ``statements``."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("audit_log", "audit_checkpoints"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for name in ("audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_update",
                         "audit_checkpoints_no_delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        for statement in statements:
            conn.execute(text(statement))


def rechain(engine, row_hash) -> None:
    """Recompute every row's hash in order with ``row_hash(prev, event)``, as a forger would."""
    with session_scope(engine) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    statements, prev = [], audit.GENESIS
    for event in events:
        new = row_hash(prev, event)
        statements.append(f"UPDATE audit_log SET prev_hash = '{prev}', row_hash = '{new}', chain = {event.chain} "
                          f"WHERE id = {event.id}")
        prev = new
    as_owner(engine, *statements)


def fields(event: AuditEvent) -> dict:
    return dict(at=event.at, username=event.username, role=event.role, action=event.action, resource=event.resource,
                person_id=event.person_id, purpose=event.purpose, detail=event.detail)


@pytest.fixture
def log(fresh_engine):
    """Six keyed rows, verified intact by the installed command before anything is touched."""
    fill(fresh_engine, 6)
    done = iom(fresh_engine, "audit", "verify")
    assert done.returncode == 0 and "6 rows" in done.stdout, done.stdout + done.stderr
    return fresh_engine


def test_an_edited_row_is_named(log):
    as_owner(log, "UPDATE audit_log SET purpose = 'curiosity' WHERE id = 3")
    assert "edited" in broken_at(log, 3)


def test_a_deleted_row_is_an_id_gap(log):
    as_owner(log, "DELETE FROM audit_log WHERE id = 4")
    assert "ids jump from 3 to 5: row 4 removed" in broken_at(log, 5)


def test_renumbering_to_close_a_gap_needs_the_key(log):
    as_owner(log, "DELETE FROM audit_log WHERE id = 4", "UPDATE audit_log SET id = id + 100 WHERE id > 4",
             "UPDATE audit_log SET id = id - 101 WHERE id > 100")
    with session_scope(log) as session:
        assert list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id))) == [1, 2, 3, 4, 5]
    broken_at(log, 4)


def test_deleting_the_newest_rows_is_caught_by_the_checkpoint(log, tmp_path):
    done = iom(log, "audit", "checkpoint")
    assert done.returncode == 0 and "6 rows up to id 6" in done.stdout, done.stdout + done.stderr
    as_owner(log, "DELETE FROM audit_log WHERE id = 6")
    assert "rows 6 to 6 are missing" in broken_at(log, 6)


def test_deleting_past_a_scheduled_checkpoint_is_caught(fresh_engine):
    """Nobody ran ``iom audit checkpoint``: the one written with row 100 is enough."""
    fill(fresh_engine, audit.CHECKPOINT_EVERY + 3)
    assert intact(fresh_engine).checkpoints == 1
    as_owner(fresh_engine, f"DELETE FROM audit_log WHERE id >= {audit.CHECKPOINT_EVERY - 1}")
    assert "truncated" in broken_at(fresh_engine, audit.CHECKPOINT_EVERY - 1)


def test_deleting_the_checkpoints_too_is_caught(fresh_engine):
    fill(fresh_engine, audit.CHECKPOINT_EVERY + 3)
    intact(fresh_engine)
    as_owner(fresh_engine, "DELETE FROM audit_checkpoints")
    assert "checkpoints were deleted" in broken_at(fresh_engine, audit.CHECKPOINT_EVERY)


def test_a_chain_recomputed_with_plain_sha256_fails(log):
    rechain(log, lambda prev, e: audit.unkeyed_hash(prev, **fields(e)))
    assert "recomputed without the key" in broken_at(log, 1)


def test_a_chain_rewritten_as_the_old_unkeyed_kind_fails_against_a_checkpoint(log):
    assert iom(log, "audit", "checkpoint").returncode == 0

    def downgrade(prev, event):
        event.chain = audit.UNKEYED
        return audit.unkeyed_hash(prev, **fields(event))

    rechain(log, downgrade)
    assert "rewritten" in broken_at(log, 6)


def test_a_chain_recomputed_with_another_key_fails(log):
    wrong = b"not-the-key-" + b"x" * 30
    rechain(log, lambda prev, e: audit.keyed_hash(wrong, prev, id=e.id, **fields(e)))
    broken_at(log, 1)


def test_re_signed_checkpoints_without_the_key_fail(log):
    assert iom(log, "audit", "checkpoint").returncode == 0
    as_owner(log, "DELETE FROM audit_log WHERE id = 6", "UPDATE audit_checkpoints SET rows = 5, last_id = 5")
    assert "is not signed with this IOM_AUDIT_KEY" in broken_at(log, None)


def test_the_verifier_needs_the_same_key(log):
    broken_at(log, 1, key="some-other-key-of-enough-length-0123456789")


def test_an_emptied_log_is_caught_by_the_checkpoint(log):
    """TRUNCATE where the database allows it: SQLite has none (an unconditioned DELETE is its
    truncate); on PostgreSQL the statement trigger is dropped first, as only an owner can."""
    assert iom(log, "audit", "checkpoint").returncode == 0
    if log.dialect.name == "postgresql":
        with log.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_log_no_truncate ON audit_log"))
            conn.execute(text("TRUNCATE audit_log"))
    else:
        as_owner(log, "DELETE FROM audit_log")
    assert "rows 1 to 6 are missing" in broken_at(log, 1)


def test_emptying_both_tables_is_caught_by_an_exported_checkpoint(log, tmp_path):
    exported = tmp_path / "checkpoint.json"
    done = iom(log, "audit", "checkpoint", "--export", str(exported))
    assert done.returncode == 0, done.stderr
    assert json.loads(exported.read_text())["last_id"] == 6
    assert iom(log, "audit", "verify", "--against", str(exported)).returncode == 0
    if log.dialect.name == "postgresql":
        with log.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_log_no_truncate ON audit_log"))
            conn.execute(text("DROP TRIGGER audit_checkpoints_no_truncate ON audit_checkpoints"))
            conn.execute(text("TRUNCATE audit_log, audit_checkpoints"))
    else:
        as_owner(log, "DELETE FROM audit_log", "DELETE FROM audit_checkpoints")
    # Nothing in the database says anything is missing (so keep exported checkpoints)...
    assert iom(log, "audit", "verify").returncode == 0
    # ...but the file does.
    assert "missing" in broken_at(log, 1, "--against", str(exported))


def test_a_forged_checkpoint_file_is_refused(log, tmp_path):
    exported = tmp_path / "checkpoint.json"
    assert iom(log, "audit", "checkpoint", "--export", str(exported)).returncode == 0
    data = json.loads(exported.read_text())
    exported.write_text(json.dumps({**data, "rows": 5, "last_id": 5}))
    assert "is not signed" in broken_at(log, None, "--against", str(exported))


@pytest.mark.skipif(not os.environ.get("IOM_DATABASE_URL", "").startswith("postgresql"), reason="PostgreSQL only")
def test_postgres_refuses_truncate_even_to_the_owner(log):
    for table in ("audit_log", "audit_checkpoints"):
        with pytest.raises(DBAPIError, match="append-only"):
            with log.begin() as conn:
                conn.execute(text(f"TRUNCATE {table}"))
    assert intact(log).rows == 6


@pytest.mark.skipif(not os.environ.get("IOM_DATABASE_URL", "").startswith("postgresql"), reason="PostgreSQL only")
def test_the_app_role_of_the_docs_appends_but_cannot_delete_or_truncate(log):
    """The GRANT/REVOKE statements of docs/web.md, applied to a role of our own."""
    from iom.db import make_engine

    schema = log.url.query["options"].split("=", 1)[1]
    role = f"iom_app_{schema[-12:]}"
    with log.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
        conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_checkpoints FROM {role}"))
    app_engine = make_engine(_url(log).replace("search_path%3D", "role%3D" + role + "%20-csearch_path%3D"))
    try:
        with app_engine.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) == role
        fill(app_engine, 2)
        with session_scope(app_engine) as session:
            audit.checkpoint(session)
        for statement in ("DELETE FROM audit_log", "TRUNCATE audit_log", "UPDATE audit_log SET purpose = 'x'",
                          "DELETE FROM audit_checkpoints"):
            with pytest.raises(DBAPIError, match="permission denied"):
                with app_engine.begin() as conn:
                    conn.execute(text(statement))
    finally:
        app_engine.dispose()
        with log.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
    assert intact(log).rows == 8


def test_a_database_from_before_the_key_still_verifies(scratch_db):
    """Rows written by the old code (plain SHA-256, chain 1) verify by the old rule, new rows
    are keyed after them, and a keyed row turned back into the old kind is refused."""
    engine = scratch_db.engine()
    migrate.upgrade(engine, "0012-1")  # the schema just before the key
    prev = audit.GENESIS
    with engine.begin() as conn:
        for i in range(1, 4):
            at = dt.datetime(2024, 1, i, 9, 30, tzinfo=dt.UTC)
            row = dict(at=at, username="old", role="analyst", action="read", resource="person", person_id=i,
                       purpose="before the key", detail="{}")
            new = audit.unkeyed_hash(prev, **row)
            conn.execute(text("INSERT INTO audit_log (id, at, username, role, action, resource, person_id, purpose, "
                              "detail, prev_hash, row_hash) VALUES (:id, :at, :username, :role, :action, :resource, "
                              ":person_id, :purpose, :detail, :prev, :hash)"), {**row, "id": i, "prev": prev, "hash": new})
            prev = new
    init_database(engine)
    fill(engine, 2)
    done = iom(engine, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 rows (3 from before the key" in done.stdout
    with session_scope(engine) as session:
        first_keyed = session.get(AuditEvent, 4)
        assert (first_keyed.chain, first_keyed.prev_hash) == (audit.KEYED, prev)
    with session_scope(engine) as session:
        fourth, fifth = session.get(AuditEvent, 4), session.get(AuditEvent, 5)
        downgraded = audit.unkeyed_hash(fourth.row_hash, **fields(fifth))
    as_owner(engine, f"UPDATE audit_log SET chain = {audit.UNKEYED}, row_hash = '{downgraded}' WHERE id = 5")
    assert "unkeyed row after keyed ones" in broken_at(engine, 5)


class TestKey:
    def test_refused_outside_development(self, fresh_engine, monkeypatch):
        monkeypatch.delenv("IOM_AUDIT_KEY", raising=False)
        monkeypatch.delenv("IOM_ENV", raising=False)
        with pytest.raises(UserError, match="IOM_AUDIT_KEY"):
            audit.record(fresh_engine, actor=ACTOR, action="read", resource="person", purpose="x")
        with session_scope(fresh_engine) as session:
            assert session.scalar(select(AuditEvent.id)) is None  # nothing written unkeyed

    @pytest.mark.parametrize("value", ["changethis", "short-key", settings.DEVELOPMENT_AUDIT_KEY])
    def test_placeholders_and_the_public_key_refused(self, monkeypatch, value):
        monkeypatch.setenv("IOM_AUDIT_KEY", value)
        monkeypatch.delenv("IOM_ENV", raising=False)
        with pytest.raises(UserError):
            settings.audit_key()

    def test_development_uses_the_labelled_public_key(self, monkeypatch):
        monkeypatch.delenv("IOM_AUDIT_KEY", raising=False)
        monkeypatch.setenv("IOM_ENV", "development")
        assert settings.audit_key() == settings.audit_key() == settings.DEVELOPMENT_AUDIT_KEY.encode()
        assert b"DEVELOPMENT-ONLY" in settings.audit_key()

    def test_serve_refuses_without_it(self, fresh_engine):
        env = {k: v for k, v in os.environ.items() if k not in ("IOM_ENV", "IOM_AUDIT_KEY")}
        env.update(IOM_DATABASE_URL=_url(fresh_engine), IOM_SECRET_KEY="s" * 40)
        done = subprocess.run([str(IOM), "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "IOM_AUDIT_KEY" in done.stderr
