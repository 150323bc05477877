"""`iom score`, `iom select`, `iom override`, `iom revoke-override`, `iom explain`,
`iom model train|report`, `iom fairness`. Module-level commands, registered in ``register``."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import typer
from rich.table import Table

from iom.db import session_scope
from iom.errors import Conflict, UserError
from iom.formatting import probability
from iom.terminal import as_of_option, console, day, purpose_option, state, user_option

CONFIG_HELP = "Scoring config: a shipped version name (default scoring-v1) or a .toml file."


def config_option():
    return typer.Option(None, "--config", help=CONFIG_HELP)


def score(
    ctx: typer.Context,
    as_of: dt.datetime = as_of_option(),
    config: str = config_option(),
    train: bool = typer.Option(False, "--train", help="Train the force model for this date first if none is stored."),
) -> None:
    """Score everyone (RFG, harm, vulnerability, OGRS3, force model) and store it; idempotent."""
    from iom.register.service import as_of_or_default
    from iom.scoring import service
    from iom.scoring.config import load_config

    cfg = load_config(config)
    started = time.perf_counter()
    with session_scope(state(ctx).engine) as session:
        when = as_of_or_default(session, day(as_of))
        run = service.score_all(session, as_of=when, config=cfg, train=train)
        console.print(f"scored {run.people:,} people as of {run.as_of} under {run.config_version} "
                      f"in {time.perf_counter() - started:.1f} s (run {run.id})")
        if run.model_id is None:
            console.print(f"no force model: too little history before {run.as_of} to train one, so risk is left empty")


def select_cmd(
    ctx: typer.Context,
    npu: str = typer.Option(..., "--npu", help="NPU code, e.g. WS, or 'all'."),
    as_of: dt.datetime = as_of_option(),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with every row's explanation)."),
    top: int = typer.Option(20, help="Rows to print in the table view (JSON prints all)."),
    config: str = config_option(),
    apply: bool = typer.Option(False, "--apply", help="Write the adoptions and exits to the register (audited). "
                               "Without it the command only shows what would change."),
    user: str = user_option("Who applies the selection (with --apply)."),
    purpose: str = purpose_option("selection (CLI)"),
) -> None:
    """The NPU's ranked list within its capacity: adopt, keep or exit, with overrides applied.

    `--npu all` prints the top of every NPU's list. Reads stored scores (`iom score`).
    The changes it lists (adopt, exit) are written only with `--apply`."""
    from iom.register.service import as_of_or_default
    from iom.scoring import service
    from iom.scoring.config import load_config

    cfg = load_config(config)
    with session_scope(state(ctx).engine) as session:
        when = as_of_or_default(session, day(as_of))
        service.get_run(session, as_of=when, config=cfg, create=False)
        codes = service.npu_codes_with_capacity(session) if npu.lower() == "all" else [npu.upper()]
        lists = [(code, service.npu_capacity(session, code), service.select_for_npu(session, npu_code=code, as_of=when, config=cfg))
                 for code in codes]
    if as_json:
        out = [{"npu": code, "as_of": when.isoformat(), "config_version": cfg.version, "capacity": capacity,
                "rows": [r.model_dump(mode="json") for r in rows]} for code, capacity, rows in lists]
        print(json.dumps(out[0] if len(out) == 1 and npu.lower() != "all" else out, indent=1))
        return
    for code, capacity, rows in lists:
        counts = {d: sum(r.decision == d for r in rows) for d in ("adopt", "keep", "exit")}
        table = Table(title=f"{code} as of {when} ({cfg.version}): capacity {capacity:,}; "
                      + ", ".join(f"{n:,} {d}" for d, n in counts.items()))
        for col in ("rank", "person", "decision", "composite", "RFG", "harm days", "risk", "vulnerability", "why"):
            table.add_column(col, justify="left" if col in ("person", "decision", "why") else "right")
        for r in rows[:top]:
            table.add_row(str(r.rank), r.pseudo_id, r.decision, str(r.composite), str(r.rfg), f"{r.harm:,}",
                          probability(r.risk, missing="-"), str(r.vulnerability), r.reason)
        console.print(table)
    changes = [(code, r) for code, _, rows in lists for r in rows if r.decision in ("adopt", "exit")]
    if not apply:
        if changes:
            console.print(f"dry run: {sum(r.decision == 'adopt' for _, r in changes):,} adopt and "
                          f"{sum(r.decision == 'exit' for _, r in changes):,} exit would be written by --apply "
                          "(each adoption into its proposed classification, allocated to an officer with room)",
                          highlight=False)
        return
    _apply_selection(ctx, changes, when=when, user=user, purpose=purpose)


def _apply_selection(ctx: typer.Context, changes, *, when: dt.date, user: str, purpose: str) -> None:
    """Each change in its own transaction through the case file, so a failure part-way leaves
    every change before it written and audited, and none half-done. An adoption goes into its
    proposed classification and then to the officer in its LOMU with most room; when no officer
    has room it stays unallocated (a supervisor allocates it, with a reason, over capacity)."""
    from collections import Counter

    from rich.progress import track

    from iom.casefile.commands import command_access
    from iom.casework import flows
    from iom.cohort_framework import flows as cohort_flows
    from iom.cohort_framework.service import AlreadyAllocated

    done: Counter[str] = Counter()
    skipped, unallocated = [], []
    for code, row in track(changes, description="applying the selection", console=console, transient=True):
        try:
            with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=when) as access:
                reason = f"selection {code} {when}: {row.reason}"
                if row.decision == "adopt":
                    flows.adopt(access, person_id=row.person_id, classification=row.classification,
                                reason=f"{reason}; eligible: {row.eligibility}")
                else:
                    flows.exit_cohort(access, person_id=row.person_id, reason=reason)
            done[row.decision if row.decision == "exit" else row.classification] += 1
        except Conflict as exc:  # already adopted or exited (e.g. applied before the last scoring)
            skipped.append(f"{row.pseudo_id}: {exc}")
            continue
        if row.decision == "adopt":
            try:
                with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=when) as access:
                    cohort_flows.allocate(access, person_id=row.person_id)
            except AlreadyAllocated:  # a returning member whose officer has room keeps them
                pass
            except Conflict as exc:
                unallocated.append(f"{row.pseudo_id}: {exc}")
    adopted = sum(n for key, n in done.items() if key != "exit")
    console.print(f"applied: {adopted:,} adopted ("
                  + ", ".join(f"{n:,} {key}" for key, n in sorted(done.items()) if key != "exit")
                  + f"), {done['exit']:,} exited (as of {when}); {adopted - len(unallocated):,} allocated to an officer",
                  highlight=False)
    if unallocated:
        console.print(f"{len(unallocated):,} adopted but not allocated, no officer having room "
                      "(`iom cohort allocate PERSON --officer NAME --reason T`): "
                      + "; ".join(unallocated[:3]) + (" …" if len(unallocated) > 3 else ""), highlight=False)
    if skipped:
        console.print(f"{len(skipped):,} skipped, already done (rescore with `iom score` to refresh the list): "
                      + "; ".join(skipped[:5]) + (" …" if len(skipped) > 5 else ""), highlight=False)


def override(
    ctx: typer.Context,
    person: str = typer.Argument(..., help="Pseudo id or source id."),
    include: bool = typer.Option(None, "--include/--exclude", help="Include in, or exclude from, the selection."),
    reason: str = typer.Option(None, "--reason", help="Why (mandatory)."),
    until: dt.datetime = typer.Option(None, "--until", formats=["%Y-%m-%d"], help="Last day it applies (mandatory)."),
    user: str = user_option("Who makes the override."),
    purpose: str = purpose_option("selection override (CLI)"),
) -> None:
    """Record professional judgement; it is reapplied to every selection until it expires."""
    from iom.casefile.commands import command_access
    from iom.register.service import find_person
    from iom.scoring import flows, service

    if include is None:
        raise UserError("say --include or --exclude")
    if not reason or not reason.strip():
        raise UserError("an override needs a reason (--reason TEXT): say why this person should be "
                        + ("included" if include else "excluded"))
    if until is None:
        raise UserError("an override needs an end date (--until YYYY-MM-DD)")
    with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
        who = find_person(access.session, person)
        pseudo = who.pseudo_id
        row = flows.propose_override(access, person_id=who.id, include=include, reason=reason, until=until.date())
        waiting = include and service.awaits_scoring(access.session, person_id=who.id, as_of=row.valid_from)
    console.print(f"override #{row.id}: {'include' if include else 'exclude'} {pseudo} from "
                  f"{row.valid_from} until {row.until} ({row.reason}) by {row.created_by}"
                  + ("; awaiting approval (`iom approve-override`)" if row.state == "pending" else ""))
    if waiting:
        console.print(f"{pseudo} has no stored score for {row.valid_from}: run `iom score` to bring them into the selection")


def _decide(ctx: typer.Context, *, user: str, purpose: str, decide) -> None:
    from iom.casefile.commands import command_access

    with command_access(state(ctx).engine, user=user, purpose=purpose) as access:
        row = decide(access)
    by = {"approved": row.approved_by, "rejected": row.rejected_by, "revoked": row.revoked_by}.get(row.state, "")
    console.print(f"override #{row.id} {row.state} by {by}"
                  + (f" at {row.revoked_at:%Y-%m-%d %H:%M} UTC" if row.state == "revoked" else "")
                  + (f": {row.decision_reason}" if row.decision_reason else ""))


OVERRIDE_ID = typer.Argument(..., help="The override's number (printed when it was made).")
DECISION_REASON = typer.Option(..., "--reason", help="Why (mandatory, at least 10 characters).")


def approve_override(ctx: typer.Context, override_id: int = OVERRIDE_ID, user: str = user_option("Who approves it."),
                     purpose: str = purpose_option("supervision and approval (CLI)")) -> None:
    """Approve an override someone else made: it takes effect in the next selection."""
    from iom.scoring import flows

    _decide(ctx, user=user, purpose=purpose, decide=lambda a: flows.approve_override(a, override_id=override_id))


def reject_override(ctx: typer.Context, override_id: int = OVERRIDE_ID, reason: str = DECISION_REASON,
                    user: str = user_option("Who rejects it."),
                    purpose: str = purpose_option("supervision and approval (CLI)")) -> None:
    """Reject an override awaiting approval, saying why: it never takes effect."""
    from iom.scoring import flows

    _decide(ctx, user=user, purpose=purpose,
            decide=lambda a: flows.reject_override(a, override_id=override_id, reason=reason))


def revoke_override(ctx: typer.Context, override_id: int = OVERRIDE_ID, reason: str = DECISION_REASON,
                    user: str = user_option("Who revokes it."),
                    purpose: str = purpose_option("selection override (CLI)")) -> None:
    """End an override now, saying why: later selections no longer apply it."""
    from iom.scoring import flows

    _decide(ctx, user=user, purpose=purpose,
            decide=lambda a: flows.revoke_override(a, override_id=override_id, reason=reason))


def explain(
    ctx: typer.Context,
    person: str = typer.Argument(..., help="Pseudo id or source id."),
    as_of: dt.datetime = as_of_option(),
    as_json: bool = typer.Option(False, "--json"),
    config: str = config_option(),
    purpose: str = purpose_option("case management (CLI)"),
    user: str = user_option("Who reads it (audited)."),
) -> None:
    """Every part of a person's scores: which crimes and factors, how many points each."""
    from iom.casefile.commands import command_access, person_id
    from iom.scoring import service
    from iom.scoring.config import load_config

    cfg = load_config(config)
    with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
        service.get_run(access.session, as_of=access.as_of, config=cfg, create=False)
        who = access.read_subject(person_id(access, person), resource="score_explanation",
                                  as_of=access.as_of, config=cfg.version)
        e = service.explain(access.session, person_id=who.id, as_of=access.as_of, config=cfg)
    if as_json:
        print(e.model_dump_json(indent=1))
        return
    risk = probability(e.risk, missing="none")
    ogrs = "n/a" if e.ogrs3_1y is None else f"{probability(e.ogrs3_1y)} (1 yr), {probability(e.ogrs3_2y)} (2 yr)"
    console.print(f"[bold]{e.pseudo_id}[/] as of {e.as_of} ({e.config_version}): composite {e.composite}, "
                  f"RFG {e.rfg}, harm {e.harm_days:,} days, risk {risk} [{e.risk_source}], OGRS3 {ogrs}, "
                  f"vulnerability {e.vulnerability}")
    for name, total in (("rfg", e.rfg), ("harm", e.harm_days), ("vulnerability", e.vulnerability), ("composite", e.composite)):
        table = Table(title=f"{name}: {total}")
        table.add_column("part")
        table.add_column("points", justify="right")
        for p in e.parts_for(name):
            table.add_row(p.label, str(p.points))
        console.print(table)


