"""``c2m presale`` and ``c2m pledge``: open, watch and close a pre-sale; place pledges."""

from __future__ import annotations

import click

from ..errors import InvalidInput
from ..imports import EXIT_CODES_HELP
from ..money import format_minor
from ..presale.records import DUE_TO_CLOSE
from ..presale.service import OVERRIDE_FIELDS
from .context import app_from
from .output import (
    confirm,
    echo_json,
    echo_table,
    export_options,
    json_option,
    progress,
    report_import,
    write_records,
    yes_option,
)
from .personalise import personalisation_from, personalisation_options

BAR_WIDTH = 20
NAME_WIDTH = 40


@click.group()
def presale():
    """Open, watch and close a campaign's pre-sale."""


@click.group()
def pledge():
    """Place, cancel, import and list pledges of a pre-sale."""


def parse_variant_option(text: str) -> tuple[int, dict]:
    """``"3:threshold=50,capacity=200"`` -> ``(3, {"threshold": 50, "capacity": 200})``."""
    head, _, body = text.partition(":")
    fields = {}
    try:
        variant_id = int(head)
        for item in body.split(","):
            name, _, value = item.partition("=")
            name = name.strip()
            if name not in OVERRIDE_FIELDS:
                raise ValueError
            fields[name] = None if value.strip() == "none" else int(value)
    except ValueError:
        raise InvalidInput(
            f"--variant-option: {text!r} is not accepted; use VARIANT_ID:threshold=N,capacity=M "
            "(either field alone; capacity=none for no limit)",
            field="--variant-option",
            value=text,
            accepted="VARIANT_ID:threshold=N,capacity=M (either alone; capacity=none: no limit)",
        ) from None
    return variant_id, fields


@presale.command("open")
@click.argument("slug")
@click.option("--deadline", required=True, help="When it closes: ISO 8601 time, or 7d / 36h / 90m.")
@click.option(
    "--deposit",
    help="Deposit per unit: a percentage (10%) or an amount in major units of the campaign's "
    "currency (500.00). [full price]",
)
@click.option(
    "--deposit-credit",
    help="What a unit's deposit takes off the balance (Tmall-style): an amount in major units "
    "(600.00) or a percentage of the deposit (120%).",
)
@click.option("--threshold", type=int, help="Units a variant needs to tip. [the campaign's moq]")
@click.option("--capacity", type=int, help="The most units a variant sells. [no limit]")
@click.option("--waitlist", is_flag=True, help="Pledges beyond capacity wait instead of failing.")
@click.option("--variants", help="Comma-separated variant ids to sell. [every one that may]")
@click.option(
    "--variant-option",
    "variant_options",
    multiple=True,
    metavar="ID:threshold=N,capacity=M",
    help="Per-variant threshold and capacity (repeatable).",
)
@click.option("--provider", default="ledger", show_default=True, help="Payment provider name.")
@click.option(
    "--cancel-after-tip",
    default="refuse",
    show_default=True,
    help="Cancelling after tipping: refuse, a fee as a percentage of the deposit (10%), or an "
    "amount in major units of the campaign's currency (50.00).",
)
@click.option(
    "--suggest",
    is_flag=True,
    help="Fill the threshold and each variant's capacity from the demand forecast "
    "(`c2m forecast`); options given explicitly win.",
)
@json_option
def open_(slug, deadline, deposit, deposit_credit, threshold, capacity, waitlist, variants,
          variant_options, provider, cancel_after_tip, suggest, as_json):  # fmt: skip
    """Open the pre-sale of campaign SLUG on its variants (the vote's winners when it votes)."""
    app = app_from()
    overrides = dict(parse_variant_option(text) for text in variant_options)
    chosen = None
    if variants:
        try:
            chosen = [int(v) for v in variants.split(",") if v.strip()]
        except ValueError:
            raise InvalidInput(
                f"--variants: {variants!r} is not a list of variant ids",
                field="--variants",
                value=variants,
                accepted="variant ids separated by commas, such as 1,3",
            ) from None
    if suggest:
        suggestion = app.forecast.suggest(slug, chosen)
        if threshold is None:
            threshold = suggestion.threshold
        if capacity is None:
            for variant_id, suggested in suggestion.capacities.items():
                overrides.setdefault(variant_id, {}).setdefault("capacity", suggested)
        click.echo(f"forecast: {suggestion.forecast.calibration.describe()}", err=as_json)
        for line in suggestion.lines():
            click.echo(line, err=as_json)
    app.presale.open(
        slug,
        deadline,
        deposit=deposit,
        deposit_credit=deposit_credit,
        threshold=threshold,
        capacity=capacity,
        waitlist=waitlist,
        variants=chosen,
        overrides=overrides,
        provider=provider,
        cancellation=cancel_after_tip,
    )
    _print_status(app.presale.status(slug), as_json)


