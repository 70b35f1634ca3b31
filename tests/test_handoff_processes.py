"""Exactly once across processes: a crash between delivering and recording, concurrent runs."""

import hashlib
import json
import multiprocessing
import os
import signal

import pytest
from handoff_support import BIG_85, CINEMA_55, SECRET, Receiver, demand, tv_campaign
from waiting import HANG_SECONDS, join_all

from c2m_core import C2M, hookimpl
from c2m_core.handoff.connectors import DirConnector, WebhookConnector

spawn = multiprocessing.get_context("spawn")


def _die_after_first_delivery(connector, package):
    if type(connector).crash:
        os.kill(os.getpid(), signal.SIGKILL)  # the delivery happened, its record never will


class CrashingDir(DirConnector):
    scheme, usage, crash = "crashdir", "crashdir:PATH", False

    def deliver(self, package):
        receipt = super().deliver(package)
        _die_after_first_delivery(self, package)
        return receipt


class CrashingWebhook(WebhookConnector):
    scheme, usage, crash = "crashhook", "crashhook:URL", False

    def deliver(self, package):
        receipt = super().deliver(package)
        _die_after_first_delivery(self, package)
        return receipt


class CrashPlugin:
    @hookimpl
    def register_handoff_connectors(self):
        return [CrashingDir, CrashingWebhook]


def _lines(app):
    return [demand(v, eu=30, default=5) for v in app.variants.list("summer")]


def hand_off_and_die(db_path, target):
    os.environ["C2M_WEBHOOK_SECRET"] = SECRET
    CrashingDir.crash = CrashingWebhook.crash = True
    app = C2M(db_path=db_path, plugins=[CrashPlugin()])
    app.handoff.run("summer", [target], demand=_lines(app))


def hand_off_at_once(db_path, target, barrier):
    os.environ["C2M_WEBHOOK_SECRET"] = SECRET
    app = C2M(db_path=db_path)
    lines = _lines(app)
    barrier.wait(timeout=HANG_SECONDS)
    app.handoff.run("summer", [target], demand=lines)


def snapshot(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("HO-*")}


@pytest.mark.parametrize("kind", ["dir", "webhook"])
def test_a_process_killed_between_delivering_and_recording_resumes_without_duplicates(
    tmp_path, db_target, monkeypatch, kind
):
    monkeypatch.setenv("C2M_WEBHOOK_SECRET", SECRET)
    db_path = db_target
    with C2M(db_path=db_path) as app:
        tv_campaign(app, variants=(CINEMA_55, BIG_85))
    out = tmp_path / "out"
    with Receiver() as receiver:
        target = f"crashdir:{out}" if kind == "dir" else f"crashhook:{receiver.url()}"
        child = spawn.Process(target=hand_off_and_die, args=(db_path, target))
        child.start()
        child.join(HANG_SECONDS)
        assert child.exitcode == -signal.SIGKILL

        app = C2M(db_path=db_path, plugins=[CrashPlugin()])
        before = app.handoff.status("summer")
        assert [(d.handoff_id, d.state, d.attempts) for d in before.deliveries] == [
            ("HO-summer-V1", "pending", 1),
            ("HO-summer-V2", "pending", 0),
        ]
        delivered_by_the_dead = snapshot(out) if kind == "dir" else dict(receiver.accepted)

        after = app.handoff.run("summer", [target])  # no demand: the recorded hand-offs resume

    assert [h.id for h in after.handoffs] == [h.id for h in before.handoffs]
    assert [h.sha256 for h in after.handoffs] == [h.sha256 for h in before.handoffs]
    assert [(d.state, d.attempts) for d in after.deliveries] == [("delivered", 2), ("delivered", 1)]
    if kind == "dir":
        assert len(delivered_by_the_dead) == 5
        files = snapshot(out)
        assert {n: files[n] for n in delivered_by_the_dead} == delivered_by_the_dead
        assert after.deliveries[0].receipt["unchanged"] == sorted(
            delivered_by_the_dead, key=[d.name for d in app.handoff.documents("HO-summer-V1")].index
        )
        manifest = json.loads((out / "manifest.json").read_bytes())["files"]
        assert sorted(manifest) == sorted(files) and len(files) == 10
    else:
        keys = [h.idempotency_key for h in after.handoffs]
        assert list(delivered_by_the_dead) == keys[:1]
        assert [r["headers"]["webhook-id"] for r in receiver.requests] == [keys[0], *keys]
        assert sorted(receiver.accepted) == sorted(keys)  # each hand-off accepted once
    created = [e for e in app.store.events_since() if e.type == "handoff.created"]
    assert len(created) == 2


def test_concurrent_runs_record_once_and_post_each_hand_off_once(db_target, monkeypatch):
    monkeypatch.setenv("C2M_WEBHOOK_SECRET", SECRET)
    db_path = db_target
    with C2M(db_path=db_path) as app:
        tv_campaign(app, variants=(CINEMA_55, BIG_85))
    with Receiver(delay=0.3) as receiver:
        target = f"webhook:{receiver.url()}"
        barrier = spawn.Barrier(3)
        workers = [
            spawn.Process(target=hand_off_at_once, args=(db_path, target, barrier))
            for _ in range(3)
        ]
        for worker in workers:
            worker.start()
        assert join_all(workers) == [0, 0, 0]

        app = C2M(db_path=db_path)
        status = app.handoff.status("summer")
        assert [d.state for d in status.deliveries] == ["delivered", "delivered"]
        ids = [r["headers"]["webhook-id"] for r in receiver.requests]
        assert sorted(ids) == sorted(h.idempotency_key for h in status.handoffs)
        assert len([e for e in app.store.events_since() if e.type == "handoff.created"]) == 2
        assert len([e for e in app.store.events_since() if e.type == "handoff.delivered"]) == 2
