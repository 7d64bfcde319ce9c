"""The sandbox provider (embedded default): a checkout page answering ``paid`` or
``cancelled``, then a callback signed like the card provider's, with the sandbox secret."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wallet.payments import Notice, card


@dataclass
class SandboxProvider:
    secret: str
    tolerance: int = 300
    name: str = "sandbox"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SandboxProvider:
        return cls(sandbox_secret(config), config.get("WEBHOOK_TOLERANCE", 300))

    def checkout_url(self, *, token: str, total: Decimal, base_url: str) -> str:
        return f"{base_url}/payments/sandbox/checkout/{token}"

    def callback(self, *, token: str, outcome: str, total: Decimal,
                 now: int) -> tuple[bytes, dict[str, str]]:
        """The signed body and headers the sandbox posts to our webhook."""
        kind = "checkout.session.completed" if outcome == "paid" else "checkout.session.expired"
        body = json.dumps({
            "id": f"evt_sandbox_{uuid.uuid4().hex}", "type": kind,
            "data": {"object": {"id": f"cs_sandbox_{token[:12]}", "metadata": {"topup": token},
                                "amount_total": int(total.scaleb(2)), "currency": "eur"}},
        }).encode()
        return body, {card.HEADER: card.sign(body, self.secret, now),
                      "Content-Type": "application/json"}

    def parse(self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str],
              now: int) -> Notice:
        card.verify(body, headers.get(card.HEADER), self.secret, now=now,
                    tolerance=self.tolerance)
        return card.parse_event(self.name, body)


def sandbox_secret(config: Mapping[str, Any]) -> str:
    return config.get("SANDBOX_PAYMENTS_SECRET") or f"sandbox:{config.get('SECRET_KEY', '')}"
