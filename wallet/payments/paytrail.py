"""Finnish online banking, Paytrail-style: callbacks are GET query strings signed with
HMAC-SHA256 (or SHA-512) over every ``checkout-*`` parameter, sorted, ``key:value`` per
line, followed by the (empty) body."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from wallet.errors import InvalidPaymentNotice, InvalidSignature, PaymentProviderUnavailable
from wallet.payments import Checkout, CheckoutRequest, Notice

ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
# Paytrail's payment statuses: ``new`` (created, not paid), ``pending`` / ``delayed``
# (the bank or provider has not confirmed yet: a later callback will), ``ok``, ``fail``.
# Paytrail takes euros only, so its callbacks carry no currency.
STATUS = {"ok": "paid", "fail": "cancelled", "pending": "pending", "delayed": "pending",
          "new": "pending"}


def signature(params: Mapping[str, str], secret: str, body: str = "") -> str:
    algorithm = ALGORITHMS.get(params.get("checkout-algorithm", "sha256"))
    if algorithm is None:
        raise InvalidSignature("unsupported checkout-algorithm")
    lines = [f"{key}:{params[key]}" for key in sorted(params) if key.startswith("checkout-")]
    return hmac.new(secret.encode(), "\n".join(lines + [body]).encode(), algorithm).hexdigest()


def verify(params: Mapping[str, str], secret: str, account: str | None = None) -> None:
    given = params.get("signature")
    if not given or not secret:
        raise InvalidSignature("missing signature")
    if account and params.get("checkout-account") != account:
        raise InvalidSignature("callback for another merchant account")
    if not hmac.compare_digest(signature(params, secret), given):
        raise InvalidSignature("signature mismatch")


@dataclass
class PaytrailProvider:
    account: str
    secret: str
    name: str = "online_banking"
    api_url: str = "https://services.paytrail.com"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PaytrailProvider:
        return cls(config.get("PAYTRAIL_ACCOUNT") or "", config.get("PAYTRAIL_SECRET") or "",
                   api_url=(config.get("PAYTRAIL_API_URL") or "https://services.paytrail.com")
                   .rstrip("/"))

    def checkout_url(self, *, token: str, total: Decimal, base_url: str) -> str:
        return f"{base_url}/payments/online_banking/checkout/{token}"

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        """``POST /payments`` (Paytrail Payment API), signed with the merchant secret over
        the ``checkout-*`` headers and the body; the payer goes to its ``href``."""
        cents = int(request.total.scaleb(2))
        body = json.dumps({
            "stamp": request.token, "reference": request.token, "amount": cents,
            "currency": "EUR", "language": request.language.upper(),
            "items": [{"unitPrice": cents, "units": 1, "vatPercentage": 0,
                       "productCode": "topup", "description": request.description[:1000]}],
            "customer": {"email": request.email or ""},
            "redirectUrls": {"success": request.return_url(self.name),
                             "cancel": request.return_url(self.name, "cancelled")},
            "callbackUrls": {"success": f"{request.base_url}/payments/webhooks/{self.name}",
                             "cancel": f"{request.base_url}/payments/webhooks/{self.name}"},
        })
        headers = {"checkout-account": self.account, "checkout-algorithm": "sha256",
                   "checkout-method": "POST", "checkout-nonce": secrets.token_hex(16),
                   "checkout-timestamp": datetime.now(UTC).isoformat(timespec="milliseconds")
                   .replace("+00:00", "Z")}
        headers["signature"] = signature(headers, self.secret, body)
        http = urllib.request.Request(f"{self.api_url}/payments", data=body.encode(),
                                      method="POST", headers={
                                          **headers, "content-type": "application/json"})
        try:
            with urllib.request.urlopen(http, timeout=20) as response:  # noqa: S310
                payment = json.loads(response.read())
            return Checkout(str(payment["href"]), str(payment["transactionId"]))
        except (urllib.error.URLError, TimeoutError, ValueError, KeyError) as error:
            raise PaymentProviderUnavailable() from error

    def parse(self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str],
              now: int) -> Notice:
        params = dict(query)
        verify(params, self.secret, self.account or None)
        try:
            cents = int(params["checkout-amount"])
            token = params["checkout-stamp"]
            transaction = params["checkout-transaction-id"]
            status = STATUS[params["checkout-status"]]
        except (KeyError, ValueError) as error:
            raise InvalidPaymentNotice() from error
        # One transaction may call back several times as its status moves on.
        return Notice(self.name, f"{transaction}:{params['checkout-status']}", token, status,
                      Decimal(cents).scaleb(-2), transaction, params, currency="EUR")
