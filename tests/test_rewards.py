"""Designer rewards and referrals: who earns, integer money that adds up, exactly-once payout."""

import multiprocessing
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loop_support import KeyLog, pay_in_process, run_campaign

from c2m_core import C2M, InvalidInput
from c2m_core.rewards import (
    AlreadyAttributed,
    ReferralLimit,
    RulesFrozen,
    SelfReferral,
    largest_remainder,
)


@pytest.fixture
def make_app(tmp_path, mini_catalog, category_plugin):
    apps = []

    def make(*plugins, name="c2m.db"):
        app = C2M(tmp_path / name, plugins=[category_plugin(mini_catalog), *plugins])
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@given(
    st.integers(0, 10**12),
    st.lists(st.integers(0, 10**6), min_size=1, max_size=30).filter(lambda w: sum(w) > 0),
)
def test_largest_remainder_adds_up_and_stays_within_a_unit(total, weights):
    parts = largest_remainder(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact_floor = total * weight // whole
        assert exact_floor <= part <= exact_floor + 1
        assert part >= 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pool=st.integers(0, 10**9),
    wishes=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(1, 50)),
        min_size=1,
        max_size=12,
    ),
)
def test_rewards_never_exceed_the_pool_and_add_up(
    tmp_path_factory, mini_catalog, category_plugin, pool, wishes
):
    _category_plugin = category_plugin
    folder = tmp_path_factory.mktemp("r")
    with C2M(folder / "c2m.db", plugins=[_category_plugin(mini_catalog)]) as app:
        app.campaigns.create("c", "mini", stages=("wishes", "presale", "handoff"))
        app.campaigns.advance("c", to="wishes")
        for customer, quantity in wishes:
            app.wishes.submit("c", customer, {"size": "s"}, quantity=quantity)
        small = app.variants.add("c", {"size": "s", "stand": "feet"})
        app.campaigns.advance("c", to="presale")
        app.presale.open("c", "7d", deposit="10%", threshold=1)
        app.rewards.set_rule("c", kind="fixed", amount=pool)
        app.presale.place("c", small.id, "buyer", 1, "k1")
        app.presale.close("c")
        app.handoff.run("c", [f"dir:{folder / 'out'}"])
        report = app.rewards.pay("c")
        rewards = app.rewards.ledger("c")
        assert sum(r.amount.amount for r in rewards) == pool
        assert report.paid_total.amount == pool
        by_author = Counter()
        for customer, quantity in wishes:
            by_author[customer] += quantity
        total = sum(by_author.values())
        for reward in rewards:
            assert reward.units == by_author[reward.recipient]
            assert abs(reward.amount.amount - pool * reward.units / total) < 1


def test_authors_of_the_tipped_variant_share_a_fixed_pool_by_units(make_app, tmp_path):
    app = make_app()
    small, large = run_campaign(app, tmp_path, rule={"kind": "fixed", "amount": 1000})
    assert app.rewards.authors("c", small.id) == {"alice": 2, "bob": 1}
    report = app.rewards.pay("c")
    rewards = {(r.recipient, r.variant_id): r.amount.amount for r in app.rewards.ledger("c")}
    # 1000 by 2:1 -> 666.67 and 333.33: largest remainder gives the odd cent to alice
    assert rewards == {("alice", small.id): 667, ("bob", small.id): 333}
    assert report.recorded == 2 and report.paid == 2 and report.paid_total.amount == 1000
    # the large/wall variant failed to tip: carol and dave earn nothing
    assert all(r.variant_id != large.id for r in app.rewards.ledger("c"))


def test_share_rule_takes_basis_points_of_the_confirmed_deposits(make_app, tmp_path):
    app = make_app()
    small, _ = run_campaign(app, tmp_path, rule={"kind": "share", "basis_points": 2500})
    # 4 units at 100.00 EUR with a 10% deposit: 40.00 EUR deposits, 25% of it: 10.00 EUR
    app.rewards.pay("c")
    assert sum(r.amount.amount for r in app.rewards.ledger("c")) == 1000


