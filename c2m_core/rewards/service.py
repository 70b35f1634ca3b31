"""Designer rewards, sharing and referrals. Reached as ``app.rewards``.

Authors: a wish's customer is its author. When a variant that covers wishes (it agrees with
every option a valid wish chose) tips and is handed off, its authors share the pool the
campaign's ``RewardRule`` sets, in proportion to the units their covering wishes brought. A
variant that failed to tip, or was not handed off, rewards nobody.

Paying is exactly once: ``pay`` records every reward due with a deterministic idempotency key
in one transaction (recording again is a no-op), commits, then calls the ``pay_reward`` hook
outside any transaction and records the outcome. A crash in between leaves the reward pending
and the next ``pay`` calls the provider again with the same key, which a provider must treat as
the same payout (the default ``ledger`` provider does).
"""

from __future__ import annotations

import secrets
from collections import defaultdict

from ..errors import C2MError, InvalidInput, NotFound
from ..money import Money
from ..presale import payments
from ..presale.records import COMMITTED_STATES, CONFIRMED_STATES, TIPPED
from .records import (
    DESIGN,
    FAILED,
    FIXED,
    PAID,
    PENDING,
    REFERRAL,
    RULE_KINDS,
    SHARE,
    AlreadyAttributed,
    Attribution,
    FunnelRow,
    PayoutReport,
    ReferralLimit,
    Reward,
    RewardRule,
    RulesFrozen,
    SelfReferral,
    ShareCode,
    ShowcaseEntry,
    largest_remainder,
)

MAX_TEXT = 200
PAGE = 5000


def _whole(value, field: str, minimum: int = 0, optional: bool = False):
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(
            f"{field}: {value!r} is not accepted; use a whole number >= {minimum}",
            field=field,
            value=value,
            accepted=f"a whole number >= {minimum}",
        )
    return value


