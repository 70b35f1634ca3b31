"""``c2m variant``: add variants by hand and list a campaign's variants."""

from __future__ import annotations

import click

from ..errors import InvalidInput
from ..validation import parse_configuration
from ..variants import InvalidVariant
from .context import app_from
from .output import echo_json, echo_table, json_option


@click.group()
def variant():
    """Add and list a campaign's variants (what it votes on, pre-sells and produces)."""


@variant.command()
@click.argument("slug")
@click.argument("choices", nargs=-1, required=True, metavar="MODULE=OPTION...")
@click.option("--name", help="A name for people (default: the chosen options' titles).")
@json_option
def add(slug, choices, name, as_json):
    """Add a variant to campaign SLUG: a complete configuration, checked against its catalog.

    The campaign's frozen catalog is used once it has opened. Every violation is listed.
    """
    app = app_from()
    parsed = parse_configuration(choices)
    several = sorted(module for module, option in parsed.items() if not isinstance(option, str))
    if several:
        raise InvalidInput(
            f"{several[0]}: a variant takes one option per module (multi-select modules are not "
            "supported in variants yet)",
            field=several[0],
            value=",".join(parsed[several[0]]),
            accepted="one option id",
        )
    configuration = {module: option for module, option in parsed.items() if isinstance(option, str)}
    before = {v.id for v in app.variants.list(slug, include_withdrawn=True)}
    try:
        added = app.variants.add(slug, configuration, name=name)
    except InvalidVariant as ex:
        lines = [f"not a valid variant: {len(ex.violations)} violation(s)"]
        for violation in ex.violations:
            involved = f" [{', '.join(violation.options)}]" if violation.options else ""
            lines.append(f"  - {violation.rule}: {violation.message}{involved}")
        raise InvalidInput(
            "\n".join(lines),
            field="configuration",
            value=configuration,
            accepted="a configuration the catalog's rules allow",
        ) from None
    if as_json:
        echo_json(added.to_dict() | {"existing": added.id in before})
    elif added.id in before:
        click.echo(f"variant {added.id} already has this configuration: {added.name}")
    else:
        click.echo(f"added variant {added.id} to {slug}: {added.name}")


@variant.command("list")
@click.argument("slug")
@click.option("--all", "show_all", is_flag=True, help="Include withdrawn variants.")
@json_option
def list_(slug, show_all, as_json):
    """List the variants of campaign SLUG in position (candidate) order."""
    variants = app_from().variants.list(slug, include_withdrawn=show_all)
    if as_json:
        echo_json([v.to_dict() for v in variants])
        return
    echo_table(
        [
            (
                v.id,
                v.position,
                v.name,
                v.key,
                v.source + (" (withdrawn)" if v.withdrawn else ""),
                v.covered_quantity,
            )
            for v in variants
        ],
        ["id", "position", "name", "configuration", "source", "covered"],
    )
