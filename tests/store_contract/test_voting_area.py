"""Contract: one vote per campaign, one current ballot per voter, every replaced one kept."""

import itertools
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_contract.support import (
    campaign,
    cast_ballots,
    cast_first_batches,
    count_choices,
    run_workers,
    vote,
)

from c2m_core.voting.result import VoteResult
from c2m_core.voting.vote import BallotCount, CastBallot, Vote, ballot_text

WORKERS = 4
VOTERS = 5
ROUNDS = 12
SLUGS = itertools.count()


def test_one_vote_per_campaign(store):
    owner = campaign(store, state="vote")
    opened = vote(store, owner.id)
    assert opened.state == "open" and opened.candidates == (1, 2)
    assert store.voting.for_campaign(owner.id) == opened
    with store.transaction():
        assert store.voting.insert(Vote(None, owner.id, "approval", (1, 2))) is None


def test_casting_replaces_and_keeps_the_history(store):
    owner = campaign(store, state="vote")
    opened = vote(store, owner.id)
    now = store.now()
    first = store.voting.cast(opened.id, [CastBallot("ann", {"choice": 1}, now)])
    assert first == [CastBallot("ann", {"choice": 1}, now, None)]
    done = store.voting.cast(
        opened.id,
        [
            CastBallot("ann", {"choice": 2}, now),
            CastBallot("bob", {"choice": 1}, now),
            CastBallot("bob", {"choice": 2}, now),
        ],
    )
    assert [c.replaced for c in done] == [{"choice": 1}, None, {"choice": 1}]
    assert store.voting.ballot(opened.id, "ann") == CastBallot("ann", {"choice": 2}, now)
    assert store.voting.ballot(opened.id, "zed") is None
    assert store.voting.count_ballots(opened.id) == 2
    assert store.voting.ballot_counts(opened.id) == [BallotCount({"choice": 2}, 2)]
    assert [b.voter for b in store.voting.ballots(opened.id)] == ["ann", "bob"]
    history = store.voting.history(opened.id)
    assert [(h.voter, h.ballot) for h in history] == [
        ("ann", {"choice": 1}),
        ("bob", {"choice": 1}),
    ]
    assert [h.ballot for h in store.voting.history(opened.id, "bob")] == [{"choice": 1}]


def test_a_closed_vote_takes_no_ballots(store, clock):
    owner = campaign(store, state="vote")
    opened = vote(store, owner.id)
    result = VoteResult(
        method="plurality",
        candidates=(1, 2),
        ballots=0,
        totals=({"variant": 1, "votes": 0}, {"variant": 2, "votes": 0}),
        ranking=(1, 2),
        winners=(1,),
        tie_breaks=("1 before 2: candidate order",),
    )
    with store.transaction():
        assert store.voting.close(opened.id, result)
        assert not store.voting.close(opened.id, result)
    closed = store.voting.for_campaign(owner.id)
    assert closed.state == "closed" and closed.result == result
    assert store.voting.cast(opened.id, [CastBallot("ann", {"choice": 1}, store.now())]) is None
    assert store.voting.count_ballots(opened.id) == 0


def test_concurrent_casts_keep_one_ballot_per_voter_and_every_replaced_one(store, store_target):
    owner = campaign(store, state="vote")
    opened = vote(store, owner.id)
    plans = [
        [(f"v{(w + r) % VOTERS}", (w * r) % 2 + 1) for r in range(ROUNDS)] for w in range(WORKERS)
    ]
    replaced = run_workers(cast_ballots, [(store_target, opened.id, plan) for plan in plans])
    cast = [entry for plan in plans for entry in plan]
    current = list(store.voting.ballots(opened.id))
    history = store.voting.history(opened.id)
    assert sorted(b.voter for b in current) == [f"v{n}" for n in range(VOTERS)]
    assert len(current) + len(history) == len(cast)
    assert sum(replaced) == len(history) == len(cast) - VOTERS
    for voter in {v for v, _ in cast}:
        kept = [b.ballot["choice"] for b in current if b.voter == voter]
        kept += [h.ballot["choice"] for h in history if h.voter == voter]
        assert Counter(kept) == Counter(c for v, c in cast if v == voter)
    # Every cast changed the running tally in its transaction: it equals a recount.
    recount = count_choices((c.ballot, c.voters) for c in store.voting.ballot_counts(opened.id))
    assert store.voting.running_tally(opened.id) == _nonzero(recount)


def _nonzero(counters: dict[str, int]) -> dict[str, int]:
    return {name: value for name, value in counters.items() if value}


VOTER = st.sampled_from(["ann", "bob", "cat", "dan"])
BATCHES = st.lists(
    st.lists(st.tuples(VOTER, st.integers(1, 3)), min_size=1, max_size=6), max_size=5
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=BATCHES)
def test_casting_matches_a_simple_reference(store, batches):
    owner = campaign(store, f"v{next(SLUGS)}", state="vote")
    opened = vote(store, owner.id)
    current, history, replaced = {}, [], []
    for batch in batches:
        done = store.voting.cast(
            opened.id, [CastBallot(v, {"choice": c}, store.now()) for v, c in batch], count_choices
        )
        replaced += [cast.replaced for cast in done]
        for voter, choice in batch:  # the reference: a dict and a list
            if voter in current:
                history.append((voter, current[voter]))
            current[voter] = choice
    assert {b.voter: b.ballot["choice"] for b in store.voting.ballots(opened.id)} == current
    assert [(h.voter, h.ballot["choice"]) for h in store.voting.history(opened.id)] == history
    expected, seen = [], {}
    for voter, choice in (pair for batch in batches for pair in batch):
        expected.append({"choice": seen[voter]} if voter in seen else None)
        seen[voter] = choice
    assert replaced == expected
    assert sum(c.voters for c in store.voting.ballot_counts(opened.id)) == len(current)
    reference = Counter(f"choice/{choice}" for choice in current.values())
    reference["ballots"] = len(current)
    assert store.voting.running_tally(opened.id) == _nonzero(dict(reference))


