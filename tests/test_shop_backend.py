"""``examples/shop_backend.py`` through real HTTP on 127.0.0.1, with requests in parallel."""

import datetime
import importlib.util
import json
import re
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from waiting import HANG_SECONDS
from werkzeug.serving import WSGIRequestHandler, make_server

import c2m_core
from c2m_core import C2M

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop_backend.py"
START = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)
TV_43 = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}  # CNY 1,299.00
TV_55 = dict(TV_43, size="55-4k")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


def load_example():
    spec = importlib.util.spec_from_file_location("shop_backend", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


class QuietHandler(WSGIRequestHandler):
    def log(self, *args):
        pass


class Shop:
    """The running backend, the brand team's own ``C2M`` on the same database, the clock."""

    def __init__(self, url, brand, hooks, clock):
        self.url, self.brand, self.hooks, self.clock = url, brand, hooks, clock

    def call(self, method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with OPENER.open(request, timeout=HANG_SECONDS) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def pledge(self, key, variant, customer, quantity=1, region=None):
        body = {"variant": variant, "customer": customer, "quantity": quantity, "region": region}
        return self.call("POST", "/campaigns/tv26/pledges", body, headers={"Idempotency-Key": key})


@pytest.fixture
def shop(tmp_path):
    module = load_example()
    db_path, clock, hooks = tmp_path / "c2m.db", Clock(), module.ShopHooks()
    web = module.create_app(db_path, hooks=hooks, clock=clock)
    server = make_server("127.0.0.1", 0, web, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    with C2M(db_path, clock=clock) as brand:
        brand.campaigns.create("tv26", "tv", title="Leader 2026")
        brand.campaigns.advance("tv26")
        yield Shop(f"http://127.0.0.1:{server.server_port}", brand, hooks, clock)
    server.shutdown()
    thread.join()
    web.extensions["c2m"].close()


def open_vote(shop):
    """The brand team adds two variants and opens a plurality vote; returns their ids."""
    small = shop.brand.variants.add("tv26", TV_43)
    large = shop.brand.variants.add("tv26", TV_55)
    shop.brand.campaigns.advance("tv26")
    shop.brand.voting.open("tv26", "plurality", winners=2)
    return small.id, large.id


def open_presale(shop):
    """Both variants on sale: the small one with 10 units, each tipping at 5."""
    small, large = open_vote(shop)
    shop.brand.voting.close("tv26")
    shop.brand.campaigns.advance("tv26")
    shop.brand.presale.open(
        "tv26", "7d", deposit="10%", threshold=5, overrides={small: {"capacity": 10}}
    )
    return small, large


def test_wishes_valid_forbidden_and_refused(shop):
    status, wish = shop.call(
        "POST",
        "/campaigns/tv26/wishes",
        {"customer": "ann", "configuration": {"size": "65-oled"}, "quantity": 2},
        headers={"Idempotency-Key": "wish-1"},
    )
    assert status == 201 and wish["valid"] and wish["quantity"] == 2
    again = shop.call(
        "POST",
        "/campaigns/tv26/wishes",
        {"customer": "ann", "configuration": {"size": "65-oled"}, "quantity": 2},
        headers={"Idempotency-Key": "wish-1"},
    )
    assert again == (201, wish)

    # The rules forbid it: stored as demand, answered 422 with what to offer instead.
    status, forbidden = shop.call(
        "POST",
        "/campaigns/tv26/wishes",
        {"customer": "bob", "configuration": {"size": "100-4k", "base": "swivel"}},
    )
    assert status == 422 and forbidden["valid"] is False
    assert forbidden["violations"] and forbidden["suggestion"]
    assert shop.brand.wishes.get("tv26", forbidden["id"]).valid is False
    assert shop.brand.wishes.count("tv26") == 2

    refused = [
        ({"customer": "cy", "configuration": {"size": "200-8k"}}, 400, "configuration"),
        ({"customer": "cy", "configuration": {"size": "43-4k"}, "quantity": 0}, 400, "quantity"),
        ({"configuration": {"size": "43-4k"}}, 400, "customer"),
        ([1, 2], 400, "JSON object"),
    ]
    for body, code, named in refused:
        status, error = shop.call("POST", "/campaigns/tv26/wishes", body)
        assert (status, named in error["message"]) == (code, True), error
    status, error = shop.call("POST", "/campaigns/tv26/wishes", raw=b"{not json")
    assert status == 400 and error["error"] == "BadRequest"
    status, error = shop.call("POST", "/campaigns/nope/wishes", {"customer": "cy"})
    assert (status, error["error"]) == (404, "UnknownCampaign")
    assert shop.brand.wishes.count("tv26") == 2

    status, error = shop.call("PUT", "/campaigns/tv26/ballots/ann", {"choice": 1})
    assert (status, error["error"]) == (404, "NoVote")
    status, error = shop.pledge("order-1", 1, "ann")
    assert (status, error["error"]) == (409, "PresaleClosed")


def test_ballots_one_per_voter_with_parallel_casts(shop):
    small, large = open_vote(shop)
    assert shop.call("PUT", "/campaigns/tv26/ballots/ann", {"choice": small})[0] == 201
    status, cast = shop.call("PUT", "/campaigns/tv26/ballots/ann", {"choice": large})
    assert status == 200
    assert (cast["ballot"], cast["replaced"]) == ({"choice": large}, {"choice": small})
    for bad in ({"choice": 999}, {"rank": f"{small}>{large}"}):
        status, error = shop.call("PUT", "/campaigns/tv26/ballots/bob", bad)
        assert (status, error["error"]) == (400, "InvalidBallot")
    status, error = shop.call("POST", "/campaigns/tv26/wishes", {"customer": "late"})
    assert (status, error["error"]) == (409, "IllegalTransition")

    voters = [f"v{n}" for n in range(20)] + ["twice"] * 6
    with ThreadPoolExecutor(len(voters)) as pool:
        statuses = list(
            pool.map(
                lambda voter: shop.call(
                    "PUT", f"/campaigns/tv26/ballots/{voter}", {"choice": small}
                )[0],
                voters,
            )
        )
    assert statuses[:20] == [201] * 20
    assert sorted(statuses[20:]) == [200] * 5 + [201]
    assert shop.brand.voting.count_ballots("tv26") == 22  # ann, 20 voters, twice
    assert len(shop.brand.voting.history("tv26", "twice")) == 5
    result = shop.brand.voting.close("tv26")
    assert (result.total(small)["votes"], result.total(large)["votes"]) == (21, 1)


def test_parallel_pledges_never_oversell_and_a_tip_reaches_the_hook(shop):
    small, large = open_presale(shop)
    requests = [(f"order-{n}", small, f"cust-{n}") for n in range(20)]
    requests += [("same-order", small, "cust-same")] * 10
    requests += [("order-large", large, "cust-large")]
    with ThreadPoolExecutor(len(requests)) as pool:
        answers = list(pool.map(lambda args: shop.pledge(*args), requests))

    by_key: dict[str, list] = {}
    for (status, body), (key, _, _) in zip(answers, requests, strict=True):
        by_key.setdefault(key, []).append((status, body))
        if status == 409:  # only the capped variant sells out, and it says what is left
            assert key != "order-large"
            assert (body["error"], body["units_left"]) == ("SoldOut", 0)
        else:
            assert status == 201, body
    same = {
        json.dumps(body["id"] if "id" in body else body["error"])
        for _, body in by_key["same-order"]
    }
    assert len(same) == 1  # ten requests, one answer: one pledge, or sold out every time
    accepted = {key for key, replies in by_key.items() if replies[0][0] == 201}
    assert len(accepted - {"order-large"}) == 10 and "order-large" in accepted

    brand = shop.brand
    pledges = brand.presale.pledges("tv26")
    assert sorted(p.key for p in pledges) == sorted(accepted)  # one pledge per key
    assert sum(p.quantity for p in pledges if p.variant_id == small) == 10  # the capacity
    assert all(p.state == "committed" for p in pledges)
    deposits = brand.presale.payments("tv26", ["succeeded"])
    assert sorted(p.pledge_id for p in deposits) == sorted(p.id for p in pledges)
    placed = brand.events.since(0, limit=1000, types=["pledge.placed"])
    assert sorted(e.payload["key"] for e in placed) == sorted(accepted)

    status, error = shop.pledge("order-0", small, "someone-else")
    assert (status, error["error"]) == (409, "IdempotencyConflict")
    status, error = shop.call("POST", "/campaigns/tv26/pledges", {"variant": small})
    assert (status, "Idempotency-Key" in error["message"]) == (400, True)
    status, error = shop.pledge("order-x", 999, "cust-x")
    assert (status, "variant" in error["message"]) == (400, True)
    assert shop.hooks.outbox == []

    shop.clock.now = START + datetime.timedelta(days=8)  # past the deadline
    status, presale = shop.call("GET", "/campaigns/tv26/presale")
    assert status == 200 and presale["state"] == "due_to_close"  # a read decides nothing
    assert shop.hooks.outbox == []
    assert shop.call("POST", "/settle", {}) == (200, {"closed": ["tv26"]})
    assert shop.call("POST", "/settle", {}) == (200, {"closed": []})
    status, presale = shop.call("GET", "/campaigns/tv26/presale")
    assert status == 200 and presale["state"] == "closed"
    states = {v["variant_id"]: v["state"] for v in presale["variants"]}
    assert states == {small: "tipped", large: "failed"}
    backers = sorted(p.customer for p in pledges if p.variant_id == small)
    assert sorted(message["to"] for message in shop.hooks.outbox) == backers
    assert {message["balance_due"] for message in shop.hooks.outbox} == {116_910}
    assert all("10 units pledged" in message["subject"] for message in shop.hooks.outbox)


def test_events_followed_with_a_cursor(shop):
    small, large = open_presale(shop)
    for n in range(3):
        assert shop.pledge(f"order-{n}", small, f"c{n}", region="east")[0] == 201
    seen, cursor = [], 0
    while True:
        status, page = shop.call("GET", f"/events?after={cursor}&limit=4")
        assert status == 200 and len(page["events"]) <= 4
        if not page["events"]:
            assert page["next"] == cursor
            break
        seen += page["events"]
        cursor = page["next"]
    everything = shop.brand.events.since(0, limit=10_000)
    assert [e["id"] for e in seen] == [e.id for e in everything]
    assert [e["type"] for e in seen] == [e.type for e in everything]
    assert cursor == shop.brand.events.last_id()

    status, page = shop.call("GET", "/events?type=pledge.placed&type=vote.closed&campaign=tv26")
    assert [e["type"] for e in page["events"]] == ["vote.closed"] + ["pledge.placed"] * 3
    assert shop.call("GET", f"/events?after={cursor}")[1] == {"events": [], "next": cursor}
    status, error = shop.call("GET", "/events?after=-1")
    assert (status, "after" in error["message"]) == (400, True)
    status, error = shop.call("GET", "/events?campaign=nope")
    assert (status, error["error"]) == (404, "UnknownCampaign")
    status, variants = shop.call("GET", "/campaigns/tv26/variants")
    assert [v["id"] for v in variants] == [small, large]


def test_the_documented_status_codes_are_the_examples():
    module = load_example()
    doc = (EXAMPLE.parents[1] / "docs" / "embedding.md").read_text(encoding="utf-8")
    section = doc.split("## 7. Errors and HTTP status codes")[1].split("\n## ")[0]
    documented = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3 and cells[1].isdecimal():
            for name in re.findall(r"`(\w+)`", cells[0]):
                documented[name] = int(cells[1])
    assert len(documented) >= 14
    for name, code in documented.items():
        kind = getattr(c2m_core, name)
        assert next(c for kinds, c in module.STATUS if issubclass(kind, kinds)) == code, name
