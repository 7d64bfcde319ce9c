"""Webhook targets: IPv6 forms carrying a loopback or private IPv4 address are refused,
and a delivery connects to the address that was checked (DNS rebinding between the check
and the connection cannot redirect the POST)."""

from __future__ import annotations

import socket

import pytest

from reseller.webhooks.targets import is_public_address
from tests.functional.test_webhooks import ENDPOINTS, Receiver, _event

PUBLIC, PRIVATE = "93.184.215.14", "127.0.0.1"

CARRYING_PRIVATE_IPV4 = [
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:0:7f00:1",  # IPv4-translated (RFC 2765): 127.0.0.1
    "::ffff:0:a9fe:a9fe",  # 169.254.169.254, the cloud metadata service
    "64:ff9b::7f00:1",  # NAT64 well-known prefix: 127.0.0.1
    "64:ff9b::c0a8:1",  # 192.168.0.1
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::808:808",  # RFC 8215 local-use NAT64: into the operator's own networks
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "2002:a9fe:a9fe::1",
    "::7f00:1",  # IPv4-compatible: 127.0.0.1
    "::a00:1",  # 10.0.0.1
    "::",
    "::1",
]


@pytest.mark.parametrize("address", CARRYING_PRIVATE_IPV4)
def test_ipv6_forms_of_private_ipv4_are_not_public(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize("address", [
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8: a public host
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "2001:4860:4860::8888",
    "8.8.8.8",
])
def test_public_addresses_and_their_ipv6_forms_are_allowed(address):
    assert is_public_address(address) is True


@pytest.mark.parametrize("address", CARRYING_PRIVATE_IPV4)
def test_webhook_urls_with_those_literals_are_refused(factory, app, monkeypatch, address):
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)
    response = factory.api().post(ENDPOINTS, json={"url": f"https://[{address}]/hook"})
    assert response.status_code == 422
    assert response.json["code"] == "webhook_url_refused"


class Resolver:
    """``socket.getaddrinfo`` for chosen names (anything else goes to the real one)."""

    def __init__(self, monkeypatch, answers: dict[str, list[str]]):
        self.answers, self.calls = answers, []
        self.real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self)

    def __call__(self, host, port, *args, **kwargs):
        if host not in self.answers:
            return self.real(host, port, *args, **kwargs)
        self.calls.append(host)
        queue = self.answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]  # the last answer sticks
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]


def test_a_name_resolving_to_an_ipv6_form_of_loopback_is_refused(factory, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)
    Resolver(monkeypatch, {"sneaky.example": ["64:ff9b::7f00:1"]})
    response = factory.api().post(ENDPOINTS, json={"url": "https://sneaky.example/hook"})
    assert response.status_code == 422 and response.json["code"] == "webhook_url_refused"


@pytest.mark.smoke
def test_dns_rebinding_cannot_redirect_the_post(factory, app, jobs, monkeypatch):
    """The resolver answers a public address first and loopback on every later lookup: the
    connection must go to the public address the check approved, never to loopback."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)
    resolver = Resolver(monkeypatch, {"rebind.example": [PUBLIC]})
    reseller = factory.reseller()
    api = factory.api(reseller)
    assert api.post(ENDPOINTS, json={"url": "https://rebind.example/hook"}).status_code == 201
    resolver.answers["rebind.example"] = [PUBLIC, PRIVATE]  # the attacker's TTL-0 switch
    resolver.calls.clear()
    connections = []
    real_connect = socket.create_connection

    def connect(address, *args, **kwargs):
        if address[0] not in (PUBLIC, PRIVATE):
            return real_connect(address, *args, **kwargs)
        connections.append(address)
        raise ConnectionRefusedError("no network in tests")

    monkeypatch.setattr(socket, "create_connection", connect)
    _event(reseller)
    jobs.run_all()
    delivery = api.get("/api/v1/webhooks/deliveries").json["items"][0]
    log = api.get(f"/api/v1/webhooks/deliveries/{delivery['id']}").json["attempt_log"]
    # One lookup per attempt, and the connection went where the check said it could.
    assert len(resolver.calls) == len(log) >= 1
    assert connections == [(PUBLIC, 443)]
    if len(log) > 1:  # the retry looked up again, got loopback and refused to send
        assert "private" in log[1]["error"] and delivery["status"] == "failed"


def test_the_post_reaches_the_checked_address_under_the_urls_host_name(factory, jobs,
                                                                       monkeypatch):
    """End to end in sandbox mode: the first answer is the receiver on 127.0.0.1, later
    answers an unreachable address; the POST arrives, with the URL's Host header."""
    server = Receiver([])
    try:
        Resolver(monkeypatch, {"hooks.test": ["127.0.0.1", "203.0.113.9"]})
        reseller = factory.reseller()
        api = factory.api(reseller)
        url = f"http://hooks.test:{server.server.server_port}/hooks?x=1"
        assert api.post(ENDPOINTS, json={"url": url}).status_code == 201
        _event(reseller)
        jobs.run_all()
        assert len(server.requests) == 1
        headers, body = server.requests[0]
        assert headers["host"] == f"hooks.test:{server.server.server_port}"
        assert '"order.completed"' in body
        delivery = api.get("/api/v1/webhooks/deliveries").json["items"][0]
        assert delivery["status"] == "succeeded"
    finally:
        server.close()

