"""The ASGI application: routing, authentication, ``Idempotency-Key``, problem details.

Every route is a ``C2MRoute``: before the handler runs it checks the bearer token against the
scopes the route accepts (401/403 change nothing), and for a POST with ``Idempotency-Key`` it
claims the key in the database (a primary key on (token, key), so one request wins across any
number of worker processes), runs the handler, and stores the response for replays.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import C2MError, Conflict, InvalidInput
from ..store.server import IN_FLIGHT
from ..version import __version__
from .problems import MEDIA_TYPE, Forbidden, Unauthorized, encode, problem
from .tokens import Token, verify_token

log = logging.getLogger("c2m.server")

SCOPES_KEY = "x-c2m-scopes"
KEY_HEADER = "Idempotency-Key"
MAX_KEY = 255
#: Seconds an in-flight idempotency record holds its key before another request may take it
#: over (its worker died mid-request).
IN_FLIGHT_LEASE = 300.0


class KeyInFlight(Conflict):
    """The first request with this ``Idempotency-Key`` is still being processed."""

    retry_after = 1


class KeyReused(Conflict):
    """The ``Idempotency-Key`` was used before with a different request."""


class Services:
    """The loaded ``C2M`` of this process and one ``for_thread()`` copy per worker thread."""

    def __init__(self, loaded):
        self.loaded = loaded
        self._local = threading.local()

    def app(self):
        """This thread's ``C2M`` copy (its own SQLite connection)."""
        app = getattr(self._local, "app", None)
        if app is None:
            app = self._local.app = self.loaded.for_thread()
        return app

    def authenticate(self, header: str | None, scopes: frozenset[str]) -> Token:
        scheme, _, text = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not text.strip():
            raise Unauthorized(
                "send a token as 'Authorization: Bearer c2m_...' (create one with "
                "`c2m token create NAME --scope ...`)",
                field="Authorization",
            )
        token = verify_token(self.app(), text.strip())
        if token is None:
            raise Unauthorized("the token is unknown or revoked", field="Authorization")
        if not scopes & set(token.scopes):
            raise Forbidden(
                f"token {token.name!r} has scopes {', '.join(token.scopes)}; this route needs "
                f"one of {', '.join(sorted(scopes))}",
                field="scope",
                value=list(token.scopes),
                accepted=", ".join(sorted(scopes)),
            )
        return token

    def claim(self, token: Token, key: str, method: str, path: str, body: bytes):
        """None when this request now owns ``key``; else the stored response to replay.

        Raises ``KeyReused`` (naming the differing fields) or ``KeyInFlight``.
        """
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        sent = {"method": method, "path": path, "body": parsed}
        text = json.dumps(sent, sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        area = self.app().store.server
        if area.claim_key(token.id, key, method, path, digest, text, IN_FLIGHT_LEASE):
            return None
        record = area.idempotency_record(token.id, key)
        if record is None:  # released between the two statements: ask again
            return self.claim(token, key, method, path, body)
        if record["request_sha256"] != digest:
            fields = _differences(json.loads(record["request"]), sent)
            raise KeyReused(
                f"{KEY_HEADER} {key!r} was used for a different request (differing: "
                f"{', '.join(fields)}); send the original request again or use a new key",
                field=KEY_HEADER,
                value=key,
                differing=fields,
            )
        if record["state"] == IN_FLIGHT:
            raise KeyInFlight(
                f"a request with {KEY_HEADER} {key!r} is still being processed; retry shortly",
                field=KEY_HEADER,
                value=key,
            )
        return Response(
            bytes(record["response"]),
            status_code=record["status"],
            media_type=record["media_type"],
            headers={"Idempotent-Replayed": "true"},
        )

    def finish(self, token: Token, key: str, response: Response) -> None:
        media_type = response.headers.get("content-type", "application/json")
        self.app().store.server.finish_key(
            token.id, key, response.status_code, media_type, bytes(response.body)
        )

    def release(self, token: Token, key: str) -> None:
        self.app().store.server.release_key(token.id, key)


def _differences(stored: dict, sent: dict) -> list[str]:
    """The fields (``path``, ``method``, body keys or ``body``) in which two requests differ."""
    fields = [name for name in ("method", "path") if stored.get(name) != sent.get(name)]
    before, after = stored.get("body"), sent.get("body")
    if isinstance(before, dict) and isinstance(after, dict):
        fields += sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    elif before != after:
        fields.append("body")
    return fields


def problem_response(error: C2MError, path: str | None = None) -> JSONResponse:
    status, body = problem(error, path)
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if status == 503 and retry_after is None:
        retry_after = 1
    if retry_after is not None and status in (409, 429, 503):
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


class C2MRoute(APIRoute):
    """A route that authenticates by scope and honours ``Idempotency-Key`` on POST."""

    def __init__(self, path, endpoint, **kwargs):
        self.scopes = frozenset((kwargs.get("openapi_extra") or {}).get(SCOPES_KEY, ()))
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self):
        handler = super().get_route_handler()
        scopes = self.scopes

        async def route(request: Request) -> Response:
            services: Services = request.app.state.c2m
            token = None
            if scopes:
                header = request.headers.get("authorization")
                token = await run_in_threadpool(services.authenticate, header, scopes)
                request.state.token = token
            key = request.headers.get(KEY_HEADER)
            if request.method != "POST" or key is None or token is None:
                return await handler(request)
            if not 0 < len(key) <= MAX_KEY:
                raise InvalidInput(
                    f"{KEY_HEADER}: give 1 to {MAX_KEY} characters",
                    field=KEY_HEADER,
                    value=key,
                    accepted=f"1 to {MAX_KEY} characters",
                )
            body = await request.body()
            path = request.url.path
            stored = await run_in_threadpool(services.claim, token, key, request.method, path, body)
            if stored is not None:
                return stored
            try:
                response = await handler(request)
            except C2MError as error:
                response = problem_response(error, path)
            except BaseException:
                await run_in_threadpool(services.release, token, key)
                raise
            if response.status_code >= 500:
                await run_in_threadpool(services.release, token, key)
            else:
                await run_in_threadpool(services.finish, token, key, response)
            return response

        return route


