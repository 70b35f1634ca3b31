"""The catalog as CNF clauses for a SAT solver.

Variable ``x(m, j)`` is true when module ``m`` chooses option ``j``. Every rule's clauses carry
the negation of the rule's selector variable, so solving under the assumption "selector true"
enforces the rule and leaving it out of the assumptions drops it: that is how minimal conflicts
name rules. The module structure (one option per module, exactly one when required) is hard.
"""

from __future__ import annotations

from itertools import combinations

from pysat.card import CardEnc, EncType

from .model import NONE, CatalogModel, EachRule, ExcludesRule, RequiresRule, SumLayers, SumRule

PAIRWISE_LIMIT = 12


class Encoding:
    """Clauses and variable numbering of one catalog."""

    def __init__(self, model: CatalogModel):
        self.model = model
        self.offsets = []
        top = 0
        for options in model.option_ids:
            self.offsets.append(top)
            top += len(options)
        self.option_vars = top
        self.var_module = [NONE] + [m for m, ids in enumerate(model.option_ids) for _ in ids]
        self.top = top
        self.clauses: list[list[int]] = []
        self.selectors = [self.new_var() for _ in model.rules]
        for m in range(len(model.module_ids)):
            self._module(m)
        for rule, selector in zip(model.rules, self.selectors, strict=True):
            self._rule(rule, selector)

    def new_var(self) -> int:
        self.top += 1
        return self.top

    def x(self, module: int, option: int) -> int:
        return self.offsets[module] + option + 1

    def module_vars(self, module: int) -> list[int]:
        start = self.offsets[module] + 1
        return list(range(start, start + len(self.model.option_ids[module])))

    def value_lits(self, module: int, value: int) -> list[int]:
        """Literals that together say "module ``module`` takes ``value``"."""
        if value == NONE:
            return [-v for v in self.module_vars(module)]
        return [self.x(module, value)]

    def differ_clause(self, values: dict[int, int]) -> list[int]:
        """A clause true exactly when some module in ``values`` takes another value."""
        clause = []
        for module, value in sorted(values.items()):
            if value == NONE:
                clause.extend(self.module_vars(module))
            else:
                clause.append(-self.x(module, value))
        return clause

    def _module(self, m: int) -> None:
        lits = self.module_vars(m)
        if self.model.required[m]:
            self.clauses.append(list(lits))
        if len(lits) <= PAIRWISE_LIMIT:
            self.clauses.extend([-a, -b] for a, b in combinations(lits, 2))
        else:
            encoded = CardEnc.atmost(lits, 1, top_id=self.top, encoding=EncType.seqcounter)
            self.top = max(self.top, encoded.nv)
            self.clauses.extend(encoded.clauses)

    def _lits(self, sets: dict) -> list[int]:
        return [self.x(m, j) for m, values in sorted(sets.items()) for j in sorted(values)]

    def _rule(self, rule, sel: int) -> None:
        add = self.clauses.append
        if isinstance(rule, RequiresRule):
            then = self._lits(rule.then)
            for a in self._lits(rule.fire):
                if a not in then:
                    add([-sel, -a, *then])
        elif isinstance(rule, ExcludesRule):
            indicators = []
            for m, values in rule.refs:
                lits = [self.x(m, j) for j in sorted(values)]
                if len(lits) == 1:
                    indicators.append(lits[0])
                else:
                    y = self.new_var()
                    self.clauses.extend([-a, y] for a in lits)
                    indicators.append(y)
            if len(indicators) <= PAIRWISE_LIMIT:
                for a, b in combinations(indicators, 2):
                    add([-sel, -a] if a == b else [-sel, -a, -b])
            else:
                encoded = CardEnc.atmost(
                    indicators, 1, top_id=self.top, encoding=EncType.seqcounter
                )
                self.top = max(self.top, encoded.nv)
                self.clauses.extend([-sel, *clause] for clause in encoded.clauses)
        elif isinstance(rule, EachRule):
            offending = self._lits(rule.offend)
            if rule.fire is None:
                self.clauses.extend([-sel, -o] for o in offending)
                return
            for c in self._lits(rule.fire):
                for o in offending:
                    if c == o:
                        add([-sel, -o])
                    elif self.var_module[c] != self.var_module[o]:
                        add([-sel, -c, -o])
        else:
            self._sum(rule, sel)

    def _sum(self, rule: SumRule, sel: int) -> None:
        """Layered decision diagram over the carrier modules (exact, merges equivalent sums)."""
        model = self.model
        carriers = sorted(rule.amounts)
        layers = SumLayers(rule, carriers, {m: model.values(m) for m in carriers})
        conditions = [[-c] for c in self._lits(rule.fire)] if rule.fire is not None else [[]]
        root = layers.klass(0, 0)
        if root is None:
            return
        if root is False:
            self.clauses.extend([-sel, *condition] for condition in conditions)
            return
        root_var = self.new_var()
        self.clauses.extend([-sel, *condition, root_var] for condition in conditions)
        frontier = {root: (0, root_var)}
        for layer, module in enumerate(carriers):
            following = {}
            option_lits = self.module_vars(module)
            for total, var in frontier.values():
                for value in model.values(module):
                    after = total + rule.amount(module, value)
                    klass = layers.klass(layer + 1, after)
                    if klass is None:
                        continue
                    if value == NONE:
                        guard = [-var, *option_lits]
                    else:
                        guard = [-var, -self.x(module, value)]
                    if klass is False:
                        self.clauses.append(guard)
                        continue
                    if klass not in following:
                        following[klass] = (after, self.new_var())
                    self.clauses.append([*guard, following[klass][1]])
            frontier = following
