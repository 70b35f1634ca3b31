"""Helpers for the store contract suite: records to store, and the worker processes.

Workers run in processes started with ``spawn`` and open their own store with
``c2m_core.store.open_store(target)``, as separate application servers would; they report what
they did. Everything here reaches the store through its interface only.
"""

from __future__ import annotations

import time

from c2m_core.campaigns.records import STAGES, Campaign
from c2m_core.store import open_store
from c2m_core.variants.records import Variant
from c2m_core.voting.vote import CastBallot, Vote, ballot_text
from c2m_core.wishes.records import Wish

CONFIGURATION = {"size": "65", "panel": "oled"}


def campaign(store, slug: str = "tv26", state: str = "wishes") -> Campaign:
    """A stored campaign in ``state``."""
    with store.transaction():
        return store.campaigns.insert(
            Campaign(
                id=None,
                slug=slug,
                category="tv",
                title=slug.upper(),
                currency="EUR",
                stages=STAGES,
                settings={"moq": 2},
                state=state,
            )
        )


def variant(campaign_id: int, key: str) -> Variant:
    return Variant(
        id=None,
        campaign_id=campaign_id,
        key=key,
        name=key.title(),
        configuration={"size": key},
    )


def wish(customer: str, external_id: str | None = None, **fields) -> Wish:
    return Wish(
        id=None,
        campaign_id=0,
        customer=customer,
        configuration=fields.pop("configuration", CONFIGURATION),
        external_id=external_id,
        **fields,
    )


def vote(store, campaign_id: int) -> Vote:
    with store.transaction():
        return store.voting.insert(
            Vote(id=None, campaign_id=campaign_id, method="plurality", candidates=(1, 2))
        )


# Workers --------------------------------------------------------------------------------------


def append_variants(target: str, campaign_id: int, keys: list[str], start):
    """Append variants (one transaction each); return (key, position, id) of each appended."""
    store = open_store(target)
    try:
        start.wait()
        done = []
        for key in keys:
            with store.transaction():
                added = store.variants.insert(variant(campaign_id, key))
            if added is not None:
                done.append((added.key, added.position, added.id))
        return done
    finally:
        store.close()


def count_choices(ballots) -> dict[str, int]:
    """A running tally's counters of ``{"choice": n}`` ballots: voters per choice and in all."""
    counters: dict[str, int] = {}
    for ballot, count in ballots:
        for name in (f"choice/{ballot['choice']}", "ballots"):
            counters[name] = counters.get(name, 0) + count
    return counters


def cast_ballots(target: str, vote_id: int, casts: list[tuple[str, int]], start):
    """Cast ``(voter, choice)`` ballots one by one, counted into the running tally; return how
    many replaced an earlier one."""
    store = open_store(target)
    try:
        start.wait()
        replaced = 0
        for voter, choice in casts:
            done = store.voting.cast(
                vote_id, [CastBallot(voter, {"choice": choice}, store.now())], count_choices
            )
            replaced += done[0].replaced is not None
        return replaced
    finally:
        store.close()


def queue_deliveries(target: str, handoff_id: str, targets: list[str], start):
    """Queue ``handoff_id`` for each target; return the targets this process queued."""
    store = open_store(target)
    try:
        start.wait()
        queued = []
        for name in targets:
            with store.transaction():
                if store.handoff.add_delivery(handoff_id, name, f"key-{name}") is not None:
                    queued.append(name)
        return queued
    finally:
        store.close()


def write_events(target: str, writer: int, count: int, start):
    """Write ``count`` events, one transaction each; return their ids."""
    store = open_store(target)
    try:
        start.wait()
        ids = []
        for n in range(count):
            with store.transaction():
                ids.append(store.event("test.written", None, {"writer": writer, "n": n}))
        return ids
    finally:
        store.close()


def follow_events(target: str, expected: int, start):
    """Follow the event log with a cursor until ``expected`` events were seen; return them."""
    store = open_store(target)
    try:
        start.wait()
        seen, cursor = [], 0
        while len(seen) < expected:
            batch = store.events_since(cursor, limit=7)
            if not batch:
                time.sleep(0.001)  # polling, as a shop backend would; no result depends on it
            for event in batch:
                seen.append((event.id, event.payload["writer"], event.payload["n"]))
                cursor = event.id
        return seen
    finally:
        store.close()


def insert_wishes(target: str, campaign_id: int, external_ids: list[str], start):
    """Store one batch of wishes with these external ids; return the ids stored."""
    store = open_store(target)
    try:
        start.wait()
        batch = store.wishes.insert_batch(
            campaign_id, [wish(f"c-{e}", e) for e in external_ids], "wishes"
        )
        return list(batch.wish_ids)
    finally:
        store.close()


def _main(index: int, function, args, start, results) -> None:
    results.put((index, function(*args, start)))


def run_jobs(jobs, timeout: float = 120) -> list:
    """Start one spawned process per ``(function, args)``, released together by a barrier
    passed as the last argument; what each function returned, in the order of ``jobs``."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [
        context.Process(target=_main, args=(index, function, args, start, results))
        for index, (function, args) in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    reports = dict(results.get(timeout=timeout) for _ in processes)
    for process in processes:
        process.join(timeout=timeout)
        assert process.exitcode == 0
    return [reports[index] for index in range(len(jobs))]


def cast_first_batches(target: str, vote_id: int, batches: list, start):
    """Store batches of ``(voter, choice)`` as an import does: by ``cast_first``, or by
    ``cast`` when a voter has a ballot already; return how many ballots were replaced."""
    store = open_store(target)
    try:
        start.wait()
        replaced = 0
        for batch in batches:
            voters = [voter for voter, _ in batch]
            texts = [ballot_text({"choice": choice}) for _, choice in batch]
            counted = count_choices(({"choice": choice}, 1) for _, choice in batch)
            with store.transaction():
                done = store.voting.cast_first(vote_id, voters, texts, store.now(), counted)
                if done is False:
                    casts = [CastBallot(v, {"choice": c}, store.now()) for v, c in batch]
                    stored = store.voting.cast(vote_id, casts, count_choices, texts)
                    replaced += sum(cast.replaced is not None for cast in stored)
        return replaced
    finally:
        store.close()


def run_workers(function, argument_lists, timeout: float = 120) -> list:
    """``run_jobs`` with one function for every process."""
    return run_jobs([(function, args) for args in argument_lists], timeout)


def advance_campaign(target: str, campaign_id: int, start):
    """Move the campaign from ``wishes`` to ``vote`` with its event; return whether it moved."""
    store = open_store(target)
    try:
        start.wait()
        with store.transaction():
            moved = store.campaigns.set_state(campaign_id, "wishes", "vote")
            if moved:
                store.event("campaign.advanced", campaign_id, {"from": "wishes", "to": "vote"})
        return moved
    finally:
        store.close()


def insert_wish_batches(target: str, campaign_id: int, writer: int, batches: int, start):
    """Store small batches until the campaign leaves ``wishes``; return how many were stored."""
    store = open_store(target)
    try:
        start.wait()
        stored = 0
        for n in range(batches):
            batch = store.wishes.insert_batch(
                campaign_id, [wish(f"w{writer}", f"{writer}-{n}-{k}") for k in range(3)], "wishes"
            )
            if batch is None:
                break
            stored += batch.stored
        return stored
    finally:
        store.close()
