"""The application ``c2m serve`` runs in each uvicorn worker process: ``$C2M_DB`` and the
installed plugins (``C2M_LOAD_PLUGINS`` restricts them); and the HTTP protocol it speaks."""

from __future__ import annotations

import socket
from contextlib import suppress

from uvicorn.protocols.http.h11_impl import H11Protocol

#: What ``c2m serve`` passes to uvicorn as ``http``.
PROTOCOL = "c2m_core.server.asgi:NoDelayH11Protocol"
#: What ``c2m serve`` tells its workers: the brand's template folder, the demo sign-in.
TEMPLATES_ENV = "C2M_PAGES_TEMPLATES"
DEMO_LOGIN_ENV = "C2M_PAGES_DEMO_LOGIN"


def app_from_environment():
    """A fresh ``C2M`` on ``$C2M_DB`` and its ASGI application (a uvicorn factory)."""
    import os

    from ..app import C2M
    from . import create_app

    return create_app(
        C2M(),
        templates=os.environ.get(TEMPLATES_ENV) or None,
        demo_login=os.environ.get(DEMO_LOGIN_ENV) == "1",
    )


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with Nagle's algorithm off on every connection.

    With ``--workers`` above 1 uvicorn binds the listening socket itself with protocol number 0,
    so asyncio does not set ``TCP_NODELAY`` on the connections it accepts; h11 writes a response's
    head and body in two sends, and the body then waits for the client's delayed ACK (about
    40 ms on Linux) on every keep-alive request.
    """

    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
