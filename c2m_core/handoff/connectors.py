"""Delivery connectors: where hand-off documents go. Plugins add theirs with
``register_handoff_connectors``; the built-in ones are registered by the default plugin
``c2m_core.handoff.defaults``.

A target is ``SCHEME:ADDRESS``. Built in:

- ``dir:PATH``: every document written atomically (temporary file, fsync, rename) into PATH,
  plus ``manifest.json`` with each file's sha256. The same content again is a no-op; a file that
  exists with other content is never overwritten (the delivery goes to the dead letter).
- ``webhook:URL``: a POST of the JSON record, signed the Standard Webhooks way
  (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) with the secret in
  ``$C2M_WEBHOOK_SECRET``, and the same ``Idempotency-Key`` on every attempt. Network errors,
  429 and 5xx are retried; 410 Gone disables the endpoint; any other answer is final.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import ClassVar

import attrs

from ..errors import C2MError, InvalidInput
from ..version import __version__
from .documents import Document

SECRET_ENV = "C2M_WEBHOOK_SECRET"
MANIFEST = "manifest.json"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_RETRYABLE_STATUS = {429}


@attrs.frozen
class Package:
    """What a connector delivers: one hand-off's documents and its idempotency key."""

    handoff_id: str
    idempotency_key: str
    documents: tuple[Document, ...]
    attempt: int = 1

    def document(self, kind: str) -> Document:
        for document in self.documents:
            if document.kind == kind:
                return document
        raise KeyError(kind)


class DeliveryFailed(C2MError):
    """A delivery attempt failed.

    :param retryable: True when a later attempt may succeed (network, 429, 5xx)
    :param disable: True when the endpoint is gone for good (HTTP 410)
    :param retry_after: seconds the receiver asked to wait, when it said
    """

    def __init__(self, message, retryable=True, disable=False, retry_after=None):
        super().__init__(message)
        self.retryable = retryable and not disable
        self.disable = disable
        self.retry_after = retry_after


class Connector:
    """Base class of a delivery target type. Subclasses set ``scheme`` and ``usage``.

    ``__init__`` checks the address (raise ``InvalidInput``) before anything is stored;
    ``deliver`` returns a receipt (a JSON-able dict) or raises ``DeliveryFailed``. A delivery
    may be attempted again after a crash, so ``deliver`` must be idempotent for one package.
    """

    scheme: ClassVar[str] = ""
    usage: ClassVar[str] = ""

    def __init__(self, address: str, app):
        self.address = address
        self.app = app

    @property
    def target(self) -> str:
        """The target as stored in the outbox: ``scheme:address`` (address normalised)."""
        return f"{self.scheme}:{self.address}"

    def deliver(self, package: Package) -> dict:
        raise NotImplementedError


# dir: ---------------------------------------------------------------------------------------------


class DirConnector(Connector):
    """``dir:PATH``: atomic files and a sha256 manifest in a folder."""

    scheme = "dir"
    usage = "dir:PATH"

    def __init__(self, address: str, app):
        if not address:
            raise InvalidInput("target dir: needs a folder, e.g. dir:./handoff")
        super().__init__(str(Path(address).expanduser().resolve()), app)

    def deliver(self, package: Package) -> dict:
        folder = Path(self.address)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with _locked(folder / ".manifest.lock"):
                return self._deliver(folder, package)
        except OSError as ex:
            raise DeliveryFailed(f"cannot write to {folder}: {ex}") from ex

    def _deliver(self, folder: Path, package: Package) -> dict:
        manifest_path = folder / MANIFEST
        manifest = json.loads(manifest_path.read_bytes()) if manifest_path.exists() else {}
        files = dict(manifest.get("files", {}))
        written, unchanged = [], []
        for document in package.documents:
            if not _SAFE_NAME.match(document.name) or ".." in document.name:
                raise DeliveryFailed(f"unsafe file name {document.name!r}", retryable=False)
            path = folder / document.name
            if path.exists():
                existing = hashlib.sha256(path.read_bytes()).hexdigest()
                if existing != document.sha256:
                    raise DeliveryFailed(
                        f"{path} exists with different content (sha256 {existing}); "
                        "c2m never overwrites a delivered file",
                        retryable=False,
                    )
                unchanged.append(document.name)
            else:
                write_atomic(path, document.content)
                written.append(document.name)
            files[document.name] = {
                "sha256": document.sha256,
                "bytes": len(document.content),
                "handoff_id": package.handoff_id,
                "media_type": document.media_type,
            }
        updated = {"schema": "c2m.manifest/1", "files": dict(sorted(files.items()))}
        if updated != manifest:
            write_atomic(manifest_path, (json.dumps(updated, indent=2) + "\n").encode())
        return {
            "folder": str(folder),
            "manifest": MANIFEST,
            "written": written,
            "unchanged": unchanged,
        }


