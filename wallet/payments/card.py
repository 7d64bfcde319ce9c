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
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from wallet.errors import InvalidPaymentNotice, InvalidSignature, PaymentProviderUnavailable
from wallet.payments import CardSetup, CardSetupRequest, Checkout, CheckoutRequest, Notice

HEADER = "Stripe-Signature"
# Stripe's zero-decimal currencies: their amounts are not in cents.
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
                         .split())
# event type -> status, for the payment objects (Checkout Session, PaymentIntent)
PAYMENT_EVENTS = {
    "checkout.session.completed": "paid",  # unless payment_status says otherwise
    "checkout.session.async_payment_succeeded": "paid",
    "checkout.session.async_payment_failed": "failed",
    "checkout.session.expired": "cancelled",
    "payment_intent.succeeded": "paid",
    "payment_intent.processing": "pending",
    "payment_intent.canceled": "cancelled",
    "payment_intent.payment_failed": "cancelled",
}
# Disputes: money is taken when a dispute opens (except inquiries, ``warning_*``) and
# comes back when it is won.
DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.funds_withdrawn",
                  "charge.dispute.funds_reinstated", "charge.dispute.closed")


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


def _id(value: Any) -> str | None:
    """An id, whether the field holds it or the expanded object (webhooks send ids)."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _money(obj: dict[str, Any], field: str) -> tuple[Decimal | None, str | None]:
    currency = str(obj["currency"]).upper() if obj.get("currency") else None
    minor = obj.get(field)
    if not isinstance(minor, int) or isinstance(minor, bool):
        return None, currency
    return (Decimal(minor) if currency in ZERO_DECIMAL else Decimal(minor).scaleb(-2)), currency


def parse_event(provider: str, body: bytes) -> Notice:
    """A Stripe event (as its webhooks send it: ids, not expanded objects) as a Notice."""
    try:
        event = json.loads(body)
        kind, event_id = str(event["type"]), str(event["id"])
        obj = event["data"]["object"]
        if kind.startswith("setup_intent."):
            return _setup_notice(provider, event)
        metadata = obj.get("metadata") or {}
        if kind.startswith("checkout.session.") and obj.get("mode") == "setup":
            return _setup_session_notice(provider, event_id, kind, metadata, event)
        if kind in PAYMENT_EVENTS:
            return _payment_notice(provider, event_id, kind, obj, metadata, event)
        if kind == "charge.refunded":
            amount, currency = _money(obj, "amount_refunded")
            return Notice(provider, event_id, metadata.get("topup"), "reversed", amount,
                          _id(obj.get("payment_intent")) or str(obj["id"]), event,
                          currency=currency, cumulative=True,
                          reversal_id=f"{obj['id']}:refunded:{obj.get('amount_refunded')}")
        if kind in DISPUTE_EVENTS:
            return _dispute_notice(provider, event_id, kind, obj, metadata, event)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InvalidPaymentNotice() from error
    return Notice(provider, event_id, None, "ignored", None, None, event)


def _payment_notice(provider: str, event_id: str, kind: str, obj: dict, metadata: dict,
                    event: Any) -> Notice:
    token = metadata.get("topup") or obj.get("client_reference_id")
    if not token:
        raise KeyError("metadata.topup")
    status = PAYMENT_EVENTS[kind]
    if kind == "checkout.session.completed" and obj.get("payment_status") != "paid":
        status = "pending"  # a delayed method (SEPA debit, ...): async_payment_* follows
    if obj.get("object") == "checkout.session":
        amount, currency = _money(obj, "amount_total")
        reference = _id(obj.get("payment_intent")) or str(obj["id"])
    else:
        amount, currency = _money(obj, "amount_received" if status == "paid" else "amount")
        if amount is None or (status == "paid" and not obj.get("amount_received")):
            amount, currency = _money(obj, "amount_total" if "amount_total" in obj else "amount")
        reference = str(obj["id"])
    return Notice(provider, event_id, str(token), status, amount, reference, event,
                  currency=currency)


def _dispute_notice(provider: str, event_id: str, kind: str, obj: dict, metadata: dict,
                    event: Any) -> Notice:
    amount, currency = _money(obj, "amount")
    dispute_status = str(obj.get("status") or "")
    if kind == "charge.dispute.funds_reinstated" or dispute_status == "won":
        status = "reinstated"
    elif kind == "charge.dispute.closed" or dispute_status.startswith("warning_"):
        status = "disputed"  # lost (taken already) or an inquiry: no money moves now
    else:
        status = "reversed"
    return Notice(provider, event_id, metadata.get("topup"), status, amount,
                  _id(obj.get("payment_intent")) or _id(obj.get("charge")), event,
                  currency=currency, reversal_id=f"dispute:{obj['id']}")


def _setup_session_notice(provider: str, event_id: str, kind: str, metadata: dict,
                          event: dict) -> Notice:
    """A Checkout Session in setup mode: the card itself arrives with the SetupIntent's
    ``setup_intent.succeeded``; a session that expired unused ends the pending card."""
    token = metadata.get("card_setup")
    if kind == "checkout.session.expired" and token:
        return Notice(provider, event_id, str(token), "cancelled", None, None, event,
                      kind="card_setup")
    return Notice(provider, event_id, None, "ignored", None, None, event)


def _setup_notice(provider: str, event: dict[str, Any]) -> Notice:
    """A card saved (``setup_intent.succeeded``) or given up (``setup_intent.canceled``)
    for the card setup ``token``. A failed attempt (``setup_intent.setup_failed``, a card
    declined) ends nothing: the reseller may try another card on the same page."""
    if event.get("type") not in ("setup_intent.succeeded", "setup_intent.canceled"):
        return Notice(provider, str(event.get("id")), None, "ignored", None, None, event)
    try:
        obj = event["data"]["object"]
        token = str(obj["metadata"]["card_setup"])
        saved = event["type"] == "setup_intent.succeeded"
        details = None
        if saved:
            method = obj["payment_method"]
            # Webhooks carry the id alone; the card's details are then fetched (CardProvider).
            details = card_details(method) if isinstance(method, dict) else {
                "payment_method": str(method)}
            details["customer"] = _id(obj.get("customer"))
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidPaymentNotice() from error
    return Notice(provider, str(event["id"]), token, "paid" if saved else "cancelled", None,
                  obj.get("id"), event, kind="card_setup", card=details)


def card_details(method: Mapping[str, Any]) -> dict[str, Any]:
    """What we keep of a PaymentMethod object: its id, brand, last four digits, expiry."""
    return {"payment_method": str(method["id"]), "brand": str(method["card"]["brand"])[:20],
            "last4": str(method["card"]["last4"])[-4:],
            "exp_month": int(method["card"]["exp_month"]),
            "exp_year": int(method["card"]["exp_year"])}


class ProviderError(RuntimeError):
    """The provider's API refused or could not be reached; the job retries."""


