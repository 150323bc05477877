"""`iom courses ...`: the catalogue, referrals, Table C, places, controls and the trial, from
the console, audited like the pages."""

from __future__ import annotations

import datetime as dt

import typer

from iom.errors import UserError
from iom.terminal import as_of_option, console, day, purpose_option, state, user_option

PURPOSE = "Intervention courses (CLI)"


def _json_option():
    return typer.Option(False, "--json", help="Print JSON.")


def _print_refusal(exc) -> None:
    """A course's refusal: every reason, and the ESOL offer where language is the bar."""
    offer = getattr(exc, "offer", None)
    if offer is not None:
        console.print(f"{offer.words}: `iom oocd condition DISPOSAL --kind rehabilitative --text "
                      f"\"ESOL ({offer.language} speakers)\" --provider {offer.provider} --pathway {offer.pathway}`",
                      highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    courses = typer.Typer(help="Intervention courses: catalogue, referrals, completion (Table C), places, trials.",
                          no_args_is_help=True)
    app.add_typer(courses, name="courses")

    @courses.command("list")
    def list_courses(as_json: bool = _json_option()) -> None:
        """The course catalogue in force (courses-v1.toml, or a force's copy in IOM_RULES_DIR)."""
        from iom.courses.rules import catalogue
        from iom.rules import rule_path

        rules = catalogue()
        if as_json:
            print(rules.model_dump_json(indent=1))
            return
        console.print(f"[bold]{rules.version}[/] ({rule_path('courses', 'courses-v1.toml')})", highlight=False,
                      soft_wrap=True)
        for c in rules.course:
            dates = f"{c.since} to {c.ended_on}" if c.ended_on else f"since {c.since}"
            console.print(f"[bold]{c.code}[/] {c.name}: {c.provider}, {dates}; funding: {c.funding}"
                          + (f" (to {c.funded_until})" if c.funded_until else "")
                          + ("; pay to attend" if c.pay_to_attend else "")
                          + f"; {' or '.join(c.formats)}; groups of {c.group_min}-{c.group_max} in "
                          + ", ".join(rules.languages[x] for x in c.languages), highlight=False, soft_wrap=True)

    @courses.command("refer")
    def refer(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="The person: pseudo id, source id or id."),
        course: str = typer.Option(..., "--course", help="The course's code (see `iom courses list`)."),
        route: str = typer.Option("plan", "--route", help="oocd (from a disposal), plan or voluntary."),
        crime: int = typer.Option(None, "--crime", help="The index offence's crime id (not with --disposal)."),
        disposal: int = typer.Option(None, "--disposal", help="The out-of-court disposal the course is a condition of."),
        format: str = typer.Option(None, "--format", help="The format chosen, e.g. 'one Saturday'."),
        interpreter: str = typer.Option(None, "--interpreter", help="The language an interpreter is needed for (ISO 639-1)."),
        reason: str = typer.Option(None, "--reason", help="Why (default: the course and the index offence)."),
        as_json: bool = _json_option(),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Refer a person to a course; refused with every reason (and an ESOL offer where the
        group course cannot take someone who needs an interpreter)."""
        from iom.casefile.commands import command_access, person_id
        from iom.courses import flows
        from iom.courses.service import CourseRefused

        try:
            with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
                found = flows.refer(access, course=course, person_id=person_id(access, person), route=route,
                                    crime_id=crime, disposal_id=disposal, format=format,
                                    interpreter_language=interpreter, reason=reason)
        except CourseRefused as exc:
            _print_refusal(exc)
            raise
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        console.print(f"referral #{found.referral_id} to the {found.course_name} ({found.route}, crime #{found.crime_id}"
                      + (f", condition #{found.condition_id}" if found.condition_id else "") + f"): {found.status}. "
                      f"Record its sessions and outcome with `iom referral`.", highlight=False, soft_wrap=True)

    @courses.command("completion")
    def completion(
        ctx: typer.Context,
        start: dt.datetime = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="Referrals made on or after."),
        end: dt.datetime = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="Referrals made on or before."),
        course: str = typer.Option(None, "--course", help="One course only."),
        by: str = typer.Option("course", "--by", help="course (one line each), year or quarter."),
        as_json: bool = _json_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Table C from the register: referred, completed, breached, withdrawn, open, and the
        completion rate (of those ended) with its Wilson 95% interval, beside the published figure."""
        from iom.casefile.commands import command_access
        from iom.courses import views

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            found = views.completion(access, start=day(start), end=day(end), course=course, by=by)
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        print_completion(found)

    @courses.command("places")
    def places(
        ctx: typer.Context,
        as_json: bool = _json_option(),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Places and waiting per course: people waiting to start, the median wait, places a month."""
        from iom.casefile.commands import command_access
        from iom.courses import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.places(access)
        if as_json:
            print("[" + ",".join(p.model_dump_json() for p in found) + "]")
            return
        for p in found:
            wait = "–" if p.median_wait_days is None else f"{p.median_wait_days:g} days"
            console.print(f"{p.name}: {'running' if p.running else 'not running'}; {p.waiting} waiting; "
                          f"{p.started} started in {p.months} months (median wait {wait}); "
                          f"{p.places_per_month} places a month", highlight=False, soft_wrap=True)

    @courses.command("control")
    def control(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="The person: pseudo id, source id or id."),
        course: str = typer.Option(..., "--course", help="A course with a recorded control group."),
        crime: int = typer.Option(..., "--crime", help="The index offence's crime id."),
        reason: str = typer.Option(..., "--reason", help="Why not referred (the course had not begun, no place)."),
        assessed: dt.datetime = typer.Option(None, "--assessed", formats=["%Y-%m-%d"], help="Day assessed (default: as of)."),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Record a person suitable for a course but not referred: the evaluation's control group."""
        from iom.casefile.commands import command_access, person_id
        from iom.courses import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = flows.record_control(access, course=course, person_id=person_id(access, person), crime_id=crime,
                                         reason=reason, assessed_on=day(assessed))
        console.print(f"control #{found} recorded for {course}", highlight=False)

    @courses.command("allocate")
    def allocate(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="The person: pseudo id, source id or id."),
        course: str = typer.Option(..., "--course", help="A course evaluated by a trial (cara)."),
        crime: int = typer.Option(..., "--crime", help="The index offence's crime id."),
        seed: int = typer.Option(None, "--seed", help="The trial's seed, with its first case only (default: drawn on the server and never shown, so nobody can tell the next arm)."),
        interpreter: str = typer.Option(None, "--interpreter", help="The language an interpreter is needed for."),
        as_json: bool = _json_option(),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Allocate a suitable case in a course's trial: the seed's next arm; the course arm is referred."""
        from iom.casefile.commands import command_access, person_id
        from iom.courses import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = flows.allocate(access, course=course, person_id=person_id(access, person), crime_id=crime,
                                   seed=seed, interpreter_language=interpreter)
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        console.print(f"{found.trial} #{found.sequence}: {found.arm}"
                      + (f" (referral #{found.referral_id})" if found.referral_id else ""), highlight=False)

    @courses.command("verify")
    def verify(
        ctx: typer.Context,
        course: str = typer.Option("cara", "--course", help="A course evaluated by a trial."),
        as_json: bool = _json_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Verify a trial's allocation log: every hash link, every arm replayed from the seed."""
        from iom.casefile.commands import command_access
        from iom.courses import views

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            found = views.trial_check(access, course=course)
        if as_json:
            print(found.model_dump_json(indent=1))
        else:
            console.print(f"trial {found.trial}: {found.entries} entries "
                          f"({', '.join(f'{k} {v}' for k, v in sorted(found.arms.items()))}); "
                          + ("intact" if found.intact else "NOT intact"), highlight=False)
            for words in found.problems:
                console.print(f"  {words}", highlight=False, soft_wrap=True)
        if not found.intact:
            raise UserError(f"trial {found.trial}'s log does not verify")


def print_completion(found) -> None:
    """Table C as a table (also the `make run` headline)."""
    from rich.table import Table

    table = Table(title="Table C: course referrals and completion (register; published beneath)")
    for heading in ("course", "period", "referred", "completed", "breached", "withdrawn", "open", "completion",
                    "95% interval"):
        table.add_column(heading, justify="left" if heading in ("course", "period") else "right")
    for line in found.lines:
        interval = "–" if line.lower is None else f"{line.lower * 100:.0f}% to {line.upper * 100:.0f}%"
        table.add_row(line.course, line.period, f"{line.referred:,}", f"{line.completed:,}", f"{line.breached:,}",
                      f"{line.withdrawn:,}", f"{line.open:,}", line.rate_text, interval)
        if line.published is not None:
            table.add_row("  paper", "", f"{line.published_referred:,}", "", "", "", "", line.published, "")
    console.print(table)
    for line in found.lines:
        if line.check:
            console.print(f"{line.name}: {line.check}", highlight=False, soft_wrap=True)
