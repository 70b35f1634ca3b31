"""`c2m serve` over real HTTP: two uvicorn worker processes on one SQLite database.

A whole campaign driven only through the API, concurrent pledges against a capacity, parallel
idempotent replays, and every route's scopes checked from the OpenAPI document.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from server_support import Server, load_client_module  # noqa: E402

from c2m_core import C2M  # noqa: E402
from c2m_core.server.tokens import create_token  # noqa: E402

client_module = load_client_module()
Client, Problem = client_module.Client, client_module.Problem

TV_43 = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}
TV_55 = dict(TV_43, size="55-4k")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    db_path = folder / "c2m.db"
    with C2M(db_path) as app:
        tokens = {scope: create_token(app, scope, [scope])[0] for scope in ("brand", "storefront")}
        tokens["read"] = create_token(app, "read", ["read"])[0]
    server = Server(db_path, workers=2)
    try:
        yield server, tokens, folder
    finally:
        server.stop()


@pytest.fixture
def brand(served):
    server, tokens, _ = served
    return Client(server.url, tokens["brand"])


@pytest.fixture
def shop(served):
    server, tokens, _ = served
    return Client(server.url, tokens["storefront"])


def until(check, what: str, limit: float = 600.0):
    """Poll ``check`` until it returns something true (the server works in the background).

    ``limit`` only stops a run that would otherwise hang; it is far beyond any slow machine."""
    deadline = time.monotonic() + limit
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


class Receiver(http.server.BaseHTTPRequestHandler):
    """A shop's webhook endpoint: keeps what it received."""

    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def verify(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return headers["webhook-signature"] == f"v1,{expected}"


def test_a_whole_campaign_through_the_api(served, brand, shop):
    _, _, folder = served
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        hook = brand.call(
            "POST",
            "/webhooks",
            {
                "url": f"http://127.0.0.1:{receiver.server_port}/c2m",
                "types": ["pledge.committed", "variant.tipped"],
                "campaign": None,
            },
            key="hook-1",
        )
        assert hook["secret"].startswith("whsec_")

        # Catalog, campaign, wishes.
        remaining = shop.remaining_options("tv", {"size": "100-4k"})
        assert remaining["size"] == ["100-4k"] and "swivel" not in remaining["base"]
        brand.call("POST", "/campaigns", {"slug": "life", "category": "tv"}, key="create-life")
        assert brand.call("POST", "/campaigns/life/advance", {"to": "wishes"})["state"] == "wishes"
        for n, configuration in enumerate([TV_43, TV_43, TV_55, {"size": "55-4k"}]):
            wish = shop.wish("life", f"c{n}", configuration, f"wish-{n}")
            assert wish["valid"], wish
        forbidden = shop.wish("life", "c9", {"size": "100-4k", "base": "swivel"}, "wish-9")
        assert forbidden["valid"] is False and forbidden["suggestion"]
        stats = brand.call("GET", "/campaigns/life/wishes/stats")
        assert (stats["wishes"], stats["valid_wishes"]) == (5, 4)
        found = brand.call("POST", "/campaigns/life/aggregate", {"max_variants": 2, "moq": 1})
        assert len(found["variants"]) == 2

        # Vote.
        brand.call("POST", "/campaigns/life/advance", {"to": "vote"})
        variants = shop.call("GET", "/campaigns/life/variants")
        ids = [v["id"] for v in variants]
        brand.call("POST", "/campaigns/life/vote", {"method": "plurality", "winners": 2})
        for n in range(5):
            shop.ballot("life", f"v{n}", {"choice": ids[n % 2]})
        assert shop.ballot("life", "v0", {"choice": ids[1]})["replaced"] == {"choice": ids[0]}
        brand.call("POST", "/campaigns/life/vote/close")
        results = shop.call("GET", "/campaigns/life/vote/results")
        assert sorted(results["winners"]) == sorted(ids)

        # Pre-sale.
        brand.call("POST", "/campaigns/life/advance", {"to": "presale"})
        brand.call(
            "POST",
            "/campaigns/life/presale",
            {"deadline": "7d", "deposit": "10%", "threshold": 2},
            key="open-life",
        )
        offers = shop.call("GET", "/campaigns/life/offers")
        assert {o["variant_id"] for o in offers} == set(ids)
        assert all(o["deposit_per_unit"] * 10 == o["unit_price"] for o in offers)
        pledged = [shop.pledge("life", f"order-{n}", ids[0], f"c{n}") for n in range(3)]
        assert {p["state"] for p in pledged} == {"committed"}
        shop.pledge("life", "order-9", ids[1], "c9")
        cancelled = shop.call("POST", "/campaigns/life/pledges/order-9/cancel", {})
        assert cancelled["state"] in ("cancelled", "refunded")
        mine = shop.call("GET", "/campaigns/life/pledges?customer=c1")
        assert [p["key"] for p in mine["items"]] == ["order-1"]
        closed = brand.call("POST", "/campaigns/life/presale/close")
        states = {v["variant_id"]: v["state"] for v in closed["variants"]}
        assert states == {ids[0]: "tipped", ids[1]: "failed"}

        # Hand-off.
        brand.call("POST", "/campaigns/life/advance", {"to": "handoff"})
        factory = folder / "factory"
        status = brand.call("POST", "/campaigns/life/handoff", {"targets": [f"dir:{factory}"]})
        (handoff,) = status["handoffs"]
        assert handoff["variant_id"] == ids[0]
        assert [d["state"] for d in handoff["deliveries"]] == ["delivered"]
        assert (factory / "manifest.json").exists()

        # What a shop follows: the event feed, the report, the signed webhooks.
        feed = brand.call("GET", "/events?campaign=life&type=variant.tipped")
        assert [e["payload"]["variant_id"] for e in feed["items"]] == [ids[0]]
        status, headers, page = brand.request("GET", "/campaigns/life/report")
        assert status == 200 and "text/html" in headers["Content-Type"] and "life" in page

        def delivered():
            log = brand.call("GET", f"/webhooks/{hook['id']}/deliveries")["items"]
            done = [d for d in log if d["state"] == "delivered"]
            return log if len(done) == len(log) >= 5 else None

        log = until(delivered, "five delivered webhooks")
        assert sorted(d["event_type"] for d in log) == ["pledge.committed"] * 4 + ["variant.tipped"]
        assert len(Receiver.received) == len(log)  # each once, though two workers dispatch
        off = brand.call("PATCH", f"/webhooks/{hook['id']}", {"state": "disabled"})
        assert off["state"] == "disabled"
        for headers, body in Receiver.received:
            headers = {k.lower(): v for k, v in headers.items()}
            assert verify(hook["secret"], headers, body)
            assert json.loads(body)["type"] in ("pledge.committed", "variant.tipped")
    finally:
        receiver.shutdown()


def open_presale(brand, slug, capacity):
    brand.call("POST", "/campaigns", {"slug": slug, "category": "tv"})
    brand.call("POST", f"/campaigns/{slug}/advance")
    brand.call("POST", f"/campaigns/{slug}/advance")
    variant = brand.call("POST", f"/campaigns/{slug}/variants", {"configuration": TV_43})
    brand.call("POST", f"/campaigns/{slug}/advance")
    brand.call(
        "POST",
        f"/campaigns/{slug}/presale",
        {"deadline": "7d", "deposit": "10%", "threshold": 1, "capacity": capacity},
    )
    return variant["id"]


def test_concurrent_pledges_never_oversell_and_one_pledge_per_key(served, brand, shop):
    server, _, _ = served
    variant = open_presale(brand, "rush", capacity=10)

    def pledge(n):
        status, _, body = shop.request(
            "POST",
            "/campaigns/rush/pledges",
            {"variant": variant, "customer": f"c{n}", "quantity": 1},
            key=f"rush-{n}",
        )
        return status, body

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(pledge, range(30)))
    placed = [body for status, body in answers if status == 201]
    refused = [body for status, body in answers if status != 201]
    assert len(placed) == 10
    assert {(b["status"], b["kind"]) for b in refused} == {(409, "sold_out")}
    assert all(b["units_left"] == 0 for b in refused)

    with C2M(server.db_path) as app:
        live = [p for p in app.presale.pledges("rush") if p.state not in ("cancelled", "refunded")]
    units, keys = sum(p.quantity for p in live), len({p.key for p in live})
    assert (units, keys) == (10, 10)


