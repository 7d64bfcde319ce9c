"""What the DNS API asks the DNS before a view's transaction begins, with none open: the
server's SOA serial (``server_serial`` in zone answers), a pending zone's proof of control,
the vanity nameserver names' addresses. Each decorator goes between ``require_scope`` and
``transactional``; the authenticated caller's reads are committed first."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from flask import g

from reseller.core.db import end_transaction, unit_of_work
from reseller.core.errors import DomainError
from reseller.core.web.auth import current_reseller_id
from reseller.dns import ownership, services, vanity
from reseller.dns.models import Zone
from reseller.dns.settings import dns_settings
from reseller.dns.verification import DnsLookup


def server_serial(view: Callable[..., Any]) -> Callable[..., Any]:
    """Ask the server for the zone's SOA serial (``server_serial`` in the answer) before
    the view's transaction begins, with none open: the authenticated caller's reads are
    committed first. Put it between ``require_scope`` and ``transactional``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        end_transaction()
        g.dns_served = {}
        with suppress(DomainError):  # a bad name: the view answers it
            name = services.zone_name(kwargs["name"])
            g.dns_served[name] = services.serial_on_server(name)
        return view(*args, **kwargs)

    return wrapper


def proof_of_control(view: Callable[..., Any]) -> Callable[..., Any]:
    """Look for the zone's proof of control (TXT record, delegation) before the view's
    transaction begins, with none open; the view verifies with ``g.dns_answers``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        question = None
        with unit_of_work(), suppress(DomainError):  # a bad name: the view answers it
            question = ownership.question(services.find_own_zone(
                current_reseller_id(), services.zone_name(kwargs["name"])))
        g.dns_answers = ownership.ask(question, DnsLookup(dns_settings()))
        return view(*args, **kwargs)

    return wrapper


def vanity_names(view: Callable[..., Any]) -> Callable[..., Any]:
    """Resolve the vanity nameserver names before the view's transaction begins, with none
    open; the view verifies with ``g.dns_resolved``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with unit_of_work():
            hostnames = vanity.declared_names(current_reseller_id())
        g.dns_resolved = vanity.look_up_names(hostnames, vanity.resolver_for(dns_settings()))
        return view(*args, **kwargs)

    return wrapper


def served(zone: Zone) -> int | None:
    """The serial ``server_serial`` asked for (a view without it asks now)."""
    if not (zone.active and zone.on_server):
        return None
    known = g.get("dns_served") or {}
    return known[zone.name] if zone.name in known else services.served_serial(zone)
