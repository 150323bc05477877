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
        _fail(str(exc))
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # a path given on the command line that cannot be read or written
        where = f" {exc.filename}" if exc.filename else ""
        _fail(f"cannot use{where}: {exc.strerror or exc}")
    except Exception as exc:
        if _is_usage_error(exc):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, DBAPIError) or _is_driver_error(exc):
            orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
            reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
            hint = " (is the database initialised? run `iom init`)" if "no such table" in reason or "does not exist" in reason else ""
            _fail(f"{reason}{hint}", label="database error")
        from pydantic import ValidationError

        if isinstance(exc, ValidationError) and exc.title == "Settings":
            _fail("bad setting: " + "; ".join(f"IOM_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()))
        raise


def _fail(message: str, *, label: str = "error") -> None:
    err_console.print(f"[bold red]{label}:[/] {message}", highlight=False)
    sys.exit(2)


def _is_usage_error(exc: Exception) -> bool:
    """Click's usage errors (bad option, missing argument, bad value), whichever copy of click
    raised them: Typer ships its own, whose classes are not the ``click`` package's."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__) and callable(getattr(exc, "show", None))


def _is_driver_error(exc: Exception) -> bool:
    """An error from the database driver itself: the analytics and the scoring reads use the
    driver's own cursor for speed, so SQLAlchemy does not wrap what they raise."""
    return any(cls.__module__.split(".")[0] in ("sqlite3", "psycopg") and cls.__name__ in ("Error", "DatabaseError")
               for cls in type(exc).__mro__)


if __name__ == "__main__":
    main()
