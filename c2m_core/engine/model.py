"""The catalog as index arithmetic: modules and options by position, rules as option sets.

Every part of the engine (the fast checker, the CNF encoding, the counter) reads this form, so a
rule means the same thing everywhere. A value of a module is an option index, or ``NONE`` when an
optional module is left out.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping

from ..catalog import Catalog, Excludes, Limit, Ref, Requires
from ..errors import InvalidInput, NotAllowed
from ..validation import structural_violations

NONE = -1


class RequiresRule:
    """``fire[m]``: option indices of module m that fire the rule; ``then[m]``: that satisfy it."""

    kind = "requires"

    def __init__(self, index: int, rule_id: str, fire: dict, then: dict):
        self.index, self.id, self.fire, self.then = index, rule_id, fire, then
        self.modules = sorted(set(fire) | set(then))


class ExcludesRule:
    """``refs``: one (module, option indices) pair per reference; at most one may match."""

    kind = "excludes"

    def __init__(self, index: int, rule_id: str, refs: list):
        self.index, self.id, self.refs = index, rule_id, refs
        self.modules = sorted({m for m, _ in refs})

    def matches(self, module: int, value: int) -> int:
        """How many references a module's value matches."""
        if value == NONE:
            return 0
        return sum(1 for m, values in self.refs if m == module and value in values)


class EachRule:
    """Options in ``offend[m]`` are forbidden, always or once an option in ``fire`` is chosen."""

    kind = "each"

    def __init__(self, index: int, rule_id: str, fire: dict | None, offend: dict):
        self.index, self.id, self.fire, self.offend = index, rule_id, fire, offend
        self.modules = sorted(set(fire or ()) | set(offend))


class SumRule:
    """The sum of ``amounts[m][option]`` over chosen options lies in [low, high] (None: open).

    ``fire`` as for ``EachRule``; modules absent from ``amounts`` contribute nothing.
    """

    kind = "sum"

    def __init__(self, index, rule_id, fire, amounts: dict, low, high):
        self.index, self.id, self.fire, self.amounts = index, rule_id, fire, amounts
        self.low, self.high = low, high
        self.modules = sorted(set(fire or ()) | set(amounts))

    def amount(self, module: int, value: int) -> int:
        if value == NONE or module not in self.amounts:
            return 0
        return self.amounts[module][value]


class SumLayers:
    """The achievable remaining sums of a ``SumRule`` along an order of its carrier modules.

    ``klass(i, s)`` names the class of partial sums that behave alike from layer ``i`` on: two
    partial sums in one class are completed to a sum within bounds by exactly the same remaining
    choices. ``None`` stands for "always within bounds", ``False`` for "never".
    """

    def __init__(self, rule: SumRule, carriers: list[int], values: Mapping[int, list[int]]):
        self.rule = rule
        self.carriers = carriers
        self.low = -(10**30) if rule.low is None else rule.low
        self.high = 10**30 if rule.high is None else rule.high
        remaining = [[0]]
        for module in reversed(carriers):
            amounts = {rule.amount(module, v) for v in values[module]}
            remaining.append(sorted({a + r for a in amounts for r in remaining[-1]}))
        self.remaining = remaining[::-1]

    def klass(self, layer: int, total: int):
        sums = self.remaining[layer]
        start = bisect_left(sums, self.low - total)
        stop = bisect_right(sums, self.high - total)
        if start >= stop:
            return False
        if start == 0 and stop == len(sums):
            return None
        return (start, stop)


class CatalogModel:
    """Indexes of a catalog's modules, options and rules."""

    def __init__(self, catalog: Catalog):
        multiple = [module.id for module in catalog.modules if module.multiple]
        if multiple:
            raise NotAllowed(
                f"the configuration engine does not answer yet for multi-select modules "
                f"({', '.join(multiple)} in catalog {catalog.id!r}); validate configurations with "
                "c2m_core.validation.validate (app.validate) instead",
                field="catalog",
                value=catalog.id,
                accepted="catalogs whose modules each take one option",
            )
        self.catalog = catalog
        self.module_ids = [module.id for module in catalog.modules]
        self.module_index = {module_id: i for i, module_id in enumerate(self.module_ids)}
        self.option_ids = [[option.id for option in module.options] for module in catalog.modules]
        self.option_index = [{o: j for j, o in enumerate(ids)} for ids in self.option_ids]
        self.required = [module.required for module in catalog.modules]
        self.rule_ids = [rule.id for rule in catalog.rules]
        self.rules = [self._rule(i, rule) for i, rule in enumerate(catalog.rules)]

    def values(self, module: int) -> list[int]:
        """The values of a module: its option indices, and ``NONE`` first when optional."""
        options = list(range(len(self.option_ids[module])))
        return options if self.required[module] else [NONE, *options]

    def ref_values(self, ref: Ref) -> tuple[int, frozenset[int]]:
        module = self.module_index[ref.module]
        if ref.option is None:
            return module, frozenset(range(len(self.option_ids[module])))
        return module, frozenset((self.option_index[module][ref.option],))

    def ref_sets(self, refs) -> dict[int, frozenset[int]]:
        """Module -> option indices matching any of ``refs``."""
        found: dict[int, set[int]] = {}
        for ref in refs:
            module, values = self.ref_values(ref)
            found.setdefault(module, set()).update(values)
        return {m: frozenset(v) for m, v in sorted(found.items())}

    def _rule(self, index, rule):
        if isinstance(rule, Requires):
            return RequiresRule(index, rule.id, self.ref_sets(rule.if_), self.ref_sets(rule.then))
        if isinstance(rule, Excludes):
            return ExcludesRule(index, rule.id, [self.ref_values(ref) for ref in rule.options])
        assert isinstance(rule, Limit)
        fire = self.ref_sets(rule.if_) if rule.if_ else None
        if rule.aggregate == "sum":
            amounts = {}
            for m, module in enumerate(self.catalog.modules):
                column = [option.attributes.get(rule.attribute, 0) for option in module.options]
                if any(column):
                    amounts[m] = column
            return SumRule(index, rule.id, fire, amounts, rule.minimum, rule.maximum)
        offend = {}
        for m, module in enumerate(self.catalog.modules):
            bad = frozenset(
                j
                for j, option in enumerate(module.options)
                if rule.attribute in option.attributes
                and _out_of_range(
                    int(option.attributes[rule.attribute]), rule.minimum, rule.maximum
                )
            )
            if bad:
                offend[m] = bad
        return EachRule(index, rule.id, fire, offend)

    def indexes(self, configuration: Mapping[str, str]) -> dict[int, int]:
        """Module index -> option index; ``InvalidInput`` names unknown modules and options."""
        problems = structural_violations(self.catalog, configuration)
        if problems:
            raise InvalidInput("; ".join(problem.message for problem in problems))
        return {
            self.module_index[m]: self.option_index[self.module_index[m]][o]
            for m, o in configuration.items()
        }

    def configuration(self, values: Mapping[int, int]) -> dict[str, str]:
        """Module id -> option id in catalog order, leaving out ``NONE``."""
        return {
            self.module_ids[m]: self.option_ids[m][values[m]]
            for m in sorted(values)
            if values[m] != NONE
        }


def _out_of_range(value: bool | int | float | str, low, high) -> bool:
    assert not isinstance(value, str)  # the catalog checks limited attributes are integers
    return (low is not None and value < low) or (high is not None and value > high)
