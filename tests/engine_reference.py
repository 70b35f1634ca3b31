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
            rule |= draw(limit_of(attribute, kind, low=-4))
            if draw(st.booleans()):
                rule["if"] = draw(ref_lists)
        rules.append(rule)
    return {
        "category": {"id": "rand", "title": "Random", "currency": "EUR", "base_price": 0},
        "modules": modules,
        "rules": rules,
    }


@st.composite
def limit_of(draw, attribute: str, kind: str, low: int):
    """The keys of a limit rule on ``attribute`` (``kind`` each or sum), bounds from ``low``."""
    minimum = draw(st.none() | st.integers(low, 8))
    maximum = draw(st.none() | st.integers(low, 12))
    if minimum is None and maximum is None:
        maximum = 4
    if minimum is not None and maximum is not None and minimum > maximum:
        minimum, maximum = maximum, minimum
    rule = {
        "kind": "limit",
        "attribute": attribute,
        "aggregate": "each" if kind == "each" else "sum",
    }
    if minimum is not None:
        rule["min"] = minimum
    if maximum is not None:
        rule["max"] = maximum
    return rule


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


@st.composite
def numeric_catalog_data(draw, max_modules=3, max_options=3, max_rules=5):
    """(catalog data with one or two numeric modules, the same catalog spelled out by hand).

    The second catalog is the reference: every value of a numeric module written as an option
    carrying value * factor for each attribute, and every comparison reference (``n0>=2``)
    replaced by the values it matches, so brute force over it checks the loader's translation
    as well as the engine.
    """
    base = draw(catalog_data(max_modules=max_modules, max_options=max_options, max_rules=0))
    modules = list(base["modules"])
    spelled = list(base["modules"])
    values: dict[str, list[int]] = {}
    for i in range(draw(st.integers(1, 2))):
        module_id = f"n{i}"
        low = draw(st.integers(0, 4))
        step = draw(st.integers(1, 3))
        count = draw(st.integers(1, 4))
        factors = {"w": draw(st.integers(-2, 2))}
        if draw(st.booleans()):
            factors["a"] = draw(st.integers(0, 2))
        required = draw(st.booleans())
        number = {"min": low, "max": low + step * (count - 1), "step": step}
        number["attributes"] = factors
        modules.append(
            {"id": module_id, "title": module_id, "required": required, "number": number}
        )
        values[module_id] = [low + step * k for k in range(count)]
        spelled.append(
            {
                "id": module_id,
                "title": module_id,
                "required": required,
                "options": [
                    {
                        "id": str(v),
                        "title": str(v),
                        "attributes": {name: v * f for name, f in factors.items()},
                    }
                    for v in values[module_id]
                ],
            }
        )
    plain = [f"m{i}" for i in range(len(base["modules"]))] + [
        f"m{i}.{o['id']}" for i, m in enumerate(base["modules"]) for o in m["options"]
    ]
    numeric = [f"{m}.{v}" for m, vs in values.items() for v in vs] + list(values)
    comparisons = [
        (f"{m}{op}{bound}", m, op, bound)
        for m, vs in values.items()
        for op in (">=", "<=", "=")
        for bound in vs
    ]

    def expand(texts):
        expanded = []
        for text in texts:
            match = [c for c in comparisons if c[0] == text]
            if not match:
                expanded.append(text)
                continue
            _, m, op, bound = match[0]
            keep = {">=": bound.__le__, "<=": bound.__ge__, "=": bound.__eq__}[op]
            expanded.extend(f"{m}.{v}" for v in values[m] if keep(v))
        return expanded

    everything = plain + numeric + [c[0] for c in comparisons]

    def ref_list():
        chosen = draw(st.lists(st.sampled_from(everything), min_size=1, max_size=3, unique=True))
        return chosen, expand(chosen)

    rules, spelled_rules = [], []
    for k in range(draw(st.integers(0, max_rules))):
        kind = draw(st.sampled_from(["requires", "excludes", "each", "sum"]))
        rule = {"id": f"r{k}", "message": f"rule {k}"}
        if kind == "requires":
            (if_, if_s), (then, then_s) = ref_list(), ref_list()
            rules.append(rule | {"kind": "requires", "if": if_, "then": then})
            spelled_rules.append(rule | {"kind": "requires", "if": if_s, "then": then_s})
            continue
        if kind == "excludes":
            texts = draw(st.lists(st.sampled_from(everything), min_size=2, max_size=3))
            rules.append(rule | {"kind": "excludes", "options": texts})
            spelled_rules.append(rule | {"kind": "excludes", "options": expand(texts)})
            continue
        rule |= draw(limit_of("w", kind, low=-6))
        if draw(st.booleans()):
            if_, if_s = ref_list()
            rules.append(rule | {"if": if_})
            spelled_rules.append(rule | {"if": if_s})
        else:
            rules.append(rule)
            spelled_rules.append(rule)
    head = base["category"]
    return (
        {"category": head, "modules": modules, "rules": rules},
        {"category": head, "modules": spelled, "rules": spelled_rules},
    )


@st.composite
def numeric_catalogs(draw):
    """(a catalog with numeric modules, the same catalog spelled out by hand), loaded."""
    data, spelled = draw(numeric_catalog_data())
    return Catalog.from_dict(data), Catalog.from_dict(spelled)
