"""DNS settings read once from config, handed to services by views and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from reseller.dns.publishers import Publisher, publisher_from_config


@dataclass(frozen=True)
class DnsSettings:
    nameservers: tuple[str, ...]
    nameserver_addresses: tuple[str, ...]
    forwarding_ipv4: str
    forwarding_ipv6: str | None
    operator_domain: str
    operator_brand: str
    public_server: str
    verify_resolver: str | None
    verify_authoritative_port: int = 53
    gate_server: str | None = None

    def server_for(self, scope: str) -> str:
        """host:port a zone key of ``scope`` is used at: ACME keys go through the DNS
        update gate when one is configured (``reseller.dns.gate``), the others to the
        server directly."""
        if scope == "acme" and self.gate_server:
            return self.gate_server
        return self.public_server

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DnsSettings:
        return cls(
            nameservers=tuple(config["DNS_NAMESERVERS"]),
            nameserver_addresses=tuple(config["DNS_NAMESERVER_ADDRESSES"]),
            forwarding_ipv4=config["FORWARDING_IPV4"],
            forwarding_ipv6=config.get("FORWARDING_IPV6"),
            operator_domain=config["OPERATOR_DOMAIN"].lower(),
            operator_brand=config["OPERATOR_BRAND"].lower(),
            public_server=config.get("DNS_PUBLIC_SERVER") or config["DNS_SERVER"],
            verify_resolver=config.get("DNS_VERIFY_RESOLVER"),
            verify_authoritative_port=int(config.get("DNS_VERIFY_AUTHORITATIVE_PORT") or 53),
            gate_server=config.get("DNS_GATE_SERVER") or None,
        )


def init_app(app: Any) -> None:
    app.extensions["tunnus.dns"] = DnsSettings.from_config(app.config)
    app.extensions["tunnus.dns_publisher"] = publisher_from_config(app.config)


def dns_settings() -> DnsSettings:
    return current_app.extensions["tunnus.dns"]


def publisher() -> Publisher:
    return current_app.extensions["tunnus.dns_publisher"]
