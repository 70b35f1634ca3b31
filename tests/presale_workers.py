"""Worker processes for the pre-sale concurrency tests (spawned, so importable by name)."""

import os
import signal

from c2m_core import C2M, hookimpl
from c2m_core.presale.records import WAITLISTED, IdempotencyConflict, SoldOut


class Crashy:
    """Provider ``crashy``: records in the ledger; with ``die=True`` the process dies mid-capture,
    after the money moved and before c2m could record it."""

    def __init__(self, die=False):
        self.die = die

    @hookimpl
    def register_payment_providers(self):
        return ["crashy"]

    @hookimpl
    def authorize_payment(self, app, provider, pledge, payment):
        if provider == "crashy":
            return app.store.presale.ledger_record(
                "crashy", "authorize", payment.key, payment.amount, pledge.campaign_id, pledge.id
            )

    @hookimpl
    def capture_payment(self, app, provider, pledge, payment):
        if provider == "crashy":
            reference = app.store.presale.ledger_record(
                "crashy", "capture", payment.key, payment.amount, pledge.campaign_id, pledge.id
            )
            if self.die:
                os._exit(3)
            return reference


def place_until_full(db_path, slug, variant_id, worker, quantities, barrier, results):
    """Place pledges of ``quantities``, then single units until none is left.

    Reports (worker, units asked, units refused, units waitlisted).
    """
    asked = refused = waiting = 0
    with C2M(db_path) as app:
        barrier.wait()
        index = 0

        def place(quantity):
            nonlocal asked, refused, waiting, index
            index += 1
            asked += quantity
            try:
                pledge = app.presale.place(
                    slug, variant_id, f"customer-{worker}", quantity, f"w{worker}-{index}"
                )
            except SoldOut:
                refused += quantity
                return False
            if pledge.state == WAITLISTED:
                waiting += quantity
                return False
            return True

        for quantity in quantities:
            place(quantity)
        while place(1):
            pass
    results.put((worker, asked, refused, waiting))


def place_same_key(db_path, slug, variant_id, quantity, barrier, results):
    """Send one pledge request with a shared key; report the pledge id or the conflict."""
    with C2M(db_path) as app:
        barrier.wait()
        try:
            pledge = app.presale.place(slug, variant_id, "ann", quantity, "shared-key")
        except IdempotencyConflict:
            results.put((quantity, "conflict"))
        else:
            results.put((quantity, pledge.id))


def place_and_crash(db_path, slug, variant_id):
    """Place a pledge with a provider that kills the process after capturing."""
    with C2M(db_path, plugins=[Crashy(die=True)]) as app:
        app.presale.place(slug, variant_id, "ann", 2, "crash-key")


def reserve_until_sold_out(target, offer, worker, barrier, results, reserve="counter"):
    """Insert one-unit pledges straight through the store area until ``SoldOut``; report units.

    ``reserve`` is the area's way to take units (``PresaleStore.RESERVE``)."""
    from c2m_core.presale.records import PLACED, Pledge
    from c2m_core.store import open_store

    store = open_store(target)
    store.presale.RESERVE = reserve
    placed = 0
    barrier.wait()
    try:
        while True:
            try:
                store.presale.insert_pledge(
                    Pledge(
                        None, offer.campaign_id, offer.variant_id, f"w{worker}", 1, None,
                        f"w{worker}-{placed}", "f", PLACED, "EUR", 1000, 1000, 1000,
                    ),
                    "pledged",
                )  # fmt: skip
            except SoldOut:
                break
            placed += 1
    finally:
        store.close()
    results.put(placed)


