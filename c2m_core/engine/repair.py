"""The nearest valid configuration to a wish: fewest (weighted) changed choices, then ties.

SAT with a cardinality constraint on the number of changed choices: every module has a "stays"
variable that, for this one wish, implies its wished option (clauses guarded by a literal that
is switched off afterwards), and a totalizer counts the modules that do not stay. The cost goes
down from the first solution found until no cheaper one exists; then the wished modules are
kept in catalog order wherever the optimum allows, and the remaining modules take their first
possible value.
"""

from __future__ import annotations

from collections.abc import Callable

from pysat.card import ITotalizer

from .model import NONE
from .sat import SatSession


class _ChangeLimit:
    """Assumptions that allow at most k (weighted) changes of the wished choices."""

    def __init__(self, sat: SatSession, wish: dict[int, int], soft: list[int], cost, upper: int):
        self.sat = sat
        enc = sat.encoding
        stays = sat.stay_vars()
        self.guard = enc.new_var()
        for m in soft:
            sat.solver.add_clause([-self.guard, -stays[m], enc.x(m, wish[m])])
        self.fixed = [self.guard] + [stays[m] for m in range(len(stays)) if m not in set(soft)]
        if all(cost(m) == 1 for m in soft):
            self.outputs = sat.change_totalizer()
        else:
            inputs = [-stays[m] for m in soft for _ in range(cost(m))]
            totalizer = ITotalizer(lits=inputs, ubound=max(upper, 1), top_id=enc.top)
            enc.top = totalizer.top_id
            for clause in totalizer.cnf.clauses:
                sat.solver.add_clause(clause)
            self.outputs = list(totalizer.rhs)
            totalizer.delete()

    def at_most(self, k: int) -> list[int]:
        bound = [-self.outputs[k]] if k < len(self.outputs) else []
        return self.fixed + bound

    def close(self) -> None:
        self.sat.solver.add_clause([-self.guard])


def nearest(
    sat: SatSession, wish: dict[int, int], hard: dict[int, int], cost: Callable[[int], int]
):
    """(values, changed modules) of the canonical nearest configuration, or None.

    ``hard`` choices never change; the others in ``wish`` cost ``cost(module)`` to change.
    """
    model = sat.model
    enc = sat.encoding
    base = sat.lits(hard)
    soft = [m for m in sorted(wish) if m not in hard]
    keeps = {m: enc.x(m, wish[m]) for m in soft}

    def spent(values) -> int:
        return sum(cost(m) for m in soft if values[m] != wish[m])

    best = sat.solve(base + list(keeps.values()))
    if best is None:
        sat.prefer(keeps.values())
        best = sat.solve(base)
        if best is None:
            return None
        limit = _ChangeLimit(sat, wish, soft, cost, spent(best))
        try:
            optimum = spent(best)
            while optimum > 0:
                cheaper = sat.solve(base + limit.at_most(optimum - 1))
                if cheaper is None:
                    break
                best, optimum = cheaper, spent(cheaper)
            decided = list(base)
            for m in soft:
                if best[m] != wish[m]:
                    kept = sat.solve(decided + limit.at_most(optimum) + [keeps[m]])
                    if kept is None:
                        decided.append(-keeps[m])
                        continue
                    best = kept
                decided.append(keeps[m])
        finally:
            limit.close()
    changed = frozenset(m for m in soft if best[m] != wish[m])
    fixed = {m: v for m, v in wish.items() if m not in changed}
    for m in range(len(model.module_ids)):
        if m in fixed:
            continue
        values = model.values(m)
        if m in changed:
            ranked = [v for v in values if v not in (wish[m], NONE)]
            ranked += [NONE] if NONE in values else []
        else:
            ranked = values
        for value in ranked:
            if value == best[m]:
                break
            witness = sat.solve(sat.lits({**fixed, m: value}))
            if witness is not None:
                best = witness
                break
        fixed[m] = best[m]
    return fixed, changed
