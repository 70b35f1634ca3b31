"""Shared output helpers: ``--json`` for scripts, tables for people, progress for terminals."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Iterator

import click

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
MIN_CELL = 8
TABULATE_PADDING = 2  # tabulate's simple tables: a column is at least its header + 2


def echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def fit_rows(rows, headers, width: int) -> list[list[str]]:
    """Cut the widest cells so that a table of ``rows`` fits in ``width`` columns.

    Columns are separated by two spaces, and no column is narrower than its header plus two (as
    ``tabulate`` draws them) or ``MIN_CELL``: a table of many columns may still be wider.
    """
    table = [[str(cell) for cell in row] for row in rows]
    names = [str(h) for h in headers]
    if not names:
        return table
    floors = [max(len(name) + TABULATE_PADDING, MIN_CELL) for name in names]
    widths = [
        max([len(names[i]) + TABULATE_PADDING] + [len(r[i]) for r in table if i < len(r)])
        for i in range(len(names))
    ]
    budget = width - 2 * (len(names) - 1)
    while sum(widths) > budget:
        room = [i for i in range(len(widths)) if widths[i] > floors[i]]
        if not room:
            break
        widths[max(room, key=widths.__getitem__)] -= 1
    return [[_cut(cell, widths[i]) if i < len(widths) else cell for i, cell in enumerate(r)]
            for r in table]  # fmt: skip


def echo_table(rows, headers) -> None:
    """A plain table; on a terminal, the widest cells are cut to fit its width."""
    from tabulate import tabulate

    rows = list(rows)
    if sys.stdout.isatty():
        rows = fit_rows(rows, headers, shutil.get_terminal_size().columns)
    click.echo(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))


class _Silent:
    def update(self, n_steps: int, current_item=None) -> None:
        """Nothing: output is not a terminal."""


@contextlib.contextmanager
def progress(length: int, label: str) -> Iterator:
    """A progress bar on stderr when it is a terminal; otherwise nothing is printed."""
    if not sys.stderr.isatty():
        yield _Silent()
        return
    with click.progressbar(length=max(length, 1), label=label, file=sys.stderr) as bar:
        yield bar


def report_import(report, as_json: bool, summary: str) -> None:
    """Print an import's report and exit as every import command does (0, or 1 if rejected)."""
    from ..imports import exit_code

    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(summary)
        for row in report.rejected:
            reason = getattr(row, "reason", None) or getattr(row, "message", "")
            key = getattr(row, "key", "")
            click.echo(f"line {row.line}{f' (key {key})' if key else ''}: {reason}", err=True)
        stopped = getattr(report, "stopped", None)
        if stopped:
            click.echo(stopped, err=True)
    code = exit_code(report)
    if code:
        raise SystemExit(code)


yes_option = click.option(
    "--yes", "-y", is_flag=True, help="Do it without asking (for scripts): it cannot be undone."
)


class Refused(click.ClickException):
    """A step that cannot be undone, asked for without --yes where nobody can answer: exit 2."""

    exit_code = 2


def confirm(question: str, yes: bool) -> None:
    """Ask ``question`` on a terminal; without one, refuse unless ``--yes`` was given."""
    if yes:
        return
    if sys.stdin.isatty() and sys.stdout.isatty():
        if click.confirm(question, default=False, err=True):
            return
        raise click.ClickException("nothing was done")
    raise Refused(f"{question} It cannot be undone: pass --yes to do it.")


def export_options(command):
    """``--format csv|jsonl`` and ``-o/--output FILE`` for the export commands."""
    command = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, allow_dash=True),
        default="-",
        show_default=True,
        help="The file to write ('-': standard output).",
    )(command)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["csv", "jsonl"]),
        default="csv",
        show_default=True,
        help="CSV with a header (for spreadsheets) or JSON Lines.",
    )(command)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def write_records(records, columns, fmt: str, output: str) -> int:
    """Write ``records`` (dicts) as CSV with ``columns`` or as JSON Lines; returns the count."""
    import csv
    from pathlib import Path

    from ..errors import InvalidInput

    if output != "-" and not Path(output).resolve().parent.is_dir():
        raise InvalidInput(
            f"--output: the folder {Path(output).parent} does not exist; create it first or "
            "choose another path",
            field="--output",
            value=output,
            accepted="a file in an existing folder, or - for standard output",
        )
    count = 0
    with (
        contextlib.nullcontext(sys.stdout)
        if output == "-"
        else open(output, "w", encoding="utf-8", newline="")
    ) as fp:
        if fmt == "csv":
            writer = csv.writer(fp)
            writer.writerow(columns)
            for record in records:
                writer.writerow([_cell(record.get(c)) for c in columns])
                count += 1
        else:
            for record in records:
                fp.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                count += 1
    if output != "-":
        click.echo(f"wrote {count:,} row(s) to {output}", err=True)
    return count
