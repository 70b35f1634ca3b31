"""``c2m feedback``: buyers' feedback routed to departments, and seeding the next campaign."""

from __future__ import annotations

import click

from .context import app_from
from .output import echo_json, echo_table, json_option


@click.group()
def feedback():
    """Feedback on delivered variants, routed to the departments that own it."""


@feedback.command("add")
@click.argument("slug")
@click.option("--variant", "variant_id", type=int, required=True)
@click.option("--customer", required=True)
@click.option("--text", required=True)
@click.option("--rating", type=int, help="1 to 5.")
@click.option("--tags", default="", help="Comma-separated tags.")
@json_option
def add_command(slug, variant_id, customer, text, rating, tags, as_json):
    """Store a buyer's feedback on a handed-off variant and route it."""
    stored = app_from().feedback.submit(slug, variant_id, customer, text, rating, tags)
    if as_json:
        echo_json(stored.to_dict())
    else:
        module = f", names module {stored.module}" if stored.module else ""
        click.echo(f"feedback {stored.id} -> {stored.department}{module}")


@feedback.command("list")
@click.argument("slug")
@click.option("--department", help="Only this department's feedback.")
@json_option
def list_command(slug, department, as_json):
    """Feedback per department (counts, or one department's feedback)."""
    app = app_from()
    if department is None and not as_json:
        echo_table(sorted(app.feedback.departments(slug).items()), ["department", "feedback"])
        return
    items = app.feedback.list(slug, department)
    if as_json:
        echo_json([f.to_dict() for f in items])
        return
    echo_table(
        [(f.id, f"V{f.variant_id}", f.customer, f.rating or "", f.module or "", f.text[:60])
         for f in items],
        ["id", "variant", "customer", "rating", "module", "text"],
    )  # fmt: skip


@feedback.command("seed")
@click.argument("slug")
@click.option("--from", "from_slug", required=True, help="The earlier campaign.")
@click.option("--create", is_flag=True, help="Create SLUG like the earlier campaign first.")
@json_option
def seed_command(slug, from_slug, create, as_json):
    """Seed SLUG's wishes with the earlier campaign's feedback that names a module."""
    app = app_from()
    if create:
        _, report = app.feedback.start_next(from_slug, slug)
    else:
        report = app.feedback.seed_wishes(slug, from_slug)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(
            f"{slug}: {report.imported} wish(es) from the feedback of {from_slug} "
            f"({report.duplicates} seeded before)"
        )
