"""Pledges per second: 1 and 4 writer processes, ``place_many`` batches, a full variant.

Each pledge is the whole safe path with the default ``ledger`` provider: one ``BEGIN IMMEDIATE``
transaction that checks the key and the pre-sale, reserves the units with the guarded counter
update, writes the pledge (committed, its two opening transitions in its row), one ledger row
for its deposit's authorization and capture, its deposit payment (written once, succeeded: the
ledger captures before the payment row is written) and its three events. Three floors, measured
in the same run with the same number of processes on a file with the same pragmas as c2m's
store (WAL, synchronous FULL: a commit is on disk when it returns):

Each figure is the median of three rounds that alternate c2m and its floors.

- ``one-row insert``: plain ``sqlite3`` ``BEGIN IMMEDIATE`` transactions inserting one row each;
- ``same writes``: plain ``sqlite3`` making exactly the writes c2m makes for each pledge (the
  counter update and the inserts, payloads of the same length), in the same tables, one
  transaction each (for ``place_many``, one transaction per batch with multi-row inserts),
  without any of c2m's checks;
- ``minimal writes``: plain ``sqlite3`` writing the least any pledge must record (the counter,
  the pledge row with its unique key, one event), the same way. Its own ratio against the
  one-row insert is the most any pledge path could reach against that floor on this machine.

One more row per case shows what durability costs: the one-row insert with synchronous
NORMAL, which may lose its last commits to a power cut (c2m does not run that way).

``WAL pages written per pledge`` counts what the load cannot move: the pages each commit writes
to the WAL (each a write to the file) and the statements run, for c2m and every floor.

``at 100,000 pledges`` places pledges on a variant that already holds 100,000 and on an empty
one, alternately, three times each; the ratio is the median rate on the full variant over the
median on the empty one (at least 0.8 means within 20%). Each commit waits for the disk, whose
speed on a shared machine moves from one second to the next; the CPU-time row beside it (the
writer's own, median of the same runs) shows what the campaign's size costs without that.
"""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import statistics
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
BATCH = 100


def _pledge_worker(db_path, variant_id, worker, count, batch, barrier, results):
    with C2M(db_path) as app:
        app.campaigns.get("bench")  # open the store (and its migrations) before timing
        barrier.wait()
        start, cpu = time.time(), time.process_time()
        if batch:
            for first in range(0, count, batch):
                app.presale.place_many(
                    "bench",
                    [
                        {
                            "variant_id": variant_id,
                            "customer": f"c{worker}",
                            "quantity": 1,
                            "key": f"w{worker}-{index}",
                        }
                        for index in range(first, min(first + batch, count))
                    ],
                )
        else:
            for index in range(count):
                app.presale.place("bench", variant_id, f"c{worker}", 1, f"w{worker}-{index}")
        results.put((start, time.time(), time.process_time() - cpu))


def _floor_worker(db_path, synchronous, worker, count, batch, barrier, results):
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    barrier.wait()
    start = time.time()
    for index in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (worker, n) VALUES (?, ?)", [worker, index])
        conn.execute("COMMIT")
    results.put((start, time.time()))
    conn.close()


_NOW = "2026-11-27T12:00:00.000000+00:00"
_FINGERPRINT = "5f" * 32
#: Payloads as long as c2m's for these pledges (``pledge.placed`` carries the whole pledge).
_PLACED = (
    '{"balance": 116910, "campaign": "bench", "campaign_id": 1, "created_at": "%s", '
    '"credit_per_unit": 12990, "currency": "CNY", "customer": "c", "deposit": 12990, '
    '"deposit_per_unit": 12990, "fingerprint": "%s", "id": %d, "key": "%s", '
    '"personalisation": [], "pledge_id": %d, "quantity": 1, "region": null, '
    '"state": "placed", "total": 129900, "unit_price": 129900, "updated_at": "%s", '
    '"variant_id": %d}'
)
_CAPTURED = (
    '{"amount": 12990, "campaign": "bench", "customer": "c", "key": "%s", "kind": "deposit", '
    '"payment_id": %d, "pledge_id": %d, "reference": "ledger-capture-c2m:bench:%d:deposit", '
    '"variant_id": %d}'
)
_COMMITTED = (
    '{"campaign": "bench", "customer": "c", "key": "%s", "pledge_id": %d, "variant_id": %d}'
)
_OPENING = '[[null, "placed", "pledged"], ["placed", "committed", "deposit captured"]]'


def _counter(conn, variant_id: int, n: int) -> None:
    conn.execute(
        "UPDATE presale_offers SET held = held + ? WHERE variant_id = ? "
        "AND (capacity IS NULL OR held + ? <= capacity)",
        [n, variant_id, n],
    )


