"""Pledges at constant cost: one transaction per pledge with an in-database provider, and
``place_many`` with the same guarantees per pledge, one transaction per batch."""

import multiprocessing
import random
import sys
from collections import Counter
from pathlib import Path

import attrs
import pytest

from c2m_core import C2M, hookimpl
from c2m_core.errors import InvalidInput
from c2m_core.presale.payments import ProviderError
from c2m_core.presale.records import (
    COMMITTED,
    OUTCOME_CONFLICT,
    OUTCOME_PLACED,
    OUTCOME_REPLAYED,
    OUTCOME_SOLD_OUT,
    PLACED,
    WAITLISTED,
    IdempotencyConflict,
    SoldOut,
)

sys.path.insert(0, str(Path(__file__).parent))
import presale_workers  # noqa: E402
from waiting import HANG_SECONDS, join_all  # noqa: E402

TV = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}


def open_presale(target, plugins=(), **options):
    with C2M(target, plugins=plugins) as app:
        app.campaigns.create("c", "tv", stages=["presale"])
        variant = app.variants.add("c", TV)
        app.campaigns.advance("c")
        app.presale.open("c", "7d", **options)
        return variant.id


def count_transactions(app):
    """A list that collects every ``BEGIN`` the app's connection runs from now on."""
    begun: list[str] = []
    app.store.db.conn.set_trace_callback(
        lambda sql: begun.append(sql) if sql.startswith("BEGIN") else None
    )
    return begun


def test_a_pledge_with_the_ledger_is_one_transaction(tmp_path):
    db_path = tmp_path / "c2m.db"
    variant_id = open_presale(db_path, deposit="10%", capacity=10)
    with C2M(db_path) as app:
        begun = count_transactions(app)
        pledge = app.presale.place("c", variant_id, "ana", 2, "k1")
        assert len(begun) == 1
        assert pledge.state == COMMITTED and pledge.id is not None
        assert pledge == app.presale.pledge("c", "k1")  # what it returned is what is stored
        assert [t.to_state for t in app.presale.history("c", "k1")] == [PLACED, COMMITTED]
        (payment,) = app.presale.payments("c")
        assert payment.state == "succeeded" and payment.amount == pledge.amounts.deposit
        assert [e.operation for e in app.store.presale.ledger()] == ["authorize", "capture"]
        types = [e.type for e in app.events.since(0)]
        assert types[-3:] == ["pledge.placed", "payment.succeeded", "pledge.committed"]
        assert app.presale.audit("c").ok


class Refusing:
    """An in-database provider that refuses inside the transaction."""

    @hookimpl
    def register_payment_providers(self):
        return ["refusing"]

    @hookimpl
    def capture_payments_in_transaction(self, app, provider, captures):
        if provider != "refusing":
            return None
        if captures:
            app.store.presale.ledger_record_many(
                "refusing",
                [("capture", p.key, p.amount, pl.campaign_id, pl.id) for pl, p in captures],
            )
            raise RuntimeError("card declined")
        return []


class Malformed:
    @hookimpl
    def register_payment_providers(self):
        return ["malformed"]

    @hookimpl
    def capture_payments_in_transaction(self, provider, captures):
        if provider == "malformed":
            return [("auth", "")] * len(captures)


@pytest.mark.parametrize(
    "plugin, provider, error",
    [(Refusing(), "refusing", RuntimeError), (Malformed(), "malformed", ProviderError)],
)
def test_an_in_database_provider_that_fails_rolls_the_whole_pledge_back(
    tmp_path, plugin, provider, error
):
    db_path = tmp_path / "c2m.db"
    variant_id = open_presale(db_path, [plugin], capacity=10, provider=provider)
    with C2M(db_path, plugins=[plugin]) as app:
        with pytest.raises(error):
            app.presale.place("c", variant_id, "ana", 2, "k1")
        assert app.presale.pledges("c") == []
        assert app.presale.payments("c") == []
        assert app.store.presale.ledger() == []
        assert app.presale.offers("c")[0].held == 0
        assert app.presale.audit("c").ok