def test_idempotent_replays_in_parallel(served, brand, shop):
    server, _, _ = served
    variant = open_presale(brand, "replay", capacity=None)
    body = {"variant": variant, "customer": "ann", "quantity": 2}

    def send(_):
        while True:
            status, headers, answer = shop.request(
                "POST", "/campaigns/replay/pledges", body, key="order-77"
            )
            if status != 409 or answer["kind"] != "conflict" or "Retry-After" not in headers:
                return status, answer, headers.get("Idempotent-Replayed")
            time.sleep(float(headers["Retry-After"]) / 20)  # in flight: retry as told, sooner

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(send, range(12)))
    assert {status for status, _, _ in answers} == {201}
    assert len({json.dumps(answer, sort_keys=True) for _, answer, _ in answers}) == 1
    assert sum(replayed is None for _, _, replayed in answers) == 1  # one ran, the rest replayed

    different = dict(body, quantity=3, region="east")
    status, _, problem = shop.request("POST", "/campaigns/replay/pledges", different, "order-77")
    assert status == 409 and problem["differing"] == ["quantity", "region"]
    with C2M(server.db_path) as app:
        count = sum(p.key == "order-77" for p in app.presale.pledges("replay"))
    assert count == 1


def fill(path: str) -> str:
    values = {"slug": "scoped", "category": "tv", "voter": "v1", "key": "k1"}
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return (
        path.replace("{wish_id}", "1")
        .replace("{variant_id}", "1")
        .replace("{subscription_id}", "1")
    )


