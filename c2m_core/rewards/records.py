"""Reward records: the campaign's reward rule, rewards in the ledger, share codes, attributions.

A reward moves ``pending`` (recorded, its idempotency key fixed) -> ``paid`` (the provider
answered), or ``failed`` (the provider raised; ``c2m reward pay`` tries again with the same key).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ..errors import Conflict, NotAllowed
from ..money import Money

FIXED = "fixed"
SHARE = "share"
RULE_KINDS = (FIXED, SHARE)
DESIGN = "design"
REFERRAL = "referral"
PENDING = "pending"
PAID = "paid"
FAILED = "failed"
REWARD_STATES = (PENDING, PAID, FAILED)


class SelfReferral(NotAllowed):
    """A customer used their own share code."""


class ReferralLimit(NotAllowed):
    """The share code reached the campaign's limit of attributed pledges."""


class AlreadyAttributed(Conflict):
    """The pledge is attributed to another share code already (one attribution per pledge)."""


class RulesFrozen(NotAllowed):
    """Rewards were recorded under the rule; it can no longer change."""


@attrs.frozen
class RewardRule:
    """How a campaign rewards designers and referrers.

    ``kind`` ``fixed``: each tipped, handed-off variant shares a pool of ``amount`` minor units
    among the authors of the wishes it covers; ``share``: the pool is ``basis_points`` of the
    variant's confirmed deposits. Either way the pool is split by the units each author's wishes
    brought (largest remainder, so the parts add up exactly). A referrer earns
    ``referral_per_unit`` per unit of each confirmed pledge placed with their code; a code counts
    at most ``referral_limit`` pledges (None: no limit).
    """

    campaign_id: int
    kind: str
    currency: str
    amount: int = 0
    basis_points: int = 0
    referral_per_unit: int = 0
    referral_limit: int | None = None
    provider: str = "ledger"

    def describe(self) -> str:
        if self.kind == FIXED:
            pool = f"{Money(self.amount, self.currency)} per tipped variant"
        else:
            pool = f"{self.basis_points / 100:g}% of each tipped variant's deposits"
        text = f"designers share {pool}, by wished units"
        if self.referral_per_unit:
            limit = "" if self.referral_limit is None else f", at most {self.referral_limit} a code"
            text += f"; referrers {Money(self.referral_per_unit, self.currency)} a unit{limit}"
        return text

    def to_dict(self) -> dict:
        return attrs.asdict(self) | {"description": self.describe()}


@attrs.frozen
class Reward:
    """One reward in the ledger: to ``recipient`` for a variant (design) or a pledge (referral)."""

    id: int | None
    campaign_id: int
    variant_id: int
    recipient: str
    kind: str
    units: int
    amount: Money
    key: str
    state: str = PENDING
    attempts: int = 0
    pledge_id: int | None = None
    reference: str | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["amount"] = self.amount.amount
        data["currency"] = self.amount.currency
        return data


@attrs.frozen
class PayoutReport:
    """What one ``pay`` did: rewards newly recorded, paid now, still failing, paid in total."""

    recorded: int
    paid: int
    failed: int
    paid_total: Money | None

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["paid_total"] = None if self.paid_total is None else self.paid_total.amount
        data["currency"] = None if self.paid_total is None else self.paid_total.currency
        return data


@attrs.frozen
class ShareCode:
    """A customer's code for sharing one variant."""

    code: str
    campaign_id: int
    customer: str
    variant_id: int
    created_at: str | None = None

    def to_dict(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class Attribution:
    """A pledge placed with a share code."""

    pledge_id: int
    code: str
    campaign_id: int
    referrer: str
    created_at: str | None = None

    def to_dict(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class FunnelRow:
    """Shares -> visits -> pledges (and their units) of one variant."""

    variant_id: int
    shares: int
    visits: int
    pledges: int
    units: int

    def to_dict(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class ShowcaseEntry:
    """One of a campaign's top designs: a variant, its pledged units, and its designers."""

    variant_id: int
    name: str
    state: str
    units_pledged: int
    designers: tuple[tuple[str, int], ...]

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["designers"] = [{"customer": c, "units": u} for c, u in self.designers]
        return data


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to integer ``weights`` so the parts add up exactly.

    Each part is its floored exact share; the units left over go one each to the largest
    remainders (ties: the earlier weight). Every part is within one unit of its exact share.
    """
    weights = list(weights)
    if total < 0 or any(w < 0 for w in weights) or not weights:
        raise ValueError("largest_remainder needs total >= 0 and weights >= 0")
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    parts = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    left = total - sum(parts)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[index] += 1
    return parts
