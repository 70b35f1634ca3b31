"""Delivery exactly once: the outbox, the dir and webhook connectors, retries, dead letters."""

import hashlib
import json
import socket

import pytest
from handoff_support import (
    BIG_85,
    CINEMA_55,
    SECRET,
    Clock,
    Receiver,
    demand,
    expected_signature,
    quick_retries,
    tv_campaign,
)

from c2m_core import C2M, C2MError, InvalidInput, hookimpl
from c2m_core.campaigns import IllegalTransition
from c2m_core.handoff.connectors import Connector, DeliveryFailed, DirConnector, Package
from c2m_core.handoff.outbox import RetryPolicy


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("C2M_WEBHOOK_SECRET", SECRET)
    return SECRET


def campaign_app(tmp_path, variants=(CINEMA_55, BIG_85), plugins=(), **kw):
    app = C2M(db_path=tmp_path / "c2m.db", clock=Clock(), plugins=plugins)
    made = tv_campaign(app, variants=variants, **kw)
    return app, [demand(v, eu=40 + v.id, default=10) for v in made]


def events(app, prefix="handoff."):
    return [(e.type, e.payload) for e in app.store.events_since() if e.type.startswith(prefix)]


# dir: ---------------------------------------------------------------------------------------------


def test_dir_delivery_writes_every_document_and_a_manifest_of_their_sha256(tmp_path):
    app, lines = campaign_app(tmp_path)
    out = tmp_path / "factory"
    status = app.handoff.run("summer", [f"dir:{out}"], demand=lines)

    assert [(d.handoff_id, d.state, d.attempts) for d in status.deliveries] == [
        ("HO-summer-V1", "delivered", 1),
        ("HO-summer-V2", "delivered", 1),
    ]
    assert app.campaigns.get("summer").state == "handoff"
    manifest = json.loads((out / "manifest.json").read_bytes())
    assert len(manifest["files"]) == 10
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"]
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    assert [t for t, _ in events(app)] == [
        "handoff.created",
        "handoff.created",
        "handoff.queued",
        "handoff.queued",
        "handoff.delivered",
        "handoff.delivered",
    ]
    for _, payload in events(app, "handoff.delivered"):
        handoff = app.store.handoff.get(payload["handoff_id"])
        assert payload["campaign"] == "summer"
        assert (payload["variant_id"], payload["quantity"]) == (
            handoff.variant_id,
            handoff.quantity,
        )
        assert payload["key"] == handoff.idempotency_key


def test_running_again_delivers_nothing_new_and_a_new_target_gets_the_same_bytes(tmp_path):
    app, lines = campaign_app(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    app.handoff.run("summer", [f"dir:{first}"], demand=lines)
    before = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}

    again = app.handoff.run("summer", [f"dir:{first}"])  # no demand, no pre-sale: reused
    assert [d.attempts for d in again.deliveries] == [1, 1]
    assert {p.name: p.stat().st_mtime_ns for p in first.iterdir()} == before

    app.handoff.run("summer", [f"dir:{first}", f"dir:{second}"], demand=lines)
    for path in second.glob("HO-*"):
        assert path.read_bytes() == (first / path.name).read_bytes()
    assert len(events(app, "handoff.delivered")) == 4


def test_delivering_the_same_content_again_is_a_no_op(tmp_path):
    app, lines = campaign_app(tmp_path)
    app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"], demand=lines)
    package = Package("HO-summer-V1", "key", app.handoff.documents("HO-summer-V1"))
    connector = DirConnector(str(tmp_path / "out"), app)
    manifest = (tmp_path / "out" / "manifest.json").stat().st_mtime_ns
    receipt = connector.deliver(package)
    assert receipt["written"] == [] and len(receipt["unchanged"]) == 5
    assert (tmp_path / "out" / "manifest.json").stat().st_mtime_ns == manifest


def test_dir_never_overwrites_a_file_with_other_content(tmp_path):
    app, lines = campaign_app(tmp_path, variants=(CINEMA_55,))
    out = tmp_path / "out"
    out.mkdir()
    (out / "HO-summer-V1.json").write_text("someone else's order")
    waits = quick_retries(app)
    status = app.handoff.run("summer", [f"dir:{out}"], demand=lines[:1])
    (delivery,) = status.deliveries
    assert delivery.state == "dead" and "exists with different content" in delivery.last_error
    assert (out / "HO-summer-V1.json").read_text() == "someone else's order"
    assert waits == []


def test_dir_targets_are_stored_as_absolute_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app, lines = campaign_app(tmp_path, variants=(CINEMA_55,))
    status = app.handoff.run("summer", ["dir:out", "dir:./out/../out"], demand=lines[:1])
    assert [d.target for d in status.deliveries] == [f"dir:{tmp_path / 'out'}"]


