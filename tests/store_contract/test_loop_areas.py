"""Contract: the rewards and feedback areas (``store.rewards``, ``store.feedback``).

The database enforces what the loop relies on, for every store implementation: one reward per
idempotency key and one payout per reward, one share code per (campaign, customer, variant), one
attribution per pledge, a code's limit of attributions, all with racing processes; feedback
stored as given (text is data) and listed per department.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

from c2m_core.campaigns.records import Campaign
from c2m_core.feedback.records import Feedback
from c2m_core.money import Money
from c2m_core.presale.pricing import CancellationRule, DepositRule
from c2m_core.presale.records import PLACED, Offer, Pledge, Presale
from c2m_core.rewards.records import FAILED, PAID, PENDING, Reward, RewardRule, ShareCode
from c2m_core.variants.records import Variant

sys.path.insert(0, str(Path(__file__).parent.parent))
import loop_workers  # noqa: E402

WORKERS = 4
DEADLINE = "2030-01-08T12:00:00.000000+00:00"


def on_sale(store, slug="c", variants=1):
    """A campaign with an open pre-sale on ``variants`` variants; returns (campaign id, offers)."""
    with store.transaction():
        campaign = store.campaigns.insert(
            Campaign(None, slug, "mini", slug, "EUR", ("presale",), state="presale")
        )
        store.presale.insert_presale(
            Presale(
                campaign.id, "open", DEADLINE, "ledger", DepositRule(basis_points=10_000),
                CancellationRule(), False, store.now(),
            )
        )  # fmt: skip
        offers = []
        for n in range(variants):
            variant = store.variants.insert(Variant(None, campaign.id, f"v{n}", f"v{n}", {}))
            offers.append(
                store.presale.insert_offer(
                    Offer(None, campaign.id, variant.id, n + 1, "EUR", 1000, 1000, 1000, 1, None)
                )
            )
    return campaign.id, offers


def pledge(offer, key):
    return Pledge(
        None, offer.campaign_id, offer.variant_id, "ann", 1, None, key, "f" + key, PLACED,
        "EUR", 1000, 1000, 1000,
    )  # fmt: skip


def reward(campaign_id, variant_id, key, amount=100, recipient="alice"):
    return Reward(None, campaign_id, variant_id, recipient, "design", 2, Money(amount, "EUR"), key)


def pledges(store, offer, count):
    with store.transaction():
        return [
            store.presale.insert_pledge(pledge(offer, f"k{n}"), "pledged") for n in range(count)
        ]


def run_workers(target, arguments):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(arguments)), ctx.Queue()
    processes = [ctx.Process(target=target, args=(*args, barrier, results)) for args in arguments]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return [results.get(timeout=5) for _ in processes]


# Rewards -------------------------------------------------------------------------------------


def test_the_rule_is_one_per_campaign_and_reads_back(store):
    campaign_id, _ = on_sale(store)
    assert store.rewards.rule(campaign_id) is None
    first = RewardRule(campaign_id, "fixed", "EUR", amount=500, referral_per_unit=20)
    store.rewards.put_rule(first)
    assert store.rewards.rule(campaign_id) == first
    second = RewardRule(campaign_id, "share", "EUR", basis_points=250, referral_limit=3)
    store.rewards.put_rule(second)
    assert store.rewards.rule(campaign_id) == second


def test_a_reward_is_recorded_once_per_key_and_paid_once(store, clock):
    campaign_id, [offer] = on_sale(store)
    assert store.rewards.record(reward(campaign_id, offer.variant_id, "key-1"))
    assert not store.rewards.record(reward(campaign_id, offer.variant_id, "key-1", amount=999))
    assert store.rewards.record(reward(campaign_id, offer.variant_id, "key-2", recipient="bob"))
    [one, two] = store.rewards.rewards(campaign_id)
    assert (one.key, one.amount, one.state, one.attempts) == (
        "key-1",
        Money(100, "EUR"),
        PENDING,
        0,
    )
    assert store.rewards.count(campaign_id) == 2
    store.rewards.attempt(one.id)
    assert store.rewards.failed(one.id, "provider down")
    assert store.rewards.reward(one.id).state == FAILED
    assert store.rewards.paid(one.id, "ref-1")
    assert not store.rewards.paid(one.id, "ref-2")  # paid already: the first outcome stays
    assert not store.rewards.failed(one.id, "late failure")
    found = store.rewards.reward(one.id)
    assert (found.state, found.reference, found.error, found.attempts) == (PAID, "ref-1", None, 1)
    assert [r.id for r in store.rewards.rewards(campaign_id, (PAID,))] == [one.id]
    assert [r.id for r in store.rewards.rewards(campaign_id, (PENDING, FAILED))] == [two.id]
    assert store.rewards.reward(10**9) is None


def test_share_codes_visits_attributions_and_the_funnel(store):
    campaign_id, [offer, other] = on_sale(store, variants=2)
    code = store.rewards.share_code(campaign_id, "alice", offer.variant_id, "code-a")
    assert code == "code-a"
    assert store.rewards.share_code(campaign_id, "alice", offer.variant_id, "code-b") == "code-a"
    share = store.rewards.code("code-a")
    assert (share.code, share.campaign_id, share.customer, share.variant_id) == (
        "code-a", campaign_id, "alice", offer.variant_id,
    )  # fmt: skip
    assert store.rewards.code("code-b") is None
    store.rewards.share_code(campaign_id, "bob", offer.variant_id, "code-c")
    store.rewards.add_visit("code-a", "visitor-1")
    store.rewards.add_visit("code-a", None)
    placed = pledges(store, offer, 3)
    assert store.rewards.attribute(placed[0].id, share, None)
    assert store.rewards.attribute(placed[1].id, share, None)
    bob = store.rewards.code("code-c")
    assert not store.rewards.attribute(placed[0].id, bob, None)  # one attribution per pledge
    assert store.rewards.attribution(placed[0].id).code == "code-a"
    assert store.rewards.attribution(placed[2].id) is None
    assert [a.pledge_id for a in store.rewards.attributions(campaign_id)] == [
        placed[0].id,
        placed[1].id,
    ]
    [row] = store.rewards.funnel(campaign_id)  # the variant nobody shared has no row
    assert (row.variant_id, row.shares, row.visits, row.pledges, row.units) == (
        offer.variant_id, 2, 2, 2, 2,
    )  # fmt: skip
    assert other.variant_id != row.variant_id


def test_a_code_counts_at_most_its_limit(store):
    campaign_id, [offer] = on_sale(store)
    store.rewards.share_code(campaign_id, "alice", offer.variant_id, "code-a")
    share = store.rewards.code("code-a")
    placed = pledges(store, offer, 4)
    taken = [store.rewards.attribute(p.id, share, 2) for p in placed]
    assert taken == [True, True, False, False]
    assert len(store.rewards.attributions(campaign_id)) == 2


def test_racing_processes_attribute_each_pledge_once(store, store_target):
    campaign_id, [offer] = on_sale(store)
    codes = [
        ShareCode(store.rewards.share_code(campaign_id, f"r{w}", offer.variant_id, f"c{w}"),
                  campaign_id, f"r{w}", offer.variant_id)
        for w in range(WORKERS)
    ]  # fmt: skip
    ids = [p.id for p in pledges(store, offer, 20)]
    taken = run_workers(
        loop_workers.store_attribute, [(store_target, ids, code, None) for code in codes]
    )
    assert sum(taken) == 20
    attributions = store.rewards.attributions(campaign_id)
    assert sorted(a.pledge_id for a in attributions) == sorted(ids)


def test_racing_processes_never_exceed_a_codes_limit(store, store_target):
    campaign_id, [offer] = on_sale(store)
    store.rewards.share_code(campaign_id, "alice", offer.variant_id, "code-a")
    share = store.rewards.code("code-a")
    ids = [p.id for p in pledges(store, offer, 24)]
    taken = run_workers(
        loop_workers.store_attribute,
        [(store_target, ids[w::WORKERS], share, 5) for w in range(WORKERS)],
    )
    assert sum(taken) == 5
    assert len(store.rewards.attributions(campaign_id)) == 5


def test_racing_processes_record_and_pay_each_key_once(store, store_target):
    campaign_id, [offer] = on_sale(store)
    due = [reward(campaign_id, offer.variant_id, f"key-{n}", recipient=f"r{n}") for n in range(10)]
    outcomes = run_workers(loop_workers.store_record_and_pay, [(store_target, due)] * WORKERS)
    assert sum(recorded for recorded, _ in outcomes) == 10
    assert sum(paid for _, paid in outcomes) == 10
    stored = store.rewards.rewards(campaign_id)
    assert sorted(r.key for r in stored) == sorted(r.key for r in due)
    assert {r.state for r in stored} == {PAID}


# Feedback ------------------------------------------------------------------------------------


def feedback(campaign_id, variant_id, text, department, tags=(), module=None):
    return Feedback(None, campaign_id, variant_id, "erin", text, 3, tuple(tags), department, module)


def test_feedback_is_stored_as_given_and_listed_per_department(store, clock):
    campaign_id, [offer] = on_sale(store)
    texts = ("'; DROP TABLE feedback; --", "{{ 7*7 }} <b>dim</b> ../../etc/passwd", "屏幕太暗")
    stored = [
        store.feedback.insert(
            feedback(campaign_id, offer.variant_id, texts[0], "customer_service", ["quality"])
        ),
        store.feedback.insert(
            feedback(campaign_id, offer.variant_id, texts[1], "production", module="backlight")
        ),
        store.feedback.insert(
            feedback(campaign_id, offer.variant_id, texts[2], "production", ["质量", "screen"])
        ),
    ]
    assert [f.text for f in stored] == list(texts)
    assert stored[0].id < stored[1].id < stored[2].id
    assert stored[2].tags == ("质量", "screen") and stored[1].module == "backlight"
    assert stored[0].created_at is not None
    assert store.feedback.for_campaign(campaign_id) == stored
    assert store.feedback.for_campaign(campaign_id, "production") == stored[1:]
    assert store.feedback.for_campaign(campaign_id, "finance") == []
    assert store.feedback.departments(campaign_id) == {"customer_service": 1, "production": 2}
    other, _ = on_sale(store, slug="other")
    assert store.feedback.for_campaign(other) == [] and store.feedback.departments(other) == {}
