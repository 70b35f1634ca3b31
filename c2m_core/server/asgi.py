"""The application ``c2m serve`` runs in each uvicorn worker process: ``$C2M_DB`` and the
installed plugins (``C2M_LOAD_PLUGINS`` restricts them)."""

from __future__ import annotations


def app_from_environment():
    """A fresh ``C2M`` on ``$C2M_DB`` and its ASGI application (a uvicorn factory)."""
    from ..app import C2M
    from . import create_app

    return create_app(C2M())
