"""`iom synth --replace` and `iom init` killed at random moments leave the old database whole
or the new one whole, never a mix; users and the audit log outlive a replacement (issue 17,
item 3). The kills are SIGKILL of the installed `iom`, run as a subprocess."""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from iom import migrate
from iom.errors import UserError
from iom.register.service import init_database
from iom.security import audit
from iom.security.models import AuditEvent, User
from iom.security.roles import cli_actor
from iom.synth.service import generate_force, kept_tables, replace_database
from tests.conftest import ON_POSTGRES
from tests.reliability.crash import (AUDIT_KEY, IOM, empty, env, init_here, iom, killed_after, scalar, schema_state, summary,
                                    summary_here)

#: Kills per loop: ten on SQLite; fewer on PostgreSQL, where one transaction is the whole story.
KILLS = 4 if ON_POSTGRES else 10
#: Kills of a migrating `init` (an empty database, or one at revision 0010).
MIGRATION_KILLS = 3 if ON_POSTGRES else 6
SYNTH = ["synth", "--replace", "--people", "1000"]


@pytest.fixture(autouse=True)
def _audit_key(monkeypatch):
    monkeypatch.setenv("IOM_AUDIT_KEY", AUDIT_KEY)


def test_kills_of_replace_and_init_leave_the_old_force_or_the_new(scratch_db):
    """Seeded kills, most of `synth --replace` (whose work is long), some of `init`."""
    url = scratch_db.url
    started = time.monotonic()
    iom(url, "init")
    init_run = time.monotonic() - started
    engine = scratch_db.engine()
    _add_keeper_and_reads(engine)
    generate_force(engine, seed=1, people=1000)
    engine.dispose()
    known = {1: summary_here(url)}
    started = time.monotonic()
    iom(url, *SYNTH, "--seed", "2")
    replace_run = time.monotonic() - started
    known[2] = summary(url)
    assert known[1] != known[2] and summary_here(url) == known[2]  # the check below prints what `iom summary` does

    rng = random.Random(17)
    current, kills, attempts, replaced = 2, 0, 0, 1
    while kills < KILLS:
        attempts += 1
        assert attempts <= 3 * KILLS, "the commands kept finishing before the kill"
        seed = 3 - current
        if rng.random() < 0.7:
            kills += killed_after(url, [*SYNTH, "--seed", str(seed)], rng.uniform(0.1, replace_run))
        else:
            kills += killed_after(url, ["init"], rng.uniform(0.1, init_run))
        shown = summary_here(url)
        assert shown in (known[1], known[2]), f"after kill {kills}: neither force:\n{shown}"
        init_here(url)
        if shown == known[seed]:
            current, replaced = seed, replaced + 1
    assert summary(url) == known[current]
    iom(url, "init")

    assert scalar(engine, "SELECT count(*) FROM users WHERE username = 'keeper'") == 1
    assert "intact" in iom(url, "audit", "verify").stdout
    done = scalar(engine, "SELECT count(*) FROM audit_log WHERE purpose = 'database replaced'")
    # Each swap carries its own row in; on PostgreSQL the row follows the commit, so a kill
    # between the two can lose it (the "begun" row before the transaction is kept).
    assert done == replaced if not ON_POSTGRES else 1 <= done <= replaced
    engine.dispose()

    iom(url, *SYNTH, "--seed", str(3 - current), "--drop-users")
    assert summary(url) == known[3 - current]
    assert scalar(engine, "SELECT count(*) FROM users") == 0
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE purpose = 'database replaced'") == done + 1
    assert not list(Path(engine.url.database or "/nonexistent").parent.glob(".*.replacing*"))  # left by a kill, cleared


def _add_keeper_and_reads(engine) -> list[tuple]:
    with Session(engine) as session, session.begin():
        session.add(User(username="keeper", password_hash="not a real hash", role="analyst",
                         created_at=dt.datetime.now(dt.UTC)))
    for n in range(3):
        audit.record(engine, actor=cli_actor("tester"), action="read", resource="person", purpose=f"read {n}")
    return _log(engine)


def _log(engine) -> list[tuple]:
    with Session(engine) as session:
        return session.execute(select(AuditEvent.id, AuditEvent.purpose, AuditEvent.row_hash)
                               .order_by(AuditEvent.id)).all()


def _write_people(connection, n: int = 3) -> None:
    for i in range(n):
        connection.execute(text(
            "INSERT INTO people (source_id, pseudo_id, given_name, family_name, date_of_birth, sex, ethnicity, "
            "language, interpreter_needed) VALUES (:s, :p, 'A', 'B', '1990-01-01', 'M', 'W_BRI', 'English', false)"),
            {"s": f"NEW-{i}", "p": f"PNEW{i:08d}"})


