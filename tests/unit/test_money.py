"""Money: exact, immutable, one currency at a time, one rounding rule."""

from datetime import date
from decimal import Decimal

import pytest
from stdnum import iso11649

from wallet import references
from wallet.money import Money, round_money
from wallet.vat import parse_vat_rates, vat_rate


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        Money(12.5, "EUR")
    with pytest.raises(TypeError):
        Money.of("1.00") * 1.5


def test_money_adds_exactly():
    assert Money.of("0.10") + Money.of("0.20") == Money.of("0.30")
    assert -Money.of("1.00") == Money.of("-1.00")
    assert Money.of("2.00") * 3 == Money.of("6.00")


def test_currencies_never_mix():
    with pytest.raises(ValueError):
        Money.of("1.00", "EUR") + Money.of("1.00", "SEK")
    with pytest.raises(ValueError):
        _ = Money.of("1.00", "EUR") < Money.of("1.00", "SEK")


def test_money_is_immutable():
    money = Money.of("1.00")
    with pytest.raises(AttributeError):
        money.amount = Decimal("2")


def test_rounding_is_half_up_to_cents():
    assert round_money(Decimal("2.555")) == Decimal("2.56")
    assert round_money(Decimal("-2.555")) == Decimal("-2.56")
    assert Money.of("10.005").quantize() == Money.of("10.01")
    assert Money.of("12.5").as_string() == "12.50"


def test_cents_refuse_fractions():
    assert Money.of("12.34").cents == 1234
    with pytest.raises(ValueError):
        _ = Money.of("0.001").cents


def test_finnish_vat_rate_changes_on_2024_09_01():
    assert vat_rate(vat_status="domestic", on=date(2024, 9, 1)) == Decimal("0.255")
    assert vat_rate(vat_status="domestic", on=date(2024, 8, 31)) == Decimal("0.24")


def test_reverse_charge_and_outside_scope_are_zero_rated():
    assert vat_rate(vat_status="reverse_charge", on=date(2026, 1, 1)) == 0
    assert vat_rate(vat_status="outside_scope", on=date(2026, 1, 1)) == 0


def test_vat_rate_table_is_configurable():
    table = parse_vat_rates("2027-01-01=26,2024-09-01=25.5")
    assert vat_rate(vat_status="domestic", on=date(2027, 2, 1), table=table) == Decimal("0.26")


def test_wallet_reference_numbers_are_valid_finnish_and_rf():
    ref = references.wallet_reference(42)
    assert references.is_valid_finnish_reference(ref)
    assert iso11649.is_valid(references.rf_reference(ref))
    assert references.from_rf(references.rf_reference(ref)) == ref
    assert references.finnish_reference("123") == "1232"  # the banks' own example
