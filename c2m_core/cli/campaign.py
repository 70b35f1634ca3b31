"""``c2m campaign``: create, list, show and advance campaigns."""

from __future__ import annotations

import click

from ..campaigns.records import SETTINGS
from ..campaigns.service import STAGES
from .context import app_from
from .output import echo_json, echo_table, json_option


def _stages(value: str) -> list[str]:
    return [stage.strip() for stage in value.split(",") if stage.strip()]


@click.group()
def campaign():
    """Create campaigns and move them through their stages."""


@campaign.command()
@click.argument("slug")
@click.option("--category", required=True, help="The product category (see `c2m catalog list`).")
@click.option("--title", help="A title for people (default: the slug).")
@click.option("--currency", help="ISO 4217 currency (default: the catalog's).")
@click.option(
    "--stages",
    default=",".join(STAGES),
    show_default=True,
    help="Comma-separated stages the campaign uses, in this fixed order.",
)
@click.option("--max-variants", type=int, help=SETTINGS["max_variants"][2].capitalize() + ".")
@click.option("--moq", type=int, help=SETTINGS["moq"][2].capitalize() + ".")
@json_option
def create(slug, category, title, currency, stages, max_variants, moq, as_json):
    """Create campaign SLUG in draft."""
    settings = {
        name: value
        for name, value in {"max_variants": max_variants, "moq": moq}.items()
        if value is not None
    }
    created = app_from().campaigns.create(
        slug, category, title=title, currency=currency, stages=_stages(stages), settings=settings
    )
    if as_json:
        echo_json(created.to_dict())
    else:
        click.echo(
            f"created campaign {created.slug} ({created.category}, {created.currency}): "
            f"{' -> '.join(created.states)}"
        )


@campaign.command("list")
@json_option
def list_(as_json):
    """List campaigns with their state."""
    campaigns = app_from().campaigns.list()
    if as_json:
        echo_json([c.to_dict() for c in campaigns])
        return
    echo_table(
        [(c.slug, c.title, c.category, c.state, " -> ".join(c.stages)) for c in campaigns],
        ["slug", "title", "category", "state", "stages"],
    )


@campaign.command()
@click.argument("slug")
@json_option
def show(slug, as_json):
    """Show a campaign: state, stages and settings."""
    found = app_from().campaigns.get(slug)
    data = found.to_dict()
    if as_json:
        echo_json(data)
        return
    click.echo(f"{found.title} ({found.slug})")
    click.echo(f"{'category':<13}{found.category}")
    click.echo(f"{'currency':<13}{found.currency}")
    path = " -> ".join(f"[{s}]" if s == found.state else s for s in found.states)
    click.echo(f"{'state':<13}{path}")
    frozen = "frozen" if found.catalog_frozen else "live (freezes when the campaign opens)"
    click.echo(f"{'catalog':<13}{frozen}")
    for name, value in data["settings"].items():
        click.echo(f"{name:<13}{value}")


@campaign.command()
@click.argument("slug")
@click.option("--to", "target", help="The state to move to (must be the next one).")
def advance(slug, target):
    """Move campaign SLUG to its next state."""
    app = app_from()
    app.presale.settle_due(slug)  # a pre-sale past its deadline closes first, on its own
    before = app.campaigns.get(slug).state
    after = app.campaigns.advance(slug, to=target)
    click.echo(f"{after.slug}: {before} -> {after.state}")
