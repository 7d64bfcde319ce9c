"""Money columns: exact integer cents in the database, Decimal in Python.

Integer cents keep sums exact on SQLite too (whose NUMERIC is a float) and make the
sum-to-zero trigger an integer comparison. ``func.sum(Model.amount)`` comes back as a
Decimal because SQLAlchemy applies this type to the aggregate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from wallet.money import Money, round_money


class Cents(sa.types.TypeDecorator):
    """A Decimal amount in euros stored as a BIGINT number of cents."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, Money):
            return value.cents
        if isinstance(value, (float, bool)):
            raise TypeError("money columns refuse floats")
        amount = Decimal(value)
        if round_money(amount) != amount:
            raise ValueError(f"{amount} has fractions of a cent")
        return int(amount.scaleb(2))

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2)

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        return self
