"""``python -m bench --quick``: every registered benchmark runs and its rows reach the table."""

import re
import subprocess
import sys
from pathlib import Path

from waiting import HANG_SECONDS

from bench.__main__ import MODULES

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["operation", "size", "figure", "floor", "ratio"]
#: An operation each module is known to print (a module not listed is checked by count only).
KNOWN = {
    "startup": "start-up: c2m --version",
    "dispatch": "hook call, one implementation",
    "wishes": "wish import (c2m wish import, an event per wish)",
    "sizes": "choose_sizes alone (DP, one demand per wish)",
    "voting": "vote tally (schulze)",
    "presale": "pledge placed, deposit captured (4 writers)",
    "server": "pledge through the API (4 uvicorn workers, 4 clients)",
    "pages": "configurator page update over HTTP (options, count, price), partial TV",
}


def table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|") and not line.startswith("|-")
    ]


def test_quick_run_prints_every_modules_rows():
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert done.returncode == 0, done.stderr
    header, *rows = table_rows(done.stdout)
    assert header == HEADER
    counts = dict(re.findall(r"^(\w+): (\d+) rows in ", done.stderr, re.M))
    assert list(counts) == list(MODULES)
    assert all(int(n) >= 1 for n in counts.values()), counts
    assert len(rows) == sum(int(n) for n in counts.values())
    operations = [row[0] for row in rows]
    for name in MODULES:
        if name in KNOWN:
            assert KNOWN[name] in operations, (name, operations)
    for row in rows:
        assert len(row) == len(HEADER), row
        assert row[4] == "-" or float(row[4]) >= 0, row  # a ratio, printed to 2 places


def test_unknown_module_is_refused_with_the_choices():
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "nosuch"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert done.returncode == 2
    assert "unknown benchmark 'nosuch'" in done.stderr
    assert ", ".join(MODULES) in done.stderr
