"""Small random catalogs (hypothesis) and brute force over every configuration, for engine tests.

A configuration is a set of (module, option) choices: a multi-select module's value is a tuple of
option ids (catalog order, left out when empty). A partial configuration is extended by every
configuration holding all of its choices (``extends``).
"""

from __future__ import annotations

import itertools

import attrs
from hypothesis import strategies as st

from c2m_core.catalog import Catalog, choice_ids
from c2m_core.validation import Violation, known_choices, validate


@st.composite
def catalog_data(draw, max_modules=4, max_options=3, max_rules=6, max_multiple=0):
    """Catalog dicts: optional modules, attributes (some missing, some negative), all rule kinds,
    and up to ``max_multiple`` multi-select modules (``min``..``max`` of their options)."""
    modules = []
    multiple = 0
    for i in range(draw(st.integers(1, max_modules))):
        options = []
        for j in range(draw(st.integers(1, max_options))):
            attributes = {"w": draw(st.integers(-2, 6))}
            if draw(st.booleans()):
                attributes["a"] = draw(st.integers(0, 9))
            options.append({"id": f"o{j}", "title": f"option {j}", "attributes": attributes})
        module = {"id": f"m{i}", "title": f"module {i}", "options": options}
        if multiple < max_multiple and draw(st.booleans()):
            multiple += 1
            high = draw(st.integers(1, len(options)))
            module |= {"min": draw(st.integers(0, high)), "max": high}
        else:
            module["required"] = draw(st.booleans())
        modules.append(module)
    refs = [f"m{i}" for i in range(len(modules))] + [
        f"m{i}.{o['id']}" for i, m in enumerate(modules) for o in m["options"]
    ]
    has_a = any("a" in o["attributes"] for m in modules for o in m["options"])
    ref_lists = st.lists(st.sampled_from(refs), min_size=1, max_size=3, unique=True)
    rules = []
    for k in range(draw(st.integers(0, max_rules))):
        kind = draw(st.sampled_from(["requires", "excludes", "each", "sum"]))
        rule = {"id": f"r{k}", "message": f"rule {k}"}
        if kind == "requires":
            rule |= {"kind": "requires", "if": draw(ref_lists), "then": draw(ref_lists)}
        elif kind == "excludes":
            rule |= {
                "kind": "excludes",
                "options": draw(st.lists(st.sampled_from(refs), min_size=2, max_size=3)),
            }
        else:
            attribute = "a" if kind == "each" and has_a and draw(st.booleans()) else "w"
            low = draw(st.none() | st.integers(-4, 8))
            high = draw(st.none() | st.integers(-4, 12))
            if low is None and high is None:
                high = 4
            if low is not None and high is not None and low > high:
                low, high = high, low
            rule |= {
                "kind": "limit",
                "attribute": attribute,
                "aggregate": "each" if kind == "each" else "sum",
            }
            if low is not None:
                rule["min"] = low
            if high is not None:
                rule["max"] = high
            if draw(st.booleans()):
                rule["if"] = draw(ref_lists)
        rules.append(rule)
    return {
        "category": {"id": "rand", "title": "Random", "currency": "EUR", "base_price": 0},
        "modules": modules,
        "rules": rules,
    }


@st.composite
def customs(draw, catalog: Catalog):
    """A custom rule: forbidden combinations (read with ``get``), maybe a count via ``len``."""
    combos = []
    for _ in range(draw(st.integers(0, 2))):
        chosen = draw(
            st.lists(st.sampled_from(catalog.modules), min_size=1, max_size=2, unique_by=id)
        )
        combos.append({m.id: draw(st.sampled_from(module_values(m))) for m in chosen})
    at_most = draw(st.none() | st.integers(0, len(catalog.modules)))
    if not combos and at_most is None:
        return None
    return make_custom(combos, at_most)


def make_custom(combos, at_most=None):
    def custom(configuration, complete):
        found = []
        for k, combo in enumerate(combos):
            if all(configuration.get(m) == o for m, o in combo.items()):
                found.append(Violation(f"custom-{k}", "forbidden", (), kind="custom"))
        if at_most is not None and len(configuration) > at_most:
            found.append(Violation("custom-count", "too many", (), kind="custom"))
        return found

    return custom


def module_values(module) -> list:
    """A module's values in the engine's documented order: left out first, then its options; for
    a multi-select module every subset of ``min``..``max`` options (None for the empty one)
    ordered as its options' yes/no vectors, each option "not chosen" before "chosen", the first
    option deciding first."""
    if not module.multiple:
        return ([None] if not module.required else []) + list(module.option_ids)
    values = []
    for picks in itertools.product((False, True), repeat=len(module.options)):
        chosen = tuple(o for o, pick in zip(module.option_ids, picks, strict=True) if pick)
        if module.minimum <= len(chosen) <= module.maximum:
            values.append(chosen or None)
    return values


def configurations(catalog: Catalog):
    """Every complete configuration (valid or not), in catalog order with absent first."""
    domains = [module_values(m) for m in catalog.modules]
    for combo in itertools.product(*domains):
        yield {m.id: o for m, o in zip(catalog.modules, combo, strict=True) if o is not None}


def pairs(configuration) -> set[tuple[str, str]]:
    """The (module, option) choices of a configuration."""
    return {(m, o) for m, value in configuration.items() for o in choice_ids(value)}


def from_pairs(catalog: Catalog, chosen) -> dict:
    """The configuration holding exactly the ``chosen`` (module, option) choices."""
    found = {}
    for module in catalog.modules:
        options = tuple(o for o in module.option_ids if (module.id, o) in chosen)
        if options:
            found[module.id] = options if module.multiple else options[0]
    return found


def valid(catalog: Catalog, custom, configuration, rules=None) -> bool:
    """Valid under ``rules`` (rule ids; None: all), custom rules included by their ids."""
    if rules is not None:
        catalog = attrs.evolve(catalog, rules=tuple(r for r in catalog.rules if r.id in rules))
    if validate(catalog, configuration):
        return False
    if custom is None:
        return True
    broken = [v.rule for v in custom(known_choices(catalog, configuration), True)]
    return not [r for r in broken if rules is None or r in rules]


def extends(configuration, partial) -> bool:
    return pairs(partial) <= pairs(configuration)


def solutions(catalog, custom, partial=None, rules=None):
    partial = partial or {}
    return [
        c
        for c in configurations(catalog)
        if extends(c, partial) and valid(catalog, custom, c, rules)
    ]
