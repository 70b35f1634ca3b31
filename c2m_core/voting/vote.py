"""The records of a vote: the vote itself, a cast ballot, a replaced ballot, an import report."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import attrs

from .result import VoteResult, int_tuple

OPEN = "open"
CLOSED = "closed"

ballot_text = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
"""The canonical text of a canonical ballot, as stored: compact JSON with sorted keys.

Equal ballots have equal text, so ballots collapse with ``GROUP BY ballot``. A method's
``normalise_text`` may build the same text faster; it must be exactly this."""


@attrs.frozen
class Vote:
    """One campaign's vote. ``candidates`` are variant ids in candidate (tie-break) order.

    ``running`` says whether the store keeps the vote's running tally (its method has an
    incremental form and the vote was opened by a c2m that keeps one): closing then reads the
    tally, and ``c2m vote audit`` checks it against a recount of the ballots.
    """

    id: int | None
    campaign_id: int
    method: str
    candidates: tuple[int, ...] = attrs.field(converter=int_tuple)
    winners: int = 1
    options: Mapping = attrs.field(factory=dict)
    opens_at: str = ""
    closes_at: str | None = None
    state: str = OPEN
    opened_at: str | None = None
    closed_at: str | None = None
    result: VoteResult | None = None
    running: bool = False

    def window_problem(self, now: str) -> str | None:
        """Why a ballot cast at ``now`` (UTC ISO text) is refused, or None when it is accepted."""
        if self.state != OPEN:
            return f"the vote closed at {self.closed_at}; ballots are no longer accepted"
        if now < self.opens_at:
            return f"the vote opens at {self.opens_at}; it is now {now}"
        if self.closes_at is not None and now >= self.closes_at:
            return (
                f"the voting window ended at {self.closes_at}; ballots are no longer accepted "
                "(close the vote to count it)"
            )
        return None

    def to_dict(self) -> dict:
        data = attrs.asdict(self, recurse=False)
        data["candidates"] = list(self.candidates)
        data["options"] = dict(self.options)
        data["result"] = self.result.to_dict() if self.result else None
        return data


@attrs.frozen
class CastBallot:
    """A stored ballot: ``replaced`` is the ballot it replaced (None for a voter's first)."""

    voter: str
    ballot: Mapping
    cast_at: str
    replaced: Mapping | None = None

    def to_dict(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class BallotCount:
    """How many voters currently hold one distinct ballot (what a tally reads)."""

    ballot: Mapping
    voters: int


@attrs.frozen
class ReplacedBallot:
    """An earlier ballot of a voter, kept when a later one replaced it."""

    voter: str
    ballot: Mapping
    cast_at: str
    replaced_at: str

    def to_dict(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class Rejected:
    """A row that was not imported: its line number (or position) and why."""

    line: int
    message: str
    voter: str | None = None

    def to_dict(self) -> dict:
        return attrs.asdict(self)


def _rejected_tuple(values: Iterable[Rejected]) -> tuple[Rejected, ...]:
    return tuple(values)


@attrs.frozen
class ImportReport:
    """What a bulk cast did. ``stopped`` says why it ended early (the vote closed)."""

    received: int
    imported: int
    replaced: int
    rejected: tuple[Rejected, ...] = attrs.field(converter=_rejected_tuple, default=())
    stopped: str | None = None

    def to_dict(self) -> dict:
        data = attrs.asdict(self, recurse=False)
        data["rejected"] = [r.to_dict() for r in self.rejected]
        return data


@attrs.frozen
class CounterAudit:
    """One counter of a running tally next to its recount from the ballots."""

    counter: str
    running: int
    recount: int

    @property
    def ok(self) -> bool:
        return self.running == self.recount

    def to_dict(self) -> dict:
        return attrs.asdict(self) | {"ok": self.ok}


@attrs.frozen
class TallyAudit:
    """A vote's running tally checked against a recount of its current ballots.

    ``running`` is False for a vote counted from its ballots (no counters to check).
    """

    campaign: str
    method: str
    running: bool
    counters: tuple[CounterAudit, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.counters)

    @property
    def differing(self) -> list[CounterAudit]:
        """The counters whose running value differs from the recount."""
        return [c for c in self.counters if not c.ok]

    def to_dict(self) -> dict:
        return {
            "campaign": self.campaign,
            "method": self.method,
            "running": self.running,
            "ok": self.ok,
            "counters": [c.to_dict() for c in self.counters],
        }
