"""The pre-sale's records: the presale, its offers, pledges, payments and refunds, as stored.

A pledge moves ``placed`` (stored, deposit not yet captured) -> ``committed`` (deposit
captured) -> ``confirmed`` (its variant tipped) -> ``balance_due`` -> ``paid``; or it ends
``cancelled`` and, once its money is back, ``refunded``. A pledge beyond capacity may wait as
``waitlisted`` and is promoted to ``placed`` when units free up. Payments and refunds are separate
records with their own states, each with the idempotency key sent to the provider on every attempt.

``TRANSITIONS`` is the whole state machine: the store refuses any other move
(``IllegalPledgeTransition``), and a pledge starts only in one of ``INITIAL_STATES``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import attrs

from ..errors import C2MError, Conflict, NotAllowed
from ..errors import SoldOut as _SoldOut
from ..money import Money
from .pricing import Amounts, CancellationRule, DepositRule

WAITLISTED = "waitlisted"
PLACED = "placed"
COMMITTED = "committed"
CONFIRMED = "confirmed"
BALANCE_DUE = "balance_due"
PAID = "paid"
CANCELLED = "cancelled"
REFUNDED = "refunded"

PLEDGE_STATES = (WAITLISTED, PLACED, COMMITTED, CONFIRMED, BALANCE_DUE, PAID, CANCELLED, REFUNDED)
#: Pledges that hold units of capacity (a placed pledge's deposit may still be captured).
HOLDING = (PLACED, COMMITTED, CONFIRMED, BALANCE_DUE, PAID)
#: Pledges whose deposit was captured: these count toward the threshold.
COMMITTED_STATES = (COMMITTED, CONFIRMED, BALANCE_DUE, PAID)
#: Pledges of a tipped variant: what production makes.
CONFIRMED_STATES = (CONFIRMED, BALANCE_DUE, PAID)

TRANSITIONS = {
    WAITLISTED: (PLACED, CANCELLED),
    PLACED: (COMMITTED, CANCELLED),
    COMMITTED: (CONFIRMED, CANCELLED),
    CONFIRMED: (BALANCE_DUE,),
    BALANCE_DUE: (PAID, CANCELLED),
    PAID: (),
    CANCELLED: (REFUNDED,),
    REFUNDED: (),
}

#: The states a pledge may be stored in first.
INITIAL_STATES = (WAITLISTED, PLACED)

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
MONEY_STATES = (PENDING, SUCCEEDED, FAILED)

OPEN = "open"
CLOSED = "closed"
TIPPED = "tipped"
FAILED_OFFER = "failed"
#: A pre-sale's reported state when its deadline passed and nothing has closed it yet
#: (reads never close it: ``close`` or ``settle_due`` does).
DUE_TO_CLOSE = "due_to_close"


class SoldOut(_SoldOut):
    """A pledge asks for more units than a variant has left (``units_left`` says how many)."""

    def __init__(self, variant_id: int, wanted: int, units_left: int):
        self.variant_id = variant_id
        self.wanted = wanted
        self.units_left = units_left
        super().__init__(
            f"variant {variant_id} is sold out for {wanted} unit(s): {units_left} left",
            field="quantity",
            value=wanted,
            accepted=f"at most {units_left}",
            variant_id=variant_id,
            units_left=units_left,
        )


class IdempotencyConflict(Conflict):
    """The idempotency key was used before for a different request."""

    def __init__(self, key: str, differences: dict):
        self.key = key
        self.differences = differences
        detail = "; ".join(
            f"{field} was {before!r}, now {after!r}"
            for field, (before, after) in differences.items()
        )
        super().__init__(
            f"idempotency key {key!r} was already used for a different pledge ({detail}); "
            "send the original request again or use a new key",
            field="key",
            value=key,
            differences={f: {"stored": b, "sent": a} for f, (b, a) in differences.items()},
        )


class PresaleClosed(NotAllowed):
    """The pre-sale is not open (not opened yet, or past its deadline / closed)."""


class IllegalPledgeTransition(NotAllowed):
    """A pledge state change that ``TRANSITIONS`` does not allow."""

    def __init__(self, old: str | None, new: str):
        self.old = old
        self.new = new
        accepted = TRANSITIONS.get(old, ()) if old is not None else INITIAL_STATES
        super().__init__(
            f"a pledge cannot move from {old or 'nothing'!r} to {new!r}; from "
            f"{old or 'nothing'!r} it may move to {', '.join(accepted) or 'nothing'}",
            field="state",
            value=new,
            accepted=", ".join(accepted) or "nothing",
        )


class PresaleNotSettled(NotAllowed):
    """The pre-sale's deadline passed but nothing closed it yet, so its outcome is not known."""


