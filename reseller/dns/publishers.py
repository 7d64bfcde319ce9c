"""Publisher adapters: where hosted zones are served, chosen by ``DNS_ADAPTER``.

* ``knot``    a real Knot DNS server: zones and zone keys added at runtime with ``knotc
              conf-*``, content changed by TSIG-signed DNS UPDATE (RFC 2136), read back by
              TSIG-signed AXFR for drift repair.
* ``sandbox`` the embedded default: keeps every zone in process memory with the same rules
              (unknown zone refused, SOA serials only move forward); the database remains
              the source of truth and zones are exportable from it.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import dns.xfr
import dns.zone

from reseller.dns.records import RECORD_TYPES, RR

log = logging.getLogger(__name__)


class PublishFailed(RuntimeError):
    """The server refused or could not be reached; the job raises so RQ retries it."""


class Publisher(Protocol):
    def ensure_zone(self, zone: str, zone_text: str) -> bool: ...
    def remove_zone(self, zone: str) -> None: ...
    def update(self, zone: str, deletes: Iterable[RR], adds: Iterable[RR], soa: RR) -> int: ...
    def serial(self, zone: str) -> int | None: ...
    def transfer(self, zone: str) -> list[RR] | None: ...
    def install_key(self, zone: str, key_name: str, secret: str, scope: str) -> None: ...
    def remove_key(self, zone: str, key_name: str) -> None: ...


def host_port(value: str, default_port: int = 53) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``; a bare host gets ``default_port``) as a pair."""
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    return host.strip("[]"), int(port)


