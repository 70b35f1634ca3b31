"""Synthetic wishes for demos and benchmarks: seeded, skewed, partly partial, partly invalid.

Option popularity follows a Zipf-like law per module (a seeded order, so every seed has its own
favourites). Valid wishes are drawn from the catalog's valid configurations weighted by the
popularity of their options; a share of them leave some modules open; a share of the wishes are
complete configurations the rules forbid.
"""

from __future__ import annotations

import csv
import itertools
import random
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ..catalog import Catalog

REGIONS = ("CN-BJ", "CN-SH", "CN-GD", "CN-SD", "CN-SC", "CN-ZJ")
CSV_COLUMNS = ("external_id", "customer", "quantity", "region", "price_ceiling", "note")


def synthetic_wishes(
    catalog: Catalog,
    is_valid: Callable[[Mapping[str, str]], bool],
    count: int,
    seed: int = 0,
    partial_share: float = 0.3,
    invalid_share: float = 0.05,
    skew: float = 1.2,
) -> Iterator[dict]:
    """Yield ``count`` wishes as dicts with the keys of ``c2m_core.wishes.FIELDS``."""
    rng = random.Random(seed)
    choices = [[*m.option_ids, *([None] if not m.required else [])] for m in catalog.modules]
    popularity = {}
    for module, options in zip(catalog.modules, choices, strict=True):
        ranked = list(options)
        rng.shuffle(ranked)
        for rank, option in enumerate(ranked, start=1):
            popularity[(module.id, option)] = 1 / rank**skew
    valid: list[dict] = []
    invalid: list[dict] = []
    for combination in itertools.product(*choices):
        configuration = {
            m.id: o for m, o in zip(catalog.modules, combination, strict=True) if o is not None
        }
        (valid if is_valid(configuration) else invalid).append(configuration)
    if not valid:
        raise ValueError(f"catalog {catalog.id!r} has no valid configuration to wish for")
    weights = []
    for configuration in valid:
        weight = 1.0
        for module in catalog.modules:
            weight *= popularity[(module.id, configuration.get(module.id))]
        weights.append(weight)
    cumulative = list(itertools.accumulate(weights))
    modules = catalog.module_ids
    for index in range(count):
        roll = rng.random()
        if invalid and roll < invalid_share:
            configuration = rng.choice(invalid)
        else:
            configuration = rng.choices(valid, cum_weights=cumulative)[0]
            if roll < invalid_share + partial_share:
                dropped = set(rng.sample(modules, rng.randint(1, max(1, len(modules) - 2))))
                configuration = {m: o for m, o in configuration.items() if m not in dropped}
        quantity = 1 if rng.random() < 0.9 else rng.randint(2, 4)
        yield {
            "external_id": f"s{seed}-{index}",
            "customer": f"customer-{rng.randrange(count)}",
            "configuration": dict(configuration),
            "quantity": quantity,
            "region": rng.choice(REGIONS),
            "price_ceiling": rng.randrange(300_000, 2_000_000, 100) if rng.random() < 0.3 else None,
            "note": "please make it quiet" if rng.random() < 0.01 else None,
            "raw": None,
        }


def write_csv(path: str | Path, wishes, module_ids) -> int:
    """Write wishes in the ``c2m wish import`` CSV layout; returns the number of rows."""
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as fp:
        writer = csv.writer(fp)
        writer.writerow([*CSV_COLUMNS, *module_ids])
        for wish in wishes:
            configuration = wish["configuration"]
            writer.writerow(
                [
                    *("" if wish.get(c) is None else wish[c] for c in CSV_COLUMNS),
                    *(configuration.get(m, "") for m in module_ids),
                ]
            )
            rows += 1
    return rows
