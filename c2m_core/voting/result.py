"""The result of a count: totals, the full ranking, the winners, and every tie-break in words.

Ties are always broken by candidate order: the variant that comes earlier (lower position in
the campaign) is placed first. Nothing is random, so a count is reproducible from its ballots.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

TIE_RULE = "ties are broken by candidate order: the earlier variant is placed first"


def int_tuple(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(values)


def str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def mapping_tuple(values: Iterable[Mapping]) -> tuple[Mapping, ...]:
    return tuple(values)


@attrs.frozen
class VoteResult:
    """A count of one vote.

    ``totals`` has one mapping per candidate, in candidate order, with the key ``variant`` and
    the method's integer figures (``votes``, ``approvals``, ``points``...). ``ranking`` orders
    every candidate, ``winners`` are its first places, ``tie_breaks`` states each tie-break
    applied, and ``details`` holds method-specific data (Schulze: the ``d`` and ``p`` matrices).
    """

    method: str
    candidates: tuple[int, ...] = attrs.field(converter=int_tuple)
    ballots: int
    totals: tuple[Mapping, ...] = attrs.field(converter=mapping_tuple)
    ranking: tuple[int, ...] = attrs.field(converter=int_tuple)
    winners: tuple[int, ...] = attrs.field(converter=int_tuple)
    tie_breaks: tuple[str, ...] = attrs.field(converter=str_tuple, default=())
    details: Mapping = attrs.field(factory=dict)

    def total(self, variant: int) -> Mapping:
        """The totals of one candidate."""
        return self.totals[self.candidates.index(variant)]

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "candidates": list(self.candidates),
            "ballots": self.ballots,
            "totals": [dict(t) for t in self.totals],
            "ranking": list(self.ranking),
            "winners": list(self.winners),
            "tie_breaks": list(self.tie_breaks),
            "tie_rule": TIE_RULE,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> VoteResult:
        return cls(
            method=data["method"],
            candidates=data["candidates"],
            ballots=data["ballots"],
            totals=data["totals"],
            ranking=data["ranking"],
            winners=data["winners"],
            tie_breaks=data["tie_breaks"],
            details=data.get("details", {}),
        )


def variants_text(ids: Sequence[int]) -> str:
    """``[2]`` -> ``variant 2``; ``[2, 3, 5]`` -> ``variants 2, 3 and 5``."""
    names = [str(i) for i in ids]
    if len(names) == 1:
        return f"variant {names[0]}"
    return f"variants {', '.join(names[:-1])} and {names[-1]}"


def advancing_text(group: Sequence[int], winners: Sequence[int]) -> str:
    """Which members of a tied group advance, in words."""
    won = set(winners)
    yes = [c for c in group if c in won]
    no = [c for c in group if c not in won]
    if not no:
        return "both advance" if len(group) == 2 else "all of them advance"
    if not yes:
        return "neither advances" if len(group) == 2 else "none of them advances"
    verb = "advances" if len(yes) == 1 else "advance"
    other = "does not" if len(no) == 1 else "do not"
    return f"{variants_text(yes)} {verb}, {variants_text(no)} {other}"


def rank_by_totals(
    candidates: Sequence[int], values: Mapping[int, int], winners: int, unit: str
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[str, ...]]:
    """Order candidates by ``values`` (highest first); ties by candidate order, each stated.

    Returns ``(ranking, winners, tie_breaks)``; ``unit`` names the figure in the plural
    (``votes``).
    """
    position = {c: i for i, c in enumerate(candidates)}
    ranking = tuple(sorted(candidates, key=lambda c: (-values[c], position[c])))
    won = ranking[:winners]
    statements = []
    start = 0
    while start < len(ranking):
        end = start
        while end + 1 < len(ranking) and values[ranking[end + 1]] == values[ranking[start]]:
            end += 1
        if end > start:
            group = ranking[start : end + 1]
            value = values[group[0]]
            amount = f"{value} {unit.removesuffix('s') if value == 1 else unit}"
            statements.append(
                f"{variants_text(group)} tied with {amount} each for places "
                f"{start + 1} to {end + 1}; they are placed in candidate order "
                f"({', '.join(map(str, group))}), earlier variant first; "
                f"{advancing_text(group, won)}"
            )
        start = end + 1
    return ranking, won, tuple(statements)
