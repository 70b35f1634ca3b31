"""Times on the command line: ISO 8601, or a duration from now (``3d``, ``12h``, ``90m``)."""

from __future__ import annotations

import datetime
import re

from ..errors import InvalidInput

DURATION = re.compile(r"^\+?(\d{1,6})([dhm])\Z")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}
MAX_DAYS = 3650


def when(text: str | None, now: datetime.datetime, field: str) -> str | datetime.datetime | None:
    """``3d`` -> ``now`` + 3 days (a datetime); anything else is passed on as given."""
    if text is None:
        return None
    match = DURATION.match(text.strip())
    if match is None:
        return text
    delta = datetime.timedelta(**{UNITS[match[2]]: int(match[1])})
    if delta > datetime.timedelta(days=MAX_DAYS):
        accepted = f"a duration up to {MAX_DAYS} days (3d, 12h, 90m) or an ISO 8601 time"
        raise InvalidInput(
            f"{field}: {text} is out of range; accepted: {accepted}",
            field=field,
            value=text,
            accepted=accepted,
        )
    return now + delta
