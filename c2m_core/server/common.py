"""What the route modules share: routers, scopes in OpenAPI, the request's ``C2M``, pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from .application import SCOPES_KEY, C2MRoute
from .problems import MEDIA_TYPE


class Problem(BaseModel):
    """An RFC 9457 problem: ``type``, ``title``, ``status``, ``detail`` and the error's fields."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    kind: str
    instance: str | None = None
    field: str | None = None
    value: Any = None
    accepted: str | None = None


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {MEDIA_TYPE: {}}}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("The body is not JSON (or not UTF-8)"),
    401: _problem("No token, or an unknown or revoked one"),
    403: _problem("The token lacks the scope"),
    404: _problem("Not found"),
    409: _problem("Conflict with the stored state, a reused or in-flight Idempotency-Key"),
    422: _problem("Invalid input: names the field, the value and what is accepted"),
    503: _problem("The database is busy; retry after Retry-After seconds"),
}


def router(tag: str) -> APIRouter:
    return APIRouter(route_class=C2MRoute, tags=[tag], responses=PROBLEMS)


def scoped(scopes) -> dict:
    """OpenAPI extras of a route callable by ``scopes`` (security and ``x-c2m-scopes``)."""
    names = sorted(scopes)
    return {"security": [{"token": names}], SCOPES_KEY: names}


class _ThreadApp:
    """Resolves to the ``C2M`` copy of the thread that uses it (handlers run in a pool)."""

    def __init__(self, services):
        self._services = services

    def __getattr__(self, name):
        return getattr(self._services.app(), name)


async def _thread_app(request: Request) -> Any:
    return _ThreadApp(request.app.state.c2m)


#: The ``C2M`` of this request's thread.
App = Annotated[Any, Depends(_thread_app)]

Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items")]
Cursor = Annotated[
    int, Query(ge=0, le=2**62, description="The `next_cursor` of the previous page; 0 first")
]


class Page(BaseModel):
    """A page of a list: its items and the cursor of the next page (null on the last)."""

    items: list[dict[str, Any]]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next page")


def page(items: list, cursor: int, limit: int, key=lambda item: item["id"]) -> dict:
    """Items after ``cursor`` by ``key``, at most ``limit``, with the next cursor."""
    after = [item for item in items if key(item) > cursor]
    after.sort(key=key)
    chosen = after[:limit]
    more = len(after) > limit
    return {"items": chosen, "next_cursor": key(chosen[-1]) if more else None}


class Body(BaseModel):
    """Base of request bodies: unknown fields are refused, naming them."""

    model_config = ConfigDict(extra="forbid")


Text = Annotated[str, Field(min_length=1, max_length=200)]
Configuration = Annotated[
    dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=100)]],
    Field(max_length=200, description="module id -> option id"),
]
PersonalisationSets = Annotated[
    list[
        Annotated[
            dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=1000)]],
            Field(max_length=32),
        ]
    ],
    Field(
        max_length=10_000,
        description="One mapping of personalisation field id -> value per unit (unit 1 first): "
        "a text, or the sha256 an upload returned",
    ),
]
