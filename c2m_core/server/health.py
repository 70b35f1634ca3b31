"""``GET /health``: is the service up, and its version (no token needed)."""

from __future__ import annotations

from pydantic import BaseModel

from ..version import __version__
from .common import App
from .common import router as make_router

router = make_router("health")


class Health(BaseModel):
    status: str
    version: str


@router.get("/health", response_model=Health, summary="The service is up")
def health(app: App) -> dict:
    app.store.last_event_id()  # the database answers
    return {"status": "ok", "version": __version__}
