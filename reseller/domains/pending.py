"""State-changing registry commands sent while a caller waits (nameservers, DNSSEC, lock,
admin/tech contacts, hold, glue hosts, delete, the contacts after a transfer in), journaled
on the domain so a lost answer never leaves our record stale, and sent with no database
transaction open (issue 31: a request or job waiting on the registry holds no lock, no
snapshot and no transaction id, so no reseller's event feed waits on it).

Journal first: under the domain's command lock (``records.hold_domain``) the command is
written as ``Domain.pending_change`` with its transaction id and a lease
(``sending_until``, ``LEASE``) and committed; the registry is asked with none open; then,
under the lock again, our record takes the answer if the change is still ours. While the
lease runs, the change is its sender's: another writer gets 409 ``change_pending`` (or,
with an old ``If-Match``, 412), and no job or request sends it again. A crash mid-call
leaves it leased until ``sending_until``, then it is resolved as a lost answer.

When its answer is lost (``RegistryTimeout``) the command stays ``Domain.pending_change``
(the lease dropped) and the caller gets it back (202); it is resolved by sending it again
with the same transaction id — the registry answers a repeated id from its record, the
EPP client first resolves it from ``info`` (its journal, ``reseller.registry.epp.resolve``),
and glue-host commands set a state, so repeating them is safe — by the next command on the
domain (``hold_for_command``) or by ``domains.resolve_changes`` (every minute). Then our
record takes what the registry did, announced as ``domain.registry_changed``
(``source: recovery``); a command the registry refused leaves our record as it was."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.catalog.models import rules_for
from reseller.core.clock import clock
from reseller.core.db import end_transaction, unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.domains import contacts as contact_services
from reseller.domains import states
from reseller.domains.errors import ChangePending, registry_errors
from reseller.domains.models import Contact, Domain, Host, Order
from reseller.domains.records import get_domain, hold_domain
from reseller.domains.schemas import pending_change_out
from reseller.registry.errors import RegistryRejected, RegistryTimeout, RegistryUnavailable
from reseller.registry.models import DELETED, Registry
from reseller.registry.services import get_registry
from wallet import services as wallet

log = logging.getLogger(__name__)

RETRY_AFTER = 10  # seconds before the first attempt to resolve a lost answer
SENDING_RETRY_AFTER = 2  # seconds a writer waits for a change being sent
# How long a change is its sender's (``sending_until``): longer than a registry command can
# take. The EPP client bounds each step by its endpoint's ``timeout`` (30 s by default, at
# most 60: reseller.registry.epp.router), and a command takes at most four (a pooled
# session, the connection and login, the command, the ``info`` resolving a lost answer).
LEASE = timedelta(minutes=5)

# operation -> the keyword arguments of ``Registry.update`` its params name
UPDATES = {"nameservers": ("nameservers",), "ds": ("ds",), "lock": ("locked",),
           "contacts": ("admin", "tech"), "hold": ("hold",),
           "registrant": ("registrant", "admin", "tech")}
OPERATIONS = (*UPDATES, "delete", "host_set", "host_delete")


def send_change(domain: Domain, *, operation: str, params: dict[str, Any]) -> bool:
    """Send one command for ``domain`` (held for it: ``hold_for_command``) and apply it:
    True. Its answer lost: it is kept as the domain's pending change and False is returned
    (the caller answers 202). A refusal is a 409 and an outage a 503 (``registry_errors``),
    our record unchanged.

    The caller's transaction ends here: the change is journaled first, leased to this
    request (``_lease``) and committed with what the request did so far, and the registry
    is asked with no transaction open (``_send_leased``)."""
    assert operation in OPERATIONS, operation
    if domain.pending_change:  # hold_for_command resolved what it could
        raise change_pending(domain)
    change, command = _lease(domain, operation, params)
    domain_id = domain.id
    end_transaction()
    return _send_leased(domain_id, change, command)


def send_change_in_steps(domain_id: int, *, operation: str, params: dict[str, Any],
                         needed: Callable[[Domain], bool]) -> bool | None:
    """``send_change`` for jobs: a change still pending is resolved first
    (``resolve_pending``; while the registry cannot tell, or a request is still sending
    its own, the job fails and is retried); then the domain is read, and the change
    journaled and leased, in one unit of work (``needed(domain)`` false: nothing to do,
    None), and sent as ``send_change`` sends it."""
    assert operation in OPERATIONS, operation
    resolve_pending(domain_id, registry=get_registry())
    with unit_of_work():
        domain = hold_domain(domain_id)
        if domain is None or not needed(domain):
            return None
        if domain.pending_change:  # another change was lost meanwhile: it goes first
            raise change_pending(domain)
        change, command = _lease(domain, operation, params)
    return _send_leased(domain_id, change, command)


def _lease(domain: Domain, operation: str, params: dict[str, Any]) -> tuple[dict, dict]:
    """Journal a new change as ``domain``'s pending change, leased to its sender until
    ``LEASE`` from now (``sending_until``): (the change, the command as plain values)."""
    change = {"operation": operation, "params": params,
              "transaction_id": f"{operation}-{uuid.uuid4().hex}",
              "requested_at": clock.now().isoformat()}
    domain.pending_change = {**change, "sending_until": (clock.now() + LEASE).isoformat()}
    db.session.flush()
    return change, _command(domain, change)


def _send_leased(domain_id: int, change: dict[str, Any], command: dict[str, Any]) -> bool:
    """Send a leased change with no transaction open, then record what became of it under
    the domain's command lock, if it is still this change (a sender that outlived its
    lease may find it resolved by then: the registry answered both from its record).
    Applied: True. Answer lost: pending without the lease (resolvable: the resolve job is
    queued), False. Refused or the registry down: cleared, then raised (409/503). A crash
    in between leaves it leased: nothing sends it again before ``sending_until``, and then
    it is resolved as any lost answer."""
    registry = get_registry()
    with registry_errors():
        try:
            result = _send_command(registry, command)
        except RegistryTimeout as lost:
            log.warning("%s on %s: answer lost (%s); pending until resolved",
                        change["operation"], command["name"], lost)
            with unit_of_work():
                domain = _still(domain_id, change)
                if domain is not None:
                    domain.pending_change = change  # the lease dropped
                    enqueue("reseller.domains.tasks.resolve_change", domain_id,
                            delay=RETRY_AFTER)
            return False
        except (RegistryRejected, RegistryUnavailable):
            with unit_of_work():
                if (domain := _still(domain_id, change)) is not None:
                    domain.pending_change = None
            raise
    with unit_of_work():
        if (domain := _still(domain_id, change)) is not None:
            domain.pending_change = None
            _apply(domain, change, result)
    return True


def _still(domain_id: int, change: dict[str, Any]) -> Domain | None:
    """The domain, held, if ``change`` is still its pending change (else None)."""
    domain = hold_domain(domain_id)
    pending = domain.pending_change if domain is not None else None
    if not pending or pending.get("transaction_id") != change["transaction_id"]:
        return None
    return domain


def sending(change: dict[str, Any] | None) -> bool:
    """Whether ``change`` is leased to a sender whose lease still runs (``_lease``)."""
    until = (change or {}).get("sending_until")
    return bool(until) and datetime.fromisoformat(until) > clock.now()


def change_pending(domain: Domain) -> ChangePending:
    """409 ``change_pending``: a change being sent now (retry in a moment) or whose answer
    was lost (retry once the resolve job has run)."""
    return ChangePending(_l("A change to %(name)s is waiting for the registry's "
                            "confirmation; try again shortly.", name=domain.unicode_name),
                         pending_change=pending_change_out(domain.pending_change),
                         retry_after=SENDING_RETRY_AFTER if sending(domain.pending_change)
                         else RETRY_AFTER)


def take_over_contacts(domain: Domain) -> None:
    """A name transferred in still names the losing registrar's contacts at the registry:
    queue the ``<domain:update>`` that makes its registrant, admin and tech ours (contacts
    created there first; nothing is sent to a thin registry). Sent by the resolve job right
    after the commit, so the transfer's completion never waits on it or fails with it."""
    params = {}
    for role in ("registrant", "admin", "tech"):
        contact = getattr(domain, role)
        if contact is not None:
            params[f"{role}_id"], params[f"{role}_handle"] = contact.id, contact.handle
    domain.pending_change = {"operation": "registrant", "params": params,
                             "transaction_id": f"registrant-{uuid.uuid4().hex}",
                             "requested_at": clock.now().isoformat()}
    db.session.flush()
    enqueue("reseller.domains.tasks.resolve_change", domain.id)


