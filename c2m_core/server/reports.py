"""The campaign report: one self-contained HTML page."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from ..report import build_report, render_report
from .campaigns import Slug
from .common import App, scoped
from .common import router as make_router
from .scopes import PRIVATE_READ

router = make_router("reports")


@router.get(
    "/campaigns/{slug}/report",
    response_class=HTMLResponse,
    summary="The campaign report (HTML: funnel, demand, vote, pre-sale, production plan)",
    openapi_extra=scoped(PRIVATE_READ),
)
def report(app: App, slug: Slug) -> HTMLResponse:
    return HTMLResponse(render_report(app, build_report(app, slug)))
