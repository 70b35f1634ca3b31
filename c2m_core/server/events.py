"""The event feed: every recorded change after a cursor, oldest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from .common import App, Cursor, Limit, Page, scoped
from .common import router as make_router
from .scopes import PRIVATE_READ

router = make_router("events")


@router.get(
    "/events",
    summary="Events after the cursor; keep `next_cursor` (or the last id) and ask again",
    openapi_extra=scoped(PRIVATE_READ),
)
def list_events(
    app: App,
    cursor: Cursor = 0,
    limit: Limit = 100,
    campaign: Annotated[str | None, Query(max_length=64)] = None,
    type: Annotated[list[str] | None, Query(max_length=50)] = None,
) -> Page:
    found = app.events.since(cursor, limit=limit, campaign=campaign, types=tuple(type or ()))
    items = [event.to_dict() for event in found]
    # Always a cursor to keep: the last id returned (the one sent when nothing is new).
    return Page(items=items, next_cursor=items[-1]["id"] if items else cursor)
