"""``c2m wish``: add, import, count and aggregate wishes."""

from __future__ import annotations

from pathlib import Path

import click

from ..imports import EXIT_CODES_HELP
from ..validation import parse_configuration
from ..wishes.imports import CSV_FIELDS, read_wishes
from ..wishes.service import BATCH_SIZE, STATE, ImportRejected
from .context import app_from
from .money import major_units
from .output import (
    echo_json,
    echo_table,
    export_options,
    json_option,
    progress,
    report_import,
    write_records,
)
from .personalise import personalisation_from, personalisation_options


def _pairs(configuration) -> str:
    return ";".join(f"{m}={o}" for m, o in configuration.items()) or "(no choice)"


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


@click.group()
def wish():
    """Collect wishes, import them in bulk and aggregate them into variants."""


@wish.command(short_help="Add one wish to campaign SLUG.")
@click.argument("slug")
@click.argument("choices", nargs=-1, metavar="MODULE=OPTION...")
@click.option("--customer", required=True, help="The shop's own reference for the customer.")
@click.option("--quantity", type=int, default=1, show_default=True, help="Units wished.")
@click.option("--region", help="Where the customer is (free text, e.g. CN-SD).")
@click.option(
    "--price-ceiling",
    metavar="AMOUNT",
    help="The most the customer would pay: an amount in major units of the campaign's "
    "currency, e.g. 4999.00.",
)
@click.option("--note", help="Free text from the customer (kept as data).")
@click.option("--text", "raw", help="Free text for plugins to read choices from, e.g. '65寸 OLED'.")
@click.option("--external-id", help="Your id for this wish; the same id again is not stored twice.")
@personalisation_options
@json_option
def add(slug, choices, customer, quantity, region, price_ceiling, note, raw, external_id, texts,
        attachments, as_json):  # fmt: skip
    """Add a wish to campaign SLUG, e.g. `c2m wish add tv-2026 --customer u1 size=65-oled`."""
    app = app_from()
    personalisation = personalisation_from(app, slug, texts, attachments)
    if price_ceiling is not None:
        price_ceiling = major_units(
            price_ceiling, app.campaigns.get(slug).currency, "--price-ceiling"
        )
    stored = app.wishes.submit(
        slug,
        customer,
        parse_configuration(choices),
        quantity=quantity,
        region=region,
        price_ceiling=price_ceiling,
        note=note,
        external_id=external_id,
        raw=raw,
        personalisation=personalisation,
    )
    if as_json:
        echo_json(stored.to_dict())
        return
    if stored.valid:
        click.echo(f"wish {stored.id}: {_pairs(stored.configuration)} x{stored.quantity}")
        return
    click.echo(
        f"wish {stored.id}: {_pairs(stored.configuration)} x{stored.quantity} stored as invalid "
        "(left out of aggregation):"
    )
    for violation in stored.violations:
        click.echo(f"  {violation['rule']}: {violation['message']}")
    if stored.suggestion is not None:
        click.echo(f"  nearest valid: {_pairs(stored.suggestion)}")


@wish.command("import", epilog=EXIT_CODES_HELP)
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Default: from the extension."
)
@click.option("--strict", is_flag=True, help="All or nothing: any bad row imports nothing.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=BATCH_SIZE,
    show_default=True,
    help="Rows written per transaction.",
)
@json_option
def import_(slug, file, fmt, strict, batch_size, as_json):
    """Import wishes into campaign SLUG from a CSV or JSON Lines FILE.

    CSV columns: customer, quantity, region, price_ceiling, note, external_id, raw and one
    column per module (option ids; empty means open). JSON Lines: objects with those keys and
    "configuration": {"module": "option"}. Bad rows are reported with their line number and
    the others imported; rows whose external_id is already stored are skipped, so an
    interrupted import can simply be run again.
    """
    app = app_from()
    campaign = app.campaigns.get(slug)
    app.campaigns.require_state(campaign, STATE)
    catalog = app.campaigns.catalog(campaign)
    lines, rows = read_wishes(file, catalog.module_ids, fmt)
    with progress(lines, f"importing {Path(file).name}") as bar:
        done = 0

        def advance(line):
            nonlocal done
            bar.update(max(line - done, 0))
            done = max(done, line)

        try:
            report = app.wishes.submit_many(
                slug, rows, strict=strict, batch_size=batch_size, progress=advance
            )
        except ImportRejected as ex:
            report = ex.report
    if report.committed:
        summary = (
            f"imported {report.imported:,} wishes from {file} "
            f"({report.imported - report.invalid:,} valid, {report.invalid:,} stored as "
            f"invalid); {report.duplicates:,} already present (same external_id); "
            f"{len(report.rejected):,} rows rejected"
        )
    else:
        summary = (
            f"{len(report.rejected):,} of {report.rows:,} rows rejected; nothing was imported "
            "(--strict: all or nothing)"
        )
    report_import(report, as_json, summary)


@wish.command()
@click.argument("slug")
@json_option
def stats(slug, as_json):
    """Totals, valid share, demand per module option and the most common violations."""
    found = app_from().wishes.stats(slug)
    if as_json:
        echo_json(found.to_dict())
        return
    click.echo(
        f"{found.wishes:,} wishes for {found.quantity:,} units; valid: {found.valid_wishes:,} "
        f"wishes, {found.valid_quantity:,} units ({_percent(found.valid_share)}); complete: "
        f"{found.complete_wishes:,} wishes"
    )
    click.echo()
    echo_table(
        [
            (
                o["module"],
                o["option"],
                f"{o['wishes']:,}",
                f"{o['quantity']:,}",
                _percent(o["share"]),
            )
            for o in found.options
        ],
        ["module", "option", "wishes", "units", "share of valid units"],
    )
    if found.violations:
        click.echo()
        echo_table(
            [
                (v["rule"], f"{v['wishes']:,}", f"{v['quantity']:,}", v["message"])
                for v in found.violations
            ],
            ["violation", "wishes", "units", "example"],
        )


