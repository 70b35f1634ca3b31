"""Wishes: submit one (storefront), submit many (brand), read, stats, aggregate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import Field

from .campaigns import Slug
from .common import App, Body, Configuration, PersonalisationSets, Text, scoped
from .common import router as make_router
from .scopes import BRAND_ONLY, CUSTOMER_WRITE, PRIVATE_READ

router = make_router("wishes")


class NewWish(Body):
    customer: Text = Field(description="the shop's reference for the customer")
    configuration: Configuration = Field(default_factory=dict)
    quantity: int = Field(1, ge=1, le=1_000_000)
    region: str | None = Field(None, max_length=64)
    price_ceiling: int | None = Field(None, ge=0, le=10**12, description="minor units")
    note: str | None = Field(None, max_length=2000)
    raw: str | None = Field(None, max_length=2000, description="free text plugins read")
    external_id: str | None = Field(
        None, max_length=200, description="the shop's wish id: the same id returns the first wish"
    )
    personalisation: PersonalisationSets | None = None


class Wishes(Body):
    wishes: list[NewWish] = Field(max_length=10_000)
    strict: bool = Field(False, description="store nothing when any wish is refused")


class Aggregate(Body):
    max_variants: int | None = Field(default=None, ge=1, le=10_000)
    moq: int | None = Field(default=None, ge=1, le=10**9)


@router.post(
    "/campaigns/{slug}/wishes",
    status_code=201,
    summary="Submit a wish; one the rules forbid is stored with its violations and a suggestion",
    openapi_extra=scoped(CUSTOMER_WRITE),
)
def submit_wish(app: App, slug: Slug, body: NewWish) -> dict[str, Any]:
    return app.wishes.submit(slug, **body.model_dump()).to_dict()


@router.post(
    "/campaigns/{slug}/wishes/bulk",
    summary="Submit many wishes; bad ones are reported by position, the good ones stored",
    openapi_extra=scoped(BRAND_ONLY),
)
def submit_wishes(app: App, slug: Slug, body: Wishes) -> dict[str, Any]:
    for n, wish in enumerate(body.wishes):
        if wish.personalisation:
            from ..errors import InvalidInput

            raise InvalidInput(
                f"wishes[{n}].personalisation: bulk wishes carry no personalisation; submit "
                "a personalised wish alone (POST /campaigns/{slug}/wishes)",
                field=f"wishes[{n}].personalisation",
                accepted="no personalisation in bulk",
            )
    items = [
        (n, wish.model_dump(exclude={"personalisation"}))
        for n, wish in enumerate(body.wishes, start=1)
    ]
    return app.wishes.submit_many(slug, items, strict=body.strict).to_dict()


@router.get(
    "/campaigns/{slug}/wishes/stats",
    summary="Totals, demand per option, the most common violations",
    openapi_extra=scoped(PRIVATE_READ),
)
def wish_stats(app: App, slug: Slug) -> dict[str, Any]:
    return app.wishes.stats(slug).to_dict()


@router.get(
    "/campaigns/{slug}/wishes/{wish_id}",
    summary="One wish",
    openapi_extra=scoped(PRIVATE_READ),
)
def get_wish(app: App, slug: Slug, wish_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
    return app.wishes.get(slug, wish_id).to_dict()


@router.post(
    "/campaigns/{slug}/aggregate",
    summary="Choose at most K variants covering the most wished quantity, each at least the MOQ",
    openapi_extra=scoped(BRAND_ONLY),
)
def aggregate(app: App, slug: Slug, body: Aggregate | None = None) -> dict[str, Any]:
    body = body or Aggregate()
    return app.wishes.aggregate(slug, max_variants=body.max_variants, moq=body.moq).to_dict()
