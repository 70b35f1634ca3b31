"""Contract: the pre-sale area (``store.presale``), as ``presale_interface.PresaleArea`` states it.

Capacity under concurrent writers, the pledge state machine, exactly-once outcomes and records
(never rows) across the boundary, for every store implementation.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from pathlib import Path

import pytest

from c2m_core.campaigns.records import Campaign
from c2m_core.money import Money
from c2m_core.presale.pricing import CancellationRule, DepositRule
from c2m_core.presale.records import (
    CANCELLED,
    COMMITTED,
    HOLDING,
    INITIAL_STATES,
    PLACED,
    PLEDGE_STATES,
    TRANSITIONS,
    WAITLISTED,
    HeldAudit,
    IllegalPledgeTransition,
    LedgerEntry,
    Offer,
    Pledge,
    Presale,
    SoldOut,
    StateUnits,
)
from c2m_core.store.presale import COUNTER, ROW_LOCK
from c2m_core.store.presale_interface import PresaleArea
from c2m_core.variants.records import Variant

sys.path.insert(0, str(Path(__file__).parent.parent))
import presale_workers  # noqa: E402

DEADLINE = "2030-01-08T12:00:00.000000+00:00"


def on_sale(store, capacity=None, slug="c", variants=1):
    """A campaign with an open pre-sale on ``variants`` variants; returns (campaign id, offers)."""
    with store.transaction():
        campaign = store.campaigns.insert(
            Campaign(None, slug, "mini", slug, "EUR", ("presale",), state="presale")
        )
        store.presale.insert_presale(
            Presale(
                campaign.id, "open", DEADLINE, "ledger", DepositRule(basis_points=10_000),
                CancellationRule(), False, store.now(),
            )
        )  # fmt: skip
        offers = []
        for n in range(variants):
            variant = store.variants.insert(Variant(None, campaign.id, f"v{n}", f"v{n}", {}))
            offers.append(
                store.presale.insert_offer(
                    Offer(
                        None, campaign.id, variant.id, n + 1, "EUR", 1000, 1000, 1000, 5, capacity
                    )
                )  # fmt: skip
            )
    return campaign.id, offers


def pledge(offer, key, quantity=1, state=PLACED):
    return Pledge(
        None, offer.campaign_id, offer.variant_id, "ann", quantity, None, key, "f" + key, state,
        "EUR", 1000, 1000, 1000,
    )  # fmt: skip


def test_the_sqlite_area_has_every_operation_of_the_interface(store):
    assert isinstance(store.presale, PresaleArea)


def test_placed_pledges_reserve_capacity_and_sold_out_stores_nothing(store):
    campaign_id, [offer] = on_sale(store, capacity=5)
    store.presale.insert_pledge(pledge(offer, "a", 3), "pledged")
    with pytest.raises(SoldOut) as refused:
        store.presale.insert_pledge(pledge(offer, "b", 3), "pledged")
    assert refused.value.units_left == 2
    assert store.presale.pledge_by_key(campaign_id, "b") is None
    waiting = store.presale.insert_pledge(pledge(offer, "b", 3, WAITLISTED), "over capacity")
    assert waiting.state == WAITLISTED  # waiting holds nothing
    store.presale.insert_pledge(pledge(offer, "c", 2), "pledged")
    [current] = store.presale.offers(campaign_id)
    assert (current.held, current.units_left) == (5, 0)
    assert store.presale.audit(campaign_id) == [HeldAudit(offer.variant_id, 5, 5, 5)]
    assert store.presale.units_by_state(campaign_id) == [
        StateUnits(offer.variant_id, PLACED, 2, 5),
        StateUnits(offer.variant_id, WAITLISTED, 1, 3),
    ]


def test_no_capacity_means_no_limit(store):
    campaign_id, [offer] = on_sale(store, capacity=None)
    store.presale.insert_pledge(pledge(offer, "a", 10_000), "pledged")
    assert store.presale.offers(campaign_id)[0].units_left is None
    assert store.presale.audit(campaign_id)[0].ok


def test_a_pledge_starts_only_in_an_initial_state(store):
    _, [offer] = on_sale(store)
    for state in PLEDGE_STATES:
        if state in INITIAL_STATES:
            assert store.presale.insert_pledge(pledge(offer, state, 1, state), "x").state == state
        else:
            with pytest.raises(IllegalPledgeTransition):
                store.presale.insert_pledge(pledge(offer, state, 1, state), "x")


def _paths() -> dict[str, list[str]]:
    """The shortest legal path to each state from an initial state (breadth first)."""
    paths = {state: [state] for state in INITIAL_STATES}
    queue = deque(INITIAL_STATES)
    while queue:
        state = queue.popleft()
        for nxt in TRANSITIONS[state]:
            if nxt not in paths:
                paths[nxt] = [*paths[state], nxt]
                queue.append(nxt)
    return paths


def test_the_store_accepts_exactly_the_transitions_of_the_table(store):
    """Every (from, to) pair: accepted iff in ``TRANSITIONS``; a refusal changes nothing."""
    campaign_id, [offer] = on_sale(store)
    paths = _paths()
    assert set(paths) == set(PLEDGE_STATES)  # every state is reachable, so every pair is tried
    accepted = set()
    for old in PLEDGE_STATES:
        for new in PLEDGE_STATES:
            path = paths[old]
            made = store.presale.insert_pledge(pledge(offer, f"{old}-{new}", 1, path[0]), "x")
            for a, b in zip(path, path[1:], strict=False):
                assert store.presale.move_pledge(made.id, a, b, "path")
            before = store.presale.transitions(made.id)
            try:
                moved = store.presale.move_pledge(made.id, old, new, "try")
            except IllegalPledgeTransition:
                assert store.presale.pledge(made.id).state == old
                assert store.presale.transitions(made.id) == before
            else:
                assert moved and store.presale.pledge(made.id).state == new
                assert store.presale.transitions(made.id)[-1].from_state == old
                accepted.add((old, new))
    assert accepted == {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert store.presale.audit(campaign_id)[0].ok  # the counter followed every move


def test_a_move_from_a_state_the_pledge_left_changes_nothing(store):
    _, [offer] = on_sale(store)
    made = store.presale.insert_pledge(pledge(offer, "a"), "pledged")
    assert store.presale.move_pledge(made.id, PLACED, CANCELLED, "first")
    assert not store.presale.move_pledge(made.id, PLACED, CANCELLED, "lost the race")
    assert [t.reason for t in store.presale.transitions(made.id)] == ["pledged", "first"]


def test_moves_take_and_free_units(store):
    campaign_id, [offer] = on_sale(store, capacity=2)
    a = store.presale.insert_pledge(pledge(offer, "a", 2), "pledged")
    b = store.presale.insert_pledge(pledge(offer, "b", 1, WAITLISTED), "over")
    with pytest.raises(SoldOut):
        store.presale.move_pledge(b.id, WAITLISTED, PLACED, "promote")
    assert store.presale.pledge(b.id).state == WAITLISTED
    assert store.presale.move_pledge(a.id, PLACED, CANCELLED, "customer")
    assert store.presale.offers(campaign_id)[0].held == 0
    assert store.presale.move_pledge(b.id, WAITLISTED, PLACED, "promote")
    assert store.presale.offers(campaign_id)[0].held == 1
    assert store.presale.audit(campaign_id)[0].ok


def test_closing_a_presale_succeeds_once_and_due_ones_are_found(store):
    campaign_id, _ = on_sale(store)
    assert store.presale.due_presales("2030-01-08T11:59:59.000000+00:00") == []
    assert store.presale.due_presales(DEADLINE) == [campaign_id]
    with store.transaction():
        assert store.presale.close_presale(campaign_id)
        assert not store.presale.close_presale(campaign_id)
    assert store.presale.due_presales(DEADLINE) == []


def test_outcomes_are_recorded_once(store):
    campaign_id, [offer] = on_sale(store)
    made = store.presale.insert_pledge(pledge(offer, "a"), "pledged")
    payment = store.presale.insert_payment(made, "deposit", Money(1000, "EUR"), "ledger", "k:a")
    assert payment.state == "pending"
    assert store.presale.payment_failed(payment.id, "auth-1", "timeout")
    assert store.presale.payment_succeeded(payment.id, "auth-1", "ref-1")
    assert not store.presale.payment_succeeded(payment.id, "auth-1", "ref-2")
    assert not store.presale.payment_failed(payment.id, None, "late failure")
    stored = store.presale.payment(payment.id)
    assert (stored.state, stored.reference, stored.attempts) == ("succeeded", "ref-1", 2)
    refund = store.presale.insert_refund(stored, Money(400, "EUR"), "customer")
    assert (refund.key, refund.state) == ("k:a:refund", "pending")
    assert store.presale.refund_succeeded(refund.id, "r-1")
    assert not store.presale.refund_succeeded(refund.id, "r-2")
    assert not store.presale.refund_failed(refund.id, "late")
    assert store.presale.refunds(campaign_id, ("succeeded",))[0].reference == "r-1"


def test_payments_captured_in_the_transaction_are_written_once_succeeded(store):
    campaign_id, [offer] = on_sale(store)
    a = store.presale.insert_pledge(pledge(offer, "a"), "pledged")
    b = store.presale.insert_pledge(pledge(offer, "b"), "pledged")
    intents = [(p, "deposit", Money(1000, "EUR"), "ledger", f"k:{p.key}") for p in (a, b)]
    with store.transaction():
        returned = store.presale.insert_payments(
            intents[:1], captured=[("auth-a", "ref-a")]
        ) + store.presale.insert_payments(intents[1:])
    assert returned == store.presale.payments(campaign_id)  # what it returned is what is stored
    assert [(p.state, p.attempts, p.authorization, p.reference) for p in returned] == [
        ("succeeded", 1, "auth-a", "ref-a"),
        ("pending", 0, None, None),
    ]
    # only the pending one is still to settle, found through the unsettled payments' index
    assert store.presale.payments(campaign_id, ("pending", "failed")) == returned[1:]
    assert store.presale.payments(campaign_id, ("succeeded",)) == returned[:1]
    with pytest.raises(ValueError):
        store.presale.insert_payments(intents, captured=[("auth", "ref")])


def test_placing_reads_the_presale_the_offer_and_the_key_together(store):
    campaign_id, [offer, other] = on_sale(store, variants=2)
    made = store.presale.insert_pledge(pledge(offer, "a"), "pledged")
    presale = store.presale.presale(campaign_id)
    stored = store.presale.pledge(made.id)
    offers = store.presale.offers(campaign_id)
    assert store.presale.placing(campaign_id, offer.variant_id, "a") == (presale, offers[0], stored)
    assert store.presale.placing(campaign_id, other.variant_id, "b") == (presale, offers[1], None)
    assert store.presale.placing(campaign_id, 10**6, "a") == (presale, None, stored)
    assert store.presale.placing(campaign_id + 1, offer.variant_id, "a") == (None, None, None)


def test_captured_payments_answer_their_ids_in_order(store):
    campaign_id, [offer] = on_sale(store)
    made = [store.presale.insert_pledge(pledge(offer, key), "pledged") for key in "ab"]
    intents = [(p, "deposit", Money(1000, "EUR"), "ledger", f"k:{p.key}") for p in made]
    with store.transaction():
        ids = store.presale.insert_captured_payments(intents, [("au-a", "r-a"), ("au-b", "r-b")])
    stored = store.presale.payments(campaign_id)
    assert ids == [p.id for p in stored]
    assert [(p.pledge_id, p.key, p.state, p.reference) for p in stored] == [
        (made[0].id, "k:a", "succeeded", "r-a"),
        (made[1].id, "k:b", "succeeded", "r-b"),
    ]


def test_the_ledger_records_each_key_once_and_returns_records(store):
    campaign_id, _ = on_sale(store)
    first = store.presale.ledger_record("ledger", "capture", "k1", Money(5, "EUR"), campaign_id)
    again = store.presale.ledger_record("ledger", "capture", "k1", Money(5, "EUR"), campaign_id)
    other = store.presale.ledger_record("ledger", "refund", "k1", Money(5, "EUR"), campaign_id)
    assert first == again != other
    entries = store.presale.ledger(campaign_id)
    assert all(isinstance(e, LedgerEntry) for e in entries)
    assert [(e.operation, e.key, e.amount, e.reference) for e in entries] == [
        ("capture", "k1", Money(5, "EUR"), first),
        ("refund", "k1", Money(5, "EUR"), other),
    ]


WORKERS = 4
CAPACITY = 60


@pytest.mark.parametrize("reserve", [COUNTER, ROW_LOCK])
def test_concurrent_writers_never_exceed_capacity_and_the_counter_matches(
    store, store_target, reserve
):
    """Real processes, each with its own connection, reserve units until sold out, with the
    guarded counter update or with the offer's row locked."""
    campaign_id, [offer] = on_sale(store, capacity=CAPACITY)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    processes = [
        ctx.Process(
            target=presale_workers.reserve_until_sold_out,
            args=(store_target, offer, worker, barrier, results, reserve),
        )
        for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    placed = sum(results.get(timeout=5) for _ in range(WORKERS))
    assert placed == CAPACITY
    holding = store.presale.pledges(campaign_id, states=HOLDING)
    assert sum(p.quantity for p in holding) == CAPACITY
    assert store.presale.audit(campaign_id) == [
        HeldAudit(offer.variant_id, CAPACITY, CAPACITY, CAPACITY)
    ]


def test_the_counter_migration_fills_held_from_existing_pledges(store, open_store, store_target):
    if not store_target.endswith(".db"):
        pytest.skip("rewinds a SQLite migration")
    campaign_id, [offer] = on_sale(store, capacity=10)
    store.presale.insert_pledge(pledge(offer, "a", 3), "pledged")
    b = store.presale.insert_pledge(pledge(offer, "b", 2), "pledged")
    store.presale.move_pledge(b.id, PLACED, CANCELLED, "customer")
    store.presale.insert_pledge(pledge(offer, "c", 4, WAITLISTED), "over")
    # as a database made before the counter existed: no column, no record of the migration
    store.db.execute("ALTER TABLE presale_offers DROP COLUMN held")
    store.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_held_units'")
    store.close()
    reopened = open_store()
    assert reopened.presale.audit(campaign_id) == [HeldAudit(offer.variant_id, 10, 3, 3)]


def test_the_lean_pledge_migration_keeps_what_every_stored_row_meant(
    store, open_store, store_target
):
    """A database made at the schema before ``m004_lean_pledges`` (opening transitions as rows,
    the ledger's authorize and capture as two rows, the variant/state index): after the
    migration every record reads as before, and new pledges use the lean rows beside them."""
    campaign_id, [offer] = on_sale(store, capacity=10)
    table = "_sqlite_migrations" if store_target.endswith(".db") else "_c2m_migrations"
    at = store.now()
    with store.transaction():  # rewind to the old schema, then write as the old code wrote
        store.execute("ALTER TABLE pledges DROP COLUMN opening")
        store.execute("ALTER TABLE payment_ledger DROP COLUMN authorize_reference")
        store.execute("DROP INDEX pledges_waiting")
        store.execute("CREATE INDEX pledges_variant_state ON pledges (variant_id, state, quantity)")
        store.execute(f"DELETE FROM {table} WHERE name = 'm004_lean_pledges'")
        old = {}
        for key, state, quantity in (("a", COMMITTED, 2), ("w", WAITLISTED, 3)):
            old[key] = store.insert_returning(
                "INSERT INTO pledges (campaign_id, variant_id, customer, quantity, region, "
                "idempotency_key, fingerprint, state, currency, unit_price, deposit_per_unit, "
                "credit_per_unit, created_at, updated_at) "
                "VALUES (?, ?, 'ann', ?, NULL, ?, 'f', ?, 'EUR', 1000, 1000, 1000, ?, ?) "
                "RETURNING id",
                [campaign_id, offer.variant_id, quantity, key, state, at, at],
            )
        moves = [(old["a"], None, PLACED, "pledged"), (old["a"], PLACED, COMMITTED, "captured"),
                 (old["w"], None, WAITLISTED, "over capacity (0 left)")]  # fmt: skip
        for pledge_id, a, b, reason in moves:
            store.execute(
                "INSERT INTO pledge_transitions (pledge_id, from_state, to_state, reason, at) "
                "VALUES (?, ?, ?, ?, ?)",
                [pledge_id, a, b, reason, at],
            )
        store.execute("UPDATE presale_offers SET held = 2 WHERE id = ?", [offer.id])
        for operation in ("authorize", "capture"):
            store.execute(
                "INSERT INTO payment_ledger (provider, operation, idempotency_key, campaign_id, "
                "pledge_id, amount, currency, reference, created_at) "
                "VALUES ('ledger', ?, 'k:a', ?, ?, 2000, 'EUR', ?, ?)",
                [operation, campaign_id, old["a"], f"ledger-{operation}-k:a", at],
            )
    store.close()
    reopened = open_store().presale
    assert [(t.from_state, t.to_state, t.reason) for t in reopened.transitions(old["a"])] == [
        (None, PLACED, "pledged"),
        (PLACED, COMMITTED, "captured"),
    ]
    assert [p.key for p in reopened.pledges(campaign_id, offer.variant_id, (WAITLISTED,))] == ["w"]
    assert reopened.audit(campaign_id) == [HeldAudit(offer.variant_id, 10, 2, 2)]
    (new,) = reopened.insert_pledges([pledge(offer, "b")], captured=True)
    assert isinstance(new, Pledge) and new.state == COMMITTED
    with reopened.store.transaction():
        captured = reopened.ledger_capture_many(
            "ledger", [("k:b", Money(1000, "EUR"), campaign_id, new.id)]
        )
    assert captured == [("ledger-authorize-k:b", "ledger-capture-k:b")]
    assert [(e.operation, e.key, e.reference) for e in reopened.ledger(campaign_id)] == [
        ("authorize", "k:a", "ledger-authorize-k:a"),
        ("capture", "k:a", "ledger-capture-k:a"),
        ("authorize", "k:b", "ledger-authorize-k:b"),
        ("capture", "k:b", "ledger-capture-k:b"),
    ]
    assert [(t.from_state, t.to_state) for t in reopened.transitions(new.id)] == [
        (None, PLACED),
        (PLACED, COMMITTED),
    ]
    assert reopened.move_pledge(new.id, COMMITTED, CANCELLED, "customer")
    assert [t.reason for t in reopened.transitions(new.id)] == [
        "pledged",
        "deposit captured",
        "customer",
    ]
    assert reopened.audit(campaign_id) == [HeldAudit(offer.variant_id, 10, 2, 2)]
    # a capture recorded again returns what was recorded and records nothing more
    with reopened.store.transaction():
        again = reopened.ledger_capture_many(
            "ledger", [("k:b", Money(1000, "EUR"), campaign_id, new.id)]
        )
    assert again == captured and len(reopened.ledger(campaign_id)) == 4
