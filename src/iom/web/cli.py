"""`iom serve`: the web app under uvicorn."""

from __future__ import annotations

import typer


def server_config(application, *, host: str, port: int):
    """How `iom serve` runs uvicorn. Its own proxy headers are off: uvicorn would otherwise
    believe ``X-Forwarded-For`` from 127.0.0.1, so anyone on the host could name any address;
    the app believes only ``IOM_TRUSTED_PROXIES`` (``iom.web.app``)."""
    import uvicorn

    return uvicorn.Config(application, host=host, port=port, log_level="warning", access_log=False,
                          proxy_headers=False, server_header=False)


def register(app: typer.Typer) -> None:
    from iom.terminal import console, state

    @app.command()
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
    ) -> None:
        """Serve the web app and API (IOM_SECRET_KEY and IOM_AUDIT_KEY required unless IOM_ENV=development)."""
        import uvicorn

        from iom.http.deps import current_as_of
        from iom.security.settings import audit_key, secret_key
        from iom.web.app import create_app

        key = secret_key()  # refuse a missing/placeholder key before binding a port
        audit_key()  # and an audit log nobody could append to
        engine = state(ctx).engine
        application = create_app(engine, secret=key)
        console.print(f"IOM web app at http://{host}:{port}/ (data as of {current_as_of(application)}); API schema at /api/v1/openapi.json")
        uvicorn.Server(server_config(application, host=host, port=port)).run()
