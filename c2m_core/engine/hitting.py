"""Cheapest hitting sets: which wished modules to change so every conflict loses a member.

Exact branch and bound over bitmasks, with a lower bound from cores that share no module.
Among sets of equal cost the lexicographically first is returned: the one keeping the earliest
modules, so a repair is the same whatever order the conflicts were found in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def cheapest_hitting_set(
    cores: Iterable[frozenset[int]], weight: Callable[[int], int]
) -> frozenset[int] | None:
    """The cheapest set meeting every core (ties: keep lower numbers); None if a core is empty."""
    cores = list(cores)
    if any(not core for core in cores):
        return None
    if not cores:
        return frozenset()
    elements = sorted(set().union(*cores))
    bit = {e: 1 << i for i, e in enumerate(elements)}
    weights = [weight(e) for e in elements]
    masks = sorted({sum(bit[e] for e in core) for core in cores}, key=int.bit_count)
    masks = [m for i, m in enumerate(masks) if not any(o & m == o for o in masks[:i])]
    search = _Search(masks, weights)
    target = search.cheapest()
    chosen = search.first(target)
    return frozenset(e for i, e in enumerate(elements) if chosen >> i & 1)


class _Search:
    def __init__(self, masks: list[int], weights: list[int]):
        self.masks = masks
        self.weights = weights
        self.unit = all(w == 1 for w in weights)

    def lightest(self, mask: int) -> int:
        if self.unit:
            return 1
        best = None
        while mask:
            low = mask & -mask
            w = self.weights[low.bit_length() - 1]
            best = w if best is None or w < best else best
            mask ^= low
        return best

    def bound(self, unhit: list[int]) -> int:
        """A lower bound on the cost still needed: cores sharing no element each need one."""
        used = 0
        total = 0
        for mask in sorted(unhit, key=int.bit_count):
            if not mask & used:
                used |= mask
                total += self.lightest(mask)
        return total

    def unhit(self, chosen: int, excluded: int) -> list[int] | None:
        """The cores not yet met, restricted to elements still allowed; None if one is dead."""
        unhit = []
        for mask in self.masks:
            if not mask & chosen:
                mask &= ~excluded
                if not mask:
                    return None
                unhit.append(mask)
        return unhit

    def cheapest(self) -> int:
        """The minimum cost, by branching on the elements of the smallest unmet core."""
        best = [sum(self.weights)]

        def search(chosen, excluded, cost):
            unhit = self.unhit(chosen, excluded)
            if unhit is None:
                return
            if not unhit:
                best[0] = min(best[0], cost)
                return
            if cost + self.bound(unhit) >= best[0]:
                return
            rest = min(unhit, key=int.bit_count)
            while rest:
                low = rest & -rest
                search(chosen | low, excluded, cost + self.weights[low.bit_length() - 1])
                excluded |= low
                rest ^= low

        search(0, 0, 0)
        return best[0]

    def first(self, target: int) -> int:
        """The lexicographically first set (lowest elements left out first) costing ``target``."""

        def search(i, chosen, excluded, cost):
            unhit = self.unhit(chosen, excluded)
            if unhit is None or cost + (self.bound(unhit) if unhit else 0) > target:
                return None
            if not unhit:
                return chosen
            low = 1 << i
            while not any(mask & low for mask in unhit):
                i += 1
                low = 1 << i
            found = search(i + 1, chosen, excluded | low, cost)
            if found is not None:
                return found
            return search(i + 1, chosen | low, excluded, cost + self.weights[i])

        return search(0, 0, 0, 0)
