"""Hand-off records: a production hand-off and its status."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import attrs

from .outbox import DELIVERED, Delivery

STAGE = "handoff"


@attrs.frozen
class Document:
    """One file of a hand-off: ``kind`` (json, work_orders, bom, b2mml, spec_sheet), bytes."""

    kind: str
    name: str
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@attrs.frozen
class Handoff:
    """A recorded hand-off: one variant's production order and its canonical record."""

    id: str
    campaign_id: int
    variant_id: int
    position: int
    quantity: int
    due_date: str
    demand: dict
    record: dict
    sha256: str
    created_at: str | None = None

    @property
    def idempotency_key(self) -> str:
        """Sent with every attempt to every target: the id plus the content's digest."""
        return f"{self.id}.{self.sha256[:12]}"

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        del data["record"]
        return data


@attrs.frozen
class HandoffStatus:
    """A campaign's hand-offs and every delivery of them."""

    slug: str
    state: str
    handoffs: tuple[Handoff, ...]
    deliveries: tuple[Delivery, ...]

    def for_targets(self, targets: Iterable[str] | None) -> list[Delivery]:
        wanted = None if targets is None else set(targets)
        return [d for d in self.deliveries if wanted is None or d.target in wanted]

    def undelivered(self, targets: Iterable[str] | None = None) -> list[Delivery]:
        return [d for d in self.for_targets(targets) if d.state != DELIVERED]

    def to_dict(self) -> dict:
        return {
            "campaign": self.slug,
            "state": self.state,
            "handoffs": [
                h.to_dict()
                | {"deliveries": [d.to_dict() for d in self.deliveries if d.handoff_id == h.id]}
                for h in self.handoffs
            ],
        }
