"""Domain sync: read each name's ``info`` at the registry and make our record say what the
registry says — expiry, statuses (client and server), nameservers, DNSSEC, ROID, creation
date, sponsor — recording every difference as ``domain.registry_changed`` (feed, webhooks,
the console's report). A name gone from the registry, or sponsored by someone else now (a
transfer away no poll message announced), ends here as the lifecycle would end it.

Which names, per run: never synced first, then names changed here since their last sync,
then the soonest expiry; at most ``limit``, each at most once per ``min_age``, paced to the
registry's rate limit. A name with a registry change still pending is left to its
recovery (``pending.resolve_change``)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains import states
from reseller.domains.models import Domain, Order
from reseller.domains.records import hold_domain
from reseller.registry.errors import RegistryError, RegistryUnavailable
from reseller.registry.models import DomainInfo, in_redemption
from reseller.registry.services import get_registry

log = logging.getLogger(__name__)

EVENT = states.REGISTRY_CHANGED
EPOCH_YEAR = 1970  # a registry that does not tell a date (not our name) shows the epoch


@dataclass
class SyncReport:
    checked: int = 0
    changed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def due_domains(*, limit: int, min_age: timedelta, names: list[str] | None = None) -> list[int]:
    """Live domains to read, most urgent first (see the module docstring)."""
    stmt = sa.select(Domain.id).where(Domain.live_name.is_not(None),
                                      Domain.pending_change.is_(None))
    if names:
        return list(db.session.scalars(stmt.where(Domain.name.in_(names)).order_by(Domain.id)))
    stmt = stmt.where(sa.or_(Domain.synced_at.is_(None),
                             Domain.synced_at <= clock.now() - min_age,
                             Domain.updated_at > Domain.synced_at))
    changed_here = sa.case((Domain.updated_at > Domain.synced_at, 0), else_=1)
    return list(db.session.scalars(stmt.order_by(
        Domain.synced_at.is_not(None), changed_here, Domain.expires_at, Domain.id).limit(limit)))


def sync_domains(*, limit: int = 200, min_age: timedelta = timedelta(hours=24),
                 per_second: float = 5.0, names: list[str] | None = None) -> SyncReport:
    """One run: each due name read at the registry with no transaction open and
    reconciled in a unit of work of its own. A registry that is down ends the run (the
    next one starts where this stopped)."""
    registry = get_registry()
    report = SyncReport()
    pause = 1 / per_second if per_second > 0 else 0
    for domain_id in due_domains(limit=limit, min_age=min_age, names=names):
        started = time.monotonic()
        with unit_of_work():
            seen = _readable(domain_id)
        if seen is None:
            continue
        name = seen[0]
        try:
            info = registry.info(name)
        except RegistryUnavailable as error:
            report.failed[name] = str(error)
            log.warning("registry sync stopped at %s: %s", name, error)
            break
        except RegistryError as error:
            report.failed[name] = str(error)
            log.exception("registry sync failed for %s", name)
            continue
        with unit_of_work():
            changes = apply_info(domain_id, info, seen=seen, registrar_id=registry.registrar_id)
        report.checked += 1
        if changes:
            report.changed[name] = changes
        if pause:
            time.sleep(max(0.0, pause - (time.monotonic() - started)))
    return report


def _readable(domain_id: int) -> tuple[str, datetime | None] | None:
    """(name, last change) of a live name the sync may read now: no registry change still
    pending, no order talking to the registry about it (None: look next run)."""
    domain = db.session.get(Domain, domain_id)
    if domain is None or not domain.is_live or domain.pending_change:
        return None
    if db.session.scalar(sa.select(Order.id).where(Order.lock_key == domain.name)):
        return None
    return domain.name, domain.updated_at


def apply_info(domain_id: int, info: DomainInfo | None, *, seen: tuple[str, datetime | None],
               registrar_id: str) -> list[dict[str, Any]]:
    """Make our record say what ``info`` (read for ``seen``) says; the differences. A name
    changed here since it was read (an order finished, a change sent) is left for the
    next run, which reads the registry again."""
    domain = hold_domain(domain_id)
    if domain is None or (domain.name, domain.updated_at) != seen or domain.pending_change \
            or db.session.scalar(sa.select(Order.id).where(Order.lock_key == domain.name)):
        return []
    changes = reconcile(domain, info, registrar_id=registrar_id)
    domain.synced_at = clock.now()
    db.session.flush()
    if changes:
        states.record_registry_changes(domain, changes, source="sync")
    return changes


def reconcile(domain: Domain, info: DomainInfo | None, *,
              registrar_id: str) -> list[dict[str, Any]]:
    """Make ``domain`` say what ``info`` says; the differences as {field, before, after}."""
    if info is None:
        before = domain.status
        states.mark_deleted(domain, restorable=False)
        return [_change("status", before, "deleted")]
    if info.sponsor != registrar_id:
        before = domain.status
        states.mark_transferred_out(domain)
        return [_change("sponsor", registrar_id, info.sponsor),
                _change("status", before, "transferred_out")]
    changes = _lifecycle(domain, info)
    for name, before, after in _fields(domain, info):
        if before != after:
            changes.append(_change(name, before, after))
    return changes


def _lifecycle(domain: Domain, info: DomainInfo) -> list[dict[str, Any]]:
    """Redemption as the registry has it: deleted there (a delete whose answer was lost),
    or restored there."""
    before = domain.status
    deleted_there = in_redemption(info.statuses)
    if deleted_there and domain.status in ("active", "expired"):
        states.mark_deleted(domain, restorable=True)
    elif not deleted_there and domain.status == "redemption":
        domain.status, domain.ended_at = "active", None
    if domain.status == "expired" and info.expires_at > clock.now():
        domain.status = "active"  # renewed at the registry (e.g. its auto-renew)
    return [] if domain.status == before else [_change("status", before, domain.status)]


def _fields(domain: Domain, info: DomainInfo) -> list[tuple[str, Any, Any]]:
    """Set each field the registry is the authority on; (field, before, after) each."""
    found = []

    def take(name: str, before: Any, after: Any, shown=lambda v: v) -> None:
        found.append((name, shown(before), shown(after)))
        setattr(domain, name, after)

    take("expires_at", domain.expires_at, info.expires_at, _iso)
    if info.created_at.year > EPOCH_YEAR:
        take("created_at", domain.created_at, info.created_at, _iso)
    known = domain.registry_statuses
    take("registry_statuses", known if known is not None else implied_statuses(domain),
         sorted(info.statuses), lambda v: sorted(v or []))
    take("locked", domain.locked, "clientTransferProhibited" in info.statuses)
    take("nameservers", domain.nameservers, list(info.nameservers),
         lambda v: sorted(n.lower() for n in v or []))
    take("ds", domain.ds, [dict(d) for d in info.ds], _ds_set)
    if info.roid:
        take("roid", domain.roid, info.roid)
    return found


def implied_statuses(domain: Domain) -> list[str]:
    """The statuses our record implies, for a name never read from the registry."""
    statuses = ["redemptionPeriod"] if domain.status == "redemption" else []
    statuses += ["clientTransferProhibited"] if domain.locked else []
    statuses += ["clientHold"] if domain.suspended else []
    return statuses or ["ok"]


def _iso(value: datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() if value else None


def _ds_set(records: list[dict] | None) -> list[tuple]:
    return sorted((int(d["key_tag"]), int(d["algorithm"]), int(d["digest_type"]),
                   str(d["digest"]).upper()) for d in records or [])


_change = states.change
