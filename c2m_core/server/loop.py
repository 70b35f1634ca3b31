"""The loop: the showcase of top designs, designer and referral rewards (list; pay, brand),
share codes and visits (storefront), buyers' feedback (submit, storefront; list per department),
and the demand forecast before the pre-sale. See docs/loop.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import Field

from .campaigns import Slug
from .common import App, Body, Cursor, Limit, Page, Text, page, scoped
from .common import router as make_router
from .scopes import BRAND_ONLY, CUSTOMER_WRITE, PRIVATE_READ, PUBLIC_READ

router = make_router("loop")
VariantId = Annotated[int, Field(ge=1, le=2**62)]
Code = Annotated[str, Path(min_length=1, max_length=64, description="a share code")]


class NewShareCode(Body):
    customer: Text = Field(description="the shop's reference for the customer who shares")
    variant: VariantId


class Visit(Body):
    visitor: str | None = Field(None, min_length=1, max_length=200, description="who opened it")


class NewFeedback(Body):
    variant: VariantId = Field(description="a variant the campaign handed off")
    customer: Text
    text: str = Field(min_length=1, max_length=2000, description="stored as given; data")
    rating: int | None = Field(None, ge=1, le=5)
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=10
    )


@router.get(
    "/campaigns/{slug}/showcase",
    summary="The top designs by units pledged, each with its top designers",
    openapi_extra=scoped(PUBLIC_READ),
)
def showcase(
    app: App, slug: Slug, top: Annotated[int, Query(ge=1, le=100)] = 5
) -> list[dict[str, Any]]:
    return [entry.to_dict() for entry in app.rewards.showcase(slug, top)]


@router.get(
    "/campaigns/{slug}/rewards",
    summary="The reward ledger: designer and referral rewards, oldest first",
    openapi_extra=scoped(PRIVATE_READ),
)
def rewards(
    app: App,
    slug: Slug,
    state: Annotated[Literal["pending", "paid", "failed"] | None, Query()] = None,
    limit: Limit = 100,
    cursor: Cursor = 0,
) -> Page:
    found = app.rewards.ledger(slug, () if state is None else (state,))
    return Page(**page([r.to_dict() for r in found], cursor, limit))


@router.post(
    "/campaigns/{slug}/rewards/pay",
    summary="Record every reward due and pay those not paid yet (exactly once per reward)",
    openapi_extra=scoped(BRAND_ONLY),
)
def pay_rewards(app: App, slug: Slug) -> dict[str, Any]:
    return app.rewards.pay(slug).to_dict()


@router.post(
    "/campaigns/{slug}/share-codes",
    status_code=201,
    summary="The customer's share code for a variant (the same code every time)",
    openapi_extra=scoped(CUSTOMER_WRITE),
)
def share_code(app: App, slug: Slug, body: NewShareCode) -> dict[str, Any]:
    return app.rewards.share(slug, body.customer, body.variant).to_dict()


@router.post(
    "/share-codes/{code}/visits",
    status_code=201,
    summary="Record that someone opened a shared link",
    openapi_extra=scoped(CUSTOMER_WRITE),
)
def visit(app: App, code: Code, body: Visit | None = None) -> dict[str, Any]:
    return app.rewards.visit(code, (body or Visit(visitor=None)).visitor).to_dict()


@router.get(
    "/campaigns/{slug}/sharing",
    summary="The sharing funnel per variant: codes, visits, attributed pledges and units",
    openapi_extra=scoped(PRIVATE_READ),
)
def sharing(app: App, slug: Slug) -> list[dict[str, Any]]:
    return [row.to_dict() for row in app.rewards.funnel(slug)]


@router.post(
    "/campaigns/{slug}/feedback",
    status_code=201,
    summary="A buyer's feedback on a handed-off variant, routed to its department",
    openapi_extra=scoped(CUSTOMER_WRITE),
)
def submit_feedback(app: App, slug: Slug, body: NewFeedback) -> dict[str, Any]:
    stored = app.feedback.submit(
        slug, body.variant, body.customer, body.text, rating=body.rating, tags=body.tags
    )
    return stored.to_dict()


@router.get(
    "/campaigns/{slug}/feedback",
    summary="The campaign's feedback, oldest first (of one department when given)",
    openapi_extra=scoped(PRIVATE_READ),
)
def list_feedback(
    app: App,
    slug: Slug,
    department: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Limit = 100,
    cursor: Cursor = 0,
) -> Page:
    found = app.feedback.list(slug, department)
    return Page(**page([f.to_dict() for f in found], cursor, limit))


@router.get(
    "/campaigns/{slug}/feedback/departments",
    summary="Feedback count per department",
    openapi_extra=scoped(PRIVATE_READ),
)
def departments(app: App, slug: Slug) -> dict[str, int]:
    return app.feedback.departments(slug)


@router.get(
    "/campaigns/{slug}/forecast",
    summary="Units per variant at the pre-sale with an interval, and suggested figures",
    openapi_extra=scoped(PRIVATE_READ),
)
def forecast(
    app: App,
    slug: Slug,
    level: Annotated[Literal["0.8", "0.9", "0.95"], Query()] = "0.95",
) -> dict[str, Any]:
    return app.forecast.forecast(slug, float(level)).to_dict()
