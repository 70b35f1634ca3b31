"""The catalog as index arithmetic: modules and options by position, rules as option sets.

Every part of the engine (the fast checker, the CNF encoding, the counter) reads this form, so a
rule means the same thing everywhere. A value of a module is an option index, or ``NONE`` when an
optional module is left out.

A multi-select module is translated here, at the boundary, into modules that take one option
each (see ``expand``): one optional module per option (chosen or not), the ``min``..``max``
bound as a sum limit over them, and rules over option o of it as rules over o's module. The rest
of the engine sees only modules that take one option; ``CatalogModel.indexes`` and
``CatalogModel.named`` translate configurations in and out.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping

import attrs

from ..catalog import Catalog, Choice, Excludes, Limit, Module, Option, Ref, Requires, choice_ids
from ..errors import InvalidInput
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
    """Indexes of a catalog's modules, options and rules.

    For a catalog with multi-select modules the indexes are those of its expansion (``expand``):
    ``catalog`` is the expanded catalog, ``source`` the one given; ``named_rules`` rules come
    from the source (in its order), the rest hold the expansion's structure and are never named.
    """

    def __init__(self, catalog: Catalog):
        self.source = catalog
        self.expanded = catalog.has_multiple
        self.slots: list[Slot]
        if self.expanded:
            catalog, self.slots = expand(catalog)
        else:
            self.slots = [Slot(module.id) for module in catalog.modules]
        self.named_rules = len(self.source.rules)
        self.catalog = catalog
        self.module_ids = [module.id for module in catalog.modules]
        self.module_index = {module_id: i for i, module_id in enumerate(self.module_ids)}
        self.option_ids = [[option.id for option in module.options] for module in catalog.modules]
        self.option_index = [{o: j for j, o in enumerate(ids)} for ids in self.option_ids]
        self.required = [module.required for module in catalog.modules]
        self.rule_ids = [rule.id for rule in catalog.rules]
        self.rules = [self._rule(i, rule) for i, rule in enumerate(catalog.rules)]
        self.members: dict[str, list[int]] = {}
        for m, slot in enumerate(self.slots):
            if slot.kind != ANY:
                self.members.setdefault(slot.module, []).append(m)

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

    def indexes(self, configuration: Mapping[str, Choice], wish: bool = False) -> dict[int, int]:
        """Module index -> option index of a partial configuration of the source catalog.

        A multi-select module's value lists options that are chosen (others may be added), so
        it may name fewer than its ``min``; ``InvalidInput`` names unknown modules and options,
        options given twice, more than ``max`` options (unless ``wish``: a repair may drop
        some), or several for a single-select module.
        """
        problems = []
        for module_id, value in configuration.items():
            module = self.source.module(module_id)
            found = structural_violations(self.source, {module_id: value})
            if module is not None and module.multiple and _distinct(module, value, wish):
                found = [p for p in found if p.rule != "option-count"]
            problems.extend(found)
        if problems:
            raise InvalidInput("; ".join(problem.message for problem in problems))
        values = {}
        for module_id, value in configuration.items():
            for option_id in choice_ids(value):
                m = self.member(module_id, option_id)
                values[m] = self.option_index[m][option_id]
        return values

    def member(self, module_id: str, option_id: str) -> int:
        """The module index standing for ``option_id`` of source module ``module_id``."""
        members = self.members[module_id]
        if len(members) == 1 and self.slots[members[0]].kind == SINGLE:
            return members[0]
        return self.module_index[f"{module_id}.{option_id}"]

    def configuration(self, values: Mapping[int, int]) -> dict[str, str]:
        """Module id -> option id in catalog order, leaving out ``NONE`` (the engine's own
        modules: for an expanded catalog, its expansion's; see ``named`` for the source's)."""
        return {
            self.module_ids[m]: self.option_ids[m][values[m]]
            for m in sorted(values)
            if values[m] != NONE
        }

    def named(self, values: Mapping[int, int]) -> dict[str, Choice]:
        """The source catalog's configuration of ``values``: a multi-select module's chosen
        options as a tuple in catalog order, left out when it chooses none."""
        if not self.expanded:
            return dict(self.configuration(values))
        found: dict[str, Choice] = {}
        several: dict[str, list[str]] = {}
        slots, option_ids = self.slots, self.option_ids
        for m in sorted(values):
            value = values[m]
            if value == NONE:
                continue
            slot = slots[m]
            if slot.kind == SINGLE:
                found[slot.module] = option_ids[m][value]
            elif slot.kind == OPTION:
                if slot.module in several:
                    several[slot.module].append(option_ids[m][value])
                else:
                    several[slot.module] = [option_ids[m][value]]
                    found[slot.module] = ()
        for module_id, chosen in several.items():
            found[module_id] = tuple(chosen)
        return found

    def source_configuration(self, configuration: Mapping[str, str]) -> dict[str, Choice]:
        """``named`` for a configuration of the engine's own modules (module id -> option id)."""
        index = self.module_index
        return self.named(
            {index[m]: self.option_index[index[m]][o] for m, o in configuration.items()}
        )

    def pairs(self) -> Iterator[tuple[int, int, str, str]]:
        """(module index, option index, source module id, source option id) of every option
        the source catalog shows, in catalog order."""
        for m, slot in enumerate(self.slots):
            if slot.kind == ANY:
                continue
            for j, option_id in enumerate(self.option_ids[m]):
                yield m, j, slot.module, option_id

    def pair(self, m: int, j: int) -> tuple[str, str]:
        """The source module and option ids of option ``j`` of module ``m``."""
        return self.slots[m].module, self.option_ids[m][j]

    def structure(self, module_ids) -> str:
        """How many options the multi-select modules among ``module_ids`` take, in words."""
        return "; ".join(
            f"{module.id} takes {module.minimum} to {module.maximum} options"
            for module in self.source.modules
            if module.multiple and module.id in module_ids
        )

    def custom_view(self, custom: Callable) -> Callable:
        """``custom`` made to read configurations of the engine's modules as the source
        catalog's (the identity unless the catalog is expanded)."""
        if not self.expanded:
            return custom

        def seen(configuration, complete):
            if isinstance(configuration, dict):
                return custom(self.source_configuration(configuration), complete)
            return custom(_SourceView(configuration, self), complete)

        return seen