def test_no_reward_before_hand_off_nor_without_a_rule(make_app, tmp_path):
    app = make_app()
    with pytest.raises(InvalidInput, match="no reward rule"):
        run_campaign(app, tmp_path)
        app.rewards.pay("c")
    other = make_app(name="other.db")
    other.campaigns.create("d", "mini", stages=("presale", "handoff"))
    other.rewards.set_rule("d", amount=500)
    assert other.rewards.due("d") == []


def test_paying_again_pays_nothing_twice(make_app, tmp_path):
    log = tmp_path / "keys.log"
    app = make_app(KeyLog(log))
    run_campaign(app, tmp_path, rule={"kind": "fixed", "amount": 900, "provider": "keylog"})
    app.rewards.pay("c")
    again = app.rewards.pay("c")
    assert again.recorded == 0 and again.paid == 0
    assert len(log.read_text().splitlines()) == 2


def test_a_failed_payout_is_retried_with_the_same_key(make_app, tmp_path):
    log = tmp_path / "keys.log"
    provider = KeyLog(log, fail_keys={"c2m:c:reward:design:1:alice"})
    app = make_app(provider)
    run_campaign(app, tmp_path, rule={"kind": "fixed", "amount": 900, "provider": "keylog"})
    first = app.rewards.pay("c")
    assert (first.paid, first.failed) == (1, 1)
    failed = app.rewards.ledger("c", states=("failed",))
    assert [r.key for r in failed] == ["c2m:c:reward:design:1:alice"]
    assert "provider unavailable" in failed[0].error
    second = app.rewards.pay("c")
    assert (second.paid, second.failed) == (1, 0)
    keys = [line.split("\t")[0] for line in log.read_text().splitlines()]
    assert sorted(keys) == ["c2m:c:reward:design:1:alice", "c2m:c:reward:design:1:bob"]


def test_killed_between_payout_and_outcome_then_retried_pays_each_key_once_more_at_most(
    make_app, tmp_path, mini_catalog, category_plugin
):
    """A real process dies (SIGKILL) right after the provider paid, before c2m recorded it."""
    log = tmp_path / "keys.log"
    app = make_app(KeyLog(log))
    run_campaign(app, tmp_path, rule={"kind": "fixed", "amount": 900, "provider": "keylog"})
    app.close()
    catalog_path = tmp_path / "catalog.toml"
    db = tmp_path / "c2m.db"
    ctx = multiprocessing.get_context("spawn")
    worker = ctx.Process(target=pay_in_process, args=(db, catalog_path, log, "c", True))
    worker.start()
    worker.join(60)
    assert worker.exitcode == -9  # killed by SIGKILL after the first payout
    first = [line.split("\t")[0] for line in log.read_text().splitlines()]
    assert len(first) == 1
    with C2M(db, plugins=[category_plugin(mini_catalog), KeyLog(log)]) as a:
        pending = a.rewards.ledger("c", states=("pending",))
        assert len(pending) == 2  # recorded before the payout; the outcome never was
    retry = ctx.Process(target=pay_in_process, args=(db, catalog_path, log, "c", False))
    retry.start()
    retry.join(60)
    assert retry.exitcode == 0
    calls = Counter(line.split("\t")[0] for line in log.read_text().splitlines())
    assert set(calls) == {"c2m:c:reward:design:1:alice", "c2m:c:reward:design:1:bob"}
    assert calls[first[0]] == 2  # the killed payout is sent once more, with the same key
    assert all(n == 1 for key, n in calls.items() if key != first[0])
    with C2M(db, plugins=[category_plugin(mini_catalog), KeyLog(log)]) as a:
        assert {r.state for r in a.rewards.ledger("c")} == {"paid"}
        assert sum(r.amount.amount for r in a.rewards.ledger("c")) == 900
        a.rewards.pay("c")
    assert sum(Counter(line.split("\t")[0] for line in log.read_text().splitlines()).values()) == 3


