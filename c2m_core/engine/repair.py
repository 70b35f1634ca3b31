"""The nearest valid configuration to a wish: fewest (weighted) changed choices, then ties.

SAT with a cardinality constraint on the number of changed choices: every module has a "stays"
variable that, for this one wish, implies its wished option (clauses guarded by a literal that
is switched off afterwards), and a totalizer counts the modules that do not stay. The cost goes
down from the first solution found until no cheaper one exists; then the wished modules are
kept in catalog order wherever the optimum allows, and the remaining modules take their first
possible value.

With a sum limit (and no custom rules) the kept choices come from a 0-1 integer program instead
(``linear.py``): its linear relaxation bounds the sum, where the SAT descent has to rule out
every smaller set of changes one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pysat.card import ITotalizer

from .model import NONE
from .sat import SatSession

_SAT = object()  # the integer program could not answer: ask the SAT solver


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

    best: Any = sat.solve(base + list(keeps.values()))
    if best is None:
        found = _keep_linear(sat, wish, hard, soft, cost) if sat.linear is not None else _SAT
        best = _keep_sat(sat, wish, base, soft, keeps, cost) if found is _SAT else found
        if best is None:
            return None
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


def _keep_sat(sat: SatSession, wish, base, soft, keeps, cost):
    """The nearest configuration's kept choices by SAT: descend the number of changes until
    none fewer is possible, then keep the wish's modules in catalog order where possible."""

    def spent(values) -> int:
        return sum(cost(m) for m in soft if values[m] != wish[m])

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
    return best


def _keep_linear(sat: SatSession, wish, hard, soft, cost) -> Any:
    """As ``_keep_sat``, with the integer program: the optimum in one solve, then one
    feasibility solve per module the current best changes (in catalog order). ``_SAT`` when
    a floating-point answer failed the exact check (SAT answers instead)."""
    from .linear import NumericalTrouble

    try:
        return _keep_linear_unchecked(sat, wish, hard, soft, cost)
    except NumericalTrouble:
        return _SAT


def _keep_linear_unchecked(sat: SatSession, wish, hard, soft, cost):
    import numpy as np
    from scipy.optimize import LinearConstraint

    linear = sat.linear
    assert linear is not None
    enc = sat.encoding
    deadline = (sat.limited, sat.deadline) if sat.limited else None
    lower = np.zeros(linear.size)
    upper = np.ones(linear.size)
    for m, value in hard.items():
        for j in range(len(sat.model.option_ids[m])):
            if j == value:
                lower[enc.x(m, j) - 1] = 1
            else:
                upper[enc.x(m, j) - 1] = 0
    objective = np.zeros(linear.size)
    for m in soft:
        objective[enc.x(m, wish[m]) - 1] = -cost(m)
    best = linear.solve(objective, lower, upper, (), deadline)
    if best is None:
        return None
    _checked(sat, best)
    total = sum(cost(m) for m in soft)
    optimum = sum(cost(m) for m in soft if best[m] != wish[m])
    within = LinearConstraint(-objective, total - optimum, np.inf)
    nothing = np.zeros(linear.size)
    for m in soft:
        keep = enc.x(m, wish[m]) - 1
        if best[m] != wish[m]:
            lower[keep] = 1
            kept = linear.solve(nothing, lower, upper, (within,), deadline)
            if kept is None:
                lower[keep] = 0
                upper[keep] = 0
                continue
            best = _checked(sat, kept)
        lower[keep] = 1
    return best


def _checked(sat: SatSession, values):
    """``values`` when the exact validator accepts them (else ``NumericalTrouble``)."""
    from .linear import NumericalTrouble

    configuration = sat.model.configuration(values)
    if sat.checker.validate(configuration):
        raise NumericalTrouble("the solver's configuration breaks a rule")
    return values
