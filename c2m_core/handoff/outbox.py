"""The outbox: one delivery per (hand-off, target), its state, and the retry policy.

A delivery is ``pending`` until a connector accepts it (``delivered``), refuses it for good
(``dead``: the dead letter) or its endpoint answers 410 Gone (``disabled``). ``retry`` puts dead
and disabled deliveries back to ``pending``. The idempotency key is fixed when the row is written,
so every attempt, after any crash, sends the same one.
"""

from __future__ import annotations

import random

import attrs

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
DISABLED = "disabled"
STATES = (PENDING, DELIVERED, DEAD, DISABLED)


@attrs.frozen
class Delivery:
    """One outbox row: a hand-off on its way to one target."""

    id: int
    handoff_id: str
    target: str
    idempotency_key: str
    state: str = PENDING
    attempts: int = 0
    next_attempt_at: str | None = None
    last_error: str | None = None
    receipt: dict | None = None
    lease_owner: str | None = None
    lease_until: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    delivered_at: str | None = None

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        del data["lease_owner"], data["lease_until"]
        return data


@attrs.frozen
class RetryPolicy:
    """Exponential backoff with jitter for retryable failures (network, 429, 5xx).

    :param max_attempts: attempts before a delivery goes to the dead letter
    :param base_delay: seconds before the second attempt (doubling after each failure)
    :param max_delay: the longest wait between two attempts
    :param max_wait: how long one ``run``/``retry`` call waits in total before leaving the rest
        pending for a later ``c2m handoff retry`` (0: never wait)
    """

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_wait: float = 120.0

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        "Equal jitter": half the exponential step plus a random part of the other half, so
        retrying senders spread out but the wait still grows. A server's ``Retry-After`` is
        honoured up to ``max_delay``.
        """
        step = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        delay = step / 2 + rng.uniform(0, step / 2)
        if retry_after is not None:
            delay = max(delay, min(float(retry_after), self.max_delay))
        return delay
