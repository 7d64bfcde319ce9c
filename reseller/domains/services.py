"""Availability and the management of registered domains: nameservers, glue hosts,
DNSSEC, lock, auth codes, privacy, auto-renew, contacts, deletion, transfer-out answers.

The registry is asked first, with no database transaction open, and our record changed
after, so a refusal changes nothing (commands that change the domain: ``pending``).

This module is the domains' public surface for the other features (with ``models`` and
``errors``): besides its own functions it offers the orders, contacts and look-ups they
may use (WHMCS places orders, RDAP reads a live domain, DNS hosting plugs in the default
nameservers), defined in their own modules.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from reseller.accounts.models import Reseller
from reseller.catalog import services as catalog
from reseller.catalog.models import rules_for
from reseller.core.clock import clock
from reseller.core.db import contains, end_reads, end_transaction
from reseller.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.domains import contacts as contact_services
from reseller.domains import names, pending
from reseller.domains.contacts import (  # noqa: F401  (public)
    check_eligibility,
    create_contact,
    update_contact,
)
from reseller.domains.errors import (
    DomainLocked,
    DomainNotActive,
    OrderInProgress,
    TransferLocked,
    registry_errors,
)
from reseller.domains.models import Domain, Host, Order
from reseller.domains.orders import (  # noqa: F401  (public)
    add_order_check,
    ask_availability,
    ask_premium_fee,
    ask_registry_again,
    open_orders,
    order_owner_change,
    order_register,
    order_renew,
    order_transfer,
    pending_owner_change,
    quote_order,
    resend_owner_change_request,
    set_default_nameservers,
    unpaid_orders,
)
from reseller.domains.records import (  # noqa: F401  (public)
    find_live_domain,
    find_live_domains,
    get_domain,
)
from reseller.domains.schemas import ContactIn, parse_price
from reseller.domains.states import (  # noqa: F401  (public)
    domain_data,
    mark_deleted,
    mark_transferred_out,
)
from reseller.registry.services import get_registry
from wallet.money import Money

MAX_CHECK = 50
DS_ALGORITHMS = frozenset({8, 10, 13, 14, 15, 16})
DS_DIGEST_LENGTHS = {2: 64, 4: 96}  # SHA-256, SHA-384 (SHA-1 is no longer accepted)
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def _trid(operation: str) -> str:
    return f"{operation}-{uuid.uuid4().hex}"


# -- input checks for callers with their own formats (e.g. WHMCS) ----------------------------

def ascii_name(name: str) -> str:
    """``name`` (either form) in A-label form; ``InvalidName``/``UnsupportedTld`` when it is
    not a name we could register."""
    return names.parse(name).ascii


def validate_contact(data: dict[str, Any]) -> dict[str, Any]:
    """A contact's fields checked as the API checks them (``ValidationFailed`` otherwise),
    ready for ``create_contact``/``update_contact``."""
    return ContactIn().load_or_raise(data)


def accepted_price(value: object, *, field: str = "accept_price") -> Money:
    """The most (net EUR) a caller accepts for a premium order, from a decimal string
    ("250.00"); ``ValidationFailed`` on ``field`` otherwise."""
    try:
        return parse_price(value)
    except ValidationError as error:
        raise ValidationFailed({field: error.messages}) from None


# -- availability --------------------------------------------------------------------------

def check_availability(*, reseller_id: int, names_text: list[str],
                       period: int = 1) -> list[dict[str, Any]]:
    wanted = [text for text in (t.strip() for t in names_text) if text]
    if not wanted:
        raise ValidationFailed({"names": [_l("Give at least one name.")]})
    if len(wanted) > MAX_CHECK:
        raise ValidationFailed({"names": [_l("At most %(n)s names per check.", n=MAX_CHECK)]})
    parsed = list({name.ascii: name for name in names.parse_many(wanted)}.values())
    for name in parsed:
        name.rules.check_period(period)
    end_reads()  # the registry is asked with none open
    with registry_errors():
        answers = {a.name: a for a in get_registry().check([n.ascii for n in parsed])}
    # Constant statements whatever the number of names: ours in one look-up, the prices
    # per TLD in one (a premium name's price is the registry's fee).
    ours = set(db.session.scalars(sa.select(Domain.live_name).where(
        Domain.live_name.in_([n.ascii for n in parsed]))))
    quotes = catalog.quote_many(reseller_id=reseller_id, tlds={n.tld for n in parsed},
                                operation="register", years=period)
    results, price_list = [], None
    for name in parsed:
        answer = answers[name.ascii]
        available = answer.available and name.ascii not in ours
        if answer.premium:
            price_list = price_list or catalog.price_list_of(reseller_id)
            price = catalog.premium_quote(reseller_id=reseller_id,
                                          premium_fee=answer.premium_price * period,
                                          price_list=price_list)
        elif isinstance(quotes[name.tld], Exception):
            raise quotes[name.tld]
        else:
            price = quotes[name.tld]
        results.append({"name": name.ascii, "unicode_name": name.unicode,
                        "available": available, "premium": answer.premium, "period": period,
                        "price": price.as_dict(),
                        "reason": None if available else (answer.reason or "registered")})
    return results


# -- listing -------------------------------------------------------------------------------

def list_domains(*, reseller_id: int, status: str | None = None, tld: str | None = None,
                 q: str | None = None, expires_before: datetime | None = None,
                 auto_renew: bool | None = None, include_ended: bool = False) -> sa.Select:
    stmt = sa.select(Domain).where(Domain.reseller_id == reseller_id)
    if status:
        stmt = stmt.where(Domain.status == status)
    elif not include_ended:
        stmt = stmt.where(Domain.live_name.is_not(None))
    if tld:
        stmt = stmt.where(Domain.tld == tld.lower().lstrip("."))
    if q and q.strip():  # trigram-indexed on PostgreSQL (see the models)
        fragment = q.strip().lower()
        stmt = stmt.where(sa.or_(contains(Domain.name, fragment),
                                 contains(Domain.unicode_name, fragment)))
    if expires_before is not None:
        stmt = stmt.where(Domain.expires_at < expires_before)
    if auto_renew is not None:
        stmt = stmt.where(Domain.auto_renew == auto_renew)
    return stmt


def _active(reseller_id: int, name: str) -> Domain:
    domain = _held(reseller_id, name)
    if domain.status != "active":
        raise DomainNotActive(_l("%(name)s is %(status)s.", name=domain.unicode_name,
                                 status=domain.status))
    return domain


def _held(reseller_id: int, name: str) -> Domain:
    """The domain held for a registry command, with no change of it pending (one whose
    answer was lost is resolved first; one still being sent: 409 ``change_pending``)."""
    domain = held_domain(reseller_id=reseller_id, name=name)
    if domain.pending_change:
        raise pending.change_pending(domain)
    return domain


def held_domain(*, reseller_id: int, name: str) -> Domain:
    """The domain as a registry command on it starts from (``pending.hold_for_command``):
    the version an ``If-Match`` on the command names."""
    return pending.hold_for_command(reseller_id=reseller_id, name=name)


# -- nameservers and glue --------------------------------------------------------------------

def set_nameservers(*, reseller_id: int, name: str, nameservers: list[str]) -> Domain:
    domain = _active(reseller_id, name)
    hosts = names.host_names(nameservers)
    if not 2 <= len(hosts) <= 13:
        raise ValidationFailed({"nameservers": [_l("Give 2–13 different nameservers.")]})
    glue = {host.name for host in domain.hosts}
    missing = [h for h in hosts if h.endswith("." + domain.name) and h not in glue]
    if missing:
        raise ValidationFailed({"nameservers": [_l(
            "%(host)s is under the domain itself: create its glue host with addresses first.",
            host=missing[0])]})
    pending.send_change(domain, operation="nameservers", params={"nameservers": hosts})
    return domain


def set_host(*, reseller_id: int, name: str, host: str, addresses: list[str]) -> Host | None:
    """Create or change a glue host at the registry, then here; None: the answer was lost
    and the host is the domain's pending change."""
    domain = _active(reseller_id, name)
    host_name = _subordinate_host(domain, host)
    clean = []
    for address in addresses or []:
        try:
            clean.append(str(ipaddress.ip_address(str(address).strip())))
        except ValueError:
            raise ValidationFailed({"addresses": [_l("%(value)s is not an IP address.",
                                                     value=str(address))]}) from None
    if not 1 <= len(clean) <= 13:
        raise ValidationFailed({"addresses": [_l("Give 1–13 addresses.")]})
    if not pending.send_change(domain, operation="host_set",
                               params={"host": host_name, "addresses": clean}):
        return None
    return next((h for h in domain.hosts if h.name == host_name), None)


