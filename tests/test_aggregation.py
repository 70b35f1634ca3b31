"""Aggregation against the brute-force optimum on small random instances."""

import itertools
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from c2m_core.wishes.aggregation import (
    Coverage,
    Demand,
    bits,
    choose_variants,
    popular_completions,
)


def agrees(variant, demand) -> bool:
    return all(variant.get(m) == o for m, o in demand.configuration.items())


def covered_by(chosen, demands) -> int:
    return sum(d.quantity for d in demands if any(agrees(c, d) for c in chosen))


def optimum(demands, candidates, k) -> int:
    best = 0
    for size in range(1, min(k, len(candidates)) + 1):
        for combination in itertools.combinations(candidates, size):
            best = max(best, covered_by(combination, demands))
    return best


@st.composite
def instances(draw):
    sizes = draw(st.lists(st.integers(2, 3), min_size=2, max_size=3))
    modules = [f"m{i}" for i in range(len(sizes))]
    everything = [
        dict(zip(modules, (f"o{o}" for o in combo), strict=True))
        for combo in itertools.product(*(range(n) for n in sizes))
    ]
    # Some configurations are "invalid": candidates are the rest.
    candidates = draw(st.lists(st.sampled_from(everything), min_size=1, max_size=12, unique_by=str))
    demands = []
    for _ in range(draw(st.integers(1, 8))):
        chosen = {
            m: f"o{draw(st.integers(0, n - 1))}"
            for m, n in zip(modules, sizes, strict=True)
            if draw(st.booleans())
        }
        demands.append(Demand(chosen, draw(st.integers(1, 20))))
    k = draw(st.integers(1, 3))
    return modules, demands, candidates, k


def check_assignment(selection, demands, candidates, k, moq):
    assert len(selection.chosen) <= k
    keys = [c for c in candidates]
    assigned = []
    for pick in selection.chosen:
        assert pick.configuration in keys
        assert pick.covered >= moq
        assert pick.covered == sum(demands[i].quantity for i in pick.demands)
        for i in pick.demands:
            assert agrees(pick.configuration, demands[i])
        assigned.extend(pick.demands)
    # Each demand counts toward one variant only.
    assert len(assigned) == len(set(assigned))
    assert selection.covered == sum(p.covered for p in selection.chosen)
    assert sorted(assigned + list(selection.uncovered)) == list(range(len(demands)))
    for i in selection.uncovered:
        assert not any(agrees(p.configuration, demands[i]) for p in selection.chosen)
    assert selection.total == sum(d.quantity for d in demands)


@settings(max_examples=150, deadline=None)
@given(instances())
def test_never_below_one_minus_one_over_e_of_the_optimum(instance):
    modules, demands, candidates, k = instance
    selection = choose_variants(demands, candidates, modules, k)
    check_assignment(selection, demands, candidates, k, 1)
    best = optimum(demands, candidates, k)
    assert selection.covered >= (1 - 1 / math.e) * best
    assert selection.covered <= best
    assert selection.covered == covered_by([p.configuration for p in selection.chosen], demands)


@settings(max_examples=150, deadline=None)
@given(instances(), st.integers(1, 40))
def test_with_a_minimum_batch_every_variant_meets_it(instance, moq):
    modules, demands, candidates, k = instance
    selection = choose_variants(demands, candidates, modules, k, moq=moq)
    check_assignment(selection, demands, candidates, k, moq)
    assert selection.covered <= optimum(demands, candidates, k)
    if not selection.chosen:
        # Nothing was chosen only when no candidate alone reaches the minimum batch.
        assert all(covered_by([c], demands) < moq for c in candidates)


@settings(max_examples=100, deadline=None)
@given(instances(), st.randoms(use_true_random=False))
def test_deterministic_whatever_the_order_of_the_demand(instance, rng):
    modules, demands, candidates, k = instance
    first = choose_variants(demands, candidates, modules, k)
    shuffled = list(demands)
    rng.shuffle(shuffled)
    again = choose_variants(shuffled, candidates, modules, k)
    assert [p.configuration for p in again.chosen] == [p.configuration for p in first.chosen]
    assert again.covered == first.covered


