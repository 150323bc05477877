"""`iom measures` (reoffending by unit, both definitions) and `iom adoption` (before/during/after)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from iom.errors import UserError

if TYPE_CHECKING:
    import pandas as pd


def _open(ctx, parquet: Path | None, engine: str | None):
    from iom.analytics.source import open_warehouse
    from iom.terminal import state

    # Measures need only cohort members and their crimes: read no more than that.
    if parquet:
        return open_warehouse(engine=engine, parquet_dir=parquet)
    return open_warehouse(engine=engine, database=state(ctx).engine, scope="cohort")


def _engine_option():
    return typer.Option(None, "--engine", help=(
        "duckdb (this machine) or spark (IOM_SPARK_MASTER: local[2], or a cluster's URL); default IOM_ENGINE, "
        "else duckdb. The same measures, written once, run on either (docs/scale.md)."))


def _pounds(pence) -> str:
    import pandas as pd

    if pd.isna(pence):
        return "–"
    return f"{'−' if pence < 0 else ''}£{abs(pence) / 100:,.0f}"


def _consistency(ctx, on, user: str) -> dict:
    """The cohort framework's consistency measures per LOMU on the index date (audited)."""
    from iom.casefile.commands import command_access
    from iom.cohort_framework import views
    from iom.terminal import state

    with command_access(state(ctx).engine, user=user, purpose="measures by LOMU (CLI)", as_of=on) as access:
        return {u.lomu_code: u for u in views.consistency(access)}


def _print_consistency(units: dict, on) -> None:
    from iom.formatting import percent
    from iom.terminal import console

    table = Table(title=f"Consistency across LOMUs on {on}: adoptions and exits in the 12 months before")
    for col in ("LOMU", "members", "officers", "per officer", "adopted", "adoption rate", "exited", "exit rate",
                "lapsed eligibility"):
        table.add_column(col, justify="left" if col == "LOMU" else "right")
    for u in units.values():
        table.add_row(str(u.lomu_code), f"{u.members:,}", f"{u.officers:,}",
                      "–" if u.members_per_officer is None else f"{u.members_per_officer:.1f}", f"{u.adopted:,}",
                      percent(u.adoption_rate), f"{u.exited:,}", percent(u.exit_rate),
                      f"{u.lapsed:,} ({percent(u.lapsed_share)})")
    console.print(table)


def _records(frame: pd.DataFrame) -> list[dict]:
    frame = frame.copy()
    if "index_date" in frame:
        frame["index_date"] = frame["index_date"].astype(str)
    return json.loads(frame.to_json(orient="records"))


