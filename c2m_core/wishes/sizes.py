"""Special sizes into standard ones: choose a few production sizes for a numeric module.

Pure: no store, no plugins. Each ``SizeDemand`` is a wished value with its quantity and the
interval of sizes it accepts (from the catalog's ``accept`` and ``tolerance``, see
``NumberRange.accepted``). Given candidate sizes, at most ``max_sizes`` of them and a minimum
batch per size, ``choose_sizes`` returns the plan that is best by, in order:

1. the most wished quantity assigned to some size,
2. the least total deviation (quantity times the distance from the wished value),
3. the fewest sizes,

where every wish goes to the chosen size nearest its wished value among those it accepts (on a
tie the smaller size), or to none when it accepts none, and every chosen size must receive at
least ``min_batch``. The plan is optimal for this objective, not approximately: it is found by
dynamic programming over the sizes in increasing order (one-dimensional facility location).

Why that works: with the chosen sizes in order, a wish's size depends only on the chosen sizes
next to its value on either side (nearest below and nearest above), so the quantity and
deviation of the wishes between two consecutive chosen sizes depend only on those two, and the
batch of a size is what it gets from the gap below plus the gap above. The state is the last
two chosen sizes and how many are chosen; it takes O(K * C^3) steps for C candidate sizes and
K sizes at most (C <= 1,000 by the catalog format), after O(C^2 + C * D) to sum the gaps over
D distinct wished (value, interval) pairs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence

import attrs

from ..catalog import Catalog, Excludes, Limit, Ref, Requires, Rule


@attrs.frozen
class SizeDemand:
    """A wished value, its quantity, and the sizes it accepts: ``low``..``high`` (None: open)."""

    value: int
    quantity: int
    low: int | None = None
    high: int | None = None

    def accepts(self, size: int) -> bool:
        """True when ``size`` lies within the wish's accepted interval."""
        return (self.low is None or size >= self.low) and (self.high is None or size <= self.high)


@attrs.frozen
class SizePlan:
    """Chosen production sizes (increasing) with their batches, and each demand's size.

    ``assigned[i]`` is the size demand ``i`` goes to, or None when it accepts no chosen size.
    ``covered`` is the quantity assigned, ``total`` all wished quantity, ``deviation`` the sum of
    quantity times distance from the wished value.
    """

    sizes: tuple[int, ...]
    batches: tuple[int, ...]
    assigned: tuple[int | None, ...]
    covered: int
    total: int
    deviation: int

    @property
    def objective(self) -> tuple[int, int, int]:
        """What the plan maximises, in order: covered, minus deviation, minus the sizes used."""
        return (self.covered, -self.deviation, -len(self.sizes))


def nearest(demand: SizeDemand, sizes: Sequence[int]) -> int | None:
    """The size among ``sizes`` the demand goes to: the nearest it accepts, the smaller on a
    tie, or None when it accepts none."""
    best = None
    for size in sizes:
        if demand.accepts(size) and (
            best is None or abs(size - demand.value) < abs(best - demand.value)
        ):
            best = size
    return best


def evaluate(demands: Sequence[SizeDemand], sizes: Iterable[int]) -> SizePlan:
    """The plan of exactly ``sizes`` (batch sizes are not checked here)."""
    chosen = tuple(sorted(set(sizes)))
    by_key: dict[tuple[int, int | None, int | None], int | None] = {}
    batches = dict.fromkeys(chosen, 0)
    assigned: list[int | None] = []
    deviation = total = 0
    for demand in demands:
        key = (demand.value, demand.low, demand.high)
        if key in by_key:
            size = by_key[key]
        else:
            size = by_key[key] = nearest(demand, chosen)
        assigned.append(size)
        total += demand.quantity
        if size is not None:
            batches[size] += demand.quantity
            deviation += demand.quantity * abs(size - demand.value)
    return SizePlan(
        sizes=chosen,
        batches=tuple(batches[s] for s in chosen),
        assigned=tuple(assigned),
        covered=sum(batches.values()),
        total=total,
        deviation=deviation,
    )