def test_the_swap_pass_repairs_a_greedy_first_pick():
    modules = ["p", "q", "r"]
    a = {"p": "1", "q": "1", "r": "1"}
    b = {"p": "2", "q": "2", "r": "1"}
    m = {"p": "1", "q": "2", "r": "2"}
    demands = [
        Demand({"p": "1"}, 2),  # a and m
        Demand({"q": "1"}, 2),  # a only
        Demand({"q": "2"}, 2),  # b and m
        Demand({"p": "2"}, 2),  # b only
        Demand({"r": "2"}, 1),  # m only
    ]
    # Greedy alone takes m (5) then a or b (+2) = 7; the optimum is a + b = 8.
    selection = choose_variants(demands, [a, b, m], modules, 2)
    assert selection.covered == 8 == optimum(demands, [a, b, m], 2)
    assert sorted(p.configuration["p"] for p in selection.chosen) == ["1", "2"]


def test_a_variant_below_the_minimum_batch_is_not_chosen():
    modules = ["size", "base"]
    demands = [Demand({"size": "65"}, 30), Demand({"size": "55"}, 4)]
    candidates = [{"size": "65", "base": "feet"}, {"size": "55", "base": "feet"}]
    selection = choose_variants(demands, candidates, modules, 5, moq=5)
    assert [p.configuration for p in selection.chosen] == [candidates[0]]
    assert selection.uncovered == (1,)
    assert selection.share == 30 / 34


def test_identical_candidates_count_once_and_ties_go_to_the_first_given():
    modules = ["a"]
    demands = [Demand({}, 3)]
    candidates = [{"a": "y"}, {"a": "x"}, {"a": "y"}]
    selection = choose_variants(demands, candidates, modules, 2)
    assert selection.candidates == 2
    assert [p.configuration for p in selection.chosen] == [{"a": "y"}]


def test_coverage_weights_match_a_direct_sum():
    rng = random.Random(7)
    demands = [
        Demand({"a": rng.choice("xyz")} if rng.random() < 0.7 else {}, rng.randint(1, 10**6))
        for _ in range(300)
    ]
    coverage = Coverage(demands, ["a"])
    for option in "xyz":
        mask = coverage.cover({"a": option})
        expected = sum(d.quantity for d in demands if d.configuration.get("a", option) == option)
        assert coverage.weight(mask) == expected
        assert list(bits(mask)) == [
            i for i, d in enumerate(demands) if d.configuration.get("a", option) == option
        ]


def test_popular_completions_rank_by_the_demand_they_cover():
    modules = ["size", "base"]
    demands = [Demand({"size": "65"}, 1), Demand({"base": "wall"}, 5), Demand({"base": "feet"}, 2)]
    coverage = Coverage(demands, modules)
    space = [{"size": s, "base": b} for s in ("55", "65") for b in ("feet", "stand", "wall")]

    def completions(partial, limit):
        found = [c for c in space if all(c[m] == o for m, o in partial.items())]
        return found[:limit]

    best = popular_completions(coverage, {"size": "65"}, completions, keep=2, limit=10)
    assert best == [{"size": "65", "base": "wall"}, {"size": "65", "base": "feet"}]


def test_bad_parameters_are_refused():
    import pytest

    with pytest.raises(ValueError, match="max_variants"):
        choose_variants([Demand({}, 1)], [{"a": "x"}], ["a"], 0)
    with pytest.raises(ValueError, match="moq"):
        choose_variants([Demand({}, 1)], [{"a": "x"}], ["a"], 1, moq=0)
    with pytest.raises(ValueError, match="quantity"):
        Coverage([Demand({}, 0)], ["a"])
