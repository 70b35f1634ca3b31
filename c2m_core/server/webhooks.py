"""Webhook subscriptions (brand): subscribe an endpoint to event types, read its delivery log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import Field

from . import outbound
from .common import App, Body, Cursor, Limit, Page, page, scoped
from .common import router as make_router
from .scopes import BRAND_ONLY

router = make_router("webhooks")
SubscriptionId = Annotated[int, Path(ge=1, le=2**62)]


class NewSubscription(Body):
    url: str = Field(max_length=2000, description="the http(s) endpoint that receives events")
    types: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100, description="event types; empty: every event"
    )
    campaign: str | None = Field(None, max_length=64, description="only this campaign's events")


class SubscriptionState(Body):
    state: Literal["active", "disabled"]


@router.post(
    "/webhooks",
    status_code=201,
    summary="Subscribe an endpoint to events from now on; the answer holds its signing secret",
    openapi_extra=scoped(BRAND_ONLY),
)
def subscribe(app: App, body: NewSubscription) -> dict[str, Any]:
    sub, secret = outbound.subscribe(app, body.url, tuple(body.types), body.campaign)
    return sub.to_dict() | {"secret": secret}


@router.get("/webhooks", summary="Every subscription", openapi_extra=scoped(BRAND_ONLY))
def list_subscriptions(app: App, limit: Limit = 100, cursor: Cursor = 0) -> Page:
    found = [s.to_dict() for s in outbound.subscriptions(app, cursor, limit + 1)]
    return Page(**page(found, cursor, limit))


@router.get(
    "/webhooks/{subscription_id}", summary="A subscription", openapi_extra=scoped(BRAND_ONLY)
)
def get_subscription(app: App, subscription_id: SubscriptionId) -> dict[str, Any]:
    return outbound.subscription(app, subscription_id).to_dict()


@router.patch(
    "/webhooks/{subscription_id}",
    summary="Enable or disable a subscription (enable one a 410 Gone disabled)",
    openapi_extra=scoped(BRAND_ONLY),
)
def update_subscription(
    app: App, subscription_id: SubscriptionId, body: SubscriptionState
) -> dict[str, Any]:
    return outbound.set_state(app, subscription_id, body.state).to_dict()


@router.get(
    "/webhooks/{subscription_id}/deliveries",
    summary="The delivery log: each event's state, attempts, last error, response status",
    openapi_extra=scoped(BRAND_ONLY),
)
def subscription_deliveries(
    app: App, subscription_id: SubscriptionId, limit: Limit = 100, cursor: Cursor = 0
) -> Page:
    found = outbound.deliveries(app, subscription_id, cursor, limit + 1)
    return Page(**page(found, cursor, limit))


@router.post(
    "/webhooks/dispatch",
    summary="Queue new events and attempt due deliveries now (the server also does it in the "
    "background)",
    openapi_extra=scoped(BRAND_ONLY),
)
def dispatch_now(app: App) -> dict[str, int]:
    return outbound.dispatch(app)
