"""The wallet's dashboard panels: funds (or credit used and left) and invoices to pay."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reseller.core.clock import clock
from reseller.core.extensions import db
from wallet import services
from wallet.invoices import services as invoices
from wallet.invoices.models import Invoice
from wallet.web import present


def funds(reseller_id: int) -> dict[str, Any]:
    wallet = services.get_wallet(reseller_id=reseller_id)
    summary = present.wallet_dict(wallet)
    postpaid = wallet.payment_mode == "postpaid"
    # Postpaid: available = the limit left after spending and holds.
    used = summary["credit_limit"] - summary["available"] if postpaid else None
    return {"funds": summary, "postpaid": postpaid, "credit_used": used,
            "low": summary["low_balance_threshold"] is not None
            and summary["available"] < summary["low_balance_threshold"]}


def invoices_due(reseller_id: int) -> dict[str, Any] | None:
    today = clock.today()
    rows = list(db.session.scalars(
        invoices.invoices_query(reseller_id)
        .where(Invoice.kind == "invoice", Invoice.status == "open")
        .order_by(Invoice.due_date, Invoice.id).limit(5)))
    if not rows:
        return None
    return {"invoices": [(row, row.status_on(today)) for row in rows],
            "total_due": sum((row.amount_due for row in rows), Decimal("0.00"))}
