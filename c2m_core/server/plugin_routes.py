"""Routes plugins add with ``register_routes``, served under ``/plugins``."""

from __future__ import annotations

import inspect
import re
from typing import Annotated, Any

from fastapi import Body as BodyParam
from fastapi import Path, Request
from fastapi.responses import JSONResponse

from ..plugins import collect
from .common import App, router, scoped
from .routes import Route

PREFIX = "/plugins"
_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


def router_for(loaded):
    """A router with every plugin route of ``loaded`` (a ``C2M``)."""
    plugin_router = router("plugins")
    found, _ = collect(
        loaded.pm,
        "register_routes",
        app=loaded,
        noun="route",
        key=lambda route: (route.method.upper(), route.path),
        accepts=lambda item: isinstance(item, Route),
        expected="c2m_core.server.Route objects",
    )
    for route in found.values():
        plugin_router.add_api_route(
            PREFIX + route.path,
            _endpoint(route),
            methods=[route.method.upper()],
            summary=route.summary or None,
            response_model=None,
            openapi_extra=scoped(route.scopes),
        )
    return plugin_router


def _endpoint(route: Route):
    from .routes import PluginRequest

    names = _PLACEHOLDER.findall(route.path)

    def endpoint(request: Request, app, body=None, **path_params):
        token = request.state.token
        plugin_request = PluginRequest(
            path_params=path_params,
            query=dict(request.query_params),
            body=body,
            token=token.name,
            scopes=token.scopes,
        )
        result = route.handler(app, plugin_request)
        status = 200
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
            status, result = result
        return JSONResponse(result, status_code=status)

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("request", keyword, annotation=Request),
        inspect.Parameter("app", keyword, annotation=App),
    ]
    parameters += [
        inspect.Parameter(name, keyword, annotation=Annotated[str, Path(max_length=200)])
        for name in names
    ]
    if route.method.upper() in ("POST", "PUT", "PATCH"):
        parameters.append(
            inspect.Parameter("body", keyword, default=None, annotation=Annotated[Any, BodyParam()])
        )
    # typeshed's FunctionType lacks __signature__, which inspect (and so FastAPI) reads.
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = re.sub(r"\W", "_", f"plugin_{route.method}_{route.path}").lower()
    return endpoint