# webhook: -----------------------------------------------------------------------------------------


def test_webhook_retries_503_then_delivers_exactly_once_signed_with_one_key(tmp_path, secret):
    app, lines = campaign_app(tmp_path)
    waits = quick_retries(app)
    with Receiver({"/hook": [503, 503, 503]}) as receiver:
        status = app.handoff.run("summer", [f"webhook:{receiver.url()}"], demand=lines)

    assert [(d.state, d.attempts) for d in status.deliveries] == [
        ("delivered", 4),
        ("delivered", 1),
    ]
    assert sorted(receiver.accepted) == [h.idempotency_key for h in status.handoffs]
    assert {r["handoff_id"] for r in receiver.accepted.values()} == {"HO-summer-V1", "HO-summer-V2"}
    first = [r for r in receiver.requests if r["headers"]["webhook-id"].startswith("HO-summer-V1.")]
    assert len(first) == 4
    assert {r["headers"]["idempotency-key"] for r in first} == {status.handoffs[0].idempotency_key}
    assert {r["body"] for r in first} == {app.handoff.documents("HO-summer-V1")[0].content}
    for request in receiver.requests:
        headers = request["headers"]
        assert headers["webhook-id"] == headers["idempotency-key"]
        assert headers["webhook-signature"] == expected_signature(
            secret, headers["webhook-id"], headers["webhook-timestamp"], request["body"]
        )
        assert headers["content-type"] == "application/json"
    assert len(waits) == 3
    assert 0.005 <= waits[0] <= 0.01 and 0.01 <= waits[1] <= 0.02 and 0.02 <= waits[2] <= 0.04
    assert [e["attempt"] for t, e in events(app, "handoff.attempt_failed")] == [1, 2, 3]


def test_a_wrong_secret_does_not_verify(tmp_path, secret):
    app, lines = campaign_app(tmp_path, variants=(CINEMA_55,))
    with Receiver() as receiver:
        app.handoff.run("summer", [f"webhook:{receiver.url()}"], demand=lines[:1])
    (request,) = receiver.requests
    h = request["headers"]
    other = "whsec_" + "b3RoZXI="
    assert h["webhook-signature"] != expected_signature(
        other, h["webhook-id"], h["webhook-timestamp"], request["body"]
    )
    assert h["webhook-signature"] != expected_signature(
        secret, h["webhook-id"], h["webhook-timestamp"], request["body"] + b" "
    )


def test_a_400_goes_to_the_dead_letter_without_retries(tmp_path, secret):
    app, lines = campaign_app(tmp_path, variants=(CINEMA_55,))
    waits = quick_retries(app)
    with Receiver({"/hook": [400]}) as receiver:
        status = app.handoff.run("summer", [f"webhook:{receiver.url()}"], demand=lines[:1])
        (delivery,) = status.deliveries
        assert (delivery.state, delivery.attempts) == ("dead", 1)
        assert "HTTP 400" in delivery.last_error
        assert len(receiver.requests) == 1 and waits == []
        assert [t for t, _ in events(app, "handoff.dead_lettered")] == ["handoff.dead_lettered"]

        assert app.handoff.run("summer", [f"webhook:{receiver.url()}"]).deliveries[0].state == (
            "dead"
        )
        assert len(receiver.requests) == 1

        retried = app.handoff.retry("summer")
        assert [(d.state, d.attempts) for d in retried.deliveries] == [("delivered", 1)]
        assert len(receiver.requests) == 2 and len(receiver.accepted) == 1


def test_a_410_disables_the_endpoint_until_a_retry(tmp_path, secret):
    app, lines = campaign_app(tmp_path)
    quick_retries(app)
    with Receiver({"/hook": [410]}) as receiver:
        status = app.handoff.run("summer", [f"webhook:{receiver.url()}"], demand=lines)
        assert [d.state for d in status.deliveries] == ["disabled", "disabled"]
        assert len(receiver.requests) == 1  # the second hand-off was not even tried
        assert "410" in status.deliveries[1].last_error
        retried = app.handoff.retry("summer")
        assert [d.state for d in retried.deliveries] == ["delivered", "delivered"]
        assert len(receiver.accepted) == 2


def test_429_and_network_errors_are_retried_up_to_the_limit(tmp_path, secret):
    app, lines = campaign_app(tmp_path, variants=(CINEMA_55,))
    waits = quick_retries(app, max_attempts=4)
    with Receiver({"/hook": [429, 502]}) as receiver:
        status = app.handoff.run("summer", [f"webhook:{receiver.url()}"], demand=lines[:1])
    assert [(d.state, d.attempts) for d in status.deliveries] == [("delivered", 3)]

    waits.clear()
    with socket.socket() as closed:  # bound, never listening: connections are refused, and no
        closed.bind(("127.0.0.1", 0))  # other process can take the port while the run tries it
        port = closed.getsockname()[1]
        status = app.handoff.run("summer", [f"webhook:http://127.0.0.1:{port}/gone"])
    delivery = next(d for d in status.deliveries if d.target.endswith("/gone"))
    assert (delivery.state, delivery.attempts) == ("dead", 4) and len(waits) == 3
    assert "refused" in delivery.last_error.lower()


