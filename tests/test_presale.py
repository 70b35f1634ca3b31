"""The pre-sale service: opening, pledging, capacity, waitlist, closing, refunds, hooks."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2m_core import C2M, C2MError, InvalidInput, Money, NotFound, hookimpl
from c2m_core.campaigns import IllegalTransition
from c2m_core.presale import Demand
from c2m_core.presale.records import (
    BALANCE_DUE,
    CANCELLED,
    COMMITTED,
    PAID,
    PLACED,
    REFUNDED,
    WAITLISTED,
    CancellationRefused,
    IdempotencyConflict,
    PresaleClosed,
    PresaleNotSettled,
    SoldOut,
)

SMALL_FEET = {"size": "s", "stand": "feet"}  # 100.00 EUR
LARGE_WALL = {"size": "l", "stand": "wall"}  # 150.00 EUR
SMALL_WALL = {"size": "s", "stand": "wall"}  # 100.00 EUR
START = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now


class Recorder:
    """Records every pre-sale notification."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def pledge_placed(self, campaign, pledge):
        self.calls.append(("pledge_placed", campaign.slug, pledge.key, pledge.state))

    @hookimpl
    def pledge_cancelled(self, campaign, pledge, reason):
        self.calls.append(("pledge_cancelled", campaign.slug, pledge.key, reason))

    @hookimpl
    def variant_tipped(self, campaign, variant, units):
        self.calls.append(("variant_tipped", campaign.slug, variant.id, units))

    @hookimpl
    def presale_closed(self, campaign, tipped, failed):
        self.calls.append(
            ("presale_closed", campaign.slug, [v.id for v in tipped], [v.id for v in failed])
        )


