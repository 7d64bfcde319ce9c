"""PayPal webhooks: ``PAYPAL-TRANSMISSION-SIG`` is an RSA-SHA256 signature over
``transmission_id|transmission_time|webhook_id|crc32(body)`` by PayPal's certificate.

The certificate is configured (``PAYPAL_CERT_PEM``) rather than fetched from the
``PAYPAL-CERT-URL`` header, so a forged header cannot point us at an attacker's key.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from wallet.errors import InvalidPaymentNotice, InvalidSignature, PaymentProviderUnavailable
from wallet.payments import Checkout, CheckoutRequest, Notice
from wallet.payments.card import ProviderError

# Captures (``resource`` is a capture); orders (``resource`` is an Orders v2 order); refunds
# and reversals (``resource`` is a refund, whose ``up`` link names the capture).
CAPTURE_EVENTS = {"PAYMENT.CAPTURE.COMPLETED": "paid", "PAYMENT.CAPTURE.PENDING": "pending",
                  "PAYMENT.CAPTURE.DENIED": "cancelled", "PAYMENT.CAPTURE.DECLINED": "cancelled"}
ORDER_EVENTS = {"CHECKOUT.ORDER.COMPLETED": "paid", "CHECKOUT.ORDER.APPROVED": "pending",
                "CHECKOUT.ORDER.VOIDED": "cancelled"}
REVERSAL_EVENTS = ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED")


def signed_message(transmission_id: str, timestamp: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{timestamp}|{webhook_id}|{zlib.crc32(body)}".encode()


def verify(headers: Mapping[str, str], body: bytes, *, webhook_id: str, cert_pem: str,
           now: int, tolerance: int = 300) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature as BadRsa
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    transmission_id = headers.get("PAYPAL-TRANSMISSION-ID")
    timestamp = headers.get("PAYPAL-TRANSMISSION-TIME")
    signature = headers.get("PAYPAL-TRANSMISSION-SIG")
    if not (transmission_id and timestamp and signature and webhook_id and cert_pem):
        raise InvalidSignature("missing signature")
    if headers.get("PAYPAL-AUTH-ALGO", "SHA256withRSA") != "SHA256withRSA":
        raise InvalidSignature("unsupported PAYPAL-AUTH-ALGO")
    try:
        sent = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
        raw = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error) as error:
        raise InvalidSignature("malformed signature headers") from error
    if abs(now - sent) > tolerance:
        raise InvalidSignature("signature timestamp outside the tolerance")
    key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    try:
        key.verify(raw, signed_message(transmission_id, timestamp, webhook_id, body),
                   padding.PKCS1v15(), hashes.SHA256())
    except BadRsa as error:
        raise InvalidSignature("signature mismatch") from error


def _call(url: str, data: bytes, headers: Mapping[str, str], timeout: float = 20) -> Any:
    request = urllib.request.Request(url, data=data, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise ProviderError(f"{url}: HTTP {error.code} {error.read()[:500]!r}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise ProviderError(f"{url}: {error}") from None


@dataclass
class PayPalProvider:
    webhook_id: str
    cert_pem: str
    tolerance: int = 300
    name: str = "paypal"
    api_url: str = "https://api-m.paypal.com"
    client_id: str = ""
    client_secret: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PayPalProvider:
        return cls(config.get("PAYPAL_WEBHOOK_ID") or "", config.get("PAYPAL_CERT_PEM") or "",
                   config.get("WEBHOOK_TOLERANCE", 300),
                   api_url=(config.get("PAYPAL_API_URL") or "https://api-m.paypal.com")
                   .rstrip("/"),
                   client_id=config.get("PAYPAL_CLIENT_ID") or "",
                   client_secret=config.get("PAYPAL_CLIENT_SECRET") or "")

    def checkout_url(self, *, token: str, total: Decimal, base_url: str) -> str:
        return f"{base_url}/payments/paypal/checkout/{token}"

    def _token(self) -> str:
        """An OAuth 2.0 access token (client credentials), per PayPal's REST docs."""
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        answer = _call(f"{self.api_url}/v1/oauth2/token", b"grant_type=client_credentials",
                       {"Authorization": f"Basic {basic}",
                        "Content-Type": "application/x-www-form-urlencoded"})
        return str(answer["access_token"])

    def _api(self, path: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        return _call(f"{self.api_url}{path}", json.dumps(body).encode(), {
            "Authorization": f"Bearer {self._token()}", "Content-Type": "application/json",
            "PayPal-Request-Id": request_id, "Prefer": "return=minimal"})

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        """An Orders v2 order (intent CAPTURE, our token as ``custom_id``); the payer
        approves it at the ``payer-action`` (or legacy ``approve``) link."""
        body = {"intent": "CAPTURE", "purchase_units": [{
            "reference_id": request.token, "custom_id": request.token,
            "description": request.description[:127],
            "amount": {"currency_code": "EUR", "value": f"{request.total:.2f}"}}],
            "payment_source": {"paypal": {"experience_context": {
                "return_url": request.return_url(self.name),
                "cancel_url": request.return_url(self.name, "cancelled"),
                "user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING"}}}}
        try:
            order = self._api("/v2/checkout/orders", body, f"order-{request.token}")
            link = next(link["href"] for link in order["links"]
                        if link["rel"] in ("payer-action", "approve"))
            return Checkout(str(link), str(order["id"]))
        except (ProviderError, KeyError, StopIteration, TypeError) as error:
            raise PaymentProviderUnavailable() from error

    def capture(self, *, order_id: str) -> None:
        """Capture an approved order (the payer is back, or CHECKOUT.ORDER.APPROVED came);
        the money is credited when PAYMENT.CAPTURE.COMPLETED arrives."""
        self._api(f"/v2/checkout/orders/{order_id}/capture", {}, f"capture-{order_id}")

    def parse(self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str],
              now: int) -> Notice:
        verify(headers, body, webhook_id=self.webhook_id, cert_pem=self.cert_pem, now=now,
               tolerance=self.tolerance)
        try:
            return parse_event(self.name, json.loads(body))
        except (ValueError, KeyError, TypeError, IndexError, InvalidOperation) as error:
            raise InvalidPaymentNotice() from error


