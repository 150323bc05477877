"""`iom person`: a person's case file at the console, audited like a page view; `iom export`:
every table to Parquet, every person's whole record, audited as one export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.markup import escape

from iom.terminal import as_of_option, console, day, purpose_option, state, user_option


def register(app: typer.Typer) -> None:
    @app.command()
    def person(
        ctx: typer.Context,
        ref: str = typer.Argument(..., help="Pseudo id, source id or id."),
        as_of: dt.datetime = as_of_option(),
        as_json: bool = typer.Option(False, "--json", help="Print the whole record as JSON."),
        timeline: int = typer.Option(15, "--timeline", help="Timeline entries to print (JSON prints all)."),
        user: str = user_option(),
        purpose: str = purpose_option("case management (CLI)"),
    ) -> None:
        """A person's record: summary, flags, every domain's parts and the newest timeline."""
        from iom.casefile.commands import command_access, person_id

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            record = access.person(person_id(access, ref))
        if as_json:
            print(record.model_dump_json(indent=1))
            return
        console.print(f"[bold]{record.name or record.pseudo_id}[/] ({record.pseudo_id}) as of {record.as_of}", highlight=False)
        facts = {
            "cohorts": ", ".join(record.classifications) or "none current",
            "risk": f"{record.risk or '-'} (next review {record.next_review or '-'})",
            "management": ", ".join(x for x in (record.offender_type, record.lead_agency, record.lomu_code) if x) or "-",
            "flags": ", ".join(record.flags) or "none",
        }
        for key, value in facts.items():
            console.print(f"  {key}: {value}", highlight=False)
        for event in record.timeline[:timeline]:
            console.print(f"  {event.on}  {event.kind:<10} {event.text}", highlight=False)

    @app.command("export")
    def export_(
        ctx: typer.Context,
        directory: Path = typer.Argument(..., help="Directory to write <table>.parquet and manifest.json into."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing export in DIRECTORY."),
        user: str = user_option(),
        purpose: str = purpose_option("export (CLI)"),
    ) -> None:
        """Export every table to Parquet (deterministic bytes, sha256 in manifest.json). Audited
        before anything is written: if the audit row cannot be written, nothing is exported."""
        from iom.casefile.commands import command_access
        from iom.errors import UserError
        from iom.register import export as exporter
        from iom.terminal import err_console

        engine = state(ctx).engine
        try:
            target = exporter.check_target(directory, overwrite=overwrite)
            with command_access(engine, user=user, purpose=purpose) as access:
                access.log("export", "database", directory=str(target), tables=exporter.exported_tables())
            with console.status("exporting…") as status:
                written = exporter.export_database(
                    engine, directory, overwrite=overwrite,
                    progress=lambda name, rows: status.update(f"exported {name} ({rows:,} rows)"),
                )
        except UserError as exc:
            # SystemExit, not typer.Exit: ``iom.cli.main`` runs click in non-standalone mode.
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise SystemExit(2) from None
        total = sum(w.rows for w in written)
        console.print(f"exported {len(written)} tables, {total:,} rows, to {directory} (see {exporter.MANIFEST})")
