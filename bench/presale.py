"""Pledges per second with 1 and 4 writer processes on one database file.

Each pledge is the whole safe path: a ``BEGIN IMMEDIATE`` transaction that recounts the variant's
held units and writes the pledge, its transition, its pending payment and an event; the default
``ledger`` provider's authorize and capture (one transaction each); and the transaction that
records the capture and commits the pledge. The floor is the same number of plain ``sqlite3``
``BEGIN IMMEDIATE`` transactions inserting one row each, from the same number of processes, on a
file with the same pragmas (WAL, synchronous NORMAL).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import tempfile
import time
from pathlib import Path

from c2m_core import C2M

from .common import Row, fmt_rate

TV = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}


def _pledge_worker(db_path, variant_id, worker, count, barrier, results):
    with C2M(db_path) as app:
        app.campaigns.get("bench")  # open the store (and its migrations) before timing
        barrier.wait()
        start = time.time()
        for index in range(count):
            app.presale.place("bench", variant_id, f"c{worker}", 1, f"w{worker}-{index}")
        results.put((start, time.time()))


def _floor_worker(db_path, worker, count, barrier, results):
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA synchronous = NORMAL")
    barrier.wait()
    start = time.time()
    for index in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (worker, n) VALUES (?, ?)", [worker, index])
        conn.execute("COMMIT")
    results.put((start, time.time()))
    conn.close()


def _timed(target, arguments: list[tuple]) -> float:
    """Wall time from the first writer's start to the last writer's end (one writer per tuple)."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(arguments)), ctx.Queue()
    processes = [ctx.Process(target=target, args=(*args, barrier, results)) for args in arguments]
    for process in processes:
        process.start()
    spans = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode:
            raise RuntimeError(f"a benchmark writer failed with exit code {process.exitcode}")
    return max(end for _, end in spans) - min(start for start, _ in spans)


def _presale_db(folder: Path, total: int) -> tuple[Path, int]:
    db_path = folder / "presale.db"
    with C2M(db_path) as app:
        app.campaigns.create("bench", "tv", stages=["presale"])
        variant = app.variants.add("bench", TV)
        app.campaigns.advance("bench")
        app.presale.open("bench", "7d", deposit="10%", capacity=total)  # the recount runs
    return db_path, variant.id


def _floor_db(folder: Path) -> Path:
    db_path = folder / "floor.db"
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, worker INTEGER, n INTEGER)")
    conn.commit()
    conn.close()
    return db_path


def run(quick: bool = False) -> list[Row]:
    total = 200 if quick else 2000
    rows = []
    for writers in (1, 4):
        per_writer = total // writers
        with tempfile.TemporaryDirectory() as folder:
            db_path, variant_id = _presale_db(Path(folder), total)
            pledging = _timed(
                _pledge_worker, [(db_path, variant_id, w, per_writer) for w in range(writers)]
            )
            floor_path = _floor_db(Path(folder))
            floor = _timed(_floor_worker, [(floor_path, w, per_writer) for w in range(writers)])
        done = per_writer * writers
        rows.append(
            Row(
                f"pledge placed, deposit captured ({writers} writer{'s' if writers > 1 else ''})",
                f"{done} pledges",
                fmt_rate(done / pledging, "pledges"),
                fmt_rate(done / floor, "inserts"),
                floor / pledging,
            )
        )
    return rows


if __name__ == "__main__":
    from .__main__ import print_rows

    print_rows(run())
