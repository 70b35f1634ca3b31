"""Contract: opening, migrating and the event log, for every store implementation."""

import json

import pytest


def test_opening_twice_migrates_once_and_keeps_data(store, open_store):
    with store.transaction():
        first = store.event("test.happened", None, {"n": 1})
    again = open_store()
    assert [e.id for e in again.events_since(0)] == [first]


def test_events_are_written_inside_a_transaction(store):
    with pytest.raises(RuntimeError):
        store.event("test.happened", None, {})


def test_events_since_a_cursor_are_in_order_and_each_once(store):
    ids = []
    for n in range(5):
        with store.transaction():
            ids.append(store.event("test.happened", None, {"n": n}))
    assert [e.payload["n"] for e in store.events_since(0)] == [0, 1, 2, 3, 4]
    assert [e.id for e in store.events_since(ids[1])] == ids[2:]
    assert store.events_since(ids[-1]) == []


def test_many_events_read_back_alike_whether_given_as_dicts_or_encoded_text(store):
    """``events`` takes payloads as dicts or already encoded (hot paths): both read back alike."""
    payload = {"customer": "王\u202e<b>", "n": 1}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    with store.transaction():
        store.events([("test.dict", None, payload), ("test.text", None, text)])
    assert [(e.type, e.payload) for e in store.events_since(0)] == [
        ("test.dict", payload),
        ("test.text", payload),
    ]


def test_a_transaction_that_fails_at_its_first_statement_leaves_nothing(store):
    """The first statement of a transaction may carry its ``BEGIN`` (PostgreSQL): a failure
    there rolls back, after-commit callbacks are dropped, and the store stays usable."""
    said = []
    with store.transaction():
        store.execute("INSERT INTO server_secrets (name, value) VALUES (?, ?)", ["a", "1"])
    with pytest.raises(Exception, match="(?i)unique"), store.transaction():
        store.after_commit(lambda: said.append("committed"))
        store.execute("INSERT INTO server_secrets (name, value) VALUES (?, ?)", ["a", "2"])
    assert not store.in_transaction and said == []
    with store.transaction():
        pass  # a transaction that runs nothing commits nothing
    with store.transaction():
        store.execute("INSERT INTO server_secrets (name, value) VALUES (?, ?)", ["b", "3"])
        store.event("test.happened", None, {})
    assert store.query("SELECT name, value FROM server_secrets ORDER BY name") == [
        ("a", "1"),
        ("b", "3"),
    ]
    assert [e.type for e in store.events_since(0)] == ["test.happened"]
