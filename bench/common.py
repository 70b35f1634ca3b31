"""Shared helpers: a result row and a median timer."""

from __future__ import annotations

import statistics
import time

import attrs


@attrs.frozen
class Row:
    """One benchmark figure and the floor it is compared with.

    ``ratio`` is figure/floor for rates (higher is better) and floor/figure for times, so a
    ratio of 1.0 always means "as fast as the floor" and less means slower.
    """

    operation: str
    size: str
    figure: str
    floor: str
    ratio: float | None


def median_seconds(function, repeat: int = 7, number: int = 1) -> float:
    """Median wall time of ``number`` calls of ``function``, over ``repeat`` rounds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            function()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def fmt_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_rate(per_second: float, unit: str) -> str:
    return f"{per_second:,.0f} {unit}/s"


def percentile(values: list[float], share: float) -> float:
    """The value at ``share`` (0..1) of ``values`` sorted (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Stopwatch:
    """Wall and CPU seconds of a ``with`` block.

    CPU time is this process's own: on cores shared with other work it moves far less than
    wall time, so a ratio of CPU times compares the work done, not the neighbours' load.
    """

    wall = cpu = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