def snapshot(db_path) -> str:
    with sqlite3.connect(db_path) as db:
        return "\n".join(db.iterdump())


def test_every_route_refuses_a_missing_or_too_small_token_and_changes_nothing(served, brand):
    server, tokens, _ = served
    brand.call("POST", "/campaigns", {"slug": "scoped", "category": "tv"})
    status, _, schema = Client(server.url, None).request("GET", "/openapi.json")
    assert status == 200
    routes = [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(routes) > 30
    before = snapshot(server.db_path)
    checked = []
    for method, path, operation in routes:
        allowed = set(operation.get("x-c2m-scopes", ()))
        if path == "/health":
            assert not allowed
            continue
        assert allowed and operation["security"] == [{"token": sorted(allowed)}], path
        body = {} if method in ("POST", "PUT", "PATCH") else None
        status, _, problem = Client(server.url, None).request(method, fill(path), body)
        assert (status, problem["kind"]) == (401, "unauthorized"), (method, path)
        status, _, _ = Client(server.url, "c2m_0000_wrong").request(method, fill(path), body)
        assert status == 401, (method, path)
        for scope in {"storefront", "read"} - allowed:
            status, _, problem = Client(server.url, tokens[scope]).request(method, fill(path), body)
            assert (status, problem["kind"]) == (403, "forbidden"), (method, path, scope)
            checked.append((method, path, scope))
    assert snapshot(server.db_path) == before
    assert ("POST", "/campaigns", "storefront") in checked
    assert ("POST", "/campaigns/{slug}/pledges", "read") in checked
    assert ("GET", "/events", "storefront") in checked


def test_problem_details_and_unknown_routes(served, shop):
    server, _, _ = served
    status, headers, problem = shop.request("GET", "/no/such/route")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    assert problem["kind"] == "not_found"
    status, headers, problem = shop.request(
        "POST", "/categories/tv/options", {"configuration": {"size": "200-8k"}}
    )
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    assert problem["type"] == "urn:c2m:problem:invalid_input"
    status, _, problem = shop.request("POST", "/categories/tv/options", {"configuration": 5})
    assert status == 422 and problem["field"] == "body.configuration"
    status, _, problem = shop.request("GET", "/campaigns/nope/presale")
    assert (status, problem["kind"], problem["field"]) == (404, "not_found", "campaign")
