"""The configurator page's in-place update over HTTP against the same work in process.

A consumer's click on the configurator page asks ``GET /c/{slug}/configure?cfg.MODULE=OPTION``
with ``HX-Request: true`` (the fragment htmx swaps in: remaining options with their reasons,
the count of valid configurations, the price), from ``c2m serve`` with one worker, one request
at a time on a keep-alive connection; p50 and p99. The floor is what the update computes, in
process: ``engine.options`` and ``engine.count`` of the same partial TV configuration.
Ratio: floor p50 / HTTP p50 (1.0 would be no cost for HTTP, the page and its rendering).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from c2m_core import C2M

from .common import Row, fmt_seconds, percentile
from .server import PARTIALS, _connect, _Served

SLUG = "bench"


def _paths() -> list[str]:
    return [
        f"/c/{SLUG}/configure?" + urlencode({f"cfg.{m}": o for m, o in partial.items()})
        for partial in PARTIALS
    ]


def run(quick: bool = False) -> list[Row]:
    calls = 20 if quick else 1000
    paths = _paths()
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "c2m.db"
        with C2M(db_path) as app:
            app.campaigns.create(SLUG, "tv", title="Bench TV")
            app.campaigns.advance(SLUG)
            engine = app.engine("tv")
            direct = []
            for n in range(calls):
                partial = PARTIALS[n % len(PARTIALS)]
                start = time.perf_counter()
                engine.options(partial)
                engine.count(partial)
                direct.append(time.perf_counter() - start)
        with _Served(db_path, 1) as served:
            connection = _connect(served.port)
            latencies = []
            for n in range(calls + 10):
                start = time.perf_counter()
                connection.request("GET", paths[n % len(paths)], headers={"HX-Request": "true"})
                response = connection.getresponse()
                body = response.read()
                took = time.perf_counter() - start
                if response.status != 200 or b'id="count"' not in body:
                    raise RuntimeError(f"the configurator answered {response.status}")
                if n >= 10:  # the first calls warm the worker's engine and templates
                    latencies.append(took)
            connection.close()
    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    floor50, floor99 = statistics.median(direct), percentile(direct, 0.99)
    return [
        Row(
            "configurator page update over HTTP (options, count, price), partial TV",
            f"{calls} requests, one at a time",
            f"p50 {fmt_seconds(p50)}, p99 {fmt_seconds(p99)}",
            f"engine options+count in process p50 {fmt_seconds(floor50)}, "
            f"p99 {fmt_seconds(floor99)}",
            floor50 / p50,
        )
    ]


if __name__ == "__main__":
    from .__main__ import print_rows

    print_rows(run())
