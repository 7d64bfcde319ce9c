"""Demo wallets: Demo Agency Oy prepaid with 500.00 EUR, Exempel AB postpaid (2,000.00 EUR).

The first demo step (``wallet.web.init_app``), so later steps can spend. Idempotent.
"""

from __future__ import annotations

from typing import Any

from wallet import credit
from wallet import services as wallet
from wallet.money import Money

DEMO_FUNDS = {"Demo Agency Oy": Money.of("500.00")}
DEMO_CREDIT = {"Exempel AB": Money.of("2000.00")}


def open_demo_wallet(reseller: Any, spec: dict[str, Any], config: Any) -> None:
    mode = spec.get("payment_mode", "prepaid")
    wallet.open_wallet(reseller_id=reseller.id, payment_mode=mode)
    if reseller.company_name in DEMO_CREDIT:
        credit.set_payment_mode(reseller_id=reseller.id, payment_mode="postpaid",
                                credit_limit=DEMO_CREDIT[reseller.company_name],
                                note="Demo credit review", actor="demo")
    if reseller.company_name in DEMO_FUNDS:
        wallet.adjust_funds(reseller_id=reseller.id, amount=DEMO_FUNDS[reseller.company_name],
                            reason="Demo funds", actor="demo",
                            reference=f"demo-funds-{reseller.id}")
