"""The catalog as a 0-1 integer program, for the nearest configuration under sum limits.

Variable ``x(m, j) - 1`` (the CNF numbering less one) is 1 when module ``m`` chooses option
``j``. Rules become linear constraints over these variables; a sum limit is one constraint (its
``if`` options switch it on through a big-M term). HiGHS (``scipy.optimize.milp``) solves it:
its linear relaxation bounds a knapsack-like sum well, where a SAT solver must search through
every small set of changes before proving that none is enough.

Solutions are read back as configurations and checked by the exact validator, so a numerical
slip of the floating-point solver can never produce an invalid answer (the caller falls back to
SAT).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from .cnf import Encoding
from .counting import OutOfTime
from .model import NONE, EachRule, ExcludesRule, RequiresRule, SumRule


class NumericalTrouble(Exception):
    """The solver's answer did not survive the exact check (the caller uses SAT instead)."""


class LinearForm:
    """Linear constraints of one catalog's rules (custom rules are not expressible)."""

    def __init__(self, encoding: Encoding):
        self.encoding = encoding
        self.model = model = encoding.model
        self.size = encoding.option_vars
        rows: list[dict[int, float]] = []
        low: list[float] = []
        high: list[float] = []
        self.upper = np.ones(self.size)

        def add(coefficients: dict[int, float], lo: float, hi: float) -> None:
            rows.append(coefficients)
            low.append(lo)
            high.append(hi)

        def var(m: int, j: int) -> int:
            return encoding.x(m, j) - 1

        for m, options in enumerate(model.option_ids):
            add({var(m, j): 1 for j in range(len(options))}, int(model.required[m]), 1)
        for rule in model.rules:
            if isinstance(rule, RequiresRule):
                then = {var(m, j) for m, values in rule.then.items() for j in values}
                for m, values in rule.fire.items():
                    for j in values:
                        if var(m, j) not in then:
                            row: dict[int, float] = {t: -1 for t in then}
                            row[var(m, j)] = 1
                            add(row, -np.inf, 0)
            elif isinstance(rule, ExcludesRule):
                row = {}
                for m, values in rule.refs:
                    for j in values:
                        row[var(m, j)] = row.get(var(m, j), 0) + 1
                add(row, -np.inf, 1)
            elif isinstance(rule, EachRule):
                offending = [var(m, j) for m, values in rule.offend.items() for j in values]
                if rule.fire is None:
                    self.upper[offending] = 0
                    continue
                for c in (var(m, j) for m, values in rule.fire.items() for j in values):
                    for o in offending:
                        if c == o:
                            self.upper[o] = 0
                        elif encoding.var_module[c + 1] != encoding.var_module[o + 1]:
                            add({c: 1, o: 1}, -np.inf, 1)
            else:
                self._sum(rule, add, var)
        data: list[float] = []
        cols: list[int] = []
        offsets = [0]
        for row in rows:
            cols.extend(row)
            data.extend(row.values())
            offsets.append(len(cols))
        matrix = csr_array((data, cols, offsets), shape=(len(rows), self.size))
        self.constraints = LinearConstraint(matrix, low, high)

    def _sum(self, rule: SumRule, add, var) -> None:
        row = {
            var(m, j): amount
            for m, column in rule.amounts.items()
            for j, amount in enumerate(column)
            if amount
        }
        least = most = 0
        for m, column in rule.amounts.items():
            reachable = [column[v] if v != NONE else 0 for v in self.model.values(m)]
            least += min(reachable)
            most += max(reachable)
        fire = [var(m, j) for m, values in (rule.fire or {}).items() for j in values]
        if rule.high is not None and most > rule.high:
            if not fire:
                add(row, -np.inf, rule.high)
            for c in fire:  # sum + M * x_c <= high + M, M = most - high
                add({**row, c: row.get(c, 0) + most - rule.high}, -np.inf, most)
        if rule.low is not None and least < rule.low:
            if not fire:
                add(row, rule.low, np.inf)
            for c in fire:  # sum - M * x_c >= low - M, M = low - least
                add({**row, c: row.get(c, 0) - (rule.low - least)}, least, np.inf)

    def solve(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, extra, deadline):
        """Module index -> value of an optimal solution, or None when there is none.

        ``deadline``: (the budget in seconds, its ``time.monotonic()`` end) or None.
        """
        upper = np.minimum(upper, self.upper)
        if (lower > upper).any():
            return None
        seconds = None if deadline is None else deadline[1] - time.monotonic()
        if seconds is not None and seconds <= 0:
            raise OutOfTime(deadline[0], "the search")
        options: dict = {"mip_rel_gap": 0.0}
        if seconds is not None:
            options["time_limit"] = seconds
        constraints = [self.constraints, *extra]
        result = milp(
            cost,
            integrality=np.ones(self.size),
            bounds=Bounds(lower, upper),
            constraints=constraints,
            options=options,
        )
        if result.status == 1:
            raise OutOfTime(deadline[0] if deadline else 0, "the search")
        if result.status == 2:
            return None
        if result.status != 0 or result.x is None:
            raise NumericalTrouble(result.message)
        values = dict.fromkeys(range(len(self.model.module_ids)), NONE)
        for index in np.flatnonzero(result.x > 0.5):
            m = self.encoding.var_module[index + 1]
            if values[m] != NONE:
                raise NumericalTrouble("two options of one module")
            values[m] = int(index) + 1 - self.encoding.x(m, 0)
        return values