# Errors -------------------------------------------------------------------------------------------

_HTTP_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def _install_error_handlers(web: FastAPI) -> None:
    @web.exception_handler(C2MError)
    async def c2m_error(request: Request, error: C2MError):
        return problem_response(error, request.url.path)

    @web.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        errors = []
        for item in error.errors():
            location = [str(part) for part in item.get("loc", ())]
            errors.append({"field": ".".join(location), "message": item.get("msg", "")})
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        details = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        invalid = InvalidInput(
            f"the request is not what this route reads: {details}",
            field=first["field"],
            accepted=first["message"],
            errors=errors,
        )
        return problem_response(invalid, request.url.path)

    @web.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        kind = _HTTP_KINDS.get(error.status_code, "http_error")
        detail = error.detail if isinstance(error.detail, str) else "error"
        if error.status_code == 404:
            detail = f"no route {request.method} {request.url.path}; see /openapi.json"
        body = {
            "type": f"urn:c2m:problem:{kind}",
            "title": detail,
            "status": error.status_code,
            "detail": detail,
            "kind": kind,
            "instance": request.url.path,
        }
        return JSONResponse(
            body,
            status_code=error.status_code,
            media_type=MEDIA_TYPE,
            headers=dict(error.headers or {}),
        )

    @web.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        body = {
            "type": "urn:c2m:problem:internal",
            "title": "Internal error",
            "status": 500,
            "detail": f"{type(error).__name__}: the server failed; it is logged",
            "kind": "internal",
        }
        return Response(encode(body), status_code=500, media_type=MEDIA_TYPE)


# The application ----------------------------------------------------------------------------------


def build(
    loaded,
    *,
    webhooks: bool = True,
    webhook_interval: float | None = None,
    pages=None,
) -> FastAPI:
    """The FastAPI application over ``loaded``; see ``create_app``."""
    from . import (
        campaigns,
        catalog,
        consumers,
        events,
        handoff,
        health,
        loop,
        plugin_routes,
        presale,
        reports,
        uploads,
        variants,
        voting,
        wishes,
    )
    from . import (
        webhooks as webhook_routes,
    )
    from .outbound import Dispatcher

    services = Services(loaded)
    dispatcher = Dispatcher(loaded, interval=webhook_interval) if webhooks else None

    @asynccontextmanager
    async def lifespan(_web):
        if dispatcher is not None:
            dispatcher.start()
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.stop()

    web = FastAPI(
        title="c2m",
        version=__version__,
        summary="Reverse customization: wishes, votes, pre-sales and hand-off to the factory.",
        description=(
            "Authenticate with `Authorization: Bearer <token>` (`c2m token create`). Errors "
            "are RFC 9457 problem details (`application/problem+json`). POST requests that "
            "create something accept `Idempotency-Key`. See docs/server.md."
        ),
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    web.state.c2m = services
    web.state.dispatcher = dispatcher
    _install_error_handlers(web)
    for module in (
        health,
        catalog,
        campaigns,
        wishes,
        variants,
        voting,
        presale,
        handoff,
        loop,
        events,
        webhook_routes,
        reports,
        consumers,
        uploads,
    ):
        web.include_router(module.router)
    from .pages import PagesConfig, router_for
    from .pages.views import Pages

    config = pages if pages is not None else PagesConfig()
    web.state.pages = Pages(services, config)
    web.include_router(router_for(services, config))
    web.include_router(plugin_routes.router_for(loaded))

    def openapi() -> dict[str, Any]:
        if web.openapi_schema is None:
            schema = get_openapi(
                title=web.title,
                version=web.version,
                summary=web.summary,
                description=web.description,
                routes=web.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `c2m token create NAME --scope SCOPE`.",
                }
            }
            web.openapi_schema = schema
        return web.openapi_schema

    web.openapi = openapi  # type: ignore[method-assign]
    return web
