"""Contract: variants are appended at distinct positions, one per key, also across processes."""

from store_contract.support import append_variants, campaign, run_workers, variant

WORKERS = 4
PER_WORKER = 6


def test_variants_append_in_order_one_per_key(store):
    owner = campaign(store)
    with store.transaction():
        first = store.variants.insert(variant(owner.id, "55"))
        second = store.variants.insert(variant(owner.id, "65"))
        assert store.variants.insert(variant(owner.id, "55")) is None
    assert (first.position, second.position) == (1, 2)
    assert store.variants.get(first.id) == first
    assert store.variants.by_key(owner.id, "65") == second
    assert store.variants.for_campaign(owner.id) == [first, second]


def test_withdrawn_and_removed_variants(store):
    owner = campaign(store)
    with store.transaction():
        kept = store.variants.insert(variant(owner.id, "55"))
        auto = store.variants.insert(
            variant(owner.id, "65").__class__(
                id=None,
                campaign_id=owner.id,
                key="75",
                name="75",
                configuration={"size": "75"},
                source="aggregate",
            )
        )
        assert store.variants.set_withdrawn(kept.id, True)
        assert store.variants.set_covered(auto.id, 40)
        assert not store.variants.set_covered(10_000, 1)
    assert store.variants.for_campaign(owner.id) == [store.variants.get(auto.id)]
    assert store.variants.get(auto.id).covered_quantity == 40
    assert store.variants.for_campaign(owner.id, include_withdrawn=True)[0].withdrawn
    with store.transaction():
        removed = store.variants.delete_by_source(owner.id, "aggregate")
    assert [v.key for v in removed] == ["75"]
    assert store.variants.get(auto.id) is None
    with store.transaction():
        after = store.variants.insert(variant(owner.id, "85"))
    assert after.position == 2  # after the highest position left, never a taken one


def test_concurrent_appends_get_distinct_positions(store, store_target):
    owner = campaign(store)
    keys = [[f"w{w}-{n}" for n in range(PER_WORKER)] + ["shared"] for w in range(WORKERS)]
    reports = run_workers(append_variants, [(store_target, owner.id, k) for k in keys])
    appended = [entry for report in reports for entry in report]
    # "shared" was appended by exactly one process; every other key by its own.
    assert sorted(key for key, _, _ in appended) == sorted({k for ks in keys for k in ks})
    stored = store.variants.for_campaign(owner.id)
    assert sorted(v.position for v in stored) == list(range(1, len(stored) + 1))
    assert {(v.key, v.position, v.id) for v in stored} == set(appended)
    # Each process saw its own appends in increasing positions (commit order).
    for report in reports:
        positions = [position for _, position, _ in report]
        assert positions == sorted(positions)
