"""PayPal webhooks: ``PAYPAL-TRANSMISSION-SIG`` is an RSA-SHA256 signature over
``transmission_id|transmission_time|webhook_id|crc32(body)`` by PayPal's certificate.

The certificate is configured (``PAYPAL_CERT_PEM``) rather than fetched from the
``PAYPAL-CERT-URL`` header, so a forged header cannot point us at an attacker's key.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from wallet.errors import InvalidPaymentNotice, InvalidSignature
from wallet.payments import Notice

PAID = {"PAYMENT.CAPTURE.COMPLETED", "CHECKOUT.ORDER.COMPLETED"}
CANCELLED = {"PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED", "CHECKOUT.ORDER.VOIDED"}


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


@dataclass
class PayPalProvider:
    webhook_id: str
    cert_pem: str
    tolerance: int = 300
    name: str = "paypal"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PayPalProvider:
        return cls(config.get("PAYPAL_WEBHOOK_ID") or "", config.get("PAYPAL_CERT_PEM") or "",
                   config.get("WEBHOOK_TOLERANCE", 300))

    def checkout_url(self, *, token: str, total: Decimal, base_url: str) -> str:
        return f"{base_url}/payments/paypal/checkout/{token}"

    def parse(self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str],
              now: int) -> Notice:
        verify(headers, body, webhook_id=self.webhook_id, cert_pem=self.cert_pem, now=now,
               tolerance=self.tolerance)
        try:
            event = json.loads(body)
            resource = event["resource"]
            token = resource["custom_id"]
            amount = Decimal(resource["amount"]["value"])
            kind = event["event_type"]
            event_id = str(event["id"])
        except (ValueError, KeyError, TypeError, InvalidOperation) as error:
            raise InvalidPaymentNotice() from error
        status = "paid" if kind in PAID else "cancelled" if kind in CANCELLED else "pending"
        return Notice(self.name, event_id, str(token), status, amount, resource.get("id"), event)