def model_train(
    ctx: typer.Context,
    cutoff: dt.datetime = typer.Option(None, "--cutoff", formats=["%Y-%m-%d"],
                                       help="Cut-off (default: 18 months before the latest record, so the "
                                            "validation follow-up is complete)."),
    config: str = config_option(),
) -> None:
    """Train on data before the cut-off; validate on held-out people beside OGRS3."""
    from iom.scoring import service
    from iom.scoring.config import load_config
    from iom.scoring.schemas import ModelReport

    with session_scope(state(ctx).engine) as session:
        row = service.train_model(session, cutoff=day(cutoff), config=load_config(config))
        console.print(f"model #{row.id} trained to {row.cutoff} on {row.n_train:,} people "
                      f"(base rate {row.base_rate:.1%})")
        report = ModelReport.model_validate_json(row.report) if row.report else None
    if report:
        _print_report(report)


def model_report(
    ctx: typer.Context,
    cutoff: dt.datetime = typer.Option(None, "--cutoff", formats=["%Y-%m-%d"]),
    as_json: bool = typer.Option(False, "--json"),
    config: str = config_option(),
) -> None:
    """AUC, Brier score and decile calibration of the force model and OGRS3 on the same people."""
    from iom.scoring import service
    from iom.scoring.config import load_config

    with session_scope(state(ctx).engine) as session:
        report = service.model_report(session, cutoff=day(cutoff), config=load_config(config))
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=1))
    else:
        _print_report(report)


