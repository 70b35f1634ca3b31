"""``c2m db``: migrate, check and copy the database (SQLite file or PostgreSQL URL)."""

from __future__ import annotations

import json

import click

from ..store import StoreError, is_postgres_url, open_store
from ..store.dialect import display_target
from ..store.maintenance import copy_to_postgres, integrity_problems, schema_status
from .context import app_from


@click.group()
def db():
    """Look after the database: migrate it, check it, copy it to PostgreSQL."""


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print the schema status as JSON.")
def migrate(as_json):
    """Apply pending migrations to the database (--db); every command also does on first use."""
    app = app_from()
    status = schema_status(app.store)
    if as_json:
        click.echo(json.dumps(status.to_dict(), indent=2))
        return
    pending = ", ".join(status.pending) or "none"
    click.echo(
        f"{display_target(app.db_path)} ({status.backend}): {len(status.applied)} "
        f"migrations applied; pending: {pending}"
    )
    click.echo(f"schema: {status.version}")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check(as_json):
    """Check the schema version and the integrity of the database; exit 1 on any problem.

    Opening the database applies migrations a newer c2m added and refuses one made by a newer
    c2m; then storage, references and the figures areas keep beside their rows are checked.
    """
    app = app_from()
    status = schema_status(app.store)
    problems = [f"migration {name} is pending" for name in status.pending]
    problems += integrity_problems(app.store)
    if as_json:
        click.echo(json.dumps({"schema": status.to_dict(), "problems": problems}, indent=2))
    else:
        click.echo(f"{display_target(app.db_path)} ({status.backend})")
        click.echo(f"schema: {status.version}")
        for problem in problems:
            click.echo(f"problem: {problem}")
        click.echo("ok" if not problems else f"{len(problems)} problem(s)")
    if problems:
        raise SystemExit(1)


@db.command()
@click.argument("sqlite_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print the tables copied as JSON.")
def copy(sqlite_file, url, as_json):
    """Copy the SQLite database SQLITE_FILE into the empty PostgreSQL database URL.

    The target is migrated first and must hold no rows. Everything is copied in one
    transaction, ids kept; each table's row count and checksum are compared on both sides,
    and any difference leaves the target empty. Stop writers to the file while it runs.
    """
    if not is_postgres_url(url):
        raise click.BadParameter(f"{url!r} is not a postgresql:// URL", param_hint="URL")
    app = app_from()
    source = open_store(sqlite_file, clock=app.clock)
    try:
        target = open_store(url, clock=app.clock)
    except StoreError:
        source.close()
        raise
    try:
        tables = copy_to_postgres(source, target)
    finally:
        source.close()
        target.close()
    if as_json:
        click.echo(json.dumps([t.to_dict() for t in tables], indent=2))
        return
    for table in tables:
        click.echo(f"{table.table:24} {table.rows:>10} rows  sha256-sum {table.checksum[:16]}")
    total = sum(t.rows for t in tables)
    click.echo(
        f"copied {total} rows in {len(tables)} tables to {display_target(url)}; "
        "counts and checksums match"
    )
