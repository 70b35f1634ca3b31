"""An exhaustive stand-in for the configuration engine, for catalogs small enough to list.

It lists every complete configuration once, keeps the valid ones, and answers the engine's
questions (enumerate, count, is_satisfiable, repair) with bitsets over that list. The wishes
service reaches it only through its engine adapter, so the real engine can replace it there.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping

import attrs

from .aggregation import bits, mask_of
from .catalog import Catalog
from .errors import C2MError

MAX_COMBINATIONS = 1_000_000


@attrs.frozen
class Repair:
    """The nearest valid configuration and the modules whose choice it changed."""

    configuration: dict[str, str]
    changed: tuple[str, ...]


class ExhaustiveEngine:
    """Valid complete configurations of ``catalog`` listed by brute force.

    :param catalog: the catalog (modules in order; an optional module may be left out)
    :param is_valid: True when a complete configuration is valid (rules and custom rules)
    """

    def __init__(self, catalog: Catalog, is_valid: Callable[[Mapping[str, str]], bool]):
        self.catalog = catalog
        choices = [
            [*module.option_ids, *([None] if not module.required else [])]
            for module in catalog.modules
        ]
        ids = catalog.module_ids
        combinations = math.prod(len(c) for c in choices)
        if combinations > MAX_COMBINATIONS:
            raise C2MError(
                f"catalog {catalog.id!r} has {combinations:,} combinations of options, too many "
                f"to list one by one (at most {MAX_COMBINATIONS:,}); it needs the configuration "
                "engine"
            )
        self.configurations: list[dict[str, str]] = []
        for combination in itertools.product(*choices):
            configuration = {m: o for m, o in zip(ids, combination, strict=True) if o is not None}
            if is_valid(configuration):
                self.configurations.append(configuration)
        found: dict[tuple[str, str | None], list[int]] = {}
        for index, configuration in enumerate(self.configurations):
            for module in ids:
                found.setdefault((module, configuration.get(module)), []).append(index)
        size = len(self.configurations)
        self._masks = {key: mask_of(indices, size) for key, indices in found.items()}
        self._all = (1 << len(self.configurations)) - 1

    def _mask(self, partial: Mapping[str, str]) -> int:
        mask = self._all
        for module, option in partial.items():
            mask &= self._masks.get((module, option), 0)
        return mask

    def enumerate(self, partial: Mapping[str, str], limit: int | None = None) -> Iterator[dict]:
        """Valid complete configurations agreeing with ``partial``, in catalog order."""
        for n, index in enumerate(bits(self._mask(partial))):
            if limit is not None and n >= limit:
                return
            yield dict(self.configurations[index])

    def count(self, partial: Mapping[str, str]) -> int:
        return self._mask(partial).bit_count()

    def is_satisfiable(self, partial: Mapping[str, str]) -> bool:
        return self._mask(partial) != 0

    def repair(self, configuration: Mapping[str, str]) -> Repair | None:
        """The valid configuration keeping the most of ``configuration``'s choices.

        Ties go to keeping the earlier modules, then to the earlier configuration in catalog
        order. None when the catalog has no valid configuration at all.
        """
        items = list(configuration.items())
        for size in range(len(items), -1, -1):
            for kept in itertools.combinations(items, size):
                mask = self._mask(dict(kept))
                if mask:
                    found = self.configurations[(mask & -mask).bit_length() - 1]
                    changed = tuple(m for m, o in items if found.get(m) != o)
                    return Repair(dict(found), changed)
        return None