def fairness(
    ctx: typer.Context,
    as_of: dt.datetime = as_of_option("Date of the selection audited (default: 18 months before the "
                                      "latest record, so observed reoffending is known)."),
    html: Path = typer.Option(None, "--html", help="Write a readable HTML page here."),
    as_json: bool = typer.Option(False, "--json", help="Print the audit as JSON."),
    config: str = config_option(),
    file: Path = typer.Option(None, "--file", help="Audit a CSV of scores and outcomes instead of the register's "
                              "selection (no database needed)."),
    group_cols: list[str] = typer.Option(None, "--group-col", help="With --file: the column naming each row's "
                                         "group (repeat for more than one)."),
    score_col: str = typer.Option(None, "--score-col", help="With --file: the column holding the score."),
    threshold: float = typer.Option(None, "--threshold", help="With --file: a score at or above it counts as selected."),
    outcome_col: str = typer.Option(None, "--outcome-col", help="With --file: the outcome column, 0 or 1 (1: reoffended)."),
    reference: str = typer.Option(None, "--reference", help="With --file: the group the others are compared with "
                                  "(default the largest)."),
) -> None:
    """Fairness audit by group, each rate with its interval, disparities in words: the register's
    selection by ethnicity, sex and age band, or any file of scores (--file)."""
    from iom.scoring.config import load_config
    from iom.scoring.fairness import fairness_audit, path_audit, render_html

    if file is not None:
        needed = {"--group-col": group_cols, "--score-col": score_col, "--threshold": threshold, "--outcome-col": outcome_col}
        missing = [name for name, value in needed.items() if value in (None, [])]
        if missing:
            raise UserError(f"--file needs {', '.join(missing)} too")
        if as_of is not None:
            raise UserError("--as-of is for the register's selection; a file carries its own outcomes")
        report = path_audit(file, group_cols=group_cols, score_col=score_col, outcome_col=outcome_col,
                            threshold=threshold, reference=reference, config=load_config(config))
    else:
        stray = [name for name, value in (("--group-col", group_cols), ("--score-col", score_col), ("--threshold", threshold),
                                          ("--outcome-col", outcome_col), ("--reference", reference)) if value not in (None, [])]
        if stray:
            raise UserError(f"{', '.join(stray)} go with --file F.csv")
        with session_scope(state(ctx).engine) as session:
            report = fairness_audit(session, as_of=day(as_of), config=load_config(config))
    if html:
        html.write_text(render_html(report))
        console.print(f"wrote {html}")
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=1))
    elif not html:
        _print_fairness(report)