SINGLE, OPTION, ANY = "single", "option", "any"


@attrs.frozen
class Slot:
    """What a module of the engine stands for in the source catalog: a single-select module,
    one option of a multi-select module, or "any option of" a multi-select module."""

    module: str
    option: str | None = None
    kind: str = SINGLE


def expand(catalog: Catalog) -> tuple[Catalog, list[Slot]]:
    """The catalog with every multi-select module as modules that take one option each.

    Multi-select module ``m`` with options o1..ok becomes optional modules ``m.o1``..``m.ok``
    with one option each (the original option, same id and attributes), in place; its bound
    becomes a sum limit of a count attribute (``min``..``max``); a rule reference to ``m.o``
    becomes ``m.oi.o``, and to ``m`` as a whole the list of them, except in an ``excludes``
    rule, where "any option of m" is one reference: module ``m.*``, whose one option is chosen
    exactly when some option of ``m`` is (a sum limit ties them). Limits need nothing more:
    each option keeps its attributes. The structure's limits come after the catalog's rules.
    """
    whole = {
        ref.module
        for rule in catalog.rules
        if isinstance(rule, Excludes)
        for ref in rule.options
        if ref.option is None
    }
    modules: list[Module] = []
    slots: list[Slot] = []
    structure: list[Limit] = []
    for module in catalog.modules:
        if not module.multiple:
            modules.append(module)
            slots.append(Slot(module.id))
            continue
        count, anyone, k = f"\0count:{module.id}", f"\0any:{module.id}", len(module.options)
        for option in module.options:
            extra = {count: 1, **({anyone: 1} if module.id in whole else {})}
            sub = attrs.evolve(option, attributes={**option.attributes, **extra})
            modules.append(Module(f"{module.id}.{option.id}", option.title, (sub,), required=False))
            slots.append(Slot(module.id, option.id, OPTION))
        if module.id in whole:
            marker = Option("any", f"any of {module.title}", attributes={anyone: -k})
            modules.append(Module(f"{module.id}.*", module.title, (marker,), required=False))
            slots.append(Slot(module.id, None, ANY))
            structure.append(Limit(f"{module.id}:any", "structure", anyone, "sum", 1 - k, 0))
        if module.minimum > 0 or module.maximum < k:
            low = module.minimum if module.minimum > 0 else None
            high = module.maximum if module.maximum < k else None
            structure.append(
                Limit(f"{module.id}:count", module_count_text(module), count, "sum", low, high)
            )
    multiple = {module.id: module for module in catalog.modules if module.multiple}

    def refs(ref: Ref, as_one: bool = False) -> tuple[Ref, ...]:
        module = multiple.get(ref.module)
        if module is None:
            return (ref,)
        if ref.option is not None:
            return (Ref(f"{ref.module}.{ref.option}", ref.option),)
        if as_one:
            return (Ref(f"{ref.module}.*", "any"),)
        return tuple(Ref(f"{ref.module}.{o.id}", o.id) for o in module.options)

    def many(references) -> tuple[Ref, ...]:
        return tuple(r for ref in references for r in refs(ref))

    rules: list = []
    for rule in catalog.rules:
        if isinstance(rule, Requires):
            rules.append(attrs.evolve(rule, if_=many(rule.if_), then=many(rule.then)))
        elif isinstance(rule, Excludes):
            options = tuple(refs(ref, as_one=True)[0] for ref in rule.options)
            rules.append(attrs.evolve(rule, options=options))
        else:
            rules.append(attrs.evolve(rule, if_=many(rule.if_)))
    expanded = attrs.evolve(catalog, modules=tuple(modules), rules=(*rules, *structure))
    return expanded, slots


