"""The Schulze method: ranked ballots (ties allowed), pairwise preferences, strongest paths.

``d[i][j]`` is the number of voters who prefer candidate ``i`` to candidate ``j``; ``p[i][j]``
is the strength of the strongest path from ``i`` to ``j`` (winning votes: a link ``i -> j``
exists when ``d[i][j] > d[j][i]`` and has strength ``d[i][j]``; a path is as strong as its
weakest link). ``i`` beats ``j`` when ``p[i][j] > p[j][i]``; this relation is transitive, so
the ranking takes, place by place, the remaining candidates no remaining candidate beats, and
when several qualify the earliest in candidate order (each such tie-break is stated).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import reduce
from itertools import accumulate, compress, islice
from operator import itemgetter, or_

from .ballots import rank_groups, ranking
from .methods import Ballots, IncrementalMethod, JudgedBallots, _stored, _with_careful
from .result import VoteResult, advancing_text, variants_text

_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
#: How many of a batch's rankings ``_repeated`` looks at to tell whether it repeats them.
REPEATS_SAMPLE = 1_000


class _Masks(dict):
    """A group of variant ids (a tuple) -> its bit mask in candidate order."""

    def __init__(self, candidates: Sequence[int]):
        super().__init__()
        self.bit = {c: 1 << i for i, c in enumerate(candidates)}

    def __missing__(self, group: tuple) -> int:
        mask = self[group] = sum(map(self.bit.__getitem__, group))
        return mask


def pairwise_preferences(ballots: Ballots, candidates: Sequence[int]) -> list[list[int]]:
    """The matrix ``d`` in candidate order from ``(ballot, count)`` pairs.

    Each ballot is reduced to (group, everything ranked below it) pairs of bit masks,
    counted by ``Counter`` (in C); a batch has few distinct pairs, and each adds its count to
    ``d`` once.
    """
    n = len(candidates)
    mask_of = _Masks(candidates)
    links: Counter = Counter()
    single: list[tuple[int, int]] = []  # the links of ballots counted once, counted at the end
    for ballot, count in ballots:
        masks = list(map(mask_of.__getitem__, map(tuple, ballot["rank"])))
        masks.reverse()
        below = accumulate(masks, or_)
        if count == 1:
            single.extend(zip(islice(masks, 1, None), below, strict=False))
        else:
            for link in zip(islice(masks, 1, None), below, strict=False):
                links[link] += count
    links.update(single)
    return preferences_from_links(links, n)


def preferences_from_links(links: Counter, n: int) -> list[list[int]]:
    """The matrix ``d`` from counted (group, everything ranked below it) pairs of bit masks."""
    bits = _bits()
    per_member: list[Counter] = [Counter() for _ in range(n)]
    for (group, below), count in links.items():
        if count:
            for i in bits[group]:
                per_member[i][below] += count
    return _rows(per_member, bits, n)


def _rows(per_member: list[Counter], bits: _Bits, n: int) -> list[list[int]]:
    """``d`` from each candidate's counted masks of the candidates ranked below it."""
    d = [[0] * n for _ in range(n)]
    for i, counts in enumerate(per_member):
        row = d[i]
        for below, count in counts.items():
            for j in bits[below]:
                row[j] += count
    return d


class _Bits(dict):
    """A bit mask -> the positions of its set bits."""

    def __missing__(self, mask: int) -> tuple[int, ...]:
        found = self[mask] = tuple(i for i in range(mask.bit_length()) if mask >> i & 1)
        return found


_BITS = _Bits()


def _bits() -> _Bits:
    """The positions of masks' bits, remembered across batches (up to 65,536 masks)."""
    if len(_BITS) > 1 << 16:
        _BITS.clear()
    return _BITS


def strongest_paths(d: Sequence[Sequence[int]]) -> list[list[int]]:
    """The matrix ``p`` of strongest path strengths (Floyd-Warshall, widest paths)."""
    n = len(d)
    p = [[d[i][j] if i != j and d[i][j] > d[j][i] else 0 for j in range(n)] for i in range(n)]
    for i in range(n):
        for j in range(n):
            if j == i:
                continue
            p_ji = p[j][i]
            row = p[j]
            for k in range(n):
                if k != i and k != j:
                    via = min(p_ji, p[i][k])
                    if via > row[k]:
                        row[k] = via
    return p


