"""The `iom` command. Thin: parses arguments, calls services, prints results.

Each domain adds its commands in ``iom/<domain>/cli.py`` with a ``register(app)`` function,
listed in ``DOMAIN_COMMANDS`` below."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field

import typer
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from iom.config import get_settings
from iom.db import check_connection, make_engine
from iom.errors import UserError

app = typer.Typer(
    help="IOM: Integrated Offender Management and diversion.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

#: Modules whose ``register(app)`` adds their commands, in help order.
DOMAIN_COMMANDS = [
    "iom.register.cli",
    "iom.synth.cli",
    "iom.evaluation.cli",
    "iom.analytics.cli",
    "iom.reports.cli",
    "iom.register.io_cli",
    "iom.scoring.cli",
    "iom.security.cli",
    "iom.web.cli",
]


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


@app.callback()
def _root(
    ctx: typer.Context,
    db: str = typer.Option(
        None,
        "--db",
        envvar="IOM_DATABASE_URL",
        help="SQLAlchemy database URL (default sqlite:///iom.db).",
        show_default=False,
    ),
) -> None:
    ctx.obj = State(database_url=db or get_settings().database_url)


def state(ctx: typer.Context) -> State:
    return ctx.find_root().obj


for _module in DOMAIN_COMMANDS:
    importlib.import_module(_module).register(app)


def main() -> None:
    """Entry point: user errors are printed plainly with exit code 2, never a traceback."""
    try:
        app(standalone_mode=False)
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        hint = ""
        if "no such table" in reason or "does not exist" in reason:
            hint = " (is the database initialised? run `iom init`)"
        err_console.print(f"[bold red]database error:[/] {reason}{hint}", highlight=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except OSError as exc:  # a path given on the command line that cannot be read or written
        where = f" {exc.filename}" if exc.filename else ""
        err_console.print(f"[bold red]error:[/] cannot use{where}: {exc.strerror or exc}", highlight=False)
        sys.exit(2)
    except Exception as exc:
        if _is_usage_error(exc):
            exc.show()
            sys.exit(exc.exit_code)
        from pydantic import ValidationError

        if isinstance(exc, ValidationError) and exc.title == "Settings":
            problems = "; ".join(f"IOM_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
            err_console.print(f"[bold red]error:[/] bad setting: {problems}", highlight=False)
            sys.exit(2)
        raise


def _is_usage_error(exc: Exception) -> bool:
    """Click's usage errors (bad option, missing argument, bad value), whichever copy of click
    raised them: Typer ships its own, whose classes are not the ``click`` package's."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__) and callable(getattr(exc, "show", None))


if __name__ == "__main__":
    main()
