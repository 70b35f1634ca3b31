"""``c2m serve``: the HTTP API over the stage services (the ``server`` extra).

``create_app(app)`` returns an ASGI application a shop may run on its own or mount inside its
own ASGI app; ``c2m serve`` runs it on uvicorn. Importing this package does not import the web
framework: ``Route`` (what ``register_routes`` returns) and the token functions work without it.
See ``docs/server.md``.
"""

from __future__ import annotations

from .routes import PluginRequest, Route
from .scopes import BRAND, READ, SCOPES, STOREFRONT


def create_app(
    app,
    *,
    webhooks: bool = True,
    webhook_interval: float | None = None,
    templates=None,
    demo_login: bool = False,
):
    """The ASGI application serving ``app`` (a loaded ``C2M``): the API, ``/openapi.json``,
    the consumer pages (``/c/{slug}``) and the brand dashboard (``/dashboard``).

    ``templates`` is a brand's template folder, looked up before the category's and the
    defaults; ``demo_login`` lets anyone sign in to the pages by typing a name.

    Each request runs on a per-thread ``for_thread()`` copy of ``app``. With ``webhooks`` the
    application delivers event webhooks in a background thread while it runs.
    """
    from pathlib import Path

    from .application import build
    from .pages import PagesConfig

    pages = PagesConfig(Path(templates) if templates else None, demo_login)
    return build(app, webhooks=webhooks, webhook_interval=webhook_interval, pages=pages)


__all__ = ["BRAND", "READ", "SCOPES", "STOREFRONT", "PluginRequest", "Route", "create_app"]
