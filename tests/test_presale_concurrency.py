"""Pre-sale invariants under real concurrent processes sharing one database.

The oversell proof and the idempotency replays run on both backends
(``db_target``): each process opens its own ``C2M`` on the database, as
separate application servers would.
"""

import multiprocessing
import random
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from c2m_core import C2M
from c2m_core.presale.records import COMMITTED, HOLDING, PENDING, PLACED, WAITLISTED
from c2m_core.presale.service import RetryReport

sys.path.insert(0, str(Path(__file__).parent))
import presale_workers  # noqa: E402
from waiting import HANG_SECONDS, join_all  # noqa: E402

TV = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}  # CNY 1,299.00
WORKERS = 6
#: Processes racing for the last units in the oversell proof.
OVERSELL_WORKERS = 8
CAPACITY = 500


def open_presale(db_path, plugins=(), **options):
    with C2M(db_path, plugins=plugins) as app:
        app.campaigns.create("c", "tv", stages=["presale"])
        variant = app.variants.add("c", TV)
        app.campaigns.advance("c")
        app.presale.open("c", "7d", **options)
        return variant.id


def run(target, argument_lists):
    ctx = multiprocessing.get_context("spawn")
    processes = [ctx.Process(target=target, args=args) for args in argument_lists]
    for process in processes:
        process.start()
    return join_all(processes)


@pytest.mark.parametrize("waitlist", [False, True], ids=["refused", "waitlisted"])
def test_capacity_is_never_oversold_by_concurrent_processes(db_target, waitlist):
    db_path = db_target
    variant_id = open_presale(db_path, deposit="10%", capacity=CAPACITY, waitlist=waitlist)
    ctx = multiprocessing.get_context("spawn")
    workers = OVERSELL_WORKERS
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    rng = random.Random(6)
    plans = [[rng.randint(1, 3) for _ in range(38)] for _ in range(workers)]  # ~600 units asked
    exit_codes = run(
        presale_workers.place_until_full,
        [(db_path, "c", variant_id, w, plans[w], barrier, results) for w in range(workers)],
    )
    assert exit_codes == [0] * workers
    reports = [results.get(timeout=HANG_SECONDS) for _ in range(workers)]
    with C2M(db_path) as app:
        pledges = app.presale.pledges("c")
        committed = [p for p in pledges if p.state == COMMITTED]
        waiting = [p for p in pledges if p.state == WAITLISTED]
        assert sum(p.quantity for p in committed) == CAPACITY
        assert not [p for p in pledges if p.state not in (COMMITTED, WAITLISTED)]
        asked = sum(r[1] for r in reports)
        refused = sum(r[2] for r in reports)
        assert asked > CAPACITY
        assert asked == CAPACITY + refused + sum(p.quantity for p in waiting)
        assert (refused == 0) == waitlist and (not waiting) == (not waitlist)
        # every stored pledge that holds units has exactly its one deposit payment, captured once
        payments = {p.pledge_id: p for p in app.presale.payments("c")}
        assert set(payments) == {p.id for p in committed}
        assert all(payments[p.id].amount == p.amounts.deposit for p in committed)
        assert {p.state for p in payments.values()} == {"succeeded"}
        captures = [e for e in app.store.presale.ledger() if e.operation == "capture"]
        assert len(captures) == len(committed)
        assert sum(e.amount.amount for e in captures) == sum(
            p.amounts.deposit.amount for p in committed
        )
        assert app.presale.status("c").variants[0].units_left == 0


