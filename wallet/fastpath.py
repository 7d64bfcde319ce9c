"""The purchase path on PostgreSQL: ``hold_funds`` and ``capture_hold`` as one call each
to the ``wallet_hold``/``wallet_capture`` functions (defined in the wallet migration).

Same rules as the portable path in ``wallet.services`` (the hypothesis state machine runs
both): the conditional UPDATE locks the wallet row and checks the balance; the hold row's
unique reference makes replays, concurrent ones included, return the first hold.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy.orm import make_transient_to_detached

from reseller.core.extensions import db
from wallet.models import Hold, Purchase

# The two statements go straight to the driver's cursor on the session's connection (so
# they commit or roll back with the caller's unit of work): SQLAlchemy's statement and
# result layers were a third of the client's CPU per transfer (0.56 → 0.40 ms, measured
# by bench/ledger.py's client loop). Positional parameters, plain tuples back; psycopg
# prepares both statements server-side on first use (``prepare=True``); psycopg's
# ``namedtuple_row`` names the columns (its row classes are cached per column list).
_HOLD = (
    "SELECT outcome, hold_id, source, payment_mode, funds, receivable, credit_limit,"
    " low_balance_threshold, low_balance_alerted FROM wallet_hold(%s, %s, %s, %s, %s, %s,"
    " CAST(%s AS json), %s, %s)")
_CAPTURE = (
    "SELECT outcome, purchase_id, reseller_id, source, currency, net, vat, gross, vat_rate,"
    " description, item, payment_mode, funds, receivable, credit_limit,"
    " low_balance_threshold, low_balance_alerted FROM wallet_capture(%s, %s, %s)")


def _call(sql: str, params: tuple) -> Any:
    connection = db.session.connection().connection.driver_connection
    with connection.cursor(row_factory=namedtuple_row) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()


def _cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))


def _euros(cents: int | None) -> Decimal | None:
    return None if cents is None else Decimal(int(cents)).scaleb(-2)


def wallet_state(row: Any, reseller_id: int, currency: str = "EUR") -> SimpleNamespace:
    """The function's wallet columns in the shape ``services.note_balance`` reads (a hold
    goes through only without debt; after a capture the caller reads the debt)."""
    return SimpleNamespace(
        reseller_id=reseller_id, payment_mode=row.payment_mode, currency=currency,
        funds=_euros(row.funds), receivable=_euros(row.receivable), debt=Decimal(0),
        credit_limit=_euros(row.credit_limit),
        low_balance_threshold=_euros(row.low_balance_threshold),
        low_balance_alerted=row.low_balance_alerted)


def _attach(obj: Any) -> Any:
    """Make a row we just inserted a persistent ORM object without reading it back."""
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj


def hold(*, reseller_id: int, reference: str, net: Decimal, vat: Decimal, rate: Decimal,
         description: str, item: dict | None, expires_at: datetime,
         now: datetime) -> tuple[str, Hold | int | None, SimpleNamespace | None]:
    """("held", Hold, state) | ("existing", hold id, None) | ("refused", None, None)."""
    row = _call(_HOLD, (
        reseller_id, reference, _cents(net), _cents(vat), rate, description,
        None if item is None else json.dumps(item), expires_at, now))
    if row.outcome != "held":
        return row.outcome, row.hold_id, None
    created = _attach(Hold(
        id=row.hold_id, reseller_id=reseller_id, reference=reference, state="active",
        source=row.source, currency="EUR", net_amount=net, vat_amount=vat,
        gross_amount=net + vat, vat_rate=rate, description=description, item=item,
        created_at=now, expires_at=expires_at, resolved_at=None, reason=None))
    return "held", created, wallet_state(row, reseller_id)


def capture(*, reference: str, net: Decimal | None,
            now: datetime) -> tuple[str, Any, SimpleNamespace | None]:
    """("captured"|"captured_part", Purchase, state) | ("not_active"|"exceeds", row, None)."""
    row = _call(_CAPTURE, (reference, None if net is None else _cents(net), now))
    if row.outcome not in ("captured", "captured_part"):
        return row.outcome, row, None
    purchase = _attach(Purchase(
        id=row.purchase_id, reseller_id=row.reseller_id, reference=reference,
        description=row.description, item=row.item, source=row.source, currency=row.currency,
        net_amount=_euros(row.net), vat_amount=_euros(row.vat), gross_amount=_euros(row.gross),
        vat_rate=row.vat_rate, captured_at=now, refunded=False, refunded_at=None,
        refund_reason=None))
    return row.outcome, purchase, wallet_state(row, row.reseller_id, row.currency)