def _amount(amount: dict[str, Any]) -> tuple[Decimal, str]:
    return abs(Decimal(str(amount["value"]))), str(amount["currency_code"]).upper()


def parse_event(provider: str, event: dict[str, Any]) -> Notice:
    """A PayPal webhook event (Orders v2 / Payments v2 resources) as a Notice."""
    kind, event_id, resource = str(event["event_type"]), str(event["id"]), event["resource"]
    if kind in CAPTURE_EVENTS:
        amount, currency = _amount(resource["amount"])
        status = CAPTURE_EVENTS[kind]
        if status == "paid" and resource.get("status", "COMPLETED") != "COMPLETED":
            status = "pending"
        return Notice(provider, event_id, str(resource["custom_id"]), status, amount,
                      str(resource["id"]), event, currency=currency)
    if kind in ORDER_EVENTS:
        return _order_notice(provider, event_id, kind, resource, event)
    if kind in REVERSAL_EVENTS:
        amount, currency = _amount(resource["amount"])
        capture = next((link["href"].rstrip("/").rsplit("/", 1)[-1]
                        for link in resource.get("links", []) if link.get("rel") == "up"), None)
        return Notice(provider, event_id, resource.get("custom_id"), "reversed", amount,
                      capture, event, currency=currency, reversal_id=str(resource["id"]))
    return Notice(provider, event_id, None, "ignored", None, None, event)


def _order_notice(provider: str, event_id: str, kind: str, order: dict[str, Any],
                  event: Any) -> Notice:
    """An order: paid only with a completed capture (its amount and id are the payment)."""
    unit = order["purchase_units"][0]
    token = str(unit.get("custom_id") or unit["reference_id"])
    captures = [capture for capture in (unit.get("payments") or {}).get("captures", [])
                if capture.get("status") == "COMPLETED"]
    status = ORDER_EVENTS[kind]
    if status == "paid" and not captures:
        status = "pending"  # completed without a completed capture: no money yet
    if captures:
        amounts = [_amount(capture["amount"]) for capture in captures]
        currency = amounts[0][1] if len({c for _, c in amounts}) == 1 else "mixed"
        return Notice(provider, event_id, token, status, sum(a for a, _ in amounts),
                      str(captures[0]["id"]), event, currency=currency)
    amount, currency = _amount(unit["amount"])
    return Notice(provider, event_id, token, status, amount, str(order["id"]), event,
                  currency=currency)
