"""The wallet's dashboard panels: funds (or credit used and left) and invoices to pay."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from reseller.core.clock import clock
from reseller.core.db import memo
from reseller.core.extensions import db
from wallet import services
from wallet.invoices import services as invoices
from wallet.invoices.models import Invoice
from wallet.models import Wallet
from wallet.web import present

SHOWN = 5  # invoices to pay the panel lists


def _open_invoices(reseller_id: int) -> sa.Select:
    return (invoices.invoices_query(reseller_id)
            .where(Invoice.kind == "invoice", Invoice.status == "open")
            .order_by(Invoice.due_date, Invoice.id).limit(SHOWN))


def _money(reseller_id: int) -> tuple[Wallet | None, list[Invoice]]:
    """The wallet and the first invoices to pay, for both money panels in one statement
    (kept for the page by ``memo``): the wallet's row joined to each of them."""
    def load() -> tuple[Wallet | None, list[Invoice]]:
        due = _open_invoices(reseller_id).subquery()
        shown = aliased(Invoice, due)
        rows = db.session.execute(
            sa.select(Wallet, shown).outerjoin(due, sa.true())
            .where(Wallet.reseller_id == reseller_id)
            .order_by(due.c.due_date, due.c.id)
            .execution_options(populate_existing=True)).all()
        return (rows[0][0] if rows else None), [row[1] for row in rows if row[1] is not None]
    return memo(("money_panels", reseller_id), load)


def funds(reseller_id: int) -> dict[str, Any]:
    wallet = services.found_wallet(_money(reseller_id)[0], reseller_id)
    summary = present.wallet_dict(wallet)
    postpaid = wallet.payment_mode == "postpaid"
    # Postpaid: available = the limit left after spending and holds.
    used = summary["credit_limit"] - summary["available"] if postpaid else None
    return {"funds": summary, "postpaid": postpaid, "credit_used": used,
            "low": summary["low_balance_threshold"] is not None
            and summary["available"] < summary["low_balance_threshold"]}


def invoices_due(reseller_id: int) -> dict[str, Any] | None:
    today = clock.today()
    wallet, rows = _money(reseller_id)
    if wallet is None:  # no wallet row to join them to: the invoices alone
        rows = list(db.session.scalars(_open_invoices(reseller_id)))
    if not rows:
        return None
    return {"invoices": [(row, row.status_on(today)) for row in rows],
            "total_due": sum((row.amount_due for row in rows), Decimal("0.00"))}