def _text(value, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise InvalidInput(
            f"{field}: {value!r} is not accepted; use non-blank text of at most {MAX_TEXT} "
            "characters",
            field=field,
            value=value,
            accepted=f"non-blank text of at most {MAX_TEXT} characters",
        )
    return value


def covers(variant_configuration, wish_configuration) -> bool:
    """A variant covers a wish when it agrees with every option the wish chose."""
    return all(variant_configuration.get(m) == o for m, o in wish_configuration.items())


class RewardService:
    """Reward rules, the reward ledger and payouts, share codes, referrals, the showcase."""

    def __init__(self, app):
        self.app = app

    @property
    def _area(self):
        return self.app.store.rewards

    # The rule ------------------------------------------------------------------------------------

    def set_rule(
        self,
        slug: str,
        kind: str = FIXED,
        amount: int = 0,
        basis_points: int = 0,
        referral_per_unit: int = 0,
        referral_limit: int | None = None,
        provider: str = "ledger",
    ) -> RewardRule:
        """Set how campaign ``slug`` rewards designers and referrers (amounts in minor units).

        Refused once rewards were recorded under the rule (``RulesFrozen``).
        """
        campaign = self.app.campaigns.get(slug)
        if kind not in RULE_KINDS:
            raise InvalidInput(
                f"kind: {kind!r} is not a reward rule; use one of {', '.join(RULE_KINDS)}",
                field="kind",
                value=kind,
                accepted=", ".join(RULE_KINDS),
            )
        amount = _whole(amount, "amount")
        basis_points = _whole(basis_points, "basis_points")
        if basis_points > 10_000:
            raise InvalidInput(
                f"basis_points: {basis_points} is over 100%; use 0 to 10000",
                field="basis_points",
                value=basis_points,
                accepted="0 to 10000",
            )
        rule = RewardRule(
            campaign_id=campaign.id,
            kind=kind,
            currency=campaign.currency,
            amount=amount if kind == FIXED else 0,
            basis_points=basis_points if kind == SHARE else 0,
            referral_per_unit=_whole(referral_per_unit, "referral_per_unit"),
            referral_limit=_whole(referral_limit, "referral_limit", 1, optional=True),
            provider=provider,
        )
        known = payments.providers(self.app)
        if provider not in known:
            raise InvalidInput(
                f"provider: no plugin handles payment provider {provider!r}; "
                f"available: {', '.join(known) or 'none'}",
                field="provider",
                value=provider,
                accepted=", ".join(known),
            )
        store = self.app.store
        with store.transaction():
            if self._area.count(campaign.id):
                raise RulesFrozen(
                    f"campaign {slug!r} recorded rewards under its rule already; it can't change"
                )
            self._area.put_rule(rule)
            store.event("reward.rule_set", campaign.id, rule.to_dict())
        return rule

    def rule(self, slug: str) -> RewardRule | None:
        """The campaign's reward rule, or None when it rewards nobody."""
        return self._area.rule(self.app.campaigns.get(slug).id)

    # What is due ---------------------------------------------------------------------------------

    def authors(self, slug: str, variant_id: int) -> dict[str, int]:
        """Each author of a valid wish the variant covers, with the units those wishes brought."""
        campaign = self.app.campaigns.get(slug)
        variant = self._variant(campaign, variant_id)
        return self._authors(campaign.id, [variant])[variant.id]

    def _authors(self, campaign_id: int, variants) -> dict[int, dict[str, int]]:
        units: dict[int, dict[str, int]] = {v.id: defaultdict(int) for v in variants}
        wishes = self.app.store.wishes
        catalog = self.app.campaigns.catalog(self.app.store.campaigns.get_by_id(campaign_id))
        accepts = catalog.accepts if catalog.numeric_modules else None
        last = 0
        while True:
            page = wishes.after(campaign_id, last, PAGE)
            if not page:
                break
            last = page[-1].id
            for wish in page:
                if not wish.valid:
                    continue
                for variant in variants:
                    if (
                        accepts(wish.configuration, variant.configuration)
                        if accepts is not None
                        else covers(variant.configuration, wish.configuration)
                    ):
                        units[variant.id][wish.customer] += wish.quantity
        return {v: dict(sorted(a.items())) for v, a in units.items()}

    def due(self, slug: str) -> list[Reward]:
        """Every reward the rule makes due now (not stored; ``pay`` records and pays them)."""
        campaign = self.app.campaigns.get(slug)
        return self._due(campaign)

    def _due(self, campaign) -> list[Reward]:
        rule = self._area.rule(campaign.id)
        if rule is None:
            return []
        store = self.app.store
        handed_off = {h.variant_id for h in store.handoff.for_campaign(campaign.id)}
        offers = [
            o
            for o in store.presale.offers(campaign.id)
            if o.state == TIPPED and o.variant_id in handed_off
        ]
        variants = {v.id: v for v in store.variants.for_campaign(campaign.id, True)}
        chosen = [variants[o.variant_id] for o in offers]
        authors = self._authors(campaign.id, chosen)
        due = []
        for offer in offers:
            confirmed = store.presale.pledges(campaign.id, offer.variant_id, CONFIRMED_STATES)
            if rule.kind == FIXED:
                pool = rule.amount
            else:
                deposits = sum(p.amounts.deposit.amount for p in confirmed)
                pool = deposits * rule.basis_points // 10_000
            by_author = authors[offer.variant_id]
            if by_author and pool:
                names = list(by_author)
                parts = largest_remainder(pool, [by_author[n] for n in names])
                for name, part in zip(names, parts, strict=True):
                    if part:
                        due.append(
                            Reward(
                                id=None,
                                campaign_id=campaign.id,
                                variant_id=offer.variant_id,
                                recipient=name,
                                kind=DESIGN,
                                units=by_author[name],
                                amount=Money(part, rule.currency),
                                key=f"c2m:{campaign.slug}:reward:design:{offer.variant_id}:{name}",
                            )
                        )
            if rule.referral_per_unit:
                for pledge in confirmed:
                    attribution = self._area.attribution(pledge.id)
                    if attribution is None:
                        continue
                    due.append(
                        Reward(
                            id=None,
                            campaign_id=campaign.id,
                            variant_id=offer.variant_id,
                            recipient=attribution.referrer,
                            kind=REFERRAL,
                            units=pledge.quantity,
                            amount=Money(rule.referral_per_unit * pledge.quantity, rule.currency),
                            key=f"c2m:{campaign.slug}:reward:referral:{pledge.id}",
                            pledge_id=pledge.id,
                        )
                    )
        return due

    # Paying --------------------------------------------------------------------------------------

    def pay(self, slug: str) -> PayoutReport:
        """Record every reward due (once per key) and pay those not paid yet, outside transactions.

        Safe to run again, and after a crash: a reward is paid under the same key every time.
        """
        store = self.app.store
        if store.in_transaction:
            raise C2MError(
                "rewards are paid through the payment provider and must run outside a transaction"
            )
        campaign = self.app.campaigns.get(slug)
        rule = self._area.rule(campaign.id)
        if rule is None:
            raise InvalidInput(
                f"campaign {slug!r} has no reward rule; set one with "
                f"`c2m reward rule {slug} --fixed AMOUNT` (or --share PERCENT)",
                field="rule",
                value=None,
            )
        recorded = 0
        with store.transaction():
            for reward in self._due(campaign):
                if self._area.record(reward):
                    recorded += 1
                    store.event("reward.recorded", campaign.id, reward.to_dict())
        paid = failed = 0
        for reward in self._area.rewards(campaign.id, (PENDING, FAILED)):
            if self._settle(campaign, rule, reward):
                paid += 1
            else:
                failed += 1
        done = self._area.rewards(campaign.id, (PAID,))
        total = Money(sum(r.amount.amount for r in done), campaign.currency)
        return PayoutReport(recorded=recorded, paid=paid, failed=failed, paid_total=total)

    def _settle(self, campaign, rule: RewardRule, reward: Reward) -> bool:
        store = self.app.store
        with store.transaction():
            self._area.attempt(reward.id)
        try:
            reference = payments.call(
                self.app, "pay_reward", rule.provider, campaign=campaign, reward=reward
            )
            error = None
        except Exception as ex:  # a provider's failure is recorded and retried with the same key
            reference, error = None, payments.describe(ex)
        with store.transaction():
            if error is None:
                if self._area.paid(reward.id, reference):
                    store.event(
                        "reward.paid", campaign.id, {"reward_id": reward.id, "reference": reference}
                    )
                return True
            if self._area.failed(reward.id, error):
                store.event("reward.failed", campaign.id, {"reward_id": reward.id, "error": error})
            return False

    def ledger(self, slug: str, states=()) -> list[Reward]:
        """Every recorded reward of the campaign, oldest first."""
        return self._area.rewards(self.app.campaigns.get(slug).id, tuple(states))

    # Showcase ------------------------------------------------------------------------------------

    def showcase(self, slug: str, top: int = 5) -> list[ShowcaseEntry]:
        """The campaign's top designs by units pledged, each with its top designers."""
        campaign = self.app.campaigns.get(slug)
        store = self.app.store
        offers = store.presale.offers(campaign.id)
        if not offers:
            return []
        variants = {v.id: v for v in store.variants.for_campaign(campaign.id, True)}
        units = {}
        for offer in offers:
            pledges = store.presale.pledges(campaign.id, offer.variant_id, COMMITTED_STATES)
            units[offer.variant_id] = sum(p.quantity for p in pledges)
        ranked = sorted(offers, key=lambda o: (-units[o.variant_id], o.position))[:top]
        authors = self._authors(campaign.id, [variants[o.variant_id] for o in ranked])
        return [
            ShowcaseEntry(
                variant_id=o.variant_id,
                name=variants[o.variant_id].name,
                state=o.state,
                units_pledged=units[o.variant_id],
                designers=tuple(
                    sorted(authors[o.variant_id].items(), key=lambda item: (-item[1], item[0]))[:3]
                ),
            )
            for o in ranked
        ]

    # Sharing and referrals -----------------------------------------------------------------------

    def share(self, slug: str, customer: str, variant_id: int) -> ShareCode:
        """The customer's share code for a variant (the same code every time)."""
        customer = _text(customer, "customer")
        campaign = self.app.campaigns.get(slug)
        variant = self._variant(campaign, variant_id)
        store = self.app.store
        with store.transaction():
            code = self._area.share_code(
                campaign.id, customer, variant.id, secrets.token_urlsafe(9)
            )
            store.event("share.code", campaign.id, {"customer": customer, "variant_id": variant.id})
        return self._area.code(code)

    def code(self, code: str) -> ShareCode:
        found = self._area.code(code) if isinstance(code, str) else None
        if found is None:
            raise NotFound(f"no share code {code!r}", field="code", value=code)
        return found

    def visit(self, code: str, visitor: str | None = None) -> ShareCode:
        """Record that someone opened a shared link (the shop calls this)."""
        share = self.code(code)
        if visitor is not None:
            visitor = _text(visitor, "visitor")
        store = self.app.store
        with store.transaction():
            self._area.add_visit(share.code, visitor)
            store.event("share.visited", share.campaign_id, {"code": share.code})
        return share

    def referral(self, campaign, variant_id: int, customer: str, code: str) -> ShareCode:
        """The share code a pledge of ``customer`` for ``variant_id`` may be attributed to.

        ``InvalidInput`` when the code is unknown or shares another campaign or variant,
        ``SelfReferral`` when it is the customer's own. Checks only; nothing is stored.
        """
        share = self.code(code)
        if share.campaign_id != campaign.id or share.variant_id != variant_id:
            raise InvalidInput(
                f"code: {code!r} shares another variant or campaign than this pledge "
                f"(campaign {campaign.slug!r}, variant {variant_id!r})",
                field="code",
                value=code,
                accepted=f"a share code of variant {variant_id!r} of campaign {campaign.slug!r}",
            )
        if share.customer == customer:
            raise SelfReferral(
                f"customer {customer!r} can't be referred by their own code",
                field="code",
                value=code,
            )
        return share

    def attribute_placed(self, campaign, pledge, share: ShareCode) -> Attribution:
        """Attribute a pledge being placed to ``share``, inside the caller's transaction.

        ``app.presale.place(..., share_code=...)`` calls this in the transaction that inserts
        the pledge, so a refusal (``ReferralLimit``; ``AlreadyAttributed`` for another code)
        rolls the pledge back too. The same code again returns the attribution.
        """
        store = self.app.store
        rule = self._area.rule(campaign.id)
        limit = rule.referral_limit if rule is not None else None
        if self._area.attribute(pledge.id, share, limit):
            store.event(
                "referral.attributed",
                campaign.id,
                {"pledge_id": pledge.id, "referrer": share.customer, "code": share.code},
            )
            return self._area.attribution(pledge.id)
        existing = self._area.attribution(pledge.id)
        if existing is not None:
            if existing.code == share.code:
                return existing
            raise AlreadyAttributed(
                f"pledge {pledge.key!r} is attributed to another share code already",
                field="pledge",
                value=pledge.key,
            )
        raise ReferralLimit(
            f"share code {share.code!r} reached the campaign's limit of {limit} referred pledges",
            field="code",
            value=share.code,
            accepted=f"at most {limit} pledges per code",
        )

    def attribute(self, slug: str, pledge_key: str, code: str) -> Attribution:
        """Attribute the pledge made with ``pledge_key`` to a share code, after it was placed.

        For shops that learn of the code later; a pledge placed with ``share_code`` is
        attributed as it is placed. One attribution per pledge (the same code again returns
        it; another code is ``AlreadyAttributed``); the code's own customer can't use it
        (``SelfReferral``); a code counts at most the rule's ``referral_limit`` pledges
        (``ReferralLimit``).
        """
        campaign = self.app.campaigns.get(slug)
        pledge = self.app.presale.pledge(slug, pledge_key)
        share = self.referral(campaign, pledge.variant_id, pledge.customer, code)
        with self.app.store.transaction():
            return self.attribute_placed(campaign, pledge, share)

    def funnel(self, slug: str) -> list[FunnelRow]:
        """Per shared variant: share codes -> visits -> attributed pledges (and units)."""
        return self._area.funnel(self.app.campaigns.get(slug).id)

    # Helpers -------------------------------------------------------------------------------------

    def _variant(self, campaign, variant_id):
        variants = {v.id: v for v in self.app.store.variants.for_campaign(campaign.id, True)}
        if isinstance(variant_id, bool) or variant_id not in variants:
            raise InvalidInput(
                f"variant: {variant_id!r} is not a variant of campaign {campaign.slug!r}; "
                f"variants: {', '.join(map(str, variants)) or 'none'}",
                field="variant",
                value=variant_id,
                accepted=", ".join(map(str, variants)),
            )
        return variants[variant_id]
