"""Contract: campaigns, their conditional state transitions and catalog snapshots."""

from store_contract.support import campaign

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
