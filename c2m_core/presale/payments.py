"""Calling the payment provider hooks. No store writes here: the pre-sale service records outcomes.

The service's order of operations is what makes money safe: it commits the pledge and a pending
payment (or refund) record first, calls the provider outside any transaction, then records the
outcome in a second transaction. A crash in between leaves the record pending; retrying calls the
provider again with the same idempotency key, which a provider must treat as the same operation.
"""

from __future__ import annotations

from ..errors import C2MError
from ..plugins import call_each


class ProviderError(C2MError):
    """A payment provider hook gave no usable answer."""


def providers(app) -> list[str]:
    """Every payment provider name some plugin handles."""
    names: list[str] = []
    for _, result in call_each(app.pm, "register_payment_providers", app=app):
        names.extend(name for name in result or () if name not in names)
    return sorted(names)


def call(app, hook_name: str, provider: str, **kwargs) -> str:
    """Call a provider hook; its answer must be a non-empty reference string."""
    result = getattr(app.pm.hook, hook_name)(app=app, provider=provider, **kwargs)
    if result is None:
        raise ProviderError(f"no plugin handles payment provider {provider!r} ({hook_name})")
    if not isinstance(result, str) or not result:
        raise ProviderError(
            f"{hook_name} for provider {provider!r} must return a reference string, got {result!r}"
        )
    return result


def in_database(app, provider: str) -> bool:
    """Whether ``provider`` captures inside the pledge's transaction (an in-database one)."""
    return (
        app.pm.hook.capture_payments_in_transaction(
            app=app, provider=provider, campaign=None, captures=[]
        )
        is not None
    )


def capture_in_transaction(app, provider: str, campaign, captures: list) -> list[tuple[str, str]]:
    """Let an in-database provider capture ``captures`` inside the open transaction."""
    answers = app.pm.hook.capture_payments_in_transaction(
        app=app, provider=provider, campaign=campaign, captures=captures
    )
    if (
        not isinstance(answers, list | tuple)
        or len(answers) != len(captures)
        or not all(
            isinstance(a, tuple | list)
            and len(a) == 2
            and isinstance(a[0], str)
            and isinstance(a[1], str)
            and a[0]
            and a[1]
            for a in answers
        )
    ):
        raise ProviderError(
            f"capture_payments_in_transaction for provider {provider!r} must return one "
            f"(authorization, reference) pair of strings per capture, got {answers!r}"
        )
    return [(a, r) for a, r in answers]


class ProviderCallInTransaction(C2MError):
    """A provider hook was about to run inside a transaction that could still roll back."""


def outside_transaction(app, hook_name: str) -> None:
    """Refuse to move money while the app's store has a transaction open."""
    if app.store.in_transaction:
        raise ProviderCallInTransaction(
            f"{hook_name} must not run inside an open transaction: record the intent, commit, "
            "then call the provider and record its outcome in a new transaction",
            field="hook",
            value=hook_name,
            accepted="a call outside any transaction",
        )


def describe(ex: BaseException) -> str:
    return f"{type(ex).__name__}: {ex}"[:500]


def capture(app, campaign, pledge, payment) -> tuple[str | None, str | None, str | None]:
    """Authorize (unless already authorized) and capture ``payment``.

    Returns ``(authorization, reference, error)``: a reference on success, an error message when
    the provider failed (the authorization is kept so a retry only captures).
    """
    outside_transaction(app, "capture_payment")
    authorization = payment.authorization
    try:
        if authorization is None:
            authorization = call(
                app,
                "authorize_payment",
                payment.provider,
                campaign=campaign,
                pledge=pledge,
                payment=payment,
            )
        reference = call(
            app,
            "capture_payment",
            payment.provider,
            campaign=campaign,
            pledge=pledge,
            payment=payment,
            authorization=authorization,
        )
    except Exception as ex:  # a provider's failure is data to record and retry, not a crash
        return authorization, None, describe(ex)
    return authorization, reference, None


def refund(app, campaign, pledge, payment, refund) -> tuple[str | None, str | None]:
    """Refund through the provider. Returns ``(reference, error)``."""
    outside_transaction(app, "refund_payment")
    try:
        reference = call(
            app,
            "refund_payment",
            refund.provider,
            campaign=campaign,
            pledge=pledge,
            payment=payment,
            refund=refund,
        )
    except Exception as ex:  # as above: recorded, retried with the same key
        return None, describe(ex)
    return reference, None
