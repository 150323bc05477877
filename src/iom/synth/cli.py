"""`iom synth`: generate the synthetic force."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from iom.errors import UserError
from iom.security.roles import cli_actor
from iom.synth import params
from iom.synth.service import Progress as SynthProgress
from iom.synth.service import generate_force, kept_tables


class RichProgress(SynthProgress):
    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task = bar.add_task("generating", total=None)

    def step(self, label: str) -> None:
        self.bar.update(self.task, description=label)

    def start_writing(self, total: int) -> None:
        self.bar.update(self.task, total=total, completed=0, description="writing rows")

    def advance(self, rows: int) -> None:
        self.bar.advance(self.task, rows)


def register(app: typer.Typer) -> None:
    from iom.terminal import console, state, user_option

    @app.command()
    def synth(
        ctx: typer.Context,
        seed: int = typer.Option(1, help="Random seed: the same seed gives identical data."),
        people: int = typer.Option(params.DEFAULT_PEOPLE, help="Size of the offending population."),
        as_of: dt.datetime = typer.Option(
            params.REFERENCE_DATE.isoformat(), "--as-of", formats=["%Y-%m-%d"],
            help="Reference date: history runs ten years up to it, calibrated to the published figures."),
        replace: bool = typer.Option(
            False, "--replace",
            help="Replace the whole database with the new force, keeping users and the audit log. "
                 "All or nothing: the old database stays whole until the new one is complete. "
                 "With --national: replace an earlier national data set in --out."),
        drop_users: bool = typer.Option(False, "--drop-users", help="With --replace: do not keep the users."),
        drop_audit_log: bool = typer.Option(
            False, "--drop-audit-log", help="With --replace: start a new audit log (the old one is lost)."),
        national: bool = typer.Option(
            False, "--national",
            help="Write the national data set (43 forces) to Parquet under --out instead of a force to the database."),
        out: Path | None = typer.Option(None, "--out", help="With --national: the directory to write."),
        scale: float = typer.Option(
            1.0, "--scale", help="With --national: 1.0 is 13 million offenders (13.7 million people with victims) and about 99 million crimes."),
        user: str = user_option(),
    ) -> None:
        """Generate a fictional force calibrated to the published figures (see README)."""
        if national:
            _national(ctx, out=out, scale=scale, seed=seed, replace=replace, console=console)
            return
        if out is not None or ctx.get_parameter_source("scale").name != "DEFAULT":
            raise UserError("--out and --scale go with --national")
        if (drop_users or drop_audit_log) and not replace:
            raise UserError("--drop-users and --drop-audit-log go with --replace")
        engine = state(ctx).engine
        started = time.perf_counter()
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            result = generate_force(engine, seed=seed, people=people, as_of=as_of.date(),
                                    progress=RichProgress(bar), replace=replace, actor=cli_actor(user),
                                    keep=kept_tables(users=not drop_users, audit_log=not drop_audit_log))
        console.print(
            f"synthetic force (seed {seed}, as of {result.as_of}) written in "
            f"{time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{n:,} {table}" for table, n in result.rows.items())
        )


def _national(ctx: typer.Context, *, out: Path | None, scale: float, seed: int, replace: bool, console) -> None:
    """`iom synth --national`: the national data set, with the options that make no sense for it refused."""
    from iom.synth.national import check_out, check_scale, write_national

    given = [name for name in ("people", "as_of", "drop_users", "drop_audit_log")
             if ctx.get_parameter_source(name).name != "DEFAULT"]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise UserError(f"{flags}: not for --national (its size is --scale; its date is fixed)")
    if out is None:
        raise UserError("--national needs --out DIR")
    check_scale(scale)
    check_out(out, replace=replace)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        summary = write_national(out, scale=scale, seed=seed, progress=RichProgress(bar), replace=replace)
    console.print(
        f"national synthetic data set (seed {seed}, scale {scale:g}, {summary.forces} forces) written to "
        f"{summary.out} in {summary.seconds:.1f} s: "
        + ", ".join(f"{n:,} {table}" for table, n in summary.rows.items())
        + f"; {summary.files:,} Parquet files, {summary.bytes / 1e6:,.1f} MB"
    )