def hold_for_command(*, reseller_id: int, name: str) -> Domain:
    """The reseller's domain held for a registry command (``get_domain(for_update=True)``),
    a change of it whose answer was lost resolved first: the request's transaction ends,
    the change is sent again with none open (``resolve_pending``) and the domain is held
    afresh. A change still being sent, or one the registry still cannot tell about, stays
    the domain's pending change: the caller refuses (``change_pending``) or, checking
    If-Match, finds it in the representation."""
    domain = get_domain(reseller_id=reseller_id, name=name, for_update=True)
    if not domain.pending_change or sending(domain.pending_change):
        return domain
    domain_id = domain.id
    end_transaction()
    try:
        resolve_pending(domain_id, registry=get_registry())
    except (RegistryTimeout, RegistryUnavailable):
        pass  # still pending: the caller says so
    return get_domain(reseller_id=reseller_id, name=name, for_update=True)


def resolve_pending(domain_id: int, *, registry: Registry) -> str | None:
    """Resolve ``domain_id``'s pending change by sending it again with its transaction id,
    with no transaction open while the registry is asked: ``applied``, ``refused``,
    ``pending`` (a sender's lease still runs: left to it), or None (nothing pending).
    ``RegistryTimeout`` and ``RegistryUnavailable`` propagate: still pending, the next run
    tries again. The change is read in one unit of work and its answer recorded in
    another, only if the same change (transaction id) is still pending then (a request or
    another run may have resolved it meanwhile: the registry answered both from its
    record)."""
    with unit_of_work():
        domain = db.session.get(Domain, domain_id)
        change = domain.pending_change if domain is not None else None
        if not change:
            return None
        if sending(change):
            return "pending"
        command = _command(domain, change)
    try:
        result, refused = _send_command(registry, command), None
    except RegistryRejected as rejected:
        result, refused = None, rejected
    with unit_of_work():
        domain = _still(domain_id, change)
        if domain is None:
            return None
        return _settle(domain, domain.pending_change, result=result, refused=refused)


