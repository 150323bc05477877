"""`iom import` (CSV into the register). `iom export` is the case file's (``iom.casefile.cli``):
every person's record leaves in it, so it is audited like a read."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from iom.errors import UserError
from iom.register import importer


def _fail(exc: UserError) -> SystemExit:
    """Print a user error as ``iom.cli.main`` does and exit 2.

    SystemExit rather than typer.Exit: ``main`` runs click in non-standalone mode, where a
    typer.Exit code is returned rather than used, so the shell would see 0."""
    from iom.terminal import err_console

    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return SystemExit(2)


def register(app: typer.Typer) -> None:
    from iom.terminal import console, state

    file_option = dict(exists=False, dir_okay=False, show_default=False)

    @app.command("import")
    def import_(
        ctx: typer.Context,
        files: list[Path] = typer.Argument(None, help="CSV files, each recognised by its header.", **file_option),
        people: Path = typer.Option(None, "--people", help="People CSV.", **file_option),
        crimes: Path = typer.Option(None, "--crimes", help="Crimes CSV.", **file_option),
        markers: Path = typer.Option(None, "--markers", help="Vulnerability markers CSV.", **file_option),
        cohorts: Path = typer.Option(None, "--cohorts", help="Cohort memberships CSV.", **file_option),
        risk: Path = typer.Option(None, "--risk", help="Risk level history CSV.", **file_option),
        management: Path = typer.Option(None, "--management", help="Management history CSV.", **file_option),
        check: bool = typer.Option(False, "--check", help="Check every row and report, then write nothing."),
    ) -> None:
        """Import people, crimes, markers, cohort memberships and histories from CSV.

        One transaction: any bad row and nothing is written. Re-importing updates by source_id.

        Column layouts: docs/import-export.md."""
        try:
            named = {
                k: v
                for k, v in dict(
                    people=people, crimes=crimes, markers=markers, cohorts=cohorts, risk=risk, management=management
                ).items()
                if v is not None
            }
            found = importer.classify_files(files or [])
            for kind, path in found.items():
                if kind in named:
                    raise UserError(f"two {kind} files: {named[kind]} and {path}")
                named[kind] = path
            engine = state(ctx).engine
            with Progress(
                TextColumn("{task.description:>10}"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as bar:
                tasks: dict[str, int] = {}

                def progress(kind: str, done: int, total: int) -> None:
                    if kind not in tasks:
                        tasks[kind] = bar.add_task(kind, total=total)
                    bar.update(tasks[kind], completed=done)

                result = importer.import_files(engine, named, progress=progress, check_only=check)
        except UserError as exc:
            raise _fail(exc) from None
        table = Table(title="Checked: nothing written" if check else "Imported")
        for heading in ("file", "kind", "rows", "new", "updated", "unchanged"):
            table.add_column(heading, justify="left" if heading in ("file", "kind") else "right")
        for f in result.files:
            table.add_row(f.path, f.kind, f"{f.rows:,}", f"{f.inserted:,}", f"{f.updated:,}", f"{f.unchanged:,}")
        console.print(table)
        verb = "checked (nothing written)" if check else "imported"
        console.print(f"{verb} {result.rows:,} rows from {len(result.files)} file(s)")
