"""Fixtures and helpers for white-label tests: a real Knot server, settings pointing at
it, a real SMTP server (aiosmtpd) and a verified sender domain built the real way."""

from __future__ import annotations

import itertools
from dataclasses import replace

import dns.resolver
import pytest

from reseller.core.db import unit_of_work
from tests.support.knot_zonefile import start_knot, txt
from tests.support.servers import free_port
from whitelabel import sender
from whitelabel.settings import Settings

ZONE = "reseller.test"
_seq = itertools.count(1)


@pytest.fixture(scope="session")
def wl_knot():
    server = start_knot((ZONE,))
    yield server
    server.stop()


@pytest.fixture
def wl_settings(app, wl_knot):
    """Settings whose resolver is the Knot server; installed for views and jobs too."""
    settings = replace(Settings.from_config(app.config), dns_resolver=wl_knot.resolver)
    previous = app.extensions.get("whitelabel.settings")
    app.extensions["whitelabel.settings"] = settings
    yield settings
    if previous is None:
        app.extensions.pop("whitelabel.settings", None)
    else:
        app.extensions["whitelabel.settings"] = previous


def zone_lines(domain: sender.SenderDomain, settings: Settings, *,
               skip: tuple[str, ...] = (), dkim_key: str | None = None) -> list[str]:
    """Zone-file lines publishing the domain's records (relative to ``ZONE``)."""
    lines = []
    for record in sender.records(domain, settings):
        if record.purpose in skip:
            continue
        name = record.name.removesuffix(f".{ZONE}")
        value = record.value
        if record.purpose == "dkim" and dkim_key is not None:
            value = f"v=DKIM1; k=rsa; p={dkim_key}"
        rdata = f"{value}." if record.type == "CNAME" else txt(value)
        lines.append(f"{name} {record.type} {rdata}")
    return lines


def new_domain_name() -> str:
    return f"mail{next(_seq)}.{ZONE}"


def verified_domain(reseller_id: int, wl_knot, settings: Settings,
                    name: str | None = None) -> sender.SenderDomain:
    """Name a sender domain, publish its records into Knot, and verify it."""
    with unit_of_work():
        domain = sender.set_sender_domain(reseller_id=reseller_id,
                                          domain=name or new_domain_name())
    wl_knot.publish(ZONE, zone_lines(domain, settings))
    with unit_of_work():
        domain = sender.verify_sender_domain(reseller_id=reseller_id, settings=settings,
                                             resolver=sender.resolver_for(settings))
    assert domain.status == "verified", domain.checks
    return domain


def dkim_dns(wl_knot):
    """A dkimpy ``dnsfunc`` that reads TXT records from the Knot server."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = ["127.0.0.1"], wl_knot.port

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT")
        except dns.exception.DNSException:
            return b""
        return b"".join(b"".join(r.strings) for r in answer)

    return lookup


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free port that keeps what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.envelopes: list = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.envelopes.append(envelope)
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    yield sink
    sink.stop()
