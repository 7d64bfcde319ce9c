"""Glue for the web layer: one call per screen, composed from ``whitelabel`` services."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask_babel import gettext

from whitelabel import brands, messages, sender
from whitelabel.settings import Settings


def describe_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checks with a translated ``detail`` of what is wrong."""
    return [{**check, "detail": gettext(str(sender.PROBLEMS[check["problem"]]))
             if check.get("problem") else None} for check in checks]


def overview(*, reseller_id: int, settings: Settings) -> dict[str, Any]:
    """The brand, the sender domain with its records and checks, and what mail uses now."""
    brand = brands.get_brand(reseller_id=reseller_id)
    domain = sender.find_sender_domain(reseller_id)
    usable = sender.usable_domain(reseller_id)
    return {
        "brand": brand,
        "sender_domain": None if domain is None else {
            "domain": domain.domain, "status": domain.status,
            "records": [asdict(r) for r in sender.records(domain, settings)],
            "checks": describe_checks(domain.checks or []),
            "last_checked_at": domain.last_checked_at, "verified_at": domain.verified_at,
            "paused_at": domain.paused_at,
        },
        "mail_from": f"noreply@{usable.domain if usable else settings.neutral_sender_domain}",
        "link_host": messages.link_base(reseller_id, settings).split("://", 1)[1],
    }


def save(*, reseller_id: int, data: dict[str, Any]) -> None:
    """Apply a validated ``BrandIn``: brand fields and (if given) the sender domain."""
    fields = {k: v for k, v in data.items() if k in brands.BRAND_FIELDS}
    if fields:
        brands.update_brand(reseller_id=reseller_id, **fields)
    if "sender_domain" in data:
        sender.set_sender_domain(reseller_id=reseller_id, domain=data["sender_domain"] or None)


def verify(*, reseller_id: int, settings: Settings) -> dict[str, Any]:
    domain = sender.verify_sender_domain(reseller_id=reseller_id, settings=settings,
                                         resolver=sender.resolver_for(settings))
    return {"domain": domain.domain, "status": domain.status,
            "verified": domain.status == "verified", "checks": describe_checks(domain.checks)}