class CancellationRefused(NotAllowed):
    """The pledge can no longer be cancelled (its variant tipped and the rule says no, or paid)."""


@attrs.frozen
class Presale:
    """A campaign's pre-sale: its deadline, payment provider and rules."""

    campaign_id: int
    state: str
    deadline: str
    provider: str
    deposit: DepositRule
    cancellation: CancellationRule
    waitlist: bool
    opened_at: str
    closed_at: str | None = None

    def to_dict(self) -> dict:
        data = attrs.asdict(self, recurse=False)
        data["deposit"] = self.deposit.to_dict()
        data["cancellation"] = self.cancellation.to_dict()
        return data


@attrs.frozen
class Offer:
    """One variant on sale: its frozen price and deposit, threshold, capacity and outcome."""

    id: int | None
    campaign_id: int
    variant_id: int
    position: int
    currency: str
    unit_price: int
    deposit_per_unit: int
    credit_per_unit: int
    threshold: int
    capacity: int | None
    state: str = OPEN
    units_at_close: int | None = None
    #: Units held by pledges (placed, committed and after): the store's capacity counter.
    held: int = 0

    @property
    def units_left(self) -> int | None:
        """Units still free under the capacity (None: no limit)."""
        return None if self.capacity is None else max(self.capacity - self.held, 0)

    def amounts(self, quantity: int) -> Amounts:
        return Amounts(
            Money(self.unit_price, self.currency),
            quantity,
            Money(self.deposit_per_unit, self.currency),
            Money(self.credit_per_unit, self.currency),
        )

    def to_dict(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class Pledge:
    """One customer's commitment to buy ``quantity`` units of a variant.

    ``personalisation`` holds up to ``quantity`` mappings of field id -> value, one per unit
    (``c2m_core.personalisation``); it never changes the variant, the price or the capacity.
    """

    id: int | None
    campaign_id: int
    variant_id: int
    customer: str
    quantity: int
    region: str | None
    key: str
    fingerprint: str
    state: str
    currency: str
    unit_price: int
    deposit_per_unit: int
    credit_per_unit: int
    created_at: str | None = None
    updated_at: str | None = None
    personalisation: tuple[Mapping[str, str], ...] = ()

    @property
    def amounts(self) -> Amounts:
        return Amounts(
            Money(self.unit_price, self.currency),
            self.quantity,
            Money(self.deposit_per_unit, self.currency),
            Money(self.credit_per_unit, self.currency),
        )

    def to_dict(self) -> dict:
        total = self.unit_price * self.quantity
        credit = self.credit_per_unit * self.quantity
        return {
            "id": self.id,
            "campaign_id": self.campaign_id,
            "variant_id": self.variant_id,
            "customer": self.customer,
            "quantity": self.quantity,
            "region": self.region,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "state": self.state,
            "currency": self.currency,
            "unit_price": self.unit_price,
            "deposit_per_unit": self.deposit_per_unit,
            "credit_per_unit": self.credit_per_unit,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "total": total,
            "deposit": self.deposit_per_unit * self.quantity,
            "balance": total - credit,
            "personalisation": [dict(unit) for unit in self.personalisation],
        }


#: What ``place_many`` did with one requested pledge.
OUTCOME_PLACED = "placed"  # stored now (committed, placed awaiting payment, or waitlisted)
OUTCOME_REPLAYED = "replayed"  # the key had this same pledge already: the stored one
OUTCOME_SOLD_OUT = "sold_out"  # did not fit the capacity and there is no waitlist: not stored
OUTCOME_CONFLICT = "conflict"  # the key was used before for a different request: not stored
OUTCOMES = (OUTCOME_PLACED, OUTCOME_REPLAYED, OUTCOME_SOLD_OUT, OUTCOME_CONFLICT)


@attrs.frozen
class PlaceResult:
    """One requested pledge's result in ``place_many``: its key, the outcome, and the pledge
    (placed or replayed) or the error (``SoldOut`` or ``IdempotencyConflict``)."""

    key: str
    outcome: str
    pledge: Pledge | None = None
    error: C2MError | None = None

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "outcome": self.outcome,
            "pledge": None if self.pledge is None else self.pledge.to_dict(),
            "error": None if self.error is None else self.error.to_dict(),
        }


