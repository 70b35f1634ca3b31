"""Event webhooks: subscriptions, the delivery outbox, and the dispatcher that sends it.

Reuses the hand-off's delivery machinery: the signed ``WebhookConnector`` (Standard Webhooks
``webhook-id``/``webhook-timestamp``/``webhook-signature``, no redirects, 429/5xx retryable,
410 Gone disables), its ``RetryPolicy`` (exponential backoff with jitter, then the dead letter)
and the outbox pattern: a row per (subscription, event) written once, claimed by a conditional
update, its outcome recorded. Each subscription has its own ``whsec_`` secret.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import secrets
import threading
import urllib.parse
import urllib.request

import attrs

from ..errors import InvalidInput, NotFound
from ..handoff.connectors import (
    Connector,
    DeliveryFailed,
    Package,
    WebhookConnector,
    _NoRedirects,
)
from ..handoff.documents import Document
from ..handoff.outbox import DEAD, DELIVERED, DISABLED, PENDING, RetryPolicy

log = logging.getLogger("c2m.server.webhooks")

INTERVAL_ENV = "C2M_WEBHOOK_INTERVAL"
ACTIVE = "active"
SUBSCRIPTION_STATES = (ACTIVE, DISABLED)
LEASE_SECONDS = 60.0
BATCH = 500


@attrs.frozen
class Subscription:
    """An endpoint subscribed to event types (all when ``types`` is empty)."""

    id: int
    url: str
    types: tuple[str, ...]
    campaign: str | None
    state: str
    cursor: int
    created_at: str
    disabled_reason: str | None = None

    def to_dict(self) -> dict:
        return attrs.asdict(self) | {"types": list(self.types)}


def _subscription(row: dict) -> Subscription:
    return Subscription(
        id=row["id"],
        url=row["url"],
        types=tuple(json.loads(row["types"])),
        campaign=row["campaign"],
        state=row["state"],
        cursor=row["cursor"],
        created_at=row["created_at"],
        disabled_reason=row["disabled_reason"],
    )


def _check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"url {url!r} is not an http(s) URL",
            field="url",
            value=url,
            accepted="an http:// or https:// URL",
        )
    return url


def subscribe(app, url: str, types=(), campaign: str | None = None) -> tuple[Subscription, str]:
    """Subscribe ``url`` to events from now on; returns it and its signing secret (shown once)."""
    url = _check_url(url)
    if campaign is not None:
        app.campaigns.get(campaign)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    store = app.store
    with store.transaction():
        row = store.server.insert_subscription(
            url, tuple(types), campaign, secret, store.last_event_id()
        )
        store.event("webhook.subscribed", None, {"id": row["id"], "url": url})
    return _subscription(row), secret


def subscription(app, subscription_id: int) -> Subscription:
    row = app.store.server.subscription(subscription_id)
    if row is None:
        raise NotFound(
            f"no webhook subscription {subscription_id}", field="id", value=subscription_id
        )
    return _subscription(row)


def subscriptions(app, after: int = 0, limit: int = 100) -> list[Subscription]:
    return [_subscription(row) for row in app.store.server.subscriptions(after, limit)]


def set_state(app, subscription_id: int, state: str) -> Subscription:
    """Enable (``active``) or disable a subscription; enabling one disabled by a 410 retries."""
    if state not in SUBSCRIPTION_STATES:
        raise InvalidInput(
            f"state {state!r}", field="state", value=state, accepted=", ".join(SUBSCRIPTION_STATES)
        )
    subscription(app, subscription_id)
    with app.store.transaction():
        app.store.server.set_subscription_state(
            subscription_id, state, None if state == ACTIVE else "disabled by the brand team"
        )
    return subscription(app, subscription_id)


def deliveries(app, subscription_id: int, after: int = 0, limit: int = 100) -> list[dict]:
    subscription(app, subscription_id)
    return app.store.server.deliveries(subscription_id, after, limit)


class EventWebhook(WebhookConnector):
    """The hand-off's signed webhook connector with a subscription's own secret."""

    def __init__(self, url: str, app, secret: str):
        Connector.__init__(self, url, app)
        self._secret = secret
        self._opener = urllib.request.build_opener(_NoRedirects)


def enqueue(app) -> int:
    """Write an outbox row for each new event of each active subscription; how many."""
    store = app.store
    added = 0
    for sub in subscriptions(app, limit=10**9):
        if sub.state != ACTIVE:
            continue
        events = app.store.events_since(
            sub.cursor,
            BATCH,
            app.campaigns.get(sub.campaign).id if sub.campaign else None,
            sub.types,
        )
        if not events:
            continue
        with store.transaction():
            if not store.server.move_cursor(sub.id, sub.cursor, events[-1].id):
                continue  # another worker took this batch
            for event in events:
                store.server.add_delivery(sub.id, event.id, event.type, f"msg_{sub.id}_{event.id}")
                added += 1
    return added


def deliver_due(app, policy: RetryPolicy, rng: random.Random) -> dict[str, int]:
    """Attempt every due delivery this process can claim; counts by outcome."""
    area = app.store.server
    counts = {DELIVERED: 0, PENDING: 0, DEAD: 0, DISABLED: 0}
    for row in area.due_deliveries():
        if not area.claim_delivery(row["id"], LEASE_SECONDS):
            continue
        sub = subscription(app, row["subscription_id"])
        event = app.store.events_since(row["event_id"] - 1, 1)[0]
        body = json.dumps(
            {"type": event.type, "timestamp": event.created_at, "data": event.to_dict()},
            sort_keys=True,
            ensure_ascii=False,
        ).encode()
        package = Package(
            handoff_id=str(event.id),
            idempotency_key=row["message_id"],
            documents=(Document("json", "event.json", "application/json", body),),
            attempt=row["attempts"] + 1,
        )
        try:
            receipt = EventWebhook(sub.url, app, _secret(app, sub.id)).deliver(package)
        except DeliveryFailed as failure:
            attempts = row["attempts"] + 1
            if failure.disable:
                state = DISABLED
                area.set_subscription_state(sub.id, DISABLED, str(failure)[:500])
            elif failure.retryable and attempts < policy.max_attempts:
                state = PENDING
            else:
                state = DEAD
            delay = policy.delay(attempts, rng, failure.retry_after) if state == PENDING else 0
            area.record_delivery(row["id"], state, None, str(failure)[:1000], delay)
            counts[state] += 1
            continue
        area.record_delivery(row["id"], DELIVERED, receipt.get("status"), None)
        counts[DELIVERED] += 1
    return counts


def _secret(app, subscription_id: int) -> str:
    return app.store.server.subscription(subscription_id)["secret"]


def dispatch(app, policy: RetryPolicy | None = None, rng: random.Random | None = None) -> dict:
    """One pass: enqueue new events, then attempt what is due. Safe in several processes."""
    queued = enqueue(app)
    counts = deliver_due(app, policy or RetryPolicy(), rng or random.Random())
    return {"queued": queued, **counts}


class Dispatcher:
    """Runs ``dispatch`` every ``interval`` seconds in a background thread of a worker."""

    def __init__(self, loaded, interval: float | None = None, policy: RetryPolicy | None = None):
        self.loaded = loaded
        self.interval = interval or float(os.environ.get(INTERVAL_ENV, "1.0"))
        self.policy = policy or RetryPolicy()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="c2m-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        app = self.loaded.for_thread()
        rng = random.Random()
        try:
            while not self._stop.wait(self.interval):
                try:
                    dispatch(app, self.policy, rng)
                except Exception:
                    log.exception("webhook dispatch failed; trying again in %s s", self.interval)
        finally:
            app.close()
