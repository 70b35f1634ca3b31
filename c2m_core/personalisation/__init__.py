"""Per-unit personalisation: fields a catalog declares, checked uploads, per-unit values.

A catalog may declare personalisation fields (``[[personalisation]]`` in its TOML): an image
upload (``ImageField``: accepted image types, a size limit in bytes and in pixels) or a text
(``TextField``, an engraving: length and alphabet limits). A wish or a pledge carries up to one
set of values per unit (field id -> the upload's sha256, or the text); personalisation never
changes the variant, so aggregation and capacity ignore it. Uploads are checked by their
content (decoded fully, never trusted by name or declared type) and stored by their sha256 in a
files folder outside the database (``files.FileStore``). The service is ``app.personalisation``.
"""

from __future__ import annotations

from .fields import (
    ALPHABETS,
    IMAGE_FORMATS,
    ImageField,
    PersonalisationField,
    TextField,
)
from .records import Upload

__all__ = [
    "ALPHABETS",
    "IMAGE_FORMATS",
    "ImageField",
    "PersonalisationField",
    "TextField",
    "Upload",
]
