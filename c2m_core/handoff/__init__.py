"""The production hand-off: production orders, documents, connectors and the outbox.

``plan`` (pure planning), ``documents`` (JSON, CSV, B2MML, spec sheet), ``connectors``
(delivery targets) and ``service`` (``app.handoff``: run, status, retry).
"""