class KnotPublisher:
    """Knot DNS over DNS UPDATE/AXFR (TSIG) and its control socket (``knotc``)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.host, self.port = host_port(config["DNS_SERVER"])
        self.key_name = config["DNS_TSIG_NAME"]
        self.keyring = dns.tsigkeyring.from_text({self.key_name: config["DNS_TSIG_SECRET"]})
        self.algorithm = dns.tsig.HMAC_SHA256
        self.zone_dir = Path(config["KNOT_ZONE_DIR"]) if config.get("KNOT_ZONE_DIR") else None
        self.acl = config.get("KNOT_ACL") or "tunnus"
        if config.get("KNOT_SOCKET"):
            self.knotc = ["knotc", "-s", config["KNOT_SOCKET"]]
        elif config.get("KNOT_CONF"):
            self.knotc = ["knotc", "-c", config["KNOT_CONF"]]
        else:
            self.knotc = ["knotc"]
        self.timeout = float(config.get("DNS_TIMEOUT", 5))
        self.gate = config.get("DNS_GATE_SERVER") or None
        self._conf_lock = threading.Lock()
        self._version: tuple[int, ...] | None = None

    # -- control socket ------------------------------------------------------------------
    def _knotc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([*self.knotc, *args], capture_output=True, text=True,
                              timeout=30)
        if check and done.returncode != 0:
            raise PublishFailed(f"knotc {' '.join(args)}: {done.stderr.strip() or done.stdout}")
        return done

    def _conf(self, *commands: tuple[str, ...]) -> None:
        """One configuration transaction; aborted if any step fails."""
        with self._conf_lock:
            self._knotc("conf-begin")
            try:
                for command in commands:
                    self._knotc(*command)
            except PublishFailed:
                self._knotc("conf-abort", check=False)
                raise
            self._knotc("conf-commit")

    def _configured(self, section: str) -> bool:
        return self._knotc("conf-read", section, check=False).returncode == 0

    def ensure_zone(self, zone: str, zone_text: str) -> bool:
        """Add the zone with its first contents; False if the server already had it."""
        if self._configured(f"zone[{zone}]"):
            return False
        if self.zone_dir is None:
            raise PublishFailed("KNOT_ZONE_DIR is not set: cannot seed new zones")
        (self.zone_dir / f"{zone}.zone").write_text(zone_text)
        self._conf(("conf-set", f"zone[{zone}]"), ("conf-set", f"zone[{zone}].acl", self.acl))
        self._wait_until_served(zone)
        return True

    def _wait_until_served(self, zone: str, seconds: float = 10.0) -> None:
        """knotd loads a new zone in the background; updates must wait for it."""
        deadline = time.monotonic() + seconds
        while self.serial(zone) is None:
            if time.monotonic() > deadline:
                raise PublishFailed(f"{zone} was added but the server does not serve it")
            time.sleep(0.05)

    def remove_zone(self, zone: str) -> None:
        if not self._configured(f"zone[{zone}]"):
            return
        self._knotc("-f", "zone-purge", zone, check=False)
        self._conf(("conf-unset", f"zone[{zone}]"))
        if self.zone_dir is not None:
            (self.zone_dir / f"{zone}.zone").unlink(missing_ok=True)

    def version(self) -> tuple[int, ...]:
        """knotd's version (``knotc status version``), e.g. (3, 2, 6)."""
        if self._version is None:
            text = self._knotc("status", "version").stdout
            digits = text.rsplit(":", 1)[-1].strip().split("-")[0]
            self._version = tuple(int(part) for part in digits.split(".") if part.isdigit())
        return self._version

    def acl_rules(self, zone: str, key_name: str, scope: str) -> list[dict[str, list[str]]]:
        """The ACL rules (id and options) that give ``key_name`` exactly its scope.

        Knot admits an update when one rule matches *every* record in it (``update-type``,
        ``update-owner``), so each rule below is a whole allowed set:
        * ``read``: AXFR/IXFR only.
        * ``records``: AXFR, and updates of every record type Tunnus hosts except the SOA
          and NS (ANY: RFC 2136 deletes of a whole name, which never touch the apex SOA
          and NS); a second rule allows NS (delegations) strictly below the apex.
        * ``acme``: TXT at ``_acme-challenge`` names. Knot 3.3+ matches owner patterns
          (``*`` = one label), so every depth up to the longest name the zone can hold is
          listed. Knot 3.2 has no patterns: with the DNS update gate configured
          (``DNS_GATE_SERVER``) an ACME key is not installed in Knot at all
          (``routed_through_gate``) and ``reseller.dns.gate`` admits exactly its names;
          without one the rule below allows TXT anywhere in the zone, and
          ``reseller.dns.sync`` reverts a TXT an ACME key wrote outside its names.
        """
        if scope == "read":
            return [{"id": [key_name], "action": ["transfer"]}]
        if scope == "records":
            types = [t for t in RECORD_TYPES if t != "NS"] + ["ANY"]
            return [{"id": [key_name], "action": ["update", "transfer"], "update-type": types},
                    {"id": [f"{key_name}-delegations"], "action": ["update"],
                     "update-type": [*RECORD_TYPES, "ANY"], "update-owner": ["zone"],
                     "update-owner-match": ["sub"]}]
        if self.version() >= (3, 3):
            room = 253 - len(zone) - len("_acme-challenge.") - 1
            patterns = ["_acme-challenge"] + [
                "_acme-challenge" + ".*" * depth for depth in range(1, room // 2 + 1)]
            return [{"id": [key_name], "action": ["update"], "update-type": ["TXT"],
                     "update-owner": ["name"], "update-owner-match": ["pattern"],
                     "update-owner-name": patterns}]
        return [{"id": [key_name], "action": ["update"], "update-type": ["TXT"],
                 "update-owner": ["zone"], "update-owner-match": ["sub-or-equal"]}]

    def routed_through_gate(self, scope: str) -> bool:
        """ACME keys are the gate's alone where Knot cannot hold them to their names."""
        return scope == "acme" and bool(self.gate) and self.version() < (3, 3)

    def install_key(self, zone: str, key_name: str, secret: str, scope: str) -> None:
        """Install the key and the ACL rules of its scope for ``zone`` (idempotent: the
        rules are written again, so a key installed by an older release gets today's). A
        key the gate serves is taken off Knot instead, so it can write nothing there."""
        if self.routed_through_gate(scope):
            self.remove_key(zone, key_name)
            return
        if scope == "acme" and self.version() < (3, 3):
            log.warning("Knot %s cannot limit ACME key %s to _acme-challenge names: "
                        "configure the DNS update gate (DNS_GATE_SERVER, flask dns gate)",
                        ".".join(map(str, self.version())), key_name)
        rules = self.acl_rules(zone, key_name, scope)
        steps: list[tuple[str, ...]] = []
        if not self._configured(f"key[{key_name}]"):
            steps += [("conf-set", f"key[{key_name}]"),
                      ("conf-set", f"key[{key_name}].algorithm", "hmac-sha256"),
                      ("conf-set", f"key[{key_name}].secret", secret)]
        for rule in rules:
            acl = rule["id"][0]
            if self._configured(f"acl[{acl}]"):
                steps += [("conf-unset", f"zone[{zone}].acl", acl), ("conf-unset", f"acl[{acl}]")]
            steps += [("conf-set", f"acl[{acl}]"), ("conf-set", f"acl[{acl}].key", key_name)]
            steps += [("conf-set", f"acl[{acl}].{option}", *values)
                      for option, values in rule.items() if option != "id"]
            steps.append(("conf-set", f"zone[{zone}].acl", acl))
        self._conf(*steps)

    def remove_key(self, zone: str, key_name: str) -> None:
        steps: list[tuple[str, ...]] = []
        zone_known = self._configured(f"zone[{zone}]")
        for acl in (key_name, f"{key_name}-delegations"):
            if self._configured(f"acl[{acl}]"):
                if zone_known:
                    steps.append(("conf-unset", f"zone[{zone}].acl", acl))
                steps.append(("conf-unset", f"acl[{acl}]"))
        if self._configured(f"key[{key_name}]"):
            steps.append(("conf-unset", f"key[{key_name}]"))
        if steps:
            self._conf(*steps)

    # -- DNS protocol --------------------------------------------------------------------
    def update(self, zone: str, deletes: Iterable[RR], adds: Iterable[RR], soa: RR) -> int:
        message = dns.update.UpdateMessage(zone, keyring=self.keyring, keyname=self.key_name,
                                           keyalgorithm=self.algorithm)
        deletes = list(deletes)
        # Deletes first (a CNAME may replace an A in one change), except the apex NS: a
        # server ignores deleting the zone's last NS (RFC 2136 3.4.2.4), so those go last.
        apex_ns = [rr for rr in deletes if rr.name == "@" and rr.type == "NS"]
        for rr in deletes:
            if rr not in apex_ns:
                message.delete(rr.name, rr.type, rr.value)
        for rr in adds:
            message.add(rr.name, rr.ttl, rr.type, rr.value)
        for rr in apex_ns:
            message.delete(rr.name, rr.type, rr.value)
        message.replace("@", soa.ttl, "SOA", soa.value)
        self._send(message)
        return self.serial(zone) or 0

    def _send(self, message: dns.message.Message) -> dns.message.Message:
        try:
            response = dns.query.tcp(message, self.host, port=self.port, timeout=self.timeout)
        except (OSError, dns.exception.DNSException) as error:
            raise PublishFailed(f"DNS UPDATE to {self.host}:{self.port} failed: {error}") from error
        if response.rcode() != dns.rcode.NOERROR:
            raise PublishFailed(f"DNS UPDATE refused: {dns.rcode.to_text(response.rcode())}")
        return response

    def serial(self, zone: str) -> int | None:
        query = dns.message.make_query(zone, "SOA")
        try:
            response = dns.query.tcp(query, self.host, port=self.port, timeout=self.timeout)
        except (OSError, dns.exception.DNSException) as error:
            raise PublishFailed(f"SOA query failed: {error}") from error
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return int(rrset[0].serial)
        return None

    def transfer(self, zone: str) -> list[RR] | None:
        """Everything the server serves for ``zone`` (SOA included), or None if unknown."""
        try:
            xfr = dns.query.xfr(self.host, zone, port=self.port, keyring=self.keyring,
                                keyname=self.key_name, keyalgorithm=self.algorithm,
                                lifetime=self.timeout)
            served = dns.zone.from_xfr(xfr, relativize=True)
        except dns.xfr.TransferError as error:
            if error.rcode in (dns.rcode.NOTAUTH, dns.rcode.REFUSED, dns.rcode.SERVFAIL):
                return None
            raise PublishFailed(f"AXFR of {zone} failed: {error}") from error
        except (OSError, dns.exception.DNSException) as error:
            raise PublishFailed(f"AXFR of {zone} failed: {error}") from error
        return rrs_of(served, zone)


def rrs_of(zone_obj: dns.zone.Zone, zone: str) -> list[RR]:
    zone_origin = dns.name.from_text(zone)
    return sorted(
        RR(name.to_text(), dns.rdatatype.to_text(rdata.rdtype), ttl,
           rdata.to_text(origin=zone_origin, relativize=False))
        for name, ttl, rdata in zone_obj.iterate_rdatas()
    )


class SandboxPublisher:
    """The embedded default: zones live in memory under the same rules as a server."""

    def __init__(self) -> None:
        self.zones: dict[str, set[RR]] = {}
        self.keys: dict[str, str] = {}
        self._lock = threading.Lock()

    def ensure_zone(self, zone: str, zone_text: str) -> bool:
        with self._lock:
            if zone in self.zones:
                return False
            parsed = dns.zone.from_text(zone_text, origin=zone, relativize=True)
            self.zones[zone] = set(rrs_of(parsed, zone))
            return True

    def remove_zone(self, zone: str) -> None:
        with self._lock:
            self.zones.pop(zone, None)

    def update(self, zone: str, deletes: Iterable[RR], adds: Iterable[RR], soa: RR) -> int:
        with self._lock:
            if zone not in self.zones:
                raise PublishFailed(f"DNS UPDATE refused: NOTAUTH ({zone} is not served)")
            served = self.zones[zone]
            for rr in deletes:
                served -= {s for s in served if s[:2] == rr[:2] and s.value == rr.value}
            for rr in adds:
                served -= {s for s in served if s[:2] == rr[:2] and s.value == rr.value}
                served.add(rr)
            current = next(s for s in served if s.type == "SOA")
            old = int(current.value.split()[2])
            new = int(soa.value.split()[2])
            if new <= old:  # RFC 2136 3.4.2.2: a lower serial is ignored; we step instead
                parts = soa.value.split()
                parts[2] = str(old + 1)
                soa = soa._replace(value=" ".join(parts))
            served.discard(current)
            served.add(soa)
            return int(soa.value.split()[2])

    def serial(self, zone: str) -> int | None:
        with self._lock:
            served = self.zones.get(zone)
            if served is None:
                return None
            return int(next(s for s in served if s.type == "SOA").value.split()[2])

    def transfer(self, zone: str) -> list[RR] | None:
        with self._lock:
            served = self.zones.get(zone)
            return None if served is None else sorted(served)

    def install_key(self, zone: str, key_name: str, secret: str, scope: str) -> None:
        self.keys[key_name] = zone

    def remove_key(self, zone: str, key_name: str) -> None:
        self.keys.pop(key_name, None)


def publisher_from_config(config: dict[str, Any]) -> Publisher:
    adapter = config.get("DNS_ADAPTER", "sandbox")
    if adapter == "sandbox":
        return SandboxPublisher()
    if adapter == "knot":
        missing = [key for key in ("DNS_SERVER", "DNS_TSIG_NAME", "DNS_TSIG_SECRET")
                   if not config.get(key)]
        if missing:
            raise RuntimeError(f"DNS_ADAPTER=knot needs {', '.join(missing)}")
        return KnotPublisher(config)
    raise RuntimeError(f"unknown DNS_ADAPTER {adapter!r} (use 'sandbox' or 'knot')")