class Flaky:
    """A provider ``flaky`` that fails chosen operations a set number of times.

    ``when="after"`` records the movement in the ledger and then raises, as when the provider
    moved the money but its answer was lost; ``"before"`` raises without moving anything.
    """

    def __init__(self):
        self.failures = {}  # (operation, key) -> [times left, when]
        self.calls = []

    def fail(self, operation, key, times=1, when="before"):
        self.failures[(operation, key)] = [times, when]

    def _do(self, app, operation, key, amount, pledge):
        self.calls.append((operation, key))
        failure = self.failures.get((operation, key))
        if failure and failure[0] > 0:
            failure[0] -= 1
            if failure[1] == "after":
                app.store.presale.ledger_record(
                    "flaky", operation, key, amount, pledge.campaign_id, pledge.id
                )
            raise ConnectionError(f"{operation} timed out")
        return app.store.presale.ledger_record(
            "flaky", operation, key, amount, pledge.campaign_id, pledge.id
        )

    @hookimpl
    def register_payment_providers(self):
        return ["flaky"]

    @hookimpl
    def authorize_payment(self, app, provider, pledge, payment):
        if provider == "flaky":
            return self._do(app, "authorize", payment.key, payment.amount, pledge)

    @hookimpl
    def capture_payment(self, app, provider, pledge, payment, authorization):
        if provider == "flaky":
            assert authorization.startswith("flaky-authorize-")
            return self._do(app, "capture", payment.key, payment.amount, pledge)

    @hookimpl
    def refund_payment(self, app, provider, pledge, refund):
        if provider == "flaky":
            return self._do(app, "refund", refund.key, refund.amount, pledge)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_app(tmp_path, mini_catalog, category_plugin, clock):
    apps = []

    def make(*plugins, catalog=None):
        app = C2M(
            tmp_path / f"c2m-{len(apps)}.db",
            plugins=[category_plugin(catalog or mini_catalog), *plugins],
            clock=clock,
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def selling(app, slug="c", configurations=(SMALL_FEET, LARGE_WALL), stages=("presale",), **kw):
    """A campaign in its presale state with these variants; returns the variants."""
    app.campaigns.create(slug, "mini", stages=stages, **kw)
    variants = [app.variants.add(slug, c) for c in configurations]
    while app.campaigns.get(slug).state != "presale":
        app.campaigns.advance(slug)
    return variants


def ledger_sum(app, operation, provider="ledger"):
    return sum(
        e.amount.amount
        for e in app.store.presale.ledger()
        if e.operation == operation and e.provider == provider
    )


# Opening -----------------------------------------------------------------------------------------


def test_open_freezes_catalog_prices_and_deposits(make_app):
    app = make_app()
    small, large = selling(app)
    app.presale.open("c", "7d", deposit="10%", threshold=3, capacity=10)
    offers = {o.variant_id: o for o in app.presale.offers("c")}
    # base 100.00 EUR; the large size adds 50.00
    assert (offers[small.id].unit_price, offers[small.id].deposit_per_unit) == (10000, 1000)
    assert (offers[large.id].unit_price, offers[large.id].deposit_per_unit) == (15000, 1500)
    assert {(o.threshold, o.capacity, o.state) for o in offers.values()} == {(3, 10, "open")}
    assert app.presale.get("c").deadline == "2030-01-08T12:00:00.000000+00:00"


def test_price_variant_hook_overrides_the_catalog_price(make_app):
    class Pricing:
        @hookimpl
        def price_variant(self, campaign, variant, catalog):
            if variant.configuration["size"] == "l":
                assert catalog.id == "mini"
                return Money(12345, campaign.currency)
            return None

    app = make_app(Pricing())
    small, large = selling(app)
    app.presale.open("c", "7d", deposit="10%")
    prices = {o.variant_id: o.unit_price for o in app.presale.offers("c")}
    assert prices == {small.id: 10000, large.id: 12345}


def test_price_variant_answer_in_another_currency_is_refused(make_app):
    class Pricing:
        @hookimpl
        def price_variant(self):
            return Money(100, "USD")

    app = make_app(Pricing())
    selling(app)
    with pytest.raises(InvalidInput, match="not a positive Money amount in EUR"):
        app.presale.open("c", "7d")


def test_campaign_selling_in_another_currency_needs_a_pricing_plugin(make_app):
    app = make_app()
    selling(app, currency="USD")
    with pytest.raises(InvalidInput, match="sells in USD but its catalog prices are in EUR"):
        app.presale.open("c", "7d")


def test_open_refuses_bad_input_with_the_field_named(make_app, clock):
    app = make_app()
    app.campaigns.create("draft", "mini", stages=["presale"])
    with pytest.raises(IllegalTransition, match="state 'draft'; this needs 'presale'"):
        app.presale.open("draft", "7d")
    small, _ = selling(app)
    with pytest.raises(InvalidInput, match="deadline: .* has passed"):
        app.presale.open("c", "2029-12-31T00:00:00")
    with pytest.raises(InvalidInput, match="deadline: 'soon' is not a time"):
        app.presale.open("c", "soon")
    with pytest.raises(InvalidInput, match="provider: .*'stripe'; available: ledger"):
        app.presale.open("c", "7d", provider="stripe")
    with pytest.raises(InvalidInput, match="more than the price"):
        app.presale.open("c", "7d", deposit="120")
    with pytest.raises(InvalidInput, match="capacity: -1"):
        app.presale.open("c", "7d", capacity=-1)
    with pytest.raises(InvalidInput, match="variants: 99 can't be sold"):
        app.presale.open("c", "7d", variants=[99])
    with pytest.raises(InvalidInput, match="unknown field 'price'"):
        app.presale.open("c", "7d", overrides={small.id: {"price": 1}})
    assert app.store.presale.presale(app.campaigns.get("c").id) is None
    app.presale.open("c", "7d")
    with pytest.raises(IllegalTransition, match="already opened"):
        app.presale.open("c", "7d")


def test_per_variant_overrides_and_variant_choice(make_app):
    app = make_app()
    small, large, other = selling(app, configurations=(SMALL_FEET, LARGE_WALL, SMALL_WALL))
    app.presale.open(
        "c",
        "7d",
        threshold=5,
        capacity=50,
        variants=[large.id, small.id],
        overrides={large.id: {"threshold": 2, "capacity": None}},
    )
    offers = {o.variant_id: (o.threshold, o.capacity) for o in app.presale.offers("c")}
    assert offers == {small.id: (5, 50), large.id: (2, None)}
    with pytest.raises(InvalidInput, match=f"variant: {other.id} is not on sale"):
        app.presale.place("c", other.id, "ann", 1, "k")


def test_threshold_defaults_to_the_campaign_moq(make_app):
    app = make_app()
    selling(app, settings={"moq": 7})
    app.presale.open("c", "7d")
    assert {o.threshold for o in app.presale.offers("c")} == {7}


def test_voting_campaign_sells_the_vote_winners(make_app):
    class Votes:
        def winners(self, slug):
            return [large.id]

    app = make_app()
    small, large = selling(app, stages=("vote", "presale"))
    app.voting = Votes()
    app.presale.open("c", "7d")
    assert [o.variant_id for o in app.presale.offers("c")] == [large.id]


def test_voting_campaign_without_a_voting_service_sells_all_variants(make_app):
    app = make_app()
    small, large = selling(app, stages=("vote", "presale"))
    app.presale.open("c", "7d")
    assert [o.variant_id for o in app.presale.offers("c")] == [small.id, large.id]


# Pledging ----------------------------------------------------------------------------------------


def test_pledge_captures_its_deposit_and_records_every_transition(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d", deposit="10%")
    pledge = app.presale.place("c", small.id, "ann", 3, "order-1", region="eu")
    assert pledge.state == COMMITTED
    assert pledge.amounts.deposit == Money(3000, "EUR")
    assert pledge.amounts.balance == Money(27000, "EUR")
    assert [(t.from_state, t.to_state) for t in app.presale.history("c", "order-1")] == [
        (None, PLACED),
        (PLACED, COMMITTED),
    ]
    [payment] = app.presale.payments("c")
    assert (payment.state, payment.amount, payment.attempts) == ("succeeded", Money(3000, "EUR"), 1)
    assert payment.reference.startswith("ledger-capture-")
    assert ledger_sum(app, "capture") == 3000
    types = [e.type for e in app.events.since(0, campaign="c")]
    assert types[-3:] == ["pledge.placed", "payment.succeeded", "pledge.committed"]


def test_same_key_same_request_returns_the_same_pledge(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d")
    first = app.presale.place("c", small.id, "ann", 2, "k1")
    again = app.presale.place("c", small.id, "ann", 2, "k1")
    assert again == first
    assert len(app.presale.pledges("c")) == 1
    assert ledger_sum(app, "capture") == 20000


def test_same_key_different_request_is_a_conflict(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d")
    app.presale.place("c", small.id, "ann", 2, "k1")
    with pytest.raises(IdempotencyConflict, match="'k1'.*quantity was 2, now 3") as info:
        app.presale.place("c", small.id, "ann", 3, "k1")
    assert info.value.differences == {"quantity": (2, 3)}
    assert len(app.presale.pledges("c")) == 1


@pytest.mark.parametrize(
    "field, args, accepted",
    [
        ("quantity", dict(quantity=0), "whole number from 1 to"),
        ("customer", dict(customer=" "), "non-blank text"),
        ("key", dict(key=""), "non-blank text"),
        ("region", dict(region=""), "non-blank text"),
    ],
)
def test_bad_pledge_input_names_the_field(make_app, field, args, accepted):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d")
    request = dict(variant_id=small.id, customer="ann", quantity=1, key="k") | args
    with pytest.raises(InvalidInput, match=f"{field}: .*{accepted}"):
        app.presale.place("c", **request)


def test_beyond_capacity_is_sold_out_with_the_units_left(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d", capacity=5)
    app.presale.place("c", small.id, "ann", 3, "k1")
    with pytest.raises(SoldOut, match="3 unit.*2 left") as info:
        app.presale.place("c", small.id, "bob", 3, "k2")
    assert info.value.units_left == 2
    app.presale.place("c", small.id, "bob", 2, "k2")
    with pytest.raises(SoldOut, match="0 left"):
        app.presale.place("c", small.id, "cat", 1, "k3")
    assert app.presale.status("c").variants[0].units_left == 0


def test_capacity_zero_sells_nothing_and_fails(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d", capacity=0, threshold=1)
    with pytest.raises(SoldOut) as info:
        app.presale.place("c", small.id, "ann", 1, "k1")
    assert info.value.units_left == 0
    status = app.presale.close("c")
    assert [v.state for v in status.variants] == ["failed", "failed"]
    assert app.presale.pledges("c") == []


def test_waitlist_promotes_in_order_as_units_free_up(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d", capacity=5, waitlist=True)
    place = app.presale.place
    place("c", small.id, "p1", 3, "p1")
    place("c", small.id, "p2", 2, "p2")
    assert [place("c", small.id, k, q, k).state for k, q in [("w1", 3), ("w2", 2), ("w3", 1)]] == [
        WAITLISTED
    ] * 3
    assert ledger_sum(app, "capture") == 5 * 10000  # waiting pledges pay nothing
    app.presale.cancel("c", "p2")  # frees 2: w1 (3) does not fit, w2 (2) does
    states = {p.key: p.state for p in app.presale.pledges("c")}
    assert states == {
        "p1": COMMITTED,
        "p2": REFUNDED,
        "w1": WAITLISTED,
        "w2": COMMITTED,
        "w3": WAITLISTED,
    }
    app.presale.cancel("c", "p1")  # frees 3: w1 first, then nothing left for w3
    states = {p.key: p.state for p in app.presale.pledges("c")}
    assert states["w1"] == COMMITTED and states["w3"] == WAITLISTED
    assert [t.reason for t in app.presale.history("c", "w1")][-2:] == [
        "promoted from the waitlist",
        "deposit captured",
    ]
    held = sum(p.quantity for p in app.presale.pledges("c", states=(COMMITTED,)))
    assert held == 5
    assert ledger_sum(app, "capture") - ledger_sum(app, "refund") == 5 * 10000
    app.presale.close("c")
    assert app.presale.pledge("c", "w3").state == CANCELLED


def test_cancel_before_tipping_refunds_the_deposit_and_frees_units(make_app):
    recorder = Recorder()
    app = make_app(recorder)
    small, _ = selling(app)
    app.presale.open("c", "7d", deposit="20%", capacity=2)
    app.presale.place("c", small.id, "ann", 2, "k1")
    app.presale.place("c", small.id, "ann", 2, "k1")  # a replay does not notify again
    assert recorder.calls == [("pledge_placed", "c", "k1", COMMITTED)]
    assert app.presale.status("c").variants[0].pledges == 1
    cancelled = app.presale.cancel("c", "k1")
    assert cancelled.state == REFUNDED
    [refund] = app.presale.refunds("c")
    assert (refund.amount, refund.state, refund.key) == (
        Money(4000, "EUR"),
        "succeeded",
        "c2m:c:1:deposit:refund",
    )
    assert app.presale.cancel("c", "k1") == cancelled  # again: nothing changes
    assert len(app.presale.refunds("c")) == 1
    assert app.presale.status("c").variants[0].pledges == 0
    app.presale.place("c", small.id, "bob", 2, "k2")  # the units are free again
    assert ("pledge_cancelled", "c", "k1", "customer") in recorder.calls
    with pytest.raises(NotFound, match="no pledge with key 'nope'"):
        app.presale.cancel("c", "nope")


# Closing -----------------------------------------------------------------------------------------


def test_threshold_met_exactly_tips_and_balance_falls_due(make_app):
    recorder = Recorder()
    app = make_app(recorder)
    small, large = selling(app)
    app.presale.open("c", "7d", deposit="10%", threshold=4)
    app.presale.place("c", small.id, "ann", 3, "a")
    app.presale.place("c", small.id, "bob", 1, "b")
    app.presale.place("c", large.id, "cat", 3, "c")  # missed by one
    status = app.presale.close("c")
    assert [
        (v.variant_id, v.state, v.units_at_close, v.committed_units) for v in status.variants
    ] == [(small.id, "tipped", 4, 4), (large.id, "failed", 3, 0)]
    assert [t.to_state for t in app.presale.history("c", "a")] == [
        PLACED,
        COMMITTED,
        "confirmed",
        BALANCE_DUE,
    ]
    assert app.presale.pledge("c", "c").state == REFUNDED
    assert ledger_sum(app, "refund") == 3 * 1500  # exactly the failed variant's deposits
    assert app.presale.refunds("c", ("pending", "failed")) == []
    assert recorder.calls[-3:] == [
        ("pledge_cancelled", "c", "c", "variant_failed"),
        ("variant_tipped", "c", small.id, 4),
        ("presale_closed", "c", [small.id], [large.id]),
    ]
    assert app.presale.close("c").state == "closed"  # closing again changes nothing
    assert (
        recorder.calls[-1][0] == "presale_closed"
        and len([c for c in recorder.calls if c[0] == "presale_closed"]) == 1
    )


def test_threshold_missed_by_one_refunds_every_deposit(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d", deposit="35%", threshold=5)
    for index, quantity in enumerate([1, 2, 1]):
        app.presale.place("c", small.id, f"u{index}", quantity, f"k{index}")
    app.presale.close("c")
    assert {p.state for p in app.presale.pledges("c")} == {REFUNDED}
    assert ledger_sum(app, "refund") == ledger_sum(app, "capture") == 4 * 3500
    assert app.presale.production_demand("c") == []


def test_deadline_passed_closes_on_the_next_command(make_app, clock):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "2030-01-02T00:00:00Z", threshold=1)
    app.presale.place("c", small.id, "ann", 1, "k1")
    clock.now = datetime.datetime(2030, 1, 2, tzinfo=datetime.UTC)
    with pytest.raises(PresaleClosed, match="closed at"):
        app.presale.place("c", small.id, "bob", 1, "k2")
    presale = app.presale.get("c")
    assert presale.state == "closed"
    assert app.presale.pledge("c", "k1").state == PAID  # full price paid up front: nothing due
    assert [e.type for e in app.events.since(0, types=("presale.closed",))] == ["presale.closed"]
    app.campaigns.advance("c")  # the campaign may now leave its presale


def test_status_after_the_deadline_says_due_and_closes_nothing(make_app, clock):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "1h", threshold=1)
    app.presale.place("c", small.id, "ann", 1, "k1")
    assert app.presale.status("c").seconds_left == 3600
    clock.now += datetime.timedelta(hours=2)
    status = app.presale.status("c")
    assert (status.state, status.seconds_left) == ("due_to_close", 0)
    assert status.variants[0].committed_units == 1  # still true: nothing was decided yet
    assert app.presale.get("c").state == "open"
    with pytest.raises(PresaleNotSettled, match="c2m presale close c"):
        app.presale.production_demand("c")
    assert app.presale.settle_due("c") == ["c"]
    assert app.presale.settle_due("c") == []  # idempotent
    assert app.presale.status("c").state == "closed"
    assert [d.quantity for d in app.presale.production_demand("c")] == [1]


def test_settle_due_closes_every_due_presale_and_only_those(make_app, clock):
    app = make_app()
    selling(app, slug="soon")
    selling(app, slug="later", configurations=(SMALL_WALL,))
    app.presale.open("soon", "1h")
    app.presale.open("later", "3h")
    clock.now += datetime.timedelta(hours=2)
    assert app.settle_due() == ["soon"]
    assert app.settle_due() == []
    assert [app.presale.get(s).state for s in ("soon", "later")] == ["closed", "open"]
    with pytest.raises(C2MError, match="outside a transaction"), app.store.transaction():
        app.settle_due()


def test_campaign_cannot_leave_an_open_presale(make_app):
    app = make_app()
    selling(app)
    app.presale.open("c", "7d")
    with pytest.raises(IllegalTransition, match="pre-sale is open until .*c2m presale close c"):
        app.campaigns.advance("c")
    app.presale.close("c")
    assert app.campaigns.advance("c").state == "closed"


def test_cancellation_after_tipping_is_refused_by_default(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d", deposit="10%", threshold=1)
    app.presale.place("c", small.id, "ann", 2, "k1")
    app.presale.close("c")
    with pytest.raises(CancellationRefused, match="tipped.*refuses cancellations after tipping"):
        app.presale.cancel("c", "k1")
    assert app.presale.pledge("c", "k1").state == BALANCE_DUE


@pytest.mark.parametrize(
    "rule, refunded, final",
    [("25%", 3000, REFUNDED), ("5", 3000, REFUNDED), ("100%", 0, CANCELLED), ("30", 0, CANCELLED)],
)
def test_cancellation_after_tipping_charges_the_campaigns_fee(make_app, rule, refunded, final):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d", deposit="20%", threshold=1, cancellation=rule)
    app.presale.place("c", small.id, "ann", 2, "k1")  # deposit 2 x 20.00
    app.presale.close("c")
    pledge = app.presale.cancel("c", "k1")
    assert pledge.state == final
    assert ledger_sum(app, "refund") == refunded
    assert ledger_sum(app, "capture") - ledger_sum(app, "refund") == 4000 - refunded
    assert app.presale.production_demand("c") == []


def test_jpy_has_no_minor_units(make_app, write_catalog, mini_text):
    from c2m_core import load_catalog

    yen = load_catalog(write_catalog(mini_text.replace('"EUR"', '"JPY"'), name="yen.toml"))
    app = make_app(catalog=yen)
    small, large = selling(app)  # prices 10,000 and 15,000 yen
    app.presale.open("c", "7d", deposit="3.33%", threshold=1)
    pledge = app.presale.place("c", large.id, "ann", 3, "k1")
    assert pledge.deposit_per_unit == 499  # 15,000 x 3.33% = 499.5, floored
    assert pledge.amounts.deposit == Money(1497, "JPY")
    assert pledge.amounts.balance == Money(45000 - 1497, "JPY")
    assert str(pledge.amounts.balance) == "JPY 43,503"
    with pytest.raises(InvalidInput, match="'0.5' is not an amount of JPY"):
        app.presale.open("c", "7d", deposit="0.5")
    app.presale.close("c")
    app.presale.charge_balances("c")
    assert app.presale.pledge("c", "k1").state == PAID
    assert ledger_sum(app, "capture") == 45000


def test_deposit_credit_takes_more_off_the_balance(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d", deposit="10", deposit_credit="15", threshold=1)
    pledge = app.presale.place("c", small.id, "ann", 2, "k1")
    assert (pledge.amounts.deposit.amount, pledge.amounts.balance.amount) == (2000, 17000)
    app.presale.close("c")
    app.presale.charge_balances("c")
    assert ledger_sum(app, "capture") == 2000 + 17000
    [balance] = app.presale.payments("c")[1:]
    assert (balance.kind, balance.amount.amount) == ("balance", 17000)


def test_production_demand_counts_confirmed_units_by_region(make_app):
    app = make_app()
    small, large, other = selling(app, configurations=(SMALL_FEET, LARGE_WALL, SMALL_WALL))
    app.presale.open("c", "7d", deposit="10%", threshold=3, cancellation="100%")
    app.presale.place("c", other.id, "a", 2, "a", region="eu")
    app.presale.place("c", other.id, "b", 1, "b")
    app.presale.place("c", other.id, "x", 1, "x", region="eu")
    app.presale.place("c", small.id, "c", 4, "c", region="us")
    app.presale.place("c", large.id, "d", 2, "d")  # fails
    app.presale.close("c")
    app.presale.cancel("c", "x")  # after tipping: keeps the fee, no longer demand
    app.presale.charge_balances("c", key="b")
    demand = app.presale.production_demand("c")
    assert demand == [
        Demand(small, 4, {"us": 4}, Money(10000, "EUR")),
        Demand(other, 3, {"default": 1, "eu": 2}, Money(10000, "EUR")),
    ]
    assert app.presale.pledge("c", "b").state == PAID


# Payments that fail ------------------------------------------------------------------------------


def test_failed_captures_and_refunds_are_completed_by_retry_without_double_counting(make_app):
    flaky = Flaky()
    app = make_app(flaky)
    small, large = selling(app)
    app.presale.open("c", "7d", deposit="10%", threshold=3, provider="flaky")
    flaky.fail("capture", "c2m:c:1:deposit", when="before")
    flaky.fail("capture", "c2m:c:2:deposit", times=2, when="after")  # moved, answer lost
    flaky.fail("authorize", "c2m:c:3:deposit")
    flaky.fail("refund", "c2m:c:4:deposit:refund", when="after")
    assert app.presale.place("c", small.id, "a", 2, "a").state == PLACED
    assert app.presale.place("c", small.id, "b", 1, "b").state == PLACED
    assert app.presale.place("c", large.id, "c", 1, "c").state == PLACED
    assert app.presale.place("c", large.id, "d", 1, "d").state == COMMITTED
    failed = app.presale.payments("c", ("failed",))
    assert [(p.pledge_id, p.attempts, p.authorization is not None) for p in failed] == [
        (1, 1, True),
        (2, 1, True),
        (3, 1, False),
    ]
    assert "ConnectionError: capture timed out" in failed[0].error
    assert app.presale.status("c").payments_unsettled == 3
    report = app.presale.retry("c")
    assert (report.payments_succeeded, report.payments_failed) == (2, 1)  # key 2 fails twice
    assert app.presale.place("c", small.id, "b", 1, "b").state == COMMITTED  # a replay retries
    app.presale.close("c")  # large variant fails: its refunds go through flaky too
    assert app.presale.pledge("c", "d").state == CANCELLED  # refund failed once
    assert app.presale.retry("c").refunds_succeeded == 1
    assert {p.key: p.state for p in app.presale.pledges("c")} == {
        "a": BALANCE_DUE,
        "b": BALANCE_DUE,
        "c": REFUNDED,
        "d": REFUNDED,
    }
    ledger = app.store.presale.ledger()
    keys = [(e.operation, e.key) for e in ledger]
    assert len(keys) == len(set(keys))  # every movement once, however often it was tried
    captured = ledger_sum(app, "capture", "flaky")
    refunded = ledger_sum(app, "refund", "flaky")
    assert captured == sum(p.amount.amount for p in app.presale.payments("c", ("succeeded",)))
    assert refunded == 2 * 1500
    assert captured - refunded == 3 * 1000
    assert flaky.calls.count(("capture", "c2m:c:2:deposit")) == 3
    assert app.presale.status("c").payments_unsettled == 0


def test_pledge_cancelled_before_its_deposit_settled_is_refunded_once_it_settles(make_app):
    flaky = Flaky()
    app = make_app(flaky)
    small, _ = selling(app)
    app.presale.open("c", "7d", provider="flaky", capacity=1)
    flaky.fail("capture", "c2m:c:1:deposit", when="after")
    assert app.presale.place("c", small.id, "a", 1, "a").state == PLACED
    assert app.presale.cancel("c", "a").state == CANCELLED
    app.presale.place("c", small.id, "b", 1, "b")  # the unit was freed
    app.presale.retry("c")
    assert app.presale.pledge("c", "a").state == REFUNDED
    assert ledger_sum(app, "capture", "flaky") - ledger_sum(app, "refund", "flaky") == 10000


def test_operations_refuse_to_run_inside_a_transaction(make_app):
    app = make_app()
    small, _ = selling(app)
    app.presale.open("c", "7d")
    with pytest.raises(C2MError, match="outside a transaction"), app.store.transaction():
        app.presale.place("c", small.id, "a", 1, "a")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    pledges=st.lists(
        st.tuples(st.integers(0, 1), st.integers(1, 5), st.booleans()), min_size=1, max_size=12
    ),
    threshold=st.integers(1, 12),
    basis_points=st.integers(1, 10_000),
)
def test_refunds_equal_what_was_captured(
    mini_catalog, category_plugin, pledges, threshold, basis_points
):
    with C2M(":memory:", plugins=[category_plugin(mini_catalog)], clock=Clock()) as app:
        variants = selling(app)
        app.presale.open("c", "7d", deposit=f"{basis_points // 100}.{basis_points % 100:02d}%",
                         threshold=threshold, cancellation="50%")  # fmt: skip
        for index, (which, quantity, cancel) in enumerate(pledges):
            app.presale.place("c", variants[which].id, f"u{index}", quantity, f"k{index}")
            if cancel:
                app.presale.cancel("c", f"k{index}")
        app.presale.close("c")
        captured = {p.pledge_id: p.amount.amount for p in app.presale.payments("c")}
        refunded = {r.pledge_id: r.amount.amount for r in app.presale.refunds("c", ("succeeded",))}
        for pledge in app.presale.pledges("c"):
            if pledge.state == REFUNDED:
                assert refunded[pledge.id] == captured[pledge.id] == pledge.amounts.deposit.amount
            else:
                assert pledge.state == BALANCE_DUE or pledge.state == PAID
                assert pledge.id not in refunded
        assert ledger_sum(app, "refund") == sum(refunded.values())
        assert ledger_sum(app, "capture") == sum(captured.values())