class CallingOut:
    """A provider that calls out: only authorize/capture, which must run outside transactions."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def register_payment_providers(self):
        return ["bank"]

    @hookimpl
    def authorize_payment(self, app, provider, payment):
        if provider == "bank":
            self.calls.append(("authorize", payment.key, app.store.in_transaction))
            return f"auth-{payment.key}"

    @hookimpl
    def capture_payment(self, app, provider, payment):
        if provider == "bank":
            self.calls.append(("capture", payment.key, app.store.in_transaction))
            return f"cap-{payment.key}"


def test_a_provider_that_calls_out_keeps_intent_call_outcome(tmp_path):
    db_path = tmp_path / "c2m.db"
    bank = CallingOut()
    variant_id = open_presale(db_path, [bank], capacity=10, provider="bank")
    with C2M(db_path, plugins=[bank]) as app:
        results = app.presale.place_many(
            "c",
            [
                {"variant_id": variant_id, "customer": "ana", "quantity": 1, "key": "k1"},
                {"variant_id": variant_id, "customer": "bo", "quantity": 2, "key": "k2"},
            ],
        )
        assert [r.pledge.state for r in results] == [COMMITTED, COMMITTED]
        assert [c[0] for c in bank.calls] == ["authorize", "capture"] * 2
        assert not any(in_transaction for *_, in_transaction in bank.calls)
        assert {p.state for p in app.presale.payments("c")} == {"succeeded"}


def requests(variant_id, *rows):
    return [{"variant_id": variant_id, "customer": c, "quantity": q, "key": k} for c, q, k in rows]


def test_place_many_answers_each_pledge_in_one_transaction(tmp_path):
    db_path = tmp_path / "c2m.db"
    variant_id = open_presale(db_path, deposit="10%", capacity=5)
    with C2M(db_path) as app:
        app.presale.place("c", variant_id, "ana", 1, "old")
        begun = count_transactions(app)
        results = app.presale.place_many(
            "c",
            requests(
                variant_id,
                ("ana", 1, "old"),  # replayed from before
                ("bo", 3, "b"),  # placed
                ("cy", 2, "c"),  # sold out: 1 left
                ("bo", 3, "b"),  # the same request twice in one batch: replayed
                ("bo", 2, "b"),  # the same key for something else: conflict
                ("di", 1, "d"),  # placed: the last unit
                ("ana", 9, "old"),  # conflict with the stored one
            ),
        )
        assert len(begun) == 1
        assert [r.outcome for r in results] == [
            OUTCOME_REPLAYED,
            OUTCOME_PLACED,
            OUTCOME_SOLD_OUT,
            OUTCOME_REPLAYED,
            OUTCOME_CONFLICT,
            OUTCOME_PLACED,
            OUTCOME_CONFLICT,
        ]
        assert results[0].pledge == app.presale.pledge("c", "old")
        assert results[1].pledge == results[3].pledge == app.presale.pledge("c", "b")
        assert isinstance(results[2].error, SoldOut) and results[2].error.units_left == 1
        assert isinstance(results[4].error, IdempotencyConflict)
        assert results[4].error.differences == {"quantity": (3, 2)}
        assert results[6].error.differences == {"quantity": (1, 9)}
        assert results[2].to_dict()["error"]["kind"] == SoldOut.kind
        assert sorted(p.key for p in app.presale.pledges("c")) == ["b", "d", "old"]
        assert {p.state for p in app.presale.pledges("c")} == {COMMITTED}
        assert app.presale.offers("c")[0].held == 5
        assert app.presale.audit("c").ok
        # sending the whole batch again changes nothing and replays every stored pledge
        again = app.presale.place_many("c", requests(variant_id, ("bo", 3, "b"), ("di", 1, "d")))
        assert [r.outcome for r in again] == [OUTCOME_REPLAYED, OUTCOME_REPLAYED]
        assert len(app.presale.pledges("c")) == 3


def test_place_many_waitlists_beyond_capacity(tmp_path):
    db_path = tmp_path / "c2m.db"
    variant_id = open_presale(db_path, capacity=2, waitlist=True)
    with C2M(db_path) as app:
        results = app.presale.place_many("c", requests(variant_id, ("ana", 2, "a"), ("bo", 1, "b")))
        assert [r.outcome for r in results] == [OUTCOME_PLACED, OUTCOME_PLACED]
        assert [r.pledge.state for r in results] == [COMMITTED, WAITLISTED]
        assert len(app.presale.payments("c")) == 1
        app.presale.cancel("c", "a")
        assert app.presale.pledge("c", "b").state == COMMITTED  # promoted, then captured
        assert app.presale.audit("c").ok


@pytest.mark.parametrize(
    "batch, field",
    [
        ([{"variant_id": 1, "customer": "a", "quantity": 0, "key": "k"}], "pledges[1].quantity"),
        ([{"variant_id": 1, "customer": "a", "key": "k"}], "quantity missing"),
        ([{"variant_id": 1, "customer": "a", "quantity": 1, "key": "k", "x": 1}], "'x'"),
        (["not a mapping"], "pledges[1]"),
        ([{"variant_id": 999, "customer": "a", "quantity": 1, "key": "k"}], "pledges[1].variant"),
    ],
)
def test_place_many_refuses_a_bad_request_and_stores_nothing(tmp_path, batch, field):
    db_path = tmp_path / "c2m.db"
    variant_id = open_presale(db_path, capacity=10)
    with C2M(db_path) as app:
        good = {"variant_id": variant_id, "customer": "z", "quantity": 1, "key": "good"}
        with pytest.raises(InvalidInput, match=field.replace("[", r"\[").replace("]", r"\]")):
            app.presale.place_many("c", [good, *batch])
        assert app.presale.pledges("c") == []
        assert app.presale.offers("c")[0].held == 0


WORKERS = 4


def run(target, argument_lists):
    ctx = multiprocessing.get_context("spawn")
    processes = [ctx.Process(target=target, args=args) for args in argument_lists]
    for process in processes:
        process.start()
    return join_all(processes)


def test_place_many_from_concurrent_processes_never_oversells_and_counter_equals_recount(
    tmp_path,
):
    db_path = tmp_path / "c2m.db"
    capacity = 300
    variant_id = open_presale(db_path, deposit="10%", capacity=capacity)
    rng = random.Random(15)
    plans = [
        [
            [
                {"customer": f"w{w}", "quantity": rng.randint(1, 3), "key": f"w{w}-{b}-{i}"}
                for i in range(25)
            ]
            for b in range(4)
        ]
        + [[{"customer": f"w{w}", "quantity": 1, "key": f"w{w}-last-{i}"} for i in range(25)]]
        for w in range(WORKERS)
    ]  # about 600 units asked of 300; every process ends with single units, to fill it up
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    exit_codes = run(
        presale_workers.place_batches,
        [(db_path, "c", variant_id, plans[w], barrier, results) for w in range(WORKERS)],
    )
    assert exit_codes == [0] * WORKERS
    seen = [row for _ in range(WORKERS) for row in results.get(timeout=HANG_SECONDS)]
    with C2M(db_path) as app:
        pledges = app.presale.pledges("c")
        assert sum(p.quantity for p in pledges) == capacity  # sold out exactly, never over
        assert {p.state for p in pledges} == {COMMITTED}
        (audit,) = app.presale.audit("c").variants
        assert audit.counter == audit.recount == capacity
        placed = {key for key, outcome, _ in seen if outcome == OUTCOME_PLACED}
        assert placed == {p.key for p in pledges}
        assert Counter(o for _, o, _ in seen)[OUTCOME_SOLD_OUT] == len(seen) - len(placed)
        assert len(app.presale.payments("c", ("succeeded",))) == len(pledges)


def test_place_many_replayed_from_several_processes_stores_each_pledge_once(tmp_path):
    db_path = tmp_path / "c2m.db"
    variant_id = open_presale(db_path, deposit="10%", capacity=10_000)
    batches = [
        [{"customer": f"c{b}-{i}", "quantity": 1 + i % 3, "key": f"k{b}-{i}"} for i in range(40)]
        for b in range(5)
    ]
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    # every process sends the same batches, each in its own order
    orders = [batches[w:] + batches[:w] for w in range(WORKERS)]
    exit_codes = run(
        presale_workers.place_batches,
        [(db_path, "c", variant_id, orders[w], barrier, results) for w in range(WORKERS)],
    )
    assert exit_codes == [0] * WORKERS
    seen = [row for _ in range(WORKERS) for row in results.get(timeout=HANG_SECONDS)]
    keys = {r["key"] for batch in batches for r in batch}
    outcomes = Counter((key, outcome) for key, outcome, _ in seen)
    assert {key for key, outcome in outcomes if outcome == OUTCOME_PLACED} == keys
    assert all(outcomes[(key, OUTCOME_PLACED)] == 1 for key in keys)
    assert all(outcomes[(key, OUTCOME_REPLAYED)] == WORKERS - 1 for key in keys)
    ids = {}
    for key, _, pledge_id in seen:
        assert ids.setdefault(key, pledge_id) == pledge_id  # every answer names the same pledge
    with C2M(db_path) as app:
        pledges = app.presale.pledges("c")
        assert sorted(p.key for p in pledges) == sorted(keys)
        captures = [e for e in app.store.presale.ledger() if e.operation == "capture"]
        assert len(captures) == len(keys)
        (audit,) = app.presale.audit("c").variants
        assert audit.counter == audit.recount == sum(p.quantity for p in pledges)


def test_a_pledge_as_data_matches_its_amounts():
    from hypothesis import given
    from hypothesis import strategies as st

    from c2m_core.presale.records import Pledge

    @given(
        st.integers(1, 1000),
        st.integers(0, 10**7),
        st.integers(0, 10**6),
        st.integers(0, 10**7),
        st.sampled_from([None, "north"]),
    )
    def check(quantity, price, deposit, credit, region):
        pledge = Pledge(
            1, 2, 3, "ana", quantity, region, "k", "f", COMMITTED, "CNY", price, deposit, credit
        )
        amounts = pledge.amounts
        expected = attrs.asdict(pledge) | {
            "total": amounts.total.amount,
            "deposit": amounts.deposit.amount,
            "balance": amounts.balance.amount,
            "personalisation": [],
        }
        assert pledge.to_dict() == expected

    check()


def test_new_pledge_payloads_are_the_text_the_event_log_makes_of_their_dicts():
    """The hot path writes the three payloads of a new pledge as text; each is exactly what
    ``Store.event`` writes for the dict a shop's code reads (``_pledge_payload``)."""
    from hypothesis import given
    from hypothesis import strategies as st

    from c2m_core.campaigns.records import Campaign
    from c2m_core.presale.records import Pledge
    from c2m_core.presale.service import (
        DEPOSIT,
        _captured_json,
        _committed_json,
        _placed_json,
        _pledge_payload,
        _text_json,
    )
    from c2m_core.store.database import _payload_json

    text = st.text(min_size=1, max_size=12)

    @given(
        text, text, text, st.one_of(st.none(), text), st.integers(1, 10**9),
        st.integers(0, 10**7), st.integers(0, 10**7), st.integers(0, 10**7),
        st.integers(1, 2**40), st.integers(1, 2**40), text,
    )  # fmt: skip
    def check(slug, customer, key, region, quantity, price, deposit, credit, pid, pay, ref):
        campaign = Campaign(7, slug, "tv", slug, "CNY", ("presale",), state="presale")
        now = "2030-01-01T12:00:00.000000+00:00"
        pledge = Pledge(
            pid, 7, 3, customer, quantity, region, key, "ab" * 32, COMMITTED, "CNY", price,
            deposit, credit, now, now,
        )  # fmt: skip
        placed = _pledge_payload(campaign, pledge, **(pledge.to_dict() | {"state": PLACED}))
        captured = _pledge_payload(
            campaign, pledge, payment_id=pay, kind=DEPOSIT, amount=deposit * quantity,
            reference=ref,
        )  # fmt: skip
        slug_json = _text_json(slug)
        assert _placed_json(slug_json, pledge) == _payload_json(placed)
        assert _captured_json(slug_json, pledge, pay, ref) == _payload_json(captured)
        assert _committed_json(slug_json, pledge) == _payload_json(
            _pledge_payload(campaign, pledge)
        )

    check()


def test_a_fingerprint_is_the_digest_of_the_canonical_request():
    """The fingerprint stored with every pledge, against its definition (sha256 of the sorted,
    compact JSON of the request): pledges stored before keep answering replays."""
    import hashlib
    import json

    from hypothesis import given
    from hypothesis import strategies as st

    from c2m_core.presale.records import fingerprint

    @given(st.integers(1, 2**40), st.text(), st.integers(1, 10**9), st.one_of(st.none(), st.text()))
    def check(variant_id, customer, quantity, region):
        request = {"variant": variant_id, "customer": customer, "quantity": quantity,
                   "region": region}  # fmt: skip
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
        expected = hashlib.sha256(canonical.encode()).hexdigest()
        assert fingerprint(variant_id, customer, quantity, region) == expected

    check()
