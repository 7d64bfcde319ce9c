"""Orders: price → consent → hold (gross) → registry (in a job) → capture or release.

A premium price is charged only with the caller's consent: ``accept_price`` (net EUR) must
cover the quoted net price, or the order is refused before anything is held. The registry
is then sent the premium fee as the most it may charge (RFC 8748), so a price that rose
in between fails the order and releases its hold instead of charging more.

The order row and the wallet hold commit together. The registry call runs in
``process_order``; its transaction id is the order's reference, so a retried or recovered
call never acts twice, and the order's row lock plus state check mean it is finished
(captured or released) exactly once.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from reseller.catalog import services as catalog
from reseller.catalog.errors import InvalidPeriod
from reseller.catalog.models import add_years, rules_for
from reseller.core.clock import clock
from reseller.core.db import end_reads, insert_unless_exists, keep_loaded, lock_row, unit_of_work
from reseller.core.errors import ValidationFailed
from reseller.core.events import record_event, record_events
from reseller.core.extensions import db
from reseller.core.jobs import (
    can_take_waiting,
    enqueue,
    give_back,
    pushes_held,
    settle_in_this_unit,
    take_waiting,
)
from reseller.core.metrics import backlog, gauge
from reseller.domains import contacts as contact_services
from reseller.domains import names, owner_change, pending, rgp
from reseller.domains.errors import (
    DomainNotActive,
    DomainUnavailable,
    OrderInProgress,
    OrderNotFound,
    OrdersBlockedOverdue,
    PriceNotAccepted,
    registry_errors,
)
from reseller.domains.models import Contact, Domain, Order
from reseller.domains.records import find_live_domain, get_domain, reseller_contact
from reseller.registry.errors import RegistryRejected
from reseller.registry.models import Availability, DomainInfo, Registry, TransferInfo
from reseller.registry.services import get_registry
from wallet import services as wallet
from wallet.errors import CreditLimitExceeded, HoldNotActive, InsufficientFunds
from wallet.invoices.invoicing import billing_standing
from wallet.models import Purchase
from wallet.money import Money

log = logging.getLogger(__name__)

PROCESS_JOB = "reseller.domains.tasks.process_order"
# An owner change's hold outlives the registrant's approval period (whitelabel tokens).
HOLD_DAYS = {"transfer": 12, "owner_change": 16}
DEFAULT_HOLD_DAYS = 7
_DEFAULT_NAMESERVERS = "tunnus.domains.default_nameservers"
_ORDER_CHECKS = "tunnus.domains.order_checks"


# -- reading ------------------------------------------------------------------------------

def get_order(*, reseller_id: int, order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None or order.reseller_id != reseller_id:
        raise OrderNotFound(_l("Order %(id)s not found.", id=order_id))
    return order


def list_orders(*, reseller_id: int, state: str | None = None, kind: str | None = None,
                domain: str | None = None) -> sa.Select:
    stmt = sa.select(Order).where(Order.reseller_id == reseller_id)
    if state:
        stmt = stmt.where(Order.state == state)
    if kind:
        stmt = stmt.where(Order.kind == kind)
    if domain:
        stmt = stmt.where(Order.domain_name == names.parse(domain).ascii)
    return stmt


# Built once: every order asks it (see BUILT ONCE in reseller.core.db)
_BY_KEY = sa.select(Order).where(Order.reseller_id == sa.bindparam("reseller_id"),
                                 Order.idempotency_key == sa.bindparam("key"))


def _by_key(reseller_id: int, key: str) -> Order | None:
    return db.session.scalar(_BY_KEY, {"reseller_id": reseller_id, "key": key})


# -- placing orders ------------------------------------------------------------------------

def set_default_nameservers(app: Flask, lookup: Callable[[int], list[str]]) -> None:
    """Where a new domain's nameservers come from when its order names none:
    ``lookup(reseller_id)``. DNS hosting plugs in the reseller's (vanity or Tunnus)
    nameservers; without it such an order goes to the registry with none."""
    app.extensions[_DEFAULT_NAMESERVERS] = lookup


def _default_nameservers(reseller_id: int) -> list[str]:
    lookup = current_app.extensions.get(_DEFAULT_NAMESERVERS)
    return list(lookup(reseller_id)) if lookup is not None else []


def add_order_check(app: Flask, check: Callable[..., dict[str, Any] | None]) -> None:
    """A check every new registration passes once the name is known to be available and
    before anything is priced or held: ``check(reseller_id=, name=, unicode_name=,
    claims_ack=)`` raises a ``DomainError`` to refuse the order, or returns what to record
    in the order's params. Trademark protection plugs in its claims notice."""
    app.extensions.setdefault(_ORDER_CHECKS, []).append(check)


def _run_order_checks(reseller_id: int, name: names.DomainName,
                      claims_ack: str | None) -> dict[str, Any]:
    recorded: dict[str, Any] = {}
    for check in current_app.extensions.get(_ORDER_CHECKS, ()):
        recorded.update(check(reseller_id=reseller_id, name=name.ascii,
                              unicode_name=name.unicode, claims_ack=claims_ack) or {})
    return recorded


