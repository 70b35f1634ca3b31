"""The pre-sale area of the store interface: what ``store.presale`` promises, for any backend.

Every operation takes and returns the attrs records of ``c2m_core.presale.records`` (never rows,
dicts of columns or JSON text). Operations that write join the caller's transaction when one is
open (``store.transaction()``) and otherwise run in their own. Operations that guard an invariant
under concurrent writers say so and enforce it in the database (a conditional ``UPDATE``, a
unique constraint), never by a read in Python followed by a write. The contract suite in
``tests/store_contract/test_presale_area.py`` checks every implementation against this text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..money import Money
from ..presale.records import (
    HeldAudit,
    LedgerEntry,
    Offer,
    Payment,
    Pledge,
    Presale,
    Refund,
    SoldOut,
    StateUnits,
    Transition,
)


@runtime_checkable
class PresaleArea(Protocol):
    """Pre-sales, their offers, pledges and state history, payments, refunds and the ledger."""

    # Pre-sales and offers ------------------------------------------------------------------------

    def insert_presale(self, presale: Presale) -> None:
        """Store a campaign's pre-sale; one per campaign (a second one violates a unique key)."""

    def presale(self, campaign_id: int) -> Presale | None:
        """The campaign's pre-sale, or None when it never opened one."""

    def close_presale(self, campaign_id: int) -> bool:
        """Mark the pre-sale closed (now); False when it was not open.

        Concurrent writers: exactly one caller gets True for a pre-sale (a conditional update on
        its state), so closing work runs once however many processes try.
        """

    def due_presales(self, now: str) -> list[int]:
        """Campaign ids of open pre-sales whose deadline (ISO 8601 UTC) is at or before ``now``."""

    def placing(
        self, campaign_id: int, variant_id: int, key: str
    ) -> tuple[Presale | None, Offer | None, Pledge | None]:
        """The campaign's pre-sale, the variant's offer and the pledge stored with idempotency
        ``key``, read together (what placing one pledge needs); None for each that is missing."""

    def insert_offer(self, offer: Offer) -> Offer:
        """Store an offer (``held`` starts at 0) and return it with its id."""

    def offers(self, campaign_id: int) -> list[Offer]:
        """The campaign's offers in position order, each with its current ``held`` counter."""

    def offer(self, campaign_id: int, variant_id: int) -> Offer | None:
        """The offer of one variant, or None when the variant is not on sale."""

    def close_offer(self, offer_id: int, state: str, units: int) -> None:
        """Record a variant's outcome (``tipped``/``failed``) and its committed units at close."""

    # Pledges and capacity ------------------------------------------------------------------------

    def insert_pledge(self, pledge: Pledge, reason: str) -> Pledge:
        """Store a pledge in one of ``INITIAL_STATES`` with its first transition; return it.

        A ``placed`` pledge reserves its units against the offer's capacity in the same
        transaction: the offer's ``held`` counter grows by a guarded conditional update that
        succeeds only while ``held + quantity <= capacity`` (or there is no capacity).
        Concurrent writers: the sum of the units of holding pledges never exceeds the capacity,
        without relying on a lock of the whole database. When the units do not fit it raises
        ``SoldOut`` (with ``units_left``) and stores nothing. Another initial state raises
        ``IllegalPledgeTransition``. A second pledge with the campaign's idempotency key
        violates a unique key.
        """

    def insert_pledges(
        self, pledges: Sequence[Pledge], waitlist: bool = False, captured: bool = False
    ) -> list[Pledge | SoldOut | None]:
        """Store new ``placed`` pledges in order, each with its transitions; one result each.

        Each reserves its units as ``insert_pledge`` does, in the order given (the same guarded
        counter, so capacity holds with concurrent writers). One that does not fit is stored
        ``waitlisted`` when ``waitlist``, else not stored (its result is the ``SoldOut``). With
        ``captured`` a pledge that holds is stored ``committed`` (``placed`` then ``committed``
        in its history): the caller records the deposit's capture in the same transaction. A
        pledge whose key the campaign already has (a concurrent writer stored it first) is not
        stored, its units are freed, and its result is None. Results carry ids and times.
        """

    def move_pledge(self, pledge_id: int, old: str, new: str, reason: str) -> bool:
        """Move a pledge from ``old`` to ``new`` and record the transition.

        Only moves in ``TRANSITIONS`` are made; any other raises ``IllegalPledgeTransition`` and
        changes nothing. Concurrent writers: the move is conditional on the pledge still being in
        ``old``; when another writer moved it first, it returns False and changes nothing.
        Moving into a holding state reserves the pledge's units as ``insert_pledge`` does
        (``SoldOut``, nothing changed, when they no longer fit); moving out of one frees them.
        """

    def pledge(self, pledge_id: int) -> Pledge | None:
        """One pledge by id."""

    def pledge_by_key(self, campaign_id: int, key: str) -> Pledge | None:
        """The campaign's pledge with the shop's idempotency ``key``."""

    def pledges(
        self, campaign_id: int, variant_id: int | None = None, states: tuple[str, ...] = ()
    ) -> list[Pledge]:
        """A campaign's pledges (of one variant, in some states), oldest first."""

    def pledges_by_keys(self, campaign_id: int, keys: Sequence[str]) -> dict[str, Pledge]:
        """The campaign's pledges with any of these idempotency keys, by key."""

    def transitions(self, pledge_id: int) -> list[Transition]:
        """Every state a pledge went through, oldest first (the first has no ``from_state``)."""

    def held_units(self, campaign_id: int, variant_id: int) -> int:
        """Units held by a variant's pledges in a holding state, recounted from the pledges."""

    def units_by_state(self, campaign_id: int) -> list[StateUnits]:
        """Pledges and units per (variant, state), in variant and state order."""

    def audit(self, campaign_id: int) -> list[HeldAudit]:
        """Each offer's ``held`` counter next to the recount of its pledges. Writes nothing."""

    # Payments and refunds ------------------------------------------------------------------------

    def insert_payment(
        self, pledge: Pledge, kind: str, amount: Money, provider: str, key: str
    ) -> Payment:
        """Record the intent to take ``amount`` (``pending``), before the provider is called.

        One payment per (pledge, kind) and per idempotency ``key`` (unique keys).
        """

    def insert_payments(
        self,
        intents: Sequence[tuple[Pledge, str, Money, str, str]],
        captured: Sequence[tuple[str, str]] | None = None,
    ) -> list[Payment]:
        """``insert_payment`` for many ``(pledge, kind, amount, provider, key)``, in order.

        With ``captured``, one ``(authorization, reference)`` per intent from a provider that
        captured them in the open transaction: stored ``succeeded`` (one attempt) directly.
        """

    def insert_captured_payments(
        self,
        intents: Sequence[tuple[Pledge, str, Money, str, str]],
        captured: Sequence[tuple[str, str]],
    ) -> list[int]:
        """``insert_payments`` with ``captured``, answering only the new payments' ids, in order."""

    def payments_succeeded(self, captures: Sequence[tuple[int, str, str]]) -> int:
        """``payment_succeeded`` for many ``(payment_id, authorization, reference)``; how many
        were recorded now (each at most once, as ``payment_succeeded``)."""

    def payment(self, payment_id: int) -> Payment | None:
        """One payment by id."""

    def payment_for(self, pledge_id: int, kind: str) -> Payment | None:
        """The pledge's payment of ``kind`` (``deposit`` or ``balance``)."""

    def payments(
        self, campaign_id: int, states: tuple[str, ...] = (), kind: str | None = None
    ) -> list[Payment]:
        """A campaign's payments (in some states, of one kind), oldest first."""

    def payment_succeeded(self, payment_id: int, authorization: str, reference: str) -> bool:
        """Record the provider's capture; False when it was already recorded.

        Concurrent writers: exactly one caller gets True, so what follows a capture happens once.
        """

    def payment_failed(self, payment_id: int, authorization: str | None, error: str) -> bool:
        """Record a failed attempt (keeping an authorization); False when it had succeeded."""

    def insert_refund(self, payment: Payment, amount: Money, reason: str) -> Refund:
        """Record the intent to give ``amount`` of a captured payment back (``pending``).

        One refund per payment; its idempotency key derives from the payment's.
        """

    def refund(self, refund_id: int) -> Refund | None:
        """One refund by id."""

    def refund_for(self, payment_id: int) -> Refund | None:
        """The refund of a payment, if one was recorded."""

    def refunds(
        self, campaign_id: int, states: tuple[str, ...] = (), pledge_id: int | None = None
    ) -> list[Refund]:
        """A campaign's refunds (in some states, of one pledge), oldest first."""

    def refund_succeeded(self, refund_id: int, reference: str) -> bool:
        """Record the provider's refund; False when it was already recorded (exactly one True)."""

    def refund_failed(self, refund_id: int, error: str) -> bool:
        """Record a failed attempt; False when the refund had succeeded."""

    # The default provider's ledger ----------------------------------------------------------------

    def ledger_record(
        self,
        provider: str,
        operation: str,
        key: str,
        amount: Money,
        campaign_id: int | None = None,
        pledge_id: int | None = None,
    ) -> str:
        """Record one money movement once per (provider, operation, key); return its reference.

        The same key again returns the first reference and records nothing (a unique key).
        """

    def ledger_record_many(
        self, provider: str, movements: list[tuple[str, str, Money, int | None, int | None]]
    ) -> list[str]:
        """``ledger_record`` for many ``(operation, key, amount, campaign_id, pledge_id)``; one
        reference per movement, in order (the first reference for a key recorded before)."""

    def ledger_capture_many(
        self, provider: str, captures: Sequence[tuple[str, Money, int | None, int | None]]
    ) -> list[tuple[str, str]]:
        """Record the authorization and capture of many ``(key, amount, campaign_id,
        pledge_id)`` made together in the open transaction, once per key; one
        ``(authorization, reference)`` each, in order. ``ledger`` reads each as both entries."""

    def ledger(self, campaign_id: int | None = None) -> list[LedgerEntry]:
        """Ledger entries, oldest first (of one campaign, when given); a capture recorded with
        its authorization reads as the two entries."""
