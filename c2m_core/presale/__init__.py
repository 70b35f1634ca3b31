"""The pre-sale: priced offers, pledges with deposits, thresholds, capacity, refunds.

``records`` (pledges, payments, refunds and their states), ``pricing`` (deposits, cancellation
fees), ``payments`` (the provider hooks), ``service`` (``app.presale``), ``ledger`` (the default
provider) and ``defaults`` (the stage's default plugin).
"""

from typing import TYPE_CHECKING

from .pricing import (
    FULL_PRICE,
    Amounts,
    CancellationRule,
    DepositRule,
    catalog_price,
    parse_amount,
    parse_basis_points,
    unit_price,
)
from .records import (
    BALANCE_DUE,
    CANCELLED,
    CLOSED,
    COMMITTED,
    COMMITTED_STATES,
    CONFIRMED,
    CONFIRMED_STATES,
    DUE_TO_CLOSE,
    FAILED,
    FAILED_OFFER,
    HOLDING,
    INITIAL_STATES,
    MONEY_STATES,
    OPEN,
    PAID,
    PENDING,
    PLACED,
    PLEDGE_STATES,
    REFUNDED,
    SUCCEEDED,
    TIPPED,
    TRANSITIONS,
    WAITLISTED,
    CancellationRefused,
    HeldAudit,
    IdempotencyConflict,
    IllegalPledgeTransition,
    LedgerEntry,
    Offer,
    Payment,
    Pledge,
    Presale,
    PresaleClosed,
    PresaleNotSettled,
    Refund,
    SoldOut,
    StateUnits,
    Transition,
    fingerprint,
)

_LAZY = {
    "BALANCE",
    "DEFAULT_PROVIDER",
    "DEPOSIT",
    "MAX_TEXT",
    "OVERRIDE_FIELDS",
    "AuditReport",
    "Demand",
    "PresaleService",
    "PresaleStatus",
    "RetryReport",
    "UnknownPledge",
    "VariantStatus",
    "parse_deadline",
    "sale_variants",
}


def __getattr__(name: str):
    """The stage's service names load on first use, so importing its records stays fast."""
    if name in _LAZY:
        from . import service

        value = getattr(service, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .service import (
        BALANCE,
        DEFAULT_PROVIDER,
        DEPOSIT,
        MAX_TEXT,
        OVERRIDE_FIELDS,
        AuditReport,
        Demand,
        PresaleService,
        PresaleStatus,
        RetryReport,
        UnknownPledge,
        VariantStatus,
        parse_deadline,
        sale_variants,
    )


__all__ = [
    "AuditReport",
    "StateUnits",
    "PresaleNotSettled",
    "LedgerEntry",
    "IllegalPledgeTransition",
    "HeldAudit",
    "INITIAL_STATES",
    "DUE_TO_CLOSE",
    "Amounts",
    "BALANCE",
    "BALANCE_DUE",
    "CANCELLED",
    "CLOSED",
    "COMMITTED",
    "COMMITTED_STATES",
    "CONFIRMED",
    "CONFIRMED_STATES",
    "CancellationRefused",
    "CancellationRule",
    "DEFAULT_PROVIDER",
    "DEPOSIT",
    "Demand",
    "DepositRule",
    "FAILED",
    "FAILED_OFFER",
    "FULL_PRICE",
    "HOLDING",
    "IdempotencyConflict",
    "MAX_TEXT",
    "MONEY_STATES",
    "OPEN",
    "OVERRIDE_FIELDS",
    "Offer",
    "PAID",
    "PENDING",
    "PLACED",
    "PLEDGE_STATES",
    "Payment",
    "Pledge",
    "Presale",
    "PresaleClosed",
    "PresaleService",
    "PresaleStatus",
    "REFUNDED",
    "Refund",
    "RetryReport",
    "SUCCEEDED",
    "SoldOut",
    "TIPPED",
    "TRANSITIONS",
    "Transition",
    "UnknownPledge",
    "VariantStatus",
    "WAITLISTED",
    "catalog_price",
    "fingerprint",
    "parse_amount",
    "parse_basis_points",
    "parse_deadline",
    "sale_variants",
    "unit_price",
]
