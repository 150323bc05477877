"""`iom mappa due|show|record|panel|end`: MAPPA from the console, audited like the pages."""

from __future__ import annotations

import datetime as dt

import typer

from iom.terminal import as_of_option, console, day, printed_brief, purpose_option, state, user_option

PURPOSE = "MAPPA review (CLI)"


def _date_option(flag: str, help: str, required: bool = True):
    return typer.Option(... if required else None, flag, formats=["%Y-%m-%d"], help=help)


def register(app: typer.Typer) -> None:
    mappa = typer.Typer(help="MAPPA categories, levels, panels and ViSOR (specialists; audited).", no_args_is_help=True)
    app.add_typer(mappa, name="mappa")

    @mappa.command("due")
    def due(
        ctx: typer.Context,
        as_of: dt.datetime = as_of_option(),
        lomu: str = typer.Option(None, "--lomu", help="Only cases this LOMU manages (or whose home NPU it covers)."),
        level: int = typer.Option(None, "--level", help="Only level 2 or level 3 cases."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        summary: bool = typer.Option(False, "--summary", help="Print one line: how many are due and overdue."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Level-2 and level-3 cases whose panel is overdue or due soon, most overdue first."""
        from iom.casefile.commands import command_access
        from iom.mappa import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.due(access, lomu=lomu, level=level)
        if printed_brief(found, as_json=as_json, summary=summary):
            return
        console.print(f"{found.summary()} as of {found.as_of} ({found.rules_version})", highlight=False)
        for r in found.rows:
            standing = (f"overdue {r.days_overdue} day{'s' if r.days_overdue != 1 else ''}" if r.state == "overdue"
                        else "due soon")
            console.print(f"  {r.pseudo_id}  {r.name or ''}  category {r.category}, level {r.level}, LOMU "
                          f"{r.lomu_code or '-'}; last panel {r.last_panel or 'never'}; due {r.due_on}: {standing}",
                          highlight=False, soft_wrap=True)

    @mappa.command("show")
    def show(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        as_of: dt.datetime = as_of_option(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """A person's MAPPA history, panels and next panel (a read of their record, audited)."""
        from iom.casefile.commands import command_access, person_id
        from iom.mappa import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.person_mappa(access, person_id(access, person))
        if printed_brief(found, as_json=as_json):
            return
        now = found.current
        console.print(f"as of {found.as_of}: " + (f"category {now.category}, level {now.level}" if now else
                                                   "not managed under MAPPA"), highlight=False)
        if found.next_panel is not None:
            n = found.next_panel
            console.print(f"  next panel due {n.due_on} ({n.state}; every {n.interval_days} days at level {n.level}; "
                          f"last {n.last_panel or 'never'})", highlight=False)
        for r in found.history:
            ended = f" ended {r.ended_on}" if r.ended_on else ""
            console.print(f"  {r.effective_from}  category {r.category}, level {r.level}{ended}; chair "
                          f"{r.chairing_agency or '-'}; ViSOR {r.visor_id or '-'}; partner {r.partnering_officer or '-'}"
                          f" ({r.recorded_by}): {r.reason or ''}", highlight=False)
        for p in found.panels:
            console.print(f"  {p.held_on}  level {p.level} panel, chair {p.chair or '-'}: {p.outcome or ''}",
                          highlight=False)

    @mappa.command("record")
    def record(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        category: int = typer.Option(..., "--category", help="1 registered sexual, 2 violent, 3 other dangerous, "
                                                             "4 terrorism risk."),
        level: int = typer.Option(..., "--level", help="1 ordinary agency management, 2 multi-agency, 3 senior."),
        reason: str = typer.Option(..., "--reason", help="Why (kept with the record)."),
        chair: str = typer.Option(None, "--chair", help="Chairing agency (level 2 or 3; default: the current one)."),
        visor: str = typer.Option(None, "--visor", help="ViSOR reference (default: the current one)."),
        partner: str = typer.Option(None, "--partner", help="Partnering officer (default: the current one, else the "
                                                            "offender manager)."),
        start: dt.datetime = _date_option("--from", "In force from (default: the data's reference date).", False),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Record a person's MAPPA category and level (a new row of their history)."""
        from iom.casefile.commands import command_access, person_id
        from iom.mappa import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            made = flows.record_mappa(access, person_id=person_id(access, person), category=category, level=level,
                                      reason=reason, chairing_agency=chair, visor_id=visor, partnering_officer=partner,
                                      effective_from=day(start))
        console.print(f"MAPPA record #{made.id}: category {made.category}, level {made.level} from "
                      f"{made.effective_from} (by {made.recorded_by})", highlight=False)

    @mappa.command("panel")
    def panel(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        on: dt.datetime = _date_option("--on", "The day the panel was held."),
        chair: str = typer.Option(None, "--chair", help="Who chaired (default: the chairing agency)."),
        outcome: str = typer.Option(None, "--outcome", help="What the panel decided."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Record a panel held for a level-2 or level-3 case."""
        from iom.casefile.commands import command_access, person_id
        from iom.mappa import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            held = flows.record_panel(access, person_id=person_id(access, person), held_on=day(on), chair=chair,
                                      outcome=outcome)
        console.print(f"MAPPA panel #{held.id}: level {held.level}, held {held.held_on}", highlight=False)

    @mappa.command("end")
    def end(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        on: dt.datetime = _date_option("--on", "The day MAPPA management ended."),
        reason: str = typer.Option(..., "--reason", help="Why it ended."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """End a person's MAPPA management: from that day MAPPA no longer restricts their record."""
        from iom.casefile.commands import command_access, person_id
        from iom.mappa import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            ended = flows.end_mappa(access, person_id=person_id(access, person), ended_on=day(on), reason=reason)
        console.print(f"MAPPA management ended on {ended.ended_on} (record #{ended.id})", highlight=False)

