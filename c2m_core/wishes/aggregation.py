"""Aggregation: choose at most K complete variants that cover the most wished quantity.

Pure: no store, no plugins. The input is demand (identical wishes collapsed into one
``Demand`` with their total quantity) and candidate variants (complete, valid configurations).
A variant covers a demand when it agrees with every option the demand chose. Each demand counts
toward one chosen variant only: the first one, in the order chosen, that covers it.

Weighted maximum coverage is submodular, so lazy greedy reaches at least (1 - 1/e) of the
optimum over the candidates. With a minimum batch (MOQ) a candidate is only taken while its
marginal quantity reaches the MOQ; a swap pass then replaces a chosen variant by a candidate
whenever that covers more, and greedy fills any slot freed up. Everything is deterministic: ties
go to the candidate given first (the same configuration given twice counts once).

Coverage is computed on bitsets over the demands (Python integers): a candidate's cover is the
AND over modules of "chose this option or left the module open", and a weight is a sum of
popcounts over the bit layers of the quantities, so no Python loop runs over wishes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from ..catalog import choice_ids

MAX_SWAPS = 100


@attrs.frozen
class Demand:
    """Identical wishes collapsed: a partial configuration and its total quantity."""

    configuration: Mapping[str, str]
    quantity: int
    wishes: int = 1


@attrs.frozen
class Chosen:
    """A chosen variant with the quantity assigned to it and the demands (indices) it took."""

    configuration: Mapping[str, str]
    covered: int
    demands: tuple[int, ...]


@attrs.frozen
class Selection:
    """The result: chosen variants in order, covered and total quantity, uncovered demands."""

    chosen: tuple[Chosen, ...]
    covered: int
    total: int
    uncovered: tuple[int, ...]
    candidates: int

    @property
    def share(self) -> float:
        return self.covered / self.total if self.total else 0.0


def mask_of(indices: Iterable[int], size: int) -> int:
    """A bitset (Python integer) of ``size`` bits with ``indices`` set."""
    bits = bytearray((size + 7) // 8)
    for index in indices:
        bits[index >> 3] |= 1 << (index & 7)
    return int.from_bytes(bits, "little")


def bits(mask: int) -> Iterable[int]:
    """The indices of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Coverage:
    """Which demands a configuration covers, as bitsets over the demands, and their weight."""

    def __init__(self, demands: Sequence[Demand], modules: Sequence[str]):
        for demand in demands:
            if isinstance(demand.quantity, bool) or not isinstance(demand.quantity, int):
                raise ValueError(f"demand quantity must be an integer, got {demand.quantity!r}")
            if demand.quantity < 1:
                raise ValueError(f"demand quantity must be >= 1, got {demand.quantity}")
        extra = sorted({m for d in demands for m in d.configuration} - set(modules))
        self.modules = tuple(modules) + tuple(extra)
        self.size = len(demands)
        self.all = (1 << self.size) - 1
        self.total = sum(d.quantity for d in demands)
        free: dict[str, list[int]] = {m: [] for m in self.modules}
        chose: dict[tuple[str, str], list[int]] = {}
        for index, demand in enumerate(demands):
            for module in self.modules:
                option = demand.configuration.get(module)
                if option is None:
                    free[module].append(index)
                else:
                    chose.setdefault((module, option), []).append(index)
        self.free = {m: mask_of(indices, self.size) for m, indices in free.items()}
        self.chose = {key: mask_of(indices, self.size) for key, indices in chose.items()}
        top = max((d.quantity for d in demands), default=0).bit_length()
        self.layers = [
            mask_of((i for i, d in enumerate(demands) if d.quantity >> b & 1), self.size)
            for b in range(top)
        ]
        self._weights: dict[tuple, tuple[int, int]] = {}

    def weight(self, mask: int) -> int:
        """The total quantity of the demands in ``mask``."""
        return sum((mask & layer).bit_count() << b for b, layer in enumerate(self.layers))

    def cover(self, configuration: Mapping[str, str]) -> int:
        """The demands that ``configuration`` covers (agrees with every option they chose)."""
        mask = self.all
        for module in self.modules:
            option = configuration.get(module)
            opened = self.free[module]
            if option is not None:
                opened |= self.chose.get((module, option), 0)
            mask &= opened
            if not mask:
                break
        return mask

    def key(self, configuration: Mapping[str, str]) -> tuple:
        # a multi-select module's tuple of options as text, so keys of both kinds compare
        return tuple(",".join(choice_ids(configuration.get(module))) for module in self.modules)

    def covered_quantity(self, configuration: Mapping[str, str]) -> int:
        """The quantity ``configuration`` covers on its own (memoized)."""
        key = self.key(configuration)
        if key not in self._weights:
            mask = self.cover(configuration)
            self._weights[key] = (mask, self.weight(mask))
        return self._weights[key][1]