def api_post(base_url: str, key: str, path: str, form: Mapping[str, str] | None, *,
             idempotency_key: str | None = None, timeout: float = 20,
             method: str = "POST") -> dict[str, Any]:
    """One form-encoded request to the Stripe API with a bearer key; its JSON answer."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(
        base_url.rstrip("/") + path, data=data, method=method,
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

    def start_setup(self, request: CardSetupRequest) -> CardSetup:
        """A Stripe Checkout Session in setup mode for a card, saved to the reseller's
        Stripe customer (created first when it has none) so it can be charged off-session;
        the SetupIntent carries our token in ``metadata[card_setup]``."""
        try:
            customer = request.customer or self._create_customer(request)
            form = {"mode": "setup", "currency": "eur", "payment_method_types[0]": "card",
                    "customer": customer, "client_reference_id": request.token,
                    "success_url": request.return_url(),
                    "cancel_url": request.return_url("cancelled"),
                    "metadata[card_setup]": request.token,
                    "setup_intent_data[metadata][card_setup]": request.token,
                    "locale": request.language}
            session = api_post(self.api_url, self.api_key, "/v1/checkout/sessions", form,
                               idempotency_key=f"card-setup-{request.token}")
            return CardSetup(str(session["url"]), customer, str(session["id"]))
        except (ProviderError, KeyError) as error:
            raise PaymentProviderUnavailable() from error

    def _create_customer(self, request: CardSetupRequest) -> str:
        form = {"name": request.name[:250], "metadata[card_setup]": request.token,
                "preferred_locales[0]": request.language}
        if request.email:
            form["email"] = request.email
        return str(api_post(self.api_url, self.api_key, "/v1/customers", form,
                            idempotency_key=f"customer-{request.token}")["id"])

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

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        """A Stripe Checkout Session (mode=payment, one EUR line of the total) whose
        session and PaymentIntent both carry our token in ``metadata[topup]``."""
        form = {"mode": "payment", "client_reference_id": request.token,
                "success_url": request.return_url(self.name),
                "cancel_url": request.return_url(self.name, "cancelled"),
                "line_items[0][quantity]": "1",
                "line_items[0][price_data][currency]": "eur",
                "line_items[0][price_data][unit_amount]": str(int(request.total.scaleb(2))),
                "line_items[0][price_data][product_data][name]": request.description[:250],
                "metadata[topup]": request.token,
                "payment_intent_data[metadata][topup]": request.token,
                "locale": request.language}
        if request.email:
            form["customer_email"] = request.email
        try:
            session = api_post(self.api_url, self.api_key, "/v1/checkout/sessions", form,
                               idempotency_key=f"checkout-{request.token}")
            return Checkout(str(session["url"]), str(session["id"]))
        except (ProviderError, KeyError) as error:
            raise PaymentProviderUnavailable() from error

    def parse(self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str],
              now: int) -> Notice:
        verify(body, headers.get(HEADER), self.secret, now=now, tolerance=self.tolerance)
        notice = parse_event(self.name, body)
        if notice.kind == "card_setup" and notice.card and "brand" not in notice.card:
            notice = self._with_card_details(notice)
        return notice

    def _with_card_details(self, notice: Notice) -> Notice:
        """Webhooks name the saved PaymentMethod by id: fetch its card's details."""
        method = notice.card["payment_method"]
        try:
            found = api_post(self.api_url, self.api_key, f"/v1/payment_methods/{method}", None,
                             method="GET")
            details = {**card_details(found), "customer": notice.card.get("customer")}
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidPaymentNotice("the saved payment method is not a card") from error
        except ProviderError as error:  # transient: answer 503, the provider retries
            raise PaymentProviderUnavailable() from error
        return replace(notice, card=details)
