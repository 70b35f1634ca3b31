"""The HTTP API (`c2m serve`) against the library it serves, in the same run.

- Pledges per second through the API: 4 client processes, each with one keep-alive connection,
  POST pledges (each with its Idempotency-Key) to `c2m serve --workers 4` on one SQLite file.
  The floor is the same pledges placed directly through the library by 4 processes
  (``app.presale.place``, as in ``bench/presale.py``). Ratio: API rate / library rate.
- The configurator call a storefront makes on each click: remaining options for a partial TV
  configuration, ``POST /categories/tv/options``, one request at a time; p50 and p99 latency
  over HTTP. The floor is the same ``app.engine("tv").options(...)`` call in process.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from c2m_core import C2M

from .common import Row, fmt_rate, fmt_seconds
from .presale import _pledge_worker, _presale_db, _timed

PARTIALS = [
    {"size": "65-oled"},
    {"size": "100-4k"},
    {"size": "55-4k", "backlight": "mini-led"},
    {"base": "swivel"},
    {"size": "77-oled", "appearance": "walnut"},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Served:
    """``c2m serve`` in a subprocess until the block ends, once /health answers."""

    def __init__(self, db_path: Path, workers: int):
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from c2m_core.cli import cli; cli()",
                "--db",
                str(db_path),
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "C2M_WEBHOOK_INTERVAL": "5"},
        )

    def __enter__(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("c2m serve exited")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("c2m serve did not answer")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=60)


def _connect(port: int) -> http.client.HTTPConnection:
    """A keep-alive connection without Nagle's delay (headers and body go in separate writes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def _api_worker(port, token, variant_id, worker, count, barrier, results):
    connection = _connect(port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    barrier.wait()
    start = time.time()
    for index in range(count):
        body = json.dumps({"variant": variant_id, "customer": f"c{worker}", "quantity": 1})
        connection.request(
            "POST",
            "/campaigns/bench/pledges",
            body,
            headers | {"Idempotency-Key": f"w{worker}-{index}"},
        )
        response = connection.getresponse()
        response.read()
        if response.status != 201:
            raise RuntimeError(f"pledge answered {response.status}")
    results.put((start, time.time()))
    connection.close()


def _token(db_path: Path) -> str:
    from c2m_core.server.tokens import create_token

    with C2M(db_path) as app:
        return create_token(app, "bench", ["brand"])[0]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(quick: bool = False) -> list[Row]:
    total = 40 if quick else 2000
    calls = 20 if quick else 1000
    workers = 4
    per_worker = total // workers
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        library_db = folder / "library"
        library_db.mkdir()
        db_path, variant_id = _presale_db(library_db, total)
        library = _timed(
            _pledge_worker, [(db_path, variant_id, w, per_worker, 0) for w in range(workers)]
        )
        api_db = folder / "api"
        api_db.mkdir()
        db_path, variant_id = _presale_db(api_db, total)
        token = _token(db_path)
        with _Served(db_path, workers) as served:
            api = _timed(
                _api_worker,
                [(served.port, token, variant_id, w, per_worker) for w in range(workers)],
            )
            connection = _connect(served.port)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            latencies = []
            for n in range(calls + 10):
                body = json.dumps({"configuration": PARTIALS[n % len(PARTIALS)]})
                start = time.perf_counter()
                connection.request("POST", "/categories/tv/options", body, headers)
                response = connection.getresponse()
                response.read()
                took = time.perf_counter() - start
                if response.status != 200:
                    raise RuntimeError(f"options answered {response.status}")
                if n >= 10:  # the first calls warm each worker's engine
                    latencies.append(took)
        with C2M(folder / "engine.db") as app:
            engine = app.engine("tv")
            direct = []
            for n in range(calls):
                start = time.perf_counter()
                engine.options(PARTIALS[n % len(PARTIALS)])
                direct.append(time.perf_counter() - start)
    done = per_worker * workers
    p50, p99 = statistics.median(latencies), _percentile(latencies, 0.99)
    floor = statistics.median(direct)
    return [
        Row(
            f"pledge through the API ({workers} uvicorn workers, {workers} clients)",
            f"{done} pledges",
            fmt_rate(done / api, "pledges"),
            f"library, {workers} processes: " + fmt_rate(done / library, "pledges"),
            library / api,
        ),
        Row(
            "configurator over HTTP: remaining options, partial TV",
            f"{calls} calls, one at a time",
            f"p50 {fmt_seconds(p50)}, p99 {fmt_seconds(p99)}",
            f"engine.options in process p50 {fmt_seconds(floor)}",
            floor / p50,
        ),
    ]


if __name__ == "__main__":
    from .__main__ import print_rows

    multiprocessing.freeze_support()
    print_rows(run())
