"""The default ``ledger`` provider pays rewards by recording them (once per idempotency key)."""

from c2m_core.hookspecs import hookimpl

NAME = "ledger"


@hookimpl
def pay_reward(app, provider, reward):
    if provider != NAME:
        return None
    return app.store.presale.ledger_record(
        NAME, "reward", reward.key, reward.amount, reward.campaign_id, None
    )
