"""The engine against brute force over every configuration of small random catalogs, some with
multi-select modules (a partial configuration's choices are (module, option) pairs: see
``engine_reference``)."""

from __future__ import annotations

import itertools
import json

from engine_reference import (
    catalog_data,
    customs,
    extends,
    from_pairs,
    pairs,
    solutions,
    valid,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2m_core import C2M
from c2m_core.catalog import Catalog, choice_ids
from c2m_core.engine import Engine
from c2m_core.engine.table import ValidTable
from c2m_core.validation import known_choices, validate

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw, with_custom=True):
    """(catalog, custom or None, a partial configuration of known ids)."""
    catalog = Catalog.from_dict(draw(catalog_data(max_multiple=2)))
    custom = draw(customs(catalog)) if with_custom and draw(st.booleans()) else None
    partial = {}
    for module in catalog.modules:
        if draw(st.integers(0, 2)) == 0:
            if module.multiple:
                partial[module.id] = tuple(
                    draw(
                        st.lists(
                            st.sampled_from(module.option_ids),
                            max_size=module.maximum,
                            unique=True,
                        )
                    )
                )
            else:
                partial[module.id] = draw(st.sampled_from(module.option_ids))
    return catalog, custom, partial


def usable(expected, module_id: str) -> set[str]:
    """The options of a module that some of the ``expected`` configurations choose."""
    return {o for c in expected for m, o in pairs(c) if m == module_id}


def busy(engine: Engine, catalog: Catalog) -> Engine:
    """The same engine after unrelated questions: answers must not depend on history."""
    for module in catalog.modules:
        for option in module.option_ids:
            engine.options({module.id: option})
    engine.count()
    return engine


@SETTINGS
@given(problems())
def test_satisfiable_and_count_match_brute_force(problem):
    catalog, custom, partial = problem
    engine = Engine(catalog, custom)
    expected = solutions(catalog, custom, partial)
    assert engine.is_satisfiable(partial) == bool(expected)
    assert engine.count(partial) == len(expected)
    assert engine.count() == len(solutions(catalog, custom))


@SETTINGS
@given(problems())
def test_remaining_options_match_brute_force_with_minimal_reasons(problem):
    catalog, custom, partial = problem
    engine = Engine(catalog, custom)
    result = engine.options(partial)
    expected = solutions(catalog, custom, partial)
    assert result.satisfiable == bool(expected)
    all_rules = {rule.id for rule in catalog.rules} | {f"custom-{k}" for k in range(3)}
    all_rules.add("custom-count")
    for module in catalog.modules:
        assert set(result.available(module.id)) == usable(expected, module.id)
        for status in result.of(module.id):
            assert status.chosen == ((module.id, status.option) in pairs(partial))
            already = status.chosen or (module.id in partial and not module.multiple)
            if status.available or already and result.satisfiable:
                continue
            reason = status.reason
            assert pairs(reason.choices) <= pairs(partial)
            wanted = from_pairs(catalog, pairs(reason.choices) | {(module.id, status.option)})
            if result.satisfiable:
                assert not solutions(catalog, custom, wanted, set(reason.rules))
                for dropped in pairs(reason.choices):
                    rest = from_pairs(catalog, pairs(wanted) - {dropped})
                    assert solutions(catalog, custom, rest)
            else:
                assert not solutions(catalog, custom, dict(reason.choices), set(reason.rules))
            for rule in reason.rules:
                assert rule in all_rules
                fewer = set(reason.rules) - {rule}
                assert solutions(
                    catalog, custom, wanted if result.satisfiable else dict(reason.choices), fewer
                )
    assert busy(Engine(catalog, custom), catalog).options(partial) == result


@SETTINGS
@given(problems())
def test_conflicts_are_minimal(problem):
    catalog, custom, partial = problem
    engine = Engine(catalog, custom)
    conflict = engine.explain(partial)
    if solutions(catalog, custom, partial):
        assert conflict is None
        return
    assert conflict is not None
    assert pairs(conflict.choices) <= pairs(partial)
    choices = dict(conflict.choices)
    assert not solutions(catalog, custom, choices)
    chosen = sorted(pairs(choices))
    for size in range(len(chosen)):
        for subset in itertools.combinations(chosen, size):
            assert solutions(catalog, custom, from_pairs(catalog, subset))
    assert not solutions(catalog, custom, choices, set(conflict.rules))
    for rule in conflict.rules:
        assert solutions(catalog, custom, choices, set(conflict.rules) - {rule})
    assert busy(Engine(catalog, custom), catalog).explain(partial) == conflict


