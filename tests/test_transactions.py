"""Money and notifications only after commit; reads never write (issue 12, section 2).

A recording provider and a recording notification plugin look at the database from a second
connection at the moment they are called: what they see there is what a customer's bank and a
shop's mailer would act on, so it must already be committed.
"""

from __future__ import annotations

import datetime
import json
import sqlite3

import pytest
from click.testing import CliRunner

from c2m_core import C2M, C2MError, hookimpl, hookspecs
from c2m_core.cli import make_cli
from c2m_core.notifications import NOTIFICATIONS, NotificationInTransaction
from c2m_core.plugins import hook_names
from c2m_core.presale.payments import ProviderCallInTransaction
from c2m_core.presale.records import REFUNDED, PresaleNotSettled

START = datetime.datetime(2030, 1, 1, 12, tzinfo=datetime.UTC)
TV_A = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}
TV_B = {
    "size": "55-4k",
    "backlight": "local-dimming",
    "appearance": "graphite",
    "functions": "cinema",
    "base": "centre-stand",
}


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


def committed(db_path, sql, params=()):
    """Read what is committed, through a connection of its own."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class RecordingProvider:
    """Provider ``recording``: notes each call with what a second connection sees committed."""

    def __init__(self, db_path):
        self.db_path = str(db_path)
        self.calls = []

    @hookimpl
    def register_payment_providers(self):
        return ["recording"]

    def _call(self, app, operation, key, record_table, record_id):
        [(state,)] = committed(self.db_path, f"SELECT state FROM {record_table} WHERE id = ?",
                               [record_id])  # fmt: skip
        self.calls.append((operation, key, state, app.store.in_transaction))
        return f"rec-{operation}-{key}"

    @hookimpl
    def authorize_payment(self, app, provider, payment):
        if provider == "recording":
            return self._call(app, "authorize", payment.key, "payments", payment.id)

    @hookimpl
    def capture_payment(self, app, provider, payment):
        if provider == "recording":
            return self._call(app, "capture", payment.key, "payments", payment.id)

    @hookimpl
    def refund_payment(self, app, provider, refund):
        if provider == "recording":
            return self._call(app, "refund", refund.key, "refunds", refund.id)


class RecordingNotifications:
    """Notes every notification with the committed state it reports on."""

    def __init__(self, db_path):
        self.db_path = str(db_path)
        self.calls = []

    def _state(self, table, key_column, key):
        rows = committed(self.db_path, f"SELECT state FROM {table} WHERE {key_column} = ?", [key])
        return rows[0][0] if rows else None

    @hookimpl
    def campaign_advanced(self, app, campaign):
        seen = self._state("campaigns", "id", campaign.id)
        self.calls.append(("campaign_advanced", campaign.state, seen))

    @hookimpl
    def pledge_placed(self, app, pledge):
        self.calls.append(("pledge_placed", pledge.state, self._state("pledges", "id", pledge.id)))

    @hookimpl
    def pledge_cancelled(self, app, pledge):
        seen = self._state("pledges", "id", pledge.id)
        self.calls.append(("pledge_cancelled", pledge.state, seen))

    @hookimpl
    def variant_tipped(self, app, variant):
        seen = self._state("presale_offers", "variant_id", variant.id)
        self.calls.append(("variant_tipped", "tipped", seen))

    @hookimpl
    def presale_closed(self, app, campaign):
        seen = self._state("presales", "campaign_id", campaign.id)
        self.calls.append(("presale_closed", "closed", seen))

    @hookimpl
    def handoff_delivered(self, app, delivery):
        self.calls.append(("handoff_delivered", "delivered", delivery.state))


class BrokenBillOfMaterials:
    @hookimpl
    def build_bill_of_materials(self):
        raise RuntimeError("the ERP's part list is down")


def selling(app, slug="tv26", stages=("presale", "handoff")):
    app.campaigns.create(slug, "tv", stages=list(stages))
    variants = [app.variants.add(slug, TV_A), app.variants.add(slug, TV_B)]
    app.campaigns.advance(slug)
    return variants


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "c2m.db"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def recorded(db_path, clock):
    """An app with a recording provider and notifications, and a pre-sale past its deadline.

    Variant A tips (2 of 2 units), variant B fails (1 of 2): its deposit is refunded at close.
    """
    provider, notes = RecordingProvider(db_path), RecordingNotifications(db_path)
    with C2M(db_path, plugins=[provider, notes], clock=clock) as app:
        a, b = selling(app)
        app.presale.open("tv26", "7d", deposit="10%", threshold=2, provider="recording")
        app.presale.place("tv26", a.id, "ann", 2, "k-a")
        app.presale.place("tv26", b.id, "bob", 1, "k-b")
        clock.now += datetime.timedelta(days=8)
        provider.calls.clear()
        notes.calls.clear()
        yield app, provider, notes


# (a) a plugin raising in the hand-off after the deadline ------------------------------------------


def test_a_failing_handoff_leaves_no_provider_call_unrecorded_and_no_false_notification(
    recorded, db_path, tmp_path
):
    app, provider, notes = recorded
    app.pm.register(BrokenBillOfMaterials())
    with pytest.raises(RuntimeError, match="part list is down"):
        app.handoff.run("tv26", [f"dir:{tmp_path / 'factory'}"])
    # the due pre-sale was closed in its own transactions before the hand-off's began
    assert committed(db_path, "SELECT state FROM presales") == [("closed",)]
    # every provider call ran outside a transaction, on an intent already committed ...
    assert provider.calls == [("refund", "c2m:tv26:2:deposit:refund", "pending", False)]
    # ... and its outcome is recorded: nothing the provider did is unknown to the database
    refunds = app.presale.refunds("tv26")
    assert [(r.key, r.state, r.reference) for r in refunds] == [
        ("c2m:tv26:2:deposit:refund", "succeeded", "rec-refund-c2m:tv26:2:deposit:refund")
    ]
    assert app.presale.pledge("tv26", "k-b").state == REFUNDED
    # every notification reports a change another connection already saw committed
    assert notes.calls == [
        ("pledge_cancelled", REFUNDED, REFUNDED),
        ("variant_tipped", "tipped", "tipped"),
        ("presale_closed", "closed", "closed"),
    ]
    # the hand-off itself rolled back: no records, no campaign_advanced, still in presale
    assert app.campaigns.get("tv26").state == "presale"
    assert committed(db_path, "SELECT COUNT(*) FROM handoffs") == [(0,)]
    # a second run after the fix settles nothing again and hands off once
    app.pm.unregister(next(p for p in app.pm.get_plugins() if isinstance(p, BrokenBillOfMaterials)))
    app.handoff.run("tv26", [f"dir:{tmp_path / 'factory'}"])
    assert len(provider.calls) == 1
    assert [c[0] for c in notes.calls[3:]] == ["campaign_advanced", "handoff_delivered"]
    assert notes.calls[3] == ("campaign_advanced", "handoff", "handoff")


# (c) notifications never fire inside a transaction ------------------------------------------------


def test_the_guard_covers_exactly_the_notification_hooks():
    notifications = [
        name
        for name in hook_names()
        if (getattr(hookspecs, name).__doc__ or "").startswith("Notification")
    ]
    assert list(NOTIFICATIONS) == notifications


@pytest.mark.parametrize("hook", NOTIFICATIONS)
def test_calling_a_notification_inside_a_transaction_is_an_error(tmp_path, hook):
    heard = []

    class Listener:
        pass

    def listen(**kwargs):
        heard.append(kwargs)

    listen.__name__ = hook
    setattr(Listener, hook, staticmethod(hookimpl(listen)))
    with C2M(tmp_path / "c2m.db", plugins=[Listener()]) as app:
        arguments = {name: None for name in getattr(app.pm.hook, hook).spec.argnames}
        arguments["app"] = app
        with pytest.raises(NotificationInTransaction, match=hook), app.store.transaction():
            getattr(app.pm.hook, hook)(**arguments)
        assert heard == []
        getattr(app.pm.hook, hook)(**arguments)  # outside a transaction it is delivered
        assert len(heard) == 1


def test_after_commit_runs_in_order_after_the_outermost_commit(tmp_path):
    with C2M(tmp_path / "c2m.db") as app:
        store, ran = app.store, []
        with store.transaction():
            store.after_commit(lambda: ran.append(("first", store.in_transaction)))
            with store.transaction():
                store.after_commit(lambda: ran.append(("second", store.in_transaction)))
            assert ran == []  # the inner block joined the outer one: nothing committed yet
        assert ran == [("first", False), ("second", False)]
        store.after_commit(lambda: ran.append(("now", store.in_transaction)))
        assert ran[-1] == ("now", False)


def test_a_rollback_drops_what_was_queued(tmp_path):
    with C2M(tmp_path / "c2m.db") as app:
        store, ran = app.store, []
        with pytest.raises(ZeroDivisionError), store.transaction():
            store.after_commit(lambda: ran.append("never"))
            raise ZeroDivisionError
        with store.transaction():
            pass
        assert ran == []


def test_a_failing_callback_does_not_stop_the_others_and_the_change_stays(tmp_path):
    with C2M(tmp_path / "c2m.db") as app:
        store, ran = app.store, []

        def boom():
            raise RuntimeError("mailer down")

        with pytest.raises(RuntimeError, match="mailer down"), store.transaction():
            store.event("test.happened", None, {})
            store.after_commit(boom)
            store.after_commit(lambda: ran.append("after"))
        assert ran == ["after"]
        assert [e.type for e in app.events.since(0)][-1] == "test.happened"


def test_a_rolled_back_change_sends_nothing(tmp_path, db_path):
    notes = RecordingNotifications(db_path)
    with C2M(db_path, plugins=[notes]) as app:
        app.campaigns.create("c", "tv", stages=["presale"])
        app.variants.add("c", TV_A)
        with pytest.raises(ZeroDivisionError), app.store.transaction():
            app.campaigns.advance("c")
            raise ZeroDivisionError
        assert app.campaigns.get("c").state == "draft"
        assert notes.calls == []
        with app.store.transaction():
            app.campaigns.advance("c")
            assert notes.calls == []  # not before the caller's transaction commits
        assert notes.calls == [("campaign_advanced", "presale", "presale")]


def test_provider_calls_refuse_to_run_inside_a_transaction(recorded):
    app, provider, _ = recorded
    from c2m_core.presale import payments

    refund = app.store.presale.refunds(app.campaigns.get("tv26").id)
    assert refund == []  # nothing settled yet: the deadline passed, nothing wrote
    payment = app.presale.payments("tv26")[0]
    pledge = app.store.presale.pledge(payment.pledge_id)
    with pytest.raises(ProviderCallInTransaction), app.store.transaction():
        payments.capture(app, app.campaigns.get("tv26"), pledge, payment)
    assert provider.calls == []
    with pytest.raises(C2MError, match="outside a transaction"), app.store.transaction():
        app.presale.close("tv26")


# (d) reads never write ----------------------------------------------------------------------------


def _snapshot(db_path):
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_reads_never_write_even_past_the_deadline(recorded, db_path, tmp_path):
    app, provider, notes = recorded
    conn = app.store.db.conn
    before, changes = _snapshot(db_path), conn.total_changes
    status = app.presale.status("tv26")
    assert (status.state, status.seconds_left) == ("due_to_close", 0)
    assert [v.committed_units for v in status.variants] == [2, 1]
    with pytest.raises(PresaleNotSettled):
        app.presale.production_demand("tv26")
    with pytest.raises(PresaleNotSettled):
        app.handoff.plan("tv26")
    app.presale.get("tv26")
    app.presale.offers("tv26")
    app.presale.pledges("tv26")
    app.presale.pledge("tv26", "k-a")
    app.presale.history("tv26", "k-a")
    app.presale.payments("tv26")
    app.presale.refunds("tv26")
    assert app.presale.audit("tv26").ok
    app.handoff.status("tv26")
    app.campaigns.get("tv26")
    app.campaigns.list()
    app.variants.list("tv26")
    app.events.since(0)
    from c2m_core.report import build_report, render_report

    render_report(app, build_report(app, "tv26"))
    assert conn.total_changes == changes
    assert _snapshot(db_path) == before
    assert provider.calls == [] and notes.calls == []


def test_cli_reads_never_write_past_the_deadline(db_path):
    clock = Clock()
    clock.now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=3)
    with C2M(db_path, clock=clock) as app:
        [a, _] = selling(app)
        app.presale.open("tv26", "1h", threshold=1)  # ended two hours ago, by the real clock
        app.presale.place("tv26", a.id, "ann", 1, "k-a")
    before = _snapshot(db_path)
    commands = [
        ["presale", "status", "tv26"],
        ["presale", "status", "tv26", "--json"],
        ["presale", "audit", "tv26"],
        ["pledge", "list", "tv26"],
        ["campaign", "show", "tv26"],
        ["handoff", "status", "tv26"],
        ["report", "tv26", "-o", str(db_path.parent / "report.html")],
    ]
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(make_cli(), ["--db", str(db_path), *command])
        assert result.exit_code == 0, (command, result.output)
        if command[:2] == ["presale", "status"]:
            assert "due_to_close" in result.output
    assert _snapshot(db_path) == before
    result = runner.invoke(make_cli(), ["--db", str(db_path), "campaign", "advance", "tv26"])
    assert result.exit_code == 0, result.output  # a command that changes state settles first
    assert committed(db_path, "SELECT state FROM presales") == [("closed",)]


def test_presale_audit_compares_the_counter_with_a_recount(db_path, clock):
    with C2M(db_path, clock=clock) as app:
        [a, _] = selling(app)
        app.presale.open("tv26", "7d", capacity=5)
        app.presale.place("tv26", a.id, "ann", 2, "k-a")
    runner = CliRunner()
    result = runner.invoke(make_cli(), ["--db", str(db_path), "presale", "audit", "tv26"])
    assert result.exit_code == 0 and "DIFFERS" not in result.output
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE presale_offers SET held = 4 WHERE variant_id = ?", [a.id])
    conn.close()
    result = runner.invoke(make_cli(), ["--db", str(db_path), "presale", "audit", "tv26", "--json"])
    assert result.exit_code == 1
    audit = json.loads(result.output)
    assert audit["ok"] is False
    assert audit["variants"][0] | {} == {
        "variant_id": a.id, "capacity": 5, "counter": 4, "recount": 2, "ok": False
    }  # fmt: skip
