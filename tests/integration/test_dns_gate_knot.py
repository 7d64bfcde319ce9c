"""The DNS update gate in front of a real Knot 3.2 (no owner patterns): ACME keys are
named at the gate and not installed in Knot; the gate lets through exactly TXT at
``_acme-challenge`` names of the key's zone, driven by ``nsupdate`` and certbot's own
certbot-dns-rfc2136 authenticator."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import pytest

from reseller.core.db import unit_of_work
from reseller.dns import tasks
from reseller.dns.publishers import KnotPublisher
from reseller.dns.settings import dns_settings
from tests.integration.test_dns_knot import axfr, dig
from tests.integration.test_zone_keys_knot import Certbot, hosted, records, wait_until_known
from tests.support.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


def acme_key(api, jobs, zone: str) -> dict:
    created = api.post(f"/api/v1/domains/{zone}/dns/keys", json={"scope": "acme"})
    assert created.status_code == 201, created.get_json()
    jobs.run_all()
    return created.get_json()


def nsupdate(address: str, key: dict, zone: str, *commands: str) -> subprocess.CompletedProcess:
    host, port = address.split(":")
    script = "\n".join([f"server {host} {port}", "check-names no", f"zone {zone}", *commands,
                        "send", ""])
    return subprocess.run(["nsupdate", "-y", f"hmac-sha256:{key['name']}:{key['secret']}"],
                          input=script, capture_output=True, text=True, timeout=20)


def soa_serial(knot, zone: str) -> int:
    return int(dig(knot, zone, "SOA")[0].split()[2])


def test_nsupdate_through_the_gate_adds_a_challenge_and_the_api_serial_follows(
        factory, jobs, knot_gate):
    api, zone = hosted(factory, jobs)
    key = acme_key(api, jobs, zone)
    assert key["server"] == knot_gate.address  # the API names the gate, not Knot
    added = nsupdate(knot_gate.address, key, zone,
                     f"update add _acme-challenge.new.{zone}. 120 TXT token-1",
                     f"update add _ACME-Challenge.Caps.{zone}. 120 TXT token-2")
    assert added.returncode == 0, added.stderr
    assert dig(knot_gate.knot, f"_acme-challenge.new.{zone}", "TXT") == ['"token-1"']
    assert [path for path, _ in jobs.jobs] == ["reseller.dns.tasks.sync_zone"]
    jobs.run_all()  # the read-back the gate queued, not the minutely sync
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    assert body["serial"] == body["server_serial"] == soa_serial(knot_gate.knot, zone)
    assert body["serials_agree"] is True
    assert {("_acme-challenge.new", "TXT", 120, '"token-1"'),
            ("_acme-challenge.caps", "TXT", 120, '"token-2"')} <= records(api, zone)
    assert body["last_sync"]["outcome"] == "adopted"  # nothing reverted
    change = api.get(f"/api/v1/domains/{zone}/dns/changes").get_json()["items"][0]
    assert change["origin"] == "server" and change["keys"] == [key["name"]]

    deleted = nsupdate(knot_gate.address, key, zone,
                       f"update delete _acme-challenge.new.{zone}. TXT")
    assert deleted.returncode == 0, deleted.stderr
    assert dig(knot_gate.knot, f"_acme-challenge.new.{zone}", "TXT") == []


def test_the_gate_refuses_everything_beyond_the_keys_names_and_knot_is_unchanged(
        factory, jobs, knot_gate):
    reseller = factory.reseller()
    api, zone = hosted(factory, jobs, reseller)
    _, sibling = hosted(factory, jobs, reseller)
    _, foreign = hosted(factory, jobs)  # another reseller's zone
    key = acme_key(api, jobs, zone)
    knot = knot_gate.knot
    before = {name: axfr(knot, name) for name in (zone, sibling, foreign)}
    gate = knot_gate.address
    for refused, rcode in (
        (nsupdate(gate, key, zone, f"update add www.{zone}. 120 TXT nope"), "REFUSED"),
        (nsupdate(gate, key, zone, f"update add _acme-challenge.{zone}. 120 A 192.0.2.66"),
         "REFUSED"),
        (nsupdate(gate, key, zone, f"update delete _acme-challenge.{zone}."), "REFUSED"),
        (nsupdate(gate, key, zone, f"update add _acme-challenge.{zone}. 120 TXT ok",
                  f"update add {zone}. 120 TXT smuggled"), "REFUSED"),
        (nsupdate(gate, key, zone, f"update add _acme-challenge.{sibling}. 120 TXT x"),
         "NOTZONE"),
        (nsupdate(gate, key, sibling, f"update add _acme-challenge.{sibling}. 120 TXT x"),
         "NOTAUTH"),
        (nsupdate(gate, key, foreign, f"update add _acme-challenge.{foreign}. 120 TXT x"),
         "NOTAUTH"),
    ):
        assert refused.returncode != 0
        assert rcode in refused.stderr, refused.stderr
    # Bypassing the gate: Knot does not know the key at all.
    direct = nsupdate(f"127.0.0.1:{knot.port}", key, zone,
                      f"update add _acme-challenge.{zone}. 120 TXT direct")
    assert direct.returncode != 0 and "NOTAUTH" in direct.stderr, direct.stderr
    assert {name: axfr(knot, name) for name in before} == before
    assert not [path for path, _ in jobs.jobs if path == "reseller.dns.tasks.sync_zone"]


def test_a_revoked_key_is_refused_by_the_gate_within_two_seconds(factory, jobs, knot_gate):
    api, zone = hosted(factory, jobs)
    key = acme_key(api, jobs, zone)
    assert nsupdate(knot_gate.address, key, zone).returncode == 0  # cached as valid
    assert api.delete(f"/api/v1/domains/{zone}/dns/keys/{key['id']}").status_code == 204
    revoked, attempt = time.monotonic(), 0
    while (done := nsupdate(knot_gate.address, key, zone,
                            f"update add _acme-challenge.{zone}. 120 TXT try{attempt}")
           ).returncode == 0:  # the gate's cache may hold it for up to a second
        assert time.monotonic() - revoked < 2, "the revoked key still works"
        attempt += 1
        time.sleep(0.1)
    assert "NOTAUTH" in done.stderr, done.stderr
    assert f'"try{attempt}"' not in dig(knot_gate.knot, f"_acme-challenge.{zone}", "TXT")


def test_tsig_errors_follow_rfc_8945(factory, jobs, knot_gate):
    api, zone = hosted(factory, jobs)
    key = acme_key(api, jobs, zone)
    port = knot_gate.port
    wrong = dns.message.make_query(zone, "SOA")
    wrong.use_tsig(dns.tsigkeyring.from_text({key["name"]: "AAAAAAAAAAAAAAAAAAAAAA=="}),
                   algorithm=dns.tsig.HMAC_SHA256)
    with pytest.raises(dns.tsig.PeerBadSignature):
        dns.query.udp(wrong, "127.0.0.1", port=port, timeout=5)
    unknown = dns.message.make_query(zone, "SOA")
    unknown.use_tsig(dns.tsigkeyring.from_text({"nobody": key["secret"]}),
                     algorithm=dns.tsig.HMAC_SHA256)
    with pytest.raises(dns.tsig.PeerBadKey):
        dns.query.tcp(unknown, "127.0.0.1", port=port, timeout=5)

    # A request signed ten minutes ago: BADTIME, signed, with the server's clock.
    tsig_key = dns.tsig.Key(key["name"], key["secret"], dns.tsig.HMAC_SHA256)
    late = dns.message.make_query(zone, "SOA")
    unsigned = late.to_wire()
    template = dns.message.Message._make_tsig(tsig_key.name, tsig_key.algorithm, 0, 300,
                                              b"", late.id, 0, b"")
    rdata, _ = dns.tsig.sign(unsigned, tsig_key, template[0], int(time.time()) - 600)
    late.tsig = dns.rrset.from_rdata(tsig_key.name, 0, rdata)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(late.to_wire(), ("127.0.0.1", port))
        reply = dns.message.from_wire(sock.recv(65535), keyring=False)
    answered = reply.tsig[0]
    assert reply.rcode() == dns.rcode.NOTAUTH and answered.error == dns.rcode.BADTIME
    assert answered.mac and answered.time_signed == rdata.time_signed
    (high, low) = struct.unpack("!HI", answered.other)
    assert abs((high << 32 | low) - time.time()) < 5

    # Signed and in time: the gate relays Knot's authoritative answer, signed.
    good = dns.message.make_query(zone, "SOA")
    good.use_tsig(tsig_key)
    answer = dns.query.udp(good, "127.0.0.1", port=port, timeout=5)  # validates the MAC
    assert answer.flags & dns.flags.AA and answer.had_tsig and answer.answer
    axfr_query = dns.message.make_query(zone, "AXFR")
    axfr_query.use_tsig(tsig_key)
    assert dns.query.tcp(axfr_query, "127.0.0.1", port=port, timeout=5
                         ).rcode() == dns.rcode.REFUSED
    txt = dns.message.make_query(f"_acme-challenge.{zone}", "TXT")
    assert dns.query.udp(txt, "127.0.0.1", port=port, timeout=5).rcode() == dns.rcode.REFUSED


def test_random_garbage_does_not_stop_the_gate(knot_gate):
    port = knot_gate.port
    rng = __import__("random").Random(32)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(0.5)
        for size in [0, 1, 11, 12, *(rng.randrange(12, 700) for _ in range(150))]:
            wire = bytes(rng.getrandbits(8) for _ in range(size))
            udp.sendto(wire, ("127.0.0.1", port))
        udp.sendto(b"\x12\x34\x00\x00" + os.urandom(8) + b"\xff" * 20, ("127.0.0.1", port))
    for chunk in (b"\x00", b"\xff\xff" + os.urandom(100), b"\x00\x20" + os.urandom(32) * 3,
                  os.urandom(300)):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as tcp:
            tcp.sendall(chunk)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as tcp:
        garbage = b"\xab\xcd\x00\x00\x00\x01" + os.urandom(40)  # a query header, then junk
        tcp.sendall(len(garbage).to_bytes(2, "big") + garbage)
        length = int.from_bytes(tcp.recv(2), "big")
        reply = dns.message.from_wire(tcp.recv(length))
        assert reply.id == 0xABCD and reply.rcode() == dns.rcode.FORMERR
        # The same connection carries the next message (RFC 1035 4.2.2).
        query = dns.message.make_query("example", "SOA")
        tcp.sendall(query.to_wire(prepend_length=True))
        length = int.from_bytes(tcp.recv(2), "big")
        assert dns.message.from_wire(tcp.recv(length)).id == query.id
    still = dns.query.udp(dns.message.make_query("example", "SOA"), "127.0.0.1", port=port,
                          timeout=5)
    assert still.rcode() in (dns.rcode.REFUSED, dns.rcode.NOTAUTH, dns.rcode.NOERROR)


def test_certbot_dns_rfc2136_through_the_gate_for_a_host_not_in_the_zone(factory, jobs,
                                                                         knot_gate, tmp_path):
    """The certbot INI the API hands out, unmodified: it names the gate."""
    api, zone = hosted(factory, jobs)
    created = api.post(f"/api/v1/domains/{zone}/dns/acme-keys").get_json()
    jobs.run_all()
    assert f"{created['server']}:{created['port']}" == knot_gate.address
    certbot = Certbot(created["certbot_ini"] + "dns_rfc2136_sign_query = true\n",
                      f"new.{zone}", tmp_path)
    certbot.perform()
    knot = knot_gate.knot
    assert dig(knot, f"_acme-challenge.new.{zone}", "TXT") == [f'"{certbot.expected}"']
    jobs.run_all()  # the read-back the gate queued
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    assert body["serial"] == body["server_serial"] == soa_serial(knot, zone)
    assert ("_acme-challenge.new", "TXT", 120, f'"{certbot.expected}"') in records(api, zone)
    certbot.cleanup()
    assert dig(knot, f"_acme-challenge.new.{zone}", "TXT") == []


def test_switching_the_gate_on_takes_existing_acme_keys_off_knot(factory, jobs, knot_gate):
    """Keys installed in Knot before DNS_GATE_SERVER was set (``flask dns gate`` queues
    ``install_all_keys`` when it starts) leave it; other scopes stay."""
    api, zone = hosted(factory, jobs)
    key = acme_key(api, jobs, zone)
    records_key = api.post(f"/api/v1/domains/{zone}/dns/keys", json={"scope": "records"})
    jobs.run_all()
    assert records_key.get_json()["server"] == dns_settings().public_server  # Knot itself
    knot = knot_gate.knot
    KnotPublisher(knot.config()).install_key(zone, key["name"], key["secret"], "acme")
    wait_until_known(knot, {**key, "zone": zone})  # as an older release left it
    with unit_of_work():
        tasks.install_all_keys()
    deadline = time.monotonic() + 5
    while nsupdate(f"127.0.0.1:{knot.port}", key, zone).returncode == 0:
        assert time.monotonic() < deadline, "the ACME key is still on Knot"
        time.sleep(0.05)
    wait_until_known(knot, {**records_key.get_json(), "zone": zone})
    assert nsupdate(knot_gate.address, key, zone,
                    f"update add _acme-challenge.{zone}. 120 TXT via-gate").returncode == 0


def test_flask_dns_gate_serves_from_its_own_process(app, database_url, knot_server, tmp_path):
    zone = "cli-gate.example"
    KnotPublisher(knot_server.config()).ensure_zone(zone, (
        f"$ORIGIN {zone}.\n@ 3600 SOA ns1.example.net. h.example.net. 7 3600 600 86400 60\n"
        "@ 3600 NS ns1.example.net.\n"))
    port = free_port()
    env = {**os.environ, **{k: str(v) for k, v in knot_server.config().items()},
           "DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path),
           "TUNNUS_ENV": "sandbox", "JOBS_MODE": "eager",
           "DNS_GATE_SERVER": f"gate.example.net:{port}", "SECRET_KEY": app.config["SECRET_KEY"]}
    gate = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "dns", "gate",
                             "--listen", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_for_port(port, gate)
        answer = dns.query.udp(dns.message.make_query(zone, "SOA"), "127.0.0.1", port=port,
                               timeout=5)
    finally:
        gate.terminate()
        output, _ = gate.communicate(timeout=10)
        KnotPublisher(knot_server.config()).remove_zone(zone)
    assert answer.flags & dns.flags.AA and answer.answer[0][0].serial == 7
    assert f"DNS update gate on 127.0.0.1:{port}" in output


def test_the_gate_forwards_with_no_transaction_open(factory, jobs, knot_gate, monkeypatch):
    from reseller.core.extensions import db

    api, zone = hosted(factory, jobs)
    key = acme_key(api, jobs, zone)
    gate, during = knot_gate.server.gate, []
    forward, query = gate._forward_update, gate._query

    def watched_forward(message):
        during.append(("update", db.session().in_transaction()))
        return forward(message)

    def watched_query(message, outcome):
        during.append(("query", db.session().in_transaction()))
        return query(message, outcome)

    monkeypatch.setattr(gate, "_forward_update", watched_forward)
    monkeypatch.setattr(gate, "_query", watched_query)
    added = nsupdate(knot_gate.address, key, zone,
                     f"update add _acme-challenge.{zone}. 120 TXT token-3")
    assert added.returncode == 0, added.stderr
    soa = dns.message.make_query(zone, "SOA")
    soa.use_tsig(dns.tsigkeyring.from_text({key["name"]: key["secret"]}),
                 keyname=key["name"], algorithm=dns.tsig.HMAC_SHA256)
    host, port = knot_gate.address.rsplit(":", 1)
    assert dns.query.tcp(soa, host, port=int(port), timeout=5).rcode() == dns.rcode.NOERROR
    assert ("update", False) in during and ("query", False) in during
    assert all(open_ is False for _kind, open_ in during)


def test_the_setup_checklist_says_when_acme_keys_are_not_held_to_their_names(app, knot):
    """Knot 3.2 without the gate: ACME keys would write TXT anywhere in their zone, and the
    operator's first-run checklist says so until DNS_GATE_SERVER is set."""
    from reseller.console import setup
    from reseller.dns import services

    config = {**app.config, "DNS_ADAPTER": "knot", "DNS_NAMESERVERS": ["ns1.dns.example"],
              "DNS_NAMESERVER_ADDRESSES": ["192.0.2.1"]}
    version = services.acme_keys_unbounded()
    assert version is not None and version.startswith("3.2")
    item = setup._dns(config)
    assert not item.done and "DNS_GATE_SERVER" in str(item.detail)


def test_with_the_gate_the_checklist_has_nothing_to_say_about_acme_keys(app, knot_gate):
    from reseller.console import setup
    from reseller.dns import services

    assert services.acme_keys_unbounded() is None
    config = {**app.config, "DNS_ADAPTER": "knot", "DNS_NAMESERVERS": ["ns1.dns.example"],
              "DNS_NAMESERVER_ADDRESSES": ["192.0.2.1"]}
    assert setup._dns(config).done
