"""DNS look-ups behind proof of control: TXT records through the verification resolver
(``DNS_VERIFY_RESOLVER``), and a name's delegation as its parent zone publishes it (asked
of the parent's own nameservers: the child may not be served anywhere yet)."""

from __future__ import annotations

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from reseller.dns.settings import DnsSettings

_GONE = (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers,
         dns.exception.Timeout)


def make_resolver(settings: DnsSettings) -> dns.resolver.Resolver:
    """The configured resolver (``host:port``) or the system's."""
    resolver = dns.resolver.Resolver(configure=settings.verify_resolver is None)
    if settings.verify_resolver:
        host, _, port = settings.verify_resolver.rpartition(":")
        resolver.nameservers = [host or settings.verify_resolver]
        resolver.port = int(port) if host else 53
    resolver.lifetime = 5
    return resolver


class DnsLookup:
    def __init__(self, settings: DnsSettings) -> None:
        self.resolver = make_resolver(settings)
        self.authoritative_port = settings.verify_authoritative_port

    def _answer(self, name: str, rtype: str) -> list:
        try:
            return list(self.resolver.resolve(name, rtype, search=False))
        except _GONE:
            return []

    def txt(self, name: str) -> list[str]:
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self._answer(name, "TXT")]

    def delegation(self, name: str) -> set[str]:
        """The NS names the parent zone delegates ``name`` to (empty if none)."""
        labels = name.split(".")
        for start in range(1, len(labels)):
            parent_ns = [r.target.to_text(omit_final_dot=True).lower()
                         for r in self._answer(".".join(labels[start:]), "NS")]
            if parent_ns:
                return self._ask_parent(name, parent_ns)
        return set()

    def _ask_parent(self, name: str, parent_ns: list[str]) -> set[str]:
        query = dns.message.make_query(name, "NS")
        query.flags &= ~dns.flags.RD
        owner = dns.name.from_text(name)
        for host in sorted(parent_ns):
            for address in [a.to_text() for rtype in ("A", "AAAA")
                            for a in self._answer(host, rtype)]:
                try:
                    reply = dns.query.udp(query, address, port=self.authoritative_port,
                                          timeout=3)
                except (dns.exception.DNSException, OSError):
                    continue
                if reply.rcode() != dns.rcode.NOERROR:
                    continue
                return {r.target.to_text(omit_final_dot=True).lower()
                        for section in (reply.answer, reply.authority) for rrset in section
                        if rrset.name == owner and rrset.rdtype == dns.rdatatype.NS
                        for r in rrset}
        return set()
