"""`iom report --out DIR`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from iom.terminal import console, state

    @app.command()
    def report(
        ctx: typer.Context,
        out: Path = typer.Option(..., "--out", help="Directory to write report.html into."),
        as_of: dt.datetime = typer.Option(None, "--as-of", formats=["%Y-%m-%d"], help="Last day of data (default: latest crime)."),
    ) -> None:
        """Write the self-contained HTML report (rates with intervals, survival, before/during/after)."""
        from iom.reports.paper import build_report

        path = build_report(out, engine=state(ctx).engine, as_of=as_of.date() if as_of else None)
        console.print(f"report written to {path.resolve()}")