def choose_sizes(
    demands: Sequence[SizeDemand], candidates: Iterable[int], max_sizes: int, min_batch: int = 1
) -> SizePlan:
    """The optimal plan: at most ``max_sizes`` of ``candidates``, each with >= ``min_batch``.

    See the module's docstring for the objective. With no feasible size the plan is empty.
    """
    if max_sizes < 1:
        raise ValueError(f"max_sizes must be >= 1, got {max_sizes}")
    if min_batch < 1:
        raise ValueError(f"min_batch must be >= 1, got {min_batch}")
    grouped: dict[tuple[int, int | None, int | None], int] = {}
    for demand in demands:
        key = (demand.value, demand.low, demand.high)
        grouped[key] = grouped.get(key, 0) + demand.quantity
    points = [
        SizeDemand(v, q, lo, hi)
        for (v, lo, hi), q in sorted(grouped.items(), key=lambda item: item[0][0])
    ]
    values = [point.value for point in points]
    sizes = sorted({c for c in candidates if any(point.accepts(c) for point in points)})
    n = len(sizes)

    def split(below: int | None, above: int | None) -> tuple[int, int, int]:
        """(quantity to ``below``, quantity to ``above``, deviation) of the wishes between them
        (from ``below`` included to ``above`` excluded), when they are consecutive sizes."""
        start = 0 if below is None else bisect_left(values, below)
        stop = len(points) if above is None else bisect_left(values, above)
        to_below = to_above = deviation = 0
        for point in points[start:stop]:
            options = [s for s in (below, above) if s is not None and point.accepts(s)]
            if not options:
                continue
            size = min(options, key=lambda s: (abs(s - point.value), s))
            deviation += point.quantity * abs(size - point.value)
            if size == below:
                to_below += point.quantity
            else:
                to_above += point.quantity
        return to_below, to_above, deviation

    # gaps[b][a + 1]: the wishes between sizes a and b (a = -1: below the first size b);
    # tails[b]: the wishes from size b up, when b is the last size.
    gaps = [[split(None if a < 0 else sizes[a], sizes[b]) for a in range(-1, b)] for b in range(n)]
    tails = [split(sizes[b], None) for b in range(n)]

    # A layer maps (a, b), the last two chosen sizes (a = -1: b is the first), to the best
    # (covered, -deviation) of the wishes below b and the sizes chosen so far. Every size before
    # b has its batch; b has what it got from below, gaps[b][a + 1][1].
    best: tuple[tuple[int, int, int], tuple[int, ...]] = ((0, 0, 0), ())
    layer: dict[tuple[int, int], tuple[tuple[int, int], tuple[int, ...]]] = {
        (-1, b): ((gaps[b][0][1], -gaps[b][0][2]), (b,)) for b in range(n)
    }
    for count in range(1, max_sizes + 1):
        following: dict[tuple[int, int], tuple[tuple[int, int], tuple[int, ...]]] = {}
        for (a, b), ((covered, minus_deviation), chosen) in layer.items():
            incoming = gaps[b][a + 1][1]
            to_last, _, deviation = tails[b]
            if incoming + to_last >= min_batch:
                score = (covered + to_last, minus_deviation - deviation, -count)
                if score > best[0]:
                    best = (score, chosen)
            if count == max_sizes:
                continue
            for c in range(b + 1, n):
                to_b, to_c, deviation = gaps[c][b + 1]
                if incoming + to_b < min_batch:
                    continue
                value = (covered + to_b + to_c, minus_deviation - deviation)
                known = following.get((b, c))
                if known is None or value > known[0]:
                    following[(b, c)] = (value, (*chosen, c))
        layer = following
    return evaluate(demands, (sizes[i] for i in best[1]))


def restricted(catalog: Catalog, allowed: Mapping[str, Iterable[str]]) -> Catalog:
    """``catalog`` with only the ``allowed`` options of some modules (module id -> option ids).

    Rules lose references to the options taken out: a rule whose premise (``if``) loses every
    reference can no longer fire and is dropped, as is an ``excludes`` left with fewer than two;
    a ``requires`` whose ``then`` loses every reference forbids its premise. The result answers
    exactly like ``catalog`` with those options forbidden; its restricted numeric modules list
    their remaining values as options, so its digest differs from the catalog's.
    """
    keep = {m: set(ids) for m, ids in allowed.items()}
    modules = tuple(
        attrs.evolve(
            module,
            options=tuple(o for o in module.options if o.id in keep[module.id]),
            number=None,  # a plain module now, so the digest (and the engine cache) tell apart
        )
        if module.id in keep
        else module
        for module in catalog.modules
    )

    def live(refs: tuple[Ref, ...]) -> tuple[Ref, ...]:
        return tuple(
            r
            for r in refs
            if r.option is None or r.module not in keep or r.option in keep[r.module]
        )

    rules: list[Rule] = []
    for rule in catalog.rules:
        if isinstance(rule, Requires):
            if live(rule.if_):
                rules.append(attrs.evolve(rule, if_=live(rule.if_), then=live(rule.then)))
        elif isinstance(rule, Excludes):
            if len(live(rule.options)) >= 2:
                rules.append(attrs.evolve(rule, options=live(rule.options)))
        elif isinstance(rule, Limit) and (not rule.if_ or live(rule.if_)):
            rules.append(attrs.evolve(rule, if_=live(rule.if_)))
    return attrs.evolve(catalog, modules=modules, rules=tuple(rules))
