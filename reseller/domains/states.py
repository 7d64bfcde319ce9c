"""How a domain ends (deleted, in redemption, transferred out) and how a difference with the
registry is announced (``domain.registry_changed``): shared by the management services,
the lifecycle, the registry sync and the resolution of changes whose answer was lost."""

from __future__ import annotations

from typing import Any

from reseller.core.clock import clock
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.domains import contacts as contact_services
from reseller.domains.models import Domain

REGISTRY_CHANGED = "domain.registry_changed"


def domain_data(domain: Domain) -> dict[str, Any]:
    return {"domain": domain.name, "unicode_name": domain.unicode_name,
            "status": domain.status, "expires_at": domain.expires_at.isoformat(),
            "auto_renew": domain.auto_renew, "registrant_contact_id": domain.registrant_id,
            "registrant": contact_services.person(domain.registrant), "order_id": None}


def mark_deleted(domain: Domain, *, restorable: bool, **extra: Any) -> None:
    """The name left the registry: into redemption (``restorable``) or gone. ``extra``
    goes into the ``domain.deleted`` event (e.g. an add-grace credit)."""
    if restorable:  # redemption: ``ended_at`` marks its start; a restore clears it
        domain.status, domain.ended_at = "redemption", clock.now()
        domain.expires_at = min(domain.expires_at, clock.now())
        db.session.flush()
        return
    domain.status, domain.live_name, domain.ended_at = "deleted", None, clock.now()
    db.session.flush()
    record_event(reseller_id=domain.reseller_id, type="domain.deleted",
                 data={**domain_data(domain), **extra},
                 dedupe_key=f"domain.deleted:{domain.id}")


def mark_transferred_out(domain: Domain) -> None:
    if not domain.is_live:
        return
    domain.status, domain.live_name, domain.ended_at = "transferred_out", None, clock.now()
    domain.transfer_out_pending = False
    db.session.flush()
    record_event(reseller_id=domain.reseller_id, type="domain.transferred_out",
                 data=domain_data(domain), dedupe_key=f"domain.transferred_out:{domain.id}")


def record_registry_changes(domain: Domain, changes: list[dict[str, Any]], *, source: str,
                            **extra: Any) -> None:
    """``domain.registry_changed`` with what changed (``source``: ``sync``, or
    ``recovery`` for a change whose answer was lost; ``extra``: e.g. its outcome)."""
    data = {**domain_data(domain), "changes": _jsonable(changes), "source": source,
            "roid": domain.roid, "registry_statuses": list(domain.registry_statuses or []),
            "synced_at": clock.now().isoformat(), **extra}
    record_event(reseller_id=domain.reseller_id, type=REGISTRY_CHANGED, data=data)


def change(name: str, before: Any, after: Any) -> dict[str, Any]:
    return {"field": name, "before": before, "after": after}


def _jsonable(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def plain(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value
    return [{k: plain(v) for k, v in item.items()} for item in changes]
