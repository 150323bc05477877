"""`iom serve`: the web app under uvicorn, in one process or several workers."""

from __future__ import annotations

import os

import typer


def server_config(application, *, host: str, port: int, workers: int = 1):
    """How `iom serve` runs uvicorn. Its own proxy headers are off: uvicorn would otherwise
    believe ``X-Forwarded-For`` from 127.0.0.1, so anyone on the host could name any address;
    the app believes only ``IOM_TRUSTED_PROXIES`` (``iom.web.app``). ``application``: the app,
    or (several workers) the import string of the factory each worker calls."""
    import uvicorn

    return uvicorn.Config(application, host=host, port=port, log_level="warning", access_log=False,
                          proxy_headers=False, server_header=False, workers=workers,
                          factory=isinstance(application, str), timeout_graceful_shutdown=10)


def register(app: typer.Typer) -> None:
    from iom.terminal import console, state

    @app.command()
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
        workers: int = typer.Option(1, "--workers", min=1, max=64,
                                    help="Worker processes (PostgreSQL for more than one; see docs/web.md)."),
    ) -> None:
        """Serve the web app and API (IOM_SECRET_KEY and IOM_AUDIT_KEY required unless IOM_ENV=development)."""
        import uvicorn

        from iom.db import max_connections, pool_sizes, session_scope
        from iom.register.service import reference_date
        from iom.http.deps import current_as_of
        from iom.security.settings import audit_key, secret_key
        from iom.web.app import create_app

        key = secret_key()  # refuse a missing/placeholder key before binding a port
        audit_key()  # and an audit log nobody could append to
        engine = state(ctx).engine
        sizes = pool_sizes(workers=workers, limit=max_connections(engine))  # refuses too few connections
        if workers > 1 and engine.dialect.name == "sqlite":
            console.print("[yellow]Several workers on SQLite share one write lock: PostgreSQL is the database "
                          "for more than one worker (docs/web.md).[/]")
        # Every worker signs and reads the same cookies: one key for all of them (in development
        # the throwaway key is made here, once), and the same database.
        os.environ["IOM_SECRET_KEY"] = key
        os.environ["IOM_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
        os.environ["IOM_WEB_WORKERS"] = str(workers)
        if workers == 1:
            application = create_app(engine, secret=key, pools=sizes)
            as_of = current_as_of(application)
        else:
            application = "iom.web.app:app_from_environment"  # each worker builds its own
            with session_scope(engine) as session:
                as_of = reference_date(session)
        console.print(f"IOM web app at http://{host}:{port}/ (data as of {as_of}); {sizes.describe(workers)}; "
                      "API schema at /api/v1/openapi.json")
        config = server_config(application, host=host, port=port, workers=workers)
        if workers == 1:
            uvicorn.Server(config).run()
        else:
            from uvicorn.supervisors import Multiprocess

            # The supervisor binds the port once and restarts a worker that dies.
            Multiprocess(config, sockets=[config.bind_socket()]).run()