def _settle(domain: Domain, change: dict[str, Any], *, result: Any = None,
            refused: RegistryRejected | None = None) -> str:
    """Our record takes what the registry did with ``change`` (nothing, if it refused)."""
    domain.pending_change = None
    if refused is not None:
        db.session.flush()
        states.record_registry_changes(domain, [], source="recovery", outcome="refused",
                                       operation=change["operation"],
                                       reason=f"{refused.code} {refused.message}")
        return "refused"
    changes = _apply(domain, change, result)
    states.record_registry_changes(domain, changes, source="recovery", outcome="applied",
                                   operation=change["operation"])
    return "applied"


def resolve_pending_changes(*, limit: int = 500) -> dict[str, int]:
    """One run of ``domains.resolve_changes``: each pending change resolved between its
    own units of work (``resolve_pending``); how many were applied, refused, or are still
    pending. A registry that is down ends the run."""
    registry = get_registry()
    counts = {"applied": 0, "refused": 0, "pending": 0}
    for domain_id in domains_with_pending_changes()[:limit]:
        try:
            outcome = resolve_pending(domain_id, registry=registry)
        except RegistryUnavailable as down:
            log.warning("pending registry changes: registry unavailable (%s)", down)
            counts["pending"] += 1
            break
        except RegistryTimeout:
            outcome = "pending"
        if outcome:
            counts[outcome] += 1
    return counts


def domains_with_pending_changes(*, older_than: timedelta = timedelta(0)) -> list[int]:
    """Domains whose change still waits for the registry's answer, oldest first (a change
    whose sender's lease still runs is the sender's)."""
    rows = db.session.execute(sa.select(Domain.id, Domain.pending_change).where(
        Domain.pending_change.is_not(None)).order_by(Domain.id))
    cutoff = clock.now() - older_than
    return [domain_id for domain_id, change in rows
            if change and not sending(change) and (
                "requested_at" not in change
                or datetime.fromisoformat(change["requested_at"]) <= cutoff)]


# -- sending ---------------------------------------------------------------------------------

def _command(domain: Domain, change: dict[str, Any]) -> dict[str, Any]:
    """What sending ``change`` needs, as plain values (read inside a unit of work, sent
    after it): the name, the change, and the contact objects it needs created first."""
    contacts = _contacts(change["params"]) if change["operation"] == "registrant" else []
    return {"name": domain.name, "change": change, "contacts": contacts}


