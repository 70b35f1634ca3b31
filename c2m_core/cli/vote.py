"""``c2m vote``: open a vote on variants, cast and import ballots, close it, read the result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import InvalidInput
from ..imports import EXIT_CODES_HELP
from ..voting.ballots import format_ranking
from ..voting.files import count_lines
from ..voting.result import TIE_RULE
from ..voting.service import BATCH_SIZE
from .context import app_from
from .forecast import forecast_lines
from .output import (
    confirm,
    echo_json,
    echo_table,
    export_options,
    json_option,
    progress,
    report_import,
    write_records,
    yes_option,
)
from .when import when


@click.group()
def vote():
    """Vote on a campaign's variants: open, cast, import, close, results, audit."""


@vote.command()
@json_option
def methods(as_json):
    """List the counting methods (plugins may add more)."""
    found = app_from().voting.methods
    rows = [
        {"name": m.name, "title": m.title, "fields": list(m.fields), "options": dict(m.options)}
        for m in found.values()
    ]
    if as_json:
        echo_json(rows)
        return
    echo_table(
        [(r["name"], r["title"], ", ".join(r["options"]) or "-") for r in rows],
        ["method", "ballot", "options"],
    )


@vote.command("open")
@click.argument("slug")
@click.option("--method", required=True, help="Counting method (see `c2m vote methods`).")
@click.option("--variants", help="Comma-separated variant ids (default: every variant).")
@click.option(
    "--opens", help="When ballots start: ISO 8601 time with offset, or 3d / 12h / 90m from now."
)
@click.option(
    "--closes",
    help="When ballots stop: ISO 8601 time with offset, or 3d / 12h / 90m from now. [never]",
)
@click.option("--winners", default=1, show_default=True, help="How many variants advance.")
@click.option("--max-approvals", type=int, help="approval: most variants one ballot approves.")
@json_option
def open_(slug, method, variants, opens, closes, winners, max_approvals, as_json):
    """Open the vote of campaign SLUG (the campaign must be in its vote state)."""
    options = {"max_approvals": max_approvals} if max_approvals is not None else {}
    app = app_from()
    now = app.clock()
    opened = app.voting.open(
        slug,
        method,
        variants=variants,
        opens=when(opens, now, "--opens"),
        closes=when(closes, now, "--closes"),
        winners=winners,
        options=options,
    )
    if as_json:
        echo_json(opened.to_dict())
        return
    closes_text = f" until {opened.closes_at}" if opened.closes_at else " until closed"
    click.echo(
        f"opened a {opened.method} vote on variants {', '.join(map(str, opened.candidates))} "
        f"for {slug} ({opened.winners} winner(s)), from {opened.opens_at}{closes_text}"
    )


def _joined(values) -> str | None:
    return ",".join(values) if values else None


@vote.command()
@click.argument("slug")
@click.option("--voter", required=True, help="The voter's reference (one ballot per voter).")
@click.option("--choice", help="plurality: the variant id chosen.")
@click.option("--approve", multiple=True, help="approval: variant ids approved (1,4).")
@click.option("--score", "scores", multiple=True, help="score: ID=N, 0 to 5 (repeatable).")
@click.option("--would-buy", multiple=True, help="score: a variant id you would buy.")
@click.option("--rank", help="schulze: a ranking, '>' prefers and '=' ties ('3>1=2>4').")
@click.option("--ballot", "raw", help="Any method: the ballot as a JSON object.")
@json_option
def cast(slug, voter, choice, approve, scores, would_buy, rank, raw, as_json):
    """Cast (or replace) the ballot of --voter in the vote of campaign SLUG."""
    ballot = {
        "choice": choice,
        "approve": _joined(approve),
        "score": _joined(scores),
        "would_buy": _joined(would_buy),
        "rank": rank,
    }
    ballot = {k: v for k, v in ballot.items() if v is not None}
    if raw is not None:
        try:
            extra = json.loads(raw)
        except json.JSONDecodeError as ex:
            raise InvalidInput(
                f"--ballot: not valid JSON ({ex.msg})",
                field="--ballot",
                value=raw,
                accepted="a JSON object of ballot fields",
            ) from None
        if not isinstance(extra, dict):
            raise InvalidInput(
                "--ballot: give a JSON object of ballot fields",
                field="--ballot",
                value=extra,
                accepted="a JSON object of ballot fields",
            )
        ballot |= extra
    if not ballot:
        raise InvalidInput(
            "no ballot given: use --choice, --approve, --score/--would-buy, --rank or --ballot "
            "as the vote's method needs",
            field="ballot",
            value=ballot,
            accepted="--choice, --approve, --score/--would-buy, --rank or --ballot",
        )
    done = app_from().voting.cast(slug, voter, ballot)
    if as_json:
        echo_json(done.to_dict())
    elif done.replaced is not None:
        click.echo(f"ballot of {done.voter} replaced (the earlier one is kept in the history)")
    else:
        click.echo(f"ballot of {done.voter} cast")


