"""Contract: hand-offs recorded once, one outbox row per (hand-off, target), conditional
delivery attempts."""

from store_contract.support import campaign, queue_deliveries, run_workers, variant

from c2m_core.handoff.records import Document, Handoff

WORKERS = 4


def handoff(store):
    owner = campaign(store, state="presale")
    with store.transaction():
        made = store.variants.insert(variant(owner.id, "65"))
        recorded = store.handoff.insert(
            Handoff(
                id="HO-1",
                campaign_id=owner.id,
                variant_id=made.id,
                position=1,
                quantity=30,
                due_date="2030-02-01",
                demand={"variant_id": made.id, "by_region": {"eu": 30}},
                record={"sha256": "ab" * 32, "orders": [1]},
                sha256="ab" * 32,
            ),
            (
                Document("json", "HO-1.json", "application/json", b'{"a": 1}'),
                Document("bom", "HO-1.bom.csv", "text/csv", b"part,qty\r\nP1,30\r\n"),
            ),
        )
    return owner, recorded


def test_a_handoff_and_its_documents_come_back_as_recorded(store):
    owner, recorded = handoff(store)
    assert recorded.created_at == store.now() and recorded.quantity == 30
    assert store.handoff.get("HO-1") == recorded
    assert store.handoff.for_campaign(owner.id) == [recorded]
    assert [d.content for d in store.handoff.documents("HO-1")] == [
        b'{"a": 1}',
        b"part,qty\r\nP1,30\r\n",
    ]
    with store.transaction():
        assert store.handoff.insert(recorded, ()) is None


def test_one_delivery_per_target_and_conditional_attempts(store, clock):
    owner, recorded = handoff(store)
    with store.transaction():
        queued = store.handoff.add_delivery("HO-1", "dir:/out", "HO-1.key")
        assert store.handoff.add_delivery("HO-1", "dir:/out", "HO-1.other") is None
    assert (queued.state, queued.attempts, queued.idempotency_key) == ("pending", 0, "HO-1.key")
    assert store.handoff.deliveries(owner.id) == [queued]
    with store.transaction():
        assert store.handoff.start_attempt(queued.id, "me", 30, attempts=0)
        assert not store.handoff.start_attempt(queued.id, "you", 30, attempts=0)
    leased = store.handoff.delivery(queued.id)
    assert (leased.attempts, leased.lease_owner) == (1, "me")
    with store.transaction():
        assert store.handoff.record_failed(queued.id, "pending", "timeout", retry_in=60)
    clock.advance(seconds=1)
    assert store.handoff.delivery(queued.id).next_attempt_at > store.now()
    with store.transaction():
        assert store.handoff.record_failed(queued.id, "dead", "refused")
        assert not store.handoff.record_delivered(queued.id, {"ok": True})
        revived = store.handoff.revive(owner.id)
    assert [(d.id, d.state, d.attempts) for d in revived] == [(queued.id, "pending", 0)]
    with store.transaction():
        assert store.handoff.start_attempt(queued.id, "me", 30, attempts=0)
        assert store.handoff.record_delivered(queued.id, {"receipt": "r1"})
    done = store.handoff.delivery(queued.id)
    assert (done.state, done.receipt, done.last_error) == ("delivered", {"receipt": "r1"}, None)


def test_disabled_endpoints(store):
    assert store.handoff.disabled_reason("webhook:x") is None
    with store.transaction():
        store.handoff.disable_endpoint("webhook:x", "410 Gone")
        store.handoff.disable_endpoint("webhook:x", "410 Gone again")
    assert store.handoff.disabled_reason("webhook:x").startswith("410 Gone again (disabled ")
    with store.transaction():
        store.handoff.enable_endpoint("webhook:x")
    assert store.handoff.disabled_reason("webhook:x") is None


def test_concurrent_queueing_makes_one_row_per_target(store, store_target):
    owner, _ = handoff(store)
    targets = [f"dir:/out{n}" for n in range(6)]
    reports = run_workers(queue_deliveries, [(store_target, "HO-1", targets)] * WORKERS)
    assert sorted(t for report in reports for t in report) == targets
    assert sorted(d.target for d in store.handoff.deliveries(owner.id)) == targets
