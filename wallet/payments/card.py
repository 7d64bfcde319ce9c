"""Card payments, Stripe-style: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256>``.

The signed payload is ``"{t}.{raw body}"``; signatures older than the tolerance are
refused (replay protection on top of the event-id de-duplication).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wallet.errors import InvalidPaymentNotice, InvalidSignature
from wallet.payments import Notice

HEADER = "Stripe-Signature"
PAID_EVENTS = {"checkout.session.completed", "payment_intent.succeeded"}
CANCELLED_EVENTS = {"checkout.session.expired", "payment_intent.canceled",
                    "payment_intent.payment_failed"}


def sign(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(body: bytes, header: str | None, secret: str, *, now: int,
           tolerance: int = 300) -> None:
    """Raise ``InvalidSignature`` unless one v1 signature matches and ``t`` is fresh."""
    if not header or not secret:
        raise InvalidSignature("missing signature")
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not signatures:
        raise InvalidSignature("malformed signature header")
    timestamp = int(timestamps[0])
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("signature timestamp outside the tolerance")
    expected = sign(body, secret, timestamp).split("v1=")[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("signature mismatch")


def parse_event(provider: str, body: bytes) -> Notice:
    try:
        event = json.loads(body)
        obj = event["data"]["object"]
        token = obj["metadata"]["topup"]
        kind = event["type"]
        event_id = str(event["id"])
        cents = obj.get("amount_total", obj.get("amount"))
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidPaymentNotice() from error
    status = "paid" if kind in PAID_EVENTS else "cancelled" if kind in CANCELLED_EVENTS \
        else "pending"
    amount = Decimal(int(cents)).scaleb(-2) if isinstance(cents, int) else None
    return Notice(provider, event_id, str(token), status, amount, obj.get("id"), event)


@dataclass
class CardProvider:
    secret: str
    tolerance: int = 300
    name: str = "card"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CardProvider:
        return cls(config.get("CARD_WEBHOOK_SECRET") or "", config.get("WEBHOOK_TOLERANCE", 300))

    def checkout_url(self, *, token: str, total: Decimal, base_url: str) -> str:
        return f"{base_url}/payments/card/checkout/{token}"

    def parse(self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str],
              now: int) -> Notice:
        verify(body, headers.get(HEADER), self.secret, now=now, tolerance=self.tolerance)
        return parse_event(self.name, body)
