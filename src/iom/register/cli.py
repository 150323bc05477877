"""`iom init`, `iom summary` (and, from the synth and import modules, data loading)."""

from __future__ import annotations

import datetime as dt
import json

import typer
from rich.table import Table

from iom.db import session_scope
from iom.register.service import init_database
from iom.register.service import summary as service_summary


def register(app: typer.Typer) -> None:
    from iom.terminal import console, state

    @app.command()
    def init(ctx: typer.Context) -> None:
        """Create or upgrade the database schema and load the reference data."""
        counts = init_database(state(ctx).engine)
        console.print(
            f"database ready at {state(ctx).engine.url.render_as_string(hide_password=True)}: "
            + ", ".join(f"{n} {name}" for name, n in counts.items())
        )

    @app.command()
    def summary(
        ctx: typer.Context,
        as_of: dt.datetime = typer.Option(None, "--as-of", formats=["%Y-%m-%d"], help="Date to count on (default: the latest recorded crime)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    ) -> None:
        """People, crimes, current IOM cohort by classification and NPU, and the risk split."""
        with session_scope(state(ctx).engine) as session:
            result = service_summary(session, as_of.date() if as_of else None)
        if as_json:
            print(json.dumps(result.model_dump(mode="json"), indent=2))
            return
        console.print(
            f"[bold]As of {result.as_of}[/]: {result.people:,} people, {result.crimes:,} crimes, "
            f"{result.current_members:,} current IOM cohort members"
        )
        console.print("Risk: " + ", ".join(f"{k} {v:,}" for k, v in result.risk.items()))
        for title, counts in (("Classification", result.classifications), ("NPU", result.members_by_npu)):
            table = Table(title=f"Cohort by {title.lower()}")
            table.add_column(title)
            table.add_column("members", justify="right")
            for key, value in counts.items():
                table.add_row(key, f"{value:,}")
            console.print(table)