def write_atomic(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically: a temporary file in the same folder, fsync,
    rename over, fsync the folder."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(content)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock between processes writing one folder (POSIX ``flock``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: one writer per folder is the user's job
        yield
        return
    with open(path, "a") as fp:
        fcntl.flock(fp, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fp, fcntl.LOCK_UN)


# webhook: -----------------------------------------------------------------------------------------


def signing_key(secret: str) -> bytes:
    """The HMAC key: a Standard Webhooks ``whsec_<base64>`` secret decoded, else its UTF-8."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class WebhookConnector(Connector):
    """``webhook:URL``: a signed POST of the JSON record."""

    scheme = "webhook"
    usage = "webhook:URL"
    timeout = 10.0

    def __init__(self, address: str, app):
        url = urllib.parse.urlsplit(address)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InvalidInput(
                f"target webhook:{address}: the address must be an http(s) URL, "
                "e.g. webhook:https://erp.example.com/c2m"
            )
        secret = os.environ.get(SECRET_ENV)
        if not secret:
            raise InvalidInput(
                f"webhook targets sign every delivery: set {SECRET_ENV} to the shared secret "
                "(a Standard Webhooks whsec_<base64> secret, or any string)"
            )
        try:
            signing_key(secret)
        except ValueError as ex:
            raise InvalidInput(f"{SECRET_ENV}: a whsec_ secret must be base64 ({ex})") from None
        super().__init__(address, app)
        self._secret = secret
        self._opener = urllib.request.build_opener(_NoRedirects)

    def deliver(self, package: Package) -> dict:
        body = package.document("json").content
        timestamp = int(self.app.clock().timestamp())
        request = urllib.request.Request(
            self.address,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"c2m/{__version__}",
                "webhook-id": package.idempotency_key,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(self._secret, package.idempotency_key, timestamp, body),
                "Idempotency-Key": package.idempotency_key,
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                answer = response.read(2000)
                status = response.status
        except urllib.error.HTTPError as ex:
            raise _http_failure(ex) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as ex:
            reason = getattr(ex, "reason", ex)
            raise DeliveryFailed(f"POST {self.address}: {reason}") from None
        return {
            "url": self.address,
            "status": status,
            "response": answer.decode("utf-8", "replace")[:500],
        }


def _http_failure(ex: urllib.error.HTTPError) -> DeliveryFailed:
    status = ex.code
    try:
        detail = ex.read(300).decode("utf-8", "replace").strip()
    except OSError:
        detail = ""
    message = f"POST {ex.url}: HTTP {status} {ex.reason}" + (f": {detail}" if detail else "")
    if status == 410:
        return DeliveryFailed(message, retryable=False, disable=True)
    if status in _RETRYABLE_STATUS or status >= 500:
        return DeliveryFailed(message, retry_after=_retry_after(ex.headers.get("Retry-After")))
    return DeliveryFailed(message, retryable=False)


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the HTTP-date form is ignored: backoff applies)."""
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