def _refuse_if_blocked(reseller_id: int) -> str:
    """New paid orders wait while an invoice is overdue past the operator's limit.

    Checked before anything is priced, held or asked of the registry. Renewals are not
    refused: letting customers' domains expire over the reseller's debt helps nobody.
    A replay of an order placed before the block still returns that order.

    Returns the reseller's payment mode, read in the same statement: it names the price
    list the order is quoted from (``catalog.quote(price_list=)``), a read less per order.
    """
    payment_mode, blocked = billing_standing(reseller_id)
    if blocked:
        raise OrdersBlockedOverdue(_l("An invoice is overdue; new orders are paused until "
                                      "it is paid. Renewals still work."))
    return payment_mode


def order_register(*, reseller_id: int, name: str, period: int, contacts: dict[str, int],
                   nameservers: list[str] | None = None, privacy: bool = False,
                   auto_renew: bool = True, idempotency_key: str,
                   accept_price: Money | None = None, claims_ack: str | None = None,
                   availability: Availability | None = None) -> Order:
    """Hold the price and queue the registration. A taken name holds nothing, nor does a
    premium one whose price ``accept_price`` does not cover, nor one an order check
    refuses (``claims_ack``: the claims notice the registrant acknowledged).
    ``availability``: the registry's answer for the name, asked before the caller's
    transaction (``ask_availability``); without it the registry is asked here."""
    if existing := _by_key(reseller_id, idempotency_key):
        return existing
    price_list = _refuse_if_blocked(reseller_id)
    parsed = names.parse(name)
    parsed.rules.check_period(period)
    nameservers = names.host_names(nameservers or [])  # each is a WHOIS line: one line each
    role_ids = _own_contacts(reseller_id, contacts)
    contact_services.require_identity(reseller_id=reseller_id, tld=parsed.tld,
                                      contact_id=role_ids.get("registrant"))
    contact_services.require_eligible(reseller_id=reseller_id, tld=parsed.tld,
                                      contact_id=role_ids.get("registrant"))
    if find_live_domain(parsed.ascii) is not None:
        raise DomainUnavailable(_l("%(name)s is already registered.", name=parsed.unicode))
    if availability is None or availability.name != parsed.ascii:
        with registry_errors():
            availability = get_registry().check([parsed.ascii])[0]
    if not availability.available:
        raise DomainUnavailable(_l("%(name)s is not available.", name=parsed.unicode),
                                reason=availability.reason)
    # Without nameservers the domain uses Tunnus DNS (the reseller's vanity names if set).
    params = {"contacts": role_ids,
              "nameservers": list(nameservers or _default_nameservers(reseller_id)),
              "privacy": privacy, "auto_renew": auto_renew,
              **_run_order_checks(reseller_id, parsed, claims_ack)}
    fee = availability.premium_price * period if availability.premium else None
    return _place(reseller_id=reseller_id, kind="register", name=parsed, period=period,
                  idempotency_key=idempotency_key, params=params, premium_fee=fee,
                  accept_price=accept_price, price_list=price_list)


def premium_fee(*, name: str, command: str, years: int) -> Decimal | None:
    """The registry's premium fee for ``command`` on ``name`` (None: a standard name)."""
    return _premium_fee(name, command, years)


# What an order asks the registry before anything is held is read-only (is the name free,
# is it premium and for how much), so a caller asks it first, with no transaction open
# (issue 31: no request holds one across a registry call), and hands the answer to the
# order: ``order_register(availability=)``, ``order_renew/transfer/restore(premium_fee=)``.
# The caller must not have claimed or written anything yet: the reads it made end here.

def ask_availability(name: str) -> Availability:
    """The registry's answer for registering ``name``, asked with no transaction open."""
    ascii_name = names.parse(name).ascii
    end_reads()
    with registry_errors():
        return get_registry().check([ascii_name])[0]


def ask_premium_fee(name: str, command: str, years: int = 1) -> Decimal | None:
    """``premium_fee`` asked with no transaction open (see ``ask_availability``)."""
    ascii_name = names.parse(name).ascii
    end_reads()
    return _premium_fee(ascii_name, command, years)


def _premium_fee(name: str, command: str, years: int) -> Decimal | None:
    """The registry's premium fee for ``command`` on ``name`` (None: a standard name)."""
    with registry_errors():
        return get_registry().premium_fee(name=name, command=command, years=years)


def quote_order(*, reseller_id: int, name: str, operation: str,
                years: int = 1) -> tuple[catalog.Quote, bool]:
    """What an order for ``operation`` on ``name`` would cost, and whether the price is
    premium (shown before the reseller confirms, and accepted with that confirmation)."""
    fee = ask_premium_fee(name, operation, years)  # pages: their reads end here
    return catalog.quote(reseller_id=reseller_id, tld=names.parse(name).tld,
                         operation=operation, years=years, premium_fee=fee), fee is not None