def _rank(module, wished, changed, value):
    """The documented preference among a module's values once the change set is settled."""
    values = ([None] if not module.required else []) + list(module.option_ids)
    if changed:
        values = [v for v in values if v is not None and v != wished] + (
            [None] if not module.required else []
        )
    return values.index(value) if value in values else -1


def _repair_key(catalog, wish, weights):
    """(distance, which wished choices changed, ranks): the documented order of repairs.

    A multi-select module's options are decided one by one: a wished option is a choice
    (dropping it costs the module's weight), an option left open prefers "not chosen".
    """
    wished = [(m.id, o) for m in catalog.modules for o in m.option_ids if (m.id, o) in pairs(wish)]

    def key(configuration):
        chosen = pairs(configuration)
        changed = [pair not in chosen for pair in wished]
        distance = sum(weights.get(m, 1) for (m, _), c in zip(wished, changed, strict=True) if c)
        ranks = []
        for module in catalog.modules:
            if module.multiple:
                ranks.extend(int((module.id, o) in chosen) for o in module.option_ids)
            else:
                lost = module.id in wish and (module.id, wish[module.id]) not in chosen
                ranks.append(_rank(module, wish.get(module.id), lost, configuration.get(module.id)))
        return distance, changed, ranks

    return key


@SETTINGS
@given(problems(), st.data())
def test_repair_is_nearest_valid_and_canonical(problem, data):
    catalog, custom, wish = problem
    for module in catalog.modules:
        if module.multiple and module.id not in wish and data.draw(st.booleans()):
            wish[module.id] = module.option_ids  # a wish may hold more than max options
    weights = {m: data.draw(st.integers(1, 3)) for m in wish if data.draw(st.booleans())}
    keep = [m for m in wish if data.draw(st.integers(0, 3)) == 0]
    engine = Engine(catalog, custom)
    repair = engine.repair(wish, weights=weights, keep=keep)
    candidates = solutions(catalog, custom, {m: wish[m] for m in keep})
    if not candidates:
        assert repair is None
        return
    key = _repair_key(catalog, wish, weights)
    best = min(candidates, key=key)
    assert repair is not None
    assert valid(catalog, custom, repair.configuration)
    assert repair.distance == key(best)[0]
    assert repair.configuration == best
    assert all(pairs({m: wish[m]}) <= pairs(repair.configuration) for m in keep)
    wished = from_pairs(catalog, pairs(wish))
    expected_changes = {
        m.id: (wished.get(m.id), best.get(m.id))
        for m in catalog.modules
        if wished.get(m.id) != best.get(m.id)
    }
    assert {c.module: (c.old, c.new) for c in repair.changes} == expected_changes
    assert busy(Engine(catalog, custom), catalog).repair(wish, weights, keep) == repair


@SETTINGS
@given(problems(), st.integers(0, 5))
def test_enumerate_lists_every_solution_in_catalog_order(problem, limit):
    catalog, custom, partial = problem
    engine = Engine(catalog, custom)
    expected = solutions(catalog, custom, partial)
    assert list(engine.enumerate(partial)) == expected
    assert list(busy(engine, catalog).enumerate(partial, limit=limit)) == expected[:limit]


@SETTINGS
@given(problems(), st.integers(0, 2**32))
def test_sample_is_valid_and_reproducible(problem, seed):
    catalog, custom, partial = problem
    engine = Engine(catalog, custom)
    drawn = engine.sample(5, seed, partial)
    if not solutions(catalog, custom, partial):
        assert drawn == []
        return
    assert len(drawn) == 5
    for configuration in drawn:
        assert extends(configuration, partial)
        assert valid(catalog, custom, configuration)
    assert busy(Engine(catalog, custom), catalog).sample(5, seed, partial) == drawn


@SETTINGS
@given(problems(), st.data())
def test_fast_validate_equals_pure_validator(problem, data):
    catalog, custom, _ = problem
    engine = Engine(catalog, custom)
    configuration = {}
    for module in catalog.modules:
        values = [None, "bogus", *module.option_ids]
        if module.multiple:
            choice = data.draw(st.none() | st.lists(st.sampled_from(values[1:]), max_size=4))
            choice = None if choice is None else tuple(choice)
        else:
            choice = data.draw(st.sampled_from(values))
        if choice is not None:
            configuration[module.id] = choice
    if data.draw(st.booleans()):
        configuration["nope"] = "o0"
    for complete in (True, False):
        expected = validate(catalog, configuration, complete=complete)
        if custom is not None:
            expected += custom(known_choices(catalog, configuration), complete)
        assert engine.validate(configuration, complete=complete) == expected


