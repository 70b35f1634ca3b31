"""Contract: campaigns, their conditional state transitions and catalog snapshots."""

from store_contract.support import (
    advance_campaign,
    campaign,
    insert_wish_batches,
    run_jobs,
    run_workers,
)

from c2m_core.campaigns.records import STAGES, Campaign


def test_a_campaign_comes_back_as_stored(store):
    stored = campaign(store, "tv26")
    assert stored.id is not None and stored.catalog_frozen is False
    assert store.campaigns.get("tv26") == stored == store.campaigns.get_by_id(stored.id)
    assert stored.stages == STAGES and stored.settings == {"moq": 2}
    assert store.campaigns.get("nope") is None
    assert [c.slug for c in store.campaigns.all()] == ["tv26"]


def test_a_taken_slug_stores_nothing(store):
    first = campaign(store, "tv26")
    with store.transaction():
        again = store.campaigns.insert(
            Campaign(None, "tv26", "other", "Other", "USD", ("vote",), state="draft")
        )
    assert again is None
    assert store.campaigns.all() == [first]


def test_state_moves_only_from_the_expected_state(store):
    stored = campaign(store, state="draft")
    with store.transaction():
        assert store.campaigns.set_state(stored.id, "draft", "wishes")
        assert not store.campaigns.set_state(stored.id, "draft", "vote")
    assert store.campaigns.get_by_id(stored.id).state == "wishes"


def test_settings_change_only_from_what_was_read(store):
    stored = campaign(store)
    with store.transaction():
        assert store.campaigns.update_settings(stored.id, {"moq": 2}, {"moq": 3})
        assert not store.campaigns.update_settings(stored.id, {"moq": 2}, {"moq": 9})
        store.campaigns.set_state(stored.id, "wishes", "closed")
        assert not store.campaigns.update_settings(stored.id, {"moq": 3}, {"moq": 4})
    assert store.campaigns.get_by_id(stored.id).settings == {"moq": 3}


def test_catalog_snapshots_are_shared_by_digest(store):
    a, b = campaign(store, "a"), campaign(store, "b")
    assert store.campaigns.catalog_digest(a.id) is None
    assert store.campaigns.catalog_data(a.id) is None
    with store.transaction():
        store.campaigns.freeze_catalog(a.id, "tv", "d1", {"modules": ["size"]})
        store.campaigns.freeze_catalog(b.id, "tv", "d1", {"modules": ["size"]})
    assert store.campaigns.catalog_digest(b.id) == "d1"
    assert store.campaigns.catalog_data(b.id) == {"modules": ["size"]}
    assert store.campaigns.get_by_id(a.id).catalog_frozen


def test_of_concurrent_transitions_from_one_state_exactly_one_moves(store, store_target):
    owner = campaign(store)
    moved = run_workers(advance_campaign, [(store_target, owner.id)] * 4)
    assert sorted(moved) == [False, False, False, True]
    assert store.campaigns.get_by_id(owner.id).state == "vote"
    assert len(store.events_since(0, types=("campaign.advanced",))) == 1


def test_no_wish_batch_lands_after_the_campaign_left_its_state(store, store_target):
    owner = campaign(store)
    jobs = [(insert_wish_batches, (store_target, owner.id, w, 200)) for w in range(3)]
    jobs.append((advance_campaign, (store_target, owner.id)))
    *stored, moved = run_jobs(jobs)
    assert moved
    (advanced,) = store.events_since(0, types=("campaign.advanced",))
    wishes = store.events_since(0, limit=10_000, types=("wish.submitted",))
    assert len(wishes) == sum(stored) == store.wishes.count(owner.id)
    assert all(event.id < advanced.id for event in wishes)
