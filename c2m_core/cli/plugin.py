"""``c2m plugin``: tools for writing category plugins (``c2m plugins`` lists the loaded ones)."""

from __future__ import annotations

from pathlib import Path

import click

from ..scaffold import PluginNames, new_plugin


@click.group()
def plugin():
    """Write category plugins."""


@plugin.command()
@click.argument("name")
@click.option(
    "--path",
    type=click.Path(path_type=Path),
    default=".",
    show_default=True,
    help="Folder in which to create the plugin's own folder, c2m-NAME.",
)
def new(name, path):
    """Create a standalone category plugin for category NAME (for example desk-lamp).

    Writes PATH/c2m-NAME: pyproject.toml with the c2m entry point, the package with an example
    catalog, custom rule and spec-sheet template, tests that run c2m's conformance kit, and a
    README. Edit the catalog, then `pip install -e .` and run pytest.
    """
    target = new_plugin(name, path)
    names = PluginNames.from_name(name)
    click.echo(f"Created {target}")
    for path, what in [
        (f"{names.package}/catalog.toml", "modules, options and rules"),
        (f"{names.package}/__init__.py", "metadata and hooks (custom rules)"),
        (f"{names.package}/templates/", "spec sheet"),
        ("tests/", "conformance and rule tests"),
    ]:
        click.echo(f"  {path:<{len(names.package) + 16}} {what}")
    click.echo("Next:")
    click.echo(f"  cd {target}")
    click.echo("  pip install -e '.[test]'")
    click.echo("  pytest")
    click.echo(f"  c2m catalog show {names.category}")