@SETTINGS
@given(problems(), st.data())
def test_example_within_domains_ignoring_or_breaking_a_rule_matches_brute_force(problem, data):
    catalog, custom, partial = problem
    engine = Engine(catalog, custom)
    domains = {}
    for module in catalog.modules:
        if data.draw(st.integers(0, 2)) == 0:
            values = [*module.option_ids, None]
            domains[module.id] = data.draw(
                st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True)
            )

    def within(configuration, module_id, allowed) -> bool:
        chosen = choice_ids(configuration.get(module_id))
        return any(o in allowed for o in chosen) if chosen else None in allowed

    everything = [
        c
        for c in solutions(catalog, None, rules=set())
        if all(within(c, m, allowed) for m, allowed in domains.items())
    ]

    def broken(configuration):
        found = {v.rule for v in validate(catalog, configuration)}
        if custom is not None:
            found |= {v.rule for v in custom(known_choices(catalog, configuration), True)}
        return found

    found = engine.example(domains)
    assert (found is None) == (not any(not broken(c) for c in everything))
    if found is not None:
        assert found in everything and not broken(found)
    for rule in catalog.rules:
        found = engine.example(domains, ignore=rule.id, breaking=rule.id)
        assert (found is None) == (not any(broken(c) == {rule.id} for c in everything)), rule
        if found is not None:
            assert found in everything and broken(found) == {rule.id}
        found = engine.example(domains, ignore=rule.id)
        assert (found is None) == (not any(broken(c) <= {rule.id} for c in everything))
    assert busy(Engine(catalog, custom), catalog).example(domains) == engine.example(domains)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_custom_rules_that_need_a_real_dict_still_get_exact_answers(problem):
    catalog, custom, partial = problem
    if custom is None:
        return

    def strict(configuration, complete):
        json.dumps(configuration)  # fails on anything but a real dict
        return custom(configuration, complete)

    engine = Engine(catalog, strict)
    expected = solutions(catalog, custom, partial)
    assert engine.count(partial) == len(expected)
    result = engine.options(partial)
    for module in catalog.modules:
        assert set(result.available(module.id)) == usable(expected, module.id)
    assert list(engine.enumerate(partial)) == expected


def test_compile_keeps_no_process_global_state():
    catalog = Catalog.from_dict(
        {
            "category": {"id": "c", "title": "C", "currency": "EUR", "base_price": 0},
            "modules": [{"id": "m", "title": "M", "options": [{"id": "a", "title": "A"}]}],
        }
    )
    engine = Engine.compile(catalog)
    assert Engine.compile(Catalog.from_dict(catalog.to_dict())) is not engine
    assert not hasattr(Engine, "_cache")
    assert engine.count() == 1


@st.composite
def single_select_problems(draw):
    """(catalog without multi-select modules, custom or None, a partial configuration)."""
    catalog = Catalog.from_dict(draw(catalog_data()))
    custom = draw(customs(catalog)) if draw(st.booleans()) else None
    partial = {
        module.id: draw(st.sampled_from(module.option_ids))
        for module in catalog.modules
        if draw(st.integers(0, 2)) > 0
    }
    return catalog, custom, partial


@SETTINGS
@given(single_select_problems())
def test_the_table_of_valid_configurations_judges_as_the_engine(problem):
    """``ValidTable`` (the wish import's judge for small catalogs) answers as brute force and
    the engine: whether a partial configuration can be completed, and its nearest valid
    configuration in the documented order of repairs."""
    catalog, custom, wish = problem
    engine = Engine(catalog, custom)
    table = ValidTable.of(engine)
    assert table is not None
    satisfiable, nearest = table.judge(wish)
    assert satisfiable == bool(solutions(catalog, custom, wish)) == engine.is_satisfiable(wish)
    candidates = solutions(catalog, custom)
    if not candidates:
        assert nearest is None and engine.repair(wish) is None
        return
    assert nearest == min(candidates, key=_repair_key(catalog, wish, {}))
    assert nearest == engine.repair(wish).configuration


def test_no_table_for_multi_select_modules():
    with C2M(db_path=":memory:") as app:
        fridge = app.category("fridge")
        assert any(module.multiple for module in fridge.catalog.modules)
        assert ValidTable.of(app.engine(fridge)) is None
        assert ValidTable.of(app.engine("tv")) is not None
