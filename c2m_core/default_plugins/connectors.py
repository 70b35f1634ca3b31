"""The built-in hand-off connectors: ``dir:PATH`` and ``webhook:URL``."""

from c2m_core.handoff.connectors import DirConnector, WebhookConnector
from c2m_core.hookspecs import hookimpl


@hookimpl
def register_handoff_connectors():
    return [DirConnector, WebhookConnector]
