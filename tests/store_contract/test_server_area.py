"""Contract: the HTTP service's area (``store.server``): tokens, secrets, idempotency records,
webhook subscriptions and deliveries, read back as dicts of named columns on every backend.

The guarantees the server relies on are the database's: one idempotency record per (token,
key), taken over only when its lease ran out; one delivery per (subscription, event); a
delivery leased by one worker at a time; a cursor moved only from where it was.
"""

from __future__ import annotations


def test_tokens_are_stored_found_by_hash_and_revoked_once(store):
    token = store.server.insert_token("shop", "c2m_ab", "h1", ("pledges:write", "read"))
    assert set(token) == {"id", "name", "prefix", "sha256", "scopes", "created_at", "revoked_at"}
    assert (token["name"], token["prefix"], token["revoked_at"]) == ("shop", "c2m_ab", None)
    assert store.server.token_by_hash("h1") == token
    assert store.server.tokens() == [token]
    assert store.server.revoke_token(token["id"])
    assert not store.server.revoke_token(token["id"])
    assert store.server.token_by_hash("h1") is None
    assert store.server.tokens()[0]["revoked_at"] is not None


def test_the_first_secret_stored_wins(store):
    assert store.server.secret("pages", "first") == "first"
    assert store.server.secret("pages", "second") == "first"


def test_an_idempotency_key_is_claimed_once_until_its_lease_runs_out(store, clock):
    claim = (7, "key-1", "POST", "/pledges", "sha", '{"q": 1}')
    assert store.server.claim_key(*claim, lease_seconds=30)
    assert not store.server.claim_key(*claim, lease_seconds=30)
    record = store.server.idempotency_record(7, "key-1")
    assert (record["state"], record["method"], record["request"]) == (
        "in_flight",
        "POST",
        '{"q": 1}',
    )
    clock.advance(seconds=31)  # its worker died: the record may be taken over
    assert store.server.claim_key(*claim, lease_seconds=30)
    store.server.finish_key(7, "key-1", 201, "application/json", b'{"id": 1}')
    record = store.server.idempotency_record(7, "key-1")
    assert (record["state"], record["status"], bytes(record["response"])) == (
        "done",
        201,
        b'{"id": 1}',
    )
    clock.advance(seconds=31)
    assert not store.server.claim_key(*claim, lease_seconds=30)  # done records stay
    store.server.release_key(7, "key-1")  # only in-flight records are released
    assert store.server.idempotency_record(7, "key-1") is not None


def test_subscriptions_and_deliveries(store, clock):
    sub = store.server.insert_subscription(
        "https://shop.example/h", ("pledge.placed",), "c", "s", 0
    )
    assert (sub["url"], sub["state"], sub["cursor"], sub["campaign"]) == (
        "https://shop.example/h",
        "active",
        0,
        "c",
    )
    assert store.server.subscription(sub["id"]) == sub
    assert store.server.subscriptions() == [sub]
    assert store.server.move_cursor(sub["id"], 0, 5)
    assert not store.server.move_cursor(sub["id"], 0, 6)  # another worker moved it
    store.server.add_delivery(sub["id"], 5, "pledge.placed", "msg_1_5")
    store.server.add_delivery(sub["id"], 5, "pledge.placed", "msg_1_5")  # once per event
    [due] = store.server.due_deliveries()
    assert (due["event_id"], due["state"], due["attempts"]) == (5, "pending", 0)
    assert store.server.claim_delivery(due["id"], lease_seconds=30)
    assert not store.server.claim_delivery(due["id"], lease_seconds=30)
    assert store.server.due_deliveries() == []  # leased
    store.server.record_delivery(due["id"], "delivered", 204, None)
    [done] = store.server.deliveries(sub["id"])
    assert (done["state"], done["response_status"], done["attempts"]) == ("delivered", 204, 1)
    assert done["delivered_at"] is not None
    store.server.set_subscription_state(sub["id"], "disabled", "410 Gone")
    assert store.server.subscription(sub["id"])["disabled_reason"] == "410 Gone"