@wish.command()
@click.argument("slug")
@click.option("--max-variants", type=int, help="K: the most variants to choose (default: setting).")
@click.option("--moq", type=int, help="Minimum units each variant must cover (default: setting).")
@click.option(
    "--max-sizes",
    type=int,
    help="The most standard sizes per numeric module (a sofa's length; default: K).",
)
@json_option
def aggregate(slug, max_variants, moq, max_sizes, as_json):
    """Choose the variants of campaign SLUG that cover the most wished units.

    Replaces the variants of an earlier aggregation; other variants stay. Wished sizes of
    numeric modules (a sofa's length) are first standardised into a few production sizes.
    """
    result = app_from().wishes.aggregate(
        slug, max_variants=max_variants, moq=moq, max_sizes=max_sizes
    )
    if as_json:
        echo_json(result.to_dict())
        return
    for plan in result.sizes:
        unit = f" {plan.unit}" if plan.unit else ""
        echo_table(
            [
                (plan.module, f"{size}{unit}", f"{units:,}")
                for size, units in zip(plan.sizes, plan.batches, strict=True)
            ],
            ["module", "standard size", "units"],
        )
        mean = plan.deviation / plan.assigned_quantity if plan.assigned_quantity else 0.0
        click.echo(
            f"{plan.module}: {len(plan.sizes)} standard sizes take {plan.assigned_quantity:,} of "
            f"{plan.total_quantity:,} wished units (mean distance from the wished size "
            f"{mean:.1f}{unit}); "
            f"{plan.total_quantity - plan.assigned_quantity:,} units accept none of them"
        )
        click.echo()
    echo_table(
        [
            (
                v.variant.id,
                v.variant.key,
                f"{v.covered:,}",
                f"{v.wishes:,}",
                _percent(v.share),
            )
            for v in result.variants
        ],
        ["id", "variant", "units", "wishes", "share"],
    )
    click.echo()
    click.echo(
        f"{len(result.variants)} variants (at most {result.max_variants}, each >= "
        f"{result.moq:,} units) cover {result.covered_quantity:,} of {result.total_quantity:,} "
        f"valid units ({_percent(result.share)}) from {result.candidates:,} candidates; "
        f"uncovered: {result.uncovered_quantity:,} units; invalid wishes left out: "
        f"{result.invalid_quantity:,} units"
    )
    if not result.variants:
        click.echo()
        if not result.total_quantity:
            click.echo("no valid wishes to aggregate yet: `c2m wish stats` shows what is stored")
        else:
            largest = max((q for _, q in result.uncovered), default=1)
            click.echo(
                f"no variant covers the MOQ of {result.moq:,} units: the largest demand for one "
                f"set of choices is {largest:,} units of {result.total_quantity:,}; "
                f"`c2m wish aggregate {slug} --moq {largest}` (or lower) finds variants"
            )
    if result.uncovered:
        click.echo()
        click.echo("largest uncovered demand:")
        echo_table(
            [(_pairs(c), f"{q:,}") for c, q in result.uncovered], ["wished choices", "units"]
        )


PAGE = 5000


def _wishes(app, slug):
    """Every wish of campaign SLUG, oldest first, read page by page."""
    campaign = app.campaigns.get(slug)
    last = 0
    while page := app.store.wishes.after(campaign.id, last, limit=PAGE):
        yield from page
        last = page[-1].id


def _wish_record(found, module_ids) -> dict:
    data = {
        "id": found.id,
        "customer": found.customer,
        "quantity": found.quantity,
        "region": found.region,
        "price_ceiling": found.price_ceiling,
        "note": found.note,
        "external_id": found.external_id,
        "raw": found.raw,
        "valid": found.valid,
        "configuration": dict(found.configuration),
    }
    if module_ids is not None:
        data.update({m: found.configuration.get(m) for m in module_ids})
    return data


@wish.command("list")
@click.argument("slug")
@click.option("--limit", type=click.IntRange(1, 10**6), default=50, show_default=True)
@json_option
def list_(slug, limit, as_json):
    """List the first wishes of campaign SLUG (`c2m wish export` writes them all)."""
    app = app_from()
    found = []
    for item in _wishes(app, slug):
        found.append(item)
        if len(found) >= limit:
            break
    if as_json:
        echo_json([w.to_dict() for w in found])
        return
    echo_table(
        [
            (w.id, w.customer, _pairs(w.configuration), w.quantity, w.region or "",
             "valid" if w.valid else "invalid")
            for w in found
        ],
        ["id", "customer", "choices", "qty", "region", "valid"],
    )  # fmt: skip


@wish.command()
@click.argument("slug")
@export_options
def export(slug, fmt, output):
    """Write every wish of campaign SLUG as CSV (one column per module) or JSON Lines.

    The columns are those `c2m wish import` reads, plus id and valid.
    """
    app = app_from()
    modules = app.campaigns.catalog(app.campaigns.get(slug)).module_ids
    columns = ["id", *CSV_FIELDS, "valid", *modules]
    records = (_wish_record(w, modules if fmt == "csv" else None) for w in _wishes(app, slug))
    write_records(records, columns, fmt, output)
