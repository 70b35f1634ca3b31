"""Special-size aggregation: the dynamic programme against exhaustive search, and its plumbing."""

from __future__ import annotations

import json
from itertools import combinations

import pytest
from engine_reference import numeric_catalogs, solutions
from hypothesis import given, settings
from hypothesis import strategies as st

from c2m_core import C2M
from c2m_core.engine import Engine
from c2m_core.wishes.sizes import SizeDemand, choose_sizes, evaluate, restricted

SETTINGS = settings(max_examples=400, deadline=None)


@st.composite
def size_problems(draw):
    """(demands with their own intervals, candidate sizes, K, minimum batch)."""
    candidates = sorted(draw(st.sets(st.integers(0, 12), min_size=0, max_size=7)))
    demands = []
    for _ in range(draw(st.integers(0, 8))):
        value = draw(st.integers(0, 12))
        low = draw(st.none() | st.integers(0, 6).map(lambda d, v=value: v - d))
        high = draw(st.none() | st.integers(0, 6).map(lambda d, v=value: v + d))
        demands.append(SizeDemand(value, draw(st.integers(1, 5)), low, high))
    return demands, candidates, draw(st.integers(1, 4)), draw(st.integers(1, 8))


def objective(demands, sizes, min_batch):
    """(covered, -deviation, -sizes) of exactly ``sizes``, or None when a batch is too small;
    written apart from the code under test."""
    batches = dict.fromkeys(sizes, 0)
    deviation = 0
    for d in demands:
        fits = [
            s for s in sizes if (d.low is None or d.low <= s) and (d.high is None or s <= d.high)
        ]
        if fits:
            size = sorted(fits, key=lambda s: (abs(s - d.value), s))[0]
            batches[size] += d.quantity
            deviation += d.quantity * abs(size - d.value)
    if any(b < min_batch for b in batches.values()):
        return None
    return (sum(batches.values()), -deviation, -len(sizes))


def exhaustive(demands, candidates, k, min_batch):
    """The best objective over every set of at most k candidates whose batches all reach it."""
    found = [
        objective(demands, sizes, min_batch)
        for count in range(k + 1)
        for sizes in combinations(candidates, count)
    ]
    return max(f for f in found if f is not None)


@SETTINGS
@given(size_problems())
def test_the_dynamic_programme_equals_exhaustive_search(problem):
    demands, candidates, k, min_batch = problem
    plan = choose_sizes(demands, candidates, k, min_batch)
    assert plan.objective == exhaustive(demands, candidates, k, min_batch)
    assert len(plan.sizes) <= k and set(plan.sizes) <= set(candidates)
    assert all(batch >= min_batch for batch in plan.batches)
    assert plan == evaluate(demands, plan.sizes)


@SETTINGS
@given(size_problems())
def test_every_wish_goes_to_the_nearest_size_it_accepts(problem):
    demands, candidates, k, min_batch = problem
    plan = choose_sizes(demands, candidates, k, min_batch)
    for demand, size in zip(demands, plan.assigned, strict=True):
        accepted = [s for s in plan.sizes if demand.accepts(s)]
        if not accepted:
            assert size is None
            continue
        assert size == min(accepted, key=lambda s: (abs(s - demand.value), s))


def test_a_sofa_shorter_than_the_wall_never_longer():
    # Walls of 243..250 cm take a 240 cm sofa; a 236 cm wall cannot take it (only shorter).
    demands = [
        SizeDemand(240, 50, 210, 240),
        SizeDemand(250, 30, 220, 250),
        SizeDemand(230, 20, 200, 230),
        SizeDemand(300, 5, 270, 300),
    ]
    plan = choose_sizes(demands, range(160, 330, 10), max_sizes=2, min_batch=10)
    assert plan.sizes == (230, 240)
    assert plan.assigned == (240, 240, 230, None)
    assert plan.batches == (20, 80)
    assert (plan.covered, plan.total, plan.deviation) == (100, 105, 300)


def test_the_minimum_batch_can_leave_a_size_out():
    demands = [SizeDemand(200, 9, 200, 200), SizeDemand(300, 12, 300, 300)]
    assert choose_sizes(demands, [200, 300], 2, min_batch=10).sizes == (300,)
    assert choose_sizes(demands, [200, 300], 2, min_batch=13).sizes == ()


@pytest.mark.parametrize(("k", "batch"), [(0, 1), (1, 0)])
def test_bad_parameters_are_refused(k, batch):
    with pytest.raises(ValueError):
        choose_sizes([], [1], k, batch)


