"""The pre-sale: priced variants, deposits, all-or-nothing thresholds, capacity, refunds.

Consumers commit money before the factory builds. A pledge is stored with a pending deposit
payment in one transaction, whose store operation reserves its units against the variant's
capacity with a guarded counter, so capacity is never oversold however many processes place
pledges at once. Money moves as intent, commit, call, outcome: the pending payment (or refund) is
committed first, the provider is called outside any transaction, and its answer is recorded in a
second one; anything left pending (a crash, a provider failure) is completed by ``retry`` with
the same idempotency key. Notifications are sent after the change they report is committed.

At the deadline (or ``close``), a variant whose committed units reached its threshold tips: its
pledges are confirmed and their balance falls due. The others fail and every deposit is refunded.
Reads never close a pre-sale: a pre-sale past its deadline reads as ``due_to_close`` until
``close`` or ``settle_due`` (run first by every operation that changes state) closes it.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, overload

import attrs

from ..campaigns.service import Campaign, IllegalTransition
from ..errors import C2MError, InvalidInput, NotFound
from ..money import Money
from ..notifications import has_listeners
from ..store.database import isoformat
from ..variants import Variant
from . import payments
from .pricing import FULL_PRICE, CancellationRule, DepositRule, unit_price
from .records import (
    BALANCE_DUE,
    CANCELLED,
    COMMITTED,
    COMMITTED_STATES,
    CONFIRMED,
    CONFIRMED_STATES,
    DUE_TO_CLOSE,
    FAILED,
    FAILED_OFFER,
    OPEN,
    OUTCOME_CONFLICT,
    OUTCOME_PLACED,
    OUTCOME_REPLAYED,
    OUTCOME_SOLD_OUT,
    PAID,
    PENDING,
    PLACED,
    REFUNDED,
    SUCCEEDED,
    TIPPED,
    WAITLISTED,
    CancellationRefused,
    HeldAudit,
    IdempotencyConflict,
    Offer,
    Payment,
    PlaceResult,
    Pledge,
    Presale,
    PresaleClosed,
    PresaleNotSettled,
    Refund,
    SoldOut,
    Transition,
    fingerprint,
)

__all__ = [
    "CancellationRefused",
    "Demand",
    "IdempotencyConflict",
    "PresaleClosed",
    "PresaleNotSettled",
    "PresaleService",
    "SoldOut",
    "UnknownPledge",
]

DEFAULT_PROVIDER = "ledger"
DEPOSIT = "deposit"
BALANCE = "balance"
OVERRIDE_FIELDS = ("threshold", "capacity")
MAX_TEXT = 200
MAX_COUNT = 10**9
"""The most units in one pledge, threshold or capacity."""
_RELATIVE = re.compile(r"^\+?(\d+)([dhm])\Z")


if TYPE_CHECKING:
    from .imports import PledgeImportReport


class UnknownPledge(NotFound):
    """No pledge of this campaign has the idempotency key."""


@attrs.frozen
class Demand:
    """What production must make of one tipped variant: confirmed units, by region."""

    variant: Variant
    quantity: int
    by_region: dict[str, int]
    unit_price: Money


@attrs.frozen
class VariantStatus:
    """Where one variant of a pre-sale stands."""

    variant_id: int
    name: str
    state: str
    unit_price: Money
    deposit_per_unit: Money
    threshold: int
    capacity: int | None
    committed_units: int
    units_at_close: int | None
    awaiting_payment_units: int
    waitlisted_units: int
    pledges: int
    deposits_committed: Money
    value_committed: Money

    @property
    def units_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.committed_units - self.awaiting_payment_units, 0)

    @property
    def reached(self) -> bool:
        return self.committed_units >= self.threshold

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        for name in ("unit_price", "deposit_per_unit", "deposits_committed", "value_committed"):
            data[name] = getattr(self, name).amount
        data["currency"] = self.unit_price.currency
        data["units_left"] = self.units_left
        data["reached"] = self.reached
        return data


@attrs.frozen
class PresaleStatus:
    """A pre-sale at a glance: state, time left, each variant, payments still to settle."""

    campaign: str
    state: str
    deadline: str
    seconds_left: int
    provider: str
    deposit: str
    cancellation: str
    waitlist: bool
    variants: tuple[VariantStatus, ...]
    payments_unsettled: int
    refunds_unsettled: int

    def to_dict(self) -> dict:
        data = attrs.asdict(self, recurse=False)
        data["variants"] = [v.to_dict() for v in self.variants]
        return data


@attrs.frozen
class AuditReport:
    """Each variant's capacity counter against a recount of its pledges."""

    campaign: str
    variants: tuple[HeldAudit, ...]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.variants)

    def to_dict(self) -> dict:
        return {
            "campaign": self.campaign,
            "ok": self.ok,
            "variants": [v.to_dict() for v in self.variants],
        }


@attrs.frozen
class RetryReport:
    """What a retry (or closing, or charging balances) settled and what is still failing."""

    payments_succeeded: int = 0
    payments_failed: int = 0
    refunds_succeeded: int = 0
    refunds_failed: int = 0

    def __add__(self, other: RetryReport) -> RetryReport:
        return RetryReport(
            *(a + b for a, b in zip(attrs.astuple(self), attrs.astuple(other), strict=True))
        )

    def to_dict(self) -> dict:
        return attrs.asdict(self)


