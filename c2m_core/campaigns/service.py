"""Campaigns: one category, the stages it uses, its settings, and an explicit state machine.

States run ``draft``, then each stage the campaign uses in the fixed order of ``STAGES``, then
``closed``. Every transition is explicit and recorded; opening (leaving ``draft``) freezes a
snapshot of the category's catalog so a plugin upgrade never changes a running campaign.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from ..catalog import ID_PATTERN, Catalog
from ..category import Category
from ..errors import Conflict, InvalidInput
from ..money import check_currency
from .records import (
    CLOSED,
    DRAFT,
    STAGES,
    Campaign,
    IllegalTransition,
    UnknownCampaign,
    check_settings,
    check_stages,
)


class CampaignService:
    """Create, read and advance campaigns. Reached as ``app.campaigns``."""

    def __init__(self, app):
        self.app = app

    @property
    def _store(self):
        return self.app.store

    def create(
        self,
        slug: str,
        category: str | None = None,
        title: str | None = None,
        currency: str | None = None,
        stages: Iterable[str] | None = None,
        settings: Mapping | None = None,
        from_campaign: str | None = None,
    ) -> Campaign:
        """Create a campaign in ``draft``. The slug must be new.

        With ``from_campaign`` (a previous campaign's slug) it is the next round of that one:
        its category, currency, stages and settings unless given, collecting wishes already,
        seeded from the previous campaign's feedback that names a module
        (``app.feedback.start_next``, which also returns the import report).
        """
        if from_campaign is not None:
            campaign, _ = self.app.feedback.start_next(
                from_campaign,
                slug,
                title=title,
                category=category,
                currency=currency,
                stages=stages,
                settings=settings,
            )
            return campaign
        if category is None:
            raise InvalidInput(
                "category: a campaign needs a category (or a previous campaign to start from)",
                field="category",
                value=None,
                accepted=", ".join(sorted(self.app.categories)),
            )
        if stages is None:
            stages = STAGES
        if not isinstance(slug, str) or not ID_PATTERN.match(slug) or len(slug) > 64:
            raise InvalidInput(
                f"campaign slug {slug!r} is not valid: use up to 64 lower-case letters, digits, "
                "'-' and '_', starting with a letter or digit"
            )
        cat = self.app.category(category)
        if currency is None:
            currency = cat.catalog.currency
        try:
            check_currency(currency)
        except ValueError as ex:
            raise InvalidInput(f"currency: {ex}") from None
        campaign = Campaign(
            id=None,
            slug=slug,
            category=cat.name,
            title=title or slug,
            currency=currency,
            stages=check_stages(stages),
            settings=check_settings(settings or {}),
        )
        store = self._store
        with store.transaction():
            campaign = store.campaigns.insert(campaign)
            if campaign is None:
                raise Conflict(
                    f"campaign {slug!r} already exists; choose another slug",
                    field="slug",
                    value=slug,
                )
            store.event("campaign.created", campaign.id, campaign.to_dict())
        return campaign

    def get(self, slug: str) -> Campaign:
        """The campaign ``slug``; ``UnknownCampaign`` if there is none."""
        campaign = self._store.campaigns.get(slug)
        if campaign is None:
            raise UnknownCampaign(slug)
        return campaign

    def list(self) -> list[Campaign]:
        return self._store.campaigns.all()

    def category(self, campaign: Campaign) -> Category:
        """The campaign's category with its frozen catalog (the live one while in draft)."""
        live = self.app.category(campaign.category)
        digest = self._store.campaigns.catalog_digest(campaign.id)
        if digest is None:
            return live
        # Snapshots never change and are named by their content, so parse each one once.
        frozen_catalogs = self.app.caches.setdefault("frozen_catalogs", {})
        frozen = frozen_catalogs.get(digest)
        if frozen is None:
            data = self._store.campaigns.catalog_data(campaign.id)
            frozen = Catalog.from_dict(data, source=f"catalog snapshot {digest[:12]}")
            frozen_catalogs[digest] = frozen
        return attrs.evolve(live, catalog=frozen)

    def catalog(self, campaign: Campaign) -> Catalog:
        """The campaign's frozen catalog (the category's live one while in draft)."""
        return self.category(campaign).catalog

    def configure(self, slug: str, **settings) -> Campaign:
        """Change settings of a campaign that has not closed."""
        checked = check_settings(settings)
        store = self._store
        with store.transaction():
            while True:
                campaign = self.get(slug)
                if campaign.state == CLOSED:
                    raise IllegalTransition(f"campaign {slug!r} is closed; settings can't change")
                merged = dict(campaign.settings) | checked
                if store.campaigns.update_settings(campaign.id, campaign.settings, merged):
                    break
            store.event("campaign.configured", campaign.id, {"settings": checked})
        return self.get(slug)

    def require_state(self, campaign: Campaign, *states: str) -> None:
        """Raise ``IllegalTransition`` unless the campaign is in one of ``states``."""
        if campaign.state not in states:
            raise IllegalTransition(
                f"campaign {campaign.slug!r} is in state {campaign.state!r}; this needs "
                f"{' or '.join(map(repr, states))}"
            )

    def advance(self, slug: str, to: str | None = None) -> Campaign:
        """Move the campaign to its next state (``to``, when given, must be that state).

        Plugins may refuse through ``validate_campaign_advance``; ``campaign_advanced`` is
        called after the change is committed (after the caller's transaction, when this runs
        inside one).
        """
        store = self._store
        with store.transaction():
            campaign = self.get(slug)
            target = campaign.next_state
            if target is None or (to is not None and to != target):
                allowed = f"the only next state is {target!r}" if target else "it has ended"
                raise IllegalTransition(
                    f"campaign {slug!r} is in state {campaign.state!r} and cannot move to "
                    f"{to or 'a next state'!r}: {allowed}"
                )
            problems = [
                problem
                for result in self.app.pm.hook.validate_campaign_advance(
                    app=self.app, campaign=campaign, target=target
                )
                for problem in result or ()
            ]
            if problems:
                raise IllegalTransition(
                    f"campaign {slug!r} cannot move from {campaign.state!r} to {target!r}: "
                    + "; ".join(problems)
                )
            if campaign.state == DRAFT:
                cat = self.app.category(campaign.category).catalog
                store.campaigns.freeze_catalog(campaign.id, cat.id, cat.digest, cat.to_dict())
            if not store.campaigns.set_state(campaign.id, campaign.state, target):
                raise IllegalTransition(
                    f"campaign {slug!r} changed state while moving from {campaign.state!r} to "
                    f"{target!r}; read it again and retry"
                )
            store.event(
                "campaign.advanced",
                campaign.id,
                {"campaign": campaign.slug, "from": campaign.state, "to": target},
            )
            advanced = self.get(slug)
            store.after_commit(
                lambda: self.app.pm.hook.campaign_advanced(
                    app=self.app, campaign=advanced, previous=campaign.state
                )
            )
        return advanced
