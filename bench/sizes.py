"""Special sizes: aggregate a million sofa wishes into standard sizes and variants.

The wishes (seeded: wall lengths around 2.4 m, depths around 90 cm, a third leaving fabric or
legs open) are stored through ``app.wishes.submit_many``, the import path. Aggregation with
size standardisation (length to at most K sizes, then depth, each by the exact dynamic
programme of docs/sizes.md, then the variants) is timed against the plain ``sqlite3``
``GROUP BY`` that reads the collapsed demand, measured just before each aggregation in the
same run (as in ``bench/wishes.py``, which measures it once). A second row times
``choose_sizes`` alone on one size demand per wish (uncollapsed) against
``collections.Counter`` over the same values. Sizes: 1,000,000 wishes
(``--quick``: 5,000).

    python -m bench sizes [--quick]
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from c2m_core import C2M
from c2m_core.wishes.sizes import SizeDemand, choose_sizes

from .common import Row
from .wishes import floor_demand

SEED = 0
#: (K, MOQ per million wishes)
AGGREGATIONS = ((5, 1000), (10, 5000))
#: Choices with their weights: a few templates and finishes are much more popular than others.
TEMPLATES = {"classic": 6, "modern": 3, "chaise": 1}
ROOMS = {"living-room": 6, "bedroom": 2, "study": 2}
FABRICS = {"linen": 8, "tech-cloth": 4, "velvet": 2, "leather": 1}
LEGS = {"oak": 6, "metal": 3, "plinth": 1}


def pick(rng: random.Random, weighted: dict[str, int]) -> str:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def sofa_wishes(count: int, seed: int = SEED):
    """``(line, data)`` rows of ``count`` sofa wishes, as ``submit_many`` takes them."""
    rng = random.Random(seed)
    for line in range(1, count + 1):
        room = pick(rng, ROOMS)
        wall = rng.gauss(225 if room == "bedroom" else 245, 30)
        length = int(min(320, max(160, wall)) // 10 * 10)
        if room == "bedroom":
            length = min(length, 240)
        template = pick(rng, TEMPLATES)
        if template == "chaise" and length < 220:
            template = "classic"
        depth = int(min(110, max(90 if template == "chaise" else 80, rng.gauss(90, 5))) // 5 * 5)
        configuration = {
            "template": template,
            "length": str(length),
            "depth": str(depth),
            "room": room,
        }
        if rng.random() > 0.3:
            configuration["fabric"] = pick(rng, FABRICS)
        if rng.random() > 0.3:
            legs = pick(rng, LEGS)
            if not (legs == "plinth" and configuration.get("fabric") == "leather"):
                configuration["legs"] = legs
        if length >= 280:
            configuration["frame"] = "reinforced"
        if room == "study" and length <= 290 and rng.random() < 0.3:
            configuration["side-table"] = "slim"
        yield (
            line,
            {
                "customer": f"c{line}",
                "configuration": configuration,
                "quantity": 1 + (rng.random() < 0.1),
                "external_id": f"w{line}",
            },
        )


def run(quick: bool = False, count: int | None = None) -> list[Row]:
    count = count or (5_000 if quick else 1_000_000)
    size = f"{count:,} sofa wishes"
    rows = []
    with tempfile.TemporaryDirectory(prefix="c2m-bench-sizes-") as tmp:
        db = Path(tmp) / "bench.db"
        with C2M(db_path=db) as app:
            app.campaigns.create("bench", "sofa")
            app.campaigns.advance("bench")
            report = app.wishes.submit_many("bench", sofa_wishes(count))
            if report.imported != count:
                raise RuntimeError(f"stored {report.imported} of {count} sofa wishes: {report}")
            for k, moq_per_million in AGGREGATIONS:
                moq = max(1, moq_per_million * count // 1_000_000)
                demand = floor_demand(db)  # next to each run: the shared cores' load drifts
                start = time.perf_counter()
                result = app.wishes.aggregate("bench", max_variants=k, moq=moq)
                took = time.perf_counter() - start
                sizes = "; ".join(
                    f"{p.module} {'/'.join(map(str, p.sizes))} {p.unit}"
                    f" ({p.assigned_quantity / p.total_quantity:.0%})"
                    for p in result.sizes
                )
                rows.append(
                    Row(
                        f"aggregate with standard sizes K={k} MOQ={moq:,}",
                        size,
                        f"{took:.2f} s, {sizes}; {len(result.variants)} variants cover "
                        f"{result.share:.1%} of {result.total_quantity:,} units",
                        f"sqlite3 GROUP BY demand {demand:.2f} s",
                        demand / took,
                    )
                )
            number = app.category("sofa").catalog.module("length").number
        assert number is not None
        lengths = [int(data["configuration"]["length"]) for _, data in sofa_wishes(count)]
        asks = [SizeDemand(v, 1, *number.accepted(v)) for v in lengths]
        start = time.perf_counter()
        Counter(lengths)
        floor = time.perf_counter() - start
        start = time.perf_counter()
        plan = choose_sizes(asks, number.values, 5, max(1, count // 1000))
        took = time.perf_counter() - start
        rows.append(
            Row(
                "choose_sizes alone (DP, one demand per wish)",
                f"{count:,} lengths",
                f"{took:.2f} s, sizes {'/'.join(map(str, plan.sizes))} cm take "
                f"{plan.covered / plan.total:.1%}",
                f"collections.Counter of the values {floor:.3f} s",
                floor / took,
            )
        )
    return rows


if __name__ == "__main__":
    from .__main__ import print_rows

    print_rows(run())
