"""Feedback on delivered variants: stored, routed to departments, fed into the next campaign.

Routing asks ``classify_feedback`` (the core's default applies the keyword and tag rules that
``register_feedback_rules`` returns, plugins' rules first). Feedback that names a catalog module
("screen too dim" -> backlight) seeds the next campaign's wishes: the buyer's variant with that
module left open (or set to the option the rule names), so the next round starts from what
buyers said. Feedback text is data: stored as given, escaped wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from ..errors import C2MError, InvalidInput
from ..plugins import DEFAULT_PLUGINS, call_each
from .records import MAX_TAG, MAX_TAGS, MAX_TEXT, Feedback, FeedbackRoute, FeedbackRule

DEFAULTS = "c2m_core.feedback.defaults"


def _bad(field: str, value, accepted: str) -> InvalidInput:
    return InvalidInput(
        f"{field}: {value!r} is not accepted; use {accepted}",
        field=field,
        value=value,
        accepted=accepted,
    )


class FeedbackService:
    """Submit, route, list feedback; seed a next campaign from it. Reached as ``app.feedback``."""

    def __init__(self, app):
        self.app = app

    def rules(self, category) -> list[FeedbackRule]:
        """Every routing rule for ``category``: other plugins' first, then the core's defaults."""
        own: list[FeedbackRule] = []
        defaults: list[FeedbackRule] = []
        for plugin, result in call_each(
            self.app.pm, "register_feedback_rules", app=self.app, category=category
        ):
            for rule in result or ():
                if not isinstance(rule, FeedbackRule):
                    raise C2MError(
                        f"plugin {plugin}: register_feedback_rules must return FeedbackRule "
                        f"objects, got {rule!r}"
                    )
                (defaults if plugin in DEFAULT_PLUGINS else own).append(rule)
        return own + defaults

    def route(self, campaign, feedback: Feedback) -> FeedbackRoute:
        category = self.app.campaigns.category(campaign)
        route = self.app.pm.hook.classify_feedback(
            app=self.app,
            campaign=campaign,
            category=category,
            feedback=feedback,
            rules=self.rules(category),
        )
        if not isinstance(route, FeedbackRoute):
            raise C2MError(f"classify_feedback must return a FeedbackRoute, got {route!r}")
        if route.module is not None and category.catalog.module(route.module) is None:
            route = FeedbackRoute(route.department, None, None, route.rule)
        return route

    def submit(
        self,
        slug: str,
        variant_id: int,
        customer: str,
        text: str,
        rating: int | None = None,
        tags: Iterable[str] = (),
    ) -> Feedback:
        """Store a buyer's feedback on a handed-off variant, routed to its department."""
        campaign = self.app.campaigns.get(slug)
        if not isinstance(customer, str) or not customer.strip() or len(customer) > 200:
            raise _bad("customer", customer, "non-blank text of at most 200 characters")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise _bad("text", text, f"non-blank text of at most {MAX_TEXT} characters")
        if rating is not None and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
        ):
            raise _bad("rating", rating, "a whole number from 1 to 5")
        if isinstance(tags, str):
            tags = [t for t in tags.split(",") if t.strip()]
        tags = tuple(t.strip() for t in tags)
        if len(tags) > MAX_TAGS or any(not t or len(t) > MAX_TAG for t in tags):
            raise _bad("tags", list(tags), f"at most {MAX_TAGS} tags of 1 to {MAX_TAG} characters")
        delivered = {h.variant_id for h in self.app.store.handoff.for_campaign(campaign.id)}
        if isinstance(variant_id, bool) or variant_id not in delivered:
            raise _bad(
                "variant",
                variant_id,
                "a variant the campaign handed off: "
                + (", ".join(map(str, sorted(delivered))) or "none yet"),
            )
        feedback = Feedback(
            id=None,
            campaign_id=campaign.id,
            variant_id=variant_id,
            customer=customer,
            text=text,
            rating=rating,
            tags=tags,
        )
        route = self.route(campaign, feedback)
        store = self.app.store
        with store.transaction():
            stored = store.feedback.insert(
                attrs.evolve(
                    feedback,
                    department=route.department,
                    module=route.module,
                    option=route.option,
                    rule=route.rule,
                )
            )
            store.event("feedback.received", campaign.id, stored.to_dict())
        return stored

    def list(self, slug: str, department: str | None = None) -> list[Feedback]:
        """The campaign's feedback, oldest first (of one department when given)."""
        campaign = self.app.campaigns.get(slug)
        return self.app.store.feedback.for_campaign(campaign.id, department)

    def departments(self, slug: str) -> dict[str, int]:
        """Feedback count per department."""
        return self.app.store.feedback.departments(self.app.campaigns.get(slug).id)

    # Feeding the next campaign -------------------------------------------------------------------

    def seed_wishes(self, slug: str, from_slug: str):
        """Wishes for campaign ``slug`` from the feedback of ``from_slug`` that names a module.

        The campaigns may be of different categories: only the modules and options the new
        campaign's catalog has are kept.

        Each becomes the buyer's wish: their variant with the named module left open (or set to
        the rule's option when the new catalog accepts it), the feedback text as its note.
        Seeding again adds nothing (each wish's external id is ``feedback:<from>:<id>``).
        Returns the wishes service's ``ImportReport``.
        """
        source = self.app.campaigns.get(from_slug)
        target = self.app.campaigns.get(slug)
        if source.id == target.id:
            raise _bad("from", from_slug, "another campaign than the one seeded")
        catalog = self.app.campaigns.catalog(target)
        variants = {v.id: v for v in self.app.store.variants.for_campaign(source.id, True)}
        rows: list[tuple[int, dict]] = []
        for feedback in self.app.store.feedback.for_campaign(source.id):
            if feedback.module is None or catalog.module(feedback.module) is None:
                continue
            configuration = {
                m: o
                for m, o in variants[feedback.variant_id].configuration.items()
                if m != feedback.module and catalog.option(m, o) is not None
            }
            if feedback.option and catalog.option(feedback.module, feedback.option) is not None:
                configuration[feedback.module] = feedback.option
            rows.append(
                (
                    len(rows) + 1,
                    {
                        "customer": feedback.customer,
                        "configuration": configuration,
                        "quantity": 1,
                        "note": feedback.text[:1000],
                        "external_id": f"feedback:{source.slug}:{feedback.id}",
                    },
                )
            )
        return self.app.wishes.submit_many(slug, rows)

    def start_next(
        self,
        from_slug: str,
        slug: str,
        title: str | None = None,
        category: str | None = None,
        currency: str | None = None,
        stages: Iterable[str] | None = None,
        settings: Mapping | None = None,
    ):
        """Create campaign ``slug`` from ``from_slug``, open its wishes and seed them.

        The new campaign takes the previous one's category, currency, stages and settings
        unless given (``settings`` given are merged over the previous ones), then collects
        wishes, seeded from the feedback that names a module (see ``seed_wishes``). Returns
        ``(campaign, import report)``. Nothing is created when the new campaign would not
        collect wishes.
        """
        source = self.app.campaigns.get(from_slug)
        stages = tuple(source.stages if stages is None else stages)
        if "wishes" not in stages:
            raise _bad(
                "stages" if "wishes" in source.stages else "from",
                list(stages) if "wishes" in source.stages else from_slug,
                "stages that collect wishes (the feedback seeds them)",
            )
        self.app.campaigns.create(
            slug,
            category or source.category,
            title=title or f"{source.title} (next)",
            currency=currency or source.currency,
            stages=stages,
            settings=dict(source.settings) | dict(settings or {}),
        )
        self.app.campaigns.advance(slug, to="wishes")
        report = self.seed_wishes(slug, from_slug)
        return self.app.campaigns.get(slug), report
