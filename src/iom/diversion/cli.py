"""`iom oocd ...` and `iom scrutiny ...`: out-of-court disposals and the scrutiny panel from the
console, audited like the pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from iom.errors import UserError
from iom.terminal import as_of_option, console, day, purpose_option, state, user_option

PURPOSE = "Out-of-court disposals (CLI)"


def _print(found, as_json: bool) -> None:
    if as_json:
        print(found.model_dump_json(indent=1))
        return
    console.print(f"disposal #{found.id}: {found.tier_name}{' (youth)' if found.youth else ''} for {found.offence} "
                  f"({found.committed_on}); {found.status}; gravity {found.gravity} (offence {found.base_gravity}); "
                  f"authority: {found.authority_required}" + (f"; pilot {found.pilot}" if found.pilot else ""),
                  highlight=False, soft_wrap=True)
    for words in found.outside_criteria:
        console.print(f"  outside the criteria: {words}", highlight=False, soft_wrap=True)
    for c in found.conditions:
        console.print(f"  condition #{c.id} {c.kind}: {c.description} — due {c.due_on}, {c.status}"
                      + (f" (referral #{c.referral_id})" if c.referral_id else ""), highlight=False, soft_wrap=True)
    if found.allowed:
        console.print(f"  next: {', '.join(found.allowed)}", highlight=False, soft_wrap=True)


def _json_option():
    return typer.Option(False, "--json", help="Print JSON.")


# The case's answers, asked the same way by `options` and `decide`.
def _policy_option():
    return typer.Option(None, "--policy", help="npcc-2017 (default) or pcsc-2022.")


def _factor_option():
    return typer.Option([], "--factor", help="A gravity factor (repeat for more; see `iom oocd rules`).")


def _custody_option():
    return typer.Option(False, "--custody-expected", help="Custody or a high community order is expected.")


def _intervention_option():
    return typer.Option(False, "--intervention", help="An intervention is available.")


def _dpp_option():
    return typer.Option(False, "--dpp-consent", help="The DPP's consent is recorded.")


def register(app: typer.Typer) -> None:
    oocd = typer.Typer(help="Out-of-court disposals: decisions, conditions, breach, Table A (audited).",
                       no_args_is_help=True)
    app.add_typer(oocd, name="oocd")

    @oocd.command("options")
    def options(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        crime: int = typer.Option(..., "--crime", help="The crime's id (see `iom person`)."),
        policy: str = _policy_option(),
        factor: list[str] = _factor_option(),
        no_admission: bool = typer.Option(False, "--no-admission", help="The offence is not admitted."),
        custody: bool = _custody_option(),
        intervention: bool = _intervention_option(),
        dpp: bool = _dpp_option(),
        as_json: bool = _json_option(),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Each tier for one of a person's crimes: allowed, allowed with an Inspector, or barred (and why)."""
        from iom.casefile.commands import command_access, person_id
        from iom.diversion import views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = views.options(access, person_id=person_id(access, person), crime_id=crime, policy=policy,
                                  admission=not no_admission, consent=True, factors=factor, custody_expected=custody,
                                  intervention_available=intervention, dpp_consent=dpp)
        if as_json:
            print("[" + ",".join(o.model_dump_json() for o in found) + "]")
            return
        for o in found:
            verdict = ("barred: " + "; ".join(o.bars) if not o.allowed else
                       "allowed with an Inspector's authority: " + "; ".join(o.outside) if o.outside else "allowed")
            console.print(f"{o.name}: {verdict}", highlight=False, soft_wrap=True)

    @oocd.command("decide")
    def decide(
        ctx: typer.Context,
        person: str = typer.Argument(..., help="Pseudo id, source id or id."),
        crime: int = typer.Option(..., "--crime", help="The crime's id."),
        tier: str = typer.Option(..., "--tier", help="community_resolution, conditional_caution, simple_caution "
                                                     "(2017) or diversionary_caution, community_caution (2022)."),
        admitted: bool = typer.Option(False, "--admitted/--not-admitted", help="Whether the offence is admitted."),
        consents: bool = typer.Option(False, "--consents/--no-consent", help="Whether they agree to the disposal."),
        rationale: str = typer.Option(..., "--rationale", help="Why this disposal (kept with it)."),
        victim_views: str = typer.Option(None, "--victim-views", help="The victim's views."),
        factor: list[str] = _factor_option(),
        policy: str = _policy_option(),
        custody: bool = _custody_option(),
        intervention: bool = _intervention_option(),
        dpp: bool = _dpp_option(),
        as_json: bool = _json_option(),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Propose an out-of-court disposal: refused, in words, for every rule that bars it."""
        from iom.casefile.commands import command_access, person_id
        from iom.diversion import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = flows.decide(access, person_id=person_id(access, person), crime_id=crime, tier=tier,
                                 admission=admitted, consent=consents, rationale=rationale, victim_views=victim_views,
                                 factors=factor, policy=policy, custody_expected=custody,
                                 intervention_available=intervention, dpp_consent=dpp)
        _print(found, as_json)

    def _change(ctx, disposal: int, action: str, *, version, rank, reason, as_of, user, purpose, as_json):
        from iom.casefile.commands import command_access
        from iom.diversion import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = flows.change(access, disposal_id=disposal, action=action, version=version, rank=rank, reason=reason)
        _print(found, as_json)

    def _command(action: str):
        def command(ctx: typer.Context, disposal: int = typer.Argument(..., help="The disposal's id."),
                    rank: str = typer.Option(None, "--rank", help="The authoriser's rank: sergeant or inspector."),
                    version: int = typer.Option(None, "--version", help="The version you read (refused if changed)."),
                    reason: str = typer.Option(None, "--reason", help="Why (kept with the change)."),
                    as_json: bool = _json_option(), as_of: dt.datetime = as_of_option(), user: str = user_option(),
                    purpose: str = purpose_option(PURPOSE)) -> None:
            _change(ctx, disposal, action, version=version, rank=rank, reason=reason, as_of=as_of, user=user,
                    purpose=purpose, as_json=as_json)

        return command

    for action, doc in (("authorise", "Authorise a proposed disposal (--rank inspector where outside the criteria)."),
                        ("issue", "Issue an authorised disposal (a youth disposal refers them to the YOS)."),
                        ("withdraw", "Withdraw a proposed or authorised disposal."),
                        ("prosecute", "After a breach: prosecution for the original offence (where the tier says so)."),
                        ("fine", "After a breach: a financial penalty (a 2022 community caution).")):
        oocd.command(action, help=doc)(_command(action))

    @oocd.command("rules")
    def rules() -> None:
        """The policies, tiers, pilots and gravity factors in force, and where they were read from."""
        from iom.diversion.rules import DOMAIN, policies, scrutiny_rules
        from iom.rules import rule_path

        found = policies()
        console.print(f"[bold]{found.version}[/] ({rule_path(DOMAIN, 'policies-v1.toml')})\n  {found.source}",
                      highlight=False, soft_wrap=True)
        for policy in found.policy:
            console.print(f"{policy.code}: {policy.name}{' (default)' if policy.code == found.default_policy else ''}",
                          highlight=False)
            for tier in policy.tier:
                console.print(f"  {tier.code}: {', '.join(tier.modes_of_trial)}; breach → {tier.breach}",
                              highlight=False, soft_wrap=True)
        for pilot in found.pilot:
            console.print(f"pilot {pilot.code}: {'on' if pilot.enabled else 'off'} from {pilot.starts_on} — {pilot.name}",
                          highlight=False, soft_wrap=True)
        console.print("gravity factors: " + ", ".join(f"{f.code} ({'+' if f.step > 0 else '-'}1)"
                                                      for f in found.gravity.factors), highlight=False, soft_wrap=True)
        panel = scrutiny_rules()
        console.print(f"[bold]{panel.version}[/] ({rule_path(DOMAIN, 'scrutiny-v1.toml')}): categories "
                      + ", ".join(c.code for c in panel.category), highlight=False, soft_wrap=True)

    @oocd.command("condition")
    def condition(
        ctx: typer.Context,
        disposal: int = typer.Argument(..., help="The disposal's id."),
        kind: str = typer.Option(..., "--kind", help="rehabilitative, reparative, punitive, restrictive or attendance."),
        text: str = typer.Option(..., "--text", help="What the condition is."),
        due: dt.datetime = typer.Option(None, "--due", formats=["%Y-%m-%d"], help="Deadline (default: 16 weeks)."),
        provider: str = typer.Option(None, "--provider", help="A provider or course: makes a referral."),
        pathway: str = typer.Option(None, "--pathway", help="The pathway the referral serves."),
        as_json: bool = _json_option(),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Add a condition with its deadline; a provider condition refers the person to it."""
        from iom.casefile.commands import command_access
        from iom.diversion import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = flows.add_condition(access, disposal_id=disposal, kind=kind, description=text, due_on=day(due),
                                        provider=provider, pathway=pathway)
        _print(found, as_json)

    @oocd.command("complied")
    def complied(
        ctx: typer.Context,
        condition_id: int = typer.Argument(..., help="The condition's id."),
        failed: bool = typer.Option(False, "--failed", help="Not complied with: the disposal is breached."),
        as_json: bool = _json_option(),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Mark a condition complied with (or --failed)."""
        from iom.casefile.commands import command_access
        from iom.diversion import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = flows.mark_condition(access, condition_id=condition_id, complied=not failed)
        _print(found, as_json)

    @oocd.command("sweep")
    def sweep(
        ctx: typer.Context,
        on: dt.datetime = typer.Option(None, "--on", formats=["%Y-%m-%d"], help="The day to check (default: today)."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Breach every issued disposal with a condition past its deadline (run daily)."""
        from iom.casefile.commands import command_access
        from iom.diversion import flows

        when = day(on) or dt.date.today()
        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=when) as access:
            found = flows.sweep(access, on=when)
        console.print(f"{len(found)} disposal{'s' if len(found) != 1 else ''} breached on {when}", highlight=False)
        for d in found:
            console.print(f"  #{d.id} {d.tier_name}: next {', '.join(d.allowed) or 'nothing'}", highlight=False)

    @oocd.command("show")
    def show(
        ctx: typer.Context,
        disposal: int = typer.Argument(..., help="The disposal's id."),
        as_json: bool = _json_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """One disposal, its conditions and history (a read of the person's record, audited)."""
        from iom.casefile.commands import command_access
        from iom.diversion import views

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            found = views.disposal(access, disposal)
        _print(found, as_json)
        if not as_json:
            for e in found.events:
                console.print(f"  {e.on} {e.from_status or '-'} → {e.to_status} ({e.by})"
                              + (f": {e.reason}" if e.reason else ""), highlight=False, soft_wrap=True)

    @oocd.command("volumes")
    def volumes(
        ctx: typer.Context,
        fy: list[int] = typer.Option(..., "--fy", help="Financial years by their first year (2017 = 2017/18)."),
        as_json: bool = _json_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Table A from the records: disposals issued per financial year, beside the published figures."""
        from iom.casefile.commands import command_access
        from iom.diversion import views

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            found = views.volumes(access, sorted(set(fy)))
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        from rich.table import Table

        table = Table(title="Table A: out-of-court disposals issued (records; the paper's figures beneath)")
        for heading in ("FY", *found.labels.values(), "Total"):
            table.add_column(heading, justify="left" if heading == "FY" else "right")
        for row in found.rows:
            table.add_row(row.label, *(f"{row.counts[k]:,}" for k in found.labels), f"{row.total:,}")
            if row.published is not None:
                table.add_row("  paper", *(f"{row.published[k]:,}" for k in found.labels), f"{row.published_total:,}")
        console.print(table)
        for words in found.statements:
            console.print(words, highlight=False, soft_wrap=True)

    scrutiny = typer.Typer(help="The Out of Court Disposal Scrutiny Panel: dip samples, verdicts, report.",
                           no_args_is_help=True)
    app.add_typer(scrutiny, name="scrutiny")

    @scrutiny.command("sample")
    def sample(
        ctx: typer.Context,
        category: str = typer.Option(..., "--category", help="hate, sexual, serious_assault or weapons."),
        month: str = typer.Option(..., "--month", help="The panel's month, YYYY-MM."),
        n: int = typer.Option(30, "--n", help="How many disposals."),
        seed: int = typer.Option(..., "--seed", help="The seed: the same seed gives the same sample."),
        save: bool = typer.Option(False, "--save", help="Keep it for the panel's verdicts (once per category and month)."),
        as_json: bool = _json_option(),
        as_of: dt.datetime = as_of_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """A seeded dip sample of disposals in a category, stratified by month over the window before the panel."""
        from iom.casefile.commands import command_access
        from iom.diversion import flows, views

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            found = (flows.save_sample(access, category=category, month=month, n=n, seed=seed) if save else
                     views.preview_sample(access, category=category, month=month, n=n, seed=seed))
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        console.print(f"{found.category_name} panel {found.month}: {len(found.items)} of {found.population:,} disposals "
                      f"issued {found.window_start} to {found.window_end} (seed {found.seed})"
                      + (f"; saved #{found.id}" if found.id else ""), highlight=False, soft_wrap=True)
        for i in found.items:
            console.print(f"  #{i.disposal_id}  {i.pseudo_id}  {i.issued_on}  {i.tier}: {i.offence}"
                          + (f"  [{i.verdict}]" if i.verdict else ""), highlight=False, soft_wrap=True)

    @scrutiny.command("verdict")
    def verdict(
        ctx: typer.Context,
        sample_id: int = typer.Argument(..., help="The saved sample's id."),
        disposal: int = typer.Option(..., "--disposal", help="The disposal reviewed."),
        verdict_code: str = typer.Option(..., "--verdict", help="appropriate, appropriate_with_comments or "
                                                                "inappropriate."),
        comment: str = typer.Option(None, "--comment", help="The panel's comment."),
        action: str = typer.Option(None, "--action", help="An action the panel sets."),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """Record the panel's verdict on one sampled disposal."""
        from iom.casefile.commands import command_access
        from iom.diversion import flows

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            found = flows.record_verdict(access, sample_id=sample_id, disposal_id=disposal, verdict=verdict_code,
                                         comment=comment, action=action)
        done = sum(i.verdict is not None for i in found.items)
        console.print(f"sample #{found.id}: {done} of {len(found.items)} reviewed", highlight=False)

    @scrutiny.command("report")
    def report(
        ctx: typer.Context,
        csv_out: Path = typer.Option(None, "--csv", dir_okay=False, help="Write the report as CSV for publication."),
        as_json: bool = _json_option(),
        user: str = user_option(),
        purpose: str = purpose_option(PURPOSE),
    ) -> None:
        """% appropriate per panel with a 95% Wilson interval, and the actions set."""
        from iom.casefile.commands import command_access
        from iom.diversion import scrutiny as panel
        from iom.diversion import views

        with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
            found = views.report(access)
        if csv_out is not None:
            csv_out.write_text(panel.report_csv(found), encoding="utf-8")
        if as_json:
            print(found.model_dump_json(indent=1))
            return
        if not found.rows:
            raise UserError("no scrutiny sample is saved yet: `iom scrutiny sample ... --save` draws one")
        for r in found.rows:
            share = "no verdicts yet" if r.share is None else (
                f"{r.share:.0%} appropriate ({r.appropriate} of {r.reviewed}; 95% CI {r.low:.0%} to {r.high:.0%})")
            console.print(f"{r.month}  {r.category_name}: {share}", highlight=False, soft_wrap=True)
            for a in r.actions:
                console.print(f"    action: {a}", highlight=False, soft_wrap=True)
        console.print(found.method, highlight=False, soft_wrap=True)
        if csv_out is not None:
            console.print(f"wrote {csv_out}", highlight=False)