def _print_fairness(report) -> None:
    """The audit as one table per attribute, each rate with its interval, then the findings."""
    from iom.scoring.fairness import rate_short

    console.print(f"[bold]{report.summary().split(';')[0]}[/]", highlight=False)
    for attr in report.attributes.values():
        table = Table(title=f"By {attr.title} (against {attr.reference or 'no group: none large enough'}; "
                      f"{report.confidence:.0%} intervals)")
        for col in ("group", "people", "selected", "false positives", "false negatives", "predictive value", "reoffended"):
            table.add_column(col, justify="left" if col == "group" else "right")
        for g in attr.groups:
            table.add_row(g.group + ("" if g.judged else " (too small to judge)"), f"{g.people:,}",
                          *(rate_short(getattr(g, f)) for f in ("selection_rate", "false_positive_rate", "false_negative_rate",
                                                                "positive_predictive_value", "observed_rate")))
        console.print(table)
    for flag in report.flags or ["No disparity that the intervals support."]:
        console.print(f"- {flag}", highlight=False)
    within = sum(len(a.unsupported) for a in report.attributes.values())
    if within:
        console.print(f"{within:,} gap{'s' if within != 1 else ''} beyond the ratio within chance, not flagged "
                      "(listed in --json and --html)", highlight=False)


