"""Contract: uploads recorded once per sha256, per-unit values of wishes and pledges."""

import hashlib

import pytest
from store_contract.support import campaign, run_workers

from c2m_core.personalisation.records import Upload
from c2m_core.store import open_store

DIGEST = hashlib.sha256(b"photo").hexdigest()


def test_an_upload_is_recorded_once_per_digest(store):
    first = store.personalisation.add_upload(Upload(DIGEST, "image/png", 5, 640, 480))
    assert (first.sha256, first.media_type, first.size, first.width, first.height) == (
        DIGEST,
        "image/png",
        5,
        640,
        480,
    )
    assert first.created_at == store.now()
    assert store.personalisation.add_upload(Upload(DIGEST, "image/jpeg", 9, 1, 1)) is None
    assert store.personalisation.upload(DIGEST) == first
    assert store.personalisation.upload("0" * 64) is None


def test_units_round_trip_per_owner_with_gaps(store):
    owner = campaign(store)
    with store.transaction():
        store.personalisation.insert_units(
            "pledge", 7, owner.id, [{"photo": DIGEST, "engraving": "ANN"}, {}, {"engraving": "B"}]
        )
        store.personalisation.insert_units("wish", 7, owner.id, [{"engraving": "WISH"}])
        store.personalisation.insert_units("pledge", 8, owner.id, [])
    found = store.personalisation.units("pledge", [7, 8, 9])
    assert found == {7: ({"engraving": "ANN", "photo": DIGEST}, {}, {"engraving": "B"})}
    assert store.personalisation.units("wish", [7]) == {7: ({"engraving": "WISH"},)}
    assert store.personalisation.units("wish", []) == {}


def test_one_value_per_unit_and_field(store):
    owner = campaign(store)
    with store.transaction():
        store.personalisation.insert_units("pledge", 1, owner.id, [{"engraving": "A"}])
    with pytest.raises(Exception), store.transaction():  # noqa: B017 - each driver's own error
        store.personalisation.insert_units("pledge", 1, owner.id, [{"engraving": "B"}])
    assert store.personalisation.units("pledge", [1]) == {1: ({"engraving": "A"},)}


def test_a_rollback_stores_no_values(store):
    owner = campaign(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.personalisation.insert_units("wish", 3, owner.id, [{"engraving": "A"}])
        raise RuntimeError("the owner was not stored")
    assert store.personalisation.units("wish", [3]) == {}


def add_upload(target: str, writer: int, start):
    """Record the same upload as every other worker; return whether this one recorded it."""
    store = open_store(target)
    try:
        start.wait()
        with store.transaction():
            return (
                store.personalisation.add_upload(Upload(DIGEST, "image/png", 5, 2, 2)) is not None
            )
    finally:
        store.close()


def test_of_concurrent_writers_of_one_upload_exactly_one_records_it(store, store_target):
    recorded = run_workers(add_upload, [(store_target, n) for n in range(4)])
    assert sorted(recorded) == [False, False, False, True]
    assert store.personalisation.upload(DIGEST).size == 5
