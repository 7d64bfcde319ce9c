"""Money: an immutable Decimal amount with a currency. Standard library only.

Floats are refused, currencies never mix, and rounding happens in one place
(``round_money``: cents, ROUND_HALF_UP).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
LEDGER_CURRENCY = "EUR"


def round_money(value: Decimal) -> Decimal:
    """The one rounding rule: to cents, half up (as Finnish invoices round VAT)."""
    if not isinstance(value, Decimal):
        raise TypeError(f"round_money takes a Decimal, not {type(value).__name__}")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("money never comes from a float or bool; pass a string or Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation as error:
            raise ValueError(f"not an amount: {value!r}") from error
    else:
        raise TypeError(f"cannot make money from {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("an amount must be finite")
    return result


class Money:
    """An exact amount of one currency. ``Money.of("12.50", "EUR")``."""

    __slots__ = ("amount", "currency")
    amount: Decimal
    currency: str

    def __init__(self, amount: Decimal | int | str, currency: str) -> None:
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise ValueError(f"currency must be an ISO 4217 code, not {currency!r}")
        object.__setattr__(self, "amount", _to_decimal(amount))
        object.__setattr__(self, "currency", currency.upper())

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str = LEDGER_CURRENCY) -> Money:
        return cls(amount, currency)

    @classmethod
    def zero(cls, currency: str = LEDGER_CURRENCY) -> Money:
        return cls(Decimal("0.00"), currency)

    @classmethod
    def from_cents(cls, cents: int, currency: str = LEDGER_CURRENCY) -> Money:
        if not isinstance(cents, int) or isinstance(cents, bool):
            raise TypeError("cents must be an int")
        return cls(Decimal(cents).scaleb(-2), currency)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Money is immutable")

    # -- rounding ---------------------------------------------------------------
    def quantize(self) -> Money:
        """Round to cents with the one rounding rule (``round_money``)."""
        return Money(round_money(self.amount), self.currency)

    @property
    def cents(self) -> int:
        """Whole cents; refuses amounts with fractions of a cent (round first)."""
        scaled = self.amount.scaleb(2)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{self} has fractions of a cent; quantize() it first")
        return int(scaled)

    # -- arithmetic -------------------------------------------------------------
    def _same(self, other: Any) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"currencies do not mix: {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, (float, bool)) or not isinstance(factor, (Decimal, int)):
            raise TypeError("Money multiplies only by Decimal or int")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    # -- comparison -------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.amount == other.amount

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def is_positive(self) -> bool:
        return self.amount > 0

    # -- presentation -----------------------------------------------------------
    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def as_string(self) -> str:
        """The JSON form: a decimal string with cents ("12.50")."""
        return f"{round_money(self.amount):.2f}"
