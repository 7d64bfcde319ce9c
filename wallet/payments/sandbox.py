"""The sandbox provider (embedded default): a checkout page answering ``paid`` or
``cancelled``, then a callback signed like the card provider's, with the sandbox secret.

It also keeps cards on file, with a card network's rules: the number must pass the Luhn
check, the card must not be expired, and the well-known test numbers behave as at real
providers (4000 0000 0000 0002 is declined when saved, 4000 0000 0000 0341 saves but every
charge on it is declined). Its vault (``sandbox_payment_cards``) is the provider's side:
our own ``wallet_cards`` only ever learn the payment-method id, brand, last four digits
and expiry, through the signed callback.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column
from stdnum import luhn

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime
from wallet.payments import CardSetup, CardSetupRequest, Checkout, CheckoutRequest, Notice, card

DECLINED_AT_SETUP = "4000000000000002"
DECLINES_CHARGES = "4000000000000341"


class CardRefused(ValueError):
    """The sandbox network refuses the card; the message is for the person typing it."""


class SandboxCard(db.Model):
    """The sandbox provider's vault: a saved card, by payment-method id."""

    __tablename__ = "sandbox_payment_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_method: Mapped[str] = mapped_column(sa.String(40), unique=True)
    brand: Mapped[str] = mapped_column(sa.String(20))
    last4: Mapped[str] = mapped_column(sa.String(4))
    exp_month: Mapped[int] = mapped_column()
    exp_year: Mapped[int] = mapped_column()
    declines_charges: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    return "unknown"


def _remote(call: Callable[..., Any]) -> Callable[..., Any]:
    """Leave the caller's session as a remote provider would: called with no transaction
    open, the vault's reads and writes commit and none is left open."""

    @functools.wraps(call)
    def remote(self: Any, *args: Any, **kwargs: Any) -> Any:
        if db.session().in_transaction():
            return call(self, *args, **kwargs)
        with unit_of_work():
            return call(self, *args, **kwargs)

    return remote


