"""The `iom` command. Thin: parses arguments, calls services, prints results.

Each domain adds its commands through its ``DOMAIN.cli`` (``iom.plugins``): a
``register(app)`` function in ``iom/<domain>/cli.py``. Nothing here names a domain."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import DBAPIError

from iom.config import get_settings
from iom.errors import UserError
from iom.plugins import contributions, resolve
from iom.terminal import State, err_console


def build() -> typer.Typer:
    """The command with every installed domain's commands (``Domain.cli``)."""
    root = typer.Typer(
        help="IOM: Integrated Offender Management and diversion.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    root.callback()(_root)
    for register in contributions("cli"):
        resolve(register)(root)
    return root


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


app = build()


def main() -> None:
    """Entry point: user errors are printed plainly with exit code 2, never a traceback."""
    try:
        # Without standalone mode click returns a command's exit code (``typer.Exit(1)``)
        # instead of exiting with it: pass it on, or a failed check would look like success.
        code = app(standalone_mode=False)
        if type(code) is int and code:  # a bool or a value a command happened to return is not a code
            sys.exit(code)
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