def register(app: typer.Typer) -> None:
    from iom.terminal import console, user_option

    @app.command()
    def measures(
        ctx: typer.Context,
        by: str = typer.Option("npu", "--by", help=(
            "force, npu, lomu, classification, offender_type, lead_agency or supervision: statutory when the "
            "National Probation Service, the probation provider (CRC) or the Youth Offending Team leads, "
            "non-statutory when the police lead.")),
        start: dt.datetime = typer.Option(None, "--start", formats=["%Y-%m-%d"], help="Index date: the cohort on this day (default: latest fully observed)."),
        follow_up: int = typer.Option(12, "--follow-up", min=1, max=120, help="Follow-up months."),
        wait: int = typer.Option(6, "--wait", min=0, max=60, help="Months allowed for an offence to be proven after the follow-up."),
        parquet: Path = typer.Option(None, "--parquet", help=(
            "Read Parquet instead of the database: an iom export DIR, or a partitioned national directory.")),
        engine: str = _engine_option(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        user: str = user_option("Who reads the cohort measures (by LOMU, audited)."),
    ) -> None:
        """Reoffending rate, frequency and cost of crime: police-recorded and proven side by side.
        By LOMU, also members per officer, adoption and exit rates and lapsed eligibility."""
        from iom.analytics.service import reoffending_measures

        frame = reoffending_measures(
            _open(ctx, parquet, engine), by=by, start=start.date() if start else None, follow_up_months=follow_up, wait_months=wait
        )
        if frame.empty:
            raise UserError(f"no IOM cohort members on {start.date() if start else 'the default start date'}: "
                            "choose a date the register covers")
        index_date = frame["index_date"].iloc[0]
        units = _consistency(ctx, index_date, user) if by == "lomu" and parquet is None else None
        if as_json:
            records = _records(frame)
            if units is not None:
                for record in records:
                    found = units.get(record["group"])
                    record["cohort"] = found.model_dump(mode="json") if found else None
            print(json.dumps(records, indent=2))
            return
        table = Table(title=f"IOM cohort on {index_date} by {by}: {follow_up}-month follow-up")
        for col in ("group", "offenders", "recorded rate (95%)", "freq.", "cost", "proven rate (95%)", "freq.", "cost"):
            table.add_column(col, justify="left" if col == "group" else "right")
        for r in frame.itertuples():
            table.add_row(
                str(r.group), f"{r.offenders:,}",
                f"{r.recorded_rate:.1%} ({r.recorded_lower:.0%}–{r.recorded_upper:.0%})",
                f"{r.recorded_per_offender:.2f}", _pounds(r.recorded_cost_pence),
                f"{r.proven_rate:.1%} ({r.proven_lower:.0%}–{r.proven_upper:.0%})",
                f"{r.proven_per_offender:.2f}", _pounds(r.proven_cost_pence),
            )
        console.print(table)
        if units is not None:
            _print_consistency(units, index_date)

    @app.command()
    def adoption(
        ctx: typer.Context,
        as_of: dt.datetime = typer.Option(None, "--as-of", formats=["%Y-%m-%d"], help="Last day counted (default: latest crime)."),
        parquet: Path = typer.Option(None, "--parquet", help="Read Parquet exports instead of the database."),
        engine: str = _engine_option(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Offences and cost of crime 6 months before adoption, during, and 3 months after, per NPU;
        the cost avoided per day with its bootstrap 95% interval, and why it overstates IOM's effect."""
        import pandas as pd

        from iom.analytics.service import (BOOTSTRAP_RESAMPLES, REGRESSION_TO_THE_MEAN, before_during_after,
                                           cost_avoided_interval, cost_avoided_per_day)

        frame = before_during_after(_open(ctx, parquet, engine), as_of=as_of.date() if as_of else None)
        if as_json:
            print(json.dumps(_records(frame), indent=2))
            return
        table = Table(title="IOM cohort before / during / after adoption (offences, and per offender-month)")
        for col in ("NPU", "offenders", "before", "during", "after", "£ per o-m before", "£ per o-m during",
                    "£ avoided/day (95%)"):
            table.add_column(col, justify="left" if col == "NPU" else "right")
        for r in frame.to_dict(orient="records"):
            cells = [str(r["npu"]), f"{r['offenders']:,}"]
            for w in ("before", "during", "after"):
                rate = r[f"{w}_offences_per_offender_month"]
                cells.append(f"{r[f'{w}_offences']:,} ({'–' if pd.isna(rate) else f'{rate:.3f}'})")
            cells += [_pounds(r["before_cost_pence_per_offender_month"]), _pounds(r["during_cost_pence_per_offender_month"]),
                      f"{_pounds(r['cost_avoided_pence_per_day'])} ({_pounds(r['cost_avoided_pence_per_day_lower'])} to "
                      f"{_pounds(r['cost_avoided_pence_per_day_upper'])})"]
            table.add_row(*cells)
        console.print(table)
        lower, upper = cost_avoided_interval(frame)
        console.print(f"Cost of crime avoided per day across the force: {_pounds(cost_avoided_per_day(frame))} "
                      f"(95% range {_pounds(lower)} to {_pounds(upper)}, bootstrap over offenders, "
                      f"{BOOTSTRAP_RESAMPLES:,} resamples). {REGRESSION_TO_THE_MEAN}", highlight=False, soft_wrap=True)
