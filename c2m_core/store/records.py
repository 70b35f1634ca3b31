"""The store's own records: an event of the log. Stage records live with their stages."""

from __future__ import annotations

import attrs


@attrs.frozen
class Event:
    """One recorded state change. ``id`` is the cursor for ``events.since``."""

    id: int
    type: str
    campaign_id: int | None
    payload: dict
    created_at: str

    def to_dict(self) -> dict:
        return attrs.asdict(self)
