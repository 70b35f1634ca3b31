"""``c2m presale`` and ``c2m pledge``: open, watch and close a pre-sale; place pledges."""

from __future__ import annotations

import csv
import sys

import click

from ..errors import C2MError, InvalidInput
from ..presale.records import DUE_TO_CLOSE
from ..presale.service import OVERRIDE_FIELDS
from .context import app_from
from .output import echo_json, echo_table, json_option

BAR_WIDTH = 20
NAME_WIDTH = 40
IMPORT_COLUMNS = ("variant", "customer", "quantity", "key")


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
@click.option("--deposit", help="Deposit per unit: a percentage (10%) or an amount. [full price]")
@click.option("--deposit-credit", help="What a unit's deposit takes off the balance (Tmall-style).")
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
    help="Cancelling after tipping: refuse, a fee as a percentage of the deposit, or an amount.",
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
@json_option
def close(slug, as_json):
    """Close the pre-sale: tip variants that reached their threshold, refund the others."""
    _print_status(app_from().presale.close(slug), as_json)


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
@json_option
def add(slug, variant_id, customer, quantity, region, key, code, as_json):
    """Place a pledge and capture its deposit."""
    placed = app_from().presale.place(
        slug, variant_id, customer, quantity, key, region=region, share_code=code
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


@pledge.command("import")
@click.argument("slug")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--strict", is_flag=True, help="Place nothing when any row is malformed.")
@json_option
def import_(slug, file, strict, as_json):
    """Place pledges from a CSV FILE with columns variant, customer, quantity, key[, region].

    Every row that is rejected is reported with its line number; the others are placed. With
    --strict, malformed rows (bad fields, variants not on sale, repeated keys) stop the import
    before anything is placed; a row can still be sold out when its turn comes.
    """
    app = app_from()
    rows, rejected = _read_pledge_rows(app, slug, file)
    if strict and rejected:
        _print_import(0, 0, rejected, as_json)
        raise click.ClickException(f"{len(rejected)} malformed row(s); nothing was placed")
    placed = units = 0
    with click.progressbar(rows, label="placing pledges", file=sys.stderr) as bar:
        for line, row in bar:
            try:
                result = app.presale.place(slug, **row)
            except C2MError as ex:
                rejected.append((line, row.get("key", ""), str(ex)))
                continue
            placed += 1
            units += result.quantity
    rejected.sort()
    _print_import(placed, units, rejected, as_json)
    if rejected:
        raise click.ClickException(f"{len(rejected)} row(s) rejected")


def _read_pledge_rows(app, slug, file):
    """Parse and check every row; returns ([(line, request)], [(line, key, problem)])."""
    on_sale = {offer.variant_id for offer in app.presale.offers(slug)}
    reader = csv.DictReader(file)
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InvalidInput(
            f"{file.name}: missing column(s) {', '.join(missing)}; the header must name "
            f"{', '.join(IMPORT_COLUMNS)} (and optionally region)",
            field="header",
            value=missing,
            accepted=f"{', '.join(IMPORT_COLUMNS)} (and optionally region)",
        )
    rows: list = []
    rejected: list = []
    keys: dict = {}
    for raw in reader:
        line = reader.line_num
        key = (raw.get("key") or "").strip()
        try:
            request = {
                "variant_id": _int_field(raw, "variant"),
                "customer": (raw.get("customer") or "").strip(),
                "quantity": _int_field(raw, "quantity"),
                "key": key,
                "region": (raw.get("region") or "").strip() or None,
            }
            if request["variant_id"] not in on_sale:
                raise InvalidInput(
                    f"variant: {request['variant_id']} is not on sale; on sale: "
                    f"{', '.join(map(str, sorted(on_sale))) or 'none'}",
                    field="variant",
                    value=request["variant_id"],
                    accepted=", ".join(map(str, sorted(on_sale))) or "none",
                )
            if key in keys:
                raise InvalidInput(
                    f"key: {key!r} repeats line {keys[key]}",
                    field="key",
                    value=key,
                    accepted="a key used on one line only",
                )
        except InvalidInput as ex:
            rejected.append((line, key, str(ex)))
            continue
        keys[key] = line
        rows.append((line, request))
    return rows, rejected


def _int_field(raw, name):
    value = (raw.get(name) or "").strip()
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(
            f"{name}: {value!r} is not a whole number",
            field=name,
            value=value,
            accepted="a whole number",
        ) from None


def _print_import(placed, units, rejected, as_json):
    if as_json:
        echo_json(
            {
                "placed": placed,
                "units": units,
                "rejected": [{"line": ln, "key": k, "error": e} for ln, k, e in rejected],
            }
        )
        return
    click.echo(f"placed {placed} pledge(s), {units} unit(s); rejected {len(rejected)} row(s)")
    if rejected:
        echo_table(rejected, ["line", "key", "problem"])


def _print_pledge(found, as_json):
    if as_json:
        echo_json(found.to_dict())
        return
    amounts = found.amounts
    click.echo(
        f"pledge {found.key}: {found.state}, variant {found.variant_id}, {found.quantity} unit(s), "
        f"deposit {amounts.deposit}, balance {amounts.balance}"
    )


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
