"""The event log: every event type c2m writes (a registry), and reading the log in order.

Every state change a shop acts on is appended to the log in the same transaction as the change.
``EVENT_TYPES`` lists them all with their payload fields; ``docs/events.md`` is generated from
it (``python -m c2m_core.events > docs/events.md``) and a test keeps the two equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from .errors import InvalidInput

if TYPE_CHECKING:
    from .store import Event

PLEDGE = ("campaign", "variant_id", "customer", "key", "pledge_id")
"""What every pledge, payment and refund event carries: enough to act without a lookup."""


@attrs.frozen
class EventType:
    """One kind of event: its name, when it is written, and the fields of its payload."""

    name: str
    description: str
    fields: tuple[str, ...]
    stage: str

    def to_dict(self) -> dict:
        return attrs.asdict(self)


def _types(*entries: tuple[str, str, str, tuple[str, ...]]) -> dict[str, EventType]:
    return {name: EventType(name, text, fields, stage) for stage, name, text, fields in entries}


EVENT_TYPES: dict[str, EventType] = _types(
    ("campaigns", "campaign.created", "A campaign was created (in its draft state).",
     ("id", "slug", "category", "title", "currency", "stages", "settings", "state")),
    ("campaigns", "campaign.configured", "Campaign settings changed.", ("settings",)),
    ("campaigns", "campaign.advanced", "The campaign moved to its next state.",
     ("campaign", "from", "to")),
    ("variants", "variant.added", "A variant was added (by hand or by aggregation).",
     ("id", "key", "name", "configuration", "source", "covered_quantity", "position")),
    ("variants", "variant.removed", "A variant was replaced by a new aggregation.",
     ("id", "key", "reason")),
    ("wishes", "wish.submitted",
     "A wish was stored (one event per wish, also in imports; the wish itself: "
     "`app.wishes.get(slug, wish_id)`).",
     ("wish_id", "customer", "external_id")),
    ("wishes", "wishes.aggregated", "Aggregation chose the campaign's variants.",
     ("max_variants", "moq", "variants", "covered_quantity", "total_quantity")),
    ("voting", "vote.opened",
     "A vote opened on candidate variants (`candidates`: variant ids; `running`: a running "
     "tally is kept).",
     ("campaign", "vote_id", "method", "candidates", "winners", "opens_at", "closes_at",
      "options", "running")),
    ("voting", "ballot.cast",
     "A voter's ballot was stored (one event per ballot cast alone; the ballot names variant ids).",
     ("campaign", "vote_id", "voter", "ballot", "replaced")),
    ("voting", "ballot.replaced", "A ballot replaced the voter's earlier one (kept in history).",
     ("campaign", "vote_id", "voter", "ballot", "old")),
    ("voting", "ballots.imported",
     "A batch of ballots cast in bulk was stored; `voters` lists every voter in it.",
     ("campaign", "vote_id", "voters", "replaced_voters", "first_line", "last_line", "ballots",
      "replaced")),
    ("voting", "vote.closed", "The vote closed and was counted (`winners`: variant ids).",
     ("campaign", "vote_id", "method", "ballots", "winners", "ranking", "totals", "tie_breaks")),
    ("presale", "presale.opened", "The pre-sale opened.",
     ("deadline", "deposit", "cancellation", "provider", "waitlist", "offers")),
    ("presale", "pledge.placed", "A pledge was placed; its deposit is being captured.",
     (*PLEDGE, "quantity", "region", "currency", "unit_price", "deposit", "balance", "total")),
    ("presale", "pledge.waitlisted", "A pledge beyond capacity waits for units to free up.",
     (*PLEDGE, "quantity", "region", "currency", "unit_price", "deposit", "balance", "total")),
    ("presale", "pledge.promoted", "A waitlisted pledge got units; its deposit is captured.",
     PLEDGE),
    ("presale", "pledge.committed", "A pledge's deposit was captured.", PLEDGE),
    ("presale", "pledge.cancelled",
     "A pledge was cancelled: by the customer, or at close (variant_failed, presale_closed).",
     (*PLEDGE, "reason", "fee")),
    ("presale", "pledge.balance_due", "The pledge's variant tipped: the balance is due.",
     (*PLEDGE, "balance")),
    ("presale", "pledge.paid", "The pledge is paid in full (balance captured, or none due).",
     PLEDGE),
    ("presale", "pledge.refunded", "Every refund of a cancelled pledge succeeded.",
     (*PLEDGE, "amount")),
    ("presale", "payment.succeeded", "The provider captured a deposit or balance.",
     (*PLEDGE, "payment_id", "kind", "amount", "reference")),
    ("presale", "payment.failed", "The provider refused a deposit or balance (retry completes).",
     (*PLEDGE, "payment_id", "kind", "error")),
    ("presale", "refund.succeeded", "The provider refunded money.",
     (*PLEDGE, "refund_id", "amount")),
    ("presale", "refund.failed", "The provider refused a refund (retry completes it).",
     (*PLEDGE, "refund_id", "error")),
    ("presale", "variant.tipped", "At close: the variant reached its threshold.",
     ("campaign", "variant_id", "units", "threshold")),
    ("personalisation", "upload.stored",
     "A customer's file was checked by its content and stored by its sha256 (once per sha256).",
     ("campaign", "field", "sha256", "media_type", "size", "width", "height", "file")),
    ("presale", "variant.failed", "At close: the variant missed its threshold; refunds follow.",
     ("campaign", "variant_id", "units", "threshold")),
    ("presale", "presale.closed", "The pre-sale closed.", ("campaign", "tipped", "failed")),
    ("handoff", "handoff.created", "A production order was recorded for a tipped variant.",
     ("handoff_id", "variant_id", "quantity", "due_date", "sha256")),
    ("handoff", "handoff.queued", "A delivery to a target was queued.", ("handoff_id", "target")),
    ("handoff", "handoff.delivered",
     "A target confirmed a delivery (`key`: the idempotency key sent with it).",
     ("campaign", "variant_id", "quantity", "key", "handoff_id", "target", "attempts",
      "receipt")),
    ("handoff", "handoff.attempt_failed", "A delivery attempt failed; it is retried later.",
     ("handoff_id", "target", "attempts", "error", "retry_in")),
    ("handoff", "handoff.dead_lettered", "A delivery gave up after its last attempt.",
     ("handoff_id", "target", "attempts", "error")),
    ("handoff", "handoff.endpoint_disabled", "A target answered 410 Gone and was disabled.",
     ("handoff_id", "target", "attempts", "error")),
    ("handoff", "handoff.retried", "Dead or disabled deliveries were revived.", ("deliveries",)),
    ("loop", "feedback.received", "Feedback from a customer was stored and routed.",
     ("id", "customer", "variant_id", "rating", "text", "department", "rule")),
    ("loop", "reward.rule_set", "The campaign's designer reward rule was set.",
     ("kind", "amount", "basis_points", "currency", "referral_per_unit", "referral_limit")),
    ("loop", "reward.recorded", "A reward became due.",
     ("id", "kind", "recipient", "amount", "currency", "variant_id", "pledge_id", "key")),
    ("loop", "reward.paid", "A reward was paid.", ("reward_id", "reference")),
    ("loop", "reward.failed", "A reward payment failed (retry completes it).",
     ("reward_id", "error")),
    ("loop", "share.code", "A customer's share code was made.", ("customer", "variant_id")),
    ("loop", "share.visited", "A share link was visited.", ("code",)),
    ("loop", "referral.attributed", "A pledge was attributed to a referrer.",
     ("pledge_id", "referrer")),
    ("server", "token.created", "An API token was created.", ("id", "name")),
    ("server", "token.revoked", "An API token was revoked.", ("id",)),
    ("server", "webhook.subscribed", "A webhook endpoint was subscribed.", ("id", "url")),
)  # fmt: skip


def check_types(types) -> tuple[str, ...]:
    """``types`` as a tuple; ``InvalidInput`` naming the known types for one that is unknown."""
    types = (types,) if isinstance(types, str) else tuple(types)
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        known = ", ".join(EVENT_TYPES)
        raise InvalidInput(
            f"types: unknown event type {unknown[0]!r}; known types: {known}",
            field="types",
            value=unknown[0],
            accepted=known,
        )
    return types


def markdown() -> str:
    """The table of ``docs/events.md``, generated from ``EVENT_TYPES``."""
    lines = [
        "# Events",
        "",
        "Every state change a shop acts on is appended to the event log in the same transaction",
        "as the change; `app.events.since(cursor, types=...)` reads it in commit order (an",
        "unknown type is an error naming the known ones). Pledge, payment and refund events",
        f"carry {', '.join(f'`{f}`' for f in PLEDGE)} so that a shop can act without a lookup.",
        "",
        "Generated from `c2m_core/events.py` (`python -m c2m_core.events > docs/events.md`).",
        "",
        "| stage | type | when | payload fields |",
        "|---|---|---|---|",
    ]
    for event in EVENT_TYPES.values():
        fields = ", ".join(f"`{f}`" for f in event.fields)
        lines.append(f"| {event.stage} | `{event.name}` | {event.description} | {fields} |")
    return "\n".join(lines) + "\n"


class EventService:
    """The append-only event log. Reached as ``app.events``.

    A shop backend keeps the ``id`` of the last event it handled and asks for what came after::

        for event in app.events.since(cursor):
            handle(event)
            cursor = event.id
    """

    types = EVENT_TYPES

    def __init__(self, app):
        self.app = app

    def since(
        self, cursor: int = 0, limit: int = 1000, campaign: str | None = None, types=()
    ) -> list[Event]:
        """Events with an id greater than ``cursor``, oldest first, at most ``limit``.

        :param campaign: only this campaign's events (by slug)
        :param types: only these event types, e.g. ``("pledge.placed",)``; a type not in
            ``EVENT_TYPES`` raises ``InvalidInput`` naming the known types
        """
        types = check_types(types)
        campaign_id = self.app.campaigns.get(campaign).id if campaign else None
        return self.app.store.events_since(cursor, limit, campaign_id, types)

    def last_id(self) -> int:
        """The id of the newest event (0 when there is none): a cursor for "from now on"."""
        return self.app.store.last_event_id()


if __name__ == "__main__":
    print(markdown(), end="")
