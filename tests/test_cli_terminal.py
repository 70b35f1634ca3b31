"""What people see on a terminal: tables cut to its width (``COLUMNS``), nothing cut when the
output goes to a file or a pipe, and durations (``3d``, ``12h``, ``90m``) where a time is asked.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from tabulate import tabulate
from voting_support import VALID_TVS

from c2m_core import C2M as C2MApp
from c2m_core.cli import make_cli
from c2m_core.cli.output import fit_rows
from c2m_core.cli.when import MAX_DAYS, when
from c2m_core.errors import InvalidInput

C2M = Path(sys.executable).with_name("c2m")
LONG_MESSAGE = "Panels of 85 inches and up need"  # a rule's message in the tv catalog


def on_terminal(args, columns: int, cwd) -> tuple[int, list[str]]:
    """Run ``c2m args`` with its output on a pseudo-terminal ``columns`` wide."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50"}
    process = subprocess.Popen(
        [str(C2M), *args], stdout=follower, stderr=follower, env=env, cwd=cwd
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    return process.wait(timeout=60), out.decode("utf-8").splitlines()


def visible(line: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", line)


@pytest.mark.skipif(sys.platform == "win32" or not C2M.exists(), reason="needs a POSIX pty")
@pytest.mark.parametrize("columns", [60, 80, 120])
def test_wide_tables_are_cut_to_the_terminal_width(tmp_path, columns):
    code, lines = on_terminal(["catalog", "show", "tv"], columns, tmp_path)
    assert code == 0, lines
    assert max(len(visible(line)) for line in lines) <= columns
    assert any(line.rstrip().endswith("…") for line in lines)  # something was cut


def test_piped_tables_are_not_cut(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    result = CliRunner().invoke(make_cli(), ["catalog", "show", "tv"])
    assert result.exit_code == 0, result.output
    assert LONG_MESSAGE in result.stdout
    assert "…" not in result.stdout


cells = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=60)


@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            st.lists(st.text("abcdefgh", min_size=1, max_size=10), min_size=n, max_size=n),
            st.lists(st.lists(cells, min_size=n, max_size=n), max_size=5),
        )
    ),
    st.integers(0, 200),
)
def test_a_fitted_table_is_no_wider_than_asked_when_its_headers_fit(table, width):
    headers, rows = table
    fitted = fit_rows(rows, headers, width)
    drawn = tabulate(fitted, headers=headers, tablefmt="simple", disable_numparse=True)
    widest = max(len(line) for line in drawn.splitlines())
    floor = sum(max(len(h) + 2, 8) for h in headers) + 2 * (len(headers) - 1)
    full = tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
    full_width = max(len(line) for line in full.splitlines())
    assert widest <= max(width, floor) or widest == full_width
    assert widest <= full_width
    for cut, row in zip(fitted, rows, strict=True):
        for shown, cell in zip(cut, row, strict=True):
            assert shown == cell or (shown.endswith("…") and cell.startswith(shown[:-1]))


# Durations ---------------------------------------------------------------------------------------

NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("3d", datetime.timedelta(days=3)),
        ("12h", datetime.timedelta(hours=12)),
        ("90m", datetime.timedelta(minutes=90)),
        (" +7d ", datetime.timedelta(days=7)),
        (f"{MAX_DAYS}d", datetime.timedelta(days=MAX_DAYS)),
    ],
)
def test_a_duration_is_that_long_from_now(text, delta):
    assert when(text, NOW, "--closes") == NOW + delta


def test_times_that_are_not_durations_are_passed_on_and_long_ones_refused():
    assert when("2030-02-01T00:00Z", NOW, "--closes") == "2030-02-01T00:00Z"
    assert when(None, NOW, "--closes") is None
    with pytest.raises(InvalidInput, match=r"--closes: 3651d is out of range; accepted: a dur"):
        when(f"{MAX_DAYS + 1}d", NOW, "--closes")
    with pytest.raises(InvalidInput) as caught:
        when(f"{24 * MAX_DAYS + 1}h", NOW, "--opens")
    assert caught.value.field == "--opens"


@pytest.fixture
def c2m(tmp_path):
    db = str(tmp_path / "c2m.db")

    def run(*args, code=0):
        result = CliRunner().invoke(make_cli(), ["--db", db, *args])
        assert result.exit_code == code, result.output
        return result.stdout if code == 0 else result.output

    run("campaign", "create", "tv26", "--category", "tv", "--stages", "vote,presale")
    for tv in VALID_TVS[:3]:
        run("variant", "add", "tv26", *tv.split())
    run("campaign", "advance", "tv26")
    run.db = db  # type: ignore[attr-defined]
    return run


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_vote_open_takes_durations_for_its_times(c2m):
    before = datetime.datetime.now(datetime.UTC)
    c2m("vote", "open", "tv26", "--method", "plurality", "--opens", "1m", "--closes", "3d")
    after = datetime.datetime.now(datetime.UTC)
    with C2MApp(c2m.db) as app:
        vote = app.voting.require("tv26")
    opens, closes = utc(vote.opens_at), utc(vote.closes_at)
    span = datetime.timedelta(seconds=1)  # times are stored to the second
    assert (
        before + datetime.timedelta(minutes=1) - span
        <= opens
        <= after + datetime.timedelta(minutes=1)
    )
    assert (
        before + datetime.timedelta(days=3) - span <= closes <= after + datetime.timedelta(days=3)
    )


def test_vote_open_refuses_a_duration_beyond_the_range_naming_it(c2m):
    out = c2m("vote", "open", "tv26", "--method", "plurality", "--closes", "9999d", code=2)
    assert "--closes: 9999d is out of range" in out
    assert f"a duration up to {MAX_DAYS} days" in out
    assert "Traceback" not in out


def test_presale_open_takes_a_duration_for_its_deadline(c2m):
    c2m("campaign", "advance", "tv26")
    before = datetime.datetime.now(datetime.UTC)
    c2m("presale", "open", "tv26", "--deadline", "12h")
    after = datetime.datetime.now(datetime.UTC)
    status = json.loads(c2m("presale", "status", "tv26", "--json"))
    deadline = utc(status["deadline"])
    span = datetime.timedelta(seconds=1)
    assert before + datetime.timedelta(hours=12) - span <= deadline
    assert deadline <= after + datetime.timedelta(hours=12)
