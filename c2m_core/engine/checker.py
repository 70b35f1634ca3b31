"""Fast validation: the answer of ``validation.validate`` from indexes built once per catalog.

A configuration is seen as its set of ``(module, option)`` pairs. Only rules that a chosen pair
can break are looked at, with set operations; a rule found broken is reported by
``validation.rule_violation`` itself, so messages and order are exactly the pure validator's.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..catalog import Excludes, Requires
from ..validation import Violation, missing_required, rule_violation, structural_violations
from .model import CatalogModel, EachRule, ExcludesRule, RequiresRule, SumRule


class Checker:
    """Validates configurations against one catalog's declarative rules."""

    def __init__(self, model: CatalogModel):
        self.model = model
        self.catalog = model.catalog
        self.pairs = frozenset(
            (mid, oid) for m, mid in enumerate(model.module_ids) for oid in model.option_ids[m]
        )
        self.required = frozenset(
            mid for mid, required in zip(model.module_ids, model.required, strict=True) if required
        )
        requires: dict = {}
        excludes: dict = {}
        each: dict = {}
        self.sums = []
        self._tables: list[list] | None = None
        self._wide: list[list] = []
        for index, rule in enumerate(model.rules):
            if isinstance(rule, RequiresRule):
                then = self._pairs(rule.then)
                for pair in self._pairs(rule.fire):
                    requires.setdefault(pair, []).append((index, then))
            elif isinstance(rule, ExcludesRule):
                hits: dict = {}
                for m, values in rule.refs:
                    for pair in self._pairs({m: values}):
                        hits[pair] = hits.get(pair, 0) + 1
                for pair, times in hits.items():
                    excludes.setdefault(pair, []).append((index, times))
            elif isinstance(rule, EachRule):
                fire = self._pairs(rule.fire) if rule.fire is not None else None
                for pair in self._pairs(rule.offend):
                    each.setdefault(pair, []).append((index, fire))
            else:
                self.sums.append(self._sum_check(index, rule))
        self.requires = {pair: tuple(entries) for pair, entries in requires.items()}
        self.excludes = {pair: tuple(entries) for pair, entries in excludes.items()}
        self.each = {pair: tuple(entries) for pair, entries in each.items()}
        self.needs = {
            rule.id: ", ".join(map(str, rule.then))
            for rule in self.catalog.rules
            if isinstance(rule, Requires)
        }

    def flips(self, values: Mapping[int, int], pending, covered: set) -> None:
        """Add to ``covered`` every pending ``(module, option)`` that can replace its module's
        value in the valid configuration ``values`` (module index -> value) and leave every
        declarative rule satisfied.

        Only the rules of the flipped module can change; a rule over two modules answers from
        a table (the allowed options of one module for each value of the other), a wider rule
        or a sum is evaluated directly.
        """
        if self._tables is None:
            self._tables = self._flip_tables()
        by_module: dict[int, list[int]] = {}
        for m, j in pending:
            if (m, j) not in covered:
                by_module.setdefault(m, []).append(j)
        for m, options in by_module.items():
            allowed = -1
            for other, table in self._tables[m]:
                allowed &= table[values[other]]
                if not allowed:
                    break
            if not allowed:
                continue
            for rule in self._wide[m]:
                if not allowed:
                    break
                allowed &= self._allowed(rule, m, values, options)
            for j in options:
                if allowed >> j & 1:
                    covered.add((m, j))

    def _flip_tables(self):
        model = self.model
        self._wide = [[] for _ in model.module_ids]
        tables: list[list] = [[] for _ in model.module_ids]
        for rule in model.rules:
            modules = rule.modules
            if isinstance(rule, SumRule) or len(modules) != 2:
                for m in modules:
                    self._wide[m].append(rule)
                continue
            for m, other in ((modules[0], modules[1]), (modules[1], modules[0])):
                table = {}
                for w in model.values(other):
                    mask = 0
                    for j in range(len(model.option_ids[m])):
                        if _holds(rule, {m: j, other: w}):
                            mask |= 1 << j
                    table[w] = mask
                tables[m].append((other, table))
        return tables

    def _allowed(self, rule, m: int, values: Mapping[int, int], options) -> int:
        trial = dict(values)
        mask = 0
        for j in options:
            trial[m] = j
            if _holds(rule, trial):
                mask |= 1 << j
        return mask

    def _pairs(self, sets: Mapping[int, frozenset[int]]) -> frozenset[tuple[str, str]]:
        ids, options = self.model.module_ids, self.model.option_ids
        return frozenset((ids[m], options[m][j]) for m, values in sets.items() for j in values)

    def _sum_check(self, index: int, rule: SumRule):
        """A function (chosen pairs -> bool): False when the sum rule surely holds."""
        ids, options = self.model.module_ids, self.model.option_ids
        amounts = {
            (ids[m], options[m][j]): amount
            for m, column in rule.amounts.items()
            for j, amount in enumerate(column)
            if amount
        }
        fire = self._pairs(rule.fire) if rule.fire is not None else None
        low, high = rule.low, rule.high

        def suspect(chosen) -> bool:
            if fire is not None and fire.isdisjoint(chosen):
                return False
            total = sum(amounts.get(pair, 0) for pair in chosen)
            return (low is not None and total < low) or (high is not None and total > high)

        return index, suspect

    def validate(self, configuration: Mapping[str, str], complete: bool = True) -> list[Violation]:
        """Every declarative violation, as ``validation.validate`` reports it."""
        chosen = set(configuration.items())
        violations = []
        known = configuration
        if not chosen <= self.pairs:
            violations = structural_violations(self.catalog, configuration)
            chosen &= self.pairs
            known = dict(chosen)
        if complete and not self.required <= configuration.keys():
            violations.extend(missing_required(self.catalog, configuration))
        broken = []
        seen: dict[int, int] = {}
        requires, excludes, each = self.requires, self.excludes, self.each
        for pair in chosen:
            for index, then in requires.get(pair, ()):
                if then.isdisjoint(chosen):
                    broken.append(index)
            for index, times in excludes.get(pair, ()):
                seen[index] = seen.get(index, 0) + times
            for index, fire in each.get(pair, ()):
                if fire is None or not fire.isdisjoint(chosen):
                    broken.append(index)
        broken.extend(index for index, times in seen.items() if times > 1)
        broken.extend(index for index, suspect in self.sums if suspect(chosen))
        if not broken:
            return violations
        rules = self.catalog.rules
        for index in sorted(set(broken)):
            rule = rules[index]
            if isinstance(rule, Requires):
                violation = self._requires_violation(rule, known, complete)
            elif isinstance(rule, Excludes):
                violation = Violation(
                    rule.id, rule.message, _chosen(rule.options, known), kind=rule.kind
                )
            else:
                violation = rule_violation(self.catalog, rule, known, partial=not complete)
            if violation is not None:
                violations.append(violation)
        return violations

    def _requires_violation(self, rule: Requires, known: Mapping[str, str], complete: bool):
        """As ``validation.rule_violation`` words it, for a rule known to be fired and unmet."""
        if not complete and any(ref.module not in known for ref in rule.then):
            return None
        return Violation(
            rule.id,
            f"{rule.message} (needs one of {self.needs[rule.id]})",
            _chosen(rule.if_, known),
            kind=rule.kind,
        )


