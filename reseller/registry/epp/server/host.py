"""Host commands (RFC 5732) over the sandbox registry's host objects: a name and its
addresses, sponsored by the registrar that created it."""

from __future__ import annotations

import ipaddress

from lxml import etree

from reseller.core.clock import clock
from reseller.registry.epp.server.context import (
    CommandError,
    Context,
    existing,
    required,
    texts,
)
from reseller.registry.epp.server.domain import roid
from reseller.registry.epp.server.frames import HOST, Reply, availability, timestamp
from reseller.registry.epp.wire import NS
from reseller.registry.sandbox_models import SandboxHost


def _name(element: etree._Element) -> str:
    return required(element, "host:name").lower().rstrip(".")


def _addresses(parent: etree._Element | None) -> list[str]:
    found = []
    for addr in parent.findall("host:addr", NS) if parent is not None else []:
        try:
            address = ipaddress.ip_address((addr.text or "").strip())
        except ValueError:
            raise CommandError(2005, f"Parameter value syntax error: {addr.text}") from None
        if (addr.get("ip", "v4") == "v6") != (address.version == 6):
            raise CommandError(2005, f"Parameter value syntax error: {addr.text} is not "
                                     f"{addr.get('ip', 'v4')}")
        found.append(str(address))
    return found


def _found(context: Context, name: str, *, ours: bool = False) -> SandboxHost:
    return existing(context.registry.host_info(name), context.client_id, ours=ours)


def check(context: Context, element: etree._Element) -> Reply:
    context.operation = "host_info"
    names = [n.lower().rstrip(".") for n in texts(element, "host:name")]
    return Reply(res_data=availability(
        HOST, "name", names, lambda name: context.registry.host_info(name) is not None))


def info(context: Context, element: etree._Element) -> Reply:
    context.operation = "host_info"
    name = _name(element)
    row = _found(context, name)
    addresses = [HOST.addr(a, ip="v6" if ":" in a else "v4") for a in row.addresses or ()]
    created = timestamp(row.created_at or clock.now())
    return Reply(res_data=HOST.infData(
        HOST.name(name), HOST.roid(roid("H", name)), HOST.status(s="ok"), *addresses,
        HOST.clID(row.sponsor), HOST.crID(row.sponsor), HOST.crDate(created)))


def create(context: Context, element: etree._Element) -> Reply:
    context.operation = "host_set"
    name = _name(element)
    if context.registry.host_info(name) is not None:
        raise CommandError(2302, "Object exists")
    context.registry.host_set(name=name, addresses=_addresses(element))
    return Reply(res_data=HOST.creData(HOST.name(name), HOST.crDate(timestamp(clock.now()))))


def update(context: Context, element: etree._Element) -> Reply:
    context.operation = "host_set"
    name = _name(element)
    row = _found(context, name, ours=True)
    add, rem = element.find("host:add", NS), element.find("host:rem", NS)
    if element.find("host:chg", NS) is not None:
        raise CommandError(2102, "Unimplemented option: renaming a host")
    if any(p is not None and p.find("host:status", NS) is not None for p in (add, rem)):
        raise CommandError(2306, "Parameter value policy error: host statuses are not set here")
    removed = set(_addresses(rem))
    kept = [a for a in row.addresses or () if a not in removed]
    context.registry.host_set(name=name, addresses=kept + [
        a for a in _addresses(add) if a not in kept])
    return Reply()


def delete(context: Context, element: etree._Element) -> Reply:
    context.operation = "host_delete"
    name = _name(element)
    _found(context, name, ours=True)
    if context.registry.host_in_use(name):
        raise CommandError(2305, "Object association prohibits operation: a domain uses it")
    context.registry.host_delete(name=name)
    return Reply()


HANDLERS = {"check": check, "info": info, "create": create, "update": update,
            "delete": delete}
