"""Reading the event log: what happened, in order, for shop backends to follow."""

from __future__ import annotations

from .store import Event


class EventService:
    """The append-only event log. Reached as ``app.events``.

    A shop backend keeps the ``id`` of the last event it handled and asks for what came after::

        for event in app.events.since(cursor):
            handle(event)
            cursor = event.id
    """

    def __init__(self, app):
        self.app = app

    def since(
        self, cursor: int = 0, limit: int = 1000, campaign: str | None = None, types=()
    ) -> list[Event]:
        """Events with an id greater than ``cursor``, oldest first, at most ``limit``.

        :param campaign: only this campaign's events (by slug)
        :param types: only these event types, e.g. ``("pledge.placed",)``
        """
        campaign_id = self.app.campaigns.get(campaign).id if campaign else None
        return self.app.store.events_since(cursor, limit, campaign_id, tuple(types))

    def last_id(self) -> int:
        """The id of the newest event (0 when there is none): a cursor for "from now on"."""
        return self.app.store.last_event_id()
