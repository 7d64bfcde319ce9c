"""Turn wallet models into the API's and pages' plain dicts (amounts as Money/Decimal)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from reseller.core.db import end_transaction, unit_of_work
from reseller.core.directory import reseller_profile
from wallet import topups
from wallet.models import TopUp, Wallet
from wallet.payments import CheckoutRequest, adapter
from wallet.references import group, rf_reference


def wallet_dict(wallet: Wallet) -> dict[str, Any]:
    threshold = wallet.low_balance_threshold
    return {
        "currency": wallet.currency, "payment_mode": wallet.payment_mode,
        "balance": wallet.balance.amount, "held": wallet.held.amount,
        "available": wallet.available.amount, "debt": wallet.debt.amount,
        "credit_limit": wallet.credit_limit.amount,
        "low_balance_threshold": threshold.amount if threshold else None,
        "reference_number": wallet.reference_number,
    }


def bank_instructions(wallet: Wallet, amount: Any) -> dict[str, Any]:
    config = current_app.config
    return {"iban": config["OPERATOR_IBAN"], "bic": config["OPERATOR_BIC"],
            "beneficiary": config["OPERATOR_NAME"], "reference": group(wallet.reference_number),
            "rf_reference": rf_reference(wallet.reference_number), "amount": amount}


def topup_dict(topup: TopUp, wallet: Wallet) -> dict[str, Any]:
    data = {key: getattr(topup, key) for key in (
        "id", "state", "method", "currency", "amount", "surcharge", "total", "created_at",
        "settled_at")}
    data["checkout_url"] = None
    data["bank_transfer"] = None
    if topup.method == "bank_transfer":
        data["bank_transfer"] = bank_instructions(wallet, topup.total)
    elif topup.state == "pending":
        data["checkout_url"] = checkout_url(topup, description=f"Top-up {topup.id}")
    return data


def checkout_url(topup: TopUp, *, description: str) -> str:
    """The provider's hosted checkout page for a pending payment: created at the provider
    the first time (live providers: Stripe Checkout, PayPal Orders v2, Paytrail), then
    reused, so showing a payment twice never opens a second checkout.

    The provider is asked with no transaction open (``end_transaction``: the payment's
    row, whose id the description names, is committed first), since a transaction with an
    id open across the call would hold back every reseller's event feed; its answer is
    recorded in a unit of work of its own (``topups.record_checkout``: the first one
    recorded stands). A crash, an outage or a concurrent request between the two leaves
    the payment pending with no checkout yet, and asking again creates no second one:
    the provider's request carries our token as its idempotency key (Stripe
    ``Idempotency-Key: checkout-{token}``, PayPal ``PayPal-Request-Id: order-{token}``),
    so it answers with the checkout it already created. (Paytrail has none; its
    ``stamp`` is the token, and a top-up is credited once whatever pays it.)"""
    if topup.checkout_url:
        return topup.checkout_url
    config = current_app.config
    profile = reseller_profile(topup.reseller_id)
    request = CheckoutRequest(
        token=topup.token, total=topup.total, base_url=config["BASE_URL"],
        description=f"{config.get('OPERATOR_BRAND') or config.get('OPERATOR_NAME')}: "
                    f"{description}",
        email=profile.invoice_email if profile else None,
        language=profile.language if profile and profile.language in ("fi", "sv", "en")
        else "fi")
    provider, topup_id = topup.provider, topup.id
    end_transaction()
    started = adapter(provider, config).start_checkout(request)
    with unit_of_work():
        return topups.record_checkout(topup_id, url=started.url, reference=started.reference)
