"""Record validation with dnspython, zone-level rules, and zone-file rendering/parsing.

Pure functions over plain values (no database): ``validate_records`` turns user input into
canonical ``RR`` tuples or raises ``ValidationFailed`` with errors keyed by record index.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone
import idna
from flask_babel import lazy_gettext as _l

from reseller.core.errors import ValidationFailed

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "SRV", "CAA", "NS")
MIN_TTL = 60
MAX_TTL = 604800
DEFAULT_TTL = 3600
MAX_RECORDS = 1000
CAA_TAGS = ("issue", "issuewild", "iodef", "issuemail", "issuevmc")
SOA_TIMERS = "3600 900 1209600 300"
_IPV4ISH = re.compile(r"^\d+(\.\d+){3}\.?$")


class RR(NamedTuple):
    """A canonical record: relative owner (``@`` = apex), type, TTL, presentation value."""

    name: str
    type: str
    ttl: int
    value: str

    def as_list(self) -> list:
        return [self.name, self.type, self.ttl, self.value]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "ttl": self.ttl, "value": self.value}


def normalize_zone_name(name: str) -> str:
    """IDNA A-label, lower case, without the final dot; ValueError if not a domain name."""
    text = (name or "").strip().rstrip(".").lower()
    if not text or len(text) > 253 or "." not in text:
        raise ValueError("not a domain name")
    try:
        text = idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(str(error)) from error
    dns.name.from_text(text)
    return text


def origin(zone: str) -> dns.name.Name:
    return dns.name.from_text(zone)


def owner_name(raw: Any, zone_origin: dns.name.Name) -> str:
    """The relative owner name, or ValueError with a message for the user."""
    text = str(raw if raw is not None else "").strip().lower()
    if text in ("", "@"):
        return "@"
    try:
        if text.endswith("."):
            absolute = dns.name.from_text(text)
        else:
            absolute = dns.name.from_text(idna.encode(text, uts46=True, std3_rules=False)
                                          .decode("ascii") if not text.isascii() else text,
                                          origin=zone_origin)
    except (dns.exception.DNSException, idna.IDNAError, UnicodeError) as error:
        raise ValueError(str(_l("Not a valid host name."))) from error
    if not absolute.is_subdomain(zone_origin):
        raise ValueError(str(_l("The name must be inside the zone %(zone)s.",
                                zone=zone_origin.to_text(omit_final_dot=True))))
    labels = absolute.relativize(zone_origin).to_text()
    for label in absolute.relativize(zone_origin).labels:
        if label != b"*" and not re.fullmatch(rb"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?", label):
            raise ValueError(str(_l("Labels may use a-z, 0-9, - and _ (and * alone).")))
    return labels


def _quote_txt(value: str) -> str:
    """Plain text becomes one or more quoted strings (255 bytes each)."""
    if value.startswith('"'):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    chunks = [escaped[i:i + 250] for i in range(0, len(escaped), 250)] or [""]
    return " ".join(f'"{chunk}"' for chunk in chunks)


# What each type's value looks like, said to the person who typed a wrong one (dnspython's
# own reasons, "Text input is malformed.", say nothing to them and only in English).
VALUE_HINTS = {
    "A": _l("An A record points to an IPv4 address, such as 192.0.2.10."),
    "AAAA": _l("An AAAA record points to an IPv6 address, such as 2001:db8::10."),
    "CNAME": _l("A CNAME record points to a host name, such as www.example.fi."),
    "MX": _l("An MX record is a priority and a mail server, such as 10 mail.example.fi."),
    "TXT": _l("A TXT record is text of at most 255 characters per quoted part."),
    "SRV": _l("An SRV record is priority, weight, port and host, such as "
              "10 5 5060 sip.example.fi."),
    "CAA": _l('A CAA record is flags, tag and value, such as 0 issue "letsencrypt.org".'),
    "NS": _l("An NS record names a nameserver, such as ns1.example.fi."),
}


def _rdata(rtype: str, value: str, zone_origin: dns.name.Name) -> dns.rdata.Rdata:
    text = _quote_txt(value) if rtype == "TXT" else value
    try:
        return dns.rdata.from_text(dns.rdataclass.IN, rtype, text, origin=zone_origin)
    except (dns.exception.DNSException, ValueError, UnicodeError) as error:
        raise ValueError(str(VALUE_HINTS[rtype])) from error


def _target_problem(target: dns.name.Name) -> str | None:
    text = target.to_text()
    if target == dns.name.root:
        return None
    if _IPV4ISH.match(text):
        return str(_l("The target must be a host name, not an IP address."))
    return None


def _check_rdata(rtype: str, rdata: Any) -> str | None:
    if rtype == "MX":
        return _target_problem(rdata.exchange)
    if rtype == "SRV":
        return _target_problem(rdata.target)
    if rtype in ("CNAME", "NS"):
        return _target_problem(rdata.target)
    if rtype == "CAA":
        tag = rdata.tag.decode("ascii", "replace").lower()
        if tag not in CAA_TAGS:
            return str(_l("Unknown CAA tag %(tag)s; use one of: %(tags)s.", tag=tag,
                          tags=", ".join(CAA_TAGS)))
        if rdata.flags not in (0, 128):
            return str(_l("CAA flags must be 0 or 128."))
        if tag == "iodef" and not rdata.value.decode("ascii", "replace").startswith(
                ("mailto:", "https:", "http:")):
            return str(_l("An iodef value must be a mailto: or https: URL."))
    return None


def validate_record(raw: Any, zone: str) -> RR:
    """One record from user input; raises ``ValueError`` mapping field -> message."""
    if not isinstance(raw, dict):
        raise _FieldErrors({"_schema": [str(_l("Each record must be an object."))]})
    errors: dict[str, list[str]] = {}
    unknown = set(raw) - {"name", "type", "ttl", "value"}
    for field in sorted(unknown):
        errors[field] = [str(_l("Unknown field."))]
    zone_origin = origin(zone)
    rtype = str(raw.get("type") or "").strip().upper()
    if rtype not in RECORD_TYPES:
        errors["type"] = [str(_l("Use one of: %(types)s.", types=", ".join(RECORD_TYPES)))]
    ttl = raw.get("ttl", DEFAULT_TTL)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL:
        errors["ttl"] = [str(_l("TTL must be a whole number from %(low)d to %(high)d seconds.",
                                low=MIN_TTL, high=MAX_TTL))]
    name = "@"
    try:
        name = owner_name(raw.get("name"), zone_origin)
    except ValueError as error:
        errors["name"] = [str(error)]
    value = raw.get("value")
    if not isinstance(value, str) or not value.strip():
        errors["value"] = [str(_l("A value is required."))]
    elif "type" not in errors:
        try:
            rdata = _rdata(rtype, value.strip(), zone_origin)
            problem = _check_rdata(rtype, rdata)
            if problem:
                errors["value"] = [problem]
            value = rdata.to_text(origin=zone_origin, relativize=False)
        except ValueError as error:
            errors["value"] = [str(error)]
    if errors:
        raise _FieldErrors(errors)
    return RR(name, rtype, ttl, value)


class _FieldErrors(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid record")
        self.errors = errors


def validate_records(raw_records: Any, zone: str, *, field: str = "records") -> list[RR]:
    """Validate a whole record set: each record, then the rules between records."""
    if not isinstance(raw_records, list):
        raise ValidationFailed({field: [str(_l("Send a list of records."))]})
    if len(raw_records) > MAX_RECORDS:
        raise ValidationFailed({field: [str(_l("At most %(n)d records per zone.",
                                                n=MAX_RECORDS))]})
    errors: dict[str, Any] = {}
    records: list[RR] = []
    for index, raw in enumerate(raw_records):
        try:
            records.append(validate_record(raw, zone))
        except _FieldErrors as error:
            errors[str(index)] = error.errors
            records.append(None)  # type: ignore[arg-type]  keeps indexes aligned
    if not errors:
        errors = zone_rule_errors(records, zone)
    if errors:
        failure = ValidationFailed({field: errors})
        # The records the indexes point at, for a page that names the record in words
        # instead of "records.1.ttl" (not part of the API's problem body).
        failure.records = {field: list(raw_records)}
        raise failure
    return sorted(set(records))


def zone_rule_errors(records: list[RR], zone: str) -> dict[str, Any]:
    """Rules between records: CNAME exclusivity, apex rules, delegations, one TTL per RRset."""
    errors: dict[str, dict[str, list[str]]] = {}
    by_name: dict[str, set[str]] = defaultdict(set)
    ttls: dict[tuple[str, str], set[int]] = defaultdict(set)
    for rr in records:
        by_name[rr.name].add(rr.type)
        ttls[(rr.name, rr.type)].add(rr.ttl)
    delegated = {rr.name for rr in records if rr.type == "NS"}

    def add(index: int, key: str, message: Any) -> None:
        errors.setdefault(str(index), {}).setdefault(key, []).append(str(message))

    for index, rr in enumerate(records):
        types = by_name[rr.name]
        if rr.type == "CNAME" and rr.name == "@":
            add(index, "name", _l("A CNAME cannot be at the zone apex; use A/AAAA records."))
        elif rr.type == "CNAME" and len(types) > 1:
            add(index, "name", _l("A CNAME cannot share its name with other records (%(types)s).",
                                  types=", ".join(sorted(types - {"CNAME"}))))
        if rr.type == "NS" and rr.name == "@":
            add(index, "name", _l("The zone's own NS records are managed for you; NS records "
                                  "here delegate a subdomain."))
        if rr.type != "NS" and rr.name != "@" and _below_delegation(rr.name, delegated):
            add(index, "name", _l("%(name)s is delegated to other nameservers by an NS record.",
                                  name=rr.name))
        if len(ttls[(rr.name, rr.type)]) > 1:
            add(index, "ttl", _l("Records with the same name and type must share one TTL."))
        if rr.type in ("CNAME",) and sum(
                1 for other in records if other.name == rr.name and other.type == "CNAME"
                and other.value != rr.value):
            add(index, "value", _l("A name can have only one CNAME."))
        target_problem = _points_at_alias(rr, records, zone)
        if target_problem:
            add(index, "value", target_problem)
    return errors


def _below_delegation(name: str, delegated: set[str]) -> bool:
    return any(name == cut or name.endswith("." + cut) for cut in delegated)


def _points_at_alias(rr: RR, records: list[RR], zone: str) -> Any:
    """MX and SRV targets must not be CNAMEs (RFC 2181 §10.3)."""
    if rr.type not in ("MX", "SRV"):
        return None
    target = rr.value.split()[-1]
    suffix = "." + zone + "."
    if target == zone + ".":
        relative = "@"
    elif target.endswith(suffix):
        relative = target[: -len(suffix)]
    else:
        return None
    if any(other.name == relative and other.type == "CNAME" for other in records):
        return _l("The %(type)s target %(target)s is a CNAME; point at the real host.",
                  type=rr.type, target=target)
    return None


def soa_value(zone: str, nameservers: list[str], serial: int) -> str:
    primary = nameservers[0].rstrip(".") + "."
    return f"{primary} hostmaster.{zone}. {serial} {SOA_TIMERS}"


def apex_ns(nameservers: Iterable[str], ttl: int = DEFAULT_TTL) -> list[RR]:
    return [RR("@", "NS", ttl, host.rstrip(".").lower() + ".") for host in nameservers]


def render_zone(zone: str, serial: int, nameservers: list[str], records: Iterable[RR]) -> str:
    """A zone file that ``kzonecheck`` and ``named-checkzone`` accept."""
    lines = [f"$ORIGIN {zone}.", f"$TTL {DEFAULT_TTL}",
             f"@\t{DEFAULT_TTL}\tIN\tSOA\t{soa_value(zone, nameservers, serial)}"]
    for rr in [*apex_ns(nameservers), *sorted(records)]:
        lines.append(f"{rr.name}\t{rr.ttl}\tIN\t{rr.type}\t{rr.value}")
    return "\n".join(lines) + "\n"


def parse_zone_file(text: str, zone: str) -> list[dict[str, Any]]:
    """Records of a zone file as raw input dicts (SOA and apex NS dropped: Tunnus manages
    them). Raises ValidationFailed for a file dnspython cannot read."""
    try:
        parsed = dns.zone.from_text(text, origin=zone, relativize=True, check_origin=False)
    except (dns.exception.DNSException, ValueError, UnicodeError) as error:
        raise ValidationFailed({"zonefile": [str(_l("The zone file cannot be read: %(reason)s",
                                                    reason=str(error)))]}) from error
    zone_origin = origin(zone)
    raw: list[dict[str, Any]] = []
    for name, ttl, rdata in parsed.iterate_rdatas():
        rtype = dns.rdatatype.to_text(rdata.rdtype)
        owner = name.to_text()
        if rtype == "SOA" or (rtype == "NS" and owner == "@"):
            continue
        raw.append({"name": owner, "type": rtype, "ttl": ttl,
                    "value": rdata.to_text(origin=zone_origin, relativize=False)})
    return raw


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
