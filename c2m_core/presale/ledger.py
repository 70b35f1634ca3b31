"""The default payment provider, ``ledger``: records every money movement, moves no money.

It writes only c2m's database, so it captures a pledge's deposit inside the transaction that stores
the pledge (``capture_payments_in_transaction``): a pledge is one transaction, and its deposit's
authorization and capture, which happen together or not at all, are one ledger row that reads as
the two entries. Each (operation,
idempotency key) is recorded once, so a retried call returns the first
reference: that is the contract every provider must keep. Shops replace it with their own
provider plugin and choose it per campaign (``c2m presale open --provider NAME``).
"""

from c2m_core.hookspecs import hookimpl

NAME = "ledger"


@hookimpl
def register_payment_providers():
    return [NAME]


@hookimpl
def authorize_payment(app, provider, pledge, payment):
    if provider != NAME:
        return None
    return app.store.presale.ledger_record(
        NAME, "authorize", payment.key, payment.amount, pledge.campaign_id, pledge.id
    )


@hookimpl
def capture_payment(app, provider, pledge, payment):
    if provider != NAME:
        return None
    return app.store.presale.ledger_record(
        NAME, "capture", payment.key, payment.amount, pledge.campaign_id, pledge.id
    )


@hookimpl
def capture_payments_in_transaction(app, provider, captures):
    if provider != NAME:
        return None
    return app.store.presale.ledger_capture_many(
        NAME,
        [
            (payment.key, payment.amount, pledge.campaign_id, pledge.id)
            for pledge, payment in captures
        ],
    )


@hookimpl
def refund_payment(app, provider, pledge, refund):
    if provider != NAME:
        return None
    return app.store.presale.ledger_record(
        NAME, "refund", refund.key, refund.amount, pledge.campaign_id, pledge.id
    )
