"""Every valid configuration of a small catalog in one array: the answers a wish import needs
(can these choices be completed? the nearest valid choice) by array operations, not solver calls.

An import judges thousands of distinct wishes against one catalog; with a few thousand valid
configurations, comparing a wish with all of them at once costs less than the solver calls of
``Engine.is_satisfiable`` and ``Engine.repair``. The table is made from ``Engine.enumerate``, so
custom rules count as they do there, and only for catalogs without multi-select modules whose
complete configurations (valid or not) number at most ``SPACE_LIMIT``. Its answers are the
engine's: ``satisfiable`` is ``Engine.is_satisfiable``; ``nearest`` is ``Engine.repair`` with
its default weights and nothing kept, in the order docs/engine.md gives: fewest wished choices
changed, then the earlier wished modules kept, then each module in catalog order takes its
earliest value (a left-out optional module first; a changed one the other options in order,
then left out).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

#: The most complete configurations (valid or not) of a catalog given a table.
SPACE_LIMIT = 100_000
#: The most numbers the table holds (rows times options: 8 bytes each).
CELL_LIMIT = 4_000_000


class ValidTable:
    """The valid complete configurations of one catalog, one row each."""

    def __init__(self, module_ids, options, optional, rows: list[Mapping[str, str]]):
        self.module_ids = tuple(module_ids)
        self.position = {m: i for i, m in enumerate(self.module_ids)}
        self.options = [tuple(o) for o in options]
        self.option_index = [{o: j for j, o in enumerate(opts)} for opts in self.options]
        self.optional = list(optional)
        values = np.full((len(rows), len(self.module_ids)), -1, dtype=np.int64)
        for r, configuration in enumerate(rows):
            for module, option in configuration.items():
                i = self.position[module]
                values[r, i] = self.option_index[i][option]
        self.values = values
        # A row's score orders it as the engine's repair does: the distance, then which wished
        # modules changed (the earlier ones weigh more), then each module's rank of its value.
        widths = [max(1, math.ceil(math.log2(len(o) + 2))) for o in self.options]
        shifts = []
        shift = 0
        for width in reversed(widths):
            shifts.append(shift)
            shift += width
        self.rank_shift = shifts[::-1]
        self.changed_shift = shift
        count = len(self.module_ids)
        self.distance_shift = shift + count
        self.fits = self.distance_shift + max(1, math.ceil(math.log2(count + 1))) < 63
        keep_rank = values + np.array([1 if o else 0 for o in self.optional], dtype=np.int64)
        self.base = (keep_rank << np.array(self.rank_shift, dtype=np.int64)).sum(axis=1)
        # what wishing option j of module m adds to each row's score: one more change (the
        # distance and the module's bit) where the row has another value, whose rank is then
        # among the other options in order, "left out" last
        self.adds: list[list[np.ndarray]] = []
        for i in range(count):
            column = values[:, i]
            adds = []
            for j in range(len(self.options[i])):
                changed = column != j
                lost = np.where(column < 0, len(self.options[i]) - 1, column - (column > j))
                rank = np.where(changed, lost - keep_rank[:, i], 0) << self.rank_shift[i]
                flags = changed.astype(np.int64) * (
                    (1 << self.distance_shift) + (1 << (self.changed_shift + count - 1 - i))
                )
                adds.append(rank + flags)
            self.adds.append(adds)

    @classmethod
    def of(cls, engine) -> ValidTable | None:
        """The table of ``engine``'s catalog, or None when it has multi-select modules or more
        than ``SPACE_LIMIT`` complete configurations."""
        catalog = engine.catalog
        if any(module.multiple for module in catalog.modules):
            return None
        space = complete_configurations(catalog)
        cells = space * sum(len(m.option_ids) for m in catalog.modules)
        if space > SPACE_LIMIT or cells > CELL_LIMIT:
            return None
        table = cls(
            catalog.module_ids,
            [m.option_ids for m in catalog.modules],
            [not m.required for m in catalog.modules],
            list(engine.enumerate()),
        )
        return table if table.fits else None

    def judge(self, configuration: Mapping[str, str]) -> tuple[bool, dict[str, str] | None]:
        """(whether some valid configuration has every choice of ``configuration``, the valid
        configuration ``Engine.repair(configuration).configuration`` gives, left-out modules
        absent; None when the catalog has no valid configuration)."""
        if not len(self.values):
            return False, None
        score = self.base
        for m, o in configuration.items():
            i = self.position[m]
            score = score + self.adds[i][self.option_index[i][o]]
        best = int(score.argmin())
        row = self.values[best]
        nearest = {m: self.options[i][row[i]] for i, m in enumerate(self.module_ids) if row[i] >= 0}
        return int(score[best]) >> self.distance_shift == 0, nearest


def complete_configurations(catalog) -> int:
    """How many complete configurations (valid or not) ``catalog``'s single-select modules
    make: each required module one of its options, each optional one also left out."""
    return math.prod(len(m.option_ids) + (0 if m.required else 1) for m in catalog.modules)
