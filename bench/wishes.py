"""Benchmark: import and aggregate a million synthetic TV wishes.

    python bench/wishes.py [--wishes 1000000] [--seed 0] [--batch-size 5000]

Import runs through the same code path as ``c2m wish import`` (the click command, in process)
and is compared with a floor measured in the same run: plain ``sqlite3`` ``executemany`` of the
same rows (read back from the store) into a table of the same shape (same columns,
constraints and index), in transactions of the same batch size. Target: ours >= 0.3 of the
floor's rows per second. Aggregation of everything imported: target under 30 s.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("C2M_LOAD_PLUGINS", "c2m.tv")

from c2m_core import C2M  # noqa: E402
from c2m_core.cli import make_cli  # noqa: E402
from c2m_core.store.wishes import COLUMNS, wishes_schema  # noqa: E402
from c2m_core.synthetic import synthetic_wishes, write_csv  # noqa: E402


def floor(path: Path, rows: list[tuple], batch_size: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in wishes_schema("floor_wishes", references=False):
        conn.execute(statement)
    sql = (
        f"INSERT INTO floor_wishes ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)})"
    )
    start = time.perf_counter()
    for offset in range(0, len(rows), batch_size):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows[offset : offset + batch_size])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wishes", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--max-variants", type=int, default=10)
    parser.add_argument("--moq", type=int, default=1000)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "bench.db"
        app = C2M(db_path=db)
        category = app.category("tv")
        catalog = category.catalog
        start = time.perf_counter()
        wishes = synthetic_wishes(
            catalog, lambda c: not app.validate(category, c), args.wishes, seed=args.seed
        )
        csv_path = tmp / "wishes.csv"
        count = write_csv(csv_path, wishes, catalog.module_ids)
        print(
            f"generated {count:,} wishes ({csv_path.stat().st_size / 1e6:.0f} MB CSV) "
            f"in {time.perf_counter() - start:.1f} s"
        )
        app.campaigns.create("bench", "tv")
        app.campaigns.advance("bench")
        app.close()

        start = time.perf_counter()
        make_cli().main(
            [
                "--db",
                str(db),
                "wish",
                "import",
                "bench",
                str(csv_path),
                "--batch-size",
                str(args.batch_size),
            ],
            standalone_mode=False,
        )
        ours = time.perf_counter() - start

        app = C2M(db_path=db)
        rows = app.store.db.execute(f"SELECT {', '.join(COLUMNS)} FROM wishes").fetchall()
        events = app.store.db.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'wish.submitted'"
        ).fetchone()[0]
        assert len(rows) == count == events, (len(rows), count, events)
        raw = floor(tmp / "floor.db", rows, args.batch_size)
        del rows
        print(
            f"import: c2m wish import {count / ours:,.0f} rows/s ({ours:.1f} s, with an event "
            f"per wish); floor sqlite3 executemany {count / raw:,.0f} rows/s ({raw:.1f} s); "
            f"ratio {raw / ours:.2f} (target >= 0.3)"
        )

        for k, moq in ((5, 1), (args.max_variants, args.moq)):
            start = time.perf_counter()
            result = app.wishes.aggregate("bench", max_variants=k, moq=moq)
            took = time.perf_counter() - start
            print(
                f"aggregate K={k} MOQ={moq}: {took:.1f} s (target < 30 s); "
                f"{len(result.variants)} variants cover {result.covered_quantity:,} of "
                f"{result.total_quantity:,} valid units ({result.share:.1%}) from "
                f"{result.candidates:,} candidates; smallest variant "
                f"{min((v.covered for v in result.variants), default=0):,} units"
            )
        app.close()


if __name__ == "__main__":
    sys.exit(main())