# premium_fee not given: the order asks the registry (bulk callers pass it for some names)
ASK_REGISTRY = object()


def order_renew(*, reseller_id: int, name: str, period: int, idempotency_key: str,
                system: bool = False, accept_price: Money | None = None,
                premium_fee: Decimal | None | object = ASK_REGISTRY) -> Order:
    """``premium_fee``: the registry's fee when the caller read it already (a job reads it
    before its unit of work, so no transaction waits on the registry)."""
    if existing := _by_key(reseller_id, idempotency_key):
        return existing
    domain = get_domain(reseller_id=reseller_id, name=name)
    rules = rules_for(domain.tld)
    rules.check_period(period)
    if domain.status not in ("active", "expired"):
        raise DomainNotActive(_l("%(name)s is %(status)s; only active or expired domains "
                                 "renew.", name=domain.unicode_name, status=domain.status))
    if add_years(domain.expires_at, period) > add_years(clock.now(), rules.max_period):
        raise InvalidPeriod(_l("A domain can be registered at most %(years)s years ahead.",
                               years=rules.max_period), max_period=rules.max_period)
    return _place(reseller_id=reseller_id, kind="renew", name=names.parse(domain.name),
                  period=period, idempotency_key=idempotency_key, domain_id=domain.id,
                  params={"expires_at": domain.expires_at.isoformat(), "auto": system},
                  premium_fee=_premium_fee(domain.name, "renew", period)
                  if premium_fee is ASK_REGISTRY else premium_fee,
                  accept_price=accept_price)


def order_transfer(*, reseller_id: int, name: str, auth_code: str, idempotency_key: str,
                   contacts: dict[str, int] | None = None,
                   accept_price: Money | None = None,
                   premium_fee: Decimal | None | object = ASK_REGISTRY) -> Order:
    if existing := _by_key(reseller_id, idempotency_key):
        return existing
    _refuse_if_blocked(reseller_id)
    parsed = names.parse(name)
    rules = parsed.rules
    rules.require("transfer")
    if rules.auth_code_for_transfer and not (auth_code or "").strip():
        raise ValidationFailed({"auth_code": [_l("The auth code is required for .%(tld)s.",
                                                  tld=rules.tld)]})
    if find_live_domain(parsed.ascii) is not None:
        raise DomainUnavailable(_l("%(name)s is already managed here.", name=parsed.unicode))
    params = {"auth_code": auth_code.strip(),
              "contacts": _own_contacts(reseller_id, contacts) if contacts else {}}
    return _place(reseller_id=reseller_id, kind="transfer", name=parsed, period=1,
                  idempotency_key=idempotency_key, params=params,
                  premium_fee=_premium_fee(parsed.ascii, "transfer", 1)
                  if premium_fee is ASK_REGISTRY else premium_fee,
                  accept_price=accept_price)


def order_restore(*, reseller_id: int, name: str, idempotency_key: str,
                  accept_price: Money | None = None, reason: str | None = None,
                  premium_fee: Decimal | None | object = ASK_REGISTRY) -> Order:
    if existing := _by_key(reseller_id, idempotency_key):
        return existing
    _refuse_if_blocked(reseller_id)
    domain = get_domain(reseller_id=reseller_id, name=name)
    rules_for(domain.tld).require("restore")
    if domain.status != "redemption":
        raise DomainNotActive(_l("Only a domain in redemption can be restored."))
    return _place(reseller_id=reseller_id, kind="restore", name=names.parse(domain.name),
                  period=None, idempotency_key=idempotency_key, domain_id=domain.id,
                  params={"report": rgp.report_for(domain, reason=reason)},
                  premium_fee=_premium_fee(domain.name, "restore", 1)
                  if premium_fee is ASK_REGISTRY else premium_fee,
                  accept_price=accept_price)


def order_owner_change(*, reseller_id: int, name: str, registrant: int,
                       idempotency_key: str, designated_agent: bool = False,
                       lock_opt_out: bool = False) -> Order:
    """Hold the fee and change the registrant of this domain only. Where the TLD needs the
    current registrant's consent the order waits (``pending``) for its answer to an e-mailed
    link, unless the reseller states it is the registrant's designated agent (then
    ``lock_opt_out`` is the registrant's choice it passes on)."""
    if existing := _by_key(reseller_id, idempotency_key):
        return existing
    _refuse_if_blocked(reseller_id)
    domain = get_domain(reseller_id=reseller_id, name=name)
    rules = rules_for(domain.tld)
    rules.require("owner_change")
    if domain.status != "active":
        raise DomainNotActive(_l("Only an active domain can change owner."))
    contact = contact_services.get_contact(reseller_id=reseller_id, contact_id=registrant)
    contact_services.require_identity(reseller_id=reseller_id, tld=domain.tld,
                                      contact_id=contact.id)
    contact_services.require_eligible(reseller_id=reseller_id, tld=domain.tld,
                                      contact_id=contact.id)
    awaiting = rules.owner_change_consent and not designated_agent
    params = {"registrant": contact.id, "previous_registrant": domain.registrant_id,
              **owner_change.approval_params(rules, designated_agent=designated_agent,
                                             lock_opt_out=lock_opt_out)}
    order = _place(reseller_id=reseller_id, kind="owner_change", name=names.parse(domain.name),
                   period=None, idempotency_key=idempotency_key, domain_id=domain.id,
                   params=params, awaiting_approval=awaiting)
    if awaiting and order.state == "pending":
        owner_change.ask_registrant(order, prior=domain.registrant, new=contact,
                                    lock_days=rules.transfer_lock_days)
    return order


