"""Numeric modules in the engine against brute force over the same catalogs spelled out by hand.

A numeric module reaches the engine as one option per value (``c2m_core.catalog``); these tests
check that translation and the engine's answers together: every count, remaining option,
satisfiability and repair on a catalog with numeric modules, sums and comparisons equals brute
force over the hand-written equivalent (``engine_reference.numeric_catalog_data``).
"""

from __future__ import annotations

from engine_reference import numeric_catalogs, solutions
from hypothesis import given, settings
from hypothesis import strategies as st

from c2m_core.engine import Engine
from c2m_core.validation import validate

SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def problems(draw):
    """(numeric catalog, spelled-out catalog, a partial configuration of known values)."""
    catalog, reference = draw(numeric_catalogs())
    partial = {}
    for module in reference.modules:
        if draw(st.integers(0, 2)) == 0:
            partial[module.id] = draw(st.sampled_from(module.option_ids))
    return catalog, reference, partial


@SETTINGS
@given(problems())
def test_counts_and_satisfiability_match_brute_force(problem):
    catalog, reference, partial = problem
    engine = Engine(catalog)
    expected = solutions(reference, None, partial)
    assert engine.count(partial) == len(expected)
    assert engine.count() == len(solutions(reference, None))
    assert engine.is_satisfiable(partial) == bool(expected)


@SETTINGS
@given(problems())
def test_remaining_values_match_brute_force(problem):
    catalog, reference, partial = problem
    result = Engine(catalog).options(partial)
    expected = solutions(reference, None, partial)
    assert result.satisfiable == bool(expected)
    for module in reference.modules:
        assert set(result.available(module.id)) == {c.get(module.id) for c in expected} - {None}


@SETTINGS
@given(problems(), st.data())
def test_repair_distance_matches_brute_force(problem, data):
    catalog, reference, wish = problem
    weights = {m: data.draw(st.integers(1, 3)) for m in wish if data.draw(st.booleans())}
    repair = Engine(catalog).repair(wish, weights=weights)
    candidates = solutions(reference, None)
    if not candidates:
        assert repair is None
        return

    def distance(configuration):
        return sum(weights.get(m, 1) for m in wish if configuration.get(m) != wish[m])

    assert repair is not None
    assert not validate(reference, repair.configuration)
    assert repair.distance == min(map(distance, candidates))


@SETTINGS
@given(problems())
def test_validation_equals_the_spelled_out_catalog(problem):
    catalog, reference, partial = problem
    for complete in (True, False):
        assert [v.rule for v in validate(catalog, partial, complete)] == [
            v.rule for v in validate(reference, partial, complete)
        ]
