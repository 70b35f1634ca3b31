"""``c2m report``: the campaign report as one self-contained HTML page."""

from __future__ import annotations

import click

from ..report import build_report, render_report
from .context import app_from


@click.command()
@click.argument("slug")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The HTML file to write ('-' for stdout). [SLUG-report.html]",
)
def report(slug, output):
    """Write the report of campaign SLUG: funnel, demand, vote, pre-sale and production plan.

    The page is self-contained (inline CSS and SVG charts, no scripts, nothing fetched), so it
    can be mailed or opened offline.
    """
    from pathlib import Path

    from ..errors import InvalidInput

    path = output or f"{slug}-report.html"
    if output != "-" and not Path(path).resolve().parent.is_dir():
        raise InvalidInput(
            f"--output: the folder {Path(path).parent} does not exist; create it first or "
            "choose another path",
            field="--output",
            value=path,
            accepted="a file in an existing folder, or - for stdout",
        )
    app = app_from()
    html = render_report(app, build_report(app, slug))
    if output == "-":
        click.echo(html, nl=False)
        return
    with open(path, "w", encoding="utf-8") as fp:
        fp.write(html)
    click.echo(f"wrote {path} ({len(html.encode()) // 1024 + 1} KB)")