@presale.command()
@click.argument("slug")
@json_option
def status(slug, as_json):
    """Per variant: committed units against threshold and capacity, money, time left."""
    _print_status(app_from().presale.status(slug), as_json)


@presale.command()
@click.argument("slug")
@yes_option
@json_option
def close(slug, yes, as_json):
    """Close the pre-sale: tip variants that reached their threshold, refund the others.

    Before the deadline this asks first (--yes for scripts): closing cannot be undone.
    """
    app = app_from()
    found = app.presale.status(slug)
    if found.state == "open" and found.seconds_left > 0:
        confirm(
            f"The pre-sale of {slug} runs until {found.deadline} ({time_left(found.seconds_left)})"
            "; close it now, refunding every variant below its threshold?",
            yes,
        )
    _print_status(app.presale.close(slug), as_json)


@presale.command()
@click.argument("slug")
@json_option
def audit(slug, as_json):
    """Check each variant's held-units counter against a recount of its pledges (exit 1: differ)."""
    report = app_from().presale.audit(slug)
    if as_json:
        echo_json(report.to_dict())
    else:
        echo_table(
            [
                (
                    v.variant_id,
                    "-" if v.capacity is None else v.capacity,
                    v.counter,
                    v.recount,
                    "ok" if v.ok else "DIFFERS",
                )
                for v in report.variants
            ],  # fmt: skip
            ["variant", "capacity", "held (counter)", "held (recount)", "check"],
        )
    if not report.ok:
        raise SystemExit(1)


@presale.command()
@click.argument("slug")
@json_option
def retry(slug, as_json):
    """Complete pending or failed payments and refunds (same idempotency keys)."""
    _print_report(app_from().presale.retry(slug), as_json)


@presale.command()
@click.argument("slug")
@click.option("--key", help="Only the pledge with this idempotency key.")
@json_option
def charge(slug, key, as_json):
    """Charge the balance of pledges whose variant tipped."""
    _print_report(app_from().presale.charge_balances(slug, key=key), as_json)


@pledge.command()
@click.argument("slug")
@click.option("--variant", "variant_id", type=int, required=True, help="The variant id.")
@click.option("--customer", required=True, help="The shop's customer reference.")
@click.option("--quantity", type=int, required=True, help="Units pledged.")
@click.option("--region", help="Delivery region (for production batches).")
@click.option("--key", required=True, help="The shop's idempotency key (e.g. its order id).")
@click.option("--code", help="The share code the customer came with (attributes the pledge).")
@personalisation_options
@json_option
def add(slug, variant_id, customer, quantity, region, key, code, texts, attachments, as_json):
    """Place a pledge and capture its deposit.

    Per-unit personalisation: `--personalise 1:engraving=ANN --attach 1:startup-photo=me.jpg`.
    """
    app = app_from()
    placed = app.presale.place(
        slug,
        variant_id,
        customer,
        quantity,
        key,
        region=region,
        share_code=code,
        personalisation=personalisation_from(app, slug, texts, attachments),
    )
    _print_pledge(placed, as_json)


@pledge.command()
@click.argument("slug")
@click.option("--key", required=True, help="The pledge's idempotency key.")
@json_option
def cancel(slug, key, as_json):
    """Cancel a pledge and refund its deposit (per the campaign's rule after tipping)."""
    _print_pledge(app_from().presale.cancel(slug, key), as_json)


@pledge.command("list")
@click.argument("slug")
@click.option("--state", "states", multiple=True, help="Only pledges in this state (repeatable).")
@json_option
def list_(slug, states, as_json):
    """List pledges, oldest first."""
    pledges = app_from().presale.pledges(slug, states=states)
    if as_json:
        echo_json([p.to_dict() for p in pledges])
        return
    echo_table(
        [
            (
                p.key,
                p.variant_id,
                p.customer,
                p.quantity,
                p.region or "",
                p.state,
                p.amounts.deposit,
                p.amounts.balance,
            )
            for p in pledges
        ],  # fmt: skip
        ["key", "variant", "customer", "qty", "region", "state", "deposit", "balance"],
    )


