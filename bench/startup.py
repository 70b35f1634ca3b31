"""Start-up: wall time of whole ``c2m`` processes against ``python -c pass`` (the floor).

Targets (issue 13): ``c2m --version`` under 100 ms and any ``catalog`` command under 250 ms,
median wall time on this machine. The ratio is floor/figure: 1.0 would be as fast as an empty
Python process.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import Row, fmt_seconds

CLI = "from c2m_core.cli import cli; cli()"
COMMANDS = {
    "c2m --version": ["--version"],
    "c2m catalog list": ["catalog", "list"],
    "c2m catalog show tv": ["catalog", "show", "tv"],
    "c2m catalog check tv size=65-oled": ["catalog", "check", "tv", "size=65-oled", "--partial"],
    "c2m catalog count tv (engine)": ["catalog", "count", "tv"],
}
TARGETS = {"c2m --version": 0.100}
CATALOG_TARGET = 0.250


def wall_seconds(argv: list[str], repeat: int, cwd: str) -> float:
    """Median wall time of running ``argv`` as a new process ``repeat`` times.

    As an installed c2m runs: bytecode is written and reused (one warm-up run writes it), even
    when the environment that runs the benchmark sets ``PYTHONDONTWRITEBYTECODE``.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(argv, cwd=cwd, capture_output=True, check=False, env=env)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, capture_output=True, check=False, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(quick: bool = False) -> list[Row]:
    repeat = 3 if quick else 21
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        floor = wall_seconds([sys.executable, "-c", "pass"], repeat, folder)
        for name, args in COMMANDS.items():
            seconds = wall_seconds([sys.executable, "-c", CLI, *args], repeat, folder)
            target = TARGETS.get(name, CATALOG_TARGET)
            verdict = "meets" if seconds <= target else "MISSES"
            rows.append(
                Row(
                    f"start-up: {name}",
                    f"median of {repeat} processes; target {fmt_seconds(target)} ({verdict})",
                    fmt_seconds(seconds),
                    f"python -c pass {fmt_seconds(floor)}",
                    floor / seconds,
                )
            )
        assert not list(Path(folder).iterdir()), "a catalog command created a file"
    return rows


if __name__ == "__main__":
    from .__main__ import print_rows

    print_rows(run(quick="--quick" in sys.argv))
