"""Demo data: a brand and a (not yet verified) sender domain for each demo reseller."""

from __future__ import annotations

from typing import Any

from reseller.core.directory import reseller_names
from whitelabel import brands, sender
from whitelabel.settings import Settings

DEMO_BRANDS = {
    "Demo Agency Oy": {"name": "Demo Agency", "primary_color": "#1f5fbf",
                       "accent_color": "#eef3fb", "support_email": "tuki@demoagency.example",
                       "support_phone": "+358 9 123 4567",
                       "support_url": "https://demoagency.example/tuki",
                       "default_language": "fi", "domain": "domain.demoagency.example"},
    "Exempel AB": {"name": "Exempel", "primary_color": "#2e7d32", "accent_color": "#eef7ee",
                   "support_email": "support@exempel.example", "support_phone": "+46 8 123 456",
                   "support_url": "https://exempel.example/support",
                   "default_language": "sv", "domain": "domain.exempel.example"},
}


def give_brand(reseller: Any, spec: dict[str, Any], config: Any) -> None:
    wanted = DEMO_BRANDS.get(reseller.company_name)
    if wanted is None or brands.find_brand(reseller.id) is not None:
        return
    fields = {k: v for k, v in wanted.items() if k != "domain"}
    brands.update_brand(reseller_id=reseller.id, **fields)
    if sender.find_sender_domain(reseller.id) is None:
        sender.set_sender_domain(reseller_id=reseller.id, domain=wanted["domain"])


def whitelabel_info(config: Any) -> dict[str, Any]:
    """demo.json ``whitelabel``: each demo brand, its sender domain and DNS records."""
    settings = Settings.from_config(config)
    # The first reseller of each demo company name (the lowest id wins: it comes last).
    ids = {name: reseller_id
           for reseller_id, name in sorted(reseller_names().items(), reverse=True)}
    items = []
    for company in DEMO_BRANDS:
        reseller_id = ids.get(company)
        if reseller_id is None:
            continue
        domain = sender.find_sender_domain(reseller_id)
        items.append({
            "reseller_id": reseller_id, "brand": brands.get_brand(reseller_id=reseller_id).name,
            "sender_domain": domain.domain if domain else None,
            "status": domain.status if domain else None,
            "dns_records": [{"type": r.type, "name": r.name, "value": r.value}
                            for r in sender.records(domain, settings)] if domain else [],
        })
    return {"whitelabel": items}