def decide_owner_change(*, reseller_id: int, order_id: int, approve: bool,
                        lock_opt_out: bool = False) -> Order | None:
    """The current registrant's answer: a confirmed change goes to the registry, a declined
    or late one fails (its hold released). An order no longer waiting is left alone."""
    order = lock_row(Order, order_id)
    if order is None or order.reseller_id != reseller_id or order.kind != "owner_change" \
            or order.state != "pending":
        return None
    due = owner_change.deadline(order)
    if due is not None and due <= clock.now():
        fail_order(order.id, reason="the registrant did not confirm the owner change in time")
    elif not approve:
        fail_order(order.id, reason="the registrant declined the owner change")
    else:
        lock_days = rules_for(order.tld).transfer_lock_days
        order.params = {**order.params, "lock_opt_out": bool(lock_opt_out and lock_days),
                        "approval": {"state": "approved", "by": "registrant",
                                     "at": clock.now().isoformat()}}
        order.state = "held"
        db.session.flush()
        enqueue(PROCESS_JOB, order.id, urgent=True)
    return order


def pending_owner_change(*, reseller_id: int, domain_id: int) -> Order | None:
    """The owner change of this domain still waiting for the registrant's answer."""
    return db.session.scalar(sa.select(Order).where(
        Order.reseller_id == reseller_id, Order.domain_id == domain_id,
        Order.kind == "owner_change", Order.state == "pending").limit(1))


def resend_owner_change_request(*, reseller_id: int, name: str) -> Order:
    """Send the waiting owner change's confirmation e-mail again (a new link; the first
    stays valid). At most once an hour: repeated clicks send one."""
    domain = get_domain(reseller_id=reseller_id, name=name)
    order = pending_owner_change(reseller_id=reseller_id, domain_id=domain.id)
    if order is None:
        raise OrderNotFound(_l("No change of owner of %(name)s is waiting for the "
                               "registrant's confirmation.", name=domain.unicode_name))
    new = db.session.get(Contact, order.params["registrant"])
    owner_change.ask_registrant(order, prior=domain.registrant, new=new,
                                lock_days=rules_for(domain.tld).transfer_lock_days,
                                again=clock.now().strftime("%Y%m%d%H"))
    return order


def expire_owner_changes(*, limit: int = 500) -> int:
    """Fail owner changes whose registrant did not answer within the approval period."""
    ids = list(db.session.scalars(sa.select(Order.id).where(
        Order.kind == "owner_change", Order.state == "pending",
        Order.created_at <= clock.now() - owner_change.APPROVAL_PERIOD)
        .order_by(Order.id).limit(limit)))
    for order_id in ids:
        fail_order(order_id, reason="the registrant did not confirm the owner change in time")
    return len(ids)


def _own_contacts(reseller_id: int, contacts: dict[str, int | None]) -> dict[str, int]:
    """The roles' contact ids, each checked to be the reseller's. The rows stay loaded
    for the checks that follow (identity, eligibility), which then read no row again."""
    found = {}
    for role, contact_id in (contacts or {}).items():
        if contact_id is not None:
            found[role] = keep_loaded(contact_services.get_contact(reseller_id=reseller_id,
                                                                   contact_id=contact_id)).id
    return found


def _place(*, reseller_id: int, kind: str, name: names.DomainName, period: int | None,
           idempotency_key: str, params: dict[str, Any], premium_fee: Decimal | None = None,
           accept_price: Money | None = None, domain_id: int | None = None,
           awaiting_approval: bool = False, price_list: str | None = None) -> Order:
    """Insert the order and hold its price. ``awaiting_approval``: it waits as ``pending``
    (held money, no registry call) until the registrant's answer moves it on."""
    quote = catalog.quote(reseller_id=reseller_id, tld=name.tld, operation=kind,
                          years=period or 1, premium_fee=premium_fee, price_list=price_list)
    _require_consent(quote, premium=premium_fee is not None, accept_price=accept_price,
                     name=name)
    if premium_fee is not None:  # the most the registry may charge for this command
        params = {**params, "fee": f"{premium_fee:.2f}"}
    # Inserted as held: the hold below is in the same transaction, and a refused hold
    # (insufficient funds) rolls the order back with it.
    order = insert_unless_exists(
        Order, reseller_id=reseller_id, reference=f"ord-{uuid.uuid4().hex}",
        idempotency_key=idempotency_key, kind=kind, domain_name=name.ascii,
        unicode_name=name.unicode, tld=name.tld, period=period,
        state="pending" if awaiting_approval else "held",
        premium=premium_fee is not None, currency=quote.currency, net=quote.net,
        vat=quote.vat, total=quote.total, vat_rate=quote.vat_rate, params=params,
        lock_key=name.ascii, domain_id=domain_id, attempts=0, created_at=clock.now())
    if order is None:  # a unique key holds: the same request, or another order for the name
        if existing := _by_key(reseller_id, idempotency_key):
            return existing  # the same request, committed by a concurrent retry
        raise OrderInProgress(_l("Another order for %(name)s is in progress.",
                                 name=name.unicode))
    if quote.net > 0:  # free operations (e.g. a gTLD owner change) hold nothing
        wallet.hold_funds(
            reseller_id=reseller_id, net=quote.net_money, vat_rate=quote.vat_rate,
            reference=order.reference, description=_describe(order),
            item={"order_id": order.id, "kind": kind, "domain": name.ascii,
                  "period": period, "tld": name.tld},
            expires_at=clock.now() + timedelta(days=HOLD_DAYS.get(kind, DEFAULT_HOLD_DAYS)))
    if not awaiting_approval:
        enqueue(PROCESS_JOB, order.id, urgent=True)
    return order


