"""Several real processes casting for overlapping voters on one database (each backend)."""

import multiprocessing
import random
import time
from collections import Counter

from voting_support import voting_campaign
from waiting import HANG_SECONDS, join_all

from c2m_core import C2M
from c2m_core.voting.service import VoteNotOpen

VOTERS = 12
ROUNDS = 40
WORKERS = 4


def cast_for_overlapping_voters(db_path: str, seed: int, start, results) -> None:
    """Cast ROUNDS times (every fifth round a bulk of three); report what was cast."""
    rng = random.Random(seed)
    cast = []
    with C2M(db_path=db_path) as app:
        app.voting.get("tv26")  # open the database before the race starts
        start.wait()
        for round_ in range(ROUNDS):
            if round_ % 5 == 4:
                bulk = [(f"voter{rng.randrange(VOTERS)}", rng.randint(1, 3)) for _ in range(3)]
                report = app.voting.cast_many(
                    "tv26", [(voter, {"choice": choice}) for voter, choice in bulk], batch_size=2
                )
                assert report.imported == 3, report
                cast.extend(bulk)
            else:
                voter, choice = f"voter{rng.randrange(VOTERS)}", rng.randint(1, 3)
                app.voting.cast("tv26", voter, {"choice": choice})
                cast.append((voter, choice))
    results.put(cast)


def test_concurrent_casting_leaves_exactly_one_ballot_per_voter(db_target):
    db_path = str(db_target)
    with C2M(db_path=db_path) as app:
        voting_campaign(app)
        app.voting.open("tv26", "plurality")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WORKERS)
    results = context.Queue()
    workers = [
        context.Process(target=cast_for_overlapping_voters, args=(db_path, s, start, results))
        for s in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    everything = [item for _ in workers for item in results.get(timeout=HANG_SECONDS)]
    assert join_all(workers) == [0] * WORKERS
    assert len(everything) == WORKERS * (ROUNDS + ROUNDS // 5 * 2)
    with C2M(db_path=db_path) as app:
        vote = app.voting.get("tv26")
        stored = {cast.voter: cast.ballot["choice"] for cast in app.store.voting.ballots(vote.id)}
        history = app.voting.history("tv26")
        voters = {voter for voter, _ in everything}
        # Exactly one ballot per voter, and every earlier one is in the history: nothing is
        # lost and nothing is counted twice.
        assert set(stored) == voters
        assert len(stored) + len(history) == len(everything)
        for voter in voters:
            kept = [stored[voter]] + [h.ballot["choice"] for h in history if h.voter == voter]
            assert Counter(kept) == Counter(choice for v, choice in everything if v == voter)
        # Every cast changed the running tally in its own transaction: it equals a recount.
        audit = app.voting.audit("tv26")
        assert audit.running and audit.ok and audit.counters, audit
        recount = app.voting.recount(vote)
        assert app.voting.close("tv26") == recount
        assert recount.ballots == len(voters)


CASTERS = 3
#: Each caster stops after this many ballots (if the vote is still open); the closer closes
#: once this many are stored, so the close always lands while ballots are still arriving.
MAX_CASTS = 60
CLOSE_AFTER = 40


def cast_until_closed(db_path: str, worker: int, choices, start, results) -> None:
    """Cast first ballots of new voters until the vote refuses them; report how many took."""
    taken = 0
    with C2M(db_path=db_path) as app:
        app.voting.get("tv26")
        start.wait()
        while taken < MAX_CASTS:
            try:
                app.voting.cast("tv26", f"w{worker}-{taken}", {"choice": choices[taken % 3]})
            except VoteNotOpen:
                break
            taken += 1
    results.put(("cast", taken))


def close_while_casting(db_path: str, start, results) -> None:
    with C2M(db_path=db_path) as app:
        start.wait()
        while app.voting.count_ballots("tv26") < CLOSE_AFTER:
            time.sleep(0.001)
        results.put(("closed", app.voting.close("tv26").ballots))


def test_a_vote_closed_while_ballots_arrive_counts_exactly_the_ballots_it_accepted(db_target):
    db_path = str(db_target)
    with C2M(db_path=db_path) as app:
        choices = voting_campaign(app)
        app.voting.open("tv26", "plurality")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(CASTERS + 1)
    results = context.Queue()
    workers = [
        context.Process(target=cast_until_closed, args=(db_path, w, choices, start, results))
        for w in range(CASTERS)
    ]
    workers.append(context.Process(target=close_while_casting, args=(db_path, start, results)))
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=HANG_SECONDS) for _ in workers]
    assert join_all(workers) == [0] * len(workers)
    accepted = sum(n for kind, n in reports if kind == "cast")
    counted = [n for kind, n in reports if kind == "closed"]
    with C2M(db_path=db_path) as app:
        stored = app.voting.count_ballots("tv26")
        assert app.voting.audit("tv26").ok
        # Every ballot the vote accepted is stored and in its result; none came after.
        assert counted == [stored] == [accepted]
        assert app.voting.results("tv26").ballots == stored >= CLOSE_AFTER
