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
@click.option(
    "--category",
    help="The product category (see `c2m catalog list`); required unless --from gives it.",
)
@click.option("--title", help="A title for people (default: the slug).")
@click.option("--currency", help="ISO 4217 currency (default: the catalog's).")
@click.option(
    "--stages",
    help="Comma-separated stages the campaign uses, in this fixed order. "
    f"[{','.join(STAGES)}, or the --from campaign's]",
)
@click.option("--max-variants", type=int, help=SETTINGS["max_variants"][2].capitalize() + ".")
@click.option("--moq", type=int, help=SETTINGS["moq"][2].capitalize() + ".")
@click.option(
    "--from",
    "from_slug",
    metavar="OLD",
    help="Start from campaign OLD: its category, stages and settings unless given, collecting "
    "wishes seeded from OLD's feedback that names a module.",
)
@json_option
def create(slug, category, title, currency, stages, max_variants, moq, from_slug, as_json):
    """Create campaign SLUG in draft (collecting wishes with --from)."""
    app = app_from()
    settings = {
        name: value
        for name, value in {"max_variants": max_variants, "moq": moq}.items()
        if value is not None
    }
    chosen = None if stages is None else _stages(stages)
    report = None
    if from_slug is not None:
        created, report = app.feedback.start_next(
            from_slug, slug, title=title, category=category, currency=currency,
            stages=chosen, settings=settings,
        )  # fmt: skip
    else:
        if category is None:
            raise click.UsageError("give --category (or --from a previous campaign)")
        created = app.campaigns.create(
            slug, category, title=title, currency=currency, stages=chosen, settings=settings
        )
    if as_json:
        data = created.to_dict()
        if report is not None:
            data["seeded"] = report.to_dict()
        echo_json(data)
    else:
        click.echo(
            f"created campaign {created.slug} ({created.category}, {created.currency}): "
            f"{' -> '.join(created.states)}"
        )
        if report is not None:
            click.echo(
                f"started from {from_slug}: {report.imported} wish(es) seeded from its feedback; "
                f"collecting wishes"
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
