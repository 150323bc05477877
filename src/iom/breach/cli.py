"""`iom breach record|outcome|show|queue`: breaches from the console, audited like the pages."""

from __future__ import annotations

import datetime as dt

import typer

from iom.terminal import as_of_option, console, day, printed_brief, options_model, purpose_option, state, user_option

PURPOSE = "breach of orders and licences (CLI)"


def _print(b) -> None:
    ended = (f"{b.outcome} on {b.outcome_on}" + (f", expected release {b.custody_until}" if b.custody_until else "")
             if b.outcome else "open")
    console.print(f"  #{b.id}  {b.breached_on}  {b.kind}: {b.order_name}; {b.nature}; action {b.action}; {ended}",
                  highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    breach = typer.Typer(help="Breach of orders and licences: record, outcome, the central team's queue (audited).",
                         no_args_is_help=True)
    app.add_typer(breach, name="breach")

    @breach.command("record")
    def record(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        kind: str = typer.Option(..., "--kind", help="order or licence."),
        order_name: str = typer.Option(..., "--order", help="The order or licence, as the court or prison named it."),
        on: dt.datetime = typer.Option(..., "--on", formats=["%Y-%m-%d"], help="The day of the breach."),
        nature: str = typer.Option(..., "--nature", help="non-compliance, missed appointment, further offence, "
                                                         "re-arrest or condition broken."),
        action: str = typer.Option(..., "--action", help="warning, recall, warrant or court."),
        details: str = typer.Option(None, "--details", help="What happened (free text)."),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Record a breach of an order or licence: on the timeline and in the queue until its outcome."""
        from iom.breach import flows
        from iom.breach.schemas import BreachIn
        from iom.casefile.commands import command_access, person_id

        body = options_model(BreachIn, kind=kind, order_name=order_name, breached_on=day(on), nature=nature,
                             action=action, details=details)
        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            made = flows.record_breach(access, person_id=person_id(access, person), body=body)
        console.print(f"breach #{made.id} recorded (by {made.recorded_by}):", highlight=False)
        _print(made)

    @breach.command("outcome")
    def outcome(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        breach_id: int = typer.Argument(..., help="The breach's number (iom breach show)."),
        result: str = typer.Option(..., "--outcome", help="no further action, warning given, returned to custody, "
                                                          "order varied, order revoked, resentenced or withdrawn."),
        on: dt.datetime = typer.Option(..., "--on", formats=["%Y-%m-%d"], help="The day of the outcome."),
        custody_until: dt.datetime = typer.Option(None, "--custody-until", formats=["%Y-%m-%d"],
                                                  help="Expected release (custody outcomes only)."),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Record how a breach ended; it leaves the queue."""
        from iom.breach import flows, views
        from iom.breach.schemas import OutcomeIn
        from iom.casefile.commands import command_access, person_id

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            pid = person_id(access, person)
            current = views.breach(access, person_id=pid, breach_id=breach_id)
            body = options_model(OutcomeIn, outcome=result, outcome_on=day(on), custody_until=day(custody_until),
                                 version=current.version)
            done = flows.record_outcome(access, person_id=pid, breach_id=breach_id, body=body)
        console.print("outcome recorded:", highlight=False)
        _print(done)

    @breach.command("show")
    def show(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        as_of: dt.datetime = as_of_option(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """A person's breaches, newest first (a read of their record, audited)."""
        from iom.breach import views
        from iom.casefile.commands import command_access, person_id

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.person_breaches(access, person_id(access, person))
        if printed_brief(found, as_json=as_json):
            return
        if not found.breaches:
            console.print("no breaches recorded")
        for b in found.breaches:
            _print(b)

    @breach.command("queue")
    def queue(
        ctx: typer.Context,
        as_of: dt.datetime = as_of_option(),
        lomu: str = typer.Option(None, "--lomu", help="Only breaches of people this LOMU manages."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        summary: bool = typer.Option(False, "--summary", help="Print one line."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Open breaches (no outcome yet), oldest first: the central IOM team's queue."""
        from iom.breach import views
        from iom.casefile.commands import command_access

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.queue(access, lomu=lomu)
        if printed_brief(found, as_json=as_json, summary=summary):
            return
        console.print(f"{found.summary()} as of {found.as_of}", highlight=False)
        for r in found.rows:
            console.print(f"  {r.pseudo_id}  {r.name or ''}  LOMU {r.lomu_code or '-'}; open {r.days_open} days:",
                          highlight=False, end="")
            _print(r.breach)