def module_count_text(module: Module) -> str:
    """``extras takes 0 to 3 options``."""
    return f"{module.id} takes {module.minimum} to {module.maximum} options"


def _distinct(module: Module, value, wish: bool) -> bool:
    """True when ``value`` names distinct options, at most ``max`` of them unless ``wish``
    (fewer than ``min`` is a partial choice)."""
    ids = choice_ids(value)
    return len(set(ids)) == len(ids) and (wish or len(ids) <= module.maximum)


class _SourceView(Mapping):
    """A configuration of the engine's modules read as the source catalog's, read-through: a
    custom rule reading module ``m`` reads the engine's modules that stand for ``m``, so the
    engine learns what the rule depends on."""

    def __init__(self, configuration: Mapping[str, str], model: CatalogModel):
        self._configuration = configuration
        self._model = model

    def __getitem__(self, key):
        members = self._model.members.get(key) if isinstance(key, str) else None
        model = self._model
        if members is None or model.slots[members[0]].kind == SINGLE:
            return self._configuration[key]
        chosen = tuple(
            model.slots[m].option
            for m in members
            if self._configuration.get(model.module_ids[m]) is not None
        )
        if not chosen:
            raise KeyError(key)
        return chosen

    def _whole(self) -> dict[str, Choice]:
        return self._model.source_configuration(dict(self._configuration))

    def __iter__(self):
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())

    def __repr__(self) -> str:
        return repr(self._whole())


def _out_of_range(value: bool | int | float | str, low, high) -> bool:
    assert not isinstance(value, str)  # the catalog checks limited attributes are integers
    return (low is not None and value < low) or (high is not None and value > high)