@vote.command("import", epilog=EXIT_CODES_HELP)
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "format_", type=click.Choice(["csv", "jsonl"]), help="Default: suffix.")
@click.option("--strict", is_flag=True, help="Import nothing if any row is rejected.")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, help="Rows per transaction.")
@json_option
def import_(slug, file, format_, strict, batch_size, as_json):
    """Import ballots from FILE (CSV with a header, or JSON Lines) into the vote of SLUG.

    Columns / keys: voter, and the method's fields (choice; approve; score, would_buy; rank).
    Rejected rows are listed with their line numbers and the exit code is 1.
    """
    app = app_from()
    with progress(count_lines(file) if Path(file).is_file() else 0, "importing ballots") as bar:
        report = app.voting.import_file(
            slug, file, format=format_, strict=strict, batch_size=batch_size, progress=bar.update
        )
    summary = (
        f"imported {report.imported} ballot(s) ({report.replaced} replaced an earlier "
        f"ballot); {len(report.rejected)} row(s) rejected"
    )
    report_import(report, as_json, summary)


@vote.command()
@click.argument("slug")
@yes_option
@json_option
def close(slug, yes, as_json):
    """Close the vote of campaign SLUG, count it and store the result.

    Before its closing time (or when it has none) this asks first (--yes for scripts).
    """
    app = app_from()
    vote = app.voting.require(slug)
    if vote.state == "open" and (vote.closes_at is None or app.store.now() < vote.closes_at):
        ends = f"it runs until {vote.closes_at}" if vote.closes_at else "it has no closing time"
        confirm(
            f"The vote of {slug} is open ({ends}); close it now? Ballots are no longer accepted.",
            yes,
        )
    result = app.voting.close(slug)
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(
        f"closed the vote of {slug}: {result.ballots} ballot(s); winners: "
        f"{', '.join(map(str, result.winners))}"
    )


@vote.command()
@click.argument("slug")
@json_option
def audit(slug, as_json):
    """Check the vote's running tally against a recount of its ballots (exit 1: differ)."""
    report = app_from().voting.audit(slug)
    if as_json:
        echo_json(report.to_dict())
    elif not report.running:
        click.echo(
            f"the vote of {slug} ({report.method}) keeps no running tally: it is counted from "
            "its ballots, so there is nothing to check"
        )
    else:
        echo_table(
            [
                (c.counter, c.running, c.recount, "ok" if c.ok else "DIFFERS")
                for c in report.counters
            ],  # fmt: skip
            ["counter", "running tally", "recount", "check"],
        )
    if not report.ok:
        names = ", ".join(c.counter for c in report.differing)
        click.echo(
            f"error: the running tally of {slug} differs from a recount of its ballots in "
            f"{len(report.differing)} counter(s): {names}",
            err=True,
        )
        raise SystemExit(1)


