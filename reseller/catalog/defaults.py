"""The catalogue a fresh installation starts with: tiers and the opening price lists.

Net EUR. Prepaid is the cheapest list; postpaid carries the cost of credit. Higher tiers
get a discount on both lists.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

TIERS = (
    # code, name, rank, trailing-12-month purchases (net EUR) needed
    ("standard", "Standard", 1, Decimal("0.00")),
    ("plus", "Plus", 2, Decimal("2000.00")),
    ("pro", "Pro", 3, Decimal("10000.00")),
)

# Prepaid Standard, net EUR: per year for register/renew/transfer; one-off otherwise.
BASE_PRICES: dict[str, dict[str, str]] = {
    "fi": {"register": "9.90", "renew": "9.90", "transfer": "9.90", "owner_change": "4.90"},
    "se": {"register": "11.50", "renew": "11.50", "transfer": "11.50", "owner_change": "5.90"},
    "nu": {"register": "16.90", "renew": "16.90", "transfer": "16.90", "owner_change": "5.90"},
    "com": {"register": "10.90", "renew": "10.90", "transfer": "10.90", "restore": "69.00",
            "owner_change": "0.00"},
    "net": {"register": "12.90", "renew": "12.90", "transfer": "12.90", "restore": "69.00",
            "owner_change": "0.00"},
    "org": {"register": "11.90", "renew": "11.90", "transfer": "11.90", "restore": "69.00",
            "owner_change": "0.00"},
    "eu": {"register": "6.90", "renew": "6.90", "transfer": "6.90", "restore": "12.00",
           "owner_change": "3.90"},
}

TIER_DISCOUNT = {"standard": Decimal("0"), "plus": Decimal("0.05"), "pro": Decimal("0.10")}
POSTPAID_MARKUP = Decimal("0.10")


def default_amount(base: str, tier: str, price_list: str) -> Decimal:
    amount = Decimal(base) * (1 - TIER_DISCOUNT[tier])
    if price_list == "postpaid":
        amount *= 1 + POSTPAID_MARKUP
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