def _require_consent(quote: catalog.Quote, *, premium: bool, accept_price: Money | None,
                     name: names.DomainName) -> None:
    """A premium price needs ``accept_price``; any given ``accept_price`` must cover the
    net price. Refused before the order row, the hold or the registry call exist."""
    price = quote.net_money
    if accept_price is None and not premium:
        return
    if accept_price is not None and price <= accept_price:
        return
    if accept_price is None:
        detail = _l("%(name)s is a premium name at %(price)s EUR (net); send accept_price "
                    "to buy it.", name=name.unicode, price=price.as_string())
    else:
        detail = _l("%(name)s costs %(price)s EUR (net), more than the accepted "
                    "%(accepted)s EUR.", name=name.unicode, price=price.as_string(),
                    accepted=accept_price.as_string())
    raise PriceNotAccepted(detail, premium=premium, price=quote.as_dict(),
                           accept_price=accept_price.as_string() if accept_price else None)


def _describe(order: Order) -> str:
    years = f", {order.period} y" if order.period else ""
    return f"Domain {order.kind.replace('_', ' ')}: {order.unicode_name}{years}"


# -- carrying orders out -------------------------------------------------------------------

@dataclass(frozen=True)
class _Job:
    id: int
    kind: str
    name: str
    reference: str
    period: int | None
    params: dict
    handles: dict
    expires_at: datetime | None
    contacts: tuple = ()  # (handle, registry data) of each contact the command names
    # (contact id, event data) of the registrant as read here: the completion's events need
    # not read it again (it is what the registry was sent)
    registrant: tuple[int, dict] | None = None


# Orders one job carries out: its own, then up to this many more that wait in the queue
# (see ``process_order``).
BATCH = 8
_MISSES = 3  # waiting orders in a row another worker had taken first: stop looking


def process_order(order_id: int) -> None:
    """Send a held order to the registry and finish it. Safe to run any number of times:
    the registry answers a repeated transaction id from its record.

    Then, while orders never tried wait behind it (a burst), the job carries them out
    too, oldest first, up to ``BATCH`` in all: each one's job is taken out of its queue
    first (``jobs.take_waiting``), so no other worker runs it, and settled with the
    order's last unit of work. That is the order a free worker would take next anyway,
    without the ~3.5 ms of CPU an RQ job costs before it starts. A taken order that fails
    (the registry unavailable) is given back to the queue and ends the batch. A contact
    the job has already sent to the registry of a TLD, as it is now, is not sent there
    again by the same job (a reseller's burst of names for one registrant)."""
    pushed: set[tuple[str, str, str]] = set()
    if not can_take_waiting():
        _carry_out(order_id, _claim(order_id), pushed=pushed)
        return
    # The orders' events get one dispatch job for the batch, pushed when it ends.
    with pushes_held():
        _carry_out(order_id, _claim(order_id), pushed=pushed)
        _carry_out_waiting(order_id, pushed)


def _carry_out_waiting(order_id: int, pushed: set[tuple[str, str, str]]) -> None:
    """The rest of ``process_order``'s batch: the orders waiting behind ``order_id``."""
    done, misses, seen, ahead = 1, 0, {order_id}, []
    while done < BATCH and misses < _MISSES:
        if not ahead:
            ahead = _waiting(seen, BATCH - done)
            if not ahead:
                return
        waiting = ahead.pop(0)
        seen.add(waiting)
        taken = None
        try:
            with unit_of_work():  # the mark and the claim commit together
                taken = take_waiting(PROCESS_JOB, (waiting,))
                job = _claim_in_this_unit(waiting) if taken is not None else None
            if taken is None:
                misses += 1
                continue
            done, misses = done + 1, 0
            _carry_out(waiting, job, taken=taken, pushed=pushed)
        except Exception as error:
            if taken is None:
                raise
            log.warning("order %s, taken over by the job of order %s, failed; its job is "
                        "queued again", waiting, order_id, exc_info=True)
            give_back(taken, error)
            return


