"""Payment providers behind one interface: what a checkout is and what a callback says.

Each adapter turns a provider's signed callback into a ``Notice`` (or refuses it with
``InvalidSignature``). The sandbox provider is the embedded default: a real checkout page
and real signed callbacks, using the card provider's signature scheme with its own secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from wallet.errors import InvalidPaymentMethod, PaymentMethodNotOffered

# Top-up method → the adapter (and clearing account) that takes it in production.
METHOD_PROVIDER = {"card": "card", "paypal": "paypal", "online_banking": "online_banking",
                   "bank_transfer": "bank"}
METHODS = tuple(METHOD_PROVIDER)
# What each method needs configured before it can be offered with the live providers
# (``PAYMENTS_ADAPTER=live``): the card provider's API key (charges, cards on file) and
# webhook secret, PayPal's webhook id and signing certificate, the Paytrail merchant, and
# for bank transfers the operator's account printed in the instructions.
REQUIRED_SETTINGS = {
    "card": ("CARD_API_KEY", "CARD_WEBHOOK_SECRET"),
    "paypal": ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID",
               "PAYPAL_CERT_FILE"),
    "online_banking": ("PAYTRAIL_ACCOUNT", "PAYTRAIL_SECRET"),
    "bank_transfer": ("OPERATOR_IBAN", "OPERATOR_BIC"),
}
# The environment variable whose value the config keeps under another key.
_CONFIG_KEY = {"PAYPAL_CERT_FILE": "PAYPAL_CERT_PEM"}


# What a callback says about the money (``Notice.status``):
#   paid       the money has arrived: credit it (once), if it is in euros and the expected sum
#   pending    not (yet) money: a delayed method still clearing, an order approved, a new
#              payment. Nothing is credited
#   cancelled  the payment did not happen (expired, declined, voided)
#   failed     a delayed payment failed after all (nothing was credited, nothing to reverse)
#   reversed   money credited earlier was taken back: a refund, chargeback or reversal of
#              ``amount`` (``reversal_id`` names that one taking-back)
#   reinstated a chargeback decided in our favour: ``amount`` comes back
#   disputed   a dispute opened without money taken yet (an inquiry), or closed without
#              money coming back: the operator is told
#   ignored    an event type Tunnus does not act on (acknowledged, so it is not retried)
STATUSES = ("paid", "pending", "cancelled", "failed", "reversed", "reinstated", "disputed",
            "ignored")


@dataclass(frozen=True)
class Notice:
    """What a verified callback says about one top-up (or invoice payment)."""

    provider: str
    event_id: str  # unique per provider: duplicates are no-ops
    token: str | None  # our top-up token, echoed back by the provider (None: find by reference)
    status: str  # one of STATUSES
    amount: Decimal | None  # what was paid (or taken back), in ``currency``; None if omitted
    provider_reference: str | None  # the provider's id of the payment (intent, capture, ...)
    payload: Any
    # "payment" (``token`` is a top-up's) or "card_setup" (``token`` is a card's setup
    # token; ``card`` then has payment_method, brand, last4, exp_month, exp_year).
    kind: str = "payment"
    card: Mapping[str, Any] | None = None
    currency: str | None = None  # ISO 4217, upper case; None when the provider omits it
    reversal_id: str | None = None  # for "reversed"/"reinstated": unique per taking-back
    # "reversed": True when ``amount`` is the running total refunded so far (Stripe's
    # ``amount_refunded``), not this one refund's amount.
    cumulative: bool = False


@dataclass(frozen=True)
class Checkout:
    """Where the payer goes (the provider's hosted page), and the provider's id for it."""

    url: str
    reference: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    """What a hosted checkout is created with."""

    token: str  # our top-up token: the provider echoes it back in its callbacks
    total: Decimal  # EUR, surcharge included
    base_url: str
    description: str
    email: str | None = None
    language: str = "fi"

    def return_url(self, provider: str, outcome: str = "success") -> str:
        return f"{self.base_url}/payments/{provider}/return/{self.token}?outcome={outcome}"


@dataclass(frozen=True)
class CardSetupRequest:
    """What saving a card on file starts with (the provider's hosted setup page)."""

    token: str  # the pending card's setup token: the provider echoes it back
    base_url: str
    email: str | None = None
    name: str = ""
    customer: str | None = None  # the provider's customer the reseller already has
    language: str = "fi"

    def return_url(self, outcome: str = "success") -> str:
        return f"{self.base_url}/billing/card/return?outcome={outcome}"


@dataclass(frozen=True)
class CardSetup:
    """Where the reseller enters the card, and the provider's customer it is saved for."""

    url: str
    customer: str | None = None
    reference: str | None = None


class PaymentProvider(Protocol):
    name: str

    def checkout_url(self, *, token: str, total: Decimal, base_url: str) -> str: ...

    def start_checkout(self, request: CheckoutRequest) -> Checkout: ...

    def parse(self, *, headers: Mapping[str, str], body: bytes,
              query: Mapping[str, str], now: int) -> Notice: ...


def missing_settings(method: str, config: Mapping[str, Any]) -> list[str]:
    """The settings ``method`` lacks (environment variable names), in order."""
    return [name for name in REQUIRED_SETTINGS[method]
            if not config.get(_CONFIG_KEY.get(name, name))]


def offered_methods(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The methods resellers may pay with (``PAYMENT_METHODS``), in ``METHODS`` order."""
    offered = config.get("PAYMENT_METHODS") or METHODS
    return tuple(method for method in METHODS if method in offered)


def provider_for(method: str, config: Mapping[str, Any]) -> str:
    """The provider taking ``method``: the sandbox stands in for all but bank transfers.

    A method that is unknown, or not offered, is refused here: every way of starting a
    payment (top-ups, invoice payments, saving a card) asks this first.
    """
    if method not in METHODS:
        raise InvalidPaymentMethod(f"method must be one of {', '.join(offered_methods(config))}")
    if method not in offered_methods(config):
        raise PaymentMethodNotOffered(method=method, offered=list(offered_methods(config)))
    if method == "bank_transfer":
        return "bank"
    if config.get("PAYMENTS_ADAPTER", "sandbox") == "sandbox":
        return "sandbox"
    return METHOD_PROVIDER[method]


def adapter(name: str, config: Mapping[str, Any]) -> PaymentProvider:
    # The providers load when a payment needs one (each imports this module's types).
    from wallet.payments import card, paypal, paytrail, sandbox

    adapters = {"sandbox": sandbox.SandboxProvider, "card": card.CardProvider,
                "paypal": paypal.PayPalProvider, "online_banking": paytrail.PaytrailProvider}
    if name not in adapters:
        raise KeyError(name)
    return adapters[name].from_config(config)