def delete_host(*, reseller_id: int, name: str, host: str) -> bool:
    """Delete a glue host at the registry, then here; False: the answer was lost and the
    deletion is the domain's pending change."""
    domain = _active(reseller_id, name)
    host_name = _subordinate_host(domain, host)
    row = next((h for h in domain.hosts if h.name == host_name), None)
    if row is None:
        raise NotFound(_l("No glue host %(host)s.", host=host_name))
    if host_name in (domain.nameservers or []):
        raise Conflict(_l("%(host)s is one of the domain's nameservers; change them first.",
                          host=host_name))
    return pending.send_change(domain, operation="host_delete", params={"host": host_name})


def _subordinate_host(domain: Domain, host: str) -> str:
    if not names.is_host_name(host or ""):
        raise ValidationFailed({"host": [_l("Not a valid host name.")]})
    host_name = names.host_name(host)
    if not host_name.endswith("." + domain.name):
        raise ValidationFailed({"host": [_l("A glue host must be under %(name)s.",
                                            name=domain.name)]})
    return host_name


# -- DNSSEC --------------------------------------------------------------------------------

def validate_ds(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    clean, errors = [], {}
    for index, record in enumerate(records):
        problems = []
        key_tag, algorithm = record.get("key_tag"), record.get("algorithm")
        digest_type, digest = record.get("digest_type"), str(record.get("digest") or "")
        if not isinstance(key_tag, int) or not 0 <= key_tag <= 65535:
            problems.append(_l("key_tag must be 0–65535."))
        if algorithm not in DS_ALGORITHMS:
            problems.append(_l("algorithm must be one of %(values)s.",
                               values=", ".join(map(str, sorted(DS_ALGORITHMS)))))
        length = DS_DIGEST_LENGTHS.get(digest_type)
        if length is None:
            problems.append(_l("digest_type must be 2 (SHA-256) or 4 (SHA-384)."))
        elif len(digest) != length or not _HEX.match(digest):
            problems.append(_l("digest must be %(n)s hexadecimal characters.", n=length))
        if problems:
            errors[str(index)] = problems
        else:
            clean.append({"key_tag": key_tag, "algorithm": algorithm,
                          "digest_type": digest_type, "digest": digest.upper()})
    if len(records) > 8:
        errors["_schema"] = [_l("At most 8 DS records.")]
    if errors:
        raise ValidationFailed({"ds": errors})
    return clean


def set_dnssec(*, reseller_id: int, name: str, ds: list[dict[str, Any]]) -> Domain:
    domain = _active(reseller_id, name)
    clean = validate_ds(ds)
    pending.send_change(domain, operation="ds", params={"ds": clean})
    return domain


# -- lock, auth code, privacy, auto-renew ------------------------------------------------------

def set_lock(*, reseller_id: int, name: str, locked: bool) -> Domain:
    domain = _active(reseller_id, name)
    pending.send_change(domain, operation="lock", params={"locked": locked})
    return domain


def request_auth_code(*, reseller_id: int, name: str) -> str:
    """A fresh auth code for moving the domain away; refused while it may not move. The
    code is the registry's whole effect (our record does not change), so it is asked with
    no transaction open, once a change still pending is resolved."""
    domain = get_domain(reseller_id=reseller_id, name=name)
    if domain.pending_change or domain.status != "active":
        domain = _active(reseller_id, name)
    if domain.locked:
        raise DomainLocked(_l("Unlock %(name)s first.", name=domain.unicode_name))
    if domain.transfer_lock_until and domain.transfer_lock_until > clock.now():
        raise TransferLocked(_l("%(name)s cannot move before %(date)s (transfer lock after "
                                "registration or owner change).", name=domain.unicode_name,
                                date=domain.transfer_lock_until.date().isoformat()),
                             until=domain.transfer_lock_until.isoformat())
    ascii_name = domain.name
    end_transaction()
    with registry_errors():
        return get_registry().auth_code(name=ascii_name, transaction_id=_trid("auth"))


def set_privacy(*, reseller_id: int, name: str, privacy: bool) -> Domain:
    domain = get_domain(reseller_id=reseller_id, name=name)
    domain.privacy = privacy
    db.session.flush()
    return domain


def set_auto_renew(*, reseller_id: int, name: str, auto_renew: bool) -> Domain:
    domain = get_domain(reseller_id=reseller_id, name=name)
    domain.auto_renew = auto_renew
    db.session.flush()
    return domain


def set_contacts(*, reseller_id: int, name: str, registrant: int | None = None,
                 admin: int | None = None, tech: int | None = None) -> Domain:
    domain = _active(reseller_id, name)
    if registrant is not None and registrant != domain.registrant_id:
        raise Conflict(_l("Changing the registrant is an owner change: POST "
                          "/domains/%(name)s/owner-change.", name=domain.name))
    changes = {}
    for role, contact_id in (("admin", admin), ("tech", tech)):
        if contact_id is not None:
            changes[role] = contact_services.get_contact(reseller_id=reseller_id,
                                                         contact_id=contact_id)
    if not changes:
        return domain
    params = {}
    for role, contact in changes.items():
        params[f"{role}_id"], params[f"{role}_handle"] = contact.id, contact.handle
    pending.send_change(domain, operation="contacts", params=params)
    return domain


# -- deletion and transfer out ------------------------------------------------------------------

def delete_domain(*, reseller_id: int, name: str) -> Domain:
    domain = _held(reseller_id, name)
    rules = rules_for(domain.tld)
    if not rules.delete_allowed:
        raise Conflict(_l(".%(tld)s does not allow deletion.", tld=domain.tld))
    if domain.status not in ("active", "expired"):
        raise DomainNotActive(_l("%(name)s is %(status)s.", name=domain.unicode_name,
                                 status=domain.status))
    if db.session.scalar(sa.select(Order.id).where(Order.lock_key == domain.name)):
        raise OrderInProgress(_l("An order for %(name)s is in progress.",
                                 name=domain.unicode_name))
    pending.send_change(domain, operation="delete", params={})
    return domain


def deletion_terms(*, reseller_id: int, name: str) -> dict[str, Any]:
    """What deleting ``name`` now would do and cost, as the confirmation page states it:
    ``refund`` (the registration order credited inside the add grace period, else None),
    ``grace_ends`` (when that credit ends), ``redemption_days`` (how long a restore is
    possible; 0 when the name is gone at once) and ``restore_price`` (a catalogue quote)."""
    domain = get_domain(reseller_id=reseller_id, name=name)
    rules = rules_for(domain.tld)
    refund = pending.add_grace_order(domain, rules.add_grace_days)
    restorable = rules.restore and rules.redemption_days > 0 and refund is None
    restore_price = None
    if restorable:
        try:
            restore_price = quote_order(reseller_id=reseller_id, name=domain.name,
                                        operation="restore")[0]
        except DomainError:
            restore_price = None
    grace_ends = None
    if refund is not None:
        grace_ends = (refund.completed_at or domain.created_at) + timedelta(
            days=rules.add_grace_days)
    return {"domain": domain, "rules": rules, "refund": refund, "grace_ends": grace_ends,
            "redemption_days": rules.redemption_days if restorable else 0,
            "restore_price": restore_price, "delete_allowed": rules.delete_allowed}


def set_suspended(*, domain_id: int, suspended: bool) -> bool | None:
    """Put a domain on hold at the registry (registrant email unverified) or lift it; a
    job's work, so the registry is asked between units of work (``send_change_in_steps``)."""
    return pending.send_change_in_steps(
        domain_id, operation="hold", params={"hold": suspended},
        needed=lambda domain: domain.status == "active" and domain.suspended != suspended)


def answer_transfer_out(*, reseller_id: int, name: str, approve: bool) -> Domain:
    """Answer another registrar's request for ``name``. The registry is asked with no
    transaction open (one waiting on the registry would hold a snapshot, or with a lock a
    transaction id, and with it every reseller's event feed); the answer is recorded
    after."""
    ascii_name = get_domain(reseller_id=reseller_id, name=name).name
    end_transaction()
    send_transfer_answer(name=ascii_name, approve=approve)
    return record_transfer_answer(get_domain(reseller_id=reseller_id, name=name,
                                             for_update=True), approve=approve)


def send_transfer_answer(*, name: str, approve: bool) -> None:
    with registry_errors():
        get_registry().transfer_answer(name=name, approve=approve)


def record_transfer_answer(domain: Domain, *, approve: bool) -> Domain:
    domain.transfer_out_pending = False
    if approve:
        mark_transferred_out(domain)
    db.session.flush()
    return domain


def recent_registry_changes(*, limit: int = 200) -> list[tuple[Any, str]]:
    """The latest differences the registry sync applied, across resellers, newest first,
    each with its reseller's name (the operator console's report)."""
    rows = db.session.execute(
        sa.select(Event, Reseller.company_name).join(Reseller, Reseller.id == Event.reseller_id)
        .where(Event.type == "domain.registry_changed").order_by(Event.id.desc()).limit(limit))
    return [(event, company) for event, company in rows]
