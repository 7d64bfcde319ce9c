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
from wallet import ledger, reversals, services
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
from wallet.models import PaymentIssue, PaymentNotice, TopUp
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


def record_checkout(topup_id: int, *, url: str, reference: str | None) -> str:
    """Record the provider's hosted checkout for a pending top-up, created once and
    reused: the URL recorded first stands (returned), whoever asked the provider first."""
    values: dict = {"checkout_url": url[:2000]}
    if reference:
        values["provider_reference"] = sa.func.coalesce(TopUp.provider_reference,
                                                        reference[:120])
    recorded = db.session.scalar(
        sa.update(TopUp).where(TopUp.id == topup_id, TopUp.checkout_url.is_(None))
        .values(**values).returning(TopUp.checkout_url),
        execution_options={"synchronize_session": False})
    if recorded is None:  # recorded meanwhile
        recorded = db.session.scalar(sa.select(TopUp.checkout_url).where(TopUp.id == topup_id))
    return recorded


def _topup_for(notice: Notice) -> TopUp | None:
    """The top-up a notice is about: by our token, else by the provider's payment id."""
    if notice.token:
        return topup_by_token(notice.token, lock=True)
    if not notice.provider_reference:
        return None
    return db.session.scalar(
        sa.select(TopUp).where(TopUp.provider == notice.provider,
                               TopUp.provider_reference == notice.provider_reference)
        .order_by(TopUp.id).limit(1).with_for_update()
        .execution_options(populate_existing=True))


def receive_notice(notice: Notice, *, settings: InvoicingSettings | None = None) -> TopUp | None:
    """Apply a verified provider callback. Duplicates and late (out-of-order) callbacks
    change nothing; a payment is credited exactly once, only when its money has arrived,
    only in euros and only for the expected sum; what a refund or chargeback takes back
    is reversed once. What is refused or taken back goes to the operator's queue
    (``PaymentIssue``). None for a notice about no top-up of ours (reversals, ignored
    event types), recorded for the operator when it moved money.

    ``settings`` (the invoicing settings, for late interest) are needed when the payment
    is for an invoice."""
    if notice.status == "ignored":
        return None
    topup = _topup_for(notice)
    if topup is not None and topup.provider != notice.provider:
        raise InvalidPaymentNotice("the callback came from another provider")
    if _seen(notice):
        return topup
    if topup is None:
        if notice.status in ("reversed", "reinstated", "disputed"):
            _issue(notice, None, "unknown_payment", "a payment Tunnus does not know")
        return None
    if notice.provider_reference and notice.status != "reversed" \
            and not topup.provider_reference:
        topup.provider_reference = notice.provider_reference[:120]
    if notice.status == "paid":
        _receive_payment(topup, notice, settings)
    elif notice.status in ("cancelled", "failed") and topup.state == "pending":
        topup.state = "cancelled" if notice.status == "cancelled" else "failed"
        topup.settled_at = clock.now()
        if topup.invoice_id is not None:
            _invoice_payment_failed(topup, notice)
    elif notice.status in ("reversed", "reinstated", "disputed"):
        _receive_reversal(topup, notice)
    db.session.add(PaymentNotice(provider=notice.provider, event_id=notice.event_id,
                                 topup_id=topup.id, status=notice.status,
                                 payload=notice.payload, received_at=clock.now()))
    db.session.flush()
    return topup


def _seen(notice: Notice) -> bool:
    return db.session.scalar(sa.select(PaymentNotice.id).where(
        PaymentNotice.provider == notice.provider,
        PaymentNotice.event_id == notice.event_id)) is not None


def _receive_payment(topup: TopUp, notice: Notice, settings: InvoicingSettings | None) -> None:
    """Money arrived: credit it once, unless it is not what we asked for (then the
    operator refunds or settles it at the provider; nothing is converted)."""
    if notice.currency is not None and notice.currency != topup.currency:
        _issue(notice, topup, "currency", f"paid {notice.amount} {notice.currency}, "
                                          f"expected {topup.total} {topup.currency}")
        return
    if notice.amount is not None and notice.amount != topup.total:
        _issue(notice, topup, "amount", f"paid {notice.amount}, expected {topup.total}")
        return
    if topup.invoice_id is not None:
        if settings is None:
            raise ValueError("an invoice payment needs the invoicing settings")
        settle_invoice_payment(topup, settings=settings,
                               provider_reference=notice.provider_reference)
    else:
        settle_topup(topup, provider_reference=notice.provider_reference)


def _receive_reversal(topup: TopUp, notice: Notice) -> None:
    """A refund or chargeback (or its reversal): book what it moves, tell everyone."""
    amount = notice.amount or Decimal(0)
    if notice.currency is not None and notice.currency != topup.currency:
        _issue(notice, topup, "currency", f"{notice.status} {amount} {notice.currency}")
        return
    if notice.status == "disputed":
        _issue(notice, topup, "dispute", "a dispute opened or closed; no money moved now")
        return
    if topup.state != "paid":  # nothing was credited: nothing to take back
        return
    if notice.status == "reinstated":
        if reversals.reinstate_payment(topup, reference=f"reinstated:{notice.provider}:"
                                       f"{notice.reversal_id}",
                                       original=f"reversal:{notice.provider}:"
                                       f"{notice.reversal_id}"):
            _issue(notice, topup, "reinstated", "a chargeback was decided in our favour")
        return
    take = amount - topup.reversed_amount if notice.cumulative else amount
    take = min(take, topup.total - topup.reversed_amount)
    if take <= 0:
        return
    kind = "chargeback" if (notice.reversal_id or "").startswith("dispute:") else "refund"
    reversals.reverse_topup(topup, amount=take, reason=_reason(notice), cause=kind,
                            reference=f"reversal:{notice.provider}:{notice.reversal_id}")
    _issue(notice, topup, kind, f"{take} taken back: {_reason(notice)}")


def _reason(notice: Notice) -> str:
    if (notice.reversal_id or "").startswith("dispute:"):
        return f"chargeback ({notice.provider})"
    return f"refunded at the payment provider ({notice.provider})"


def _issue(notice: Notice, topup: TopUp | None, kind: str, detail: str) -> None:
    """Put what the operator must see in the queue (once per provider event)."""
    db.session.add(PaymentIssue(
        provider=notice.provider, event_id=notice.event_id, kind=kind,
        topup_id=topup.id if topup else None, reseller_id=topup.reseller_id if topup else None,
        amount=notice.amount, currency=notice.currency, detail=detail[:500], state="open",
        created_at=clock.now()))
    db.session.flush()


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
