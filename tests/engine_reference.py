"""Small random catalogs (hypothesis) and brute force over every configuration, for engine tests."""

from __future__ import annotations

import itertools

import attrs
from hypothesis import strategies as st

from c2m_core.catalog import Catalog
from c2m_core.validation import Violation, validate


@st.composite
def catalog_data(draw, max_modules=4, max_options=3, max_rules=6):
    """Catalog dicts: optional modules, attributes (some missing, some negative), all rule kinds."""
    modules = []
    for i in range(draw(st.integers(1, max_modules))):
        options = []
        for j in range(draw(st.integers(1, max_options))):
            attributes = {"w": draw(st.integers(-2, 6))}
            if draw(st.booleans()):
                attributes["a"] = draw(st.integers(0, 9))
            options.append({"id": f"o{j}", "title": f"option {j}", "attributes": attributes})
        modules.append(
            {
                "id": f"m{i}",
                "title": f"module {i}",
                "required": draw(st.booleans()),
                "options": options,
            }
        )
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
        combos.append(
            {
                m.id: draw(
                    st.sampled_from([None, *m.option_ids])
                    if not m.required
                    else st.sampled_from(m.option_ids)
                )
                for m in chosen
            }
        )
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


def configurations(catalog: Catalog):
    """Every complete configuration (valid or not), in catalog order with absent first."""
    domains = [([None] if not m.required else []) + list(m.option_ids) for m in catalog.modules]
    for combo in itertools.product(*domains):
        yield {m.id: o for m, o in zip(catalog.modules, combo, strict=True) if o is not None}


def valid(catalog: Catalog, custom, configuration, rules=None) -> bool:
    """Valid under ``rules`` (rule ids; None: all), custom rules included by their ids."""
    if rules is not None:
        catalog = attrs.evolve(catalog, rules=tuple(r for r in catalog.rules if r.id in rules))
    if validate(catalog, configuration):
        return False
    if custom is None:
        return True
    broken = [v.rule for v in custom(dict(configuration), True)]
    return not [r for r in broken if rules is None or r in rules]


def extends(configuration, partial) -> bool:
    return all(configuration.get(m) == o for m, o in partial.items())


def solutions(catalog, custom, partial=None, rules=None):
    partial = partial or {}
    return [
        c
        for c in configurations(catalog)
        if extends(c, partial) and valid(catalog, custom, c, rules)
    ]
