"""Benchmark of the configuration engine on seeded random catalogs and the TV catalog.

Run: python bench/engine.py [--quick]

Random catalogs are modules x options x rules (half requires, half excludes), one with a
power-budget sum as well. For each: compile time, validate, remaining options with three fixed
choices, repair of a wish breaking several rules (medians over many inputs), and one exact
count. Floors measured in the same run: one raw SAT call on the compiled clauses (no
assumptions) for the solver-backed operations, the pure validator for validate.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pysat.solvers import Minisat22  # noqa: E402

from c2m_core import C2M, Catalog  # noqa: E402
from c2m_core.engine import Engine, TooManyStates  # noqa: E402
from c2m_core.validation import validate  # noqa: E402

MAX_STATES = 1_000_000
TARGETS = {"options": 50e-3, "repair": 10e-3, "validate": 50e-6, "tv": 2e-3, "count": 1.0}


def random_catalog(modules, options, rules, seed, power_budget=None, each_limit=None) -> Catalog:
    """A seeded random catalog: ``rules`` rules, half requires and half excludes.

    ``power_budget``: a sum limit on watts as well; ``each_limit``: a limit on every chosen
    option's watts once m00.o0 is chosen.
    """
    rng = random.Random(seed)
    data_modules = []
    for m in range(modules):
        data_modules.append(
            {
                "id": f"m{m:02d}",
                "title": f"Module {m}",
                "required": rng.random() < 0.8,
                "options": [
                    {
                        "id": f"o{o}",
                        "title": f"Option {o}",
                        "attributes": {"watts": 5 * rng.randint(0, 12)},
                    }
                    for o in range(options)
                ],
            }
        )
    data_rules = []
    for r in range(rules):
        a, b = rng.sample(range(modules), 2)
        if r % 2 == 0:
            then = rng.sample(range(options), rng.randint(1, 3))
            data_rules.append(
                {
                    "id": f"r{r:03d}",
                    "kind": "requires",
                    "message": f"requires {r}",
                    "if": [f"m{a:02d}.o{rng.randrange(options)}"],
                    "then": [f"m{b:02d}.o{o}" for o in sorted(then)],
                }
            )
        else:
            data_rules.append(
                {
                    "id": f"r{r:03d}",
                    "kind": "excludes",
                    "message": f"excludes {r}",
                    "options": [
                        f"m{a:02d}.o{rng.randrange(options)}",
                        f"m{b:02d}.o{rng.randrange(options)}",
                    ],
                }
            )
    if power_budget is not None:
        data_rules.append(
            {
                "id": "power-budget",
                "kind": "limit",
                "message": "power budget",
                "attribute": "watts",
                "aggregate": "sum",
                "max": power_budget,
            }
        )
    if each_limit is not None:
        data_rules.append(
            {
                "id": "hot-parts",
                "kind": "limit",
                "message": "no hot parts with m00.o0",
                "if": ["m00.o0"],
                "attribute": "watts",
                "aggregate": "each",
                "max": each_limit,
            }
        )
    return Catalog.from_dict(
        {
            "category": {"id": "bench", "title": "Bench", "currency": "EUR", "base_price": 0},
            "modules": data_modules,
            "rules": data_rules,
        }
    )


def timed(function, inputs, repeat=1):
    """Median seconds of ``function(x)`` over ``inputs`` (each run ``repeat`` times)."""
    times = []
    for item in inputs:
        for _ in range(repeat):
            start = time.perf_counter()
            function(item)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def once(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def random_configuration(catalog, rng):
    return {m.id: rng.choice(m.option_ids) for m in catalog.modules}


def bench_catalog(name, catalog, seed, samples):
    rng = random.Random(seed)
    compile_time, engine = once(lambda: _compiled(catalog))
    raw = Minisat22(bootstrap_with=engine.sat.encoding.clauses)
    floor = timed(lambda _: raw.solve(), range(samples), repeat=3)
    raw.delete()

    broken = []
    while len(broken) < samples:
        wish = random_configuration(catalog, rng)
        if len(engine.validate(wish)) >= 3:
            broken.append(wish)
    broken_rules = statistics.median(len(engine.validate(w)) for w in broken)
    repairs = [engine.repair(w) for w in broken]
    valid = [r.configuration for r in repairs if r is not None]
    checks = broken + valid
    validate_time = timed(engine.validate, checks, repeat=5)
    validate_floor = timed(lambda c: validate(catalog, c), checks, repeat=5)

    partials = []
    for configuration in valid:
        chosen = rng.sample(sorted(configuration), 3)
        partials.append({m: configuration[m] for m in chosen})
    options_time = timed(engine.options, partials)
    repair_time = timed(engine.repair, broken)
    try:
        count_time, count = once(lambda: engine.count(max_states=MAX_STATES))
    except TooManyStates:
        count_time, count = None, f"not counted: over {MAX_STATES:,} memo states"
    changes = statistics.median(r.distance for r in repairs if r is not None)
    return {
        "catalog": name,
        "compile": compile_time,
        "floor": floor,
        "validate": validate_time,
        "validate_floor": validate_floor,
        "options": options_time,
        "repair": repair_time,
        "repair_distance": changes,
        "broken_rules": broken_rules,
        "count_time": count_time,
        "count": count,
    }


def _compiled(catalog):
    engine = Engine(catalog)
    engine.checker, engine.sat, engine.order  # noqa: B018 - build every compiled form
    return engine


def bench_tv(samples):
    app = C2M(db_path=":memory:")
    compile_time, engine = once(lambda: _tv_engine(app))
    wish = {
        "size": "100-4k",
        "backlight": "mini-led",
        "appearance": "walnut",
        "functions": "gaming",
        "base": "swivel",
    }
    valid = {
        "size": "65-4k",
        "backlight": "local-dimming",
        "appearance": "graphite",
        "functions": "cinema",
        "base": "feet",
    }
    operations = [
        ("compile (first use)", None),
        ("validate (valid)", lambda: engine.validate(valid)),
        ("validate (invalid)", lambda: engine.validate(wish)),
        ("is_satisfiable", lambda: engine.is_satisfiable({"size": "85-4k"})),
        ("options {}", lambda: engine.options({})),
        ("options size=100-4k", lambda: engine.options({"size": "100-4k"})),
        ("count", lambda: engine.count()),
        ("count size=55-oled", lambda: engine.count({"size": "55-oled"})),
        ("explain", lambda: engine.explain(wish)),
        ("repair", lambda: engine.repair(wish)),
        ("enumerate limit=10", lambda: list(engine.enumerate(limit=10))),
        ("sample 10", lambda: engine.sample(10, seed=1)),
    ]
    rows = []
    for name, operation in operations:
        if operation is None:
            rows.append((name, compile_time))
            continue
        rows.append((name, timed(lambda _, op=operation: op(), range(samples))))
    return rows, engine.count()


def _tv_engine(app):
    engine = app.engine("tv")
    engine.checker, engine.sat, engine.order  # noqa: B018
    return engine


def run(quick: bool = False):
    """Rows for ``python -m bench``: options and repair against one raw SAT call, validate
    against the pure validator, on each random catalog (the 40x8x150 one only at full size)."""
    from bench.common import Row, fmt_seconds

    samples = 5 if quick else 40
    catalogs = [
        ("5x6x10", random_catalog(5, 6, 10, seed=1)),
        ("20x8x60", random_catalog(20, 8, 60, seed=2)),
        ("20x8x60+power", random_catalog(20, 8, 60, seed=2, power_budget=400)),
    ]
    if not quick:
        catalogs.insert(2, ("40x8x150", random_catalog(40, 8, 150, seed=3)))
    rows = []
    for index, (name, catalog) in enumerate(catalogs):
        r = bench_catalog(name, catalog, seed=100 + index, samples=samples)
        floor = f"raw SAT call {fmt_seconds(r['floor'])}"
        rows.append(
            Row(
                "engine validate",
                name,
                fmt_seconds(r["validate"]),
                f"pure validator {fmt_seconds(r['validate_floor'])}",
                r["validate_floor"] / r["validate"],
            )
        )
        rows.append(
            Row(
                "engine remaining options, 3 fixed",
                name,
                fmt_seconds(r["options"]),
                floor,
                r["floor"] / r["options"],
            )
        )
        rows.append(
            Row("engine repair", name, fmt_seconds(r["repair"]), floor, r["floor"] / r["repair"])
        )
        count = (
            r["count"]
            if r["count_time"] is None
            else (f"{fmt_seconds(r['count_time'])} ({r['count']:,})")
        )
        rows.append(Row("engine exact count", name, count, "-", None))
    return rows


def main(argv):
    quick = "--quick" in argv
    samples = 10 if quick else 40
    catalogs = [
        ("5x6x10", random_catalog(5, 6, 10, seed=1)),
        ("20x8x60", random_catalog(20, 8, 60, seed=2)),
        ("40x8x150", random_catalog(40, 8, 150, seed=3)),
        ("20x8x60+power", random_catalog(20, 8, 60, seed=2, power_budget=400)),
    ]
    print(f"python bench/engine.py{' --quick' if quick else ''}")
    print("medians; floor = one raw SAT call on the compiled clauses; pure = validation.validate")
    header = (
        f"{'catalog':<15}{'compile':>10}{'floor':>9}{'validate':>10}{'pure':>10}"
        f"{'options':>10}{'x floor':>8}{'repair':>10}{'x floor':>8}{'broken':>7}{'moves':>6}"
        f"{'count':>10}  exact count"
    )
    print(header)
    print("-" * len(header))
    results = []
    for index, (name, catalog) in enumerate(catalogs):
        r = bench_catalog(name, catalog, seed=100 + index, samples=samples)
        results.append(r)
        print(
            f"{name:<15}{fmt(r['compile']):>10}{fmt(r['floor']):>9}{fmt(r['validate']):>10}"
            f"{fmt(r['validate_floor']):>10}{fmt(r['options']):>10}"
            f"{r['options'] / r['floor']:>7.0f}x{fmt(r['repair']):>10}"
            f"{r['repair'] / r['floor']:>7.0f}x{r['broken_rules']:>7g}{r['repair_distance']:>6g}"
            f"{fmt(r['count_time']):>10}  {r['count']}"
        )
    print("broken: rules a wish to repair breaks (median); moves: choices the repair changes")
    print()
    rows, count = bench_tv(samples)
    print(f"TV catalog (with its custom base-load rule; {count} valid configurations)")
    for name, seconds in rows:
        print(f"  {name:<22}{fmt(seconds):>11}")
    print()
    big = next(r for r in results if r["catalog"] == "40x8x150")
    mid = next(r for r in results if r["catalog"] == "20x8x60")
    checks = [
        ("options 40x8x150 < 50 ms", big["options"] < TARGETS["options"]),
        ("repair < 10 ms (every catalog)", all(r["repair"] < TARGETS["repair"] for r in results)),
        (
            "validate < 50 us (every catalog)",
            all(r["validate"] < TARGETS["validate"] for r in results),
        ),
        ("TV operations < 2 ms", all(s < TARGETS["tv"] for n, s in rows if n != rows[0][0])),
        ("count 20x8x60 < 1 s", mid["count_time"] < TARGETS["count"]),
    ]
    for name, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