@st.composite
def restrictions(draw):
    """(numeric catalog, spelled-out reference, module -> the values kept, at least one)."""
    catalog, reference = draw(numeric_catalogs())
    allowed = {}
    for module in catalog.numeric_modules:
        if draw(st.booleans()):
            allowed[module.id] = draw(
                st.sets(st.sampled_from(module.option_ids), min_size=1).map(sorted)
            )
    return catalog, reference, allowed


@settings(max_examples=200, deadline=None)
@given(restrictions())
def test_a_catalog_restricted_to_some_sizes_answers_like_forbidding_the_others(problem):
    catalog, reference, allowed = problem
    expected = [
        c
        for c in solutions(reference, None)
        if all(c.get(m) is None or c[m] in values for m, values in allowed.items())
    ]
    engine = Engine(restricted(catalog, allowed))
    assert engine.count() == len(expected)
    assert sorted(map(sorted_items, engine.enumerate())) == sorted(map(sorted_items, expected))


def sorted_items(configuration):
    return tuple(sorted(configuration.items()))


def sofa_campaign(app, wishes, slug="sofas"):
    app.campaigns.create(slug, "sofa")
    app.campaigns.advance(slug)
    for i, (configuration, quantity) in enumerate(wishes):
        app.wishes.submit(slug, f"u{i}", configuration, quantity=quantity)


LIVING = {"template": "classic", "room": "living-room", "fabric": "linen", "legs": "oak"}
SOFA_WISHES = [
    ({**LIVING, "length": "250", "depth": "90"}, 30),
    ({**LIVING, "length": "240", "depth": "90"}, 25),
    ({**LIVING, "length": "230", "depth": "95"}, 20),
    ({**LIVING, "length": "200", "depth": "85"}, 15),
    ({**LIVING, "length": "190", "depth": "90"}, 15),
    ({"length": "160", "depth": "80"}, 4),  # accepts only 160, below the MOQ alone
    ({"length": "300", "frame": "reinforced"}, 2),
    ({"fabric": "velvet", "legs": "metal"}, 40),  # any size: a variant has a standard one
]


def test_a_sofa_campaign_aggregates_into_standard_sizes():
    with C2M(db_path=":memory:") as app:
        sofa_campaign(app, SOFA_WISHES)
        result = app.wishes.aggregate("sofas", max_variants=3, moq=10, max_sizes=2)
        catalog = app.category("sofa").catalog
        number = catalog.module("length").number
        lengths = [
            SizeDemand(int(c["length"]), q, *number.accepted(int(c["length"])))
            for c, q in SOFA_WISHES
            if "length" in c
        ]
        plan = choose_sizes(lengths, range(160, 330, 10), 2, 10)
        [length, depth] = result.sizes
        assert (length.module, length.unit) == ("length", "cm")
        assert length.sizes == plan.sizes == (190, 230)
        assert length.batches == plan.batches == (30, 75)
        assert (length.assigned_quantity, length.total_quantity) == (105, 111)
        assert depth.module == "depth" and len(depth.sizes) <= 2
        assert result.total_quantity == 151
        velvet = [v for v in result.variants if v.variant.configuration["fabric"] == "velvet"]
        assert velvet and velvet[0].covered == 40
        for chosen in result.variants:
            assert int(chosen.variant.configuration["length"]) in length.sizes
            assert str(chosen.variant.configuration["depth"]) in map(str, depth.sizes)
        # the wishes that accept no standard length stay uncovered, whatever the variants
        assert {"160", "300"} <= {c.get("length") for c, _ in result.uncovered}
        assert result.covered_quantity <= 105 + 40


def test_the_command_line_shows_the_standard_sizes():
    from click.testing import CliRunner

    from c2m_core.cli import make_cli

    with C2M(db_path=":memory:") as app:
        sofa_campaign(app, SOFA_WISHES)
        args = ["wish", "aggregate", "sofas", "--max-variants", "3", "--moq", "10"]
        result = CliRunner().invoke(make_cli(), [*args, "--max-sizes", "2"], obj=app)
        assert result.exit_code == 0, result.output
        assert "standard size" in result.output and "230 cm" in result.output
        assert "length: 2 standard sizes take 105 of 111 wished units" in result.output
        result = CliRunner().invoke(make_cli(), [*args, "--json"], obj=app)
        assert result.exit_code == 0, result.output
        sizes = {p["module"]: p for p in json.loads(result.output)["sizes"]}
        assert sizes["length"]["total_quantity"] == 111
        assert json.loads(result.output)["total_quantity"] == 151
        result = CliRunner().invoke(make_cli(), [*args, "--max-sizes", "0"], obj=app)
        assert result.exit_code == 2 and "max_sizes" in result.output
