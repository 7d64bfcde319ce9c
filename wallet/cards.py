"""Cards on file: a reseller saves a card with the payment provider, and its open invoices
are charged to it on their due date.

Saving happens on the provider's page; we learn of it only from the provider's signed
callback (``setup_intent.succeeded``), which activates the card and retires the one it
replaces. A retired card is then deleted at the provider and its payment-method id wiped
here (``forget``), so an old card can never be charged again. These functions take and
return rows; provider calls are the caller's (``wallet.web.cards``).
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.extensions import db
from wallet.errors import InvalidPaymentNotice, NoCardOnFile
from wallet.invoices.models import Invoice
from wallet.models import Card, PaymentNotice, TopUp
from wallet.payments import Notice

AUTOPAY_PREFIX = "autopay:"
# A payment pending this long is taken as abandoned (a checkout left open, a lost answer).
IN_FLIGHT = timedelta(days=3)


def active_card(reseller_id: int) -> Card | None:
    return db.session.scalar(sa.select(Card).where(Card.reseller_id == reseller_id,
                                                   Card.state == "active"))


def new_setup_token() -> str:
    return secrets.token_urlsafe(24)


def start_setup(*, reseller_id: int, provider: str, setup_token: str | None = None,
                customer: str | None = None) -> Card:
    """A pending card: the provider's page saves it and calls back with ``setup_token``
    (``customer``: the provider's customer it is being saved for)."""
    card = Card(reseller_id=reseller_id, provider=provider, state="pending",
                setup_token=setup_token or new_setup_token(), created_at=clock.now(),
                provider_customer=customer or None)
    db.session.add(card)
    db.session.flush()
    return card


def provider_customer(reseller_id: int, provider: str) -> str | None:
    """The provider's customer the reseller's cards were saved for (the latest), if any."""
    return db.session.scalar(sa.select(Card.provider_customer).where(
        Card.reseller_id == reseller_id, Card.provider == provider,
        Card.provider_customer.is_not(None)).order_by(Card.id.desc()).limit(1))


def card_by_setup_token(token: str, *, lock: bool = False) -> Card:
    stmt = sa.select(Card).where(Card.setup_token == token)
    if lock and db.engine.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    card = db.session.scalar(stmt)
    if card is None:
        raise InvalidPaymentNotice("no such card setup")
    return card


def receive_setup(notice: Notice) -> tuple[Card, Card | None]:
    """Apply a verified card-setup callback once: (the card, the card it replaced).

    The replaced card is retired here; the caller deletes it at the provider.
    """
    card = card_by_setup_token(notice.token, lock=True)
    if card.provider != notice.provider:
        raise InvalidPaymentNotice("the callback came from another provider")
    if db.session.scalar(sa.select(PaymentNotice.id).where(
            PaymentNotice.provider == notice.provider,
            PaymentNotice.event_id == notice.event_id)) is not None or card.state != "pending":
        return card, None
    db.session.add(PaymentNotice(provider=notice.provider, event_id=notice.event_id,
                                 topup_id=None, status=notice.status, payload=notice.payload,
                                 received_at=clock.now()))
    if notice.status != "paid" or not notice.card:
        card.state = "failed"
        db.session.flush()
        return card, None
    replaced = _retire(card.reseller_id)
    details = notice.card
    card.state, card.activated_at = "active", clock.now()
    card.payment_method, card.brand = details["payment_method"], details["brand"]
    card.last4, card.exp_month, card.exp_year = (details["last4"], details["exp_month"],
                                                 details["exp_year"])
    card.provider_customer = details.get("customer") or card.provider_customer
    db.session.flush()
    return card, replaced


def _retire(reseller_id: int) -> Card | None:
    stmt = sa.select(Card).where(Card.reseller_id == reseller_id, Card.state == "active")
    if db.engine.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    current = db.session.scalar(stmt)
    if current is not None:
        current.state, current.removed_at = "removed", clock.now()
        db.session.flush()
    return current


def remove_card(*, reseller_id: int) -> Card:
    """Retire the reseller's card (the caller deletes it at the provider)."""
    removed = _retire(reseller_id)
    if removed is None:
        raise NoCardOnFile()
    return removed


def forget(card: Card) -> None:
    """After the provider deleted it: wipe the payment-method id, keep the display data."""
    card.payment_method = None
    db.session.flush()


def autopay_key(invoice: Invoice, today: date) -> str:
    """One automatic attempt per invoice per day."""
    return f"{AUTOPAY_PREFIX}{invoice.number}:{today.isoformat()}"


def due_for_autopay(today: date) -> list[tuple[Invoice, Card]]:
    """Open invoices due by ``today`` whose reseller has a card, not yet tried today and
    with no payment still in flight (a charge the provider has not answered yet could
    still succeed: starting another would charge the card twice)."""
    in_flight = sa.exists().where(TopUp.invoice_id == Invoice.id, TopUp.state == "pending",
                                  TopUp.created_at >= clock.now() - IN_FLIGHT)
    rows = db.session.execute(
        sa.select(Invoice, Card).join(Card, sa.and_(Card.reseller_id == Invoice.reseller_id,
                                                    Card.state == "active"))
        .where(Invoice.kind == "invoice", Invoice.status == "open",
               Invoice.due_date <= today, ~in_flight).order_by(Invoice.id)).all()
    tried = set(db.session.scalars(sa.select(TopUp.idempotency_key).where(
        TopUp.idempotency_key.in_([autopay_key(invoice, today) for invoice, _ in rows]))))
    return [(invoice, card) for invoice, card in rows
            if invoice.amount_due > 0 and autopay_key(invoice, today) not in tried]


def next_charge(reseller_id: int, today: date) -> Invoice | None:
    """The open invoice the card pays next (the earliest due)."""
    for invoice in db.session.scalars(sa.select(Invoice).where(
            Invoice.reseller_id == reseller_id, Invoice.kind == "invoice",
            Invoice.status == "open").order_by(Invoice.due_date, Invoice.id)):
        if invoice.amount_due > 0:
            return invoice
    return None


def last_autopay(reseller_id: int) -> TopUp | None:
    return db.session.scalar(sa.select(TopUp).where(
        TopUp.reseller_id == reseller_id, TopUp.idempotency_key.startswith(AUTOPAY_PREFIX))
        .order_by(TopUp.id.desc()).limit(1))
