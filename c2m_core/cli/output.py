"""Shared output helpers: ``--json`` for scripts, tables for people."""

from __future__ import annotations

import json

import click
from tabulate import tabulate

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def echo_table(rows, headers) -> None:
    click.echo(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))
