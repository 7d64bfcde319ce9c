"""Demo data for the sandbox registry: names held by another registrar that can be
transferred in (listed in demo.json as ``transferable`` with their auth codes) and a few
premium names to try. Idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reseller.core.clock import clock
from reseller.registry.sandbox_state import OTHER_REGISTRAR, PREMIUM_WORDS
from reseller.registry.services import add_sandbox_domain

TRANSFERABLE = [
    {"name": "siirrettava.fi", "auth_code": "FI-siirto-2026-7Q"},
    {"name": "flyttbar.se", "auth_code": "SE-flytt-2026-4K"},
    {"name": "movable-demo.com", "auth_code": "COM-move-2026-9X"},
    {"name": "portfolio-demo.eu", "auth_code": "EU-port-2026-2M"},
]


def seed_transferable(_reseller: Any, _spec: dict, _config: Any) -> None:
    for item in TRANSFERABLE:
        add_sandbox_domain(
            name=item["name"], sponsor=OTHER_REGISTRAR, auth_code=item["auth_code"],
            created_at=clock.now() - timedelta(days=800),
            expires_at=clock.now() + timedelta(days=120),
            nameservers=["ns1.other-registrar.example", "ns2.other-registrar.example"])


def info(_config: Any) -> dict[str, Any]:
    return {"transferable": TRANSFERABLE,
            "premium_examples": [f"{word}.fi" for word in sorted(PREMIUM_WORDS)][:3]}
