"""Counting stays within its memory and time budget, for every rule kind, or says what to do."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from c2m_core import C2M
from c2m_core.engine import BudgetExceeded, Engine, OutOfTime, TooManyStates

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import resource, sys
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.path.insert(0, {root!r})
    from bench.engine import benchmark_catalogs, random_catalog
    from c2m_core.engine import BudgetExceeded, Engine
    catalogs = [catalog for _, catalog, _ in benchmark_catalogs(quick=True)]
    catalogs.append(random_catalog(40, 8, 150, seed=3, power_budget=800, each_limit=55))
    for catalog in catalogs:
        engine = Engine(catalog)
        try:
            print("count", engine.count(max_bytes=int(sys.argv[2]), timeout=None))
        except BudgetExceeded as ex:
            print("budget", type(ex).__name__, ex)
    """
)


def test_counting_every_benchmark_catalog_under_a_memory_limit_ends_or_says_what_to_do():
    """Every rule kind (requires, excludes, each with and without a condition, sums) under an
    address-space limit a few times the byte budget: a count or ``TooManyStates``, never
    ``MemoryError``."""
    script = SCRIPT.format(root=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", script, str(1024 << 20), str(128 << 20)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MemoryError" not in result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 6
    assert lines[0] == "count 4481"
    for line in lines:
        assert line.startswith(("count", "budget TooManyStates")), line
        if line.startswith("budget"):
            assert "fix more choices" in line and "max_bytes" in line
    assert any(line.startswith("budget") for line in lines)


@pytest.fixture(scope="module")
def tv():
    return C2M(db_path=":memory:").engine("tv")


def test_state_and_byte_budgets_name_what_to_do(tv):
    with pytest.raises(TooManyStates, match="more than 3 memo states"):
        tv.count(max_states=3)
    with pytest.raises(TooManyStates, match="bytes of memo states.*raise the budget"):
        tv.count(max_bytes=100)
    with pytest.raises(BudgetExceeded):
        tv.sample(3, seed=1, max_bytes=100)
    assert tv.count(max_states=10_000, max_bytes=10**8) == 1676


def test_time_budget_names_what_to_do(tv):
    with pytest.raises(OutOfTime, match="budget.*timeout"):
        tv.count({"size": "43-4k"}, timeout=0)
    assert tv.count(timeout=None) == 1676


def test_solver_questions_have_a_time_budget():
    from bench.engine import random_catalog, random_configuration

    catalog = random_catalog(40, 8, 150, seed=3, power_budget=800)
    engine = Engine(catalog)
    rng = random.Random(5)
    wish = random_configuration(catalog, rng)
    while len(engine.validate(wish)) < 3:
        wish = random_configuration(catalog, rng)
    with pytest.raises(OutOfTime, match="the search took longer than its 0.001 s budget"):
        engine.repair(wish, timeout=0.001)
    with pytest.raises(OutOfTime, match="the search took longer"):
        engine.options({}, timeout=0.001)
    with pytest.raises(OutOfTime, match="the search took longer"):
        engine.explain(wish, timeout=0.001)
    assert engine.explain(wish, timeout=None) is not None
    small = C2M(db_path=":memory:").engine("tv")
    assert small.repair({"size": "100-4k", "base": "swivel"}, timeout=None).distance == 1
