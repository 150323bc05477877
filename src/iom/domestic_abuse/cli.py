"""`iom da ...`: the monthly list, DASH, MARAC, SARA v3 / SAM, the pilot cohort and DRIVE /
CARA referrals from the console, audited like the pages."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from iom.errors import UserError
from iom.terminal import as_of_option, console, day, purpose_option, state, user_option

PURPOSE = "Domestic-abuse offender management (CLI)"


def _codes(text: str | None) -> list[str]:
    return [c.strip().upper() for c in (text or "").split(",") if c.strip()]


def dash_answers(yes: str | None, not_known: str | None) -> dict[str, str]:
    """Every DASH question answered: those listed "yes" or "not known", the rest "no"."""
    from iom.domestic_abuse.rules import dash_rules

    codes = [q.code for q in dash_rules().questions]
    said_yes, unknown = _codes(yes), _codes(not_known)
    for code in said_yes + unknown:
        if code not in codes:
            raise UserError(f"no DASH question {code!r}: the questions are {codes[0]} to {codes[-1]}")
    both = sorted(set(said_yes) & set(unknown))
    if both:
        raise UserError(f"{both[0]} is given both as yes and as not known")
    return {c: "yes" if c in said_yes else "not_known" if c in unknown else "no" for c in codes}


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} holds {type(data).__name__}, not an object of ratings, judgements, scenarios, plan")
    return data


def register(app: typer.Typer) -> None:
    da = typer.Typer(help="Domestic abuse: the monthly list, DASH, MARAC, SARA v3 / SAM, DRIVE and CARA (audited).",
                     no_args_is_help=True)
    app.add_typer(da, name="da")

    @da.command("list")
    def list_(
        ctx: typer.Context,
        month: str = typer.Option(None, "--month", help="The list's month, YYYY-MM (default: the data's month). "
                                                        "It covers the calendar months before it."),
        section: str = typer.Option(None, "--section", help="Only one section: serial, repeat, repeat_victims, "
                                                            "stalking."),
        not_at_marac: bool = typer.Option(False, "--not-at-marac", help="Only people not at MARAC (the threat list)."),
        top: int = typer.Option(10, "--top", min=0, help="Rows shown per section (0: all)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON (every row)."),
        csv_out: Path = typer.Option(None, "--csv", help="Write the whole list as CSV for the meeting.", dir_okay=False),
        summary: bool = typer.Option(False, "--summary", help="Print one line: each section's size."),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """The monthly list: serial and repeat perpetrators, repeat victims, stalking and harassment, by RFGV."""
        from iom.casefile.commands import command_access
        from iom.domestic_abuse import views
        from iom.domestic_abuse.schemas import SECTIONS

        if section is not None and section not in SECTIONS:
            raise UserError(f"--section is one of {', '.join(SECTIONS)}, not {section!r}")
        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.monthly_list(access, month=month)
        if csv_out is not None:
            csv_out.write_text(views.list_csv(found), encoding="utf-8")
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        if summary:
            print(found.summary())
            return
        console.print(f"{found.summary()} ({found.rules_version}; by {found.date_field})", highlight=False, soft_wrap=True)
        for s in found.sections:
            if section is not None and s.code != section:
                continue
            rows = [r for r in s.rows if not (not_at_marac and r.at_marac)]
            console.print(f"\n[bold]{s.label}[/]: {s.count:,} ({s.not_at_marac:,} not at MARAC) — {s.description}")
            for rank, r in enumerate(rows[:top] if top else rows, 1):
                marks = [m for m, on in (("not at MARAC", not r.at_marac), ("managed", r.managed),
                                         ("repeat MARAC", r.repeat_marac)) if on]
                console.print(f"  {rank:>3}. {r.pseudo_id}  {r.name or ''}  RFGV {r.score} = "
                              + " + ".join(f"{p.points} {p.part} ({p.words})" for p in r.parts)
                              + (f"  [{', '.join(marks)}]" if marks else ""), highlight=False, soft_wrap=True)
        if csv_out is not None:
            console.print(f"\nwrote {csv_out}", highlight=False, soft_wrap=True)

    @da.command("show")
    def show(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """A person's DA incidents, DASH, MARAC, SARA/SAM and programme eligibility (a read, audited)."""
        from iom.casefile.commands import command_access, person_id
        from iom.domestic_abuse import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.person_da(access, person_id(access, person))
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        console.print(f"as of {found.as_of}: {found.incidents_as_perpetrator} DA incidents as perpetrator and "
                      f"{found.incidents_as_victim} as victim in 12 months; on the {found.list_month} list: "
                      f"{', '.join(found.on_list) or 'no'}", highlight=False, soft_wrap=True)
        for d in found.dash:
            console.print(f"  DASH #{d.id} {d.assessed_on}: {d.yes_count} yes, {d.band}"
                          f"{' (raised by judgement)' if d.judgement_band else ''}; victim {d.victim_pseudo_id}",
                          highlight=False, soft_wrap=True)
        for m in found.marac:
            console.print(f"  MARAC #{m.id} {m.referred_on}{' (repeat)' if m.repeat else ''} by {m.referring_agency}: "
                          f"{'; '.join(m.criteria_words)}", highlight=False, soft_wrap=True)
        for s in found.spj:
            console.print(f"  {s.instrument} #{s.id} {s.assessed_on}: {s.status}"
                          + (f" (needs {', '.join(s.missing)})" if s.missing else ""), highlight=False, soft_wrap=True)
        for e in found.eligibility:
            console.print(f"  {e.name}: {'eligible' if e.eligible else 'not eligible: ' + '; '.join(e.reasons)}",
                          highlight=False, soft_wrap=True)

    @da.command("dash")
    def dash(
        ctx: typer.Context,
        victim: str = typer.Argument(..., help="The victim: pseudo id, source id or id."),
        perpetrator: str = typer.Option(None, "--perpetrator", help="The perpetrator, if known."),
        relationship: str = typer.Option(..., "--relationship", help="intimate_partner or family."),
        yes: str = typer.Option(None, "--yes", help="Questions answered yes, e.g. Q01,Q04,Q15 (the rest no)."),
        not_known: str = typer.Option(None, "--not-known", help="Questions whose answer is not known."),
        judgement: str = typer.Option(None, "--judgement", help="Professional judgement's band (may only raise it)."),
        reason: str = typer.Option(None, "--reason", help="Why judgement raises the band."),
        on: dt.datetime = typer.Option(None, "--on", formats=["%Y-%m-%d"], help="Completed on (default: the data's "
                                                                               "date)."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Record a DASH completed with a victim: its yes-count, band and MARAC eligibility."""
        from iom.casefile.commands import command_access, person_id
        from iom.domestic_abuse import flows

        answers = dash_answers(yes, not_known)
        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            made = flows.record_dash(access, victim_id=person_id(access, victim),
                                     perpetrator_id=person_id(access, perpetrator) if perpetrator else None,
                                     relationship=relationship, answers=answers, judgement_band=judgement,
                                     judgement_reason=reason, assessed_on=day(on))
        console.print(f"DASH #{made.id}: {made.yes_count} yes, {made.band} risk"
                      + ("; meets the MARAC high-risk criterion" if made.marac_eligible else ""), highlight=False, soft_wrap=True)

    @da.command("marac")
    def marac(
        ctx: typer.Context,
        victim: str = typer.Argument(..., help="The victim: pseudo id, source id or id."),
        perpetrator: str = typer.Option(None, "--perpetrator", help="The perpetrator, if known."),
        agency: str = typer.Option("Police", "--agency", help="The referring agency."),
        reason: str = typer.Option(None, "--reason", help="Professional judgement: why (makes it a criterion)."),
        dash_id: int = typer.Option(None, "--dash", help="The DASH the referral rests on (default: the latest)."),
        on: dt.datetime = typer.Option(None, "--on", formats=["%Y-%m-%d"], help="Referred on (default: the data's "
                                                                               "date)."),
        check_only: bool = typer.Option(False, "--check", help="Only say which criteria the case meets."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Refer a victim's case to MARAC (refused unless it meets a criterion), or --check the criteria."""
        from iom.casefile.commands import command_access, person_id
        from iom.domestic_abuse import flows, views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(on) if check_only else None) as access:
            if check_only:
                found = views.marac_check(access, person_id(access, victim))
                console.print(f"{found.victim_pseudo_id} on {found.on}: "
                              + ("; ".join(found.criteria_words) or "meets no MARAC criterion")
                              + f" ({found.incidents_in_escalation_window} DA incidents in the escalation window; "
                                f"last referral {found.last_referral_on or 'never'})", highlight=False, soft_wrap=True)
                return
            made = flows.refer_to_marac(access, victim_id=person_id(access, victim),
                                        perpetrator_id=person_id(access, perpetrator) if perpetrator else None,
                                        referring_agency=agency, judgement_reason=reason, dash_id=dash_id,
                                        referred_on=day(on))
        console.print(f"MARAC referral #{made.id}{' (repeat)' if made.repeat else ''} on {made.referred_on}: "
                      f"{'; '.join(made.criteria_words)}", highlight=False, soft_wrap=True)

    @da.command("spj")
    def spj(
        ctx: typer.Context,
        person: str = typer.Argument(None, help="The perpetrator assessed (for a new record)."),
        instrument: str = typer.Option(None, "--instrument", help="sara-v3 or sam (for a new record)."),
        record: int = typer.Option(None, "--record", help="Change this draft instead of starting a new record."),
        version: int = typer.Option(None, "--version", help="The draft's version you read (refused if changed since)."),
        source: Path = typer.Option(None, "--from", exists=True, dir_okay=False,
                                    help="JSON: {ratings: {N1: {past, recent, relevance}}, judgements: {...}, "
                                         "scenarios: [...], plan: {...}}."),
        victim: str = typer.Option(None, "--victim", help="The victim, if one is named."),
        finalise: bool = typer.Option(False, "--finalise", help="Finalise (needs every summary judgement)."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Record a SARA v3 or SAM assessment (structure only), or change and finalise a draft."""
        from iom.casefile.commands import command_access, person_id
        from iom.domestic_abuse import flows
        from iom.domestic_abuse.schemas import Rating

        content = _read_json(source) if source else {}
        unknown = sorted(set(content) - {"ratings", "judgements", "scenarios", "plan"})
        if unknown:
            raise UserError(f"{source}: unknown key {unknown[0]!r} (ratings, judgements, scenarios, plan)")
        try:
            ratings = {k: Rating.model_validate(v) for k, v in (content.get("ratings") or {}).items()}
        except ValueError as exc:
            raise UserError(f"{source}: a rating is {{past, recent, relevance}}: {exc}") from None
        parts = {"ratings": ratings, "judgements": content.get("judgements") or {},
                 "scenarios": content.get("scenarios") or [], "plan": content.get("plan") or {}}
        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            if record is not None:
                made = flows.update_spj(access, spj_id=record, version=version, finalise=finalise, **parts)
            else:
                if person is None or instrument is None:
                    raise UserError("a new record needs the person and --instrument (sara-v3 or sam); "
                                    "--record N changes a draft")
                made = flows.save_spj(access, person_id=person_id(access, person), instrument=instrument,
                                      victim_id=person_id(access, victim) if victim else None, finalise=finalise,
                                      **parts)
        console.print(f"{made.instrument} #{made.id} (version {made.version}): {made.status}"
                      + (f"; still needs {', '.join(made.missing)}" if made.missing else ""), highlight=False, soft_wrap=True)

    @da.command("pilot-cohort")
    def pilot_cohort(
        ctx: typer.Context,
        month: str = typer.Option(None, "--month", help="The list's month, YYYY-MM."),
        save: bool = typer.Option(False, "--save", help="Save it, dated, for evaluation (once per month)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """The SARA/SAM pilot cohort: people both at MARAC and on the month's serial list."""
        from iom.casefile.commands import command_access
        from iom.domestic_abuse import flows, views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = (flows.save_pilot_cohort(access, month=month) if save else views.pilot_cohort(access, month=month))
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        state_words = f"saved #{found.id} by {found.made_by}" if found.id else "not saved (--save to keep it)"
        console.print(f"pilot cohort {found.month} ({found.window_start} to {found.window_end}): {found.size} people; "
                      f"{state_words}", highlight=False, soft_wrap=True)
        if found.pseudo_ids:
            console.print("  " + " ".join(found.pseudo_ids), highlight=False, soft_wrap=True)

    @da.command("refer")
    def refer(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="The perpetrator: pseudo id, source id or id."),
        programme: str = typer.Option(..., "--programme", help="drive or cara."),
        reason: str = typer.Option(..., "--reason", help="Why (sent with the referral)."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Refer a perpetrator to DRIVE or CARA: refused with the unmet criteria in words."""
        from iom.casefile.commands import command_access, person_id
        from iom.domestic_abuse import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            made = flows.refer_to_programme(access, person_id=person_id(access, person), programme=programme,
                                            reason=reason)
        console.print(f"referral #{made.id} to {made.provider_name}: {made.status}", highlight=False, soft_wrap=True)

    @da.command("rules")
    def rules() -> None:
        """The domestic-abuse rule files in force: version, source and where each was read from."""
        from iom.domestic_abuse import rules as da_rules
        from iom.rules import rule_path

        files = [("monthly-list-v1.toml", da_rules.monthly_list_rules()), ("marac-v1.toml", da_rules.marac_rules()),
                 ("dash-v1.toml", da_rules.dash_rules()), ("programmes-v1.toml", da_rules.programme_rules()),
                 *((name, da_rules.instrument(code)) for code, name in da_rules.INSTRUMENT_FILES.items())]
        for name, loaded in files:
            console.print(f"[bold]{loaded.version}[/] ({rule_path(da_rules.DOMAIN, name)})\n  {loaded.source}",
                          highlight=False, soft_wrap=True)