@attrs.frozen
class Transition:
    """One recorded change of a pledge's state."""

    pledge_id: int
    from_state: str | None
    to_state: str
    reason: str
    at: str


@attrs.frozen
class Payment:
    """Money taken for a pledge (``kind`` ``deposit`` or ``balance``) through ``provider``.

    ``key`` is the idempotency key sent to the provider on every attempt; ``authorization`` and
    ``reference`` are what the provider answered to authorize and capture.
    """

    id: int
    pledge_id: int
    campaign_id: int
    kind: str
    amount: Money
    provider: str
    key: str
    state: str
    attempts: int
    authorization: str | None = None
    reference: str | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["amount"] = self.amount.amount
        data["currency"] = self.amount.currency
        return data


@attrs.frozen
class Refund:
    """Money given back for a captured ``payment_id`` (all of it, or less a cancellation fee)."""

    id: int
    payment_id: int
    pledge_id: int
    campaign_id: int
    amount: Money
    provider: str
    key: str
    reason: str
    state: str
    attempts: int
    reference: str | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["amount"] = self.amount.amount
        data["currency"] = self.amount.currency
        return data


@attrs.frozen
class StateUnits:
    """How many pledges of a variant are in ``state``, and their units."""

    variant_id: int
    state: str
    pledges: int
    units: int


@attrs.frozen
class HeldAudit:
    """One variant's capacity counter against a recount of its pledges (equal when sound)."""

    variant_id: int
    capacity: int | None
    counter: int
    recount: int

    @property
    def ok(self) -> bool:
        return self.counter == self.recount

    def to_dict(self) -> dict:
        return attrs.asdict(self) | {"ok": self.ok}


@attrs.frozen
class LedgerEntry:
    """One money movement the default ``ledger`` provider recorded (once per operation and key)."""

    id: int
    provider: str
    operation: str
    key: str
    campaign_id: int | None
    pledge_id: int | None
    amount: Money
    reference: str
    created_at: str


def fingerprint(
    variant_id: int,
    customer: str,
    quantity: int,
    region: str | None,
    personalisation: Sequence[Mapping[str, str]] = (),
) -> str:
    """A digest of what a pledge request asks for: equal requests have equal fingerprints.

    Personalisation counts only when given, so pledges without it keep their fingerprints.
    """
    if personalisation:
        request: dict = {"variant": variant_id, "customer": customer, "quantity": quantity,
                         "region": region}  # fmt: skip
        request["personalisation"] = [dict(unit) for unit in personalisation]
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    else:  # the same text json.dumps makes of the four fields, written directly (hot path)
        text = "null" if region is None else _ascii_json(region)
        canonical = (
            f'{{"customer":{_ascii_json(customer)},"quantity":{quantity:d},'
            f'"region":{text},"variant":{variant_id:d}}}'
        )
    return hashlib.sha256(canonical.encode()).hexdigest()


_ascii_json = json.encoder.encode_basestring_ascii
