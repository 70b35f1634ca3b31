"""Contract: wish batches, their events, external ids, the state re-check and the demand."""

import attrs
from store_contract.support import campaign, insert_wishes, run_workers, wish

from c2m_core.wishes.records import CommonTexts, DemandGroup, ViolationGroup

OTHER = {"size": "55", "panel": "lcd"}
BROKEN = ({"rule": "needs-stand", "message": "85 needs a stand", "options": ["size.85"]},)


def test_a_batch_is_stored_with_an_event_per_wish(store):
    owner = campaign(store)
    batch = store.wishes.insert_batch(
        owner.id,
        [
            wish("ann", "w1", quantity=2, region="eu", note="quiet please"),
            wish("bob", configuration=OTHER),
            wish("cat", "w3", valid=False, violations=BROKEN, suggestion={"size": "75"}),
        ],
        "wishes",
    )
    assert batch.stored == 3 and batch.invalid == 1
    assert list(batch.wish_ids) == sorted(batch.wish_ids)
    stored = store.wishes.get_many(batch.wish_ids)
    assert [w.customer for w in stored] == ["ann", "bob", "cat"]
    ann, bob, cat = stored
    assert (ann.campaign_id, ann.quantity, ann.region, ann.note) == (
        owner.id,
        2,
        "eu",
        "quiet please",
    )
    assert ann.configuration == {"size": "65", "panel": "oled"} and ann.created_at == store.now()
    assert cat.valid is False and cat.violations == BROKEN and cat.suggestion == {"size": "75"}
    assert store.wishes.get(bob.id) == bob and store.wishes.by_external_id(owner.id, "w3") == cat
    events = store.events_since(0, types=("wish.submitted",))
    assert [e.payload["wish_id"] for e in events] == list(batch.wish_ids)
    # What a shop acts on without a lookup, not the whole row (the wish is a get away).
    assert events[0].payload == {"customer": "ann", "external_id": "w1", "wish_id": ann.id}
    assert all(e.campaign_id == owner.id for e in events)


def test_a_batch_larger_than_one_statement_is_stored_whole(store):
    """6,000 wishes (more than one multi-row statement binds on either backend), some of them
    repeating an external id, shared configuration objects among them: each stored once, in
    order, with its own texts and event."""
    owner = campaign(store)
    wishes = [
        wish(
            f"c{n}",
            f"w{n % 5_500}",
            configuration=OTHER if n % 3 else {"size": "65", "panel": "oled"},
            valid=n % 7 != 0,
            violations=BROKEN if n % 7 == 0 else (),
        )
        for n in range(6_000)
    ]
    batch = store.wishes.insert_batch(owner.id, wishes, "wishes")
    assert batch.stored == 5_500 and batch.invalid == sum(1 for n in range(5_500) if n % 7 == 0)
    stored = store.wishes.get_many(batch.wish_ids)
    assert [w.customer for w in stored] == [f"c{n}" for n in range(5_500)]
    assert all(w.configuration == wishes[n].configuration for n, w in enumerate(stored))
    assert all(w.violations == wishes[n].violations for n, w in enumerate(stored))
    events = store.events_since(0, types=("wish.submitted",), limit=10_000)
    assert [e.payload["wish_id"] for e in events] == list(batch.wish_ids)


def test_known_external_ids_are_skipped(store):
    owner = campaign(store)
    first = store.wishes.insert_batch(owner.id, [wish("ann", "w1")], "wishes")
    again = store.wishes.insert_batch(
        owner.id, [wish("ann", "w1", quantity=5), wish("bob", "w2"), wish("bob", "w2")], "wishes"
    )
    assert again.stored == 1
    assert store.wishes.count(owner.id) == 2
    assert store.wishes.by_external_id(owner.id, "w1").id == first.wish_ids[0]
    assert store.wishes.by_external_id(owner.id, "w1").quantity == 1
    assert len(store.events_since(0, types=("wish.submitted",))) == 2


def test_a_batch_for_a_campaign_in_another_state_stores_nothing(store):
    owner = campaign(store, state="vote")
    assert store.wishes.insert_batch(owner.id, [wish("ann", "w1")], "wishes") is None
    assert store.wishes.count(owner.id) == 0
    assert store.events_since(0, types=("wish.submitted",)) == []


def test_a_batch_in_a_transaction_that_rolls_back_leaves_nothing(store):
    owner = campaign(store)
    try:
        with store.transaction():
            store.wishes.insert_batch(owner.id, [wish("ann", "w1")], "wishes")
            raise KeyError("later step failed")
    except KeyError:
        pass
    assert store.wishes.count(owner.id) == 0 and store.last_event_id() == 0


def test_demand_and_statistics(store):
    owner = campaign(store)
    store.wishes.insert_batch(
        owner.id,
        [
            wish("ann", quantity=2, note="quiet"),
            wish("bob", quantity=3, note="quiet"),
            wish("ann", configuration=OTHER, raw="a big one"),
            wish("cat", valid=False, violations=BROKEN, configuration={"size": "85"}),
        ],
        "wishes",
    )
    demand = store.wishes.demand(owner.id)
    assert sorted(demand, key=lambda g: g.quantity) == [
        DemandGroup(OTHER, 1, 1),
        DemandGroup({"size": "65", "panel": "oled"}, 2, 5),
    ]
    assert store.wishes.demand(owner.id, valid=False) == [DemandGroup({"size": "85"}, 1, 1)]
    assert store.wishes.violation_sets(owner.id) == [ViolationGroup(BROKEN, 1, 1)]
    assert store.wishes.count(owner.id) == 4 and store.wishes.customers(owner.id) == 3
    assert store.wishes.common_texts(owner.id, "note", 5) == CommonTexts(2, (("quiet", 2),))
    assert store.wishes.common_texts(owner.id, "raw", 5) == CommonTexts(1, (("a big one", 1),))
    first = store.wishes.after(owner.id, 0, limit=2)
    assert [w.customer for w in first] == ["ann", "bob"]
    assert [w.customer for w in store.wishes.after(owner.id, first[-1].id)] == ["ann", "cat"]


