"""Money on the command line: every amount is typed in major units of the campaign's currency."""

from __future__ import annotations

from ..errors import InvalidInput
from ..money import MINOR_UNITS, Money

MAX_AMOUNT = 10**15
"""The largest amount accepted, in minor units (what the store keeps in 64 bits with room)."""


def major_units(text: str, currency: str, field: str) -> int:
    """``"4999.00"`` in CNY -> ``499900`` (minor units), or ``InvalidInput`` naming the range."""
    places = MINOR_UNITS.get(currency, 2)
    accepted = (
        f"an amount of {currency} in major units with up to {places} decimal places, "
        f"from 0 to {Money(MAX_AMOUNT, currency).format()}"
    )
    try:
        amount = Money.parse(text, currency).amount
    except ValueError:
        raise InvalidInput(
            f"{field}: {text!r} is not {accepted}", field=field, value=text, accepted=accepted
        ) from None
    if not 0 <= amount <= MAX_AMOUNT:
        raise InvalidInput(
            f"{field}: {text} is out of range; accepted: {accepted}",
            field=field,
            value=text,
            accepted=accepted,
        )
    return amount
