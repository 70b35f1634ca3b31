"""Contract: a follower of the event cursor sees every committed event exactly once while
several processes write."""

from store_contract.support import follow_events, run_jobs, write_events

WRITERS = 3
EVENTS = 40


def test_a_follower_sees_every_event_once_while_processes_write(store, store_target):
    jobs = [(write_events, (store_target, w, EVENTS)) for w in range(WRITERS)]
    jobs.append((follow_events, (store_target, WRITERS * EVENTS)))
    reports = run_jobs(jobs)
    *written, seen = reports
    assert len(seen) == WRITERS * EVENTS
    assert len({event_id for event_id, _, _ in seen}) == len(seen)
    assert sorted(event_id for event_id, _, _ in seen) == sorted(i for ids in written for i in ids)
    for writer in range(WRITERS):  # each writer's events in the order it committed them
        assert [n for _, w, n in seen if w == writer] == list(range(EVENTS))
