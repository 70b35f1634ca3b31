"""``c2m plugins``: what is loaded, at which version, providing what."""

from __future__ import annotations

from typing import Any

import click

from ..plugins import plugin_meta
from .context import app_from
from .output import echo_json, echo_table, json_option


@click.command()
@json_option
@click.option("--all", "show_all", is_flag=True, help="Include the core's default plugins.")
def plugins(as_json, show_all):
    """List loaded plugins: name, version, categories and the hooks each implements."""
    app = app_from()
    owners = {name: app.category_plugin(name) for name in app.categories}
    rows: list[dict[str, Any]] = []
    for name, plugin in app.pm.list_name_plugin():
        if name.startswith("c2m_core.") and not show_all:
            continue
        meta = plugin_meta(plugin)
        rows.append(
            {
                "name": name,
                "version": meta.version if meta else None,
                "core": meta.core if meta else None,
                "categories": sorted(c for c, owner in owners.items() if owner == name),
                "hooks": sorted(caller.name for caller in app.pm.get_hookcallers(plugin) or ()),
            }
        )
    rows.sort(key=lambda row: row["name"])
    if as_json:
        echo_json(rows)
        return
    echo_table(
        [
            (
                r["name"],
                r["version"] or "-",
                ", ".join(r["categories"]) or "-",
                ", ".join(r["hooks"]),
            )
            for r in rows
        ],
        ["plugin", "version", "categories", "hooks"],
    )
