"""``c2m demo``: run a complete synthetic campaign and say where its files are."""

from __future__ import annotations

import sys
import time

import click

from ..demo import DEFAULT_OUT, DEFAULT_WISHES, MAX_WISHES, MIN_WISHES, run_demo
from ..store.dialect import display_target
from .context import app_from


class StepDisplay:
    """A progress bar on stderr for steps with a count, a line for the others."""

    def __init__(self):
        self.step = None
        self.bar = None
        self.done = 0

    def __call__(self, step: str, done: int, total: int) -> None:
        if step != self.step:
            self.close()
            self.step = step
            if total:
                self.bar = click.progressbar(length=total, label=f"{step:<11}", file=sys.stderr)
                self.bar.__enter__()
                self.done = 0
            else:
                click.echo(f"{step:<11} ...", err=True)
        if self.bar is not None and done > self.done:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _n(value: int) -> str:
    return f"{value:,}"


def summary_lines(summary, db_path, seconds: float) -> list[str]:
    """The ten-second summary of a demo run."""
    s = summary
    stats, agg, vote, presale = s.stats, s.aggregation, s.vote, s.presale
    winners = ", ".join(f"V{v}" for v in vote.winners)
    tipped = ", ".join(
        f"V{v.variant_id} {_n(v.units_at_close)}/{_n(v.threshold)}" for v in s.tipped
    )
    failed = ", ".join(
        f"V{v.variant_id} {_n(v.units_at_close)}/{_n(v.threshold)}" for v in s.failed
    )
    capacity = presale.variants[0].capacity
    work_orders = sum(len(h.record["work_orders"]) for h in s.handoff.handoffs)
    dues = sorted(h.due_date for h in s.handoff.handoffs)
    sold_out = f"; {_n(s.sold_out)} refused: sold out" if s.sold_out else ""
    return [
        f"c2m demo: campaign {s.slug} ({s.category}) in {display_target(db_path)}, {seconds:.1f} s",
        f"  wishes      {_n(s.wishes.imported)} from {_n(s.participants)} customers: "
        f"{_n(stats.valid_wishes)} valid, {_n(stats.wishes - stats.valid_wishes)} forbidden by "
        f"the rules, {_n(s.free_text)} free text ({_n(s.read_from_text)} read by a plugin)",
        f"  aggregate   {len(agg.variants)} variants cover {_n(agg.covered_quantity)} of "
        f"{_n(agg.total_quantity)} valid wished units ({agg.share:.1%})",
        f"  vote        {vote.method}, {_n(vote.ballots)} ballots; winners {winners}",
        f"  pre-sale    {_n(s.pledges)} pledges from 4 regions{sold_out}; threshold "
        f"{_n(presale.variants[0].threshold)}, capacity "
        f"{'none' if capacity is None else _n(capacity)}",
        f"              tipped {tipped or 'none'}; failed {failed or 'none'} (units/threshold)",
        f"  hand-off    {len(s.handoff.handoffs)} production orders, {_n(s.units_produced)} "
        f"units in {work_orders} work orders, first due {dues[0] if dues else '-'}",
        *loop_lines(s),
        "files",
        f"  factory     {s.factory}/  (JSON, CSV, B2MML, spec sheets, manifest.json)",
        f"  report      {s.report}",
        f"next: c2m campaign show {s.slug}; c2m report {s.slug} -o report.html",
    ]


def loop_lines(summary) -> list[str]:
    """The loop: rewards paid, referrals, feedback, the next campaign."""
    loop = summary.loop
    if loop is None:
        return []
    return [
        f"  loop        rewards {loop.rewards.paid_total} to designers and referrers "
        f"({_n(loop.referred)} referred pledges); {_n(loop.feedback)} feedback routed; "
        f"next campaign {loop.next_slug} seeded with {_n(loop.seeded)} wishes from it",
    ]


@click.command()
@click.option(
    "--category", default="tv", show_default=True, help="The category (see `c2m catalog list`)."
)
@click.option(
    "--wishes",
    type=click.IntRange(MIN_WISHES, MAX_WISHES),
    default=DEFAULT_WISHES,
    show_default=True,
    help="Synthetic wishes to import.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seeds every random choice.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=DEFAULT_OUT,
    show_default=True,
    help="Folder for the files; each run writes OUT/<slug>/.",
)
@click.option("--slug", help="Campaign slug (default: a fresh demo-<category>[-N]).")
def demo(category, wishes, seed, out, slug):
    """Run a complete campaign on synthetic data, from wishes to the factory's files.

    Creates a fresh campaign in the database (--db), imports seeded synthetic wishes (some
    partial, some forbidden by the rules, some free text), aggregates them into variants, runs
    a score vote, a pre-sale with pledges from four regions (the most wanted variants tip, the
    least wanted fails), hands the winners off to OUT/<slug>/factory and writes the campaign
    report to OUT/<slug>/report.html. Running it again makes a new campaign.
    """
    app = app_from()
    started = time.perf_counter()
    display = StepDisplay()
    try:
        summary = run_demo(
            app, category, wishes=wishes, seed=seed, out=out, slug=slug, progress=display
        )
    finally:
        display.close()
    for line in summary_lines(summary, app.db_path, time.perf_counter() - started):
        click.echo(line)
