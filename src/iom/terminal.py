"""What every domain's commands share: the consoles, the per-invocation state (database URL,
engine) and the as-of option. Domains import this, never the root ``iom.cli``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from iom.db import check_connection, make_engine

console = Console()
err_console = Console(stderr=True)

AS_OF_HELP = "Date to work as of (default: the data's reference date, the latest recorded crime)."


@dataclass
class State:
    """Per-invocation state: the database URL, and an engine opened on first use."""

    database_url: str
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.database_url)
            check_connection(self._engine)
        return self._engine


def state(ctx: typer.Context) -> State:
    return ctx.find_root().obj


def as_of_option(help: str = AS_OF_HELP):
    return typer.Option(None, "--as-of", formats=["%Y-%m-%d"], help=help)


def day(value: dt.datetime | None) -> dt.date | None:
    """A ``--as-of``-style option's date (Typer parses dates as datetimes)."""
    return value.date() if value else None


def user_option(help: str = "Who is acting (audited)."):
    return typer.Option("cli", "--user", envvar="USER", help=help)


def purpose_option(default: str):
    return typer.Option(default, "--purpose", help="Why you read or change this record (audited).")


def options_model(model, **values):
    """A schema from a command's options (None left out), its validation errors as one plain refusal."""
    from pydantic import ValidationError

    from iom.edge import plain_errors
    from iom.errors import UserError

    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise UserError(plain_errors(exc.errors())) from None


def printed_brief(found, *, as_json: bool, summary: bool = False) -> bool:
    """``--json`` prints the whole result, ``--summary`` its one line; True if either did."""
    if as_json:
        print(found.model_dump_json(indent=1))
    elif summary:
        print(found.summary())
    return as_json or summary