def _chosen(refs, known: Mapping[str, str]) -> tuple[str, ...]:
    """``module.option`` of each reference the configuration matches, without repeats."""
    found: dict[str, None] = {}
    for ref in refs:
        option = known.get(ref.module)
        if option is not None and (ref.option is None or ref.option == option):
            found[f"{ref.module}.{option}"] = None
    return tuple(found)


def _holds(rule, values: Mapping[int, int]) -> bool:
    """Whether ``rule`` (of the catalog model) holds for ``values`` (module index -> value,
    ``NONE`` for left out), which give a value to every module the rule mentions."""
    if isinstance(rule, RequiresRule):
        fired = any(values[m] in options for m, options in rule.fire.items())
        return not fired or any(values[m] in options for m, options in rule.then.items())
    if isinstance(rule, ExcludesRule):
        return sum(1 for m, options in rule.refs if values[m] in options) <= 1
    fired = rule.fire is None or any(values[m] in options for m, options in rule.fire.items())
    if isinstance(rule, EachRule):
        return not fired or all(values[m] not in bad for m, bad in rule.offend.items())
    if not fired:
        return True
    total = sum(rule.amount(m, values[m]) for m in rule.amounts)
    return (rule.low is None or total >= rule.low) and (rule.high is None or total <= rule.high)
