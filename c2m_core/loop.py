"""The loop after a campaign: forecast against actual, rewards, referrals, feedback, next round.

``loop_section`` gathers what the report shows about it; ``run_loop`` drives it in the demo.
"""

from __future__ import annotations

import attrs

from .money import Money

FEEDBACK = (
    "The {module} could be better",
    "Delivery took too long",
    "The box arrived crushed",
    "My invoice shows the wrong address",
    "Love it, the {module} is great",
    "Works perfectly",
)


@attrs.frozen
class LoopSection:
    """Forecast vs actual, the showcase, rewards, the referral funnel and feedback counts."""

    forecast: object | None
    showcase: tuple
    rewards_paid: Money | None
    rewards: int
    funnel: tuple
    departments: dict


def loop_section(app, campaign) -> LoopSection | None:
    """What the report shows about the loop; None before the campaign reached its pre-sale."""
    if app.store.presale.presale(campaign.id) is None:
        return None
    slug = campaign.slug
    rewards = app.rewards.ledger(slug)
    paid = [r for r in rewards if r.state == "paid"]
    return LoopSection(
        forecast=app.forecast.forecast(slug),
        showcase=tuple(app.rewards.showcase(slug)),
        rewards_paid=Money(sum(r.amount.amount for r in paid), campaign.currency)
        if rewards
        else None,
        rewards=len(rewards),
        funnel=tuple(app.rewards.funnel(slug)),
        departments=app.feedback.departments(slug),
    )


@attrs.frozen
class LoopSummary:
    """What the demo's loop did."""

    referred: int
    rewards: object
    feedback: int
    next_slug: str
    seeded: int


def run_loop(app, slug: str, rng, next_slug: str | None = None) -> LoopSummary:
    """Referrals, designer rewards, buyers' feedback, and a next campaign seeded from it."""
    campaign = app.campaigns.get(slug)
    catalog = app.campaigns.catalog(campaign)
    currency = campaign.currency
    app.rewards.set_rule(
        slug,
        kind="fixed",
        amount=Money.parse("500", currency).amount,
        referral_per_unit=Money.parse("20", currency).amount,
        referral_limit=5,
    )
    delivered = [h.variant_id for h in app.store.handoff.for_campaign(campaign.id)]
    referred = 0
    for variant_id in delivered:
        authors = list(app.rewards.authors(slug, variant_id))[:20]
        pledges = app.presale.pledges(slug, variant_id)
        for pledge in pledges[: max(len(pledges) // 10, 1)]:
            referrer = rng.choice(authors) if authors else None
            if referrer is None or referrer == pledge.customer:
                continue
            code = app.rewards.share(slug, referrer, variant_id).code
            for _ in range(rng.randint(1, 4)):
                app.rewards.visit(code)
            try:
                app.rewards.attribute(slug, pledge.key, code)
                referred += 1
            except Exception:  # over the code's limit: the funnel shows the visit only
                pass
    rewards = app.rewards.pay(slug)
    feedback = 0
    for variant_id in delivered:
        configuration = next(
            v.configuration
            for v in app.store.variants.for_campaign(campaign.id, True)
            if v.id == variant_id
        )
        modules = [m for m in catalog.modules if m.id in configuration]
        for pledge in app.presale.pledges(slug, variant_id)[:12]:
            text = rng.choice(FEEDBACK).format(module=rng.choice(modules).title.lower())
            app.feedback.submit(slug, variant_id, pledge.customer, text, rng.randint(2, 5))
            feedback += 1
    next_slug = next_slug or f"{slug}-next"
    _, seeded = app.feedback.start_next(slug, next_slug, title=f"{campaign.title}, next round")
    return LoopSummary(referred, rewards, feedback, next_slug, seeded.imported)