def _matrix(title: str, candidates, matrix) -> None:
    click.echo("")
    click.echo(click.style(title, bold=True))
    rows = [
        [c, *["-" if i == j else value for j, value in enumerate(row)]]
        for i, (c, row) in enumerate(zip(candidates, matrix, strict=True))
    ]
    echo_table(rows, ["", *candidates])


@vote.command()
@click.argument("slug")
@json_option
def results(slug, as_json):
    """Show the result of the vote of SLUG (a provisional count while it is open)."""
    app = app_from()
    found = app.voting.require(slug)
    result = app.voting.results(slug)
    final = found.state == "closed"
    forecast = app.forecast.forecast(slug)
    if as_json:
        echo_json(
            {"vote": found.to_dict() | {"result": None}, "final": final}
            | result.to_dict()
            | {"forecast": forecast.to_dict()}
        )
        return
    names = {v.id: v.name for v in app.variants.list(slug, include_withdrawn=True)}
    if final:
        status = f"closed at {found.closed_at}"
    elif found.closes_at and app.store.now() >= found.closes_at:
        status = f"window ended at {found.closes_at}, provisional count (run `c2m vote close`)"
    else:
        status = "open: provisional count"
    click.echo(f"{slug}: {result.method} vote, {status}; {result.ballots} ballot(s)")
    click.echo("")
    keys = [k for k in result.totals[0] if k != "variant"] if result.totals else []
    won = set(result.winners)
    echo_table(
        [
            [place, variant, names.get(variant, "?"), *[result.total(variant)[k] for k in keys]]
            + ["yes" if variant in won else ""]
            for place, variant in enumerate(result.ranking, start=1)
        ],
        ["place", "variant", "name", *keys, "advances"],
    )
    if "d" in result.details:
        _matrix(
            "Pairwise preferences d[row][column]: voters preferring row to column",
            result.candidates,
            result.details["d"],
        )
        _matrix(
            "Strongest paths p[row][column]: row beats column when p[row][column] > p[column][row]",
            result.candidates,
            result.details["p"],
        )
    click.echo("")
    click.echo(
        f"Winners ({len(result.winners)}): "
        + ", ".join(f"{w} ({names.get(w, '?')})" for w in result.winners)
    )
    click.echo(f"Tie-breaks ({TIE_RULE}):")
    for statement in result.tie_breaks or ["none were needed"]:
        click.echo(f"  - {statement}")
    click.echo("")
    click.echo(click.style("Demand forecast at the pre-sale", bold=True))
    for line in forecast_lines(forecast):
        click.echo(line)


@vote.command()
@click.argument("slug")
@click.option("--voter", help="Only this voter's replaced ballots.")
@json_option
def history(slug, voter, as_json):
    """List replaced ballots of the vote of SLUG, oldest first."""
    found = app_from().voting.history(slug, voter)
    if as_json:
        echo_json([h.to_dict() for h in found])
        return
    echo_table(
        [
            (
                h.voter,
                format_ranking(h.ballot["rank"]) if "rank" in h.ballot else json.dumps(h.ballot),
                h.cast_at,
                h.replaced_at,
            )
            for h in found
        ],
        ["voter", "ballot", "cast at", "replaced at"],
    )


@vote.command()
@click.argument("slug")
@export_options
def export(slug, fmt, output):
    """Write every current ballot of the vote of SLUG as CSV or JSON Lines (voter, fields).

    The columns are those `c2m vote import` reads, plus cast_at.
    """
    app = app_from()
    vote = app.voting.require(slug)
    fields = list(app.voting.method(vote.method).fields)

    def records():
        store: Any = app.store  # the voting area, as the services reach it
        for cast in store.voting.ballots(vote.id):
            yield {"voter": cast.voter, **cast.ballot, "cast_at": cast.cast_at}

    write_records(records(), ["voter", *fields, "cast_at"], fmt, output)