def _carry_out(order_id: int, job: _Job | None, *, pushed: set[tuple[str, str, str]],
               taken: str | None = None) -> None:
    """The registry call and the result, the order claimed (``_claim``) already;
    ``taken``: the job taken over for it (``take_waiting``), settled with the result;
    ``pushed``: the contacts this job has sent to a registry (handle, TLD, data), which
    are not sent again, and to which this order's are added once sent."""
    if job is None:
        if taken is not None:
            with unit_of_work():
                settle_in_this_unit(taken)  # finished already: nothing is owed
        return
    registry = get_registry()
    contacts = [(handle, data) for handle, data in job.contacts
                if _pushed_as(handle, data, job.name) not in pushed]
    try:
        contact_services.push_contacts(registry, contacts, name=job.name)
        pushed.update(_pushed_as(handle, data, job.name) for handle, data in contacts)
        result = _call_registry(job, registry)
    except RegistryRejected as rejected:
        with unit_of_work():
            fail_order(order_id, reason=f"{rejected.code} {rejected.message}")
            settle_in_this_unit(taken)  # the job's last unit of work
        return
    result = read_back(result, name=job.name, registry=registry)  # a refusal here: retried
    # RegistryUnavailable / RegistryTimeout propagate: the job is retried with the same id.
    with unit_of_work():
        apply_result(order_id, result, registrant=job.registrant)
        settle_in_this_unit(taken)  # the job's last unit of work


def _pushed_as(handle: str, data: dict, name: str) -> tuple[str, str, str]:
    """What a contact sent for ``name`` is remembered by: a TLD has one registry, and the
    data as sent (a change since means sending it again)."""
    return handle, name.rpartition(".")[2], json.dumps(data, sort_keys=True, default=str)


# Built once: every job looks (see BUILT ONCE in reseller.core.db). Orders never tried:
# a retried one (attempts > 0) keeps to its own job's backoff.
_WAITING = (sa.select(Order.id)
            .where(Order.state == "held", Order.attempts == 0,
                   Order.id.not_in(sa.bindparam("seen", expanding=True)))
            .order_by(Order.id).limit(sa.bindparam("limit")))


def _waiting(seen: set[int], limit: int) -> list[int]:
    """The oldest held orders no run has tried yet (by the state index), up to ``limit``.
    A read only: ``take_waiting``'s unit of work ends the transaction it opens."""
    return list(db.session.scalars(_WAITING, {"seen": sorted(seen), "limit": limit}))


# Built once (see BUILT ONCE in reseller.core.db)
_CLAIM = (
    sa.update(Order)
    .where(Order.id == sa.bindparam("order_id"), Order.state == "held",
           sa.or_(Order.registry_status.is_(None), Order.registry_status != "pending_transfer"))
    .values(attempts=Order.attempts + 1,
            submitted_at=sa.func.coalesce(
                Order.submitted_at, sa.bindparam("now", type_=Order.submitted_at.type)))
    .returning(Order)
    .execution_options(populate_existing=True, synchronize_session=False))


def _claim(order_id: int) -> _Job | None:
    with unit_of_work():
        return _claim_in_this_unit(order_id)


def _claim_in_this_unit(order_id: int) -> _Job | None:
    # One conditional UPDATE counts the attempt and reads the order (of two runs at once,
    # the second waits for the first's row lock and then counts its own).
    order = db.session.scalars(_CLAIM, {"order_id": order_id, "now": clock.now()}).first()
    if order is None:
        return None
    named = dict(order.params.get("contacts") or {})
    if order.kind == "owner_change":
        named["registrant"] = order.params["registrant"]
    found = {role: db.session.get(Contact, contact_id) for role, contact_id in named.items()}
    handles = {role: contact.handle for role, contact in found.items()}
    pushed = {c.handle: contact_services.registry_data(c) for c in found.values()}
    expires = order.params.get("expires_at")
    return _Job(order.id, order.kind, order.domain_name, order.reference, order.period,
                dict(order.params), handles,
                datetime.fromisoformat(expires) if expires else None,
                tuple(pushed.items()) if order.kind in ("register", "owner_change") else (),
                registrant=_registrant_of(found.get("registrant")))


def _call_registry(job: _Job, registry: Registry) -> DomainInfo | TransferInfo:
    trid = job.reference
    # Premium orders carry the fee the reseller accepted; the registry refuses (and the
    # order fails, its hold released) if its price is now higher.
    fee = Decimal(job.params["fee"]) if job.params.get("fee") else None
    if job.kind == "register":
        return registry.create(name=job.name, years=job.period,
                               registrant=job.handles["registrant"],
                               admin=job.handles.get("admin"), tech=job.handles.get("tech"),
                               nameservers=job.params.get("nameservers") or [],
                               transaction_id=trid, fee=fee)
    if job.kind == "renew":
        return registry.renew(name=job.name, years=job.period, current_expiry=job.expires_at,
                              transaction_id=trid, fee=fee)
    if job.kind == "transfer":
        return registry.transfer_request(name=job.name, auth_code=job.params["auth_code"],
                                         years=job.period or 1, transaction_id=trid, fee=fee)
    if job.kind == "restore":  # RFC 3915: request + report, restored now
        report = rgp.report_from(job.params.get("report"))
        return registry.restore(name=job.name, transaction_id=trid, fee=fee, report=report)
    if job.kind == "owner_change":
        return registry.change_registrant(name=job.name, registrant=job.handles["registrant"],
                                          transaction_id=trid)
    raise ValueError(f"unknown order kind {job.kind}")


