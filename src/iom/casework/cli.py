"""Casework at the console: `iom needs`, `iom plan`, `iom review`, `iom adopt`, `iom exit`.
Every command goes through the case file (scoped, audited); refusals exit 2 in words."""

from __future__ import annotations

import datetime as dt
import json

import typer
from rich.table import Table

from iom.errors import UserError
from iom.terminal import as_of_option, console, day, options_model, purpose_option, state, user_option

PERSON = typer.Argument(..., help="Pseudo id, source id or id.")
DATE = ["%Y-%m-%d"]


def _print_json(value) -> None:
    print(json.dumps(value, indent=1, default=str))


def register(app: typer.Typer) -> None:
    needs = typer.Typer(help="Needs assessments over the pathways (audited).", no_args_is_help=True)
    plan = typer.Typer(help="Case plans: Control and Change actions (audited).", no_args_is_help=True)
    review = typer.Typer(help="Risk reviews (audited).", no_args_is_help=True)
    app.add_typer(needs, name="needs")
    app.add_typer(plan, name="plan")
    app.add_typer(review, name="review")

    @needs.command("assess")
    def assess(
        ctx: typer.Context,
        person: str = PERSON,
        need: list[str] = typer.Option(..., "--need", help="PATHWAY=LEVEL (none, standard or severe), e.g. "
                                       "accommodation=severe; repeat for each pathway. `iom needs pathways` lists them."),
        note: list[str] = typer.Option([], "--note", help="PATHWAY=TEXT: a note on one pathway's rating."),
        on: dt.datetime = typer.Option(None, "--on", formats=DATE, help="Date assessed (default: the working date)."),
        user: str = user_option(),
        purpose: str = purpose_option("case management (CLI)"),
    ) -> None:
        """Record a needs assessment: a new one, the earlier ones kept."""
        from iom.casefile.commands import command_access, person_id
        from iom.casework import flows, schemas, service

        notes = dict(_pair(n, "--note") for n in note)
        ratings = [schemas.NeedIn(pathway=p, level=_level(v), notes=notes.get(p)) for p, v in (_pair(n, "--need") for n in need)]
        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            pid = person_id(access, person)
            latest = service.latest_needs(session=access.session, person_id=pid, as_of=dt.date.max)
            body = schemas.NeedsAssessmentIn(ratings=ratings, assessed_on=day(on), based_on=latest.id if latest else None)
            done = flows.assess_needs(access, person_id=pid, body=body)
        console.print(f"needs assessment #{done.id} recorded on {done.assessed_on} ({len(done.ratings)} pathways)")

    @needs.command("pathways")
    def list_pathways() -> None:
        """The pathways a force assesses (`casework/data/pathways-v1.toml`, or IOM_RULES_DIR)."""
        from iom.casework.pathways import pathways

        catalogue = pathways()
        console.print(f"{catalogue.version}: {catalogue.source}", highlight=False)
        for p in catalogue.pathway:
            console.print(f"  {p.code:<18} {p.name}" + (f" (only {p.only_for})" if p.only_for else ""), highlight=False)

    @needs.command("show")
    def show_needs(ctx: typer.Context, person: str = PERSON, as_json: bool = typer.Option(False, "--json"),
                   user: str = user_option(), purpose: str = purpose_option("case management (CLI)")) -> None:
        """The latest needs assessment and the earlier ones (a read of the record, audited)."""
        from iom.casefile.commands import command_access, person_id
        from iom.casework import service

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            who = access.read_subject(person_id(access, person), resource="needs_assessment")
            found = service.latest_needs(session=access.session, person_id=who.id, as_of=access.as_of)
        if as_json:
            _print_json(found.model_dump(mode="json") if found else None)
        elif found is None:
            console.print("no needs assessment")
        else:
            console.print(f"assessed {found.assessed_on} by {found.assessor}", highlight=False)
            for n in found.ratings:
                console.print(f"  {n.name:<52} {n.level}" + (f"  {n.notes}" if n.notes else ""), highlight=False)

    @plan.command("show")
    def show_plan(ctx: typer.Context, person: str = PERSON, as_json: bool = typer.Option(False, "--json"),
                  user: str = user_option(), purpose: str = purpose_option("case management (CLI)")) -> None:
        """The case plan: actions, the Control/Change balance and sequencing warnings (audited)."""
        from iom.casefile.commands import command_access, person_id
        from iom.casework import service

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            who = access.read_subject(person_id(access, person), resource="case_plan")
            found = service.plan(session=access.session, person_id=who.id, as_of=access.as_of)
        if as_json:
            _print_json(found.model_dump(mode="json"))
            return
        table = Table(title=f"{found.control} control, {found.change} change")
        for col in ("id", "kind", "pathway", "action", "owner", "due", "status", "v"):
            table.add_column(col)
        for a in found.actions:
            table.add_row(str(a.id), a.kind, a.pathway_name, a.description or "", a.owner or "",
                          f"{a.due_on}" + (" (overdue)" if a.overdue else ""), a.status, str(a.version))
        console.print(table)
        for w in found.warnings:
            console.print(f"[yellow]warning:[/] {w}", highlight=False)

    @plan.command("add")
    def add_action(
        ctx: typer.Context,
        person: str = PERSON,
        kind: str = typer.Option(..., "--kind", help="control (enforcement) or change (support)."),
        pathway: str = typer.Option(..., "--pathway", help="A pathway code (`iom needs pathways`)."),
        text: str = typer.Option(..., "--text", help="What is to be done."),
        due: dt.datetime = typer.Option(..., "--due", formats=DATE, help="Due date."),
        owner: str = typer.Option(None, "--owner", help="Who owns it (default: the person's officer)."),
        user: str = user_option(),
        purpose: str = purpose_option("case management (CLI)"),
    ) -> None:
        """Add a Control or Change action to a person's case plan."""
        from iom.casefile.commands import command_access, person_id
        from iom.casework import flows, schemas, service

        body = options_model(schemas.ActionIn, kind=kind.lower(), pathway=pathway, description=text, due_on=due.date(), owner=owner)
        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            pid = person_id(access, person)
            action = flows.add_action(access, person_id=pid, body=body)
            warnings = service.plan(session=access.session, person_id=pid, as_of=access.as_of).warnings
        console.print(f"action #{action.id} added ({action.kind}, {action.pathway_name}, due {action.due_on}, owner {action.owner})",
                      highlight=False)
        for w in warnings:
            console.print(f"[yellow]warning:[/] {w}", highlight=False)

    @plan.command("update")
    def update_action(
        ctx: typer.Context,
        person: str = PERSON,
        action_id: int = typer.Argument(..., help="The action's id (`iom plan show`)."),
        version: int = typer.Option(..., "--version", help="The version you are changing (`iom plan show`): a newer one "
                                    "means someone else changed it first, and yours is refused."),
        status: str = typer.Option(None, "--status", help="open, in progress, done or cancelled."),
        outcome: str = typer.Option(None, "--outcome", help="What came of it (needed to mark it done)."),
        due: dt.datetime = typer.Option(None, "--due", formats=DATE, help="A new due date."),
        owner: str = typer.Option(None, "--owner"),
        user: str = user_option(),
        purpose: str = purpose_option("case management (CLI)"),
    ) -> None:
        """Change an action's status, outcome, due date or owner."""
        from iom.casefile.commands import command_access, person_id
        from iom.casework import flows, schemas

        change = options_model(schemas.ActionChange, version=version, status=status, outcome=outcome,
                        due_on=due.date() if due else None, owner=owner)
        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            action = flows.change_action(access, person_id=person_id(access, person), action_id=action_id, change=change)
        console.print(f"action #{action.id} is now version {action.version}: {action.status}", highlight=False)

    @plan.command("overdue")
    def overdue(
        ctx: typer.Context,
        lomu: str = typer.Option(None, "--lomu", help="Only people managed by this LOMU (e.g. LBM)."),
        as_of: dt.datetime = as_of_option(),
        as_json: bool = typer.Option(False, "--json"),
        summary: bool = typer.Option(False, "--summary", help="Print one line: how many, Control and Change, and for how many people."),
        user: str = user_option(),
        purpose: str = purpose_option("case management (CLI)"),
    ) -> None:
        """Every open or in-progress action past its due date, most overdue first (audited)."""
        from iom.casefile.commands import command_access
        from iom.casework import service

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = service.overdue_actions(session=access.session, user=access.user, as_of=access.as_of, lomu=lomu)
            access.log("search", "plan_action", filters={"overdue": True, "lomu": lomu},
                       people=sorted({o.action.person_id for o in found}))
            when = access.as_of
        if as_json:
            _print_json([o.model_dump(mode="json") for o in found])
            return
        if summary:
            control = sum(o.action.kind == "control" for o in found)
            people = len({o.action.person_id for o in found})
            print(f"Plan actions overdue: {len(found):,} ({control:,} Control, {len(found) - control:,} Change) "
                  f"for {people:,} people as of {when}" + (f" in {lomu.upper()}" if lomu else ""))
            return
        table = Table(title=f"{len(found):,} actions overdue on {when}" + (f" in {lomu.upper()}" if lomu else ""))
        for col in ("person", "LOMU", "action", "kind", "pathway", "owner", "due", "days over", "status"):
            table.add_column(col)
        for o in found:
            a = o.action
            table.add_row(o.pseudo_id, o.lomu_code or "", str(a.id), a.kind, a.pathway_name, a.owner or "", str(a.due_on),
                          str(o.days_overdue), a.status)
        console.print(table)

    @review.command("add")
    def add_review(
        ctx: typer.Context,
        person: str = PERSON,
        level: str = typer.Option(..., "--level", help="The risk level after the review: High, Medium or Low."),
        outcome: str = typer.Option(None, "--outcome", help="no change, risk raised, risk lowered or exit recommended "
                                    "(default: from the level)."),
        on: dt.datetime = typer.Option(None, "--on", formats=DATE, help="Date of the review (default: the working date)."),
        notes: str = typer.Option(None, "--notes"),
        user: str = user_option(),
        purpose: str = purpose_option("risk review (CLI)"),
    ) -> None:
        """Record a risk review: the level it sets and when the next one is due."""
        from iom.casefile.commands import command_access, person_id
        from iom.casework import flows, schemas

        body = options_model(schemas.ReviewIn, level=level.title(), outcome=outcome, reviewed_on=day(on), notes=notes)
        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            done = flows.record_review(access, person_id=person_id(access, person), body=body)
        console.print(f"review #{done.id} on {done.reviewed_on}: {done.level} ({done.outcome}); next due {done.next_due}",
                      highlight=False)

    @review.command("list")
    def list_reviews(ctx: typer.Context, person: str = PERSON, as_json: bool = typer.Option(False, "--json"),
                     user: str = user_option(), purpose: str = purpose_option("risk review (CLI)")) -> None:
        """A person's risk reviews, newest first (audited)."""
        from iom.casefile.commands import command_access, person_id
        from iom.casework import service

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            who = access.read_subject(person_id(access, person), resource="risk_review")
            found = service.reviews(session=access.session, person_id=who.id, as_of=access.as_of)
        if as_json:
            _print_json([r.model_dump(mode="json") for r in found])
            return
        for r in found:
            console.print(f"{r.reviewed_on} {r.level:<6} {r.outcome:<16} next due {r.next_due}  {r.reviewer or ''}",
                          highlight=False)
        if not found:
            console.print("no reviews")

    @app.command("adopt")
    def adopt(
        ctx: typer.Context,
        person: str = PERSON,
        cohort: str = typer.Option(..., "--cohort", help="Classification code, e.g. PPO."),
        reason: str = typer.Option(..., "--reason", help="Why the person is adopted (audited)."),
        on: dt.datetime = typer.Option(None, "--on", formats=DATE, help="Adoption date (default: the working date)."),
        user: str = user_option(),
        purpose: str = purpose_option("cohort management (CLI)"),
    ) -> None:
        """Adopt a person into a cohort (a new membership in the history)."""
        from iom.casefile.commands import command_access, person_id
        from iom.casework import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            flows.adopt(access, person_id=person_id(access, person), classification=cohort, reason=reason, on=day(on))
        console.print(f"{person} adopted into {cohort.upper()}", highlight=False)

    @app.command("exit")
    def exit_(
        ctx: typer.Context,
        person: str = PERSON,
        reason: str = typer.Option(..., "--reason", help="Why the person exits (audited)."),
        cohort: str = typer.Option(None, "--cohort", help="Only this cohort (default: every current one)."),
        on: dt.datetime = typer.Option(None, "--on", formats=DATE, help="Exit date (default: the working date)."),
        user: str = user_option(),
        purpose: str = purpose_option("cohort management (CLI)"),
    ) -> None:
        """Take a person out of their cohorts (the memberships end; the history is kept)."""
        from iom.casefile.commands import command_access, person_id
        from iom.casework import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            ended = flows.exit_cohort(access, person_id=person_id(access, person), reason=reason, on=day(on),
                                      classification=cohort)
        console.print(f"{person}: {ended} membership{'s' if ended != 1 else ''} ended", highlight=False)


def _pair(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"{option} takes KEY=VALUE, e.g. accommodation=severe (got {text!r})")
    return key.strip().lower(), value.strip()


def _level(text: str) -> str:
    level = text.lower()
    if level not in ("none", "standard", "severe"):
        raise UserError(f"a need is none, standard or severe (got {text!r})")
    return level