def parse_deadline(value, now: datetime.datetime) -> datetime.datetime:
    """A deadline: a ``datetime``, ISO 8601 text (naive means UTC), or ``7d``/``36h``/``90m``."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str):
        relative = _RELATIVE.match(value.strip())
        if relative:
            unit = {"d": "days", "h": "hours", "m": "minutes"}[relative.group(2)]
            return now + datetime.timedelta(**{unit: int(relative.group(1))})
        try:
            moment = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"deadline: {value!r} is not a time; use ISO 8601 (2026-12-01T18:00:00+08:00, "
                "UTC when no offset) or a duration from now like 7d, 36h, 90m"
            ) from None
    else:
        raise InvalidInput(f"deadline: expected a datetime or text, got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def sale_variants(app, campaign: Campaign) -> list[Variant]:
    """The variants a pre-sale may open on: the vote's winners when the campaign votes, else all.

    Withdrawn variants never sell.
    """
    variants = app.store.variants.for_campaign(campaign.id)
    if "vote" in campaign.stages:
        winners = set(app.voting.winners(campaign.slug))
        return [v for v in variants if v.id in winners]
    return variants


@overload
def _text(value, field: str, maximum: int = ..., optional: Literal[False] = ...) -> str: ...
@overload
def _text(value, field: str, maximum: int = ..., *, optional: bool) -> str | None: ...
def _text(value, field: str, maximum: int = MAX_TEXT, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > maximum:
        raise InvalidInput(
            f"{field}: {value!r} is not accepted; use non-blank text of at most {maximum} "
            "characters"
        )
    return value


def _count(value, field: str, minimum: int, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        accepted = f"a whole number from {minimum:,} to {maximum:,}"
        raise InvalidInput(
            f"{field}: {value!r} is not accepted; use {accepted}",
            field=field,
            value=value,
            accepted=accepted,
        )
    return value


class PresaleService:
    """Open, pledge, cancel, close, retry and report pre-sales. Reached as ``app.presale``."""

    def __init__(self, app):
        self.app = app

    @property
    def _store(self):
        return self.app.store

    @property
    def _area(self):
        return self.app.store.presale

    # Opening -------------------------------------------------------------------------------------

    def open(
        self,
        slug: str,
        deadline,
        deposit: DepositRule | str | None = None,
        deposit_credit: str | None = None,
        threshold: int | None = None,
        capacity: int | None = None,
        waitlist: bool = False,
        variants: Iterable[int] | None = None,
        overrides: Mapping[int, Mapping[str, int | None]] | None = None,
        provider: str = DEFAULT_PROVIDER,
        cancellation: CancellationRule | str | None = None,
    ) -> Presale:
        """Open the pre-sale of campaign ``slug`` (which must be in its ``presale`` state).

        :param deadline: when it closes: a ``datetime``, ISO 8601 text, or ``7d``/``36h``/``90m``
        :param deposit: a ``DepositRule``, ``"10%"`` or an amount per unit (default: full price)
        :param deposit_credit: what a unit's deposit is worth at balance time, e.g. ``"150"``
        :param threshold: units a variant needs to tip (default: the campaign's ``moq``)
        :param capacity: the most units a variant sells (default: no limit)
        :param waitlist: pledges beyond capacity wait instead of being refused
        :param variants: sell only these variant ids (default: every variant that may sell)
        :param overrides: per variant id, ``{"threshold": n, "capacity": m}``
        :param provider: the payment provider name (default: ``ledger``)
        :param cancellation: after tipping: ``"refuse"`` (default), a fee as ``"50%"`` of the
            deposit or an amount per unit
        """
        app = self.app
        campaign = app.campaigns.get(slug)
        app.campaigns.require_state(campaign, "presale")
        now = app.clock()
        moment = parse_deadline(deadline, now)
        if moment <= now:
            raise InvalidInput(
                f"deadline: {isoformat(moment)} has passed (now {isoformat(now)}); "
                "choose a later time"
            )
        currency = campaign.currency
        if deposit is None:
            deposit = "100%" if deposit_credit is not None else FULL_PRICE
        if isinstance(deposit, str):
            deposit = DepositRule.parse(deposit, currency, deposit_credit)
        elif deposit_credit is not None:
            raise InvalidInput(
                "deposit_credit: give it with a deposit text, or as the DepositRule's credit"
            )
        if cancellation is None:
            cancellation = CancellationRule()
        elif isinstance(cancellation, str):
            cancellation = CancellationRule.parse(cancellation, currency)
        known = payments.providers(app)
        if provider not in known:
            raise InvalidInput(
                f"provider: no plugin handles payment provider {provider!r}; "
                f"available: {', '.join(known) or 'none'}"
            )
        threshold = _count(
            campaign.setting("moq") if threshold is None else threshold, "threshold", 1
        )
        if capacity is not None:
            _count(capacity, "capacity", 0)
        selling = self._choose_variants(campaign, variants)
        overrides = self._check_overrides(overrides or {}, selling)
        offers = []
        for position, variant in enumerate(selling, start=1):
            assert variant.id is not None, "variants on sale are stored"
            price = unit_price(app, campaign, variant)
            deposit.check(price, f"variant {variant.id} ({variant.name})")
            chosen = {"threshold": threshold, "capacity": capacity} | overrides.get(variant.id, {})
            offers.append(
                Offer(
                    id=None,
                    campaign_id=campaign.id,
                    variant_id=variant.id,
                    position=position,
                    currency=currency,
                    unit_price=price.amount,
                    deposit_per_unit=deposit.per_unit(price).amount,
                    credit_per_unit=deposit.credit_per_unit(price).amount,
                    threshold=chosen["threshold"],
                    capacity=chosen["capacity"],
                )
            )
        presale = Presale(
            campaign_id=campaign.id,
            state=OPEN,
            deadline=isoformat(moment),
            provider=provider,
            deposit=deposit,
            cancellation=cancellation,
            waitlist=bool(waitlist),
            opened_at=isoformat(now),
        )
        store = self._store
        with store.transaction():
            if self._area.presale(campaign.id) is not None:
                raise IllegalTransition(f"campaign {slug!r} already opened its pre-sale")
            self._area.insert_presale(presale)
            stored = [self._area.insert_offer(offer) for offer in offers]
            store.event(
                "presale.opened",
                campaign.id,
                presale.to_dict() | {"offers": [offer.to_dict() for offer in stored]},
            )
        return self._area.presale(campaign.id)

    def _choose_variants(self, campaign: Campaign, wanted) -> list[Variant]:
        eligible = sale_variants(self.app, campaign)
        if wanted is not None:
            wanted = [_count(v, "variants", 1) for v in wanted]
            by_id = {v.id: v for v in eligible}
            unknown = [v for v in wanted if v not in by_id]
            if unknown:
                raise InvalidInput(
                    f"variants: {unknown[0]} can't be sold in campaign {campaign.slug!r}; "
                    f"variants that may: {', '.join(map(str, by_id)) or 'none'}"
                )
            eligible = [v for v in eligible if v.id in set(wanted)]
        if not eligible:
            raise InvalidInput(
                f"campaign {campaign.slug!r} has no variants to sell; add variants first "
                "(or, when it votes, let the vote choose winners)"
            )
        return eligible

    @staticmethod
    def _check_overrides(overrides, selling: list[Variant]) -> dict[int, dict]:
        ids = {v.id for v in selling if v.id is not None}
        checked = {}
        for variant_id, fields in overrides.items():
            if variant_id not in ids:
                raise InvalidInput(
                    f"variant override: variant {variant_id} is not on sale; on sale: "
                    f"{', '.join(map(str, sorted(ids)))}"
                )
            unknown = sorted(set(fields) - set(OVERRIDE_FIELDS))
            if unknown:
                raise InvalidInput(
                    f"variant override for {variant_id}: unknown field {unknown[0]!r}; "
                    f"fields are {', '.join(OVERRIDE_FIELDS)}"
                )
            if "threshold" in fields:
                _count(fields["threshold"], f"threshold of variant {variant_id}", 1)
            if fields.get("capacity") is not None:
                _count(fields["capacity"], f"capacity of variant {variant_id}", 0)
            checked[variant_id] = dict(fields)
        return checked

    # Reading -------------------------------------------------------------------------------------

    def get(self, slug: str) -> Presale:
        """The pre-sale of campaign ``slug``; ``PresaleClosed`` when it never opened."""
        campaign = self.app.campaigns.get(slug)
        return self._presale(campaign)

    def _presale(self, campaign: Campaign) -> Presale:
        presale = self._area.presale(campaign.id)
        if presale is None:
            raise PresaleClosed(
                f"campaign {campaign.slug!r} has not opened a pre-sale; "
                f"`c2m presale open {campaign.slug} --deadline ...` opens it"
            )
        return presale

    def offers(self, slug: str) -> list[Offer]:
        return self._area.offers(self.app.campaigns.get(slug).id)

    def pledge(self, slug: str, key: str) -> Pledge:
        """The pledge made with idempotency ``key``; ``UnknownPledge`` when there is none."""
        campaign = self.app.campaigns.get(slug)
        return self.app.personalisation.attach_pledges([self._pledge_by_key(campaign, key)])[0]

    def _pledge_by_key(self, campaign: Campaign, key: str) -> Pledge:
        pledge = self._area.pledge_by_key(campaign.id, key)
        if pledge is None:
            raise UnknownPledge(f"campaign {campaign.slug!r} has no pledge with key {key!r}")
        return pledge

    def pledges(
        self, slug: str, variant_id: int | None = None, states: Iterable[str] = ()
    ) -> list[Pledge]:
        campaign = self.app.campaigns.get(slug)
        pledges = self._area.pledges(campaign.id, variant_id, tuple(states))
        return self.app.personalisation.attach_pledges(pledges)

    def history(self, slug: str, key: str) -> list[Transition]:
        """Every state a pledge went through, oldest first."""
        return self._area.transitions(self.pledge(slug, key).id)

    def payments(self, slug: str, states: Iterable[str] = ()) -> list[Payment]:
        return self._area.payments(self.app.campaigns.get(slug).id, tuple(states))

    def refunds(self, slug: str, states: Iterable[str] = ()) -> list[Refund]:
        return self._area.refunds(self.app.campaigns.get(slug).id, tuple(states))

    def advance_problems(self, campaign: Campaign) -> list[str]:
        """Why ``campaign`` may not leave ``presale`` yet (for ``validate_campaign_advance``)."""
        presale = self._area.presale(campaign.id)
        if presale is not None and presale.state == OPEN:
            return [
                f"its pre-sale is open until {presale.deadline}; close it first "
                f"(`c2m presale close {campaign.slug}`)"
            ]
        return []

    # Pledging ------------------------------------------------------------------------------------

    def place(
        self,
        slug: str,
        variant_id: int,
        customer: str,
        quantity: int,
        key: str,
        region: str | None = None,
        share_code: str | None = None,
        personalisation: Sequence[Mapping[str, str]] | None = None,
    ) -> Pledge:
        """Pledge ``quantity`` units of a variant for ``customer``, keyed by the shop's ``key``.

        The same key with the same request returns the same pledge (and completes its deposit if
        that was left pending); with a different request it raises ``IdempotencyConflict``.
        Beyond capacity it raises ``SoldOut`` (with ``units_left``), or the pledge waits when the
        pre-sale has a waitlist; a refused request stores nothing, so sending it again asks again.
        The deposit is captured before this returns, unless the provider fails: the pledge then
        stays ``placed`` and ``retry`` completes it. With a provider that records in c2m's
        database (the default ``ledger``) the pledge, its capture and its events are one
        transaction.

        With ``share_code`` the pledge is attributed to that code in the same transaction (see
        ``app.rewards.attribute_placed``): a refused attribution refuses the pledge.

        ``personalisation`` gives up to ``quantity`` mappings of field id -> value, one per unit
        (``app.personalisation.check_units``); it is part of the request the key stands for.
        """
        request = _request(variant_id, customer, quantity, key, region, "")
        self._outside_transaction()
        if not personalisation and share_code is None:
            placed = self._place_reserved(slug, request)
            if placed is not None:  # the common case: a new pledge stored, or sold out
                campaign, results, fresh, pending = placed
                answer = self._after_placing(campaign, results, fresh, pending)[0]
                if answer.error is not None:
                    raise answer.error
                assert answer.pledge is not None
                return answer.pledge
        campaign = self.app.campaigns.get(slug)
        if personalisation:
            request = self._personalised(campaign, request, personalisation)
        if share_code is not None:
            self._settle_if_due(campaign)
            referral = self.app.rewards.referral(campaign, variant_id, customer, share_code)
            request = attrs.evolve(request, referral=referral)
        result = self._place(campaign, [request], tried=True)[0]
        if result.error is not None:
            raise result.error
        assert result.pledge is not None
        if request.personalisation:
            return self.app.personalisation.attach_pledges([result.pledge])[0]
        return result.pledge

    def _personalised(self, campaign: Campaign, request: _Request, units) -> _Request:
        """``request`` with its checked per-unit personalisation, in its fingerprint too."""
        catalog = self.app.campaigns.category(campaign).catalog
        checked = self.app.personalisation.check_units(
            catalog, request.quantity, units, f"{request.where}personalisation"
        )
        return attrs.evolve(
            request,
            personalisation=checked,
            fingerprint=fingerprint(
                request.variant_id, request.customer, request.quantity, request.region, checked
            ),
        )

    def place_many(self, slug: str, pledges: Iterable[Mapping]) -> list[PlaceResult]:
        """Place a batch of pledges in one transaction; one ``PlaceResult`` per request, in order.

        Each request is a mapping with ``variant_id``, ``customer``, ``quantity``, ``key`` and
        optionally ``region`` and ``personalisation``, as ``place`` takes them, with the same
        guarantees per pledge: capacity by the guarded counter (in request order), one pledge per
        key (a replayed key gives outcome ``replayed`` and the stored pledge, a key used for a
        different request ``conflict``), ``sold_out`` beyond capacity without a waitlist (nothing
        stored for it). A malformed request or a variant not on sale raises ``InvalidInput`` naming
        it, and then nothing of the batch is stored. For imports and shops that batch: a batch of a
        few hundred is one transaction.
        """
        requests = []
        personalised = []
        for index, item in enumerate(pledges):
            if not isinstance(item, Mapping):
                raise InvalidInput(
                    f"pledges[{index}]: {item!r} is not accepted; use a mapping with "
                    "variant_id, customer, quantity, key and optionally region"
                )
            fields = item.keys()
            if not (_REQUIRED_FIELDS <= fields <= _KNOWN_FIELDS):
                unknown = sorted(set(item) - _KNOWN_FIELDS)
                missing = [f for f in _REQUEST_FIELDS[:4] if f not in item]
                raise InvalidInput(
                    f"pledges[{index}]: "
                    + (f"unknown field {unknown[0]!r}" if unknown else f"{missing[0]} missing")
                    + f"; fields are {', '.join(_REQUEST_FIELDS)}"
                )
            requests.append(
                _request(
                    item["variant_id"],
                    item["customer"],
                    item["quantity"],
                    item["key"],
                    item.get("region"),
                    f"pledges[{index}].",
                )
            )
            personalised.append(item.get("personalisation"))
        self._outside_transaction()
        campaign = self.app.campaigns.get(slug)
        for index, units in enumerate(personalised):
            if units:
                requests[index] = self._personalised(campaign, requests[index], units)
        if not requests:
            return []
        return self._place(campaign, requests)

    def _place(
        self, campaign: Campaign, requests: list[_Request], tried: bool = False
    ) -> list[PlaceResult]:
        """Store requested pledges in one transaction, then settle what must go out, notify.
        ``tried``: ``_place_reserved`` was tried for the one request and could not place it."""
        store, area = self._store, self._area
        placed = None
        if (
            not tried
            and len(requests) == 1
            and requests[0].referral is None
            and not requests[0].personalisation
        ):
            reserved = self._place_reserved(campaign.slug, requests[0])
            if reserved is not None:
                placed = reserved[1:]
        while placed is None:
            with store.transaction():
                known = None
                if len(requests) == 1:  # the pre-sale, the offer and the key in one read
                    found, offer, stored = area.placing(
                        campaign.id, requests[0].variant_id, requests[0].key
                    )
                    known = (
                        {} if stored is None else {stored.key: stored},
                        {} if offer is None else {offer.variant_id: offer},
                    )
                    presale = found if found is not None else self._presale(campaign)
                else:
                    presale = self._presale(campaign)
                if not self._due(presale):
                    in_db = payments.in_database(self.app, presale.provider)
                    placed = self._place_in_transaction(campaign, presale, requests, in_db, known)
                    break
            self._settle_if_due(campaign)  # past its deadline: close it, then answer
        return self._after_placing(campaign, *placed)

    def _after_placing(
        self,
        campaign: Campaign,
        results: list[PlaceResult],
        fresh: list[int],
        pending: list[Payment],
    ) -> list[PlaceResult]:
        """After the pledges' commit: call out for ``pending`` payments, complete replayed
        pledges left unsettled, read back what settling changed, notify ``pledge_placed``."""
        area = self._area
        for payment in pending:  # a provider that calls out: intent committed, now the call
            self._settle_payment(campaign, payment)
        waiting = {i for i in fresh if results[i].pledge.state == PLACED}  # type: ignore[union-attr]
        for index, result in enumerate(results):
            pledge = result.pledge
            if pledge is None:
                continue
            if result.outcome == OUTCOME_REPLAYED and pledge.state == PLACED:
                assert pledge.id is not None
                self._settle_unsettled(campaign, pledge.id)
                results[index] = attrs.evolve(result, pledge=area.pledge(pledge.id))
            elif pending and index in waiting:
                results[index] = attrs.evolve(result, pledge=area.pledge(pledge.id))
        if fresh and has_listeners(self.app.pm, "pledge_placed"):
            hook = self.app.pm.hook
            for index in fresh:
                hook.pledge_placed(app=self.app, campaign=campaign, pledge=results[index].pledge)
        return results

    def _place_reserved(
        self, slug: str, request: _Request
    ) -> tuple[Campaign, list[PlaceResult], list[int], list[Payment]] | None:
        """One new pledge in the common case, as ``_place_in_transaction`` places it, in two
        round trips: the campaign, pre-sale, offer and key read with the units reserved and
        the pledge's and its deposit's ids taken (``placing_reserve``), then every write with
        the commit; in one, where the store knows them from this connection's last pledge for
        the variant and holds the ids (``reserve_known``: the reserve checks what it knew, and
        goes with the writes). The campaign and what ``_place_in_transaction`` answers; None,
        with nothing stored, when it is not that case (an unknown campaign, a key stored
        before, a pre-sale closed or past its deadline, a variant not on sale, a waitlist, a
        writer that stored the key at the same time): the general path then answers it."""
        store, area = self._store, self._area
        now = self.app.clock()
        stamp = isoformat(now)
        for ahead in (True, False):
            try:
                with store.transaction():
                    known = (
                        area.reserve_known(
                            slug, request.variant_id, request.key, request.quantity, stamp
                        )
                        if ahead
                        else None
                    )
                    if known is None:
                        ahead = False
                        campaign, presale, offer, stored, ids = area.placing_reserve(
                            slug, request.variant_id, request.key, request.quantity, stamp
                        )
                    else:
                        campaign, presale, offer, ids = known
                        stored = None
                    pledge, pending = self._write_reserved(
                        slug, request, now, campaign, presale, offer, stored, ids
                    )
            except (_NotPlain, store.UniqueViolation, store.Refused):
                if not ahead:
                    return None
                area.forget(slug, request.variant_id)  # something changed: read it again
                continue
            except SoldOut as refused:  # nothing stored
                assert campaign is not None
                return campaign, [PlaceResult(request.key, OUTCOME_SOLD_OUT, error=refused)], [], []
            assert campaign is not None
            return campaign, [PlaceResult(request.key, OUTCOME_PLACED, pledge=pledge)], [0], pending
        return None

    def _write_reserved(
        self,
        slug: str,
        request: _Request,
        now: datetime.datetime,
        campaign: Campaign | None,
        presale: Presale | None,
        offer: Offer | None,
        stored: Pledge | None,
        ids: tuple[int, int] | None,
    ) -> tuple[Pledge, list[Payment]]:
        """``_place_reserved``'s writes in its open transaction: the pledge, its deposit (its
        capture and its events); raises ``_NotPlain`` or ``SoldOut`` (the units left) when
        it is not the common case."""
        area, store = self._area, self._store
        if (
            campaign is None
            or presale is None
            or offer is None
            or stored is not None
            or presale.state != OPEN
            or datetime.datetime.fromisoformat(presale.deadline) <= now
        ):
            raise _NotPlain  # rolls back what was reserved
        campaign_id = campaign.id
        assert campaign_id is not None
        if ids is None:  # sold out, unless a writer changed something in between
            refused = area.sold_out(request.variant_id, request.quantity)
            if refused is None or presale.waitlist:
                raise _NotPlain
            raise refused
        pledge_id, payment_id = ids
        in_db = payments.in_database(self.app, presale.provider)
        pledge = area.insert_reserved(
            Pledge(pledge_id, campaign_id, request.variant_id, request.customer,
                   request.quantity, request.region, request.key, request.fingerprint,
                   PLACED, offer.currency, offer.unit_price, offer.deposit_per_unit,
                   offer.credit_per_unit),
            captured=in_db,
        )  # fmt: skip
        amount = Money(pledge.deposit_per_unit * pledge.quantity, pledge.currency)
        key = f"c2m:{slug}:{pledge_id}:{DEPOSIT}"
        deposit = (pledge, DEPOSIT, amount, presale.provider, key)
        text_slug = _text_json(slug)
        events: list[tuple[str, int | None, dict | str]] = [
            ("pledge.placed", campaign_id, _placed_json(text_slug, pledge))
        ]
        pending: list[Payment] = []
        if in_db:
            unsaved = Payment(
                0, pledge_id, campaign_id, DEPOSIT, amount, presale.provider, key, PENDING, 0
            )
            answers = payments.capture_in_transaction(
                self.app, presale.provider, campaign, [(pledge, unsaved)]
            )
            area.insert_captured_payments([deposit], answers, ids=[payment_id])
            captured = _captured_json(text_slug, pledge, payment_id, answers[0][1])
            events.append(("payment.succeeded", campaign_id, captured))
            events.append(("pledge.committed", campaign_id, _committed_json(text_slug, pledge)))
        else:
            pending = area.insert_payments([deposit], ids=[payment_id])
        store.events(events)
        return pledge, pending

    def _place_in_transaction(
        self,
        campaign: Campaign,
        presale: Presale,
        requests: list[_Request],
        in_db: bool,
        known: tuple[dict[str, Pledge], dict[int, Offer]] | None = None,
    ) -> tuple[list[PlaceResult], list[int], list[Payment]]:
        """``known``: the requests' stored pledges by key and their offers, already read in
        this transaction (``PresaleStore.placing``)."""
        area, store = self._area, self._store
        campaign_id = campaign.id
        assert campaign_id is not None
        offers: dict[int, Offer] | None = None
        if known is None:
            existing = area.pledges_by_keys(campaign_id, [r.key for r in requests])
        else:
            existing, offers = known
        results: list[PlaceResult | None] = [None] * len(requests)
        first: dict[str, int] = {}  # key -> index of its first new request in this batch
        asking: list[tuple[int, Pledge]] = []
        checked = False
        for index, request in enumerate(requests):
            stored = existing.get(request.key)
            if stored is not None:
                results[index] = _replay(stored, request)
                if request.referral is not None and results[index].outcome == OUTCOME_REPLAYED:  # type: ignore[union-attr]
                    self.app.rewards.attribute_placed(campaign, stored, request.referral)
                continue
            if request.key in first:
                continue  # answered after the first is stored
            first[request.key] = index
            if not checked:
                self._require_open(campaign, presale)
                checked = True
            if offers is None:
                offers = (
                    {o.variant_id: o for o in area.offers(campaign.id)} if len(requests) > 1 else {}
                )
            offer = offers.get(request.variant_id) if offers else None
            if offer is None:
                offer = self._offer(campaign, request.variant_id, request.where)
                offers[offer.variant_id] = offer
            asking.append(
                (
                    index,
                    Pledge(
                        None,
                        campaign_id,
                        request.variant_id,
                        request.customer,
                        request.quantity,
                        request.region,
                        request.key,
                        request.fingerprint,
                        PLACED,
                        offer.currency,
                        offer.unit_price,
                        offer.deposit_per_unit,
                        offer.credit_per_unit,
                    ),  # fmt: skip
                )
            )
        stored_now = area.insert_pledges(
            [p for _, p in asking], waitlist=presale.waitlist, captured=in_db
        )
        fresh: list[int] = []
        lost: list[int] = []
        for (index, _), outcome in zip(asking, stored_now, strict=True):
            if outcome is None:
                lost.append(index)
            elif isinstance(outcome, SoldOut):
                results[index] = PlaceResult(requests[index].key, OUTCOME_SOLD_OUT, error=outcome)
            else:
                results[index] = PlaceResult(outcome.key, OUTCOME_PLACED, pledge=outcome)
                fresh.append(index)
                if requests[index].referral is not None:
                    self.app.rewards.attribute_placed(campaign, outcome, requests[index].referral)
                if requests[index].personalisation:
                    units = requests[index].personalisation
                    self.app.personalisation.store_units("pledge", outcome.id, campaign_id, units)
                    results[index] = attrs.evolve(  # type: ignore[misc]
                        results[index], pledge=attrs.evolve(outcome, personalisation=units)
                    )
        if lost:  # another writer stored these keys first (possible where reads do not lock)
            won = area.pledges_by_keys(campaign.id, [requests[i].key for i in lost])
            for index in lost:
                results[index] = _replay(won[requests[index].key], requests[index])
        holding = [
            p
            for p in (results[i].pledge for i in fresh)  # type: ignore[union-attr]
            if p is not None and p.state != WAITLISTED
        ]
        deposits = [
            (p, DEPOSIT, Money(p.deposit_per_unit * p.quantity, p.currency), presale.provider,
             f"c2m:{campaign.slug}:{p.id}:{DEPOSIT}")
            for p in holding
        ]  # fmt: skip
        events: list[tuple[str, int | None, dict | str]] = []
        by_pledge: dict[int, tuple[int, str]] = {}  # pledge id -> its captured payment
        slug = _text_json(campaign.slug)
        if in_db and deposits:
            # captured before the payment rows are written, so each is written once, succeeded
            unsaved = [
                Payment(0, p.id, p.campaign_id, kind, amount, provider, key, PENDING, 0)  # type: ignore[arg-type]
                for p, kind, amount, provider, key in deposits
            ]
            answers = payments.capture_in_transaction(
                self.app, presale.provider, campaign, list(zip(holding, unsaved, strict=True))
            )
            ids = area.insert_captured_payments(deposits, answers)
            by_pledge = {
                p.id: (payment_id, reference)  # type: ignore[misc]
                for p, payment_id, (_, reference) in zip(holding, ids, answers, strict=True)
            }
            intents = []
        else:
            intents = area.insert_payments(deposits)
        for index in fresh:
            pledge = results[index].pledge  # type: ignore[union-attr]
            assert pledge is not None
            if pledge.state == WAITLISTED:
                waiting = _pledge_payload(campaign, pledge, **pledge.to_dict())
                events.append(("pledge.waitlisted", campaign_id, waiting))
                continue
            if pledge.personalisation:
                placed: dict | str = _pledge_payload(
                    campaign, pledge, **(pledge.to_dict() | {"state": PLACED})
                )
            else:
                placed = _placed_json(slug, pledge)
            events.append(("pledge.placed", campaign_id, placed))
            payment = by_pledge.get(pledge.id)  # type: ignore[arg-type]
            if payment is not None:
                events.append(
                    ("payment.succeeded", campaign_id, _captured_json(slug, pledge, *payment))
                )
                events.append(("pledge.committed", campaign_id, _committed_json(slug, pledge)))
        if events:
            store.events(events)
        for index, request in enumerate(requests):  # repeated keys within the batch
            if results[index] is None:
                earlier = requests[first[request.key]]
                answer = results[first[request.key]]
                assert answer is not None
                if earlier.fingerprint != request.fingerprint:
                    results[index] = PlaceResult(
                        request.key,
                        OUTCOME_CONFLICT,
                        error=IdempotencyConflict(
                            request.key, _request_differences(earlier, request)
                        ),
                    )
                elif answer.pledge is not None:
                    results[index] = _replay(answer.pledge, request)
                else:
                    results[index] = answer
        pending = [] if in_db else intents
        return [r for r in results if r is not None], fresh, pending

    def cancel(self, slug: str, key: str, reason: str = "customer") -> Pledge:
        """Cancel the pledge made with ``key`` and refund its deposit.

        After its variant tipped the campaign's cancellation rule applies: refused
        (``CancellationRefused``), or a fee kept from the deposit. Cancelling again returns the
        pledge unchanged. Freed units go to waiting pledges in the order they came.
        """
        self._outside_transaction()
        campaign = self.app.campaigns.get(slug)
        self._settle_if_due(campaign)
        store = self._store
        with store.transaction():
            pledge = self._pledge_by_key(campaign, key)
            if pledge.state in (CANCELLED, REFUNDED):
                return pledge
            presale = self._presale(campaign)
            fee = Money(0, pledge.currency)
            if pledge.state == PAID:
                raise CancellationRefused(
                    f"pledge {key!r} is paid in full; it can no longer be cancelled here"
                )
            if pledge.state == BALANCE_DUE:
                if presale.cancellation.refuse:
                    raise CancellationRefused(
                        f"pledge {key!r}: variant {pledge.variant_id} has tipped and campaign "
                        f"{slug!r} refuses cancellations after tipping"
                    )
                fee = presale.cancellation.fee(pledge.amounts.deposit, pledge.quantity)
            refunds = self._cancel(campaign, pledge, reason, fee)
            self._pledge_event(campaign, "pledge.cancelled", pledge, reason=reason, fee=fee.amount)
            promoted = []
            if presale.state == OPEN:
                promoted = self._promote(
                    campaign, presale, self._offer(campaign, pledge.variant_id)
                )
        for refund in refunds:
            self._settle_refund(campaign, refund)
        for payment in promoted:
            self._settle_payment(campaign, payment)
        pledge = self._area.pledge(pledge.id)
        self.app.pm.hook.pledge_cancelled(
            app=self.app, campaign=campaign, pledge=pledge, reason=reason
        )
        return pledge

    def _cancel(self, campaign, pledge: Pledge, reason: str, fee: Money) -> list[Refund]:
        """Inside a transaction: cancel and create the refund of whatever was captured, less fee."""
        self._area.move_pledge(pledge.id, pledge.state, CANCELLED, reason)
        refunds = []
        for kind in (DEPOSIT, BALANCE):
            payment = self._area.payment_for(pledge.id, kind)
            if payment is None or payment.state != SUCCEEDED:
                continue  # an unsettled payment is refunded in full once it settles
            kept = fee if kind == DEPOSIT else Money(0, pledge.currency)
            amount = payment.amount - min(kept, payment.amount)
            if amount.amount > 0 and self._area.refund_for(payment.id) is None:
                refunds.append(self._area.insert_refund(payment, amount, reason))
        return refunds

    def _promote(self, campaign, presale: Presale, offer: Offer) -> list[Payment]:
        """Inside a transaction: move waiting pledges that now fit to ``placed``, oldest first."""
        created = []
        for waiting in self._area.pledges(campaign.id, offer.variant_id, (WAITLISTED,)):
            try:
                moved = self._area.move_pledge(
                    waiting.id, WAITLISTED, PLACED, "promoted from the waitlist"
                )
            except SoldOut:
                continue  # too big for what is free; a smaller one after it may fit
            if moved:
                created.append(self._new_payment(campaign, presale, waiting, DEPOSIT))
                self._pledge_event(campaign, "pledge.promoted", waiting)
        return created

    # Closing -------------------------------------------------------------------------------------

    def close(self, slug: str) -> PresaleStatus:
        """Close the pre-sale: tip variants that reached their threshold, refund the others.

        Pending deposits are settled first, so they count. Closing a closed pre-sale changes
        nothing. Runs in its own transactions, so it refuses to run inside one.
        """
        self._outside_transaction()
        campaign = self.app.campaigns.get(slug)
        presale = self._presale(campaign)
        if presale.state == OPEN:
            self._close(campaign)
        return self.status(slug)

    def settle_due(self, slug: str | None = None) -> list[str]:
        """Close every pre-sale whose deadline passed (of campaign ``slug``, or of all campaigns).

        Idempotent: a pre-sale already closed, or not yet due, is left alone. Operations that
        change state run it first; reads never do. Like ``close`` it runs in its own
        transactions (closing commits, then refunds go to the provider, then notifications are
        sent), so it refuses to run inside one. Returns the slugs of the pre-sales it closed.
        """
        self._outside_transaction()
        if slug is not None:
            campaign = self.app.campaigns.get(slug)
            return [campaign.slug] if self._settle_if_due(campaign) else []
        closed = []
        for campaign_id in self._area.due_presales(self._store.now()):
            campaign = self._store.campaigns.get_by_id(campaign_id)
            if self._settle_if_due(campaign):
                closed.append(campaign.slug)
        return closed

    def _close(self, campaign: Campaign) -> bool:
        self._retry(campaign)
        area, store = self._area, self._store
        tipped: list[tuple[Offer, int]] = []
        failed: list[Offer] = []
        refunds: list[Refund] = []
        cancelled: list[tuple[int, str]] = []
        with store.transaction():
            if not area.close_presale(campaign.id):
                return False  # another process closed it first
            for offer in area.offers(campaign.id):
                pledges = area.pledges(campaign.id, offer.variant_id)
                units = sum(p.quantity for p in pledges if p.state in COMMITTED_STATES)
                reached = units >= offer.threshold
                area.close_offer(offer.id, TIPPED if reached else FAILED_OFFER, units)
                for pledge in pledges:
                    if pledge.state == WAITLISTED:
                        refunds += self._cancel(campaign, pledge, "presale_closed", _zero(pledge))
                        cancelled.append((pledge.id, "presale_closed"))
                        self._pledge_event(
                            campaign, "pledge.cancelled", pledge, reason="presale_closed", fee=0
                        )
                    elif reached and pledge.state == COMMITTED:
                        self._confirm(campaign, pledge)
                    elif not reached and pledge.state in (PLACED, COMMITTED):
                        refunds += self._cancel(campaign, pledge, "variant_failed", _zero(pledge))
                        cancelled.append((pledge.id, "variant_failed"))
                        self._pledge_event(
                            campaign, "pledge.cancelled", pledge, reason="variant_failed", fee=0
                        )
                if reached:
                    tipped.append((offer, units))
                else:
                    failed.append(offer)
                store.event(
                    "variant.tipped" if reached else "variant.failed",
                    campaign.id,
                    {
                        "campaign": campaign.slug,
                        "variant_id": offer.variant_id,
                        "units": units,
                        "threshold": offer.threshold,
                    },
                )
            store.event(
                "presale.closed",
                campaign.id,
                {
                    "campaign": campaign.slug,
                    "tipped": [offer.variant_id for offer, _ in tipped],
                    "failed": [offer.variant_id for offer in failed],
                },
            )
        for refund in refunds:
            self._settle_refund(campaign, refund)
        hook, app = self.app.pm.hook, self.app
        for pledge_id, reason in cancelled:
            hook.pledge_cancelled(
                app=app, campaign=campaign, pledge=area.pledge(pledge_id), reason=reason
            )
        variants = {v.id: v for v in app.store.variants.for_campaign(campaign.id, True)}
        for offer, units in tipped:
            hook.variant_tipped(
                app=app, campaign=campaign, variant=variants[offer.variant_id], units=units
            )
        hook.presale_closed(
            app=app,
            campaign=campaign,
            tipped=[variants[offer.variant_id] for offer, _ in tipped],
            failed=[variants[offer.variant_id] for offer in failed],
        )
        return True

    def _confirm(self, campaign: Campaign, pledge: Pledge) -> None:
        """Inside a transaction: a committed pledge of a tipped variant -> balance due (or paid)."""
        area = self._area
        area.move_pledge(pledge.id, COMMITTED, CONFIRMED, "variant tipped")
        area.move_pledge(pledge.id, CONFIRMED, BALANCE_DUE, "balance due")
        balance = pledge.amounts.balance.amount
        self._pledge_event(campaign, "pledge.balance_due", pledge, balance=balance)
        if balance == 0:
            area.move_pledge(pledge.id, BALANCE_DUE, PAID, "the deposit covers the price")
            self._pledge_event(campaign, "pledge.paid", pledge)

    def _pledge_event(self, campaign: Campaign, type: str, pledge: Pledge, **extra) -> None:
        """Inside the transaction of the change: an event a shop can act on without a lookup."""
        self._store.event(type, campaign.id, _pledge_payload(campaign, pledge, **extra))

    def _settle_if_due(self, campaign: Campaign) -> bool:
        presale = self._area.presale(campaign.id)
        if presale is not None and presale.state == OPEN and self._past(presale):
            return self._close(campaign)
        return False

    def _due(self, presale: Presale) -> bool:
        """Open, but past its deadline: what a read reports as ``due_to_close``."""
        return presale.state == OPEN and self._past(presale)

    def _past(self, presale: Presale) -> bool:
        return datetime.datetime.fromisoformat(presale.deadline) <= self.app.clock()

    # Money ---------------------------------------------------------------------------------------

    def retry(self, slug: str) -> RetryReport:
        """Complete every pending or failed payment and refund, with their original keys."""
        self._outside_transaction()
        campaign = self.app.campaigns.get(slug)
        self._settle_if_due(campaign)
        return self._retry(campaign)

    def _retry(self, campaign: Campaign) -> RetryReport:
        report = RetryReport()
        for payment in self._area.payments(campaign.id, (PENDING, FAILED)):
            report += self._settle_payment(campaign, payment)
        for refund in self._area.refunds(campaign.id, (PENDING, FAILED)):
            report += self._settle_refund(campaign, refund)
        return report

    def charge_balances(self, slug: str, key: str | None = None) -> RetryReport:
        """Charge the balance of every pledge with a balance due (or of the one with ``key``)."""
        self._outside_transaction()
        campaign = self.app.campaigns.get(slug)
        self._settle_if_due(campaign)
        presale = self._presale(campaign)
        with self._store.transaction():
            if key is not None:
                due = [self._pledge_by_key(campaign, key)]
                if due[0].state != BALANCE_DUE:
                    raise InvalidInput(
                        f"pledge {key!r} is {due[0].state}; only a pledge with its balance due "
                        "can be charged"
                    )
            else:
                due = self._area.pledges(campaign.id, states=(BALANCE_DUE,))
            for pledge in due:
                if self._area.payment_for(pledge.id, BALANCE) is None:
                    self._new_payment(campaign, presale, pledge, BALANCE)
        report = RetryReport()
        for pledge in due:
            payment = self._area.payment_for(pledge.id, BALANCE)
            if payment.state != SUCCEEDED:
                report += self._settle_payment(campaign, payment)
        return report

    def _new_payment(self, campaign, presale: Presale, pledge: Pledge, kind: str) -> Payment:
        amounts = pledge.amounts
        amount = amounts.deposit if kind == DEPOSIT else amounts.balance
        return self._area.insert_payment(
            pledge, kind, amount, presale.provider, f"c2m:{campaign.slug}:{pledge.id}:{kind}"
        )

    def _settle_unsettled(self, campaign: Campaign, pledge_id: int) -> None:
        payment = self._area.payment_for(pledge_id, DEPOSIT)
        if payment is not None and payment.state != SUCCEEDED:
            self._settle_payment(campaign, payment)

    def _settle_payment(self, campaign: Campaign, payment: Payment) -> RetryReport:
        """Call the provider (outside any transaction), then record the outcome."""
        pledge = self._area.pledge(payment.pledge_id)
        authorization, reference, error = payments.capture(self.app, campaign, pledge, payment)
        refunds = []
        with self._store.transaction():
            if error is not None:
                if self._area.payment_failed(payment.id, authorization, error):
                    self._pledge_event(
                        campaign,
                        "payment.failed",
                        pledge,
                        payment_id=payment.id,
                        kind=payment.kind,
                        error=error,
                    )
                    failed = True
                else:
                    failed = False  # another process recorded its success meanwhile
            else:
                failed = False
                if self._area.payment_succeeded(payment.id, authorization, reference):
                    self._pledge_event(
                        campaign,
                        "payment.succeeded",
                        pledge,
                        payment_id=payment.id,
                        kind=payment.kind,
                        amount=payment.amount.amount,
                        reference=reference,
                    )
                    refunds = self._captured(campaign, payment)
        report = RetryReport(payments_succeeded=int(not failed), payments_failed=int(failed))
        for refund in refunds:
            report += self._settle_refund(campaign, refund)
        return report

    def _captured(self, campaign: Campaign, payment: Payment) -> list[Refund]:
        """Inside a transaction: move the pledge on now that ``payment`` succeeded."""
        area = self._area
        pledge = area.pledge(payment.pledge_id)
        if pledge.state == CANCELLED:
            return [area.insert_refund(payment, payment.amount, "cancelled before capture")]
        if payment.kind == DEPOSIT and pledge.state == PLACED:
            area.move_pledge(pledge.id, PLACED, COMMITTED, "deposit captured")
            self._pledge_event(campaign, "pledge.committed", pledge)
            offer = area.offer(campaign.id, pledge.variant_id)
            if offer.state == TIPPED:
                self._confirm(campaign, area.pledge(pledge.id))
        elif payment.kind == BALANCE and pledge.state == BALANCE_DUE:
            area.move_pledge(pledge.id, BALANCE_DUE, PAID, "balance captured")
            self._pledge_event(campaign, "pledge.paid", pledge)
        return []

    def _settle_refund(self, campaign: Campaign, refund: Refund) -> RetryReport:
        area = self._area
        pledge = area.pledge(refund.pledge_id)
        payment = area.payment(refund.payment_id)
        reference, error = payments.refund(self.app, campaign, pledge, payment, refund)
        failed = False
        with self._store.transaction():
            if error is not None:
                failed = area.refund_failed(refund.id, error)
                if failed:
                    self._pledge_event(
                        campaign, "refund.failed", pledge, refund_id=refund.id, error=error
                    )
            elif area.refund_succeeded(refund.id, reference):
                self._pledge_event(
                    campaign,
                    "refund.succeeded",
                    pledge,
                    refund_id=refund.id,
                    amount=refund.amount.amount,
                )
                current = area.pledge(pledge.id)
                unsettled = area.refunds(campaign.id, (PENDING, FAILED), pledge_id=pledge.id)
                if current.state == CANCELLED and not unsettled:
                    area.move_pledge(pledge.id, CANCELLED, REFUNDED, "refund succeeded")
                    self._pledge_event(
                        campaign, "pledge.refunded", pledge, amount=refund.amount.amount
                    )
        return RetryReport(refunds_succeeded=int(not failed), refunds_failed=int(failed))

    # Reports -------------------------------------------------------------------------------------

    def status(self, slug: str) -> PresaleStatus:
        """Per variant: committed units against threshold and capacity, money, time left.

        A read: it never closes the pre-sale. Past its deadline and not yet closed, ``state``
        is ``due_to_close`` and ``seconds_left`` is 0.
        """
        campaign = self.app.campaigns.get(slug)
        presale = self._presale(campaign)
        area = self._area
        units: dict[int, dict[str, tuple[int, int]]] = {}
        for row in area.units_by_state(campaign.id):
            units.setdefault(row.variant_id, {})[row.state] = (row.pledges, row.units)
        variants = {v.id: v for v in self.app.store.variants.for_campaign(campaign.id, True)}
        rows = []
        for offer in area.offers(campaign.id):
            counts = units.get(offer.variant_id, {})
            committed = sum(counts.get(s, (0, 0))[1] for s in COMMITTED_STATES)
            amounts = offer.amounts(committed)
            rows.append(
                VariantStatus(
                    variant_id=offer.variant_id,
                    name=variants[offer.variant_id].name,
                    state=offer.state,
                    unit_price=amounts.unit_price,
                    deposit_per_unit=amounts.deposit_per_unit,
                    threshold=offer.threshold,
                    capacity=offer.capacity,
                    committed_units=committed,
                    units_at_close=offer.units_at_close,
                    awaiting_payment_units=counts.get(PLACED, (0, 0))[1],
                    waitlisted_units=counts.get(WAITLISTED, (0, 0))[1],
                    pledges=sum(
                        n for s, (n, _) in counts.items() if s not in (CANCELLED, REFUNDED)
                    ),
                    deposits_committed=amounts.deposit,
                    value_committed=amounts.total,
                )
            )
        left = datetime.datetime.fromisoformat(presale.deadline) - self.app.clock()
        return PresaleStatus(
            campaign=campaign.slug,
            state=DUE_TO_CLOSE if self._due(presale) else presale.state,
            deadline=presale.deadline,
            seconds_left=max(int(left.total_seconds()), 0) if presale.state == OPEN else 0,
            provider=presale.provider,
            deposit=presale.deposit.describe(campaign.currency),
            cancellation=presale.cancellation.describe(campaign.currency),
            waitlist=presale.waitlist,
            variants=tuple(rows),
            payments_unsettled=len(area.payments(campaign.id, (PENDING, FAILED))),
            refunds_unsettled=len(area.refunds(campaign.id, (PENDING, FAILED))),
        )

    def production_demand(self, slug: str) -> list[Demand]:
        """What to produce: each tipped variant's confirmed units by region, in variant order.

        A tipped variant whose pledges were all cancelled afterwards is left out.

        Confirmed units are those of pledges confirmed, with their balance due, or paid; a
        pledge without a region counts as ``"default"``. A read: a pre-sale past its deadline that
        nothing closed yet raises ``PresaleNotSettled`` (its outcome is not known yet).
        """
        campaign = self.app.campaigns.get(slug)
        area = self._area
        presale = area.presale(campaign.id)
        if presale is not None and self._due(presale):
            raise PresaleNotSettled(
                f"the pre-sale of campaign {campaign.slug!r} ended at its deadline, "
                f"{presale.deadline}, and has not been closed yet; `c2m presale close "
                f"{campaign.slug}` closes it (so does any command that changes state)",
                field="presale",
                value=campaign.slug,
                accepted="a closed pre-sale",
            )
        variants = {v.id: v for v in self.app.store.variants.for_campaign(campaign.id, True)}
        tipped = [o for o in area.offers(campaign.id) if o.state == TIPPED]
        tipped.sort(key=lambda o: (variants[o.variant_id].position, o.variant_id))
        demand = []
        for offer in tipped:
            by_region: dict[str, int] = {}
            for pledge in area.pledges(campaign.id, offer.variant_id, CONFIRMED_STATES):
                region = pledge.region or "default"
                by_region[region] = by_region.get(region, 0) + pledge.quantity
            if not by_region:
                continue  # every pledge was cancelled after tipping: nothing to make
            demand.append(
                Demand(
                    variant=variants[offer.variant_id],
                    quantity=sum(by_region.values()),
                    by_region=dict(sorted(by_region.items())),
                    unit_price=Money(offer.unit_price, offer.currency),
                )
            )
        return demand

    def audit(self, slug: str) -> AuditReport:
        """Check each variant's capacity counter against a recount of its pledges (a read)."""
        campaign = self.app.campaigns.get(slug)
        self._presale(campaign)
        return AuditReport(campaign.slug, tuple(self._area.audit(campaign.id)))

    # Helpers -------------------------------------------------------------------------------------

    def import_pledges(
        self,
        slug: str,
        file_or_rows,
        strict: bool = False,
        format: str | None = None,
        progress=None,
    ) -> PledgeImportReport:
        """Place many pledges: from a CSV or JSON Lines file (a path or a file object) or rows.

        Rows are mappings with ``variant``, ``customer``, ``quantity``, ``key`` and optionally
        ``region`` (the file's columns). Each row is placed as ``place`` places one, so a row
        already placed with the same key is a harmless replay and an import can be run again.
        Rejected rows are reported with their line (a row's position, counting from 1) and
        the others placed; with ``strict``, rows that are malformed (bad fields, a variant not
        on sale, a key repeated) place nothing at all; a row can still be sold out when its
        turn comes. A file that cannot be read raises ``InvalidInput`` before anything is
        placed. ``progress(line)`` is called after each row placed.
        """
        from .imports import import_pledges

        return import_pledges(self.app, slug, file_or_rows, strict, format, progress)

    def _open_presale(self, campaign: Campaign) -> Presale:
        presale = self._presale(campaign)
        self._require_open(campaign, presale)
        return presale

    def _require_open(self, campaign: Campaign, presale: Presale) -> None:
        if presale.state != OPEN:
            raise PresaleClosed(
                f"the pre-sale of campaign {campaign.slug!r} closed at {presale.closed_at}"
            )
        if self._past(presale):
            raise PresaleClosed(
                f"the pre-sale of campaign {campaign.slug!r} ended at its deadline, "
                f"{presale.deadline}"
            )

    def _offer(self, campaign: Campaign, variant_id: int, where: str = "") -> Offer:
        offer = self._area.offer(campaign.id, variant_id)
        if offer is None:
            on_sale = ", ".join(str(o.variant_id) for o in self._area.offers(campaign.id))
            raise InvalidInput(
                f"{where}variant: {variant_id} is not on sale in campaign {campaign.slug!r}; "
                f"on sale: {on_sale or 'none'}",
                field=f"{where}variant_id",
                value=variant_id,
                accepted=f"a variant on sale: {on_sale or 'none'}",
            )
        return offer

    def _outside_transaction(self) -> None:
        if self._store.in_transaction:
            raise C2MError(
                "pre-sale operations call the payment provider and must run outside a "
                "transaction (the provider is called after the pledge is committed)"
            )