def _same_writes(conn, variant_id: int, keys: list[str]) -> None:
    """Exactly the rows c2m writes for these pledges (one transaction), with plain sqlite3: the
    counter, the pledges (their opening transitions in the row), one ledger row per capture,
    the deposit payments and three events each, as multi-row inserts."""
    n = len(keys)
    conn.execute("BEGIN IMMEDIATE")
    _counter(conn, variant_id, n)
    rows = conn.execute(
        "INSERT INTO pledges (campaign_id, variant_id, customer, quantity, region, "
        "idempotency_key, fingerprint, state, currency, unit_price, deposit_per_unit, "
        "credit_per_unit, created_at, updated_at, opening) VALUES "
        + ", ".join(
            ["(1, ?, 'c', 1, NULL, ?, ?, 'committed', 'CNY', 129900, 12990, 12990, ?, ?, ?)"] * n
        )
        + " RETURNING id",
        [v for key in keys for v in (variant_id, key, _FINGERPRINT, _NOW, _NOW, _OPENING)],
    ).fetchall()
    ids = [r[0] for r in rows]
    pay_keys = [f"c2m:bench:{i}:deposit" for i in ids]
    conn.execute(
        "INSERT INTO payment_ledger (provider, operation, idempotency_key, campaign_id, "
        "pledge_id, amount, currency, reference, authorize_reference, created_at) VALUES "
        + ", ".join(["('ledger', 'capture', ?, 1, ?, 12990, 'CNY', ?, ?, ?)"] * n),
        [v for i, key in zip(ids, pay_keys, strict=True)
         for v in (key, i, f"ledger-capture-{key}", f"ledger-authorize-{key}", _NOW)],
    )  # fmt: skip
    payment_ids = conn.execute(
        "INSERT INTO payments (pledge_id, campaign_id, kind, amount, currency, provider, "
        "idempotency_key, state, attempts, authorization, reference, created_at, updated_at) "
        "VALUES "
        + ", ".join(["(?, 1, 'deposit', 12990, 'CNY', 'ledger', ?, 'succeeded', 1, ?, ?, ?, ?)"]
                    * n)
        + " RETURNING id",
        [v for i, key in zip(ids, pay_keys, strict=True)
         for v in (i, key, f"ledger-authorize-{key}", f"ledger-capture-{key}", _NOW, _NOW)],
    ).fetchall()  # fmt: skip
    events = []
    for i, key, (payment_id,) in zip(ids, keys, payment_ids, strict=True):
        events += [
            ("pledge.placed", _PLACED % (_NOW, _FINGERPRINT, i, key, i, _NOW, variant_id)),
            ("payment.succeeded", _CAPTURED % (key, payment_id, i, i, variant_id)),
            ("pledge.committed", _COMMITTED % (key, i, variant_id)),
        ]
    conn.executemany(
        "INSERT INTO events (type, campaign_id, payload, created_at) VALUES (?, 1, ?, ?)",
        [(kind, payload, _NOW) for kind, payload in events],
    )
    conn.execute("COMMIT")


def _minimal_writes(conn, variant_id: int, keys: list[str]) -> None:
    """The least any pledge must record, with plain sqlite3: the counter, the pledge row (with
    its unique key) and one event, in one transaction."""
    n = len(keys)
    conn.execute("BEGIN IMMEDIATE")
    _counter(conn, variant_id, n)
    rows = conn.execute(
        "INSERT INTO pledges (campaign_id, variant_id, customer, quantity, region, "
        "idempotency_key, fingerprint, state, currency, unit_price, deposit_per_unit, "
        "credit_per_unit, created_at, updated_at) VALUES "
        + ", ".join(
            ["(1, ?, 'c', 1, NULL, ?, ?, 'committed', 'CNY', 129900, 12990, 12990, ?, ?)"] * n
        )
        + " RETURNING id",
        [v for key in keys for v in (variant_id, key, _FINGERPRINT, _NOW, _NOW)],
    ).fetchall()
    conn.executemany(
        "INSERT INTO events (type, campaign_id, payload, created_at) VALUES (?, 1, ?, ?)",
        [("pledge.placed", _PLACED % (_NOW, _FINGERPRINT, i, key, i, _NOW, variant_id), _NOW)
         for (i,), key in zip(rows, keys, strict=True)],
    )  # fmt: skip
    conn.execute("COMMIT")


FLOORS = {"same": _same_writes, "minimal": _minimal_writes}


def _writes_worker(db_path, writes, variant_id, worker, count, batch, barrier, results):
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA synchronous = FULL")
    barrier.wait()
    start = time.time()
    step = batch or 1
    write = FLOORS[writes]
    for first in range(0, count, step):
        write(conn, variant_id, [f"w{worker}-{i}" for i in range(first, min(first + step, count))])
    results.put((start, time.time()))
    conn.close()


