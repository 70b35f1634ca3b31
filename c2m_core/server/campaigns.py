"""Campaigns: create, read, settings, advance through their stages; the campaign's configurator
(remaining options against its frozen catalog)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import Field

from ..campaigns.records import STAGES
from .catalog import Partial, _engine
from .common import App, Body, Cursor, Limit, Page, page, scoped
from .common import router as make_router
from .scopes import BRAND_ONLY, PUBLIC_READ

router = make_router("campaigns")
Slug = Annotated[str, Path(max_length=64, description="The campaign's slug")]


class NewCampaign(Body):
    slug: str = Field(max_length=64, description="lower-case letters, digits, '-' and '_'")
    category: str = Field(max_length=100)
    title: str | None = Field(None, max_length=200)
    currency: str | None = Field(None, max_length=3, description="ISO 4217; default the catalog's")
    stages: list[str] = Field(default_factory=lambda: list(STAGES), max_length=len(STAGES))
    settings: dict[str, Any] = Field(default_factory=dict)


class Settings(Body):
    settings: dict[str, Any] = Field(
        description="max_variants, moq, spare_percent, assembly_days, max_lot_size, warehouses"
    )


class Advance(Body):
    to: str | None = Field(None, max_length=32, description="the expected next state")


@router.get("/campaigns", summary="Every campaign", openapi_extra=scoped(PUBLIC_READ))
def list_campaigns(app: App, limit: Limit = 100, cursor: Cursor = 0) -> Page:
    return Page(**page([c.to_dict() for c in app.campaigns.list()], cursor, limit))


@router.post(
    "/campaigns",
    status_code=201,
    summary="Create a campaign in draft",
    openapi_extra=scoped(BRAND_ONLY),
)
def create_campaign(app: App, body: NewCampaign) -> dict[str, Any]:
    campaign = app.campaigns.create(
        body.slug,
        body.category,
        title=body.title,
        currency=body.currency,
        stages=body.stages,
        settings=body.settings,
    )
    return campaign.to_dict()


@router.get("/campaigns/{slug}", summary="A campaign", openapi_extra=scoped(PUBLIC_READ))
def get_campaign(app: App, slug: Slug) -> dict[str, Any]:
    return app.campaigns.get(slug).to_dict()


@router.patch(
    "/campaigns/{slug}/settings",
    summary="Change settings (MOQ, K, hand-off settings)",
    openapi_extra=scoped(BRAND_ONLY),
)
def configure_campaign(app: App, slug: Slug, body: Settings) -> dict[str, Any]:
    return app.campaigns.configure(slug, **body.settings).to_dict()


@router.post(
    "/campaigns/{slug}/advance",
    summary="Move to the next stage: draft, wishes, vote, presale, handoff, closed",
    openapi_extra=scoped(BRAND_ONLY),
)
def advance_campaign(app: App, slug: Slug, body: Advance | None = None) -> dict[str, Any]:
    app.campaigns.advance(slug, to=body.to if body else None)
    return app.campaigns.get(slug).to_dict()


@router.post(
    "/campaigns/{slug}/options",
    summary="Remaining options against the campaign's frozen catalog",
    openapi_extra=scoped(PUBLIC_READ),
)
def campaign_options(app: App, slug: Slug, body: Partial) -> dict[str, Any]:
    return _engine(app, None, campaign=slug).options(body.configuration).to_dict()
