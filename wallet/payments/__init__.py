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

# Top-up method → the adapter (and clearing account) that takes it in production.
METHOD_PROVIDER = {"card": "card", "paypal": "paypal", "online_banking": "online_banking",
                   "bank_transfer": "bank"}
METHODS = tuple(METHOD_PROVIDER)


@dataclass(frozen=True)
class Notice:
    """What a verified callback says about one top-up."""

    provider: str
    event_id: str  # unique per provider: duplicates are no-ops
    token: str  # our top-up token, echoed back by the provider
    status: str  # "paid" | "cancelled" | "pending"
    amount: Decimal | None  # what was paid, in euros (None if the provider omits it)
    provider_reference: str | None
    payload: Any
    # "payment" (``token`` is a top-up's) or "card_setup" (``token`` is a card's setup
    # token; ``card`` then has payment_method, brand, last4, exp_month, exp_year).
    kind: str = "payment"
    card: Mapping[str, Any] | None = None


class PaymentProvider(Protocol):
    name: str

    def checkout_url(self, *, token: str, total: Decimal, base_url: str) -> str: ...

    def parse(self, *, headers: Mapping[str, str], body: bytes,
              query: Mapping[str, str], now: int) -> Notice: ...


def provider_for(method: str, config: Mapping[str, Any]) -> str:
    """The provider taking ``method``: the sandbox stands in for all but bank transfers."""
    if method == "bank_transfer":
        return "bank"
    if config.get("PAYMENTS_ADAPTER", "sandbox") == "sandbox":
        return "sandbox"
    return METHOD_PROVIDER[method]


def adapter(name: str, config: Mapping[str, Any]) -> PaymentProvider:
    from wallet.payments import card, paypal, paytrail, sandbox

    adapters = {"sandbox": sandbox.SandboxProvider, "card": card.CardProvider,
                "paypal": paypal.PayPalProvider, "online_banking": paytrail.PaytrailProvider}
    if name not in adapters:
        raise KeyError(name)
    return adapters[name].from_config(config)
