"""Hand-off: hand tipped variants to production and deliver the documents exactly once."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from .campaigns import Slug
from .common import App, Body, scoped
from .common import router as make_router
from .scopes import BRAND_ONLY, PRIVATE_READ

router = make_router("handoff")


class RunHandoff(Body):
    targets: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        min_length=1, max_length=20, description="dir:PATH, webhook:URL, or a plugin's connector"
    )


@router.post(
    "/campaigns/{slug}/handoff",
    summary="Record the production orders and deliver them to the targets",
    openapi_extra=scoped(BRAND_ONLY),
)
def run_handoff(app: App, slug: Slug, body: RunHandoff) -> dict[str, Any]:
    app.handoff.run(slug, body.targets)
    return app.handoff.status(slug).to_dict()


@router.get(
    "/campaigns/{slug}/handoff",
    summary="The hand-offs and every delivery's state",
    openapi_extra=scoped(PRIVATE_READ),
)
def handoff_status(app: App, slug: Slug) -> dict[str, Any]:
    return app.handoff.status(slug).to_dict()


@router.post(
    "/campaigns/{slug}/handoff/retry",
    summary="Deliver what is pending, dead or disabled again",
    openapi_extra=scoped(BRAND_ONLY),
)
def retry_handoff(app: App, slug: Slug) -> dict[str, Any]:
    app.handoff.retry(slug)
    return app.handoff.status(slug).to_dict()
