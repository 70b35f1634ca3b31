"""Content-addressed files outside the database: ``<root>/<first 2 hex>/<sha256>``.

A file's name is its sha256 and nothing else (never a name a customer chose), so storing the
same content twice changes nothing and two processes storing it at once agree. Files are
written to a temporary name, fsynced and renamed into place; a file is read back only when its
content still has its name's digest.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..errors import C2MError, InvalidInput

_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")


def is_sha256(text) -> bool:
    """True for 64 lower-case hex digits."""
    return isinstance(text, str) and _SHA256.match(text) is not None


class FileStore:
    """The files folder: ``put`` bytes, get them back by sha256.

    :param root: the folder (created on first write)
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the file with this digest lives (``InvalidInput`` unless ``sha256`` is one)."""
        if not is_sha256(sha256):
            raise InvalidInput(
                f"{sha256!r} is not a sha256 digest",
                field="sha256",
                value=str(sha256)[:100],
                accepted="64 lower-case hexadecimal digits",
            )
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if self.has(digest):
            return digest
        from ..handoff.connectors import write_atomic

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
        except OSError as ex:
            raise C2MError(f"cannot store the file in {self.root}: {ex.strerror}") from ex
        return digest

    def has(self, sha256: str) -> bool:
        """True when the file is stored and its content has this digest."""
        try:
            return self.get(sha256) is not None
        except C2MError:
            return False

    def get(self, sha256: str) -> bytes | None:
        """The stored bytes, None when absent; ``C2MError`` when the content lost its digest."""
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise C2MError(f"{path} no longer has the content its name says (sha256 {sha256})")
        return data
