"""Turn wallet models into the API's and pages' plain dicts (amounts as Money/Decimal)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from wallet.models import TopUp, Wallet
from wallet.payments import adapter
from wallet.references import group, rf_reference


def wallet_dict(wallet: Wallet) -> dict[str, Any]:
    threshold = wallet.low_balance_threshold
    return {
        "currency": wallet.currency, "payment_mode": wallet.payment_mode,
        "balance": wallet.balance.amount, "held": wallet.held.amount,
        "available": wallet.available.amount, "credit_limit": wallet.credit_limit.amount,
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
        provider = adapter(topup.provider, current_app.config)
        data["checkout_url"] = provider.checkout_url(
            token=topup.token, total=topup.total, base_url=current_app.config["BASE_URL"])
    return data