class _NotPlain(Exception):
    """Raised inside ``_place_reserved``'s transaction to roll it back: the general path
    answers the request."""


_REQUEST_FIELDS = ("variant_id", "customer", "quantity", "key", "region", "personalisation")
_KNOWN_FIELDS = frozenset(_REQUEST_FIELDS)
_REQUIRED_FIELDS = frozenset(_REQUEST_FIELDS[:4])


@attrs.frozen
class _Request:
    """A checked pledge request; ``where`` prefixes field names in errors (``pledges[3].``)."""

    variant_id: int
    customer: str
    quantity: int
    key: str
    region: str | None
    fingerprint: str
    where: str
    referral: object = None  # the share code to attribute the pledge to (``place``)
    personalisation: tuple = ()  # checked per-unit values (``_personalised``)


def _request(variant_id, customer, quantity, key, region, where: str) -> _Request:
    if not (  # the checks of _text and _count, inline: field names are made only for errors
        type(customer) is str
        and 0 < len(customer) <= MAX_TEXT
        and not customer.isspace()
        and type(key) is str
        and 0 < len(key) <= MAX_TEXT
        and not key.isspace()
        and type(quantity) is int
        and 1 <= quantity <= MAX_COUNT
        and (region is None or (type(region) is str and 0 < len(region) <= 64))
        and (region is None or not region.isspace())
    ):
        customer = _text(customer, f"{where}customer")
        quantity = _count(quantity, f"{where}quantity", 1)
        key = _text(key, f"{where}key")
        region = _text(region, f"{where}region", 64, optional=True)
    if isinstance(variant_id, bool) or not isinstance(variant_id, int):
        raise InvalidInput(f"{where}variant: {variant_id!r} is not a variant id")
    return _Request(
        variant_id,
        customer,
        quantity,
        key,
        region,
        fingerprint(variant_id, customer, quantity, region),
        where,
    )