def test_a_run_that_may_not_wait_leaves_the_delivery_due_later(tmp_path, secret):
    app, lines = campaign_app(tmp_path, variants=(CINEMA_55,))
    quick_retries(app, max_wait=0, base_delay=30, max_delay=60)
    with Receiver({"/hook": [503]}) as receiver:
        status = app.handoff.run("summer", [f"webhook:{receiver.url()}"], demand=lines[:1])
        (delivery,) = status.deliveries
        assert (delivery.state, delivery.attempts) == ("pending", 1)
        assert delivery.next_attempt_at > app.store.now()
        assert app.handoff.deliver("summer").deliveries[0].attempts == 1  # not due yet
        app.clock.advance(seconds=61)
        assert app.handoff.deliver("summer").deliveries[0].state == "delivered"
        assert len(receiver.requests) == 2


def test_webhook_targets_need_a_secret_before_anything_is_recorded(tmp_path, monkeypatch):
    monkeypatch.delenv("C2M_WEBHOOK_SECRET", raising=False)
    app, lines = campaign_app(tmp_path)
    with pytest.raises(InvalidInput, match="set C2M_WEBHOOK_SECRET"):
        app.handoff.run("summer", ["webhook:https://erp.example.com/c2m"], demand=lines)
    with pytest.raises(InvalidInput, match="must be an http"):
        app.handoff.run("summer", ["webhook:ftp://erp.example.com"], demand=lines)
    assert app.campaigns.get("summer").state == "draft"
    assert app.handoff.status("summer").handoffs == ()


# The service --------------------------------------------------------------------------------------


def test_unknown_targets_are_refused_with_the_known_ones(tmp_path):
    app, lines = campaign_app(tmp_path)
    with pytest.raises(InvalidInput, match=r"'ftp:x' is not one of: dir:PATH, webhook:URL"):
        app.handoff.run("summer", ["ftp:x"], demand=lines)
    with pytest.raises(InvalidInput, match="at least one target"):
        app.handoff.run("summer", [], demand=lines)


def test_demand_comes_from_the_presale_stage_when_not_given(tmp_path):
    app = C2M(db_path=tmp_path / "c2m.db", clock=Clock())
    app.campaigns.create("summer", "tv", stages=["presale", "handoff"])
    cinema, big = (app.variants.add("summer", c) for c in (CINEMA_55, BIG_85))
    app.campaigns.advance("summer")
    app.presale.open("summer", "7d", deposit="10%", threshold=3)
    app.presale.place("summer", cinema.id, "c1", 2, "k1", region="eu")
    app.presale.place("summer", cinema.id, "c2", 1, "k2")
    app.presale.place("summer", big.id, "c3", 2, "k3", region="eu")  # misses its threshold
    app.presale.close("summer")

    status = app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"])
    [handoff] = status.handoffs
    assert handoff.id == f"HO-summer-V{cinema.id}"
    assert handoff.record["quantity"]["confirmed"] == 3
    assert handoff.record["unit_price"]["currency"] == "CNY"
    assert {d["region"]: d["confirmed"] for d in handoff.record["destinations"]} == {
        "eu": 2,
        "default": 1,
    }
    again = app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"])
    assert [h.id for h in again.handoffs] == [handoff.id]  # recorded demand is final


def test_a_hand_off_is_final(tmp_path):
    app, lines = campaign_app(tmp_path)
    app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"], demand=lines)
    app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"], demand=list(reversed(lines)))
    changed = [demand(lines[0].variant, eu=1), lines[1]]
    with pytest.raises(InvalidInput, match="a hand-off is final"):
        app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"], demand=changed)


@pytest.mark.parametrize(
    ("make_demand", "error", "message"),
    [
        (lambda lines, other: [], InvalidInput, "no tipped variant"),
        (lambda lines, other: [lines[0], lines[0]], InvalidInput, "variant 1 twice"),
        (lambda lines, other: other, InvalidInput, "not a variant of campaign 'summer'"),
        (lambda lines, other: [lines[0], "x"], InvalidInput, "lacks 'variant'"),
    ],
)
def test_bad_demand_changes_nothing(tmp_path, make_demand, error, message):
    app, lines = campaign_app(tmp_path)
    app.campaigns.create("winter", "tv")
    other = [demand(app.variants.add("winter", CINEMA_55), eu=3)]
    with pytest.raises(error, match=message):
        app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"], demand=make_demand(lines, other))
    assert app.campaigns.get("summer").state == "draft"
    assert app.handoff.status("summer").handoffs == ()
    assert not (tmp_path / "out").exists()


