"""``c2m serve``: the HTTP API on uvicorn (``pip install 'c2m[server]'``)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..app import DB_ENV
from .context import app_from


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes, all on the same database.",
)
@click.option("--log-level", default="info", show_default=True, help="uvicorn's log level.")
@click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A brand's template folder for the pages, looked up before the defaults.",
)
@click.option(
    "--demo-login",
    is_flag=True,
    help="Let anyone sign in to the pages by typing a name (loopback addresses only).",
)
def serve(host, port, workers, log_level, templates, demo_login):
    """Serve the HTTP API: /openapi.json describes it, `c2m token create` makes tokens."""
    try:
        import uvicorn

        import c2m_core.server.application  # noqa: F401  (the framework is installed)
        from c2m_core.server.asgi import DEMO_LOGIN_ENV, PROTOCOL, TEMPLATES_ENV
        from c2m_core.server.pages.security import is_loopback
    except ImportError as ex:
        raise click.ClickException(
            f"the server needs its extra ({ex.name} is missing): pip install 'c2m[server]'"
        ) from None
    if demo_login and not is_loopback(host):
        raise click.UsageError(
            f"--demo-login lets anyone act as any customer; it serves only loopback addresses "
            f"(127.0.0.1, ::1, localhost), not {host!r}"
        )
    os.environ[DEMO_LOGIN_ENV] = "1" if demo_login else "0"
    os.environ[TEMPLATES_ENV] = str(templates.resolve()) if templates else ""
    app = app_from()
    app.store.migrate()  # once here, not in each worker at once
    os.environ[DB_ENV] = str(Path(app.db_path).resolve())
    app.close()
    click.echo(f"c2m API on http://{host}:{port} ({workers} worker(s), database {app.db_path})")
    uvicorn.run(
        "c2m_core.server.asgi:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        http=PROTOCOL,
    )