def read_back(result: DomainInfo | TransferInfo, *, name: str,
              registry: Registry) -> DomainInfo | TransferInfo:
    """What finishes an order, read before the unit of work that applies it: a transfer in
    that completed is read back from the registry (``info``); any other answer as it is."""
    if isinstance(result, TransferInfo) and result.approved \
            and result.gaining == registry.registrar_id:
        return registry.info(name) or result
    return result


def apply_result(order_id: int, result: DomainInfo | TransferInfo, *,
                 registrant: tuple[int, dict] | None = None) -> None:
    """Finish a held order from the registry's answer (no-op if already finished). Callers
    pass a completed transfer through ``read_back`` first, so that no transaction waits on
    the registry; the read here is left for an answer that was not."""
    order = lock_row(Order, order_id)
    if order is None or order.state != "held":
        return
    if isinstance(result, TransferInfo):
        if result.pending:
            order.registry_status = "pending_transfer"
            return
        if not result.approved or result.gaining != get_registry().registrar_id:
            fail_order(order_id, reason=f"transfer {result.status}")
            return
        result = get_registry().info(order.domain_name)
    complete_order(order, result, registrant=registrant)


def _registrant_of(contact: Contact | None) -> tuple[int, dict] | None:
    return (contact.id, contact_services.person(contact)) if contact is not None else None


def complete_order(order: Order, info: DomainInfo, *,
                   registrant: tuple[int, dict] | None = None) -> None:
    domain = _apply_to_domain(order, info)
    if order.kind == "transfer":  # the registry still names the old registrant
        pending.take_over_contacts(domain)
    _capture(order)
    order.state, order.completed_at = "completed", clock.now()
    order.lock_key, order.registry_status = None, None
    order.domain_id = domain.id
    order.params = {k: v for k, v in order.params.items() if k != "auth_code"}
    db.session.flush()
    data = event_data(order, domain, registrant=registrant)
    happenings = [{"reseller_id": order.reseller_id, "type": "order.completed", "data": data,
                   "dedupe_key": f"order.completed:{order.id}"}]
    kind_event = {"register": "domain.registered", "renew": "domain.renewed",
                  "transfer": "domain.transferred_in", "restore": "domain.renewed"}
    if order.kind in kind_event:
        happenings.append({"reseller_id": order.reseller_id, "type": kind_event[order.kind],
                           "data": data,
                           "dedupe_key": f"{kind_event[order.kind]}:order:{order.id}"})
    record_events(*happenings)  # one INSERT for both
    if order.kind == "owner_change":
        before = db.session.get(Contact, order.params.get("previous_registrant"))
        contact_services.record_contact_changed(contact=domain.registrant, domain=domain,
                                                order_id=order.id,
                                                previous=contact_services.person(before))
        owner_change.notify_completed(order, prior=before, new=domain.registrant)


def fail_order(order_id: int, *, reason: str) -> None:
    """Release the hold and mark the order failed (no-op if already finished)."""
    order = lock_row(Order, order_id)
    if order is None or order.state not in ("pending", "held"):
        return
    if order.net > 0:
        wallet.release_hold(reference=order.reference, reason=reason[:200])
    order.state, order.reason, order.completed_at = "failed", reason, clock.now()
    order.lock_key, order.registry_status = None, None
    order.params = {k: v for k, v in order.params.items() if k != "auth_code"}
    db.session.flush()
    record_event(reseller_id=order.reseller_id, type="order.failed",
                 data={**event_data(order, None), "reason": reason},
                 dedupe_key=f"order.failed:{order.id}")


def _capture(order: Order) -> None:
    """Charge a registry success, always: the hold, or (when it ended before the registry
    answered) the money taken again within the funds or the postpaid credit. When even
    that is not there the order still completes (the registry did it) and the operator is
    told the amount (``unpaid_orders``, the console's "needs a human" page)."""
    if order.net <= 0:
        return
    try:
        wallet.capture_hold(reference=order.reference)
    except HoldNotActive:
        try:
            wallet.capture_late(reference=order.reference)
        except (InsufficientFunds, CreditLimitExceeded):
            log.error("order %s (%s) completed at the registry but %s %s could not be "
                      "charged: its hold had ended and the funds are short", order.id,
                      order.domain_name, f"{order.total:.2f}", order.currency)