@pledge.command("import", epilog=EXIT_CODES_HELP)
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Default: from the extension."
)
@click.option("--strict", is_flag=True, help="Place nothing when any row is malformed.")
@json_option
def import_(slug, file, fmt, strict, as_json):
    """Place pledges from a CSV or JSON Lines FILE: variant, customer, quantity, key[, region].

    Every row that is rejected is reported with its line number; the others are placed. With
    --strict, malformed rows (bad fields, variants not on sale, repeated keys) stop the import
    before anything is placed; a row can still be sold out when its turn comes. A row whose key
    was placed before is a harmless replay, so an interrupted import can be run again.
    """
    from ..presale.imports import read_pledges

    app = app_from()
    rows = read_pledges(file, fmt)
    with progress(rows.lines, "placing pledges") as bar:
        done = 0

        def advance(line):
            nonlocal done
            bar.update(max(line - done, 0))
            done = max(done, line)

        report = app.presale.import_pledges(slug, rows, strict=strict, progress=advance)
    if not report.committed:
        summary = f"{len(report.rejected)} malformed row(s); nothing was placed (--strict)"
    else:
        summary = (
            f"placed {report.placed} pledge(s), {report.units} unit(s); "
            f"rejected {len(report.rejected)} row(s)"
        )
    report_import(report, as_json, summary)


def _print_pledge(found, as_json):
    if as_json:
        echo_json(found.to_dict())
        return
    amounts = found.amounts
    click.echo(
        f"pledge {found.key}: {found.state}, variant {found.variant_id}, {found.quantity} unit(s), "
        f"deposit {amounts.deposit}, balance {amounts.balance}"
    )
    for number, values in enumerate(found.personalisation, 1):
        if values:
            shown = ", ".join(f"{field}={value!r}" for field, value in values.items())
            click.echo(f"  unit {number}: {shown}")


def _print_report(report, as_json):
    if as_json:
        echo_json(report.to_dict())
        return
    click.echo(
        f"payments: {report.payments_succeeded} succeeded, {report.payments_failed} failed; "
        f"refunds: {report.refunds_succeeded} succeeded, {report.refunds_failed} failed"
    )


def progress_bar(units: int, threshold: int, width: int = BAR_WIDTH) -> str:
    """``[#########-----------]  45%``: committed units toward the threshold."""
    filled = min(units * width // threshold, width)
    return f"[{'#' * filled}{'-' * (width - filled)}] {units * 100 // threshold:>3}%"


def time_left(seconds: int) -> str:
    if seconds <= 0:
        return "closed"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h left"
    if hours:
        return f"{hours}h {minutes}m left"
    return f"{max(minutes, 1)}m left"


def _print_status(found, as_json):
    if as_json:
        echo_json(found.to_dict())
        return
    when = {
        "open": time_left(found.seconds_left),
        DUE_TO_CLOSE: f"ended; `c2m presale close {found.campaign}` closes it",
    }.get(found.state, "closed")
    click.echo(f"pre-sale of {found.campaign}: {found.state}, deadline {found.deadline} ({when})")
    click.echo(
        f"deposit {found.deposit}; cancellation {found.cancellation}; "
        f"provider {found.provider}{'; waitlist on' if found.waitlist else ''}"
    )
    rows = []
    for v in found.variants:
        rows.append(
            (
                v.variant_id,
                v.name if len(v.name) <= NAME_WIDTH else v.name[: NAME_WIDTH - 1] + "…",
                v.state,
                v.unit_price,
                v.committed_units,
                v.threshold,
                "-" if v.capacity is None else v.capacity,
                "-" if v.units_left is None else v.units_left,
                v.deposits_committed,
                v.value_committed,
                progress_bar(v.committed_units, v.threshold),
            )
        )
    echo_table(
        rows,
        ["id", "variant", "state", "price", "committed", "threshold", "capacity", "left",
         "deposits", "value", "toward threshold"],
    )  # fmt: skip
    if found.payments_unsettled or found.refunds_unsettled:
        click.echo(
            f"{found.payments_unsettled} payment(s) and {found.refunds_unsettled} refund(s) not "
            f"settled yet: `c2m presale retry {found.campaign}` completes them"
        )


@pledge.command()
@click.argument("slug")
@click.option("--state", "states", multiple=True, help="Only pledges in this state (repeatable).")
@export_options
def export(slug, states, fmt, output):
    """Write the pledges of campaign SLUG as CSV or JSON Lines, oldest first.

    Amounts are in major units of the campaign's currency (the currency column names it).
    """
    columns = ["key", "variant", "customer", "quantity", "region", "state", "currency",
               "unit_price", "deposit", "balance", "total"]  # fmt: skip

    def records():
        for p in app_from().presale.pledges(slug, states=states):
            amounts = p.amounts
            yield {
                "key": p.key,
                "variant": p.variant_id,
                "customer": p.customer,
                "quantity": p.quantity,
                "region": p.region,
                "state": p.state,
                "currency": p.currency,
                "unit_price": format_minor(p.unit_price, p.currency).replace(",", ""),
                "deposit": format_minor(amounts.deposit.amount, p.currency).replace(",", ""),
                "balance": format_minor(amounts.balance.amount, p.currency).replace(",", ""),
                "total": format_minor(amounts.total.amount, p.currency).replace(",", ""),
            }

    write_records(records(), columns, fmt, output)