def test_rule_is_frozen_once_rewards_are_recorded(make_app, tmp_path):
    app = make_app()
    run_campaign(app, tmp_path, rule={"kind": "fixed", "amount": 100})
    app.rewards.pay("c")
    with pytest.raises(RulesFrozen):
        app.rewards.set_rule("c", kind="fixed", amount=5000)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"kind": "bonus"}, "kind"),
        ({"amount": -1}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"kind": "share", "basis_points": 10_001}, "basis_points"),
        ({"referral_limit": 0}, "referral_limit"),
        ({"provider": "nope"}, "provider"),
    ],
)
def test_bad_rule_names_the_field(make_app, kwargs, field):
    app = make_app()
    app.campaigns.create("c", "mini")
    with pytest.raises(InvalidInput) as error:
        app.rewards.set_rule("c", **kwargs)
    assert error.value.field == field


# Referrals ---------------------------------------------------------------------------------------


def test_referral_attribution_limits_and_rewards(make_app, tmp_path):
    app = make_app()
    seen = {}

    def share_and_attribute(app, variants):
        small, _ = variants
        code = app.rewards.share("c", "alice", small.id)
        assert app.rewards.share("c", "alice", small.id).code == code.code  # one code
        app.rewards.visit(code.code, "visitor-1")
        app.rewards.visit(code.code)
        app.rewards.attribute("c", "c-k1", code.code)
        assert app.rewards.attribute("c", "c-k1", code.code).pledge_id  # same again: no-op
        with pytest.raises(ReferralLimit):
            app.rewards.attribute("c", "c-k2", code.code)  # limit 1
        other = app.rewards.share("c", "bob", small.id)
        with pytest.raises(AlreadyAttributed):
            app.rewards.attribute("c", "c-k1", other.code)
        own = app.rewards.share("c", "erin", small.id)
        with pytest.raises(SelfReferral):
            app.rewards.attribute("c", "c-k1", own.code)  # erin placed c-k1
        seen["funnel"] = app.rewards.funnel("c")

    run_campaign(
        app,
        tmp_path,
        rule={"kind": "fixed", "amount": 0, "referral_per_unit": 150, "referral_limit": 1},
        before_close=share_and_attribute,
    )
    row = seen["funnel"][0]
    assert (row.shares, row.visits, row.pledges, row.units) == (3, 2, 1, 2)
    app.rewards.pay("c")
    referral = [r for r in app.rewards.ledger("c") if r.kind == "referral"]
    assert [(r.recipient, r.amount.amount) for r in referral] == [("alice", 300)]


def test_attribution_limit_holds_under_concurrent_processes(make_app, tmp_path):
    """The count and the insert are one statement: processes racing for a code's last place."""
    app = make_app()
    app.campaigns.create("c", "mini", stages=("presale",))
    small = app.variants.add("c", {"size": "s", "stand": "feet"})
    app.campaigns.advance("c", to="presale")
    app.presale.open("c", "7d", deposit="10%", threshold=1)
    app.rewards.set_rule("c", referral_per_unit=10, referral_limit=3)
    for n in range(12):
        app.presale.place("c", small.id, f"buyer-{n}", 1, f"k{n}")
    code = app.rewards.share("c", "alice", small.id).code
    ctx = multiprocessing.get_context("spawn")
    import loop_workers

    barrier = ctx.Barrier(4)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=loop_workers.attribute_many,
            args=(app.db_path, tmp_path / "catalog.toml", code, range(w, 12, 4), barrier, results),
        )
        for w in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    accepted = sum(results.get(timeout=10) for _ in workers)
    assert accepted == 3
    assert len(app.store.rewards.attributions(app.campaigns.get("c").id)) == 3
