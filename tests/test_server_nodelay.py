"""`c2m serve --workers N` answers keep-alive requests without waiting for delayed ACKs."""

from __future__ import annotations

import asyncio
import socket

import pytest

pytest.importorskip("uvicorn")

from uvicorn.config import Config  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from c2m_core.server.asgi import NoDelayH11Protocol  # noqa: E402


class _Transport(asyncio.Transport):
    def __init__(self, sock):
        super().__init__()
        self._sock = sock

    def get_extra_info(self, name, default=None):
        return {
            "socket": self._sock,
            "sockname": self._sock.getsockname(),
            "peername": self._sock.getpeername(),
        }.get(name, default)

    def is_closing(self):
        return False


def test_connections_accepted_on_a_uvicorn_bound_socket_get_tcp_nodelay():
    # uvicorn binds the shared socket of its workers like this (protocol number 0), so asyncio
    # leaves Nagle's algorithm on for the connections it accepts.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    try:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        loop = asyncio.new_event_loop()
        try:
            config = Config(app=lambda scope, receive, send: None)
            config.load()
            protocol = NoDelayH11Protocol(config, ServerState(), {}, _loop=loop)
            protocol.connection_made(_Transport(accepted))
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            protocol.timeout_keep_alive_task and protocol.timeout_keep_alive_task.cancel()
        finally:
            loop.close()
    finally:
        for sock in (client, accepted, listener):
            sock.close()


def test_c2m_serve_runs_uvicorn_with_that_protocol(monkeypatch, tmp_path):
    import uvicorn
    from click.testing import CliRunner

    from c2m_core.cli import cli

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "c.db"), "serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert seen["http"] == "c2m_core.server.asgi:NoDelayH11Protocol"