class Killer:
    """Provider ``killer``: appends every call to ``log_path`` (flushed to disk), moves the money
    in the ledger, then, when the call is ``die_in``, kills its own process with SIGKILL: after
    the money moved and before c2m could record the outcome."""

    def __init__(self, log_path, die_in=None):
        self.log_path = str(log_path)
        self.die_in = die_in

    def _call(self, app, operation, key, amount, pledge):
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {operation} {key}\n")
            log.flush()
            os.fsync(log.fileno())
        reference = app.store.presale.ledger_record(
            "killer", operation, key, amount, pledge.campaign_id, pledge.id
        )
        if operation == self.die_in:
            os.kill(os.getpid(), signal.SIGKILL)
        return reference

    @hookimpl
    def register_payment_providers(self):
        return ["killer"]

    @hookimpl
    def authorize_payment(self, app, provider, pledge, payment):
        if provider == "killer":
            return self._call(app, "authorize", payment.key, payment.amount, pledge)

    @hookimpl
    def capture_payment(self, app, provider, pledge, payment):
        if provider == "killer":
            return self._call(app, "capture", payment.key, payment.amount, pledge)

    @hookimpl
    def refund_payment(self, app, provider, pledge, refund):
        if provider == "killer":
            return self._call(app, "refund", refund.key, refund.amount, pledge)


def close_and_die(db_path, slug, log_path):
    """Close the pre-sale; the provider kills this process inside the first refund."""
    with C2M(db_path, plugins=[Killer(log_path, die_in="refund")]) as app:
        app.presale.close(slug)


def place_and_die(db_path, slug, variant_id, log_path):
    """Place a pledge; the provider kills this process inside the capture of its deposit."""
    with C2M(db_path, plugins=[Killer(log_path, die_in="capture")]) as app:
        app.presale.place(slug, variant_id, "ann", 2, "killed-key")


def retry(db_path, slug, log_path):
    """``presale retry`` in a process of its own, with a provider that stays alive."""
    with C2M(db_path, plugins=[Killer(log_path)]) as app:
        app.presale.retry(slug)


def place_and_cancel(db_path, slug, variant_id, worker, barrier):
    """Place pledges (some wait), cancel every third one (freeing and promoting units)."""
    with C2M(db_path) as app:
        barrier.wait()
        for n in range(15):
            key = f"w{worker}-{n}"
            try:
                app.presale.place(slug, variant_id, f"customer-{worker}", 1 + n % 3, key)
            except SoldOut:
                continue
            if n % 3 == 0:
                app.presale.cancel(slug, key)
        batch = [
            {"variant_id": variant_id, "customer": f"customer-{worker}", "quantity": 1 + n % 2,
             "key": f"w{worker}-batch-{n}"}
            for n in range(6)
        ]  # fmt: skip
        for result in app.presale.place_many(slug, batch)[::2]:
            if result.pledge is not None:
                app.presale.cancel(slug, result.key)


def place_batches(db_path, slug, variant_id, batches, barrier, results):
    """Send every batch of pledge requests with ``place_many``; report each result's
    (key, outcome, pledge id or None)."""
    with C2M(db_path) as app:
        barrier.wait()
        seen = []
        for batch in batches:
            for result in app.presale.place_many(
                slug, [dict(request, variant_id=variant_id) for request in batch]
            ):
                seen.append(
                    (result.key, result.outcome, result.pledge.id if result.pledge else None)
                )
        results.put(seen)


def place_numbered(target, slug, variant_id, worker, count, barrier, results):
    """Place ``count`` pledges with keys of their own; report the worker's pledge ids and
    the round trips it made (None where the store does not count them)."""
    with C2M(target) as app:
        app.campaigns.get(slug)  # connected before the race
        barrier.wait()
        before = getattr(app.store, "round_trips", None)
        ids = [
            app.presale.place(slug, variant_id, f"c{worker}", 1, f"w{worker}-{index}").id
            for index in range(count)
        ]
        trips = None if before is None else app.store.round_trips - before
    results.put((ids, trips))


def follow_events(target, done, barrier, results):
    """Follow the event cursor while pledges are placed, until ``done`` is set and nothing
    more is to read; report the ids of the pledge and payment events in the order read."""
    from c2m_core.store import open_store

    store = open_store(target)
    cursor, seen = 0, []
    barrier.wait()
    while True:
        finished = done.is_set()  # before the read: what committed before it is read next
        batch = store.events_since(cursor, limit=50)
        if batch:
            cursor = batch[-1].id
            seen += [event.id for event in batch if event.type.startswith(("pledge.", "payment."))]
        elif finished:
            break
    store.close()
    results.put(seen)
