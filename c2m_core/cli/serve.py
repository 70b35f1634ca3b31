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
def serve(host, port, workers, log_level):
    """Serve the HTTP API: /openapi.json describes it, `c2m token create` makes tokens."""
    try:
        import uvicorn

        import c2m_core.server.application  # noqa: F401  (the framework is installed)
    except ImportError as ex:
        raise click.ClickException(
            f"the server needs its extra ({ex.name} is missing): pip install 'c2m[server]'"
        ) from None
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
    )
