"""Sign-in links for the consumer pages, and settling pre-sales whose deadline has passed."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .campaigns import Slug
from .common import App, Body, Text, scoped
from .common import router as make_router
from .pages import security
from .scopes import BRAND_ONLY, CUSTOMER_WRITE

router = make_router("consumers")


class ConsumerToken(Body):
    customer: Text = Field(description="the shop's reference for its signed-in customer")
    ttl_seconds: int = Field(
        security.DEFAULT_CONSUMER_TTL, ge=30, le=security.MAX_CONSUMER_TTL, description="lifetime"
    )


@router.post(
    "/campaigns/{slug}/consumer-tokens",
    status_code=201,
    summary="A short-lived sign-in for one customer on this campaign's pages",
    openapi_extra=scoped(CUSTOMER_WRITE),
)
def consumer_token(app: App, slug: Slug, body: ConsumerToken) -> dict[str, Any]:
    """Send the customer to ``signin_path``: the pages then act for ``customer`` on ``slug``."""
    campaign = app.campaigns.get(slug)
    signer = security.signer_for(app)
    token = security.consumer_token(signer, campaign.slug, body.customer, body.ttl_seconds)
    return {
        "token": token,
        "campaign": campaign.slug,
        "customer": body.customer,
        "expires_in": body.ttl_seconds,
        "signin_path": f"/c/{campaign.slug}/signin?token={token}",
    }


@router.post(
    "/campaigns/{slug}/presale/settle",
    summary="Close this campaign's pre-sale if its deadline has passed",
    openapi_extra=scoped(BRAND_ONLY),
)
def settle_campaign(app: App, slug: Slug) -> dict[str, Any]:
    return {"closed": list(app.presale.settle_due(slug))}


@router.post(
    "/settle",
    summary="Close every pre-sale whose deadline has passed",
    openapi_extra=scoped(BRAND_ONLY),
)
def settle_all(app: App) -> dict[str, Any]:
    return {"closed": list(app.settle_due())}
