"""Shared helpers for the hand-off tests: a TV campaign, the B2MML schema, a webhook receiver."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from components import in_ci

from c2m_core.handoff.plan import DemandLine

REPO = Path(__file__).resolve().parents[1]
B2MML_ENV = "C2M_B2MML_DIR"
SECRET = "whsec_" + base64.b64encode(b"test secret for c2m hand-offs").decode()
T0 = datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.UTC)

CINEMA_55 = {
    "size": "55-4k",
    "backlight": "local-dimming",
    "appearance": "graphite",
    "functions": "cinema",
    "base": "centre-stand",
}
OLED_65 = {
    "size": "65-oled",
    "appearance": "walnut",
    "functions": "flagship",
    "base": "wall-mount",
}
BIG_85 = {
    "size": "85-4k",
    "backlight": "mini-led",
    "appearance": "silver",
    "functions": "gaming",
    "base": "floor-stand",
}


def b2mml_dir() -> Path | None:
    """The B2MML schemas: ``<repo>/../shared/b2mml``, else ``$C2M_B2MML_DIR``."""
    for candidate in (REPO.parent / "shared" / "b2mml", os.environ.get(B2MML_ENV)):
        if candidate and (Path(candidate) / "V0701" / "B2MML-OperationsSchedule.xsd").is_file():
            return Path(candidate)
    return None


def b2mml_schema():
    """The official B2MML V07 OperationsSchedule schema, or skip naming where it was sought
    (in CI, ``CI=true``, a failure: CI always has ``../shared`` beside the checkout)."""
    folder = b2mml_dir()
    if folder is None:
        where = f"B2MML schemas not found at {REPO.parent / 'shared' / 'b2mml'} nor in ${B2MML_ENV}"
        if in_ci():
            pytest.fail(where)
        pytest.skip(where)
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(folder / "V0701" / "B2MML-OperationsSchedule.xsd")))


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime.datetime = T0):
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += datetime.timedelta(**delta)


def tv_campaign(app, slug="summer", variants=(CINEMA_55,), settings=None, title=None):
    """A TV campaign (stages: handoff only, still in draft) with ``variants`` added."""
    app.campaigns.create(slug, "tv", title=title, stages=["handoff"], settings=settings or {})
    return [app.variants.add(slug, configuration) for configuration in variants]


def demand(variant, **by_region) -> DemandLine:
    return DemandLine(variant, sum(by_region.values()), by_region)


def quick_retries(app, **overrides) -> list[float]:
    """Make retries instant; returns the list the waits are recorded in."""
    from c2m_core.handoff.outbox import RetryPolicy

    waits: list[float] = []
    options = {"base_delay": 0.01, "max_delay": 0.05, "max_wait": 5.0} | overrides
    app.handoff.retry_policy = RetryPolicy(**options)
    app.handoff.sleep = waits.append
    return waits


def expected_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks, computed independently of c2m's own signing code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers from a script, then accepts.

    ``script`` maps a path to the statuses of its first requests (``[503, 503]``); later
    requests get 200, each answered after ``delay`` seconds. Deliveries are accepted once per
    ``webhook-id`` (later ones are answered 200 as duplicates), as Standard Webhooks asks.
    """

    def __init__(self, script=None, delay=0.0):
        self.script = {path: list(statuses) for path, statuses in (script or {}).items()}
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    request = {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                    receiver.requests.append(request)
                    pending = receiver.script.get(self.path, [])
                    status = pending.pop(0) if pending else 200
                    message_id = request["headers"].get("webhook-id")
                    if status == 200 and message_id not in receiver.accepted:
                        receiver.accepted[message_id] = json.loads(body)
                time.sleep(delay)
                headers = [("Retry-After", "0")] if status in (429, 503) else []
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path="/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
