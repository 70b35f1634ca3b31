"""Uploads: a customer's file for an image personalisation field, checked by its content.

The request body is the file itself (any ``Content-Type``: it is not trusted), read up to the
largest size a catalog may allow; the answer is the upload with its ``sha256``, which a wish or
pledge then sends as the field's value. A file that is not an accepted image, too large in
bytes or pixels, or sent with a path as its ``filename`` is refused with a 422 problem naming
what was wrong and what the field accepts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from starlette.concurrency import run_in_threadpool

from ..errors import InvalidInput
from ..personalisation.fields import MAX_IMAGE_BYTES
from .campaigns import Slug
from .common import App, scoped
from .common import router as make_router
from .scopes import CUSTOMER_WRITE

router = make_router("personalisation")

_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes; its content decides what it is.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def _read(request: Request, limit: int) -> bytes:
    """The body, refused once it passes ``limit`` bytes (never read whole into memory)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(
                f"file: more than {limit:,} bytes is too large for any image field",
                field="file",
                value=size,
                accepted=f"at most {limit:,} bytes",
            )
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/campaigns/{slug}/uploads/{field}",
    status_code=201,
    summary="Upload a file for an image personalisation field; answers with its sha256",
    openapi_extra=scoped(CUSTOMER_WRITE) | _BODY,
)
async def upload(
    app: App,
    request: Request,
    slug: Slug,
    field: Annotated[str, Path(max_length=64, description="The image field's id")],
    filename: Annotated[
        str | None,
        Query(max_length=300, description="The customer's file name: checked, never used"),
    ] = None,
) -> dict[str, Any]:
    data = await _read(request, MAX_IMAGE_BYTES)
    stored = await run_in_threadpool(
        lambda: app.personalisation.upload(slug, field, data, filename=filename)
    )
    return stored.to_dict() | {"field": field}
