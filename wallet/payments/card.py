"""Card payments, Stripe-style: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256>``.

The signed payload is ``"{t}.{raw body}"``; signatures older than the tolerance are
refused (replay protection on top of the event-id de-duplication).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
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
        if str(event["type"]).startswith("setup_intent."):
            return _setup_notice(provider, event)
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


def _setup_notice(provider: str, event: dict[str, Any]) -> Notice:
    """A card saved (``setup_intent.succeeded``) or not, for the card setup ``token``."""
    try:
        obj = event["data"]["object"]
        token = str(obj["metadata"]["card_setup"])
        saved = event["type"] == "setup_intent.succeeded"
        details = None
        if saved:
            method = obj["payment_method"]
            details = {"payment_method": str(method["id"]),
                       "brand": str(method["card"]["brand"])[:20],
                       "last4": str(method["card"]["last4"])[-4:],
                       "exp_month": int(method["card"]["exp_month"]),
                       "exp_year": int(method["card"]["exp_year"]),
                       "customer": str(obj["customer"])[:100] if obj.get("customer") else None}
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidPaymentNotice() from error
    return Notice(provider, str(event["id"]), token, "paid" if saved else "cancelled", None,
                  obj.get("id"), event, kind="card_setup", card=details)


class ProviderError(RuntimeError):
    """The provider's API refused or could not be reached; the job retries."""


def api_post(base_url: str, key: str, path: str, form: Mapping[str, str], *,
             idempotency_key: str | None = None, timeout: float = 20) -> dict[str, Any]:
    """One form-encoded POST to a Stripe-style API with a bearer key; its JSON answer."""
    request = urllib.request.Request(
        base_url.rstrip("/") + path, data=urllib.parse.urlencode(form).encode(), method="POST",
        headers={"Authorization": f"Bearer {key}",
                 "Content-Type": "application/x-www-form-urlencoded",
                 **({"Idempotency-Key": idempotency_key} if idempotency_key else {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read()[:500].decode(errors="replace")
        raise ProviderError(f"{path}: HTTP {error.code} {detail}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise ProviderError(f"{path}: {error}") from None


@dataclass
class CardProvider:
    secret: str
    tolerance: int = 300
    name: str = "card"
    api_url: str = "https://api.stripe.com"
    api_key: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CardProvider:
        return cls(config.get("CARD_WEBHOOK_SECRET") or "", config.get("WEBHOOK_TOLERANCE", 300),
                   api_url=config.get("CARD_API_URL") or "https://api.stripe.com",
                   api_key=config.get("CARD_API_KEY") or "")

    def setup_url(self, *, token: str, base_url: str) -> str:
        """Where a card is saved: like ``checkout_url``, the place for the provider's
        hosted setup session (not created here: no network to a real provider)."""
        return f"{base_url}/payments/card/card-setup/{token}"

    def charge(self, *, payment_method: str, total: Decimal, token: str, today: Any,
               now: int, customer: str | None = None) -> None:
        """An off-session charge; the outcome arrives later as a signed webhook."""
        form = {"amount": str(int(total.scaleb(2))), "currency": "eur",
                "payment_method": payment_method, "off_session": "true", "confirm": "true",
                "metadata[topup]": token}
        if customer:
            form["customer"] = customer
        api_post(self.api_url, self.api_key, "/v1/payment_intents", form,
                 idempotency_key=f"charge-{token}")
        return None

    def detach(self, *, payment_method: str, now: Any) -> None:
        api_post(self.api_url, self.api_key, f"/v1/payment_methods/{payment_method}/detach", {})

    def checkout_url(self, *, token: str, total: Decimal, base_url: str) -> str:
        return f"{base_url}/payments/card/checkout/{token}"

    def parse(self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str],
              now: int) -> Notice:
        verify(body, headers.get(HEADER), self.secret, now=now, tolerance=self.tolerance)
        return parse_event(self.name, body)