def _replay(stored: Pledge, request: _Request) -> PlaceResult:
    """The stored pledge for a repeated key, or the conflict when the request differs."""
    if stored.fingerprint == request.fingerprint:
        return PlaceResult(request.key, OUTCOME_REPLAYED, pledge=stored)
    differences = _differences(
        stored, request.variant_id, request.customer, request.quantity, request.region
    )
    if not differences:  # the same pledge but other per-unit personalisation
        differences = {"personalisation": ("other values", list(request.personalisation))}
    return PlaceResult(
        request.key, OUTCOME_CONFLICT, error=IdempotencyConflict(request.key, differences)
    )


def _request_differences(before: _Request, after: _Request) -> dict:
    names = {"variant": "variant_id", "customer": "customer", "quantity": "quantity",
             "region": "region"}  # fmt: skip
    return {
        name: (getattr(before, field), getattr(after, field))
        for name, field in names.items()
        if getattr(before, field) != getattr(after, field)
    }


def _pledge_payload(campaign: Campaign, pledge: Pledge, **extra) -> dict:
    """An event payload a shop can act on without a lookup: campaign, variant, customer, key."""
    return extra | {
        "campaign": campaign.slug,
        "variant_id": pledge.variant_id,
        "customer": pledge.customer,
        "key": pledge.key,
        "pledge_id": pledge.id,
    }


