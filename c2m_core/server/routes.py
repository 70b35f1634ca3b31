"""What plugins return from ``register_routes``: plain paths, methods and callables.

No web framework type appears here, so a plugin's routes keep working if the server changes
framework. The server turns each ``Route`` into an endpoint with the same authentication,
problem details and ``Idempotency-Key`` handling as its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .scopes import SCOPES

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@attrs.frozen
class PluginRequest:
    """What a plugin's handler receives besides ``app``.

    :param path_params: the values of the path's ``{name}`` placeholders
    :param query: the query string's parameters (the last value of each)
    :param body: the JSON body (None when there is none)
    :param token: the calling token's name
    :param scopes: the calling token's scopes
    """

    path_params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    token: str
    scopes: tuple[str, ...]


@attrs.frozen
class Route:
    """One route a plugin adds.

    :param method: ``GET``, ``POST``, ``PUT``, ``PATCH`` or ``DELETE``
    :param path: a path with ``{name}`` placeholders, e.g. ``/tv/{slug}/energy-label``; it is
        served under ``/plugins`` (``/plugins/tv/{slug}/energy-label``)
    :param handler: called as ``handler(app, request)`` with the request's ``C2M`` copy and a
        ``PluginRequest``; returns JSON-able data (200), or ``(status, data)``; raising a c2m
        error answers with its problem details
    :param scopes: the token scopes that may call it (default: ``brand`` only)
    :param summary: one line for the OpenAPI description
    """

    method: str
    path: str
    handler: Callable[[Any, PluginRequest], Any]
    scopes: tuple[str, ...] = ("brand",)
    summary: str = ""

    def __attrs_post_init__(self):
        if self.method.upper() not in METHODS:
            raise ValueError(f"route method {self.method!r}: use one of {', '.join(METHODS)}")
        if not self.path.startswith("/"):
            raise ValueError(f"route path {self.path!r} must start with '/'")
        if not callable(self.handler):
            raise ValueError(f"route {self.method} {self.path}: handler is not callable")
        unknown = [s for s in self.scopes if s not in SCOPES]
        if unknown or not self.scopes:
            raise ValueError(f"route {self.path}: scopes must be some of {', '.join(SCOPES)}")