def test_only_campaigns_at_their_hand_off_may_hand_off(tmp_path):
    app = C2M(db_path=tmp_path / "c2m.db", clock=Clock())
    app.campaigns.create("novote", "tv", stages=["wishes", "vote"])
    variant = app.variants.add("novote", CINEMA_55)
    with pytest.raises(IllegalTransition, match="does not use the handoff stage"):
        app.handoff.run("novote", [f"dir:{tmp_path}"], demand=[demand(variant, eu=1)])
    app.campaigns.create("early", "tv", stages=["wishes", "handoff"])
    variant = app.variants.add("early", CINEMA_55)
    with pytest.raises(IllegalTransition, match="cannot move to 'handoff'"):
        app.handoff.run("early", [f"dir:{tmp_path}"], demand=[demand(variant, eu=1)])
    assert app.handoff.status("early").handoffs == ()


# Hooks --------------------------------------------------------------------------------------------


def test_handoff_delivered_is_called_once_per_hand_off_and_target(tmp_path):
    seen = []

    class Listener:
        @hookimpl
        def handoff_delivered(self, app, campaign, handoff, delivery):
            assert app.store.handoff.delivery(delivery.id).state == "delivered"
            seen.append((campaign.slug, handoff.id, delivery.target, delivery.receipt["written"]))

    app, lines = campaign_app(tmp_path, plugins=[Listener()])
    app.handoff.run("summer", [f"dir:{tmp_path / 'a'}", f"dir:{tmp_path / 'b'}"], demand=lines)
    app.handoff.run("summer", [f"dir:{tmp_path / 'a'}"])
    assert sorted((s, h, t) for s, h, t, _ in seen) == [
        ("summer", h, f"dir:{tmp_path / d}") for h in ("HO-summer-V1", "HO-summer-V2") for d in "ab"
    ]
    assert all(len(written) == 5 for *_, written in seen)


class Erp(Connector):
    scheme = "erp"
    usage = "erp:NAME"
    received: list = []

    def deliver(self, package):
        if package.attempt == 1:
            raise DeliveryFailed("ERP busy")
        type(self).received.append((self.address, package.handoff_id, package.idempotency_key))
        return {"rows": len(json.loads(package.document("json").content)["work_orders"])}


class ErpPlugin:
    @hookimpl
    def register_handoff_connectors(self):
        return [Erp]


def test_a_plugin_connector_receives_packages_through_the_outbox(tmp_path):
    Erp.received = []
    app, lines = campaign_app(tmp_path, plugins=[ErpPlugin()])
    quick_retries(app)
    status = app.handoff.run("summer", ["erp:plant-7"], demand=lines)
    assert [(d.state, d.attempts, d.receipt) for d in status.deliveries] == [
        ("delivered", 2, {"rows": 2}),
        ("delivered", 2, {"rows": 2}),
    ]
    assert Erp.received == [("plant-7", h.id, h.idempotency_key) for h in status.handoffs]


def test_two_plugins_claiming_one_scheme_are_named(tmp_path):
    class Again:
        @hookimpl
        def register_handoff_connectors(self):
            return [Erp]

    app = C2M(db_path=tmp_path / "c2m.db", plugins=[ErpPlugin(), Again()])
    with pytest.raises(C2MError, match="scheme 'erp' is registered twice"):
        app.handoff.connector("erp:x")


def test_retry_policy_waits_grow_with_jitter_and_honour_retry_after():
    import random

    policy = RetryPolicy(base_delay=1, max_delay=10)
    rng = random.Random(1)
    for attempt in range(1, 8):
        step = min(10, 2 ** (attempt - 1))
        assert step / 2 <= policy.delay(attempt, rng) <= step
    assert policy.delay(1, rng, retry_after=7) == 7
    assert policy.delay(1, rng, retry_after=99) == 10


def test_a_campaign_does_not_close_while_deliveries_are_pending(tmp_path):
    app, lines = campaign_app(tmp_path, variants=(CINEMA_55,), plugins=[ErpPlugin()])
    quick_retries(app, max_wait=0)
    assert app.handoff.run("summer", ["erp:plant-7"], demand=lines).deliveries[0].state == (
        "pending"
    )
    with pytest.raises(IllegalTransition, match="1 hand-off deliveries are still pending"):
        app.campaigns.advance("summer")
    assert app.campaigns.get("summer").state == "handoff"
    assert app.handoff.retry("summer").deliveries[0].state == "delivered"
    assert app.campaigns.advance("summer").state == "closed"
