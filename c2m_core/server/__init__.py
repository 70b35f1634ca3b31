"""``c2m serve``: the HTTP API over the stage services (the ``server`` extra).

``create_app(app)`` returns an ASGI application a shop may run on its own or mount inside its
own ASGI app; ``c2m serve`` runs it on uvicorn. Importing this package does not import the web
framework: ``Route`` (what ``register_routes`` returns) and the token functions work without it.
See ``docs/server.md``.
"""

from __future__ import annotations

from .routes import PluginRequest, Route
from .scopes import BRAND, READ, SCOPES, STOREFRONT


def create_app(app, *, webhooks: bool = True, webhook_interval: float | None = None):
    """The ASGI application serving ``app`` (a loaded ``C2M``): the API and ``/openapi.json``.

    Each request runs on a per-thread ``for_thread()`` copy of ``app``. With ``webhooks`` the
    application delivers event webhooks in a background thread while it runs.
    """
    from .application import build

    return build(app, webhooks=webhooks, webhook_interval=webhook_interval)


__all__ = ["BRAND", "READ", "SCOPES", "STOREFRONT", "PluginRequest", "Route", "create_app"]