def _timed(target, arguments: list[tuple]) -> float:
    """Wall time from the first writer's start to the last writer's end (one writer per tuple)."""
    spans = _spans(target, arguments)
    return max(span[1] for span in spans) - min(span[0] for span in spans)


def _spans(target, arguments: list[tuple]) -> list[tuple]:
    """What each writer reported (its start and end, and what else it measures); one writer
    per tuple of arguments, all started together."""
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
    return spans


def _presale_db(folder: Path, total: int, already: int = 0) -> tuple[Path, int]:
    db_path = folder / "presale.db"
    with C2M(db_path) as app:
        app.campaigns.create("bench", "tv", stages=["presale"])
        variant = app.variants.add("bench", TV)
        app.campaigns.advance("bench")
        app.presale.open("bench", "7d", deposit="10%", capacity=total + already)
        for first in range(0, already, 500):
            app.presale.place_many(
                "bench",
                [
                    {"variant_id": variant.id, "customer": "before", "quantity": 1,
                     "key": f"before-{i}"}
                    for i in range(first, min(first + 500, already))
                ],
            )  # fmt: skip
    assert variant.id is not None
    return db_path, variant.id


def _floor_db(folder: Path) -> Path:
    db_path = folder / "floor.db"
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, worker INTEGER, n INTEGER)")
    conn.commit()
    conn.close()
    return db_path


def _run_case(folder: Path, writers: int, total: int, batch: int, already: int = 0):
    """Median seconds for ``total`` pledges over ``ROUNDS`` rounds: c2m, then the floors
    (one-row insert, durable and not, same writes, minimal writes), each on its own copy of the
    database, with the same writers. Alternating them round after round lets each see the same
    disk: a commit waits for its sync, whose latency on a shared machine moves by the second."""
    per_writer = total // writers
    seconds: dict[str, list[float]] = {}
    for round_ in range(ROUNDS):
        here = folder / str(round_)
        here.mkdir()
        db_path, variant_id = _presale_db(here, total, already)
        copies = {}
        for name in FLOORS:
            copies[name] = here / f"{name}.db"
            shutil.copy(db_path, copies[name])  # same schema, same rows already there
        floor_path = _floor_db(here)
        found = {
            "c2m": _timed(
                _pledge_worker,
                [(db_path, variant_id, w, per_writer, batch) for w in range(writers)],
            ),
            "floor": _timed(
                _floor_worker,
                [(floor_path, "FULL", w, per_writer, batch) for w in range(writers)],
            ),
            "normal": _timed(
                _floor_worker,
                [(floor_path, "NORMAL", w, per_writer, batch) for w in range(writers)],
            ),
        }
        for name, path in copies.items():
            found[name] = _timed(
                _writes_worker,
                [(path, name, variant_id, w, per_writer, batch) for w in range(writers)],
            )
        for name, value in found.items():
            seconds.setdefault(name, []).append(value)
    floors = {name: statistics.median(values) for name, values in seconds.items()}
    return floors.pop("c2m"), floors.pop("floor"), floors


def _writes_per_pledge(folder: Path, count: int) -> dict[str, tuple[float, float]]:
    """(WAL pages written, statements run) per pledge for c2m and both floors, one writer.

    What the machine's load cannot move: each connection's WAL is emptied first and not
    checkpointed while it runs, so its frame count is the pages its commits wrote.
    """

    def measure(conn, work) -> tuple[float, float]:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        statements = [0]
        conn.set_trace_callback(lambda _: statements.__setitem__(0, statements[0] + 1))
        for index in range(count):
            work(index)
        conn.set_trace_callback(None)
        frames = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        return frames / count, statements[0] / count

    db_path, variant_id = _presale_db(folder, count + 1)
    same_path = folder / "same.db"
    shutil.copy(db_path, same_path)
    found = {}
    with C2M(db_path) as app:
        app.presale.place("bench", variant_id, "c", 1, "warm-up")
        found["c2m"] = measure(
            app.store.db.conn,
            lambda i: app.presale.place("bench", variant_id, "c", 1, f"k{i}"),
        )
    for name, write in FLOORS.items():
        conn = sqlite3.connect(same_path, isolation_level=None)
        found[name] = measure(
            conn,
            lambda i, write=write, conn=conn, name=name: write(conn, variant_id, [f"{name}{i}"]),
        )
        conn.close()
    floor = sqlite3.connect(_floor_db(folder), isolation_level=None)

    def insert(index: int) -> None:
        floor.execute("BEGIN IMMEDIATE")
        floor.execute("INSERT INTO t (worker, n) VALUES (?, ?)", [0, index])
        floor.execute("COMMIT")

    found["floor"] = measure(floor, insert)
    floor.close()
    return found


