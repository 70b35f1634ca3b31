"""Votes: open (brand), cast a ballot (storefront), close (brand), results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import ConfigDict, Field

from .campaigns import Slug
from .common import App, Body, scoped
from .common import router as make_router
from .scopes import BRAND_ONLY, CUSTOMER_WRITE, PUBLIC_READ

router = make_router("voting")
VariantId = Annotated[int, Field(ge=1, le=2**62)]


class OpenVote(Body):
    method: str = Field(max_length=64, description="plurality, approval, score, schulze, ...")
    variants: list[VariantId] | None = Field(None, max_length=1000, description="default: all")
    opens: str | None = Field(None, max_length=64, description="ISO 8601; default now")
    closes: str | None = Field(None, max_length=64, description="ISO 8601; default until closed")
    winners: int = Field(1, ge=1, le=1000)
    options: dict[str, Any] = Field(default_factory=dict, description="e.g. max_approvals")


class Ballot(Body):
    """The fields of the vote's method (plugins' methods may read others)."""

    model_config = ConfigDict(extra="allow")

    choice: VariantId | None = Field(None, description="plurality")
    approve: list[VariantId] | None = Field(None, max_length=1000, description="approval")
    score: dict[str, Annotated[int, Field(ge=0, le=5)]] | None = Field(
        None, max_length=1000, description="score: variant id -> 0..5"
    )
    would_buy: list[VariantId] | None = Field(None, max_length=1000, description="score")
    rank: str | None = Field(None, max_length=2000, description="schulze: '3>1=2>4'")


Voter = Annotated[str, Path(max_length=200, description="the shop's reference for the voter")]


@router.post(
    "/campaigns/{slug}/vote",
    status_code=201,
    summary="Open the campaign's vote",
    openapi_extra=scoped(BRAND_ONLY),
)
def open_vote(app: App, slug: Slug, body: OpenVote) -> dict[str, Any]:
    vote = app.voting.open(
        slug,
        body.method,
        variants=body.variants,
        opens=body.opens,
        closes=body.closes,
        winners=body.winners,
        options=body.options,
    )
    return vote.to_dict()


@router.get("/campaigns/{slug}/vote", summary="The vote", openapi_extra=scoped(PUBLIC_READ))
def get_vote(app: App, slug: Slug) -> dict[str, Any]:
    return app.voting.require(slug).to_dict()


@router.put(
    "/campaigns/{slug}/ballots/{voter}",
    summary="Cast or replace a voter's ballot (one per voter; the earlier one is kept)",
    openapi_extra=scoped(CUSTOMER_WRITE),
)
def cast_ballot(app: App, slug: Slug, voter: Voter, body: Ballot) -> dict[str, Any]:
    ballot = body.model_dump(exclude_none=True)
    return app.voting.cast(slug, voter, ballot).to_dict()


@router.post(
    "/campaigns/{slug}/vote/close",
    summary="Close the vote and count it",
    openapi_extra=scoped(BRAND_ONLY),
)
def close_vote(app: App, slug: Slug) -> dict[str, Any]:
    return app.voting.close(slug).to_dict()


@router.get(
    "/campaigns/{slug}/vote/results",
    summary="The count: integer tallies, winners, every tie-break stated",
    openapi_extra=scoped(PUBLIC_READ),
)
def vote_results(app: App, slug: Slug) -> dict[str, Any]:
    return app.voting.results(slug).to_dict() | {"winners": app.voting.winners(slug)}
