"""`iom person`: a person's case file at the console, audited like a page view."""

from __future__ import annotations

import datetime as dt

import typer

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