def run(quick: bool = False) -> list[Row]:
    total = 40 if quick else 2000
    already = 500 if quick else 100_000
    rows = []
    cases = [
        ("pledge placed, deposit captured (1 writer)", 1, 0, 0),
        ("pledge placed, deposit captured (4 writers)", 4, 0, 0),
        (f"place_many, batches of {BATCH} (1 writer)", 1, BATCH, 0),
        (f"place_many, batches of {BATCH} (4 writers)", 4, BATCH, 0),
    ]
    for operation, writers, batch, before in cases:
        count = total * (5 if batch else 1)
        with tempfile.TemporaryDirectory() as folder:
            pledging, floor, floors = _run_case(Path(folder), writers, count, batch, before)
        done = (count // writers) * writers
        rows.append(
            Row(
                operation,
                f"{done} pledges x {ROUNDS}",
                fmt_rate(done / pledging, "pledges"),
                f"one-row insert {fmt_rate(done / floor, 'inserts')}",
                floor / pledging,
            )
        )
        rows.append(
            Row(
                operation,
                f"{done} pledges x {ROUNDS}",
                fmt_rate(done / pledging, "pledges"),
                "one-row insert, synchronous NORMAL (not durable) "
                + fmt_rate(done / floors["normal"], "inserts"),
                floors["normal"] / pledging,
            )
        )
        for name, label in (("same", "same writes"), ("minimal", "minimal writes")):
            rows.append(
                Row(
                    operation,
                    f"{done} pledges x {ROUNDS}",
                    fmt_rate(done / pledging, "pledges"),
                    f"sqlite3, {label} {fmt_rate(done / floors[name], 'pledges')}",
                    floors[name] / pledging,
                )
            )
        rows.append(
            Row(
                f"{operation}: minimal writes against the one-row insert",
                f"{done} pledges x {ROUNDS}",
                f"minimal writes {fmt_rate(done / floors['minimal'], 'pledges')}",
                f"one-row insert {fmt_rate(done / floor, 'inserts')}",
                floor / floors["minimal"],
            )
        )
    with tempfile.TemporaryDirectory() as folder:
        writes = _writes_per_pledge(Path(folder), total)
    pages, statements = writes["c2m"]
    for name, label in (
        ("floor", "one-row insert"),
        ("same", "sqlite3, same writes"),
        ("minimal", "sqlite3, minimal writes"),
    ):
        floor_pages, floor_statements = writes[name]
        rows.append(
            Row(
                "WAL pages written per pledge (1 writer; statements in brackets)",
                f"{total} pledges",
                f"{pages:.1f} pages ({statements:.1f})",
                f"{label} {floor_pages:.1f} pages ({floor_statements:.1f})",
                floor_pages / pages,
            )
        )
    with tempfile.TemporaryDirectory() as folder:
        medians = _full_against_empty(Path(folder), total, already)
    full, empty = medians["wall"]
    rows.append(
        Row(
            f"pledge rate at {already:,} pledges vs an empty variant (1 writer, alternated)",
            f"{total} pledges x {ROUNDS}",
            fmt_rate(total / full, "pledges"),
            f"empty variant {fmt_rate(total / empty, 'pledges')}",
            empty / full,
        )
    )
    full, empty = medians["cpu"]
    rows.append(
        Row(
            f"pledge CPU time at {already:,} pledges vs an empty variant (1 writer, alternated)",
            f"{total} pledges x {ROUNDS}",
            f"{full / total * 1e6:,.0f} us/pledge",
            f"empty variant {empty / total * 1e6:,.0f} us/pledge",
            empty / full,
        )
    )
    return rows


ROUNDS = 3


def _full_against_empty(folder: Path, total: int, already: int) -> dict[str, tuple]:
    """Medians for ``total`` pledges on a variant holding ``already`` and on an empty one, the
    runs alternated ``ROUNDS`` times so both see the same machine load: ``"wall"`` seconds and
    ``"cpu"`` seconds of the writer's own CPU time, each as (full, empty)."""
    (folder / "full").mkdir()
    (folder / "empty").mkdir()
    full_db, full_variant = _presale_db(folder / "full", total * ROUNDS, already)
    empty_db, empty_variant = _presale_db(folder / "empty", total * ROUNDS)
    found: dict[str, list] = {"full": [], "empty": []}
    for round_ in range(ROUNDS):
        for name, args in (("full", (full_db, full_variant)), ("empty", (empty_db, empty_variant))):
            [span] = _spans(_pledge_worker, [(*args, round_, total, 0)])
            found[name].append(span)
    return {
        measure: tuple(
            statistics.median(cost(span) for span in found[name]) for name in ("full", "empty")
        )
        for measure, cost in (("wall", lambda s: s[1] - s[0]), ("cpu", lambda s: s[2]))
    }


if __name__ == "__main__":
    from .__main__ import print_rows

    print_rows(run())