#: How the event log writes text in a payload (``ensure_ascii=False``), for the payloads of
#: new pledges written as text: the same JSON, key order and spacing as ``Store.event`` makes
#: from ``_pledge_payload`` (``tests/test_presale_batches.py`` compares them), in a fraction of
#: the time, since a batch writes three per pledge.
_text_json = json.encoder.encode_basestring


def _or_null(text: str | None) -> str:
    return "null" if text is None else _text_json(text)


def _placed_json(slug: str, p: Pledge) -> str:
    """``pledge.placed``'s payload (``slug`` already JSON) of a pledge without personalisation."""
    total, deposit = p.unit_price * p.quantity, p.deposit_per_unit * p.quantity
    return (
        f'{{"balance": {total - p.credit_per_unit * p.quantity}, "campaign": {slug}, '
        f'"campaign_id": {p.campaign_id}, "created_at": {_or_null(p.created_at)}, '
        f'"credit_per_unit": {p.credit_per_unit}, "currency": {_text_json(p.currency)}, '
        f'"customer": {_text_json(p.customer)}, "deposit": {deposit}, '
        f'"deposit_per_unit": {p.deposit_per_unit}, "fingerprint": {_text_json(p.fingerprint)}, '
        f'"id": {p.id}, "key": {_text_json(p.key)}, "personalisation": [], '
        f'"pledge_id": {p.id}, "quantity": {p.quantity}, "region": {_or_null(p.region)}, '
        f'"state": "{PLACED}", "total": {total}, "unit_price": {p.unit_price}, '
        f'"updated_at": {_or_null(p.updated_at)}, "variant_id": {p.variant_id}}}'
    )


