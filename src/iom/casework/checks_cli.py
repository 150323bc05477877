"""`iom check lead-agency`: current cohort members whose lead agency the force's rule does
not allow (a report: it exits 0 whatever it finds, and says how many)."""

from __future__ import annotations

import datetime as dt
import json

import typer
from rich.table import Table

from iom.terminal import as_of_option, console, day, purpose_option, state, user_option


def _check_group(app: typer.Typer) -> typer.Typer:
    """The `iom check` group, shared with any other domain that adds a check to it."""
    for group in app.registered_groups:
        if group.name == "check" and group.typer_instance is not None:
            return group.typer_instance
    group = typer.Typer(help="Consistency checks over the register (reports: they change nothing).",
                        no_args_is_help=True)
    app.add_typer(group, name="check")
    return group


def register_checks(app: typer.Typer) -> None:
    check = _check_group(app)

    @check.command("lead-agency")
    def lead_agency(
        ctx: typer.Context,
        as_of: dt.datetime = as_of_option(),
        lomu: str = typer.Option(None, "--lomu", help="Only members whose current management record names this LOMU."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        user: str = user_option(),
        purpose: str = purpose_option("lead-agency check (CLI)"),
    ) -> None:
        """Members whose recorded lead agency the rule (cohorts/data/lead-agency-v1.toml) does not
        allow for their age and risk level on the day; the read is audited as one search."""
        from iom.casefile.commands import command_access
        from iom.casework import lead_agency as service

        with command_access(state(ctx).engine, user=user, purpose=purpose, as_of=day(as_of)) as access:
            report = service.check(access, lomu=lomu)
        if as_json:
            print(json.dumps(report.as_dict(), indent=1))
            return
        where = f" in {report.lomu}" if report.lomu else ""
        count = len(report.mismatches)
        if report.mismatches:
            table = Table(title=f"Lead agency not allowed by {report.rules_version} on {report.as_of}{where}")
            table.add_column("pseudo id", no_wrap=True)
            named = any(m.name for m in report.mismatches)  # no names for a pseudonymised reader
            if named:
                table.add_column("name")
            for column in ("LOMU", "age", "risk", "recorded", "allowed (rule)"):
                table.add_column(column, justify="right" if column == "age" else "left")
            for m in report.mismatches:
                name = [m.name or ""] if named else []
                table.add_row(m.pseudo_id, *name, m.lomu_code or "–", str(m.age), m.risk_level or "–",
                              m.recorded_agency or "none recorded", f"{' or '.join(m.allowed_agencies)} ({m.rule})")
            console.print(table)
            for rule, reason in sorted({(m.rule, m.reason) for m in report.mismatches}):
                console.print(f"rule {rule!r}: {reason}", highlight=False)
        console.print(f"{count} mismatch{'' if count == 1 else 'es'} among {report.checked:,} current members{where} "
                      f"on {report.as_of} ({report.rules_version})", highlight=False)
