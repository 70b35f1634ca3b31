"""``c2m catalog``: read a category's catalog and check configurations against it."""

from __future__ import annotations

import click

from ..money import format_minor
from ..validation import parse_configuration
from .context import app_from
from .output import echo_json, echo_table, json_option

category_argument = click.argument("category", metavar="CATEGORY")
choices_argument = click.argument("choices", nargs=-1, metavar="MODULE=OPTION...")


@click.group()
def catalog():
    """Read category catalogs and check configurations."""


@catalog.command("list")
@json_option
def list_(as_json):
    """List the categories every loaded plugin provides."""
    app = app_from()
    rows = []
    for name, category in app.categories.items():
        cat = category.catalog
        rows.append(
            {
                "category": name,
                "title": cat.title,
                "version": cat.version,
                "currency": cat.currency,
                "base_price": cat.base_price,
                "modules": len(cat.modules),
                "options": sum(len(m.options) for m in cat.modules),
                "rules": len(cat.rules),
                "plugin": app.category_plugin(name),
            }
        )
    if as_json:
        echo_json(rows)
        return
    echo_table(
        [
            (
                r["category"],
                r["title"],
                f"{r['currency']} {format_minor(r['base_price'], r['currency'])}",
                r["modules"],
                r["options"],
                r["rules"],
                r["plugin"],
            )
            for r in rows
        ],
        ["category", "title", "base price", "modules", "options", "rules", "plugin"],
    )


@catalog.command()
@category_argument
@json_option
def show(category, as_json):
    """Show a category's modules, options, prices and rules."""
    cat = app_from().category(category).catalog
    if as_json:
        echo_json(cat.to_dict())
        return
    click.echo(f"{cat.title} ({cat.id}, catalog version {cat.version})")
    click.echo(f"Base price {cat.currency} {format_minor(cat.base_price, cat.currency)}")
    for module in cat.modules:
        click.echo("")
        need = "required" if module.required else "optional"
        click.echo(click.style(f"{module.id}: {module.title} ({need})", bold=True))
        echo_table(
            [
                (
                    option.id,
                    option.title,
                    f"+{format_minor(option.price, cat.currency)}",
                    f"{option.lead_time_days} d",
                    ", ".join(f"{k}={v}" for k, v in option.attributes.items()),
                )
                for option in module.options
            ],
            ["option", "title", "price", "lead", "attributes"],
        )
    if cat.rules:
        click.echo("")
        click.echo(click.style("Rules", bold=True))
        echo_table(
            [(rule.id, rule.kind, rule.describe(), rule.message) for rule in cat.rules],
            ["rule", "kind", "condition", "message"],
        )


@catalog.command()
@category_argument
@choices_argument
@click.option("--partial", is_flag=True, help="Do not require every required module.")
@json_option
def check(category, choices, partial, as_json):
    """Check a configuration: exit 0 when valid, 1 when not (each violation explained)."""
    app = app_from()
    cat = app.category(category)
    configuration = parse_configuration(choices)
    violations = app.validate(cat, configuration, complete=not partial)
    if as_json:
        echo_json(
            {
                "category": cat.name,
                "configuration": configuration,
                "valid": not violations,
                "violations": [v.to_dict() for v in violations],
            }
        )
    elif not violations:
        click.echo(f"valid: {' '.join(f'{m}={o}' for m, o in configuration.items())}")
    else:
        click.echo(f"invalid: {len(violations)} violation(s)")
        for violation in violations:
            involved = f" [{', '.join(violation.options)}]" if violation.options else ""
            click.echo(f"  - {violation.rule}: {violation.message}{involved}")
    if violations:
        raise SystemExit(1)
