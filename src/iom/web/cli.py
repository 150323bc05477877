"""`iom serve`: the web app under uvicorn."""

from __future__ import annotations

import typer


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
        uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
