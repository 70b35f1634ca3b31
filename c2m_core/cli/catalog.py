"""``c2m catalog``: read a category's catalog and check configurations against it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..catalog import choice_ids
from ..errors import InvalidInput
from ..money import format_minor
from ..validation import parse_configuration
from .context import app_from
from .output import echo_json, echo_table, json_option

category_argument = click.argument("category", metavar="CATEGORY")
choices_argument = click.argument("choices", nargs=-1, metavar="MODULE=OPTION...")
lang_option = click.option(
    "--lang",
    metavar="LANG",
    default=None,
    help="Titles in this language (en, zh, ...) where the catalog has them; "
    "otherwise in the catalog's default language.",
)


@click.group()
def catalog():
    """Read category catalogs and check configurations."""


@catalog.command("list")
@lang_option
@json_option
def list_(lang, as_json):
    """List the categories every loaded plugin provides."""
    app = app_from()
    rows: list[dict[str, Any]] = []
    for name, category in app.categories.items():
        cat = category.catalog
        rows.append(
            {
                "category": name,
                "title": cat.title_in(lang),
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
@lang_option
@json_option
def show(category, lang, as_json):
    """Show a category's modules, options, prices and rules.

    ``--json`` prints the catalog as data, with every language's titles.
    """
    cat = app_from().category(category).catalog
    if as_json:
        echo_json(cat.to_dict())
        return
    click.echo(f"{cat.title_in(lang)} ({cat.id}, catalog version {cat.version})")
    click.echo(f"Base price {cat.currency} {format_minor(cat.base_price, cat.currency)}")
    for module in cat.modules:
        click.echo("")
        need = "required" if module.required else "optional"
        click.echo(click.style(f"{module.id}: {module.title_in(lang)} ({need})", bold=True))
        if module.number is not None:
            click.echo(_number_summary(module.id, module.number, cat.currency))
            continue
        echo_table(
            [
                (
                    option.id,
                    option.title_in(lang),
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
    if cat.personalisation:
        click.echo("")
        click.echo(click.style("Personalisation (per unit)", bold=True))
        echo_table(
            [
                (field.id, field.kind, field.title_in(lang), field.accepted)
                for field in cat.personalisation
            ],
            ["field", "kind", "title", "accepts"],
        )


def _number_summary(module_id: str, number, currency: str) -> str:
    """A numeric module in one line: its values, price per unit, attributes and what a wish
    accepts when sizes are standardised."""
    unit = f" {number.unit}" if number.unit else ""
    text = f"{number.describe()}, written {module_id}={number.minimum}"
    if number.price_per_unit:
        per = format_minor(number.price_per_unit, currency)
        text += f"; +{currency} {per} per{unit or ' unit'} above {number.minimum}"
    carried = ", ".join(
        f"{name}=value" if factor == 1 else f"{name}=value*{factor}"
        for name, factor in number.attributes.items()
    )
    text += f"; attributes {carried}"
    if number.accept != "exact":
        reach = "" if number.tolerance is None else f" within {number.tolerance}{unit}"
        sizes = "smaller or larger" if number.accept == "either" else number.accept
        text += f"; a wish accepts {sizes} sizes{reach}"
    return text


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
        click.echo(f"valid: {_pairs(configuration)}")
    else:
        click.echo(f"invalid: {len(violations)} violation(s)")
        for violation in violations:
            involved = f" [{', '.join(violation.options)}]" if violation.options else ""
            click.echo(f"  - {violation.rule}: {violation.message}{involved}")
    if violations:
        raise SystemExit(1)


required_choices = click.argument("choices", nargs=-1, required=True, metavar="MODULE=OPTION...")


def _engine_and_choices(category, choices):
    app = app_from()
    cat = app.category(category)
    return app.engine(cat), parse_configuration(choices)


@catalog.command()
@category_argument
@choices_argument
@json_option
def options(category, choices, as_json):
    """Show which options can still be chosen after MODULE=OPTION choices, and why not.

    Exit 1 when no valid configuration has the choices (the conflict is shown).
    """
    engine, configuration = _engine_and_choices(category, choices)
    result = engine.options(configuration)
    if as_json:
        echo_json({"category": category, **result.to_dict()})
    else:
        if result.conflict is not None:
            click.echo(f"impossible: {result.conflict.message}")
        else:
            catalog = engine.catalog

            def settled(status) -> bool:
                module = catalog.module(status.module)
                return status.module in configuration and not (module and module.multiple)

            free = [s for s in result.statuses if not settled(s) and not s.chosen]
            available = sum(1 for status in free if status.available)
            click.echo(f"{available} of {len(free)} options of the open modules remain possible")
            rows = []
            for status in result.statuses:
                if settled(status) and not status.chosen:
                    continue
                label = "chosen" if status.chosen else "yes" if status.available else "no"
                why = _why(status.reason) if status.reason is not None else ""
                rows.append((status.module, status.option, label, why))
            echo_table(rows, ["module", "option", "possible", "why not"])
    if result.conflict is not None:
        raise SystemExit(1)


def _why(reason) -> str:
    given = _pairs(reason.choices)
    return ", ".join(reason.rules) + (f" (given {given})" if given else "")


@catalog.command()
@category_argument
@choices_argument
@click.option(
    "--max-states",
    type=click.IntRange(min=1),
    default=2_000_000,
    show_default=True,
    help="Give up (exit 1) when counting needs more memo states than this.",
)
@json_option
def count(category, choices, max_states, as_json):
    """Count the valid complete configurations (with the MODULE=OPTION choices, if any).

    The count is exact (an integer of any size).
    """
    engine, configuration = _engine_and_choices(category, choices)
    total = engine.count(configuration, max_states=max_states)
    if as_json:
        echo_json({"category": category, "configuration": configuration, "count": total})
    else:
        click.echo(str(total))


@catalog.command()
@category_argument
@required_choices
@json_option
def explain(category, choices, as_json):
    """Explain why MODULE=OPTION choices cannot be completed: a minimal conflict.

    Exit 0 when some valid configuration has the choices, 1 when not.
    """
    app = app_from()
    cat = app.category(category)
    engine, configuration = _engine_and_choices(category, choices)
    conflict = engine.explain(configuration)
    if as_json:
        echo_json(
            {
                "category": category,
                "configuration": configuration,
                "possible": conflict is None,
                "conflict": conflict.to_dict() if conflict else None,
            }
        )
    elif conflict is None:
        click.echo(f"possible: {_pairs(configuration)}")
    else:
        together = _pairs(conflict.choices) or "(nothing)"
        click.echo(f"impossible: {together} cannot be completed to a valid configuration")
        rows = []
        for rule_id in conflict.rules:
            rule = cat.catalog.rule(rule_id)
            if rule is None:
                rows.append((rule_id, "custom", "checked by a plugin"))
            else:
                rows.append((rule_id, rule.kind, rule.message))
        echo_table(rows, ["rule", "kind", "message"])
    if conflict is not None:
        raise SystemExit(1)


@catalog.command()
@category_argument
@required_choices
@click.option(
    "--keep", "keep", multiple=True, metavar="MODULE", help="A module that must not change."
)
@click.option(
    "--weight",
    "weights",
    multiple=True,
    metavar="MODULE=N",
    help="Cost of changing MODULE (a positive integer; default 1).",
)
@json_option
def repair(category, choices, keep, weights, as_json):
    """Find the valid configuration nearest to a wish of MODULE=OPTION choices.

    Changes as few of the wish's choices as possible (weighted by --weight) and completes the
    rest. Exit 1 when no valid configuration keeps the --keep modules.
    """
    engine, configuration = _engine_and_choices(category, choices)
    result = engine.repair(configuration, weights=_weights(weights), keep=keep)
    if as_json:
        echo_json(
            {
                "category": category,
                "wish": configuration,
                "repair": result.to_dict() if result else None,
            }
        )
    elif result is None:
        click.echo(f"impossible: no valid configuration keeps {', '.join(keep)}")
    else:
        kept = {(m, o) for m, v in result.configuration.items() for o in choice_ids(v)}
        wish = {(m, o) for m, v in configuration.items() for o in choice_ids(v)}
        click.echo(
            f"nearest valid configuration: {len(wish - kept)} of the wish's {len(wish)} choices "
            f"changed (distance {result.distance})"
        )
        rows = []
        wished = {m: v for m, v in configuration.items() if choice_ids(v)}
        for module_id in engine.catalog.module_ids:
            old, new = (
                _canonical(engine, module_id, wished.get(module_id)),
                result.configuration.get(module_id),
            )
            if old is None and new is None:
                continue
            note = (
                "kept"
                if old == new
                else "added"
                if old is None
                else "dropped"
                if new is None
                else "changed"
            )
            rows.append((module_id, _value(old) or "-", _value(new) or "-", note))
        echo_table(rows, ["module", "wish", "repair", ""])
    if result is None:
        raise SystemExit(1)


def _weights(pairs) -> dict[str, int]:
    weights = {}
    for pair in pairs:
        module, sep, value = pair.partition("=")
        if not sep or not module.strip() or not value.strip().isdigit():
            raise InvalidInput(
                f"--weight {pair!r} is not MODULE=N with N a positive integer",
                field="--weight",
                value=pair,
                accepted="MODULE=N with N a positive integer",
            )
        weights[module.strip()] = int(value)
    return weights


@catalog.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def lint(file, as_json):
    """Check a catalog FILE before it is packaged: the JSON Schema, the loader, the engine.

    Every problem is listed with its place in the file. Exit 0 when there is no error (warnings,
    such as options in no valid configuration, are shown), 1 otherwise. See docs/catalog.md.
    """
    from ..catalog_lint import lint_catalog  # jsonschema loads only here

    problems = lint_catalog(file)
    ok = not any(problem.level == "error" for problem in problems)
    if as_json:
        echo_json({"file": str(file), "ok": ok, "problems": [p.to_dict() for p in problems]})
    else:
        for problem in problems:
            place = f"{file}: {problem.where}" if problem.where else str(file)
            click.echo(f"{place}: {problem.level} ({problem.check}): {problem.message}")
        errors = sum(1 for problem in problems if problem.level == "error")
        click.echo(f"{file}: ok" if ok else f"{file}: {errors} error(s); fix them and run again")
    if not ok:
        raise SystemExit(1)


def _value(choice) -> str:
    """A module's value as on the command line: ``wifi`` or ``ice-maker,wifi``."""
    return ",".join(choice_ids(choice))


def _pairs(configuration) -> str:
    return " ".join(f"{m}={_value(o)}" for m, o in configuration.items())


def _canonical(engine, module_id: str, value):
    """A wished multi-select value as the engine answers it: a tuple in catalog order."""
    module = engine.catalog.module(module_id)
    if value is None or module is None or not module.multiple:
        return value
    ids = set(choice_ids(value))
    return tuple(o for o in module.option_ids if o in ids)
