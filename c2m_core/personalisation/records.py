"""Personalisation records: a checked upload, and the owners values are attached to."""

from __future__ import annotations

import attrs

from .fields import IMAGE_FORMATS

#: What carries personalisation per unit.
WISH = "wish"
PLEDGE = "pledge"
OWNERS = (WISH, PLEDGE)


@attrs.frozen
class Upload:
    """An image whose content was checked and stored under its sha256 (never a client's name).

    ``media_type`` is what the content decoded as, not what the client said.
    """

    sha256: str
    media_type: str
    size: int
    width: int
    height: int
    created_at: str | None = None

    @property
    def file_name(self) -> str:
        """The name it is delivered under: ``<sha256>.<extension of its type>``."""
        return f"{self.sha256}.{IMAGE_FORMATS[self.media_type][1]}"

    def to_dict(self) -> dict:
        return attrs.asdict(self) | {"file": self.file_name}
