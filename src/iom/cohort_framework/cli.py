"""`iom cohort eligibility|reset-review|exits|officers|allocate`: the cohort framework from
the console, audited like the pages."""

from __future__ import annotations

import datetime as dt

import typer

from iom.terminal import as_of_option, console, day, printed_brief, purpose_option, state, user_option

PURPOSE = "cohort management (CLI)"


def _lomu_option():
    return typer.Option(None, "--lomu", help="Only this LOMU's members.")


def register(app: typer.Typer) -> None:
    cohort = typer.Typer(help="Cohort framework: eligibility, the reset review, de-selection, officers' workloads "
                              "and allocation (audited).", no_args_is_help=True)
    app.add_typer(cohort, name="cohort")

    @cohort.command("eligibility")
    def eligibility_cmd(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        as_of: dt.datetime = as_of_option(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Every classification's rule judged for one person, in words (a read of their record)."""
        import json

        from iom.casefile.commands import command_access, person_id
        from iom.cohort_framework import eligibility, views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.person_eligibility(access, person_id(access, person))
            when = access.as_of
        if as_json:
            print(json.dumps([j.__dict__ for j in found], indent=1))
            return
        chosen = eligibility.proposal(found)
        console.print(f"as of {when}: " + (f"proposed for {chosen.classification} ({chosen.rule})" if chosen
                                           else "eligible for no classification"), highlight=False)
        for j in found:
            console.print(f"  {'yes' if j.holds else 'no '}  {j.classification:<9} {j.rule}: {j.words}",
                          highlight=False, soft_wrap=True)

    @cohort.command("reset-review")
    def reset_review(
        ctx: typer.Context,
        as_of: dt.datetime = as_of_option(),
        lomu: str = _lomu_option(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        summary: bool = typer.Option(False, "--summary", help="Print one line."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Every current member whose classification's eligibility has lapsed, with why."""
        from iom.casefile.commands import command_access
        from iom.cohort_framework import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.reset_review(access, lomu=lomu)
        if printed_brief(found, as_json=as_json, summary=summary):
            return
        console.print(f"{found.summary()} as of {found.as_of} ({found.rules_version})", highlight=False)
        for m in found.lapsed:
            instead = f"; eligible now for {m.eligible_instead}" if m.eligible_instead else ""
            console.print(f"  {m.pseudo_id}  {m.lomu_code or '-'}  {m.classification} since {m.adopted_on}: "
                          f"{m.why}{instead}", highlight=False, soft_wrap=True)

    @cohort.command("exits")
    def exits(
        ctx: typer.Context,
        as_of: dt.datetime = as_of_option(),
        lomu: str = _lomu_option(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        summary: bool = typer.Option(False, "--summary", help="Print one line."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Members proposed for exit by the de-selection criteria, each with its reasons."""
        from iom.casefile.commands import command_access
        from iom.cohort_framework import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.exit_proposals(access, lomu=lomu)
        if printed_brief(found, as_json=as_json, summary=summary):
            return
        console.print(f"{found.summary()} as of {found.as_of} ({found.rules_version}); `iom exit PERSON --reason T` "
                      "writes an exit", highlight=False)
        for p in found.proposals:
            console.print(f"  {p.pseudo_id}  {p.lomu_code or '-'}  {', '.join(p.classifications)}: "
                          + "; ".join(p.reasons), highlight=False, soft_wrap=True)

    @cohort.command("officers")
    def officers(
        ctx: typer.Context,
        as_of: dt.datetime = as_of_option(),
        lomu: str = _lomu_option(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        summary: bool = typer.Option(False, "--summary", help="Print one line."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Each officer's cases and workload points against their capacity."""
        from rich.table import Table

        from iom.casefile.commands import command_access
        from iom.cohort_framework import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.workload(access, lomu=lomu)
        if printed_brief(found, as_json=as_json, summary=summary):
            return
        table = Table(title=f"Officers' workloads as of {found.as_of} ({found.rules_version}): {found.summary()}")
        for col in ("LOMU", "officer", "cases", "points", "capacity", "load"):
            table.add_column(col, justify="left" if col in ("LOMU", "officer") else "right")
        for o in found.officers:
            flag = " over" + (" (overridden)" if o.overridden else "") if o.over else ""
            table.add_row(o.lomu_code, o.officer, str(o.cases), str(o.points), str(o.capacity), f"{o.share:.0%}{flag}")
        console.print(table)

    @cohort.command("allocate")
    def allocate(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        officer: str = typer.Option(None, "--officer", help="The officer (default: the one in the person's LOMU "
                                                           "with most room)."),
        reason: str = typer.Option(None, "--reason", help="Needed to take an officer over capacity."),
        on: dt.datetime = typer.Option(None, "--on", formats=["%Y-%m-%d"], help="From (default: the reference date)."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Allocate a managed person to an officer, within capacity unless a reason is given."""
        from iom.casefile.commands import command_access, person_id
        from iom.cohort_framework import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            made = flows.allocate(access, person_id=person_id(access, person), officer=officer, reason=reason,
                                  on=day(on))
        over = f"; over capacity: {made.over_capacity_reason}" if made.over_capacity_reason else ""
        console.print(f"allocated to {made.officer} ({made.lomu_code}) from {made.allocated_on}: {made.points} points, "
                      f"load {made.load_before} → {made.load_before + made.points} of {made.capacity}{over}",
                      highlight=False)
