"""Top-ups: quote the surcharge, open a checkout, credit funds once when the provider
confirms. Only the amount reaches the reseller's funds; the surcharge is operator revenue."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.events import record_event
from reseller.core.extensions import db
from wallet import ledger, services
from wallet.errors import (
    InvalidAmount,
    InvalidPaymentMethod,
    InvalidPaymentNotice,
    ReferenceReused,
    TopUpNotFound,
)
from wallet.invoices import services as invoices
from wallet.invoices.errors import InvoiceNotPayable
from wallet.invoices.models import Invoice
from wallet.invoices.settings import InvoicingSettings
from wallet.models import PaymentNotice, TopUp
from wallet.money import LEDGER_CURRENCY, Money, round_money
from wallet.payments import METHODS, Notice

MAX_TOPUP = Decimal("100000.00")


def surcharge_for(method: str, surcharges: Mapping[str, Decimal]) -> Money:
    """The fixed fee (EUR) for paying by ``method``; bank transfer is always free."""
    if method not in METHODS:
        raise InvalidPaymentMethod(f"method must be one of {', '.join(METHODS)}")
    if method == "bank_transfer":
        return Money.zero(LEDGER_CURRENCY)
    return Money(round_money(Decimal(surcharges.get(method, Decimal(0)))), LEDGER_CURRENCY)


def create_topup(*, reseller_id: int, amount: Money, method: str, idempotency_key: str,
                 surcharges: Mapping[str, Decimal], provider: str) -> TopUp:
    """A pending top-up; the same key returns the first one."""
    if existing := db.session.scalar(sa.select(TopUp).where(
            TopUp.reseller_id == reseller_id, TopUp.idempotency_key == idempotency_key)):
        if existing.amount != amount.amount or existing.method != method:
            raise ReferenceReused()
        return existing
    if amount.currency != LEDGER_CURRENCY or amount.amount <= 0 or amount.amount > MAX_TOPUP \
            or round_money(amount.amount) != amount.amount:
        raise InvalidAmount(_l("A top-up is 0.01-100000.00 EUR in whole cents."))
    surcharge = surcharge_for(method, surcharges)
    services.get_wallet(reseller_id=reseller_id)  # 404 without a wallet
    topup = TopUp(reseller_id=reseller_id, idempotency_key=idempotency_key, method=method,
                  provider=provider, currency=LEDGER_CURRENCY, amount=amount.amount,
                  surcharge=surcharge.amount, total=amount.amount + surcharge.amount,
                  state="pending", token=secrets.token_urlsafe(24), created_at=clock.now())
    db.session.add(topup)
    db.session.flush()
    return topup


def get_topup(*, reseller_id: int, topup_id: int) -> TopUp:
    topup = db.session.scalar(sa.select(TopUp).where(TopUp.id == topup_id,
                                                     TopUp.reseller_id == reseller_id))
    if topup is None:
        raise TopUpNotFound()
    return topup


def list_topups(*, reseller_id: int, limit: int = 20,
                before_id: int | None = None) -> list[TopUp]:
    stmt = sa.select(TopUp).where(TopUp.reseller_id == reseller_id, TopUp.invoice_id.is_(None))
    if before_id is not None:
        stmt = stmt.where(TopUp.id < before_id)
    return list(db.session.scalars(stmt.order_by(TopUp.id.desc()).limit(limit)))


def topup_by_token(token: str, *, lock: bool = False) -> TopUp:
    stmt = sa.select(TopUp).where(TopUp.token == token).execution_options(
        populate_existing=True)
    topup = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if topup is None:
        raise TopUpNotFound()
    return topup


def receive_notice(notice: Notice, *, settings: InvoicingSettings | None = None) -> TopUp:
    """Apply a verified provider callback. Duplicates and late (out-of-order) callbacks
    change nothing; a payment is credited exactly once.

    ``settings`` (the invoicing settings, for late interest) are needed when the payment
    is for an invoice."""
    topup = topup_by_token(notice.token, lock=True)
    if topup.provider != notice.provider:
        raise InvalidPaymentNotice("the callback came from another provider")
    seen = db.session.scalar(sa.select(PaymentNotice.id).where(
        PaymentNotice.provider == notice.provider, PaymentNotice.event_id == notice.event_id))
    if seen is not None:
        return topup
    if notice.status == "paid":
        if notice.amount is not None and notice.amount != topup.total:
            raise InvalidPaymentNotice(f"paid {notice.amount}, expected {topup.total}")
        if topup.invoice_id is not None:
            if settings is None:
                raise ValueError("an invoice payment needs the invoicing settings")
            settle_invoice_payment(topup, settings=settings,
                                   provider_reference=notice.provider_reference)
        else:
            settle_topup(topup, provider_reference=notice.provider_reference)
    elif notice.status == "cancelled" and topup.state == "pending":
        topup.state = "cancelled"
        topup.settled_at = clock.now()
        if topup.invoice_id is not None:
            _invoice_payment_failed(topup, notice)
    db.session.add(PaymentNotice(provider=notice.provider, event_id=notice.event_id,
                                 topup_id=topup.id, status=notice.status,
                                 payload=notice.payload, received_at=clock.now()))
    db.session.flush()
    return topup


def _invoice_payment_failed(payment: TopUp, notice: Notice) -> None:
    """``invoice.payment_failed``: the invoice stays open; automatic charges are mailed."""
    invoice = db.session.get(Invoice, payment.invoice_id)
    payload = notice.payload if isinstance(notice.payload, dict) else {}
    obj = (payload.get("data") or {}).get("object") or {}
    error = obj.get("last_payment_error") if isinstance(obj, dict) else None
    record_event(reseller_id=payment.reseller_id, type="invoice.payment_failed",
                 dedupe_key=f"invoice.payment_failed:{payment.id}", data={
                     "number": invoice.number, "amount": f"{payment.total:.2f}",
                     "currency": payment.currency, "method": payment.method,
                     "automatic": payment.idempotency_key.startswith("autopay:"),
                     "reason": error.get("code") if isinstance(error, dict) else None})


def create_invoice_payment(*, reseller_id: int, invoice_number: str, method: str,
                           idempotency_key: str, surcharges: Mapping[str, Decimal],
                           provider: str) -> tuple[TopUp, Invoice]:
    """A pending payment of an open invoice's amount due by card, PayPal or online banking.

    Paid through the same providers and webhooks as a top-up; the same key returns the
    first one. Another reseller's invoice is not found; one that is not open is refused.
    """
    invoice = invoices.get_invoice(reseller_id=reseller_id, number=invoice_number)
    if existing := db.session.scalar(sa.select(TopUp).where(
            TopUp.reseller_id == reseller_id, TopUp.idempotency_key == idempotency_key)):
        if existing.invoice_id != invoice.id or existing.method != method:
            raise ReferenceReused()
        return existing, invoice
    if method not in METHODS or method == "bank_transfer":
        raise InvalidPaymentMethod(_l("Pay an invoice by card, PayPal or online banking; "
                                      "bank transfers use the invoice's reference number."))
    if invoice.kind != "invoice" or invoice.status != "open" or invoice.amount_due <= 0:
        raise InvoiceNotPayable(number=invoice.number, invoice_status=invoice.status)
    surcharge = surcharge_for(method, surcharges)
    amount = invoice.amount_due
    payment = TopUp(reseller_id=reseller_id, idempotency_key=idempotency_key, method=method,
                    provider=provider, currency=invoice.currency, amount=amount,
                    surcharge=surcharge.amount, total=amount + surcharge.amount,
                    state="pending", token=secrets.token_urlsafe(24), invoice_id=invoice.id,
                    created_at=clock.now())
    db.session.add(payment)
    db.session.flush()
    return payment, invoice


def settle_invoice_payment(payment: TopUp, *, settings: InvoicingSettings,
                           provider_reference: str | None = None) -> bool:
    """Pay a locked invoice payment's invoice and book it once, like a bank transfer.

    Ledger (transfer ``topup:<id>``, kind ``invoice_payment``): the provider's clearing
    account is debited the total, the reseller's receivable credited the amount and
    surcharge revenue the surcharge. If the invoice was paid meanwhile (say by bank
    transfer), the money is still booked against the receivable: money on account.
    """
    if payment.state == "paid":
        return False
    invoice = db.session.get(Invoice, payment.invoice_id)
    assert invoice is not None
    try:
        with db.session.begin_nested():
            invoices.mark_invoice_paid(invoice_number=invoice.number, amount=payment.amount,
                                       paid_at=clock.now(), settings=settings,
                                       method=payment.method)
    except InvoiceNotPayable:
        pass
    rid = payment.reseller_id
    legs = [ledger.debit(ledger.clearing(payment.provider), payment.total),
            ledger.credit(ledger.RECEIVABLE, payment.amount, rid),
            ledger.credit(ledger.SURCHARGE_REVENUE, payment.surcharge)]
    credited = services.credit_funds(
        reseller_id=rid, legs=legs, reference=f"topup:{payment.id}", kind="invoice_payment",
        description=f"Invoice {invoice.number} paid by {payment.method}")
    payment.state = "paid"
    payment.settled_at = clock.now()
    payment.provider_reference = provider_reference or payment.provider_reference
    db.session.flush()
    return credited


def settle_topup(topup: TopUp, *, provider_reference: str | None = None) -> bool:
    """Credit a locked top-up's amount to funds and its surcharge to revenue, once."""
    if topup.state == "paid":
        return False
    rid = topup.reseller_id
    legs = [ledger.debit(ledger.clearing(topup.provider), topup.total),
            ledger.credit(ledger.FUNDS, topup.amount, rid),
            ledger.credit(ledger.SURCHARGE_REVENUE, topup.surcharge)]
    credited = services.credit_funds(reseller_id=rid, legs=legs, reference=f"topup:{topup.id}",
                                     kind="topup", description=f"Top-up by {topup.method}")
    topup.state = "paid"  # a late payment after a cancellation is still money received
    topup.settled_at = clock.now()
    topup.provider_reference = provider_reference or topup.provider_reference
    if credited:
        record_event(reseller_id=rid, type="wallet.topup_received",
                     dedupe_key=f"wallet.topup_received:{topup.id}", data={
                         "topup_id": topup.id, "amount": f"{topup.amount:.2f}",
                         "currency": topup.currency, "method": topup.method})
    db.session.flush()
    return credited
