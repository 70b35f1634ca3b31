"""Pledges per second on PostgreSQL with 1 and 8 processes over 4 variants.

Units are reserved in two ways, each run on its own fresh database in the same run:
``counter update`` (one guarded ``UPDATE ... WHERE held + n <= capacity``, c2m's default) and
``row lock`` (``SELECT ... FOR UPDATE`` of the variant's row, a check in Python, then an
``UPDATE``; ``PresaleStore.RESERVE = "row_lock"``).

Each process acts as a separate application server: its own ``C2M`` on the
``postgresql://`` URL, its own connection, nothing shared in Python, connected and with the
pre-sale service imported before the timing starts (a server's start-up is not a pledge's
cost: where no bytecode cache is written, ``PYTHONDONTWRITEBYTECODE``, compiling the service
on the first pledge cost each of 8 processes about 70 us a pledge). Worker ``w``'s ``i``-th
pledge is for variant ``(w + i) % 4``, so one process spreads over the 4 variants as 8 do; each
pledge is the whole safe path (reserve the units with the store's
guarded update, write the pledge, its payment intent and event; the ``ledger`` provider's
authorize and capture; record the outcome). Capacities are set below the demand so that
variants sell out under the race, and after the run no variant may hold more units than its
capacity, and the store's counters must agree with a recount of the pledges.

The floor is plain psycopg: the same number of processes each running single-row
``INSERT`` transactions (one round trip each, autocommit) on the same server in the same run.
The floor and the two ways run alternately ``ROUNDS`` times, each on a fresh database; each
figure is the median of its runs (the machine's load moves single runs several-fold).

The server is a throwaway one started for the run (``tests/pg_server.py``, with fsync and
synchronous commit on as in production), or the one at ``$C2M_BENCH_POSTGRES`` (a URL of a
database whose role may ``CREATE DATABASE``).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

import attrs

from c2m_core import C2M
from c2m_core.errors import SoldOut
from c2m_core.store.maintenance import integrity_problems
from c2m_core.store.presale import COUNTER, ROW_LOCK

from .common import Row, fmt_rate

VARIANTS = 4
ENV = "C2M_BENCH_POSTGRES"
#: How each run reserves units (``PresaleStore.RESERVE``), as its row names it.
LABELS = {COUNTER: "counter update", ROW_LOCK: "row lock"}
#: Runs of the floor and of each way, alternated; each figure is the median of its runs.
ROUNDS = 3


def _backend_seconds(pid: int) -> float | None:
    """CPU seconds used so far by the server process ``pid``; None when it cannot be read
    (a server on another machine)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> tuple[float, float | None]:
    """This process's CPU seconds and those of its server process ``pid``."""
    return time.process_time(), _backend_seconds(pid)


def _report(results, start: float, cpu_before, sold_out: int, pid: int, trips) -> None:
    client, server = _cpu(pid)
    client -= cpu_before[0]
    if server is not None and cpu_before[1] is not None:
        server -= cpu_before[1]
    else:
        server = float("nan")
    results.put((start, time.time(), sold_out, client + server, *trips, client))


def _pledge_worker(url, variant_ids, worker, count, reserve, barrier, results):
    sold_out = 0
    with C2M(url) as app:
        app.store.presale.RESERVE = reserve
        app.presale.get("bench")  # connect and import the pre-sale service before timing
        pid = app.store.conn.info.backend_pid
        barrier.wait()
        store = app.store
        start, before = time.time(), _cpu(pid)
        trips = (store.round_trips, store.statements)
        for index in range(count):
            try:
                variant_id = variant_ids[(worker + index) % len(variant_ids)]
                app.presale.place("bench", variant_id, f"c{worker}", 1, f"w{worker}-{index}")
            except SoldOut:
                sold_out += 1
        trips = (store.round_trips - trips[0], store.statements - trips[1])
        _report(results, start, before, sold_out, pid, trips)


