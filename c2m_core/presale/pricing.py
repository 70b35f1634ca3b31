"""Pricing: a variant's unit price, a campaign's deposit and cancellation rules, what a pledge owes.

Everything is integer minor units with an ISO 4217 currency (``Money``); percentages are basis
points (1000 = 10%) and always round down, so a deposit never exceeds its share and the balance
takes the remainder: deposit + balance = price x quantity, to the last minor unit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from ..catalog import Catalog, Choice
from ..errors import InvalidInput
from ..money import Money

_FIELDS = {"cancellation fee": "cancellation", "deposit credit": "deposit_credit"}
PERCENTAGE = "a percentage such as 10% or 12.5% (two decimals at most), above 0% and up to 100%"
AMOUNT = "an amount above zero in major units, such as 99.50"


def _field(name: str) -> str:
    """The argument a message's field name stands for (``deposit credit`` -> ``deposit_credit``)."""
    return _FIELDS.get(name, name.replace(" ", "_"))


_PERCENT = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?%\Z")


def parse_basis_points(text: str, field: str) -> int:
    """``"10%"`` -> 1000, ``"12.5%"`` -> 1250; at most two decimals, at most 100%."""
    match = _PERCENT.match(text.strip())
    if match is None:
        raise InvalidInput(
            f"{field}: {text!r} is not a percentage; use e.g. 10% or 12.5% (two decimals at most)",
            field=_field(field),
            value=text,
            accepted=PERCENTAGE,
        )
    basis_points = int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0"))
    if not 0 < basis_points <= 10_000:
        raise InvalidInput(
            f"{field}: {text!r} must be more than 0% and at most 100%",
            field=_field(field),
            value=text,
            accepted=PERCENTAGE,
        )
    return basis_points


def parse_amount(text: str, currency: str, field: str) -> Money:
    """A positive amount in major units of ``currency`` (``"99.50"``), as ``Money``."""
    try:
        money = Money.parse(text, currency)
    except ValueError as ex:
        raise InvalidInput(
            f"{field}: {ex}", field=_field(field), value=text, accepted=AMOUNT
        ) from None
    if money.amount <= 0:
        raise InvalidInput(
            f"{field}: {text!r} must be more than zero",
            field=_field(field),
            value=text,
            accepted=AMOUNT,
        )
    return money