def test_concurrent_batches_store_each_external_id_once(store, store_target):
    owner = campaign(store)
    batches = [[f"e{n}" for n in range(w * 10, w * 10 + 30)] for w in range(4)]  # overlapping
    reports = run_workers(insert_wishes, [(store_target, owner.id, b) for b in batches])
    ids = [i for report in reports for i in report]
    everything = {e for b in batches for e in b}
    assert len(ids) == len(set(ids)) == len(everything) == store.wishes.count(owner.id)
    stored = store.wishes.get_many(ids)
    assert {w.external_id for w in stored} == everything
    events = store.events_since(0, limit=1000, types=("wish.submitted",))
    assert sorted(e.payload["wish_id"] for e in events) == sorted(ids)


def test_new_wishes_sharing_objects_are_stored_like_records(store):
    """The intake hands ``NewWish`` tuples whose equal configurations, violations and
    suggestions are one shared object; each wish is stored as a ``Wish`` record would be."""
    from c2m_core.wishes.records import NewWish

    owner = campaign(store)
    shared = {"size": "85", "panel": "lcd"}
    suggestion = {"size": "75"}
    new = [
        NewWish(
            f"c{i}", shared, 1 + i % 3, None, None, None, None, f"n{i}", False, BROKEN, suggestion
        )
        for i in range(5)
    ]
    fresh = [
        wish(f"c{i}", f"w{i}", configuration=dict(shared), quantity=1 + i % 3, valid=False,
             violations=tuple(dict(v) for v in BROKEN), suggestion=dict(suggestion))
        for i in range(5)
    ]  # fmt: skip
    first = store.wishes.insert_batch(owner.id, new, "wishes")
    second = store.wishes.insert_batch(owner.id, fresh, "wishes")
    assert first.stored == second.stored == 5 and first.invalid == second.invalid == 5
    stored = store.wishes.get_many(first.wish_ids + second.wish_ids)
    fields = [(w.customer, dict(w.configuration), w.quantity, w.violations, w.suggestion)
              for w in stored]  # fmt: skip
    assert fields[:5] == fields[5:]
    assert {w.external_id for w in stored[:5]} == {f"n{i}" for i in range(5)}
    assert store.wishes.violation_sets(owner.id) == [ViolationGroup(BROKEN, 10, 18)]


def test_a_batch_after_the_largest_ids_gets_its_own_ids(store):
    """A wish stored with an id near the largest (a copy from elsewhere, say): SQLite then
    picks free ids at random, so the batch's ids are read back, not counted."""
    owner = campaign(store)
    with store.transaction():
        store.execute(
            "INSERT INTO wishes (id, campaign_id, customer, configuration, quantity, valid, "
            "violations, created_at) VALUES (?, ?, 'zed', '{}', 1, 1, '[]', ?)",
            [2**63 - 3, owner.id, store.now()],
        )
    batch = store.wishes.insert_batch(
        owner.id,
        [
            wish("ann", "w1"),
            wish("bob", "w1"),
            wish("cat", valid=False, violations=BROKEN),
            wish("dan"),
            wish("eve", "w5"),
        ],
        "wishes",
    )
    assert batch.stored == 4 and batch.invalid == 1
    assert list(batch.wish_ids) == sorted(batch.wish_ids)
    stored = store.wishes.get_many(batch.wish_ids)
    assert sorted(w.customer for w in stored) == ["ann", "cat", "dan", "eve"]
    events = store.events_since(0, types=("wish.submitted",))
    assert sorted(e.payload["wish_id"] for e in events) == list(batch.wish_ids)


def test_a_batch_held_by_column_is_stored_as_the_tuples_are(store):
    """``NewWishes`` (an import's batch, one list per field) stores what its ``NewWish``
    tuples store, with an event each."""
    from c2m_core.wishes.records import NewWish, NewWishes

    owner = campaign(store)
    tuples = [
        NewWish(f"c{i}", OTHER, 1 + i % 2, "eu" if i % 3 else None, None, None, None,
                f"t{i}", i % 4 != 0, () if i % 4 else BROKEN, None if i % 4 else {"size": "75"})
        for i in range(6)
    ]  # fmt: skip
    by_tuple = store.wishes.insert_batch(owner.id, tuples, "wishes")
    columns = [wish._replace(external_id=f"k{i}") for i, wish in enumerate(tuples)]
    columns.append(columns[0])  # a known external id: skipped
    by_column = store.wishes.insert_batch(owner.id, NewWishes(columns), "wishes")
    assert by_tuple.stored == by_column.stored == 6 and by_tuple.invalid == by_column.invalid == 2
    first, second = (store.wishes.get_many(b.wish_ids) for b in (by_tuple, by_column))
    assert [attrs.evolve(w, id=None, external_id=None) for w in first] == [
        attrs.evolve(w, id=None, external_id=None) for w in second
    ]
    events = store.events_since(0, types=("wish.submitted",))
    assert [e.payload["wish_id"] for e in events] == list(by_tuple.wish_ids + by_column.wish_ids)