def _floor_worker(url, worker, count, barrier, results):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        pid = conn.info.backend_pid
        barrier.wait()
        start, before = time.time(), _cpu(pid)
        for index in range(count):
            conn.execute("INSERT INTO t (worker, n) VALUES (%s, %s)", [worker, index])
        _report(results, start, before, 0, pid, (count, count))


@attrs.frozen
class Timed:
    """One run of writers: wall seconds from the first start to the last end, the pledges
    refused as sold out, the CPU seconds of the writers and their server processes (NaN when
    not readable), the round trips and statements they sent, the WAL bytes written, and the
    writers' own CPU seconds (the rest of ``cpu`` is their server processes')."""

    seconds: float
    refused: int
    cpu: float
    round_trips: int
    statements: int
    wal: int
    client: float


def _wal_position(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]


def _wal_since(url: str, position: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return int(
            conn.execute(
                "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)", [position]
            ).fetchone()[0]
        )


def _timed(target, url: str, arguments: list[tuple]) -> Timed:
    """Run ``target`` in one process per argument tuple, all on database ``url``."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(arguments)), ctx.Queue()
    processes = [ctx.Process(target=target, args=(*args, barrier, results)) for args in arguments]
    wal = _wal_position(url)
    for process in processes:
        process.start()
    spans = [results.get(timeout=900) for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode:
            raise RuntimeError(f"a benchmark writer failed with exit code {process.exitcode}")
    return Timed(
        max(span[1] for span in spans) - min(span[0] for span in spans),
        *(sum(span[field] for span in spans) for field in (2, 3, 4, 5)),
        _wal_since(url, wal),
        sum(span[6] for span in spans),
    )


def _tv_variants(app: C2M, count: int) -> list[dict]:
    """``count`` valid, complete TV configurations."""
    catalog = app.category("tv").catalog
    choices = [[(m.id, o.id) for o in m.options] for m in catalog.modules]
    found = []
    for combination in itertools.product(*choices):
        configuration = dict(combination)
        if not app.validate("tv", configuration):
            found.append(configuration)
            if len(found) == count:
                return found
    raise RuntimeError("the TV catalog has too few valid configurations")


def _presale(url: str, capacity: int) -> list[int]:
    with C2M(url) as app:
        app.campaigns.create("bench", "tv", stages=["presale"])
        ids = [app.variants.add("bench", c).id for c in _tv_variants(app, VARIANTS)]
        app.campaigns.advance("bench")
        app.presale.open("bench", "7d", deposit="10%", capacity=capacity)
    return ids


def _check_no_oversell(url: str, capacity: int) -> int:
    """Units held per variant never exceed the capacity; the total held."""
    with C2M(url) as app:
        status = app.presale.status("bench")
        held = 0
        for variant in status.variants:
            units = variant.committed_units
            if units > capacity:
                raise AssertionError(f"variant {variant.variant_id} oversold: {units}")
            held += units
        problems = integrity_problems(app.store)
        if problems:
            raise AssertionError(f"store check failed after the run: {problems}")
    return held


@contextlib.contextmanager
def _databases():
    """Yields ``fresh()`` -> URL of a new migrated database, on a server for the run."""
    from c2m_core.store import open_store

    given = os.environ.get(ENV)
    if given:
        import psycopg

        names = itertools.count(1)

        def fresh_given() -> str:
            name = f"c2m_bench_{os.getpid()}_{next(names)}"
            with psycopg.connect(given, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
                conn.execute(f"CREATE DATABASE {name}")
            return urllib.parse.urlunsplit(urllib.parse.urlsplit(given)._replace(path=f"/{name}"))

        yield fresh_given
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pg_server import start_server  # type: ignore[import-not-found]

    server = start_server(durable=True)
    try:
        server.create_template(lambda url: open_store(url).close())

        def fresh() -> str:
            return server.url(server.create_database())

        yield fresh
    finally:
        server.stop()


def _pledge_run(fresh, writers: int, per_writer: int, reserve: str) -> Timed:
    """``per_writer`` pledges from each of ``writers`` processes on a fresh pre-sale, timed;
    checks there was no oversell."""
    capacity = per_writer * writers * 9 // 10 // VARIANTS  # some pledges must sell out
    url = fresh()
    variant_ids = _presale(url, capacity)
    timed = _timed(
        _pledge_worker, url, [(url, variant_ids, w, per_writer, reserve) for w in range(writers)]
    )
    held = _check_no_oversell(url, capacity)
    placed = per_writer * writers - timed.refused
    if held != placed:
        raise AssertionError(f"{placed} pledges placed but {held} units held")
    return timed


def run(quick: bool = False) -> list[Row]:
    import psycopg

    attempts = 200 if quick else 2000
    rounds = 1 if quick else ROUNDS
    rows = []
    with _databases() as fresh:
        for writers in (1, 8):
            per_writer = attempts // writers
            floor_url = fresh()
            with psycopg.connect(floor_url, autocommit=True) as conn:
                conn.execute(
                    "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                    "worker BIGINT, n BIGINT)"
                )
            # the floor and both ways alternated, so all three see about the same load
            floors: list[Timed] = []
            runs: dict[str, list[Timed]] = {COUNTER: [], ROW_LOCK: []}
            for _ in range(rounds):
                floors.append(
                    _timed(
                        _floor_worker,
                        floor_url,
                        [(floor_url, w, per_writer) for w in range(writers)],
                    )
                )
                for reserve in runs:
                    runs[reserve].append(_pledge_run(fresh, writers, per_writer, reserve))
            floor = statistics.median(t.seconds for t in floors)
            floor_cpu = statistics.median(t.cpu for t in floors)
            refused = runs[COUNTER][-1].refused
            done = per_writer * writers
            where = f"{writers} process{'es' if writers > 1 else ''}, {VARIANTS} variants"
            for reserve, timed in runs.items():
                pledging = statistics.median(t.seconds for t in timed)
                rows.append(
                    Row(
                        f"PostgreSQL pledge, deposit captured, {LABELS[reserve]} ({where})",
                        f"{done} pledges ({refused} sold out) x {rounds}",
                        fmt_rate(done / pledging, "pledges"),
                        f"psycopg single-row insert {fmt_rate(done / floor, 'inserts')}",
                        floor / pledging,
                    )
                )
            cpu = statistics.median(t.cpu for t in runs[COUNTER])
            if cpu == cpu:  # not NaN: the server's processes could be read
                client = statistics.median(t.client for t in runs[COUNTER]) / done * 1e6
                floor_client = statistics.median(t.client for t in floors) / done * 1e6
                rows.append(
                    Row(
                        f"PostgreSQL pledge CPU time, client + server, {LABELS[COUNTER]} ({where})",
                        f"{done} pledges x {rounds}",
                        f"{cpu / done * 1e6:,.0f} us/pledge (client {client:,.0f})",
                        f"psycopg single-row insert {floor_cpu / done * 1e6:,.0f} us/insert "
                        f"(client {floor_client:,.0f})",
                        floor_cpu / cpu,
                    )
                )
            if writers == 1:  # the same per pledge with 8; load cannot move these
                counted = runs[COUNTER][-1]
                rows.append(
                    Row(
                        f"PostgreSQL pledge round trips (statements), {LABELS[COUNTER]} ({where})",
                        f"{done} pledges ({counted.refused} sold out)",
                        f"{counted.round_trips / done:.1f} ({counted.statements / done:.1f})",
                        "psycopg single-row insert 1.0 (1.0)",
                        done / counted.round_trips,
                    )
                )
                floor_wal = statistics.median(t.wal for t in floors) / done
                rows.append(
                    Row(
                        f"PostgreSQL pledge WAL written, {LABELS[COUNTER]} ({where})",
                        f"{done} pledges",
                        f"{counted.wal / done:,.0f} bytes/pledge",
                        f"psycopg single-row insert {floor_wal:,.0f} bytes/insert",
                        floor_wal * done / counted.wal,
                    )
                )
    return rows


if __name__ == "__main__":
    from .__main__ import print_rows

    print_rows(run())
