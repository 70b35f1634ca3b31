"""Money arithmetic the pre-sale relies on: splits, allocation, percentages, parsing, amounts."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from c2m_core.errors import InvalidInput
from c2m_core.money import MINOR_UNITS, Money, format_minor
from c2m_core.presale.pricing import Amounts, CancellationRule, DepositRule

currencies = st.sampled_from(sorted(MINOR_UNITS))
amounts = st.integers(min_value=-(10**12), max_value=10**12)


@given(amounts, currencies, st.integers(min_value=1, max_value=50))
def test_split_adds_up_floors_each_part_and_puts_the_remainder_last(amount, currency, parts):
    shares = Money(amount, currency).split(parts)
    assert len(shares) == parts
    assert sum(s.amount for s in shares) == amount
    assert all(s.amount == amount // parts for s in shares[:-1])
    assert 0 <= shares[-1].amount - amount // parts < parts


@given(amounts, currencies, st.lists(st.integers(0, 1000), min_size=1, max_size=12))
def test_allocate_adds_up_in_proportion(amount, currency, weights):
    if sum(weights) == 0:
        with pytest.raises(ValueError, match="positive sum"):
            Money(amount, currency).allocate(weights)
        return
    shares = Money(amount, currency).allocate(weights)
    assert sum(s.amount for s in shares) == amount
    total = sum(weights)
    for share, weight in zip(shares[:-1], weights[:-1], strict=True):
        assert share.amount == amount * weight // total


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_percentage_is_floored_integer_arithmetic(amount, basis_points):
    part = Money(amount, "CNY").percentage(basis_points)
    # reference: exact rational arithmetic, rounded down
    assert part.amount * 10_000 <= amount * basis_points < (part.amount + 1) * 10_000


@given(st.integers(-(10**12), 10**12), currencies)
def test_parse_reads_back_what_format_writes(amount, currency):
    text = format_minor(amount, currency).replace(",", "")
    assert Money.parse(text, currency) == Money(amount, currency)


@pytest.mark.parametrize(
    "text, currency, expected",
    [("4999.5", "CNY", 499950), ("120", "JPY", 120), ("0.001", "KWD", 1), ("7", "EUR", 700)],
)
def test_parse_examples(text, currency, expected):
    assert Money.parse(text, currency).amount == expected


@pytest.mark.parametrize("text", ["1.5", "12,000", "", "abc", "1e3"])
def test_parse_rejects_what_jpy_cannot_hold(text):
    with pytest.raises(ValueError, match="no decimal places"):
        Money.parse(text, "JPY")


def test_split_and_allocate_reject_nonsense():
    with pytest.raises(ValueError, match="positive whole number"):
        Money(100, "EUR").split(0)
    with pytest.raises(ValueError, match="integers"):
        Money(100, "EUR").allocate([1.5, 1])


deposit_rules = st.one_of(
    st.builds(DepositRule, basis_points=st.integers(1, 10_000)),
    st.builds(DepositRule, amount=st.integers(1, 10**6)),
)


@settings(max_examples=300)
@given(
    st.integers(1, 10**9),
    st.integers(1, 10_000),
    deposit_rules,
    st.integers(0, 10**6),
    st.sampled_from(["EUR", "JPY", "KWD"]),
)
def test_deposit_plus_balance_is_price_times_quantity(price, quantity, rule, extra, currency):
    unit_price = Money(price, currency)
    deposit = rule.per_unit(unit_price)
    if deposit > unit_price:
        return  # refused when the pre-sale opens
    credit = max(min(deposit.amount + extra, price), 1)
    with_credit = DepositRule(rule.basis_points, rule.amount, credit)
    for used in (rule, with_credit):
        owed = Amounts(
            unit_price, quantity, used.per_unit(unit_price), used.credit_per_unit(unit_price)
        )
        assert owed.deposit + owed.balance + owed.discount == unit_price * quantity
        assert owed.deposit.amount >= 0 and owed.balance.amount >= 0
        assert owed.deposit.amount == used.per_unit(unit_price).amount * quantity
    plain = Amounts(unit_price, quantity, deposit, deposit)
    assert plain.deposit + plain.balance == unit_price * quantity


def test_tmall_style_deposit_credit():
    """Pay 100 now, it takes 150 off the balance: 1000 costs 950 in all."""
    rule = DepositRule.parse("100", "CNY", credit="150")
    price = Money(100000, "CNY")
    owed = Amounts(price, 1, rule.per_unit(price), rule.credit_per_unit(price))
    assert (owed.deposit.amount, owed.balance.amount, owed.discount.amount) == (10000, 85000, 5000)
    assert owed.deposit + owed.balance == Money(95000, "CNY")


def test_deposit_rule_parsing():
    assert DepositRule.parse("10%", "EUR") == DepositRule(basis_points=1000)
    assert DepositRule.parse("12.5%", "EUR") == DepositRule(basis_points=1250)
    assert DepositRule.parse("99.90", "EUR") == DepositRule(amount=9990)
    assert DepositRule.parse("500", "JPY") == DepositRule(amount=500)
    with pytest.raises(InvalidInput, match="deposit: '1.5' is not an amount of JPY"):
        DepositRule.parse("1.5", "JPY")
    with pytest.raises(InvalidInput, match="deposit: '150%' must be more than 0% and at most"):
        DepositRule.parse("150%", "EUR")
    with pytest.raises(InvalidInput, match="percentage"):
        DepositRule.parse("10.125%", "EUR")
    with pytest.raises(InvalidInput, match="deposit credit"):
        DepositRule.parse("10%", "EUR", credit="-3")


def test_deposit_rule_check_names_the_variant_and_the_problem():
    price = Money(12345, "JPY")
    DepositRule(basis_points=1000).check(price, "variant 1")
    with pytest.raises(InvalidInput, match="variant 1.*more than the price"):
        DepositRule(amount=20000).check(price, "variant 1")
    with pytest.raises(InvalidInput, match="rounds down to nothing"):
        DepositRule(basis_points=1).check(Money(50, "JPY"), "variant 1")
    with pytest.raises(InvalidInput, match="at least the deposit"):
        DepositRule(amount=1000, credit=500).check(price, "variant 1")


@given(st.integers(1, 10**7), st.integers(1, 100), st.integers(1, 10_000))
def test_cancellation_fee_never_exceeds_the_deposit(deposit, quantity, basis_points):
    money = Money(deposit, "EUR")
    assert CancellationRule(False, basis_points=basis_points).fee(money, quantity) <= money
    assert CancellationRule(False, amount=deposit).fee(money, quantity) <= money
    assert CancellationRule.parse("100%", "EUR").fee(money, quantity) == money
