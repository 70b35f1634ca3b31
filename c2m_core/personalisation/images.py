"""Checking an uploaded image by its content, with Pillow.

The bytes are decoded fully, as one of the field's accepted formats only (Pillow is told which
decoders it may use), so a script renamed ``.png`` or a file whose client said ``image/png``
is refused for what it is. The size in bytes is checked before anything is decoded, and the
size in pixels from the header before the pixels are: a decompression bomb (a few kilobytes
that inflate to gigabytes) is refused before it inflates, by our limits and by Pillow's own
decompression-bomb check. The file name a client sends is never used; one with a path in it
is refused as a sign of a hostile client.
"""

from __future__ import annotations

import io
import unicodedata

from ..errors import InvalidInput
from .fields import IMAGE_FORMATS, ImageField

MAX_FILE_NAME = 255
#: First bytes of common files that are not accepted images, to say what a file is.
_SIGNATURES = (
    (b"#!", "a script"),
    (b"<?php", "a PHP script"),
    (b"<svg", "an SVG document (not accepted: it may carry scripts)"),
    (b"<?xml", "an XML document"),
    (b"<!doctype html", "an HTML document"),
    (b"<html", "an HTML document"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "an executable"),
)


def check_file_name(name, field: str = "filename") -> str | None:
    """``name`` when it is a plain file name (it is never used to store anything), else
    ``InvalidInput``: a path (``../../etc/passwd``), control characters, or too long."""
    if name is None:
        return None
    accepted = (
        f"a plain file name of 1 to {MAX_FILE_NAME} characters, without folders or control "
        "characters (the file is stored under its sha256; the name is never used)"
    )
    bad = (
        not isinstance(name, str)
        or not 0 < len(name) <= MAX_FILE_NAME
        or name in (".", "..")
        or any(c in name for c in "/\\:")
        or any(unicodedata.category(c)[0] == "C" for c in name)
    )
    if bad:
        shown = name[:100] if isinstance(name, str) else repr(name)[:100]
        raise InvalidInput(
            f"{field}: {shown!r} is not accepted; expected {accepted}",
            field=field,
            value=shown,
            accepted=accepted,
        )
    return name


def _what(data: bytes) -> str:
    head = data[:64].lstrip().lower()
    for signature, description in _SIGNATURES:
        if head.startswith(signature.lower()):
            return description
    if not data.strip(b"\t\n\r -~"):
        return "text"
    return "not an accepted image"


def check_image(field: ImageField, data: bytes, where: str = "file") -> tuple[str, int, int]:
    """(media type, width, height) of ``data`` decoded fully as one of ``field``'s types.

    Raises ``InvalidInput`` naming what was wrong (size, type, pixels, a damaged file) and what
    ``field`` accepts. Nothing here reads the file name or a declared content type.
    """
    from PIL import Image

    def refuse(problem: str, value=None) -> InvalidInput:
        return InvalidInput(
            f"{where}: {problem}; expected {field.accepted}",
            field=where,
            value=value,
            accepted=field.accepted,
        )

    size = len(data)
    if size == 0:
        raise refuse("the file is empty", 0)
    if size > field.max_bytes:
        raise refuse(f"{size:,} bytes is too large", size)
    formats = [IMAGE_FORMATS[media_type][0] for media_type in field.media_types]
    names = " or ".join(IMAGE_FORMATS[t][0] for t in field.media_types)
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            width, height = image.size
            found = image.format
            animated = bool(getattr(image, "is_animated", False))
            if not (
                field.min_width <= width <= field.max_width
                and field.min_height <= height <= field.max_height
            ):
                raise refuse(
                    f"the image is {width:,} x {height:,} pixels ({width * height:,} pixels "
                    f"from {size:,} bytes)",
                    f"{width}x{height}",
                )
            if animated:
                raise refuse("animated images are not accepted", found)
            image.verify()  # structure and checksums, before decoding the pixels
        with Image.open(io.BytesIO(data), formats=formats) as image:
            image.load()  # every pixel decoded: a truncated or damaged file fails here
    except InvalidInput:
        raise
    except Image.DecompressionBombError as ex:
        raise refuse(f"a decompression bomb ({ex})", "decompression bomb") from None
    except Exception as ex:  # Pillow raises many kinds for hostile or damaged files
        what = _what(data)
        if type(ex).__name__ == "UnidentifiedImageError":
            problem = f"the content is {what}, not a {names} image"
            if what == "not an accepted image":
                problem = f"the content is not a {names} image"
        else:
            problem = f"the content does not decode as a complete {names} image ({ex})"
        raise refuse(problem + " (the file name and declared type are not looked at)",
                     what) from None  # fmt: skip
    media_type = next(t for t in field.media_types if IMAGE_FORMATS[t][0] == found)
    return media_type, width, height