def _optional_positive(instance, attribute, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidInput(
            f"{attribute.name} must be a positive integer, got {value!r}",
            field=attribute.name,
            value=value,
            accepted="a positive integer",
        )


@attrs.frozen
class DepositRule:
    """What a pledge pays up front per unit, and what that deposit is worth at balance time.

    Either ``basis_points`` of the unit price (floored) or a fixed ``amount`` in minor units.
    ``credit`` (minor units per unit, at least the deposit) is what the deposit takes off the
    balance, as in Tmall's pre-sale (pay 100, get 150 off); without it the deposit counts at par.
    """

    basis_points: int | None = attrs.field(default=None, validator=_optional_positive)
    amount: int | None = attrs.field(default=None, validator=_optional_positive)
    credit: int | None = attrs.field(default=None, validator=_optional_positive)

    def __attrs_post_init__(self):
        if (self.basis_points is None) == (self.amount is None):
            raise InvalidInput(
                "a deposit is either a percentage or a fixed amount per unit",
                field="deposit",
                value={"basis_points": self.basis_points, "amount": self.amount},
                accepted="basis_points or amount, not both",
            )
        if self.basis_points is not None and self.basis_points > 10_000:
            raise InvalidInput(
                f"deposit: {self.basis_points} basis points is more than 100%",
                field="deposit",
                value=self.basis_points,
                accepted="1 to 10,000 basis points",
            )

    @classmethod
    def parse(cls, deposit: str, currency: str, credit: str | None = None) -> DepositRule:
        """From ``"10%"`` or an amount per unit in major units (``"100"``), plus a credit."""
        credit_amount = parse_amount(credit, currency, "deposit credit").amount if credit else None
        if deposit.strip().endswith("%"):
            return cls(basis_points=parse_basis_points(deposit, "deposit"), credit=credit_amount)
        return cls(amount=parse_amount(deposit, currency, "deposit").amount, credit=credit_amount)

    def per_unit(self, unit_price: Money) -> Money:
        """The deposit for one unit at ``unit_price``."""
        if self.basis_points is not None:
            return unit_price.percentage(self.basis_points)
        assert self.amount is not None, "a deposit rule has basis points or an amount"
        return Money(self.amount, unit_price.currency)

    def credit_per_unit(self, unit_price: Money) -> Money:
        """What one unit's deposit takes off the balance."""
        if self.credit is None:
            return self.per_unit(unit_price)
        return Money(self.credit, unit_price.currency)

    def check(self, unit_price: Money, what: str) -> None:
        """Refuse a rule that makes no sense at this price: deposit of 0 or above the price."""
        deposit = self.per_unit(unit_price)
        credit = self.credit_per_unit(unit_price)
        if deposit.amount < 1:
            raise InvalidInput(
                f"deposit for {what}: {self.describe(unit_price.currency)} of {unit_price} rounds "
                "down to nothing; use a larger percentage or a fixed amount",
                field="deposit",
                value=self.describe(unit_price.currency),
                accepted=f"a deposit of at least one minor unit of {unit_price}",
            )
        if deposit > unit_price:
            raise InvalidInput(
                f"deposit for {what}: {deposit} per unit is more than the price {unit_price}",
                field="deposit",
                value=str(deposit),
                accepted=f"at most the price, {unit_price}",
            )
        if credit < deposit or credit > unit_price:
            raise InvalidInput(
                f"deposit credit for {what}: {credit} per unit must be at least the deposit "
                f"({deposit}) and at most the price ({unit_price})",
                field="deposit_credit",
                value=str(credit),
                accepted=f"from the deposit ({deposit}) to the price ({unit_price})",
            )

    def describe(self, currency: str) -> str:
        if self.basis_points is not None:
            text = f"{_percent_text(self.basis_points)} of the price"
        else:
            text = f"{Money(self.amount or 0, currency)} per unit"
        if self.credit is not None:
            text += f", worth {Money(self.credit, currency)} per unit at balance"
        return text

    def to_dict(self) -> dict:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> DepositRule:
        return cls(**data)


FULL_PRICE = DepositRule(basis_points=10_000)


@attrs.frozen
class CancellationRule:
    """What cancelling a pledge costs once its variant tipped: refused, or a fee kept per unit.

    The fee is ``basis_points`` of the deposit or a fixed ``amount`` per unit, never more than
    the deposit; the rest of the deposit is refunded.
    """

    refuse: bool = True
    basis_points: int | None = attrs.field(default=None, validator=_optional_positive)
    amount: int | None = attrs.field(default=None, validator=_optional_positive)

    @classmethod
    def parse(cls, text: str, currency: str) -> CancellationRule:
        """``"refuse"``, a percentage of the deposit (``"100%"`` keeps it) or an amount per unit."""
        text = text.strip()
        if text == "refuse":
            return cls()
        if text.endswith("%"):
            return cls(False, basis_points=parse_basis_points(text, "cancellation fee"))
        try:
            amount = parse_amount(text, currency, "cancellation fee")
        except InvalidInput as ex:
            raise InvalidInput(
                f"{ex}; or use 'refuse' or a percentage of the deposit",
                field="cancellation",
                value=text,
                accepted=f"'refuse', a percentage of the deposit, or {AMOUNT}",
            ) from None
        return cls(False, amount=amount.amount)

    def fee(self, deposit: Money, quantity: int) -> Money:
        """The part of a pledge's ``deposit`` kept when it is cancelled after tipping."""
        if self.basis_points is not None:
            fee = deposit.percentage(self.basis_points)
        else:
            fee = Money((self.amount or 0) * quantity, deposit.currency)
        return min(fee, deposit)

    def describe(self, currency: str) -> str:
        if self.refuse:
            return "refused after tipping"
        if self.basis_points is not None:
            return f"after tipping, {_percent_text(self.basis_points)} of the deposit is kept"
        return f"after tipping, {Money(self.amount or 0, currency)} per unit is kept"

    def to_dict(self) -> dict:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> CancellationRule:
        return cls(**data)


@attrs.frozen
class Amounts:
    """What a pledge of ``quantity`` units owes: the total, the deposit now, the balance later.

    ``credit`` is what the deposit takes off at balance time (the deposit itself unless the
    campaign offers a deposit credit); ``discount`` is the extra it is worth. Always
    deposit + balance + discount = total.
    """

    unit_price: Money
    quantity: int
    deposit_per_unit: Money
    credit_per_unit: Money

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity

    @property
    def deposit(self) -> Money:
        return self.deposit_per_unit * self.quantity

    @property
    def credit(self) -> Money:
        return self.credit_per_unit * self.quantity

    @property
    def discount(self) -> Money:
        return self.credit - self.deposit

    @property
    def balance(self) -> Money:
        return self.total - self.credit


def catalog_price(catalog: Catalog, configuration: Mapping[str, Choice]) -> Money:
    """The category's base price plus the price deltas of the chosen options."""
    deltas = sum(option.price for _, option in catalog.chosen_options(configuration))
    return Money(catalog.base_price + deltas, catalog.currency)


def unit_price(app, campaign, variant) -> Money:
    """A variant's unit price: a plugin's ``price_variant`` answer, else the catalog price.

    Raises ``InvalidInput`` when the answer is not ``Money`` in the campaign's currency, or when
    no plugin prices a campaign whose currency differs from its catalog's.
    """
    catalog = app.campaigns.catalog(campaign)
    price = app.pm.hook.price_variant(app=app, campaign=campaign, variant=variant, catalog=catalog)
    if price is None:
        if catalog.currency != campaign.currency:
            raise InvalidInput(
                f"campaign {campaign.slug!r} sells in {campaign.currency} but its catalog prices "
                f"are in {catalog.currency}; a plugin must price its variants (price_variant)",
                field="currency",
                value=campaign.currency,
                accepted=catalog.currency,
            )
        price = catalog_price(catalog, variant.configuration)
    if not isinstance(price, Money) or price.currency != campaign.currency or price.amount < 1:
        raise InvalidInput(
            f"price of variant {variant.id} ({variant.name}): {price!r} is not a positive "
            f"Money amount in {campaign.currency}",
            field="price",
            value=price,
            accepted=f"a positive Money amount in {campaign.currency}",
        )
    return price


def _percent_text(basis_points: int) -> str:
    whole, fraction = divmod(basis_points, 100)
    return f"{whole}.{fraction:02d}".rstrip("0").rstrip(".") + "%"