def schulze_ranking(
    candidates: Sequence[int], p: Sequence[Sequence[int]], winners: int
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Every candidate in Schulze order, ties by candidate order; returns (ranking, ties)."""
    n = len(candidates)
    beaten_by = [sum(1 for j in range(n) if p[j][i] > p[i][j]) for i in range(n)]
    remaining = list(range(n))
    order: list[int] = []
    ties: list[tuple[int, list[int]]] = []
    while remaining:
        unbeaten = [i for i in remaining if beaten_by[i] == 0]
        if len(unbeaten) > 1:
            ties.append((len(order) + 1, unbeaten))
        chosen = unbeaten[0]
        order.append(chosen)
        remaining.remove(chosen)
        for i in remaining:
            if p[chosen][i] > p[i][chosen]:
                beaten_by[i] -= 1
    ranking = tuple(candidates[i] for i in order)
    won = ranking[:winners]
    statements = []
    for place, tied in ties:
        ids = [candidates[i] for i in tied]
        if len(tied) == 2:
            a, b = tied
            why = (
                f"neither beats the other by strongest paths "
                f"(p[{candidates[a]}][{candidates[b]}] = {p[a][b]}, "
                f"p[{candidates[b]}][{candidates[a]}] = {p[b][a]})"
            )
        else:
            why = "no one of them beats another by strongest paths"
        statements.append(
            f"{variants_text(ids)} were tied for place {place}: {why}; variant {ids[0]} takes "
            f"place {place} because it comes earlier in candidate order; "
            f"{advancing_text(ids, won)}"
        )
    return ranking, tuple(statements)


def _repeated(values: list) -> Counter | None:
    """``Counter(values)`` when a batch repeats its rankings (half or more of its first
    ``REPEATS_SAMPLE`` are repeats), so each distinct one is read once; else None (each
    read as it comes)."""
    head = values[:REPEATS_SAMPLE]
    try:
        if len(set(head)) * 2 > len(head):
            return None
        return Counter(values)
    except TypeError:  # a JSON list
        return None


def _named(d: list[list[int]], candidates: Sequence[int], total: int) -> dict[str, int]:
    """The counters of a pairwise matrix and a number of ballots, zeros left out."""
    found = {
        f"d/{a}/{b}": d[i][j]
        for i, a in enumerate(candidates)
        for j, b in enumerate(candidates)
        if d[i][j]
    }
    if total:
        found["ballots"] = total
    return found


class Schulze(IncrementalMethod):
    """Ranked ballots with ties; the Schulze (beatpath) winner, a full ranking for N winners.

    Its running tally is the pairwise matrix ``d``: counter ``d/{a}/{b}`` is the number of
    voters preferring variant ``a`` to variant ``b``.
    """

    name = "schulze"
    title = "rank variants, ties allowed (--rank 3>1=2>4); Schulze beatpath winner"
    fields = ("rank",)

    def normalise(self, ballot, candidates, options):
        value = self.require(ballot, "rank", "a ranking such as 3>1=2>4")
        return {"rank": ranking("rank", value, candidates)}

    def normaliser(self, candidates, options):
        groups = rank_groups(tuple(candidates))
        group, rest, full = groups.__getitem__, groups.rest.__getitem__, groups.full
        careful = super().normaliser(candidates, options)

        def normalise(ballot):
            # The common case, quickly: ranking text of known ids, each once, no spaces;
            # anything else goes to ``normalise``, which names what is wrong.
            value = ballot.get("rank")
            if type(value) is not str or len(ballot) != 1:
                return careful(ballot)
            entries = list(map(group, value.split(">")))
            if None in entries:
                return careful(ballot)
            masks = list(map(_FIRST, entries))
            listed = reduce(or_, masks)
            if sum(masks) != listed:  # a variant in two places
                return careful(ballot)
            if listed != full:
                entries.append(rest(listed))
            return (
                {"rank": list(map(_SECOND, entries))},
                '{"rank":[' + ",".join(map(_THIRD, entries)) + "]}",
            )

        return normalise

    def batch_normaliser(self, candidates, options):
        # numpy is loaded by an import, not by every command that lists the methods
        from .rankings import MAX_CANDIDATES, Rankings

        careful = super().batch_normaliser(candidates, options)
        candidates = tuple(candidates)
        if len(candidates) > MAX_CANDIDATES:
            return careful
        reader = Rankings(candidates)

        def judge(values):
            # The whole batch's ranking texts (each distinct one once, when the batch repeats
            # them) are read at once as arrays (``rankings``); the texts that reading does
            # not take go to ``careful``, which names what is wrong with each.
            given = list(map(_FIRST, values))
            counts = _repeated(given)
            if counts is None:
                read = reader.read(given)
                texts: list[str | None]
                if read.ballots == len(given):
                    texts = list(read.texts)
                else:
                    stored = iter(read.texts)
                    texts = [next(stored) if t else None for t in read.taken.tolist()]
            else:
                read = reader.read(list(counts), list(counts.values()))
                text_of = dict(zip(compress(counts, read.taken.tolist()), read.texts, strict=True))
                texts = list(map(text_of.get, given))
            counters = _named(read.d, candidates, read.ballots)
            if read.ballots == len(given):
                return JudgedBallots(texts, [], counters, _stored(texts))
            slow = [i for i, text in enumerate(texts) if text is None]
            fast = [i for i, text in enumerate(texts) if text is not None]
            texts = list(map(texts.__getitem__, fast))
            return _with_careful(values, fast, texts, slow, careful, counters)

        return judge

    def counters(self, ballots, candidates, options):
        total = 0

        def counted():
            nonlocal total
            for ballot, count in ballots:
                total += count
                yield ballot, count

        d = pairwise_preferences(counted(), candidates)
        return _named(d, candidates, total)

    def tally_counters(self, counters, candidates, winners, options):
        d = [[counters.get(f"d/{a}/{b}", 0) for b in candidates] for a in candidates]
        p = strongest_paths(d)
        n = len(candidates)
        ranking_, ties = schulze_ranking(candidates, p, winners)
        return VoteResult(
            method=self.name,
            candidates=candidates,
            ballots=counters.get("ballots", 0),
            totals=[
                {
                    "variant": c,
                    "wins": sum(1 for j in range(n) if j != i and p[i][j] > p[j][i]),
                }
                for i, c in enumerate(candidates)
            ],
            ranking=ranking_,
            winners=ranking_[:winners],
            tie_breaks=ties,
            details={"d": d, "p": p},
        )
