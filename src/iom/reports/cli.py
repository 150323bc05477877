"""`iom report --out DIR [--pdf] [--marking M]`: the board paper."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from iom.terminal import console, state

    @app.command()
    def report(
        ctx: typer.Context,
        out: Path = typer.Option(..., "--out", help="Directory to write report.html (and report.pdf) into."),
        as_of: dt.datetime = typer.Option(None, "--as-of", formats=["%Y-%m-%d"], help="Last day of data (default: latest crime)."),
        pdf: bool = typer.Option(False, "--pdf", help="Also write report.pdf: page numbers, the marking on every "
                                                      "page, a table of contents."),
        marking: str = typer.Option(None, "--marking", envvar="IOM_PROTECTIVE_MARKING", show_default=False,
                                    help="Protective marking on every page (default OFFICIAL-SENSITIVE)."),
    ) -> None:
        """Write the board paper: executive summary and recommendations computed from the results, the
        cohort, performance by NPU, diversion, domestic abuse, courses and evaluations, a glossary."""
        # Imported here, not at registration: the paper pulls in altair, scipy and statsmodels,
        # which every other command would otherwise load (3 s and 200 MB more at start).
        from iom.reports.paper import DEFAULT_MARKING, build_report

        path = build_report(out, engine=state(ctx).engine, as_of=as_of.date() if as_of else None, pdf=pdf,
                            marking=marking or DEFAULT_MARKING)
        console.print(f"report written to {path.resolve()}" + (f" and {path.with_suffix('.pdf').resolve()}" if pdf else ""))
