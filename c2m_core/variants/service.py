"""Variants: the complete, valid configurations a campaign votes on, pre-sells and produces.

They come from aggregation (``source="aggregate"``), from a designer (``"manual"``) or from a
plugin (``"plugin"``). A variant's ``key`` is its configuration in catalog order, so the same
configuration is one variant per campaign however it arrived.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InvalidInput
from .records import (
    SOURCES,
    InvalidVariant,
    Variant,
    default_name,
    variant_key,
)


class VariantService:
    """Add and list a campaign's variants. Reached as ``app.variants``."""

    def __init__(self, app):
        self.app = app

    def add(
        self,
        slug: str,
        configuration: Mapping[str, str],
        name: str | None = None,
        source: str = "manual",
        covered_quantity: int = 0,
    ) -> Variant:
        """Add a complete, valid variant; the same configuration again returns the existing one.

        Raises ``InvalidVariant`` (with every violation) when the configuration is not valid
        against the campaign's catalog.
        """
        if source not in SOURCES:
            raise InvalidInput(f"variant source {source!r} is not one of {', '.join(SOURCES)}")
        app = self.app
        campaign = app.campaigns.get(slug)
        if campaign.state == "closed":
            raise InvalidInput(f"campaign {slug!r} is closed; variants can't be added")
        category = app.campaigns.category(campaign)
        catalog = category.catalog
        configuration = dict(configuration)
        violations = app.validate(category, configuration)
        if violations:
            raise InvalidVariant(
                "not a valid variant: " + "; ".join(f"{v.rule}: {v.message}" for v in violations),
                violations,
            )
        key = variant_key(catalog, configuration)
        store = app.store
        with store.transaction():
            variant = store.variants.insert(
                Variant(
                    id=None,
                    campaign_id=campaign.id,
                    key=key,
                    name=name or default_name(catalog, configuration),
                    configuration={
                        m.id: configuration[m.id] for m in catalog.modules if m.id in configuration
                    },
                    source=source,
                    covered_quantity=covered_quantity,
                )
            )
            if variant is None:
                return store.variants.by_key(campaign.id, key)
            store.event("variant.added", campaign.id, variant.to_dict())
        return variant

    def list(self, slug: str, include_withdrawn: bool = False) -> list[Variant]:
        campaign = self.app.campaigns.get(slug)
        return self.app.store.variants.for_campaign(campaign.id, include_withdrawn)

    def get(self, slug: str, variant_id: int) -> Variant:
        """Variant ``variant_id`` of campaign ``slug``; ``InvalidInput`` names the known ids."""
        campaign = self.app.campaigns.get(slug)
        variant = self.app.store.variants.get(variant_id)
        if variant is None or variant.campaign_id != campaign.id:
            known = ", ".join(str(v.id) for v in self.list(slug)) or "none yet"
            raise InvalidInput(f"campaign {slug!r} has no variant {variant_id}; variants: {known}")
        return variant