def test_casting_without_count_leaves_the_running_tally_alone(store):
    owner = campaign(store, state="vote")
    opened = vote(store, owner.id)
    now = store.now()
    store.voting.cast(opened.id, [CastBallot("ann", {"choice": 1}, now)], count_choices)
    store.voting.cast(opened.id, [CastBallot("bob", {"choice": 2}, now)])
    store.voting.cast(opened.id, [CastBallot("ann", {"choice": 2}, now)], count_choices)
    # ann's first ballot was subtracted when replaced; bob's was never counted
    assert store.voting.running_tally(opened.id) == {"ballots": 1, "choice/2": 1}


def test_cast_stores_the_texts_given_and_ignores_a_replaced_given(store):
    from c2m_core.voting.vote import ballot_text

    owner = campaign(store, f"v{next(SLUGS)}", state="vote")
    opened = vote(store, owner.id)
    now = store.now()
    stale = {"choice": 2}
    done = store.voting.cast(
        opened.id,
        [CastBallot("ann", {"choice": 1}, now, stale), CastBallot("bob", {"choice": 2}, now)],
        count_choices,
        [ballot_text({"choice": 1}), ballot_text({"choice": 2})],
    )
    assert [(c.voter, c.replaced) for c in done] == [("ann", None), ("bob", None)]
    again = store.voting.cast(
        opened.id, [CastBallot("ann", {"choice": 2}, now, stale)], count_choices, ['{"choice":2}']
    )
    assert again[0].replaced == {"choice": 1}
    assert [(c.ballot, c.voters) for c in store.voting.ballot_counts(opened.id)] == [
        ({"choice": 2}, 2)
    ]
    assert store.voting.running_tally(opened.id) == {"ballots": 2, "choice/2": 2}


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=BATCHES, first=st.lists(st.booleans(), min_size=5, max_size=5))
def test_first_ballots_are_stored_at_once_or_not_at_all(store, batches, first):
    """``cast_first`` stores a batch when every voter is new and once each, and nothing
    otherwise (``cast`` then stores it); the running tally follows either way."""
    owner = campaign(store, f"f{next(SLUGS)}", state="vote")
    opened = vote(store, owner.id)
    current: dict[str, int] = {}
    for batch, try_first in zip(batches, first, strict=False):
        now = store.now()
        texts = [ballot_text({"choice": c}) for _, c in batch]
        voters = [v for v, _ in batch]
        if try_first:
            fresh = len(set(voters)) == len(voters) and not set(voters) & current.keys()
            counted = count_choices(({"choice": c}, 1) for _, c in batch)
            assert store.voting.cast_first(opened.id, voters, texts, now, counted) is fresh
            if fresh:
                current.update(batch)
                continue
        casts = [CastBallot(v, {"choice": c}, now) for v, c in batch]
        store.voting.cast(opened.id, casts, count_choices, texts)
        current.update(batch)
    assert {b.voter: b.ballot["choice"] for b in store.voting.ballots(opened.id)} == current
    reference = Counter(f"choice/{choice}" for choice in current.values())
    reference["ballots"] = len(current)
    assert store.voting.running_tally(opened.id) == _nonzero(dict(reference))


def test_first_ballots_wait_for_an_open_vote(store):
    owner = campaign(store, f"f{next(SLUGS)}", state="vote")
    opened = vote(store, owner.id)
    with store.transaction():
        store.voting.close(opened.id, _empty_result())
    assert store.voting.cast_first(opened.id, ["ann"], ['{"choice":1}'], store.now()) is None
    assert store.voting.count_ballots(opened.id) == 0


def test_concurrent_first_ballots_keep_one_ballot_per_voter(store, store_target):
    """Writers storing overlapping batches by ``cast_first`` (and ``cast`` when a voter has a
    ballot already): one ballot per voter, every replaced one kept, the tally a recount."""
    owner = campaign(store, f"f{next(SLUGS)}", state="vote")
    opened = vote(store, owner.id)
    plans = [
        [[(f"v{(w * 7 + r * 3 + k) % 9}", (w + k) % 2 + 1) for k in range(4)] for r in range(6)]
        for w in range(WORKERS)
    ]
    replaced = run_workers(cast_first_batches, [(store_target, opened.id, p) for p in plans])
    cast = [entry for plan in plans for batch in plan for entry in batch]
    current = list(store.voting.ballots(opened.id))
    history = store.voting.history(opened.id)
    assert len(current) == len({v for v, _ in cast})
    assert len(current) + len(history) == len(cast)
    assert sum(replaced) == len(history)
    recount = count_choices((c.ballot, c.voters) for c in store.voting.ballot_counts(opened.id))
    assert store.voting.running_tally(opened.id) == _nonzero(recount)


def _empty_result() -> VoteResult:
    return VoteResult(
        method="plurality",
        candidates=(1, 2),
        ballots=0,
        totals=({"variant": 1, "votes": 0}, {"variant": 2, "votes": 0}),
        ranking=(1, 2),
        winners=(1,),
        tie_breaks=(),
    )