def _print_report(model_report) -> None:
    """The validation report (``ModelReport``) as tables."""
    report = model_report.model_dump(mode="json")
    console.print(f"[bold]Validation[/]: cut-off {report['cutoff']}, {report['held_out_people']:,} held-out people "
                  f"(follow-up to {report['follow_up_ends']}), observed rate {report['observed_rate']:.1%}")
    table = Table(title="Force model vs OGRS3, same people")
    table.add_column("")
    names = list(report["models"])
    for name in names:
        table.add_column(name, justify="right")
    table.add_row("AUC", *[f"{report['models'][n]['auc']:.3f}" for n in names])
    table.add_row("Brier", *[f"{report['models'][n]['brier']:.4f}" for n in names])
    table.add_row("mean predicted", *[f"{report['models'][n]['mean_predicted']:.1%}" for n in names])
    console.print(table)
    cal = Table(title="Calibration by decile of prediction (predicted / observed)")
    cal.add_column("decile", justify="right")
    for name in names:
        cal.add_column(name, justify="right")
    for i in range(len(report["models"][names[0]]["calibration"])):
        cells = [f"{report['models'][n]['calibration'][i]['mean_predicted']:.1%} / "
                 f"{report['models'][n]['calibration'][i]['observed']:.1%}" for n in names]
        cal.add_row(str(i + 1), *cells)
    console.print(cal)


def register(app: typer.Typer) -> None:
    app.command()(score)
    app.command("select")(select_cmd)
    app.command()(override)
    app.command("approve-override")(approve_override)
    app.command("reject-override")(reject_override)
    app.command("revoke-override")(revoke_override)
    app.command()(explain)
    model_app = typer.Typer(help="The force-trained reoffending model.", no_args_is_help=True)
    model_app.command("train")(model_train)
    model_app.command("report")(model_report)
    app.add_typer(model_app, name="model")
    app.command()(fairness)
