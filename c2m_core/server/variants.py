"""Variants: the complete, valid configurations a campaign votes on and sells."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import Field

from .campaigns import Slug
from .common import App, Body, Configuration, scoped
from .common import router as make_router
from .scopes import BRAND_ONLY, PUBLIC_READ

router = make_router("variants")


class NewVariant(Body):
    configuration: Configuration
    name: str | None = Field(None, max_length=200)


@router.get(
    "/campaigns/{slug}/variants", summary="A campaign's variants", openapi_extra=scoped(PUBLIC_READ)
)
def list_variants(app: App, slug: Slug) -> list[dict[str, Any]]:
    return [variant.to_dict() for variant in app.variants.list(slug)]


@router.post(
    "/campaigns/{slug}/variants",
    status_code=201,
    summary="Add a variant by hand (the same configuration again returns it)",
    openapi_extra=scoped(BRAND_ONLY),
)
def add_variant(app: App, slug: Slug, body: NewVariant) -> dict[str, Any]:
    return app.variants.add(slug, body.configuration, name=body.name).to_dict()


@router.get(
    "/campaigns/{slug}/variants/{variant_id}",
    summary="One variant",
    openapi_extra=scoped(PUBLIC_READ),
)
def get_variant(
    app: App, slug: Slug, variant_id: Annotated[int, Path(ge=1, le=2**62)]
) -> dict[str, Any]:
    return app.variants.get(slug, variant_id).to_dict()
