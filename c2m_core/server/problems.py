"""RFC 9457 problem details: the one table from error ``kind`` to HTTP status."""

from __future__ import annotations

import json
import math
from typing import Any

from ..errors import C2MError

MEDIA_TYPE = "application/problem+json"

#: HTTP status for each error ``kind`` (``c2m_core.errors``); anything else is 500.
STATUS = {
    "invalid_input": 422,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "not_allowed": 409,
    "sold_out": 409,
    "unavailable": 503,
}
TITLES = {
    "invalid_input": "Invalid input",
    "unauthorized": "Missing or unknown token",
    "forbidden": "Token lacks the scope",
    "not_found": "Not found",
    "conflict": "Conflict",
    "not_allowed": "Not allowed in this state",
    "sold_out": "Sold out",
    "unavailable": "Service unavailable",
}


class Unauthorized(C2MError):
    """No token, or one that is unknown or revoked."""

    kind = "unauthorized"


class Forbidden(C2MError):
    """The token lacks every scope the route accepts."""

    kind = "forbidden"


def status_of(kind: str) -> int:
    return STATUS.get(kind, 500)


def _plain(value: Any) -> Any:
    """``value`` as JSON data (what JSON cannot say becomes text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


def problem(error: C2MError, instance: str | None = None) -> tuple[int, dict]:
    """The status and problem body of ``error``: type, title, status, detail and its fields."""
    fields = _plain(error.to_dict())
    kind = fields.pop("kind", error.kind)
    message = fields.pop("message", str(error))
    status = status_of(kind)
    body = {
        "type": f"urn:c2m:problem:{kind}",
        "title": TITLES.get(kind, "Internal error"),
        "status": status,
        "detail": message,
        "kind": kind,
    }
    if instance:
        body["instance"] = instance
    for name, value in fields.items():
        body.setdefault(name, value)
    return status, body


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