def _captured_json(slug: str, p: Pledge, payment_id: int, reference: str) -> str:
    """``payment.succeeded``'s payload for a deposit captured in the pledge's transaction."""
    return (
        f'{{"amount": {p.deposit_per_unit * p.quantity}, "campaign": {slug}, '
        f'"customer": {_text_json(p.customer)}, "key": {_text_json(p.key)}, '
        f'"kind": "{DEPOSIT}", "payment_id": {payment_id}, "pledge_id": {p.id}, '
        f'"reference": {_text_json(reference)}, "variant_id": {p.variant_id}}}'
    )


def _committed_json(slug: str, p: Pledge) -> str:
    """``pledge.committed``'s payload."""
    return (
        f'{{"campaign": {slug}, "customer": {_text_json(p.customer)}, '
        f'"key": {_text_json(p.key)}, "pledge_id": {p.id}, "variant_id": {p.variant_id}}}'
    )


def _zero(pledge: Pledge) -> Money:
    return Money(0, pledge.currency)


def _differences(pledge: Pledge, variant_id, customer, quantity, region) -> dict:
    before = {
        "variant": pledge.variant_id,
        "customer": pledge.customer,
        "quantity": pledge.quantity,
        "region": pledge.region,
    }
    after = {"variant": variant_id, "customer": customer, "quantity": quantity, "region": region}
    return {k: (before[k], after[k]) for k in before if before[k] != after[k]}
