"""Money: integer minor units plus an ISO 4217 currency code. No float ever touches an amount."""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

# ISO 4217 minor-unit exponents for the currencies c2m accepts.
MINOR_UNITS = {
    "AUD": 2,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "INR": 2,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "PHP": 2,
    "PLN": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TRY": 2,
    "TWD": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
    "BHD": 3,
    "CLP": 0,
    "ISK": 0,
}


def check_currency(code: str) -> str:
    """Return ``code`` if it is a supported ISO 4217 code, else raise ``ValueError``."""
    if code not in MINOR_UNITS:
        raise ValueError(
            f"{code!r} is not a supported ISO 4217 currency code; "
            f"accepted: {', '.join(sorted(MINOR_UNITS))}"
        )
    return code


def _check_amount(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{attribute.name} must be an integer number of minor units, got {value!r}")


@attrs.frozen(order=True)
class Money:
    """An amount in integer minor units (cents, fen; yen for JPY) of ``currency``."""

    amount: int = attrs.field(validator=_check_amount)
    currency: str = attrs.field(validator=lambda i, a, v: check_currency(v))

    @property
    def exponent(self) -> int:
        return MINOR_UNITS[self.currency]

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, times: int) -> Money:
        if isinstance(times, bool) or not isinstance(times, int):
            raise TypeError("Money can only be multiplied by an integer")
        return Money(self.amount * times, self.currency)

    def split(self, parts: int) -> list[Money]:
        """``parts`` amounts adding up to this one: each floored, the remainder on the last."""
        if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
            raise ValueError(f"can only split into a positive whole number of parts, got {parts!r}")
        share = self.amount // parts
        last = self.amount - share * (parts - 1)
        return [Money(share, self.currency)] * (parts - 1) + [Money(last, self.currency)]

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Amounts in proportion to integer ``weights``, each floored, the remainder on the last."""
        weights = list(weights)
        if not weights or any(isinstance(w, bool) or not isinstance(w, int) for w in weights):
            raise ValueError(f"weights must be a non-empty list of integers, got {weights!r}")
        if any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError(f"weights must be >= 0 with a positive sum, got {weights!r}")
        total = sum(weights)
        shares = [self.amount * w // total for w in weights[:-1]]
        shares.append(self.amount - sum(shares))
        return [Money(share, self.currency) for share in shares]

    def percentage(self, basis_points: int) -> Money:
        """``basis_points`` hundredths of a percent of this amount, floored (1000 bp = 10%)."""
        if isinstance(basis_points, bool) or not isinstance(basis_points, int):
            raise TypeError(f"basis points must be an integer, got {basis_points!r}")
        return Money(self.amount * basis_points // 10_000, self.currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Money from a decimal in major units: ``"4999.50"`` CNY -> 499950 fen, ``"120"`` JPY.

        Raises ``ValueError`` naming the text and what is accepted: digits with at most as many
        decimals as the currency has minor units (none for JPY).
        """
        exponent = MINOR_UNITS[check_currency(currency)]
        match = _DECIMAL.match(text.strip()) if isinstance(text, str) else None
        decimals = (match.group(3) or "") if match else ""
        if match is None or len(decimals) > exponent:
            places = f"up to {exponent} decimal places" if exponent else "no decimal places"
            raise ValueError(
                f"{text!r} is not an amount of {currency}: use digits with {places}, "
                f"e.g. {format_minor(12345 * 10**exponent // 100, currency).replace(',', '')}"
            )
        minor = int(match.group(2)) * 10**exponent + int(decimals.ljust(exponent, "0") or 0)
        return cls(-minor if match.group(1) else minor, currency)

    def _same_currency(self, other: Money):
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other!r}")

    def format(self) -> str:
        """Human form, e.g. ``CNY 4,999.00`` or ``JPY 12,000``."""
        return f"{self.currency} {format_minor(self.amount, self.currency)}"

    def __str__(self) -> str:
        return self.format()


_DECIMAL = re.compile(r"^(-)?(\d+)(?:\.(\d+))?\Z")


def format_minor(amount: int, currency: str) -> str:
    """Format integer minor units as a decimal string with thousands separators."""
    exponent = MINOR_UNITS[check_currency(currency)]
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    text = f"{whole:,}"
    if exponent:
        text += f".{fraction:0{exponent}d}"
    return sign + text
