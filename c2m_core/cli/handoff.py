"""``c2m handoff``: hand tipped variants to production and deliver the documents exactly once."""

from __future__ import annotations

import json

import click

from ..campaigns.records import SETTINGS
from ..errors import InvalidInput
from .context import app_from
from .output import confirm, echo_json, echo_table, json_option, yes_option

HANDOFF_SETTINGS = frozenset({"spare_percent", "assembly_days", "max_lot_size", "warehouses"})

demand_option = click.option(
    "--demand",
    "demand_file",
    type=click.File("rb"),
    help='JSON list of {"variant": ID, "by_region": {"REGION": UNITS}} for shops that pre-sold '
    "elsewhere (default: the pre-sale stage's tipped variants).",
)


def _demand(app, slug, demand_file):
    if demand_file is None:
        return None
    try:
        data = json.load(demand_file)
    except ValueError as ex:
        raise InvalidInput(
            f"--demand {demand_file.name}: not valid JSON ({ex})",
            field="--demand",
            value=demand_file.name,
            accepted="a JSON file of demand lines",
        ) from None
    return app.handoff.demand_from_data(slug, data)


def _echo_status(status, targets=None) -> None:
    rows = []
    for handoff in status.handoffs:
        deliveries = [d for d in status.for_targets(targets) if d.handoff_id == handoff.id]
        for delivery in deliveries or [None]:
            rows.append(
                (
                    handoff.id,
                    handoff.quantity,
                    handoff.due_date,
                    delivery.target if delivery else "",
                    delivery.state if delivery else "not queued",
                    delivery.attempts if delivery else "",
                    (delivery.last_error or "")[:60] if delivery else "",
                )
            )
    click.echo(f"{status.slug} ({status.state})")
    if not rows:
        click.echo(f"no hand-off recorded yet: `c2m handoff run {status.slug} --to TARGET`")
        return
    echo_table(rows, ["hand-off", "units", "due", "target", "state", "attempts", "last error"])


@click.group()
def handoff():
    """Hand tipped variants to production: orders, documents, exactly-once delivery."""


@handoff.command()
@click.argument("slug")
@demand_option
@json_option
def plan(slug, demand_file, as_json):
    """Preview the production orders of campaign SLUG (nothing is recorded)."""
    app = app_from()
    orders = app.handoff.plan(slug, demand=_demand(app, slug, demand_file))
    if as_json:
        echo_json(
            [
                {
                    "handoff_id": o.handoff_id,
                    "variant_id": o.variant.id,
                    "confirmed": o.confirmed,
                    "spare": o.spare,
                    "quantity": o.quantity,
                    "due_date": o.due_date.isoformat(),
                    "work_orders": [[wo.id, wo.warehouse, wo.quantity] for wo in o.work_orders],
                    "bill_of_materials": [[b.part_number, b.total] for b in o.bom],
                }
                for o in orders
            ]
        )
        return
    echo_table(
        [
            (wo.id, o.variant.name[:40], wo.region, wo.warehouse or "", wo.quantity, o.due_date)
            for o in orders
            for wo in o.work_orders
        ],
        ["work order", "variant", "region", "warehouse", "units", "due"],
    )


@handoff.command()
@click.argument("slug")
@click.option(
    "--to",
    "targets",
    multiple=True,
    required=True,
    metavar="TARGET",
    help="dir:PATH or webhook:URL (or a plugin's connector); repeat for several.",
)
@demand_option
@yes_option
@json_option
def run(slug, targets, demand_file, yes, as_json):
    """Hand campaign SLUG off (once) and deliver its documents to every TARGET.

    Running again delivers only what is not delivered yet. Exits 1 when a delivery is still
    pending or failed (see `c2m handoff status`, then `c2m handoff retry`).
    """
    app = app_from()
    campaign = app.campaigns.get(slug)
    if not app.handoff.status(slug).handoffs and not HANDOFF_SETTINGS & set(campaign.settings):
        confirm(
            f"The hand-off of {slug} was never configured (spare units, assembly days, lot "
            f"size, warehouses: `c2m handoff configure {slug} --help`); hand off with the "
            "defaults now?",
            yes,
        )
    status = app.handoff.run(slug, targets, demand=_demand(app, slug, demand_file))
    normalised = [app.handoff.connector(target).target for target in targets]
    if as_json:
        echo_json(status.to_dict())
    else:
        _echo_status(status, normalised)
    _fail_if_undelivered(status, normalised)


@handoff.command()
@click.argument("slug")
@json_option
def status(slug, as_json):
    """Show the hand-offs of campaign SLUG and the state of every delivery."""
    found = app_from().handoff.status(slug)
    if as_json:
        echo_json(found.to_dict())
    else:
        _echo_status(found)


@handoff.command()
@click.argument("slug")
@json_option
def retry(slug, as_json):
    """Retry every undelivered delivery of campaign SLUG now (dead letters included)."""
    found = app_from().handoff.retry(slug)
    if as_json:
        echo_json(found.to_dict())
    else:
        _echo_status(found)
    _fail_if_undelivered(found)


@handoff.command()
@click.argument("slug")
@click.option("--spare-percent", type=int, help=SETTINGS["spare_percent"][2].capitalize() + ".")
@click.option("--assembly-days", type=int, help=SETTINGS["assembly_days"][2].capitalize() + ".")
@click.option("--max-lot-size", type=int, help=SETTINGS["max_lot_size"][2].capitalize() + ".")
@click.option(
    "--warehouse",
    "warehouses",
    multiple=True,
    metavar="REGION=CODE",
    help="Ship REGION's units to warehouse CODE ('default' for the rest); repeat. Replaces the "
    "mapping.",
)
def configure(slug, spare_percent, assembly_days, max_lot_size, warehouses):
    """Set the hand-off settings of campaign SLUG."""
    settings = {
        name: value
        for name, value in {
            "spare_percent": spare_percent,
            "assembly_days": assembly_days,
            "max_lot_size": max_lot_size,
        }.items()
        if value is not None
    }
    if warehouses:
        mapping = {}
        for pair in warehouses:
            region, equals, code = pair.partition("=")
            if not equals or not region:
                raise InvalidInput(
                    f"--warehouse {pair!r}: write REGION=CODE, e.g. eu=WH-EU",
                    field="--warehouse",
                    value=pair,
                    accepted="REGION=CODE, such as eu=WH-EU",
                )
            mapping[region] = code
        settings["warehouses"] = mapping
    if not settings:
        raise click.UsageError("give at least one setting to change")
    updated = app_from().campaigns.configure(slug, **settings)
    for name in ("spare_percent", "assembly_days", "max_lot_size"):
        click.echo(f"{name:<14}{updated.setting(name)}")
    mapping = updated.setting("warehouses") or {}
    click.echo(f"{'warehouses':<14}{' '.join(f'{r}={c}' for r, c in mapping.items()) or '-'}")


def _fail_if_undelivered(status, targets=None) -> None:
    left = status.undelivered(targets)
    if left:
        raise click.ClickException(
            f"{len(left)} deliver{'y is' if len(left) == 1 else 'ies are'} not delivered "
            f"({', '.join(sorted({d.state for d in left}))}); "
            f"`c2m handoff retry {status.slug}` tries again"
        )
