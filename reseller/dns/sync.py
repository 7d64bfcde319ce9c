"""Reading the server back. A change made there with one of the zone's keys becomes the
database's truth (validated like any other change, logged as a ``ZoneChange`` of origin
``server`` that names the key, and announced as ``dns.zone_changed``); a key's change that
breaks the zone rules is reverted and announced as ``dns.change_rejected``; anything else
the server drifted to (no key of the zone could have made it) is repaired.

Knot does not say which key signed an update, so a change is attributed by scope: to the
zone's keys whose scope admits every record of it (the server's ACLs admit no more).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.errors import ValidationFailed, translate_messages
from reseller.core.events import record_event
from reseller.dns import keys, services
from reseller.dns.models import Zone
from reseller.dns.publishers import Publisher
from reseller.dns.records import DEFAULT_TTL, RR, apex_ns, soa_value, validate_records
from reseller.dns.settings import dns_settings

log = logging.getLogger(__name__)


def soa_for(name: str, nameservers: list[str], serial: int) -> RR:
    return RR("@", "SOA", DEFAULT_TTL, soa_value(name, nameservers, serial))


def soa(zone: Zone, serial: int) -> RR:
    return soa_for(zone.name, services.nameservers_for(zone.reseller_id, dns_settings()), serial)


def wanted_rrs(zone: Zone) -> set[RR]:
    """What the server should serve besides the SOA: the records and the apex NS."""
    nameservers = services.nameservers_for(zone.reseller_id, dns_settings())
    return set(services.current_rrs(zone)) | set(apex_ns(nameservers))


@dataclass
class Drift:
    """The difference between the database and the server (``served_serial``: the
    server's SOA serial), and what settling it found."""
    served_serial: int
    extra: set[RR]
    missing: set[RR]
    outcome: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def needs_repair(self) -> bool:
        return bool(self.extra or self.missing)


def compare(served: list[RR], wanted: set[RR]) -> Drift:
    """What the server serves (``served``, SOA included) against ``wanted``; no I/O."""
    served_serial = next(int(rr.value.split()[2]) for rr in served if rr.type == "SOA")
    present = {rr for rr in served if rr.type != "SOA"}
    drift = Drift(served_serial, present - wanted, wanted - present)
    if drift.needs_repair:
        drift.outcome.append("repaired")
    return drift


def assess(zone: Zone, served: list[RR]) -> Drift:
    """The database's part of settling what the server serves: adopt what a zone key did
    (its change is stored and announced now); what is left is for ``repair``."""
    drift = compare(served, wanted_rrs(zone))
    if not drift.needs_repair:
        return drift
    drift.extra, drift.missing, drift.outcome, drift.problems = _adopt(
        zone, drift.extra, drift.missing, drift.served_serial)
    if drift.needs_repair:
        drift.outcome.append("repaired")
    return drift


def repair_serial(zone_serial: int, drift: Drift) -> int:
    return services.next_serial(max(zone_serial, drift.served_serial), clock.now())


def repair(server: Publisher, name: str, drift: Drift, soa_rr: RR) -> int:
    """Put the server back to what the database says (no database work: run it with no
    transaction open); the serial it serves afterwards."""
    log.warning("zone %s drifted: %d extra, %d missing records; repairing",
                name, len(drift.extra), len(drift.missing))
    updated = server.update(name, sorted(drift.extra), sorted(drift.missing), soa_rr)
    return server.serial(name) or updated


def record(zone: Zone, drift: Drift, served_serial: int) -> str:
    """Note the comparison on the zone. Returns ``same``, ``adopted``, ``rejected``,
    ``repaired`` or a combination (``adopted+repaired``)."""
    problems = list(drift.problems)
    if "repaired" in drift.outcome and "rejected" not in drift.outcome:
        problems.append(str(NO_KEY))
    zone.published_serial = served_serial
    zone.serial = max(zone.serial, served_serial)
    zone.last_sync = {"checked_at": clock.now().isoformat(),
                      "outcome": "+".join(drift.outcome) or "same", "problems": problems}
    return zone.last_sync["outcome"]


NO_KEY = _l("Changed on the server without a key of this zone: repaired.")


def _candidates(zone_keys: list, rr: RR) -> list[str]:
    return [key.key_name for key in zone_keys if keys.admits(key.scope, rr)]


def _adopt(zone: Zone, extra: set[RR], missing: set[RR], served_serial: int
           ) -> tuple[set[RR], set[RR], list[str], list[str]]:
    """Take in the part of the difference a zone key may have made; return what is left
    for repair, the outcome and the problems found."""
    zone_keys = keys.zone_keys(zone.id)
    adds = {rr for rr in extra if _candidates(zone_keys, rr)}
    deletes = {rr for rr in missing if _candidates(zone_keys, rr)}
    if not adds and not deletes:
        return extra, missing, [], []
    names = sorted({name for rr in adds | deletes for name in _candidates(zone_keys, rr)})
    after = sorted((set(services.current_rrs(zone)) - deletes) | adds)
    try:
        records = validate_records([rr.as_dict() for rr in after], zone.name)
    except ValidationFailed as refused:
        problems = _problems(refused, after)
        log.warning("zone %s: change by key %s refused: %s", zone.name, names, problems)
        record_event(reseller_id=zone.reseller_id, type="dns.change_rejected", data={
            "zone": zone.name, "serial": served_serial, "keys": names, "problems": problems,
            "deletes": [rr.as_list() for rr in sorted(deletes)],
            "adds": [rr.as_list() for rr in sorted(adds)]})
        return extra, missing, ["rejected"], problems
    services.adopt_change(zone, records, deletes=deletes, adds=adds, serial=served_serial,
                          key_names=names)
    return extra - adds, missing - deletes, ["adopted"], []


def _problems(refused: ValidationFailed, records: list[RR]) -> list[str]:
    """The zone-rule errors as lines naming the record, not an index the reseller never
    saw."""
    lines = []
    for index, fields in translate_messages(refused.errors).get("records", {}).items():
        rr = records[int(index)] if str(index).isdigit() else None
        where = f"{rr.name} {rr.type} {rr.value}" if rr else str(index)
        for messages in (fields.values() if isinstance(fields, dict) else [fields]):
            lines += [f"{where}: {message}" for message in messages]
    return lines or [str(refused.detail or refused.title)]
