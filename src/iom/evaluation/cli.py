"""`iom evaluate` (a CSV table, or a programme built from the register) and `iom randomise`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.table import Table

from typing import TYPE_CHECKING

from iom.errors import UserError
from iom.formatting import percent

if TYPE_CHECKING:  # the statistics libraries load only when a command needs them
    from iom.evaluation.service import Evaluation


def _num(x, places: int = 3) -> str:
    return "–" if x is None else f"{x:.{places}f}"


def print_course(console, result) -> None:
    """A course evaluated from the register: group sizes, each outcome, and the paper's check."""
    console.print(f"[bold]{result.programme}[/]: {result.summary()}", highlight=False, soft_wrap=True)
    for outcome, evaluation in result.evaluations.items():
        console.print(f"[bold]{outcome}[/]", highlight=False)
        print_result(console, evaluation)
    for cell in result.cells:
        console.print(f"  {cell.summary()}", highlight=False, soft_wrap=True)
    for s in result.stated:
        console.print(f"  {s.summary()}", highlight=False, soft_wrap=True)
    for words in result.discrepancies:
        console.print(f"  discrepancy: {words}", highlight=False, soft_wrap=True)


def print_result(console, result: Evaluation) -> None:
    from iom.evaluation.programmes import CourseProgrammeEvaluation, ProgrammeEvaluation

    if isinstance(result, CourseProgrammeEvaluation):
        print_course(console, result)
        return

    if isinstance(result, ProgrammeEvaluation):
        console.print(f"[bold]{result.programme}[/]: {result.description}")
    design = f", design: {result.design}" if result.design else ""
    table = Table(title=f"{result.event_col} by {result.group_col} (control: {result.control}{design})")
    for col in ("group", "n", "events", "rate", "95% interval"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for g in result.groups:
        table.add_row(g.group, f"{g.n:,}", f"{g.events:,}", percent(g.rate), f"{percent(g.lower)} to {percent(g.upper)}")
    console.print(table)
    for c in result.comparisons:
        console.print(
            f"[bold]{c.group}[/] vs control: difference {c.difference * 100:.1f} points "
            f"({c.difference_lower * 100:.1f} to {c.difference_upper * 100:.1f}); "
            f"relative reduction {percent(c.relative_reduction)} "
            f"({percent(c.relative_reduction_lower)} to {percent(c.relative_reduction_upper)}); "
            f"{c.test} p = {c.p_value:.3g}; power at the observed difference {percent(c.power)} "
            f"(n for 80%: {c.n_for_80_power or '–'}); power for 5 points {percent(c.power_for_min_effect)}"
        )
        # An unmatched comparison is description, not a verdict: it is not printed as one.
        said = c.verdict if c.design == "unmatched" else f"[bold]{c.verdict}[/]"
        console.print(f"  {said}{f' ({c.design})' if c.design else ''}: {c.statement}", highlight=False, soft_wrap=True)
    if result.survival is not None:
        s = result.survival
        console.print(f"Log-rank: chi² {s.logrank_statistic:.3f}, p = {s.logrank_p:.3g}")
        for c in s.curves:
            console.print(
                f"  {c.group}: n {c.n}, events {c.events}, survival at horizon {percent(c.survival_at_horizon)}, "
                f"median {c.median if c.median is not None else 'not reached'}"
            )
        if s.cox_error:
            console.print(f"  Cox model: {s.cox_error}")
        for h in s.hazard_ratios:
            console.print(
                f"  Cox {h.covariate}: HR {_num(h.hazard_ratio)} ({_num(h.lower)} to {_num(h.upper)}), "
                f"p = {'–' if h.p is None else format(h.p, '.3g')}"
                + (" [unstable fit: do not rely on it]" if h.unstable else "")
            )
    for r in result.roi or []:
        console.print(r.summary())
    for m in result.matched or []:
        console.print(f"Matched {m.group}: {m.matched_pairs} of {m.treated} matched (caliper {m.caliper_logit:.3f} on the logit)")
        bal = Table(title="balance (standardised mean differences)")
        for col in ("covariate", "before", "after"):
            bal.add_column(col)
        for b in m.balance:
            bal.add_row(b.covariate, f"{b.smd_before:.3f}", "–" if b.smd_after is None else f"{b.smd_after:.3f}")
        console.print(bal)
        if m.effect is not None:
            e = m.effect
            console.print(f"  matched effect: {e.difference * 100:.1f} points ({e.difference_lower * 100:.1f} to {e.difference_upper * 100:.1f}); {e.verdict}")
    for h in result.evidence or []:
        console.print(f"[bold]Headline for {h.group}[/]: [bold]{h.headline}[/]: "
                      f"{h.statement}", highlight=False, soft_wrap=True)
        if h.reconciliation:
            console.print(f"  {h.reconciliation}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    from iom.terminal import console, state

    @app.command()
    def evaluate(
        ctx: typer.Context,
        file: Path = typer.Argument(None, help="CSV with one row per person.", show_default=False),
        group_col: str = typer.Option(None, "--group-col", help="Column naming each person's group."),
        control: str = typer.Option(None, "--control", help="Value of the group column for the control group."),
        event_col: str = typer.Option(None, "--event-col", help="Binary outcome column (0/1, true/false, yes/no)."),
        time_col: str = typer.Option(None, "--time-col", help="Days to first event or censoring: adds survival and Cox."),
        covariates: str = typer.Option(None, "--covariates", help="Comma-separated columns: Cox covariates and propensity matching."),
        horizon: float = typer.Option(None, "--horizon", help="Time at which to read survival (same unit as --time-col)."),
        cost_col: str = typer.Option(None, "--cost-col", help="Cost of crime per person in the follow-up, in pence: adds return on investment."),
        programme_cost: float = typer.Option(None, "--programme-cost", help="What the programme cost, in pounds (with --cost-col)."),
        programme: str = typer.Option(None, "--programme", help="Evaluate a programme built from the register (see --list-programmes)."),
        follow_up: int = typer.Option(12, "--follow-up", help="Follow-up months for --programme."),
        as_of: dt.datetime = typer.Option(None, "--as-of", formats=["%Y-%m-%d"], help="Last date of data for --programme (default: latest crime)."),
        design: str = typer.Option("unmatched", "--design", help=(
            "How the FILE's groups were formed: randomised, matched (a control matched beforehand) or unmatched "
            "(described only, no verdict; --covariates then adds a matched comparison that leads).")),
        list_programmes: bool = typer.Option(False, "--list-programmes", help="List the programmes the register can define."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Treatment against control: rates with intervals, tests, power, verdict; survival and matching."""
        if list_programmes:
            from iom.courses.rules import catalogue
            from iom.evaluation.programmes import PROGRAMMES, course_programmes

            for name, p in PROGRAMMES.items():
                console.print(f"[bold]{name}[/]: {p.description}")
            for name, code in course_programmes().items():
                console.print(f"[bold]{name}[/]: the {catalogue().get(code).name}, groups from the register's "
                              "referrals and controls (or trial log)")
            return
        if programme:
            if file is not None:
                raise UserError("give either a FILE or --programme, not both")
            from iom.evaluation.programmes import evaluate_programme

            result = evaluate_programme(
                state(ctx).engine, name=programme, follow_up_months=follow_up, as_of=as_of.date() if as_of else None
            )
        else:
            if file is None:
                raise UserError("give a CSV FILE (with --group-col, --control and --event-col) or --programme NAME")
            missing = [o for o, v in (("--group-col", group_col), ("--control", control), ("--event-col", event_col)) if not v]
            if missing:
                raise UserError(f"missing option(s): {', '.join(missing)}")
            from iom.csv_input import check_csv

            if file.is_file():  # pandas takes a line whole, however long: read it within limits first
                check_csv(file)
            from iom.evaluation.service import evaluate_csv

            result = evaluate_csv(
                file, group_col=group_col, control=control, event_col=event_col, time_col=time_col,
                covariates=[c.strip() for c in covariates.split(",") if c.strip()] if covariates else None,
                horizon=horizon, cost_col=cost_col,
                programme_cost_pence=None if programme_cost is None else int(round(programme_cost * 100)),
                design=design,
            )
        if as_json:
            print(json.dumps(result.model_dump(mode="json"), indent=2))
        else:
            print_result(console, result)

    @app.command()
    def randomise(
        referrals: Path = typer.Argument(..., help="Text file with one referral id per line."),
        log: Path = typer.Option(..., "--log", help="Append-only allocation log (JSON lines)."),
        trial: str = typer.Option(..., "--trial", help="Trial name."),
        seed: int = typer.Option(..., "--seed", help="Seed; fixed for the life of the trial."),
    ) -> None:
        """Block-randomise new referrals into control/treatment and append them to the log."""
        from iom.csv_input import text_lines
        from iom.evaluation.randomise import randomise as do_randomise

        if not referrals.exists():
            raise UserError(f"file not found: {referrals}")
        ids = [line.strip() for line in text_lines(referrals) if line.strip()]
        for a in do_randomise(ids, log_path=log, seed=seed, trial=trial):
            console.print(f"{a['sequence']:>5}  {a['referral_id']}  block {a['block']}  {a['arm']}")
