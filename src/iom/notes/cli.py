"""`iom note add` and `iom note list`: a person's notes from the console, audited."""

from __future__ import annotations

import json

import typer

from iom.terminal import console, purpose_option, state, user_option


def register(app: typer.Typer) -> None:
    notes = typer.Typer(help="Notes on a person's record (audited).", no_args_is_help=True)
    app.add_typer(notes, name="note")

    @notes.command("add")
    def add(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        text: str = typer.Option(..., "--text", help="The note (at most 5,000 characters)."),
        user: str = user_option(),
        purpose: str = purpose_option("case management (CLI)"),
    ) -> None:
        """Add a note to a person's record."""
        from iom.casefile.commands import command_access, person_id
        from iom.notes import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            note = flows.write_note(access, person_id=person_id(access, person), text=text)
        console.print(f"note #{note.id} added by {note.author}")

    @notes.command("list")
    def list_(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        user: str = user_option(),
        purpose: str = purpose_option("case management (CLI)"),
    ) -> None:
        """A person's notes, newest first (a read of their record, audited)."""
        from iom.casefile.commands import command_access, person_id
        from iom.notes import service

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            who = access.read_subject(person_id(access, person), resource="person_note")
            found = service.list_notes(session=access.session, person_id=who.id)
        if as_json:
            print(json.dumps([n.model_dump(mode="json") for n in found], indent=1))
            return
        for n in found or []:
            console.print(f"[bold]{n.written_at:%Y-%m-%d %H:%M}[/] {n.author}: {n.text}", highlight=False)
        if not found:
            console.print("no notes")