def test_one_key_sent_by_many_processes_makes_one_pledge(db_target):
    db_path = db_target
    variant_id = open_presale(db_path, deposit="10%")
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    quantities = [1, 2] * (WORKERS // 2)  # half of them send a different request
    exit_codes = run(
        presale_workers.place_same_key,
        [(db_path, "c", variant_id, q, barrier, results) for q in quantities],
    )
    assert exit_codes == [0] * WORKERS
    answers = [results.get(timeout=HANG_SECONDS) for _ in range(WORKERS)]
    with C2M(db_path) as app:
        [pledge] = app.presale.pledges("c")
        assert len(app.presale.payments("c")) == 1
        captures = [e for e in app.store.presale.ledger() if e.operation == "capture"]
        assert len(captures) == 1
    for quantity, answer in answers:
        assert answer == (pledge.id if quantity == pledge.quantity else "conflict")


def test_a_crash_between_capture_and_record_is_completed_by_retry(tmp_path):
    db_path = tmp_path / "c2m.db"
    variant_id = open_presale(db_path, plugins=[presale_workers.Crashy()], provider="crashy")
    assert run(presale_workers.place_and_crash, [(db_path, "c", variant_id)]) == [3]
    with C2M(db_path, plugins=[presale_workers.Crashy()]) as app:
        [pledge] = app.presale.pledges("c")
        [payment] = app.presale.payments("c")
        assert (pledge.state, payment.state) == (PLACED, PENDING)  # the money moved, unrecorded
        assert app.presale.status("c").variants[0].awaiting_payment_units == 2
        report = app.presale.retry("c")
        assert report.payments_succeeded == 1
        assert app.presale.pledge("c", "crash-key").state == COMMITTED
        captures = [e for e in app.store.presale.ledger() if e.operation == "capture"]
        assert len(captures) == 1  # the retry used the same key: nothing counted twice
        assert app.presale.payments("c")[0].reference == captures[0].reference


def provider_calls(log_path):
    """(pid, operation, key) of every provider call, in order."""
    if not log_path.exists():
        return []
    return [tuple(line.split()) for line in log_path.read_text().splitlines()]


def test_a_process_killed_inside_a_refund_is_completed_by_retry_with_the_same_keys(tmp_path):
    db_path, log_path = tmp_path / "c2m.db", tmp_path / "provider.log"
    variant_id = open_presale(
        db_path, plugins=[presale_workers.Killer(log_path)], provider="killer", deposit="10%",
        threshold=100,
    )  # fmt: skip
    with C2M(db_path, plugins=[presale_workers.Killer(log_path)]) as app:
        for n in range(3):
            app.presale.place("c", variant_id, f"u{n}", 1, f"k{n}")
    before = len(provider_calls(log_path))
    assert run(presale_workers.close_and_die, [(db_path, "c", log_path)]) == [-signal.SIGKILL]
    killed = provider_calls(log_path)[before:]
    assert [operation for _, operation, _ in killed] == ["refund"]  # died in the first one
    with C2M(db_path) as app:
        refunds = app.presale.refunds("c")
        keys = {r.key for r in refunds}
        # the close committed every refund's intent before calling the provider
        assert app.presale.get("c").state == "closed"
        assert [r.state for r in refunds] == ["pending"] * 3
        assert killed[0][2] in keys
    assert run(presale_workers.retry, [(db_path, "c", log_path)]) == [0]
    again = provider_calls(log_path)[before + 1 :]
    assert all(operation == "refund" for _, operation, _ in again)
    assert Counter(key for _, _, key in again) == Counter(keys)  # each at most once more
    with C2M(db_path) as app:
        assert {r.state for r in app.presale.refunds("c")} == {"succeeded"}
        assert {p.state for p in app.presale.pledges("c")} == {"refunded"}
        moved = [e for e in app.store.presale.ledger() if e.operation == "refund"]
        assert sorted(e.key for e in moved) == sorted(keys)  # each refund moved money once
        assert app.presale.retry("c") == RetryReport()


def test_a_process_killed_inside_a_capture_is_completed_by_retry_with_the_same_key(tmp_path):
    db_path, log_path = tmp_path / "c2m.db", tmp_path / "provider.log"
    variant_id = open_presale(
        db_path, plugins=[presale_workers.Killer(log_path)], provider="killer", deposit="10%"
    )
    assert run(presale_workers.place_and_die, [(db_path, "c", variant_id, log_path)]) == [
        -signal.SIGKILL
    ]
    killed = provider_calls(log_path)
    assert [operation for _, operation, _ in killed] == ["authorize", "capture"]
    with C2M(db_path) as app:
        [payment] = app.presale.payments("c")
        assert (payment.state, payment.attempts) == (PENDING, 0)  # intent committed, no outcome
    assert run(presale_workers.retry, [(db_path, "c", log_path)]) == [0]
    again = provider_calls(log_path)[len(killed) :]
    assert Counter(operation for _, operation, _ in again) == {"authorize": 1, "capture": 1}
    assert {key for _, _, key in killed + again} == {payment.key}
    with C2M(db_path) as app:
        assert app.presale.pledge("c", "killed-key").state == COMMITTED
        moved = [e for e in app.store.presale.ledger() if e.operation == "capture"]
        assert [e.key for e in moved] == [payment.key]


def test_counter_equals_recount_after_concurrent_runs(db_target):
    """Pledges placed one by one and in batches, cancelled and promoted by concurrent processes
    leave counter == recount, on both backends."""
    db_path = db_target
    open_presale(db_path, deposit="10%", capacity=40, waitlist=True)
    with C2M(db_path) as app:
        variant_id = app.presale.offers("c")[0].variant_id
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    exit_codes = run(
        presale_workers.place_and_cancel,
        [(db_path, "c", variant_id, w, barrier) for w in range(WORKERS)],
    )
    assert exit_codes == [0] * WORKERS
    with C2M(db_path) as app:
        audit = app.presale.audit("c")
        assert audit.ok, audit
        [variant] = audit.variants
        assert variant.counter <= 40
        assert variant.counter == sum(
            p.quantity for p in app.presale.pledges("c") if p.state in HOLDING
        )


NUMBERING_WORKERS = 4
NUMBERED_PLEDGES = 40


def test_concurrent_pledges_take_ids_of_their_own_and_events_follow_commit_order(db_target):
    """A pledge takes its id and its deposit payment's id with its units (``next_id``), before
    writing them: processes placing at once never take the same ids, so on PostgreSQL each
    process's first pledge is stored in two round trips and every later one in one (it
    reserves against what the first read and with the ids the one before took: none falls
    back after losing its ids or its reserve to another writer), every record and event names
    the ids it was stored with, and a reader following the event cursor meanwhile sees each
    event once, in id order."""
    variant_id = open_presale(db_target, deposit="10%")
    ctx = multiprocessing.get_context("spawn")
    barrier, results, done = ctx.Barrier(NUMBERING_WORKERS + 1), ctx.Queue(), ctx.Event()
    placing = [
        ctx.Process(
            target=presale_workers.place_numbered,
            args=(db_target, "c", variant_id, w, NUMBERED_PLEDGES, barrier, results),
        )
        for w in range(NUMBERING_WORKERS)
    ]
    reader = ctx.Process(
        target=presale_workers.follow_events, args=(db_target, done, barrier, results)
    )
    for process in [*placing, reader]:
        process.start()
    exit_codes = join_all(placing)
    done.set()
    assert exit_codes == [0] * NUMBERING_WORKERS
    reports = [results.get(timeout=HANG_SECONDS) for _ in range(NUMBERING_WORKERS + 1)]
    assert join_all([reader]) == [0]
    [read] = [r for r in reports if not isinstance(r, tuple)]
    placed = [r for r in reports if isinstance(r, tuple)]
    with C2M(db_target) as app:
        pledges = {p.id: p for p in app.presale.pledges("c")}
        assert sorted(pledges) == sorted(i for ids, _ in placed for i in ids)
        assert len(pledges) == NUMBERING_WORKERS * NUMBERED_PLEDGES
        assert {p.state for p in pledges.values()} == {COMMITTED}
        payments = {p.id: p for p in app.presale.payments("c")}
        assert sorted(p.pledge_id for p in payments.values()) == sorted(pledges)
        for payment in payments.values():
            assert payment.key == f"c2m:c:{payment.pledge_id}:deposit"
        captures = [e for e in app.store.presale.ledger() if e.operation == "capture"]
        assert sorted(e.pledge_id for e in captures) == sorted(pledges)
        assert all(e.key == f"c2m:c:{e.pledge_id}:deposit" for e in captures)
        events = [e for e in app.store.events_since(0, limit=10_000) if e.campaign_id]
        events = [e for e in events if e.type.startswith(("pledge.", "payment."))]
        assert read == [e.id for e in events] == sorted(set(read))
        for event in events:
            pledge = pledges[event.payload["pledge_id"]]
            assert event.payload["key"] == pledge.key
            if event.type == "payment.succeeded":
                assert payments[event.payload["payment_id"]].pledge_id == pledge.id
        assert Counter(e.type for e in events) == {
            "pledge.placed": len(pledges),
            "payment.succeeded": len(pledges),
            "pledge.committed": len(pledges),
        }
    if placed[0][1] is not None:  # a store that counts its round trips (PostgreSQL)
        assert [trips for _, trips in placed] == [NUMBERED_PLEDGES + 1] * NUMBERING_WORKERS
