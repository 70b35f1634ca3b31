"""A campaign does not close while hand-off deliveries are still pending."""

from c2m_core.handoff.outbox import PENDING
from c2m_core.hookspecs import hookimpl


@hookimpl
def validate_campaign_advance(app, campaign, target):
    if campaign.state != "handoff":
        return []
    pending = [d for d in app.store.handoffs.deliveries(campaign.id) if d.state == PENDING]
    if not pending:
        return []
    return [
        f"{len(pending)} hand-off deliveries are still pending "
        f"(first: {pending[0].handoff_id} to {pending[0].target}); "
        f"`c2m handoff retry {campaign.slug}` delivers them"
    ]