def test_users_and_the_audit_log_are_carried_over_and_the_replacement_audited(scratch_db):
    engine = scratch_db.engine()
    init_database(engine)
    before = _add_keeper_and_reads(engine)
    replace_database(engine, build=_write_people, keep=kept_tables(), actor=cli_actor("tester"), detail={})
    after = _log(engine)
    assert after[: len(before) + 1][: len(before)] == before  # the same rows, ids and hashes
    assert [p for _, p, _ in after[len(before):]] == ["database replacement begun", "database replaced"]
    assert scalar(engine, "SELECT count(*) FROM people") == 3
    assert scalar(engine, "SELECT username FROM users") == "keeper"
    with Session(engine) as session:
        assert audit.verify(session).ok
    audit.record(engine, actor=cli_actor("tester"), action="read", resource="person", purpose="after")
    assert _log(engine)[-1][0] == after[-1][0] + 1  # ids go on from the rows carried over

    replace_database(engine, build=_write_people, keep=kept_tables(users=False), actor=cli_actor("t"), detail={})
    assert scalar(engine, "SELECT count(*) FROM users") == 0
    assert len(_log(engine)) == len(after) + 3

    replace_database(engine, build=_write_people, keep=kept_tables(audit_log=False), actor=cli_actor("t"), detail={})
    assert [p for _, p, _ in _log(engine)] == ["database replaced"]


def test_a_failed_replacement_leaves_the_old_database_whole(scratch_db):
    """The new force fails half-way through being written: nothing of it shows, nothing of
    the old is lost (on PostgreSQL: the one transaction rolled back)."""
    engine = scratch_db.engine()
    init_database(engine)
    with engine.begin() as connection:
        _write_people(connection, 5)
    log = _add_keeper_and_reads(engine)
    schema = schema_state(scratch_db.url)

    def half_then_fail(connection):
        _write_people(connection, 2)
        raise RuntimeError("the disk filled up")

    with pytest.raises(RuntimeError, match="disk filled"):
        replace_database(engine, build=half_then_fail, keep=kept_tables(), actor=cli_actor("t"), detail={})
    assert scalar(engine, "SELECT count(*) FROM people") == 5
    assert scalar(engine, "SELECT count(*) FROM users") == 1
    assert _log(engine)[: len(log)] == log
    assert schema_state(scratch_db.url) == schema


@pytest.mark.skipif(ON_POSTGRES, reason="a SQLite file swap only")
def test_a_replacement_refuses_a_database_in_use(scratch_db):
    engine = scratch_db.engine()
    init_database(engine)
    with engine.begin() as connection:
        _write_people(connection, 5)
    other = scratch_db.engine()
    with other.connect() as held:  # another program with the database open (iom serve)
        held.execute(text("SELECT 1"))
        with pytest.raises(UserError, match="in use by another program"):
            replace_database(engine, build=_write_people, keep=kept_tables(), actor=cli_actor("t"), detail={})
    assert scalar(engine, "SELECT count(*) FROM people") == 5
    assert not list(Path(engine.url.database).parent.glob(".*.replacing*"))


def test_a_killed_init_or_upgrade_leaves_the_schema_it_found(scratch_db):
    """From an empty database (a first `iom init`) and from revision 0010 (an upgrade)."""
    url = scratch_db.url

    templates: dict[str, tuple] = {}

    def start(revision: str | None) -> tuple:
        empty(scratch_db)
        if revision:
            engine = scratch_db.engine()
            migrate.upgrade(engine, revision)
            engine.dispose()
        if revision not in templates:
            templates[revision] = schema_state(url)
        return templates[revision]

    started = time.monotonic()
    iom(url, "init")
    whole_run = time.monotonic() - started
    head = schema_state(url)
    rng = random.Random(23)
    kills = attempts = 0
    while kills < MIGRATION_KILLS:
        attempts += 1
        assert attempts <= 3 * MIGRATION_KILLS, "init kept finishing before the kill"
        found = start(None if attempts % 2 else "0010")
        # Most of a run is Python starting up; the kills are spread over its second half.
        kills += killed_after(url, ["init"], rng.uniform(0.5, 1.0) * whole_run)
        assert schema_state(url) in (found, head), f"after kill {kills}: a schema half migrated"
        init_here(url)
        assert schema_state(url) == head
    iom(url, "init")


def test_a_failed_migration_leaves_the_schema_it_found(scratch_db):
    """A later migration fails (its table is already there): the earlier ones are undone
    too, where SQLite used to keep every CREATE before the failure."""
    engine = scratch_db.engine()
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE course_referrals (id INTEGER PRIMARY KEY)"))
    found = schema_state(scratch_db.url)
    with pytest.raises(UserError, match="course_referrals.*nothing was changed"):
        init_database(engine)
    assert schema_state(scratch_db.url) == found
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE course_referrals"))
    init_database(engine)
    assert schema_state(scratch_db.url)[1] is not None


def test_a_schema_half_dropped_by_an_older_version_is_repaired_by_a_replacement(scratch_db):
    """What an older `synth --replace` killed mid-drop left: some tables, no migration record.
    `iom init` refuses it in words; `iom synth --replace` builds a whole new database from it,
    keeping its users; `iom init` then succeeds."""
    url = scratch_db.url
    engine = scratch_db.engine()
    init_database(engine)
    _add_keeper_and_reads(engine)
    with engine.begin() as connection:
        for table in ("alembic_version", "course_referrals", "course_controls", "trial_allocations"):
            connection.execute(text(f"DROP TABLE {table}"))
    engine.dispose()
    refused = subprocess.run([str(IOM), "init"], env=env(url), capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "nothing was changed" in refused.stderr, refused.stderr
    iom(url, *SYNTH, "--seed", "1")
    iom(url, "init")
    assert scalar(engine, "SELECT count(*) FROM users") == 1
    assert scalar(engine, "SELECT count(*) FROM people") > 1000