def popular_completions(
    coverage: Coverage,
    partial: Mapping[str, str],
    completions: Callable[[Mapping[str, str], int], Iterable[Mapping[str, str]]],
    keep: int,
    limit: int,
) -> list[dict[str, str]]:
    """The ``keep`` completions of ``partial`` (from the first ``limit`` valid ones) that cover
    the most demand on their own; ties go to the earlier in module order."""
    found = [dict(c) for c in completions(partial, limit)]
    found.sort(key=lambda c: (-coverage.covered_quantity(c), coverage.key(c)))
    return found[:keep]


def choose_variants(
    demands: Sequence[Demand],
    candidates: Iterable[Mapping[str, str]],
    modules: Sequence[str],
    max_variants: int,
    moq: int = 1,
    coverage: Coverage | None = None,
) -> Selection:
    """Choose at most ``max_variants`` candidates covering the most quantity, each >= ``moq``.

    :param demands: collapsed wishes (valid ones only)
    :param candidates: complete, valid configurations to choose from (duplicates are merged)
    :param modules: the catalog's module ids
    :param max_variants: K, the most variants to choose (>= 1)
    :param moq: the minimum quantity each chosen variant must be assigned (>= 1)
    :param coverage: a ``Coverage`` of ``demands`` already built (optional)
    """
    if max_variants < 1:
        raise ValueError(f"max_variants must be >= 1, got {max_variants}")
    if moq < 1:
        raise ValueError(f"moq must be >= 1, got {moq}")
    cov = coverage or Coverage(demands, modules)
    unique: dict[tuple, dict] = {}
    for candidate in candidates:
        unique.setdefault(cov.key(candidate), dict(candidate))
    configs = list(unique.values())
    covers = [cov.cover(c) for c in configs]
    upper = [cov.weight(mask) for mask in covers]
    eligible = [i for i in range(len(configs)) if upper[i] >= moq]
    by_upper = sorted(eligible, key=lambda i: (-upper[i], i))

    chosen = _greedy(cov, covers, upper, eligible, [], max_variants, moq)
    for _ in range(MAX_SWAPS):
        if not _swap(cov, covers, upper, by_upper, chosen, moq):
            break
        chosen = _greedy(cov, covers, upper, eligible, chosen, max_variants, moq)

    result, union = [], 0
    for i in chosen:
        share = covers[i] & ~union
        union |= covers[i]
        result.append(Chosen(configs[i], cov.weight(share), tuple(bits(share))))
    return Selection(
        chosen=tuple(result),
        covered=cov.weight(union),
        total=cov.total,
        uncovered=tuple(bits(cov.all & ~union)),
        candidates=len(configs),
    )


def _greedy(cov, covers, upper, eligible, chosen, k, moq) -> list[int]:
    """Lazy greedy: add the candidate with the largest marginal quantity while it reaches moq."""
    chosen = list(chosen)
    taken = set(chosen)
    covered = 0
    for i in chosen:
        covered |= covers[i]
    heap = [(-upper[i], i, -1) for i in eligible if i not in taken]
    heapq.heapify(heap)
    round_ = 0
    while len(chosen) < k and heap:
        _, i, seen = heapq.heappop(heap)
        if seen == round_:
            chosen.append(i)
            covered |= covers[i]
            round_ += 1
            continue
        gain = cov.weight(covers[i] & ~covered)
        if gain >= moq:
            heapq.heappush(heap, (-gain, i, round_))
    return chosen


def _swap(cov, covers, upper, by_upper, chosen, moq) -> bool:
    """Apply the best swap of one chosen variant for a candidate that covers more; False if none.

    The new candidate goes last: the variants before the removed one keep their share, the ones
    after it can only gain, and the newcomer must reach ``moq`` on what is left.
    """
    if not chosen:
        return False
    taken = set(chosen)
    union = 0
    for i in chosen:
        union |= covers[i]
    value = best_value = cov.weight(union)
    best = None
    for position in range(len(chosen)):
        rest = 0
        for j, i in enumerate(chosen):
            if j != position:
                rest |= covers[i]
        rest_value = cov.weight(rest)
        for c in by_upper:
            if rest_value + upper[c] <= best_value:
                break
            if c in taken:
                continue
            gain = cov.weight(covers[c] & ~rest)
            if gain >= moq and rest_value + gain > best_value:
                best_value, best = rest_value + gain, (position, c)
    if best is None or best_value <= value:
        return False
    position, c = best
    chosen[:] = chosen[:position] + chosen[position + 1 :] + [c]
    return True
