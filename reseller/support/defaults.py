"""The three support levels a fresh installation offers (Core, Pro, Ultimate), from the
registrar's programme: weekdays 10-18 Finnish time, Core replies within 3 business days,
Pro is a monthly agreement with included hours and priority, Ultimate is by quote with a
4-hour reply and an on-call line around the clock for urgent matters. Prices are not set
here: the operator enters them in the console (the demo sets some)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

PLANS: dict[str, dict[str, Any]] = {
    "core": {
        "name": "Core", "level": "core", "rank": 0, "by_quote": False,
        "description": "Always included: email and web support on weekdays 10-18, replies "
                       "within 3 business days, guidance and basic troubleshooting.",
        "included_hours": Decimal(0), "hourly_rate": Decimal("120.00"),
        "hourly_rate_outside": Decimal("120.00"),
        "first_response_hours": 24, "next_response_hours": 24,  # 3 business days of 8 h
        "around_the_clock": False, "channels": ["email", "web"], "unlimited_tickets": True,
    },
    "pro": {
        "name": "Pro", "level": "pro", "rank": 10, "by_quote": False,
        "description": "A monthly agreement: priority queue, phone support, we log in and "
                       "help, fixes and third-party help, included hours at a lower rate.",
        "included_hours": Decimal("2.00"), "hourly_rate": Decimal("85.00"),
        "hourly_rate_outside": Decimal("120.00"),
        "first_response_hours": 4, "next_response_hours": 8,
        "around_the_clock": False, "channels": ["email", "web", "phone"],
        "phone_number": "+358 9 4245 1000", "unlimited_tickets": True,
    },
    "ultimate": {
        "name": "Ultimate", "level": "ultimate", "rank": 20, "by_quote": True,
        "description": "By quote: premium SLA, replies within 4 hours, unlimited tickets, "
                       "highest priority, a 24/7 on-call number for urgent matters.",
        "included_hours": Decimal("10.00"), "hourly_rate": Decimal("75.00"),
        "hourly_rate_outside": Decimal("110.00"),
        "first_response_hours": 4, "next_response_hours": 4,
        "around_the_clock": True, "channels": ["email", "web", "phone", "oncall"],
        "phone_number": "+358 9 4245 1000", "oncall_number": "+358 40 424 5999",
        "unlimited_tickets": True,
    },
}
