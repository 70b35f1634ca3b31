"""The hand-off's defaults as a plugin: the ``dir:`` and ``webhook:`` connectors, and a campaign
that does not close while deliveries are still pending."""

from ..hookspecs import hookimpl
from .outbox import PENDING


@hookimpl
def register_handoff_connectors():
    from .connectors import DirConnector, WebhookConnector

    return [DirConnector, WebhookConnector]


@hookimpl
def validate_campaign_advance(app, campaign, target):
    if campaign.state != "handoff":
        return []
    pending = [d for d in app.store.handoff.deliveries(campaign.id) if d.state == PENDING]
    if not pending:
        return []
    return [
        f"{len(pending)} hand-off deliveries are still pending "
        f"(first: {pending[0].handoff_id} to {pending[0].target}); "
        f"`c2m handoff retry {campaign.slug}` delivers them"
    ]
