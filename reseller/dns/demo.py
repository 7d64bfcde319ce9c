"""Demo DNS for the embedded default: Demo Agency Oy hosts demoagency.fi (default
template, a web address, and a forward from www). Idempotent."""

from __future__ import annotations

from typing import Any

from reseller.dns import forwarding, services
from reseller.dns.settings import DnsSettings

DEMO_ZONES = {"Demo Agency Oy": "demoagency.fi"}


def seed_zone(reseller: Any, spec: dict, config: Any) -> None:
    name = DEMO_ZONES.get(reseller.company_name)
    if name is None or services.find_own_zone(reseller.id, name) is not None:
        return
    settings = DnsSettings.from_config(config)
    records = [*services.DEFAULT_TEMPLATE,
               {"name": "shop", "type": "A", "ttl": 3600, "value": "192.0.2.10"}]
    services.create_zone(reseller_id=reseller.id, name=name, settings=settings,
                         records=records)
    forwarding.set_forward(reseller_id=reseller.id, zone_name=name, host="www",
                           target="https://demoagency.example/", settings=settings)


def info(config: Any) -> dict[str, Any]:
    return {"dns_zone": next(iter(DEMO_ZONES.values()))}
