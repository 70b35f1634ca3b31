"""``c2m forecast``: units per variant at the pre-sale, with an interval and suggestions."""

from __future__ import annotations

import click

from .context import app_from
from .output import echo_json, json_option


def forecast_lines(forecast) -> list[str]:
    """The forecast as a table with its calibration and the suggested ``presale open``."""
    from tabulate import tabulate

    rows = [
        (f"V{v.variant_id}", v.name[:40], f"{v.mean:,.1f}", f"{v.low:,}-{v.high:,}",
         f"{v.chance_to_tip:.0%}", v.suggested_capacity, "" if v.actual is None else v.actual)
        for v in forecast.variants
    ]  # fmt: skip
    table = tabulate(
        rows,
        headers=["variant", "name", "units", f"{forecast.level:.0%} interval",
                 f"P(>= {forecast.threshold})", "capacity", "actual"],
        disable_numparse=True,
    )  # fmt: skip
    return [
        f"forecast from {forecast.source} ({forecast.ballots:,} ballots, "
        f"{forecast.participants:,} participants); {forecast.calibration.describe()}",
        table,
        f"suggested: {forecast.suggested_command()}",
    ]


@click.command()
@click.argument("slug")
@click.option("--level", type=click.Choice(["0.8", "0.9", "0.95"]), default="0.95")
@json_option
def forecast(slug, level, as_json):
    """Forecast units per variant at the pre-sale (and suggest thresholds and capacities)."""
    result = app_from().forecast.forecast(slug, float(level))
    if as_json:
        echo_json(result.to_dict())
        return
    for line in forecast_lines(result):
        click.echo(line)
