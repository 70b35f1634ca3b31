"""Fast validation: the answer of ``validation.validate`` from indexes built once per catalog.

Only rules that a chosen option can break are looked at, and a rule's violation is built by
``validation.rule_violation`` itself, so messages and order are exactly the pure validator's.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..validation import Violation, missing_required, rule_violation, structural_violations
from .model import CatalogModel, EachRule, ExcludesRule, RequiresRule, SumRule


class Checker:
    """Validates configurations against one catalog's declarative rules."""

    def __init__(self, model: CatalogModel):
        self.model = model
        self.catalog = model.catalog
        self.lookup = {
            module_id: dict.fromkeys(model.option_ids[m], m)
            for m, module_id in enumerate(model.module_ids)
        }
        self.required = [
            mid for mid, req in zip(model.module_ids, model.required, strict=True) if req
        ]
        touch: dict[tuple[str, str], list[int]] = {}

        def mark(sets, index):
            for m, values in sets.items():
                for j in values:
                    touch.setdefault((model.module_ids[m], model.option_ids[m][j]), []).append(
                        index
                    )

        self.sums = []
        for index, rule in enumerate(model.rules):
            if isinstance(rule, RequiresRule):
                mark(rule.fire, index)
            elif isinstance(rule, ExcludesRule):
                for m, values in rule.refs:
                    mark({m: values}, index)
            elif isinstance(rule, EachRule):
                mark(rule.offend, index)
            else:
                self.sums.append(index)
        self.touch = {key: tuple(dict.fromkeys(indexes)) for key, indexes in touch.items()}
        self.named = {index: self._quick(rule) for index, rule in enumerate(model.rules)}

    def _quick(self, rule):
        """A function (configuration -> bool): False when the rule surely holds."""
        ids = self.model.module_ids
        opts = self.model.option_ids
        if isinstance(rule, RequiresRule):
            then = [(ids[m], {opts[m][j] for j in values}) for m, values in rule.then.items()]
            return lambda conf: not any(conf.get(m) in values for m, values in then)
        if isinstance(rule, ExcludesRule):
            refs = [(ids[m], {opts[m][j] for j in values}) for m, values in rule.refs]
            return lambda conf: sum(1 for m, values in refs if conf.get(m) in values) > 1
        if isinstance(rule, EachRule) and rule.fire is None:
            return lambda conf: True
        if isinstance(rule, SumRule):
            return self._quick_sum(rule)
        fire = [(ids[m], {opts[m][j] for j in values}) for m, values in rule.fire.items()]
        return lambda conf: any(conf.get(m) in values for m, values in fire)

    def _quick_sum(self, rule: SumRule):
        ids = self.model.module_ids
        opts = self.model.option_ids
        amounts = [
            (ids[m], dict(zip(opts[m], column, strict=True))) for m, column in rule.amounts.items()
        ]
        fire = None
        if rule.fire is not None:
            fire = [(ids[m], {opts[m][j] for j in values}) for m, values in rule.fire.items()]
        low, high = rule.low, rule.high

        def suspect(conf):
            if fire is not None and not any(conf.get(m) in values for m, values in fire):
                return False
            total = 0
            for m, column in amounts:
                option = conf.get(m)
                if option is not None:
                    total += column.get(option, 0)
            return (low is not None and total < low) or (high is not None and total > high)

        return suspect

    def validate(self, configuration: Mapping[str, str], complete: bool = True) -> list[Violation]:
        """Every declarative violation, as ``validation.validate`` reports it."""
        lookup = self.lookup
        known = configuration
        structural = []
        for module_id, option_id in configuration.items():
            options = lookup.get(module_id)
            if options is None or option_id not in options:
                structural = structural_violations(self.catalog, configuration)
                known = {m: o for m, o in configuration.items() if self.catalog.option(m, o)}
                break
        violations = structural
        if complete:
            for module_id in self.required:
                if module_id not in configuration:
                    violations = violations + missing_required(self.catalog, configuration)
                    break
        suspects = set()
        touch = self.touch
        for item in known.items():
            for index in touch.get(item, ()):
                suspects.add(index)
        named = self.named
        suspects.update(self.sums)
        candidates = [index for index in suspects if named[index](known)]
        if not candidates:
            return violations
        violations = list(violations)
        rules = self.catalog.rules
        for index in sorted(candidates):
            violation = rule_violation(self.catalog, rules[index], known, partial=not complete)
            if violation is not None:
                violations.append(violation)
        return violations