def _same_for(key: str, size: int) -> str:
    """An id that is the same for every request with the idempotency ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()[:size]


@dataclass
class SandboxProvider:
    secret: str
    tolerance: int = 300
    name: str = "sandbox"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SandboxProvider:
        return cls(sandbox_secret(config), config.get("WEBHOOK_TOLERANCE", 300))

    def checkout_url(self, *, token: str, total: Decimal, base_url: str) -> str:
        return f"{base_url}/payments/sandbox/checkout/{token}"

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        return Checkout(self.checkout_url(token=request.token, total=request.total,
                                          base_url=request.base_url))

    def callback(self, *, token: str, outcome: str, total: Decimal,
                 now: int) -> tuple[bytes, dict[str, str]]:
        """The signed body and headers the sandbox posts to our webhook."""
        kind = "checkout.session.completed" if outcome == "paid" else "checkout.session.expired"
        body = json.dumps({
            "id": f"evt_sandbox_{uuid.uuid4().hex}", "type": kind,
            "data": {"object": {"id": f"cs_sandbox_{token[:12]}", "object": "checkout.session",
                                "metadata": {"topup": token},
                                "payment_status": "paid" if outcome == "paid" else "unpaid",
                                "amount_total": int(total.scaleb(2)), "currency": "eur"}},
        }).encode()
        return body, {card.HEADER: card.sign(body, self.secret, now),
                      "Content-Type": "application/json"}

    def parse(self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str],
              now: int) -> Notice:
        card.verify(body, headers.get(card.HEADER), self.secret, now=now,
                    tolerance=self.tolerance)
        return card.parse_event(self.name, body)

    # -- cards on file ------------------------------------------------------------------

    def start_setup(self, request: CardSetupRequest) -> CardSetup:
        """The sandbox's own card page (it plays the provider's hosted setup page)."""
        return CardSetup(f"{request.base_url}/payments/sandbox/card-setup/{request.token}")

    def save_card(self, *, number: str, expiry: str, cvc: str, today: date,
                  now: datetime) -> SandboxCard:
        """The network's checks on a card being saved; the saved card, or CardRefused."""
        number = "".join(number.split()).replace("-", "")
        if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn.is_valid(number):
            raise CardRefused(_l("The card number is not valid."))
        month, _, year = expiry.strip().partition("/")
        if not (month.strip().isdigit() and year.strip().isdigit()
                and 1 <= int(month) <= 12 and len(year.strip()) in (2, 4)):
            raise CardRefused(_l("Enter the expiry date as MM/YY."))
        exp_month, exp_year = int(month), int(year) + (2000 if len(year.strip()) == 2 else 0)
        if (exp_year, exp_month) < (today.year, today.month):
            raise CardRefused(_l("The card has expired."))
        brand = card_brand(number)
        if not cvc.strip().isdigit() or len(cvc.strip()) != (4 if brand == "amex" else 3):
            raise CardRefused(_l("The security code (CVC) is not valid."))
        if number == DECLINED_AT_SETUP:
            raise CardRefused(_l("The card was declined."))
        saved = SandboxCard(payment_method=f"pm_sandbox_{secrets.token_hex(12)}", brand=brand,
                            last4=number[-4:], exp_month=exp_month, exp_year=exp_year,
                            declines_charges=number == DECLINES_CHARGES, created_at=now)
        db.session.add(saved)
        db.session.flush()
        return saved

    def setup_callback(self, *, token: str, saved: SandboxCard | None,
                       now: int) -> tuple[bytes, dict[str, str]]:
        """The signed ``setup_intent.*`` callback telling us a card was saved (or not)."""
        obj: dict[str, Any] = {"id": f"seti_sandbox_{token[:12]}",
                               "metadata": {"card_setup": token}}
        if saved is not None:
            obj["payment_method"] = {"id": saved.payment_method, "card": {
                "brand": saved.brand, "last4": saved.last4, "exp_month": saved.exp_month,
                "exp_year": saved.exp_year}}
        kind = "setup_intent.succeeded" if saved is not None else "setup_intent.canceled"
        return self._signed({"id": f"evt_sandbox_{uuid.uuid4().hex}", "type": kind,
                             "data": {"object": obj}}, now)

    @_remote
    def charge(self, *, payment_method: str, total: Decimal, token: str, today: date,
               now: int, customer: str | None = None) -> tuple[bytes, dict[str, str]]:
        """Charge a saved card off-session; the outcome comes back as a signed callback.
        As at the card provider, a repeat with the same idempotency key (``charge-{token}``)
        is the same charge: the same payment intent and the same event."""
        saved = db.session.scalar(sa.select(SandboxCard).where(
            SandboxCard.payment_method == payment_method))
        failure = None
        if saved is None or saved.detached_at is not None:
            failure = "payment_method_detached"
        elif (saved.exp_year, saved.exp_month) < (today.year, today.month):
            failure = "expired_card"
        elif saved.declines_charges:
            failure = "card_declined"
        obj: dict[str, Any] = {"id": f"pi_sandbox_{_same_for(f'charge-{token}', 16)}",
                               "metadata": {"topup": token}, "amount": int(total.scaleb(2)),
                               "currency": "eur", "payment_method": payment_method}
        if failure:
            obj["last_payment_error"] = {"code": failure}
        kind = "payment_intent.payment_failed" if failure else "payment_intent.succeeded"
        return self._signed({"id": f"evt_sandbox_{_same_for(f'charge-{token}:event', 32)}",
                             "type": kind, "data": {"object": obj}}, now)

    @_remote
    def detach(self, *, payment_method: str, now: datetime) -> None:
        saved = db.session.scalar(sa.select(SandboxCard).where(
            SandboxCard.payment_method == payment_method))
        if saved is not None and saved.detached_at is None:
            saved.detached_at = now

    def _signed(self, event: dict[str, Any], now: int) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(event).encode()
        return body, {card.HEADER: card.sign(body, self.secret, now),
                      "Content-Type": "application/json"}


def sandbox_secret(config: Mapping[str, Any]) -> str:
    return config.get("SANDBOX_PAYMENTS_SECRET") or f"sandbox:{config.get('SECRET_KEY', '')}"
