"""A real `c2m serve` in a subprocess on 127.0.0.1, and the example client that talks to it."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "examples" / "storefront_client.py"
START_LIMIT = 120.0  # give up (and fail) if the server has not answered by then


def load_client_module():
    spec = importlib.util.spec_from_file_location("storefront_client", CLIENT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("storefront_client", module)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``c2m --db DB serve --workers N`` until ``stop``; ``url`` once its /health answers."""

    def __init__(self, db_path, workers: int = 2, env: dict | None = None, log_path=None):
        self.db_path = Path(db_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path or self.db_path.with_suffix(".log"))
        command = [
            sys.executable,
            "-c",
            "from c2m_core.cli import cli; cli()",
            "--db",
            str(self.db_path),
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "C2M_WEBHOOK_INTERVAL": "0.2", **(env or {})},
            start_new_session=True,
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        client = load_client_module().Client(self.url, None, timeout=5)
        deadline = time.monotonic() + START_LIMIT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"c2m serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                status, _, _ = client.request("GET", "/health")
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"c2m serve did not answer: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self._log.close()
