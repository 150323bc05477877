"""`iom refer`, `iom referral ...` and `iom providers`: referrals from the console, audited.
A refusal (a provider's rule, the lifecycle, a stale version) prints its words and exits 2."""

from __future__ import annotations

import datetime as dt

import typer

from iom.errors import UserError
from iom.terminal import as_of_option, console, day, purpose_option, state, user_option

PURPOSE = "case management (CLI)"
ATTENDANCE = {"attended": "attended", "late": "late", "did-not-attend": "did not attend"}


def _version_option():
    return typer.Option(None, "--version", min=1, help="The version your change is based on (refused if it is stale).")


def _json_option():
    return typer.Option(False, "--json", help="Print JSON.")


def parse_outcomes(values: list[str]) -> dict[str, str]:
    """``"desired outcome=achieved"`` (or partly, not) for each ``--outcome``."""
    graded: dict[str, str] = {}
    for value in values:
        desired, sep, grade = value.rpartition("=")
        if not sep or not desired.strip():
            raise UserError(f"--outcome takes \"desired outcome=achieved\" (or =partly, =not), not {value!r}")
        graded[desired.strip()] = grade.strip()
    return graded


def _print(detail, as_json: bool) -> None:
    if as_json:
        print(detail.model_dump_json(indent=1))
        return
    console.print(f"referral #{detail.id} to {detail.provider_name} ({detail.pathway}) for {detail.pseudo_id}: "
                  f"[bold]{detail.status}[/] (version {detail.version})", highlight=False)
    for key in ("created_on", "sent_on", "accepted_on", "started_on", "ended_on"):
        if getattr(detail, key):
            console.print(f"  {key.replace('_on', '').replace('_', ' ')}: {getattr(detail, key)}", highlight=False)
    if detail.reason:
        console.print(f"  reason: {detail.reason}", highlight=False)
    for outcome in detail.desired_outcomes or []:
        console.print(f"  desired outcome: {outcome}", highlight=False)
    if detail.end_reason:
        console.print(f"  why it ended: {detail.end_reason}", highlight=False)
    for s in getattr(detail, "sessions", []):
        console.print(f"  session {s.held_on}: {s.attendance}" + (f" ({s.behaviour})" if s.behaviour else ""), highlight=False)
    for o in getattr(detail, "outcomes", []):
        console.print(f"  outcome: {o.desired_outcome}: {o.achievement}", highlight=False)
    if detail.allowed_actions:
        console.print(f"  next: {', '.join(detail.allowed_actions)}", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def refer(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        provider: str = typer.Option(..., "--provider", help="Provider code (see `iom providers`)."),
        pathway: str = typer.Option(..., "--pathway", help="The pathway the referral serves (e.g. ete, health)."),
        reason: str = typer.Option(..., "--reason", help="Why the referral is made."),
        outcome: list[str] = typer.Option([], "--outcome", help="A desired outcome (repeat for more)."),
        source: str = typer.Option("plan", "--source", help="plan, oocd, voluntary, marac or other."),
        send: bool = typer.Option(False, "--send", help="Send it to the provider at once."),
        as_of: dt.datetime = as_of_option(),
        as_json: bool = _json_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Refer a person to a provider: refused, with the provider's words, if its rules do not take them."""
        from iom.casefile.commands import command_access, person_id
        from iom.referrals import flows

        if source not in ("plan", "oocd", "voluntary", "marac", "other"):
            raise UserError(f"--source is plan, oocd, voluntary, marac or other, not {source!r}")
        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            detail = flows.make_referral(access, person_id=person_id(access, person), provider=provider, pathway=pathway,
                                         reason=reason, desired_outcomes=outcome, source=source, send=send)
        _print(detail, as_json)

    @app.command()
    def providers(as_json: bool = _json_option()) -> None:
        """The provider directory: what each serves, where, and each eligibility rule in words."""
        from iom.referrals import service

        found = service.directory_out()
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        console.print(f"[bold]{found.version}[/] ({found.source})", highlight=False)
        for p in found.providers:
            console.print(f"\n[bold]{p.code}[/]  {p.name}: {', '.join(p.pathways)}; {p.areas}", highlight=False)
            for rule in p.rules:
                console.print(f"  - {rule.words}", highlight=False)

    referral = typer.Typer(help="Referrals to providers: list, show, and move along the lifecycle (audited).",
                           no_args_is_help=True)
    app.add_typer(referral, name="referral")

    @referral.command("list")
    def list_(
        ctx: typer.Context,
        person: str = typer.Argument(None, help="Only this person's (pseudo id, source id or id)."),
        provider: str = typer.Option(None, "--provider", help="Only this provider's."),
        status: str = typer.Option(None, "--status", help="Only in this status (e.g. sent, \"in progress\")."),
        page: int = typer.Option(1, "--page", min=1),
        as_of: dt.datetime = as_of_option(),
        as_json: bool = _json_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Referrals, newest first (a search, audited)."""
        from iom.casefile.commands import command_access, person_id
        from iom.referrals import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.in_scope(access, person_id=person_id(access, person) if person else None, provider=provider,
                                   status=status, page=page)
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        for r in found.items:
            console.print(f"#{r.id:<6} {r.created_on} {r.pseudo_id:<10} {r.provider_code:<28} {r.pathway:<18} {r.status}",
                          highlight=False)
        console.print(f"{found.total:,} referrals" + (f" (page {found.page})" if found.total > found.per_page else ""),
                      highlight=False)

    @referral.command("show")
    def show(ctx: typer.Context, referral_id: int = typer.Argument(..., min=1), as_of: dt.datetime = as_of_option(),
             as_json: bool = _json_option(), user: str = user_option(), purpose: str = purpose_option(PURPOSE)) -> None:
        """One referral: its dates, sessions, outcomes and what it can do next (a read, audited)."""
        from iom.casefile.commands import command_access
        from iom.referrals import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            detail = views.referral(access, referral_id)
        _print(detail, as_json)

    def _simple(action: str, help_text: str) -> None:
        def command(ctx: typer.Context, referral_id: int = typer.Argument(..., min=1), version: int = _version_option(),
                    as_of: dt.datetime = as_of_option(), as_json: bool = _json_option(), user: str = user_option(),
                    purpose: str = purpose_option(PURPOSE)) -> None:
            from iom.casefile.commands import command_access
            from iom.referrals import flows

            with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
                detail = flows.change_status(access, referral_id=referral_id, action=action, version=version)
            _print(detail, as_json)

        command.__doc__ = help_text
        referral.command(action)(command)

    _simple("send", "Send a draft referral to its provider.")
    _simple("accept", "Record that the provider accepted the referral.")
    _simple("start", "Record that the intervention started (sessions can then be recorded).")

    @referral.command("session")
    def session(
        ctx: typer.Context,
        referral_id: int = typer.Argument(..., min=1),
        on: dt.datetime = typer.Option(..., "--on", formats=["%Y-%m-%d"], help="The day of the session."),
        attendance: str = typer.Option(..., "--attendance", help="attended, late or did-not-attend."),
        behaviour: str = typer.Option(None, "--behaviour", help="Behaviour notes."),
        version: int = _version_option(),
        as_of: dt.datetime = as_of_option(),
        as_json: bool = _json_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Record a session of a referral in progress."""
        from iom.casefile.commands import command_access
        from iom.referrals import flows

        if attendance not in ATTENDANCE:
            raise UserError(f"--attendance is attended, late or did-not-attend, not {attendance!r}")
        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            detail = flows.record_session(access, referral_id=referral_id, version=version, held_on=on.date(),
                                          attendance=ATTENDANCE[attendance], behaviour=behaviour)
        _print(detail, as_json)

    def _ending(action: str, help_text: str, *, needs_reason: bool, takes_outcomes: bool) -> None:
        def command(ctx: typer.Context, referral_id: int = typer.Argument(..., min=1),
                    reason: str = typer.Option(... if needs_reason else None, "--reason", help="Why."),
                    outcome: list[str] = typer.Option([], "--outcome", help='"desired outcome=achieved|partly|not" (repeat).'),
                    version: int = _version_option(), as_of: dt.datetime = as_of_option(),
                    as_json: bool = _json_option(), user: str = user_option(),
                    purpose: str = purpose_option(PURPOSE)) -> None:
            from iom.casefile.commands import command_access
            from iom.referrals import flows

            graded = parse_outcomes(outcome)
            if graded and not takes_outcomes:
                raise UserError("a cancelled referral records no outcomes")
            with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
                detail = flows.change_status(access, referral_id=referral_id, action=action, version=version,
                                             reason=reason, outcomes=graded)
            _print(detail, as_json)

        command.__doc__ = help_text
        referral.command(action)(command)

    _ending("complete", "Complete a referral in progress, with an outcome for each desired outcome.",
            needs_reason=False, takes_outcomes=True)
    _ending("end", "End a referral in progress early, with the reason and an outcome for each desired outcome.",
            needs_reason=True, takes_outcomes=True)
    _ending("cancel", "Cancel a draft, sent or accepted referral, with the reason.", needs_reason=True,
            takes_outcomes=False)
