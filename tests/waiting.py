"""Waiting on other processes without racing them.

Tests wait for an event (a barrier, a queue item, a line on a pipe, a process's exit), never for
an amount of time. Each wait still has a bound so that a hung process fails the test instead of
hanging CI; the bound is far above what the slowest machine needs, so it never decides a result.
"""

HANG_SECONDS = 600


def join_all(processes) -> list[int | None]:
    """Wait for every process to end; their exit codes (``None`` for one that hung)."""
    for process in processes:
        process.join(HANG_SECONDS)
    return [process.exitcode for process in processes]
