"""Wishes: import a million synthetic TV wishes, then aggregate them into variants.

Import runs through the same code path as ``c2m wish import`` (the click command, in process)
and is compared with a floor measured in the same run: plain ``sqlite3`` ``executemany`` of the
same rows (read back from the store) into a table of the same shape (same columns, constraints
and index), in transactions of the same batch size. The ratio is of CPU times (the process's
own: the cores are shared, and wall time moves several-fold with the neighbours' load; both
are printed). Each stored wish also gets its
``wish.submitted`` event (its id, customer and external id). The floor does less than the
import must: it reads no file, checks no row, judges no configuration against the catalog's
rules (with its violations and nearest valid choice when it breaks one) and writes no events;
it is kept as it is, the raw cost of storing the rows. Target: a ratio of at least 0.5,
checked and printed (``ok`` / ``MISS``) with the load average, since the cores are shared.

Aggregation of everything imported (K=5 with MOQ 1, then K=10 with MOQ 1,000) reports the
share of valid wished units the chosen variants cover; its floor is the plain ``sqlite3``
``GROUP BY`` that reads the collapsed demand, the least any aggregation must do. Target: under
30 s for a million wishes. Sizes: 1,000,000 wishes (``--quick``: 5,000).

    python -m bench wishes [--quick]
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from c2m_core import C2M
from c2m_core.cli import make_cli
from c2m_core.store.wishes import COLUMNS, wishes_schema
from c2m_core.wishes.synthetic import synthetic_wishes, write_csv

from .common import Row, Stopwatch, fmt_rate

SEED = 0
BATCH_SIZE = 5000
#: The issue's target: the import at least this share of the executemany floor.
IMPORT_TARGET = 0.5
#: (K, MOQ per million wishes): the MOQ scales with the size so small runs choose variants too.
AGGREGATIONS = ((5, 1), (10, 1000))


def floor_import(path: Path, rows: list[tuple], batch_size: int) -> Stopwatch:
    """Plain sqlite3 inserting ``rows`` into a table of the same shape (wall and CPU)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    for statement in wishes_schema("floor_wishes", references=False):
        conn.execute(statement)
    sql = (
        f"INSERT INTO floor_wishes ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)})"
    )
    with Stopwatch() as watch:
        for offset in range(0, len(rows), batch_size):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows[offset : offset + batch_size])
            conn.execute("COMMIT")
    conn.close()
    return watch


def floor_demand(path: Path) -> float:
    """Seconds for plain sqlite3 to read the collapsed valid demand of the imported wishes."""
    conn = sqlite3.connect(path)
    start = time.perf_counter()
    conn.execute(
        "SELECT configuration, COUNT(*), SUM(quantity) FROM wishes "
        "WHERE valid = 1 GROUP BY configuration ORDER BY configuration"
    ).fetchall()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _import(db: Path, csv_path: Path, batch_size: int) -> Stopwatch:
    # its summary line goes nowhere; the table says it all
    with Stopwatch() as watch, contextlib.redirect_stdout(io.StringIO()):
        make_cli().main(
            ["--db", str(db), "wish", "import", "bench", str(csv_path)]
            + ["--batch-size", str(batch_size)],
            standalone_mode=False,
        )
    return watch


def run(quick: bool = False, count: int | None = None, batch_size: int = BATCH_SIZE) -> list[Row]:
    count = count or (5_000 if quick else 1_000_000)
    size = f"{count:,} TV wishes"
    with tempfile.TemporaryDirectory(prefix="c2m-bench-wishes-") as tmp:
        tmp = Path(tmp)
        db = tmp / "bench.db"
        csv_path = tmp / "wishes.csv"
        with C2M(db_path=db) as app:
            category = app.category("tv")
            wishes = synthetic_wishes(
                category.catalog, lambda c: not app.validate(category, c), count, seed=SEED
            )
            written = write_csv(csv_path, wishes, category.catalog.module_ids)
            app.campaigns.create("bench", "tv")
            app.campaigns.advance("bench")

        ours = _import(db, csv_path, batch_size)
        rows = []
        with C2M(db_path=db) as app:
            stored = app.store.db.execute(f"SELECT {', '.join(COLUMNS)} FROM wishes").fetchall()
            events = app.store.last_event_id()
            if len(stored) != written or events < written:
                raise RuntimeError(
                    f"the import stored {len(stored)} of {written} wishes with {events} events"
                )
            raw = floor_import(tmp / "floor.db", stored, batch_size)
            del stored
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            ratio = raw.cpu / ours.cpu
            print(
                f"  {'ok  ' if ratio >= IMPORT_TARGET else 'MISS'} wish import at least "
                f"{IMPORT_TARGET} of executemany (CPU): {ratio:.2f} (load average {load})",
                file=sys.stderr,
            )
            rows.append(
                Row(
                    "wish import (c2m wish import, an event per wish)",
                    size,
                    f"{fmt_rate(written / ours.wall, 'rows')} ({ours.wall:.2f} s, "
                    f"CPU {ours.cpu:.2f} s)",
                    f"sqlite3 executemany {fmt_rate(written / raw.wall, 'rows')} "
                    f"({raw.wall:.2f} s, CPU {raw.cpu:.2f} s)",
                    ratio,
                )
            )
            demand = floor_demand(db)
            for k, moq_per_million in AGGREGATIONS:
                moq = max(1, moq_per_million * written // 1_000_000)
                start = time.perf_counter()
                result = app.wishes.aggregate("bench", max_variants=k, moq=moq)
                took = time.perf_counter() - start
                rows.append(
                    Row(
                        f"aggregate K={k} MOQ={moq:,}",
                        size,
                        f"{took:.2f} s, {len(result.variants)} variants cover "
                        f"{result.share:.1%} of {result.total_quantity:,} valid units",
                        f"sqlite3 GROUP BY demand {demand:.2f} s",
                        demand / took,
                    )
                )
    return rows


if __name__ == "__main__":
    from .__main__ import print_rows

    print_rows(run())
