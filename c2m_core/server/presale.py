"""Pre-sale: open (brand), status, offers with prices and deposits, pledges (place with the
shop's ``Idempotency-Key``, read, cancel, list by customer), close (brand)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Query
from pydantic import Field

from .campaigns import Slug
from .common import App, Body, Cursor, Limit, Page, PersonalisationSets, Text, page, scoped
from .common import router as make_router
from .scopes import BRAND_ONLY, CUSTOMER_WRITE, PUBLIC_READ, SCOPES

router = make_router("presale")
VariantId = Annotated[int, Field(ge=1, le=2**62)]
Key = Annotated[str, Path(max_length=200, description="the pledge's key: the shop's order id")]


class Override(Body):
    threshold: int | None = Field(None, ge=1, le=10**9)
    capacity: int | None = Field(None, ge=1, le=10**9)


class OpenPresale(Body):
    deadline: str = Field(max_length=64, description="ISO 8601, or a duration: 14d, 36h, 90m")
    deposit: str | None = Field(
        None, max_length=32, description="'10%' or an amount per unit (major units)"
    )
    deposit_credit: str | None = Field(None, max_length=32)
    threshold: int | None = Field(None, ge=1, le=10**9, description="default: the MOQ")
    capacity: int | None = Field(None, ge=1, le=10**9, description="default: no limit")
    waitlist: bool = False
    variants: list[VariantId] | None = Field(None, max_length=1000)
    overrides: dict[str, Override] = Field(default_factory=dict, description="by variant id")
    provider: str = Field("ledger", max_length=64)
    cancellation: str | None = Field(None, max_length=32, description="refuse, '50%', amount")


class NewPledge(Body):
    variant: VariantId
    customer: Text = Field(description="the shop's reference for the customer")
    quantity: int = Field(ge=1, le=1_000_000)
    region: str | None = Field(None, max_length=64)
    share_code: str | None = Field(
        None, min_length=1, max_length=64, description="the share code the customer came with"
    )
    personalisation: PersonalisationSets | None = None


class Cancel(Body):
    reason: str = Field("customer", min_length=1, max_length=200)


@router.post(
    "/campaigns/{slug}/presale",
    status_code=201,
    summary="Open the pre-sale",
    openapi_extra=scoped(BRAND_ONLY),
)
def open_presale(app: App, slug: Slug, body: OpenPresale) -> dict[str, Any]:
    overrides = {}
    for variant, override in body.overrides.items():
        if not variant.isdecimal() or len(variant) > 18:
            from ..errors import InvalidInput

            raise InvalidInput(
                f"overrides: {variant!r} is not a variant id",
                field="overrides",
                value=variant,
                accepted="variant ids",
            )
        overrides[int(variant)] = override.model_dump(exclude_none=True)
    presale = app.presale.open(
        slug,
        body.deadline,
        deposit=body.deposit,
        deposit_credit=body.deposit_credit,
        threshold=body.threshold,
        capacity=body.capacity,
        waitlist=body.waitlist,
        variants=body.variants,
        overrides=overrides,
        provider=body.provider,
        cancellation=body.cancellation,
    )
    return presale.to_dict()


@router.get(
    "/campaigns/{slug}/presale",
    summary="Each variant against its threshold and capacity, money, time left",
    openapi_extra=scoped(PUBLIC_READ),
)
def presale_status(app: App, slug: Slug) -> dict[str, Any]:
    return app.presale.status(slug).to_dict()


@router.get(
    "/campaigns/{slug}/offers",
    summary="The variants on sale with their prices and deposits (minor units)",
    openapi_extra=scoped(PUBLIC_READ),
)
def offers(app: App, slug: Slug) -> list[dict[str, Any]]:
    return [offer.to_dict() for offer in app.presale.offers(slug)]


@router.post(
    "/campaigns/{slug}/pledges",
    status_code=201,
    summary="Place a pledge; Idempotency-Key (the shop's order id) is its key",
    openapi_extra=scoped(CUSTOMER_WRITE),
)
def place_pledge(
    app: App,
    slug: Slug,
    body: NewPledge,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="The shop's order id: the same key and body return the same pledge",
        ),
    ],
) -> dict[str, Any]:
    pledge = app.presale.place(
        slug,
        body.variant,
        body.customer,
        body.quantity,
        key=idempotency_key,
        region=body.region,
        share_code=body.share_code,
        personalisation=body.personalisation,
    )
    return pledge.to_dict()


@router.get(
    "/campaigns/{slug}/pledges",
    summary="A customer's pledges",
    openapi_extra=scoped(SCOPES),
)
def list_pledges(
    app: App,
    slug: Slug,
    customer: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Limit = 100,
    cursor: Cursor = 0,
) -> Page:
    mine = [p.to_dict() for p in app.presale.pledges(slug) if p.customer == customer]
    return Page(**page(mine, cursor, limit))


@router.get(
    "/campaigns/{slug}/pledges/{key}",
    summary="The pledge placed with this key",
    openapi_extra=scoped(SCOPES),
)
def get_pledge(app: App, slug: Slug, key: Key) -> dict[str, Any]:
    return app.presale.pledge(slug, key).to_dict()


@router.post(
    "/campaigns/{slug}/pledges/{key}/cancel",
    summary="Cancel a pledge and refund its deposit (the campaign's rule after tipping)",
    openapi_extra=scoped(CUSTOMER_WRITE),
)
def cancel_pledge(app: App, slug: Slug, key: Key, body: Cancel | None = None) -> dict[str, Any]:
    return app.presale.cancel(
        slug, key, reason=(body or Cancel(reason="customer")).reason
    ).to_dict()


@router.post(
    "/campaigns/{slug}/presale/close",
    summary="Close the pre-sale: tip variants that reached their threshold, refund the others",
    openapi_extra=scoped(BRAND_ONLY),
)
def close_presale(app: App, slug: Slug) -> dict[str, Any]:
    return app.presale.close(slug).to_dict()