def _send_command(registry: Registry, command: dict[str, Any]) -> Any:
    name, change = command["name"], command["change"]
    operation, params, trid = change["operation"], change["params"], change["transaction_id"]
    if command["contacts"]:  # the registry needs the contact objects first
        contact_services.push_contacts(registry, command["contacts"], name=name)
    if operation in UPDATES:
        handles = {"admin": params.get("admin_handle"), "tech": params.get("tech_handle"),
                   "registrant": params.get("registrant_handle")}
        values = {key: handles[key] if key in handles else params.get(key)
                  for key in UPDATES[operation]}
        return registry.update(name=name, transaction_id=trid,
                               **{k: v for k, v in values.items() if v is not None})
    if operation == "delete":
        return registry.delete(name=name, transaction_id=trid)
    if operation == "host_set":
        return registry.host_set(name=params["host"], addresses=params["addresses"])
    return registry.host_delete(name=params["host"])


def _contacts(params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    ids = {params.get(f"{role}_id") for role in ("registrant", "admin", "tech")} - {None}
    found = [db.session.get(Contact, contact_id) for contact_id in sorted(ids)]
    return [(c.handle, contact_services.registry_data(c)) for c in found if c]


# -- applying what the registry did -------------------------------------------------------------

def _apply(domain: Domain, change: dict[str, Any], result: Any) -> list[dict[str, Any]]:
    """Make our record say what the command did; the differences ({field, before, after})."""
    operation, params = change["operation"], change["params"]
    if operation == "delete":
        return _deleted(domain, result, change)
    if operation in ("host_set", "host_delete"):
        return _hosts(domain, operation, params)
    found = []
    fields = {"nameservers": ("nameservers",), "ds": ("ds",), "lock": ("locked",),
              "hold": ("suspended",), "contacts": ("admin_id", "tech_id"),
              "registrant": ()}[operation]
    for field in fields:
        key = {"locked": "locked", "suspended": "hold"}.get(field, field)
        if key not in params:
            continue
        before = getattr(domain, field)
        setattr(domain, field, params[key])
        found.append(states.change(field, before, params[key]))
    statuses = getattr(result, "statuses", None)
    if statuses:  # the registry's own view after the command
        domain.registry_statuses = sorted(statuses)
    db.session.flush()
    if operation == "contacts":
        for contact_id in {params.get("admin_id"), params.get("tech_id")} - {None}:
            contact_services.record_contact_changed(
                contact=db.session.get(Contact, contact_id), domain=domain)
    return found


def _hosts(domain: Domain, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    row = next((h for h in domain.hosts if h.name == params["host"]), None)
    before = list(row.addresses) if row is not None else None
    if operation == "host_delete":
        if row is not None:
            domain.hosts.remove(row)
        after = None
    else:
        if row is None:
            row = Host(name=params["host"], addresses=params["addresses"])
            domain.hosts.append(row)
        row.addresses = after = list(params["addresses"])
    db.session.flush()
    return [states.change(f"hosts.{params['host']}", before, after)]


def _deleted(domain: Domain, result: Any, change: dict[str, Any]) -> list[dict[str, Any]]:
    """1001 (pending deletion): redemption where the TLD restores, else gone. 1000: gone at
    once, and inside the add grace period the registration is credited (once)."""
    before = domain.status
    rules = rules_for(domain.tld)
    if result == DELETED:
        credit = _add_grace_credit(domain, rules.add_grace_days)
        states.mark_deleted(domain, restorable=False,
                            **({"grace_credit": credit} if credit else {}))
    else:
        states.mark_deleted(domain, restorable=rules.redemption_days > 0 and rules.restore)
    return [states.change("status", before, domain.status)]


def add_grace_order(domain: Domain, grace_days: int) -> Order | None:
    """The registration a deletion now would credit: the completed, paid registration order
    while the add grace period (the catalogue's ``add_grace_days``) lasts, else None. The
    delete confirmation page states the refund from the same answer."""
    if not grace_days:
        return None
    order = db.session.scalar(sa.select(Order).where(
        Order.domain_id == domain.id, Order.reseller_id == domain.reseller_id,
        Order.kind == "register", Order.state == "completed").order_by(Order.id.desc()))
    if order is None or order.net <= 0 \
            or (order.completed_at or domain.created_at) + timedelta(days=grace_days) \
            < clock.now():
        return None
    return order


def _add_grace_credit(domain: Domain, grace_days: int) -> dict[str, Any] | None:
    """The registration's purchase refunded when the name was deleted inside the add grace
    period. ``refund_purchase`` is idempotent: once."""
    order = add_grace_order(domain, grace_days)
    if order is None:
        return None
    wallet.refund_purchase(reference=order.reference,
                           reason=f"{domain.name} deleted in the add grace period")
    return {"order_id": order.id, "reference": order.reference,
            "net": f"{order.net:.2f}", "vat": f"{order.vat:.2f}",
            "total": f"{order.total:.2f}", "currency": order.currency}
