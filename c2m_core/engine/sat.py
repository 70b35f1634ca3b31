"""One incremental SAT solver per catalog, solving under assumptions.

Assumptions are the user's choices and the selectors of the rules in force. A model found by the
solver is a complete configuration; when custom rules exist it is checked against them, and a
violation adds a clause ruling out every configuration that agrees with it on the modules the
custom rule read, guarded by that custom rule's own selector. Then the solver tries again.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pysat.card import ITotalizer
from pysat.solvers import Minisat22

from .checker import Checker
from .cnf import Encoding
from .counting import OutOfTime
from .custom import CustomCheck
from .model import NONE, SumRule

if TYPE_CHECKING:
    from .linear import LinearForm

ALL_CUSTOM = object()
CONFLICTS_PER_SLICE = 2000  # solver conflicts between two looks at the clock


class SatSession:
    """Solves "is there a valid complete configuration with these choices and these rules"."""

    def __init__(self, encoding: Encoding, check: CustomCheck | None = None):
        self.encoding = encoding
        self.model = encoding.model
        self.check = check
        self.solver = Minisat22(bootstrap_with=encoding.clauses)
        self.selectors: dict = dict(enumerate(encoding.selectors))
        self.custom_rules: list[str] = []
        self.core: set[int] = set()
        self._stays: list[int] | None = None
        self._totalizer: list[int] | None = None
        self._linear: LinearForm | None | bool = False
        self._checker: Checker | None = None
        self._unchosen = [-var for var in range(1, encoding.option_vars + 1)]
        self.compiled_vars = encoding.top
        self.limited: float | None = None
        self.deadline = 0.0
        self.owner: list[tuple[int, int] | None] = [None] * (encoding.option_vars + 1)
        for m, options in enumerate(self.model.option_ids):
            for j in range(len(options)):
                self.owner[encoding.x(m, j)] = (m, j)

    @contextmanager
    def time_budget(self, seconds: float | None):
        """Within the block, a solver call still running after ``seconds`` raises ``OutOfTime``.

        The solver runs in slices of ``CONFLICTS_PER_SLICE`` conflicts and the clock is read
        between them (no timer thread: starting one cost more than most questions).
        """
        if seconds is None:
            yield
            return
        self.limited = seconds
        self.deadline = time.monotonic() + seconds
        try:
            yield
        finally:
            self.limited = None

    @property
    def grown(self) -> int:
        """Variables added since compiling (each repair adds a few)."""
        return self.encoding.top - self.compiled_vars

    def close(self) -> None:
        self.solver.delete()

    def selector(self, key) -> int:
        """The selector of a catalog rule (by index) or a custom rule (by id), made on first use."""
        if key not in self.selectors:
            self.selectors[key] = self.encoding.new_var()
            self.custom_rules.append(key)
        return self.selectors[key]

    def lits(self, values: dict[int, int]) -> list[int]:
        lits = []
        for module, value in values.items():
            lits.extend(self.encoding.value_lits(module, value))
        return lits

    def solve(self, lits, disabled=frozenset()) -> dict[int, int] | None:
        """A valid complete configuration (module index -> value) under ``lits``, or None.

        Rules whose keys are in ``disabled`` are not enforced (``ALL_CUSTOM``: no custom rule).
        After None, ``core`` holds a set of assumption literals that cannot hold together.
        """
        if ALL_CUSTOM in disabled:
            disabled = set(disabled) | set(self.custom_rules) | {ALL_CUSTOM}
        while True:
            if ALL_CUSTOM in disabled:
                disabled |= set(self.custom_rules)
            assumptions = list(lits)
            if disabled:
                assumptions.extend(
                    sel for key, sel in self.selectors.items() if key not in disabled
                )
            else:
                assumptions.extend(self.selectors.values())
            if self.limited:
                answer = None
                while answer is None:
                    if time.monotonic() > self.deadline:
                        raise OutOfTime(self.limited, "the search")
                    self.solver.conf_budget(CONFLICTS_PER_SLICE)
                    answer = self.solver.solve_limited(assumptions=assumptions)
            else:
                answer = self.solver.solve(assumptions=assumptions)
            if not answer:
                self.core = set(self.solver.get_core() or ())
                return None
            values = self._values()
            if self.check is None:
                return values
            violations, depends = self.check.check(self.model.configuration(values))
            if not violations:
                return values
            if depends is None:
                scope = values
            else:
                index = self.model.module_index
                scope = {index[m]: values[index[m]] for m in depends}
            clause = self.encoding.differ_clause(scope)
            broken = sorted({violation.rule for violation in violations})
            for rule in broken:
                self.solver.add_clause([*clause, -self.selector(rule)])
            if all(rule in disabled for rule in broken):
                return values

    def _values(self) -> dict[int, int]:
        model = self.solver.get_model()
        values = dict.fromkeys(range(len(self.model.module_ids)), NONE)
        owner = self.owner
        for lit in [lit for lit in model[: self.encoding.option_vars] if lit > 0]:
            m, j = owner[lit]
            values[m] = j
        return values

    def stay_vars(self) -> list[int]:
        """One variable per module, given meaning per repair (see ``repair``), made once."""
        if self._stays is None:
            self._stays = [self.encoding.new_var() for _ in self.model.module_ids]
        return self._stays

    def change_totalizer(self) -> list[int]:
        """Outputs of a totalizer counting modules whose stay variable is false (made once)."""
        if self._totalizer is None:
            stays = self.stay_vars()
            totalizer = ITotalizer(
                lits=[-s for s in stays], ubound=len(stays), top_id=self.encoding.top
            )
            self.encoding.top = totalizer.top_id
            for clause in totalizer.cnf.clauses:
                self.solver.add_clause(clause)
            self._totalizer = list(totalizer.rhs)
            totalizer.delete()
        return self._totalizer

    @property
    def linear(self) -> LinearForm | None:
        """The rules as a 0-1 integer program, when the catalog has a sum limit and no custom
        rules (made once; None otherwise, or when scipy is missing)."""
        if self._linear is False:
            self._linear = None
            if self.check is None and any(isinstance(r, SumRule) for r in self.model.rules):
                try:
                    from .linear import LinearForm
                except ImportError:  # pragma: no cover - scipy is a core dependency
                    return None
                self._linear = LinearForm(self.encoding)
        return self._linear  # type: ignore[return-value]

    @property
    def checker(self) -> Checker:
        """The exact validator of the catalog's declarative rules (made once)."""
        if self._checker is None:
            self._checker = Checker(self.model)
        return self._checker

    def prefer(self, lits) -> None:
        """Hint the solver to make these literals true where it has the choice (speed only)."""
        self.solver.set_phases(literals=list(lits))

    def prefer_only(self, options) -> None:
        """Hint the solver to choose these option variables and no other (speed only)."""
        phases = list(self._unchosen)
        for var in options:
            phases[var - 1] = var
        self.solver.set_phases(literals=phases)
