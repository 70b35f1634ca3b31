"""Worker processes for the pre-sale concurrency tests (spawned, so importable by name)."""

import os

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