def holds_still_open(references: list[str]) -> set[str]:
    """Which of these hold references belong to orders the registry has not settled
    (the wallet's expiry keeps those holds; ``reseller.core.holds``)."""
    return set(db.session.scalars(sa.select(Order.reference).where(
        Order.reference.in_(references), Order.state.in_(("pending", "held")))))


def unpaid_orders(limit: int = 100) -> list[Order]:
    """Completed orders with a price and no purchase: the registry did the work, the
    reseller was not charged (funds short when the hold had ended). Operator's list."""
    return list(db.session.scalars(
        sa.select(Order).where(Order.state == "completed", Order.net > 0,
                               ~sa.exists().where(Purchase.reference == Order.reference))
        .order_by(Order.completed_at.desc()).limit(limit)))


def _apply_to_domain(order: Order, info: DomainInfo) -> Domain:
    if order.kind in ("register", "transfer"):
        return _new_domain(order, info)
    domain = db.session.get(Domain, order.domain_id)
    if order.kind in ("renew", "restore"):
        domain.expires_at = info.expires_at
        domain.status, domain.ended_at = "active", None
    elif order.kind == "owner_change":
        domain.registrant_id = order.params["registrant"]
        lock_days = rules_for(domain.tld).transfer_lock_days
        if lock_days and not order.params.get("lock_opt_out"):  # ICANN: the registrant's choice
            domain.transfer_lock_until = clock.now() + timedelta(days=lock_days)
    db.session.flush()
    return domain


def _new_domain(order: Order, info: DomainInfo) -> Domain:
    params = order.params
    contacts = params.get("contacts") or {}
    registrant = contacts.get("registrant") or reseller_contact(order.reseller_id).id
    rules = rules_for(order.tld)
    lock_days = rules.transfer_lock_days
    domain = Domain(
        reseller_id=order.reseller_id, name=order.domain_name, live_name=order.domain_name,
        unicode_name=order.unicode_name, tld=order.tld, status="active",
        # The registry's creation date, a transfer's too (the epoch: it did not say).
        created_at=info.created_at if info.created_at.year > 1970 else clock.now(),
        roid=info.roid, registry_statuses=list(info.statuses), synced_at=clock.now(),
        expires_at=info.expires_at, auto_renew=params.get("auto_renew", True),
        privacy=params.get("privacy", False), locked=info.locked,
        nameservers=list(info.nameservers), ds=list(info.ds), registrant_id=registrant,
        admin_id=contacts.get("admin"), tech_id=contacts.get("tech"),
        transfer_lock_until=clock.now() + timedelta(days=lock_days) if lock_days else None)
    db.session.add(domain)
    db.session.flush()
    return domain


def event_data(order: Order, domain: Domain | None, *,
               registrant: tuple[int, dict] | None = None) -> dict[str, Any]:
    """The order's event data; ``registrant``: (id, event data) of the registrant already
    read (used when it is the one the order names)."""
    registrant_id = domain.registrant_id if domain else \
        (order.params.get("contacts") or {}).get("registrant")
    if registrant is not None and registrant[0] == registrant_id:
        person = registrant[1]
    else:
        person = contact_services.person(
            db.session.get(Contact, registrant_id) if registrant_id else None)
    return {
        "order_id": order.id, "kind": order.kind, "domain": order.domain_name,
        "unicode_name": order.unicode_name, "period": order.period, "state": order.state,
        "price": {"currency": order.currency, "net": f"{order.net:.2f}",
                  "vat": f"{order.vat:.2f}", "total": f"{order.total:.2f}"},
        "registrant_contact_id": registrant_id,
        "registrant": person,
        "expires_at": domain.expires_at.isoformat() if domain else None,
    }



# Orders the registry owes an answer (an owner change waiting for its registrant is not).
_AT_REGISTRY = sa.or_(Order.state == "held",
                      sa.and_(Order.state == "pending", Order.kind != "owner_change"))


def open_orders(*, older_than: timedelta, limit: int = 100) -> list[Order]:
    """Orders still waiting for the registry after ``older_than`` (oldest first)."""
    return list(db.session.scalars(
        sa.select(Order).where(_AT_REGISTRY,
                               Order.created_at <= clock.now() - older_than)
        .order_by(Order.created_at).limit(limit)))


def ask_registry_again(order_id: int) -> None:
    """Queue a recovery of one open order now (the operator's button)."""
    enqueue("reseller.domains.tasks.recover_one", order_id, urgent=True)


def order_gauges() -> list:
    """Prometheus: orders by state, the open ones' age, completed ones not charged."""
    states = db.session.execute(sa.select(Order.state, sa.func.count()).group_by(Order.state))
    return [gauge("tunnus_orders", "Orders by state",
                  [({"state": state}, count) for state, count in states], ["state"]),
            *backlog("tunnus_orders_open", "Orders waiting for the registry's answer",
                     Order.created_at, _AT_REGISTRY),
            gauge("tunnus_orders_unpaid", "Completed orders the reseller could not be "
                  "charged for (needs a human)", [({}, len(unpaid_orders(limit=10000)))])]
