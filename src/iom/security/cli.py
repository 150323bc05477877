"""`iom users add|link|demo|list`, `iom audit verify|checkpoint|export`, `iom backup` and `iom restore`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from iom.db import session_scope
from iom.errors import UserError
from iom.security import audit, service
from iom.security import backup as backups
from iom.security.models import ROLES
from iom.security.roles import cli_actor


def register(app: typer.Typer) -> None:
    from iom.terminal import console, state

    users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
    audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")

    @users_app.command("add")
    def add(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="Username."),
        role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
        lomu: str = typer.Option(None, "--lomu", help="LOMU code (offender managers and supervisors)."),
        officer: str = typer.Option(None, "--officer", help="The officer management records name for them "
                                                            "(their own caseload), e.g. 'PC 1234'."),
        password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    ) -> None:
        """Add a user; the password is prompted for (or read from stdin), never an argument."""
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        with session_scope(state(ctx).engine) as session:
            user = service.add_user(session, username=name, password=password, role=role, lomu_code=lomu, officer=officer)
            console.print(f"added {user.username} ({user.role}{', LOMU ' + user.lomu_code if user.lomu_code else ''})")

    @users_app.command("link")
    def link(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="Username."),
        officer: str = typer.Option(..., "--officer", help="The officer's name as management records give it ('' unlinks)."),
    ) -> None:
        """Link a user to an officer: their home page becomes that officer's own caseload."""
        with session_scope(state(ctx).engine) as session:
            user = service.link_officer(session, username=name, officer=officer)
            console.print(f"{user.username} is {'linked to ' + user.officer if user.officer else 'linked to no officer'}")

    @users_app.command("demo")
    def demo(
        ctx: typer.Context,
        lomu: str = typer.Option(None, "--lomu", help="LOMU for the demo offender manager and supervisor."),
    ) -> None:
        """One demo user per role with a fresh random password, printed once."""
        with session_scope(state(ctx).engine) as session:
            logins = service.demo_users(session, lomu_code=lomu)
        table = Table(title="Demo logins (passwords shown once; run again to reset)")
        for column in ("username", "role", "LOMU", "officer", "password"):
            table.add_column(column)
        for login in logins:
            table.add_row(login.username, login.role, login.lomu_code or "all units", login.officer or "", login.password)
        console.print(table)

    @users_app.command("list")
    def list_(ctx: typer.Context) -> None:
        """Users, roles and LOMUs (never passwords)."""
        with session_scope(state(ctx).engine) as session:
            rows = [(u.username, u.role, u.lomu_code or "", "yes" if u.active else "no") for u in service.list_users(session)]
        table = Table()
        for column in ("username", "role", "LOMU", "active"):
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        console.print(table)

    @audit_app.command("verify")
    def verify(
        ctx: typer.Context,
        against: Path = typer.Option(None, "--against", help="Also match an exported checkpoint file "
                                                              "(`iom audit checkpoint --export`)."),
    ) -> None:
        """Recompute the keyed hash chain and match it to every signed checkpoint; exit 1 at the first break."""
        point = audit.load_checkpoint(against) if against is not None else None
        with session_scope(state(ctx).engine) as session:
            result = audit.verify(session, against=point)
        if not result.ok:
            where = f" at row id {result.first_bad_id}" if result.first_bad_id is not None else ""
            console.print(f"[bold red]audit log BROKEN[/]{where}: {result.reason}", highlight=False)
            raise typer.Exit(1)
        unkeyed = f" ({result.unkeyed:,} from before the key, plain SHA-256)" if result.unkeyed else ""
        console.print(f"audit log intact: {result.rows:,} rows{unkeyed}, hash chain verified, "
                      f"{result.checkpoints:,} signed checkpoints matched", highlight=False)
        if result.rows > result.covered_to:
            console.print(f"rows after id {result.covered_to:,} are covered by no checkpoint yet: removing them would "
                          "not show (run `iom audit checkpoint --export FILE` and keep the file elsewhere)", highlight=False)

    @audit_app.command("checkpoint")
    def checkpoint(
        ctx: typer.Context,
        export: Path = typer.Option(None, "--export", help="Also write the checkpoint to this JSON file, "
                                                           "to keep out of the database owner's reach."),
    ) -> None:
        """Sign the chain's head now (rows, last id, head hash); run it on a schedule."""
        if export is not None and export.is_dir():
            raise UserError(f"{export} is a directory")
        with session_scope(state(ctx).engine) as session:
            point = audit.checkpoint(session)
        if export is not None:
            audit.export_checkpoint(point, export)
        console.print(f"checkpoint signed: {point.rows:,} rows up to id {point.last_id:,}, head {point.head_hash[:16]}…"
                      + (f", written to {export}" if export is not None else ""), highlight=False)

    @audit_app.command("export")
    def export(ctx: typer.Context, file: Path = typer.Argument(..., help="CSV file to write.")) -> None:
        """Write the whole log (with hashes) to FILE; the export itself is logged."""
        engine = state(ctx).engine
        if file.exists() and file.is_dir():
            raise UserError(f"{file} is a directory")
        with session_scope(engine) as session:
            count = audit.export(session, file)
        audit.record(engine, actor=cli_actor(), action="export", resource="audit_log", purpose="audit export (CLI)",
                     detail={"file": str(file), "rows": count})
        console.print(f"wrote {count:,} audit rows to {file}")

    @app.command("backup")
    def backup(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="File to write (SQLite: a database file; PostgreSQL: a pg_dump archive)."),
        replace: bool = typer.Option(False, "--replace", help="Overwrite FILE if it exists."),
    ) -> None:
        """Copy the whole database to FILE while it runs, re-read the copy and verify its audit chain."""
        engine = state(ctx).engine
        audit.record(engine, actor=cli_actor(), action="export", resource="database", purpose="backup (CLI)",
                     detail={"file": str(file)})
        copied = backups.backup(engine, file, replace=replace)
        _report(copied, f"backup written to {copied.path}")

    @app.command("restore")
    def restore(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="A file written by `iom backup`."),
        replace: bool = typer.Option(False, "--replace", help="Overwrite a database that holds people, users or audit rows."),
    ) -> None:
        """Replace the database with a checked backup, then verify the result (stop the server first)."""
        engine = state(ctx).engine
        copied = backups.restore(engine, file, replace=replace)
        if copied.audit.ok:
            audit.record(engine, actor=cli_actor(), action="write", resource="database", purpose="restore (CLI)",
                         detail={"file": str(file), "rows": copied.counts})
        _report(copied, f"restored from {file}")

    def _report(copied: backups.Copied, done: str) -> None:
        counts = ", ".join(f"{n:,} {table}" for table, n in copied.counts.items())
        console.print(f"{done} ({copied.backend}): {counts}", highlight=False)
        if not copied.audit.ok:
            where = f" at row id {copied.audit.first_bad_id}" if copied.audit.first_bad_id is not None else ""
            console.print(f"[bold red]the copy's audit log is BROKEN[/]{where}: {copied.audit.reason}", highlight=False)
            raise typer.Exit(1)
        console.print(f"copy re-read: audit log intact, {copied.audit.rows:,} rows, hash chain verified", highlight=False)
