"""WHMCS's DNS management (``GetDNS``/``SaveDNS``) on Tunnus DNS hosting.

Records are read the way WHMCS users mean them: the host name is relative to the domain
(``www``, ``@``; the full name is accepted too), and a target without a trailing dot is a
full host name (``aspmx.l.google.com`` is Google's, not ``aspmx.l.google.com.<domain>``).
``URL`` and ``FRAME`` records are URL forwards (Tunnus answers with a redirect; it does
not frame sites), ``MXE`` (mail relayed by the registrar) is refused per record.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from reseller.core.errors import ValidationFailed
from reseller.dns import services as dns
from reseller.dns.errors import ZoneNotFound
from reseller.domains import services as domains
from reseller.whmcs.base import domain_name, function

PRIORITY_TYPES = ("MX", "SRV")
TARGET_TYPES = ("MX", "SRV", "CNAME", "NS")  # the last word of the value is a host name
FORWARD_TYPES = ("URL", "FRAME")
ADDRESS_TYPES = ("A", "AAAA", "CNAME")  # what a forwarded host may not have besides


@function("GetDNS", "dns:read")
def get_dns(reseller_id: int, params: dict[str, Any], key: str | None,
            **ctx: Any) -> dict[str, Any]:
    """Host records as WHMCS lists them (``hostname``, ``type``, ``address``,
    ``priority``); a URL forward is a ``URL`` record, its addresses are ours to manage."""
    try:
        zone = dns.get_zone(reseller_id=reseller_id, name=domain_name(params))
    except ZoneNotFound:
        return {"records": []}
    forwards = dns.list_forwards(reseller_id=reseller_id, zone_name=zone.name)
    forwarded = {forward.host for forward in forwards}
    records = []
    for rr in dns.current_rrs(zone):
        if (rr.type in ("SOA", "NS") and rr.name == "@") or \
                (rr.name in forwarded and rr.type in ("A", "AAAA")):
            continue
        priority, address = "", rr.value
        if rr.type in PRIORITY_TYPES:
            priority, _, address = rr.value.partition(" ")
        records.append({"hostname": rr.name, "type": rr.type, "address": address,
                        "priority": priority})
    records += [{"hostname": forward.host, "type": "URL", "address": forward.target,
                 "priority": ""} for forward in forwards]
    return {"records": records}


def _host(raw: Any, zone: str) -> str:
    """A WHMCS host name relative to the zone (``@`` for the domain itself)."""
    host = str(raw or "").strip().lower().rstrip(".")
    if host in ("", "@", zone):
        return "@"
    return host.removesuffix("." + zone)


def _absolute(value: str, zone: str) -> str:
    """The value with its target host fully qualified (``@`` is the domain itself)."""
    *head, target = value.split() or [""]
    if target == "@":
        target = zone + "."
    elif target and not target.endswith("."):
        target += "."
    return " ".join([*head, target])


def _forward_target(address: str) -> str:
    return address if "://" in address else f"http://{address}"


def _read(given: list[Any], zone: str) -> tuple[list[dict[str, Any]], list[int],
                                                 dict[str, str]]:
    """Records (with the WHMCS row each came from) and forwards; refusals per row."""
    records, rows, forwards, errors = [], [], {}, {}
    for index, row in enumerate(given):
        if not isinstance(row, dict) or not str(row.get("address") or "").strip():
            continue  # WHMCS sends its empty "new record" row too
        rtype = str(row.get("type") or "").strip().upper()
        host, address = _host(row.get("hostname"), zone), str(row["address"]).strip()
        if rtype in FORWARD_TYPES:
            forwards[host] = _forward_target(address)
        elif rtype == "MXE":
            errors[str(index)] = {"type": [_l(
                "MXE (mail forwarded by the registrar) is not offered: point an MX record "
                "at your mail server instead.")]}
        else:
            value = _absolute(address, zone) if rtype in TARGET_TYPES else address
            if rtype in PRIORITY_TYPES:
                value = f"{str(row.get('priority') or '10').strip()} {value}"
            records.append({"name": host, "type": rtype, "value": value})
            rows.append(index)
    for record, index in zip(records, rows, strict=True):
        if record["name"] in forwards and record["type"] in ADDRESS_TYPES:
            errors[str(index)] = {"hostname": [_l(
                "%(host)s is forwarded by a URL record; it cannot have %(type)s records too.",
                host=record["name"], type=record["type"])]}
    if errors:
        raise ValidationFailed({"dnsrecords": errors})
    return records, rows, forwards


@function("SaveDNS", "dns:write")
def save_dns(reseller_id: int, params: dict[str, Any], key: str | None,
             **ctx: Any) -> dict[str, Any]:
    """The zone's records and URL forwards become WHMCS's list (empty rows dropped)."""
    given = params.get("dnsrecords") or []
    if isinstance(given, dict):
        given = list(given.values())
    if not isinstance(given, list):
        raise ValidationFailed({"dnsrecords": [_l("Give the records as a list.")]})
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    records, rows, forwards = _read(given, domain.name)
    settings = ctx["dns_settings"]
    try:
        dns.replace_records(reseller_id=reseller_id, name=domain.name, records=records,
                            settings=settings)
    except ValidationFailed as refused:  # point at WHMCS's rows, not our list
        found = refused.errors.get("records")
        if not isinstance(found, dict):
            raise
        raise ValidationFailed({"dnsrecords": {
            str(rows[int(i)]) if str(i).isdigit() else str(i): problem
            for i, problem in found.items()}}) from None
    dns.replace_forwards(reseller_id=reseller_id, zone_name=domain.name, forwards=forwards,
                         settings=settings)
    return {"success": True}
