"""Zone keys on a real Knot, driven by the tools resellers use, unmodified: ``nsupdate -y``,
``dig -y … AXFR``, octoDNS with octodns-bind's Rfc2136Provider, and certbot's
certbot-dns-rfc2136 authenticator. What a key changes on the server becomes the zone's
records (read back by ``dns-sync-zones``); what a key may not do, Knot refuses."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.dns import tasks
from tests.integration.test_dns_knot import dig

_seq = itertools.count(1)
VENV_BIN = Path(sys.executable).parent


def hosted(factory, jobs, reseller=None, records=None):
    """A reseller's API client and an active zone of a domain it holds, on Knot."""
    reseller = reseller or factory.reseller()
    zone = f"t{next(_seq)}-keys.example"
    factory.domain(reseller, zone)
    api = factory.api(reseller)
    body = {"records": records} if records is not None else {"template": "default"}
    assert api.put(f"/api/v1/domains/{zone}/dns", json=body).status_code == 201
    jobs.run_all()
    return api, zone


def new_key(api, jobs, knot, zone: str, scope: str) -> dict:
    created = api.post(f"/api/v1/domains/{zone}/dns/keys", json={"scope": scope})
    assert created.status_code == 201, created.get_json()
    jobs.run_all()
    key = created.get_json()
    wait_until_known(knot, key)
    return key


def wait_until_known(knot, key: dict) -> None:
    """knotd applies committed configuration asynchronously (a fraction of a second). An
    ACME key is known once an empty update signed with it passes; the others, once they
    can transfer the zone."""
    deadline = time.monotonic() + 5
    while not (nsupdate(knot, key, key["zone"]).returncode == 0 if key["scope"] == "acme"
               else "SOA" in axfr(knot, key, key["zone"]).stdout):
        assert time.monotonic() < deadline, "Knot never learnt the key"
        time.sleep(0.05)


def nsupdate(knot, key: dict, zone: str, *commands: str) -> subprocess.CompletedProcess:
    script = "\n".join([f"server 127.0.0.1 {knot.port}", f"zone {zone}", *commands, "send", ""])
    return subprocess.run(["nsupdate", "-y", f"hmac-sha256:{key['name']}:{key['secret']}"],
                          input=script, capture_output=True, text=True, timeout=20)


def axfr(knot, key: dict, zone: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dig", "@127.0.0.1", "-p", str(knot.port), "-y",
                           f"hmac-sha256:{key['name']}:{key['secret']}", zone, "AXFR",
                           "+noall", "+answer"], capture_output=True, text=True, timeout=20)


def sync() -> None:
    with unit_of_work():
        tasks.sync_changed_zones()


def records(api, zone: str) -> set[tuple]:
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    return {(r["name"], r["type"], r["ttl"], r["value"]) for r in body["records"]}


def test_nsupdate_with_a_records_key_adds_and_deletes_what_the_api_then_shows(factory, jobs,
                                                                              knot):
    api, zone = hosted(factory, jobs)
    key = new_key(api, jobs, knot, zone, "records")
    added = nsupdate(knot, key, zone, f"update add app.{zone}. 300 A 192.0.2.44",
                     f"update add {zone}. 300 MX 10 mail.example.net.")
    assert added.returncode == 0, added.stderr
    sync()
    assert {("app", "A", 300, "192.0.2.44"), ("@", "MX", 300, "10 mail.example.net.")} <= \
        records(api, zone)
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    served = int(dig(knot, zone, "SOA")[0].split()[2])
    assert body["serial"] == body["published_serial"] == body["server_serial"] == served
    assert body["serials_agree"] is True and body["last_sync"]["outcome"] == "adopted"
    change = api.get(f"/api/v1/domains/{zone}/dns/changes").get_json()["items"][0]
    assert change["origin"] == "server" and change["keys"] == [key["name"]]
    assert change["serial"] == served
    event = db.session.query(Event).filter_by(type="dns.zone_changed").order_by(
        Event.id.desc()).first()
    assert event.data["origin"] == "server" and event.data["keys"] == [key["name"]]

    # Queries signed with the key are answered (Terraform's dns provider signs its reads).
    signed = subprocess.run(["dig", "@127.0.0.1", "-p", str(knot.port), "-y",
                             f"hmac-sha256:{key['name']}:{key['secret']}", f"app.{zone}", "A",
                             "+noall", "+answer"], capture_output=True, text=True)
    assert "192.0.2.44" in signed.stdout and "verify" not in signed.stdout + signed.stderr

    deleted = nsupdate(knot, key, zone, f"update delete app.{zone}. A")
    assert deleted.returncode == 0, deleted.stderr
    sync()
    assert not any(r[0] == "app" for r in records(api, zone))
    assert dig(knot, f"app.{zone}", "A") == []  # not re-added: the deletion is the truth

    # An API change afterwards answers with the serial Knot then publishes.
    patched = api.patch(f"/api/v1/domains/{zone}/dns", json={"add": [
        {"name": "api", "type": "A", "value": "192.0.2.45"}]}).get_json()
    jobs.run_all()
    assert int(dig(knot, zone, "SOA")[0].split()[2]) == patched["serial"]


def test_a_records_key_cannot_touch_soa_or_apex_ns_or_other_zones(factory, jobs, knot):
    reseller = factory.reseller()
    api, zone = hosted(factory, jobs, reseller)
    _, sibling = hosted(factory, jobs, reseller)
    _, foreign = hosted(factory, jobs)  # another reseller's zone
    key = new_key(api, jobs, knot, zone, "records")
    for refused in (
        nsupdate(knot, key, zone, f"update add {zone}. 300 NS ns.evil.example."),
        nsupdate(knot, key, zone, f"update delete {zone}. NS"),
        nsupdate(knot, key, zone,
                 f"update add {zone}. 300 SOA ns.evil.example. h.evil.example. 1 1 1 1 1"),
        nsupdate(knot, key, sibling, f"update add x.{sibling}. 300 A 192.0.2.66"),
        nsupdate(knot, key, foreign, f"update add x.{foreign}. 300 A 192.0.2.66"),
    ):
        assert refused.returncode != 0
        assert "NOTAUTH" in refused.stderr or "REFUSED" in refused.stderr, refused.stderr
    assert "Transfer failed" in axfr(knot, key, sibling).stdout
    assert "Transfer failed" in axfr(knot, key, foreign).stdout
    assert dig(knot, f"x.{sibling}", "A") == dig(knot, f"x.{foreign}", "A") == []
    # A delegation below the apex is the key's to make.
    assert nsupdate(knot, key, zone, f"update add lab.{zone}. 3600 NS ns1.lab.example.net."
                    ).returncode == 0


def test_a_read_key_transfers_the_zone_and_changes_nothing(factory, jobs, knot):
    api, zone = hosted(factory, jobs)
    key = new_key(api, jobs, knot, zone, "read")
    transfer = axfr(knot, key, zone)
    assert transfer.returncode == 0
    assert '"v=spf1 -all"' in transfer.stdout and "SOA" in transfer.stdout
    refused = nsupdate(knot, key, zone, f"update add x.{zone}. 300 A 192.0.2.66")
    assert refused.returncode != 0 and "NOTAUTH" in refused.stderr
    assert api.delete(f"/api/v1/domains/{zone}/dns/keys/{key['id']}").status_code == 204
    jobs.run_all()
    deadline = time.monotonic() + 5
    while "Transfer failed" not in axfr(knot, key, zone).stdout:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.05)


def test_an_invalid_change_made_with_a_key_is_reverted_and_reported(factory, jobs, knot):
    api, zone = hosted(factory, jobs, records=[
        {"name": "www", "type": "A", "ttl": 300, "value": "192.0.2.10"}])
    key = new_key(api, jobs, knot, zone, "records")
    # A TTL below Tunnus's minimum (60 s): Knot itself accepts it.
    assert nsupdate(knot, key, zone, f"update add short.{zone}. 5 A 192.0.2.66").returncode == 0
    sync()
    assert dig(knot, f"short.{zone}", "A") == []
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    assert body["last_sync"]["outcome"] == "rejected+repaired"
    assert any("short A" in line and "TTL" in line for line in body["last_sync"]["problems"])
    assert not any(r[0] == "short" for r in records(api, zone))
    event = db.session.query(Event).filter_by(type="dns.change_rejected").one()
    assert event.data["keys"] == [key["name"]] and event.data["zone"] == zone
    assert body["serial"] == body["server_serial"] == int(dig(knot, zone, "SOA")[0].split()[2])


def test_octodns_syncs_a_yaml_zone_and_then_plans_no_changes(factory, jobs, knot, tmp_path):
    api, zone = hosted(factory, jobs)
    key = new_key(api, jobs, knot, zone, "records")
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / f"{zone}.yaml").write_text(textwrap.dedent("""\
        ---
        '':
          - ttl: 300
            type: A
            value: 192.0.2.80
          - type: MX
            value:
              exchange: mail.example.net.
              preference: 10
          - type: TXT
            value: v=spf1 mx -all
        www:
          type: CNAME
          value: app.example.net.
        """))
    config = tmp_path / "octodns.yaml"
    config.write_text(textwrap.dedent(f"""\
        ---
        providers:
          config:
            class: octodns.provider.yaml.YamlProvider
            directory: {tmp_path / "zones"}
            default_ttl: 3600
          tunnus:
            class: octodns_bind.Rfc2136Provider
            host: 127.0.0.1
            port: {knot.port}
            key_name: env/TUNNUS_KEY_NAME
            key_secret: env/TUNNUS_KEY_SECRET
            key_algorithm: hmac-sha256
        zones:
          {zone}.:
            sources: [config]
            targets: [tunnus]
        """))
    env = {**os.environ, "TUNNUS_KEY_NAME": key["name"], "TUNNUS_KEY_SECRET": key["secret"]}

    def octodns_sync(*args: str) -> str:
        done = subprocess.run([str(VENV_BIN / "octodns-sync"), "--config-file", str(config),
                               *args], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    octodns_sync("--doit")
    sync()
    assert records(api, zone) == {("@", "A", 300, "192.0.2.80"),
                                  ("@", "MX", 3600, "10 mail.example.net."),
                                  ("@", "TXT", 3600, '"v=spf1 mx -all"'),
                                  ("www", "CNAME", 3600, "app.example.net.")}
    assert "No changes were planned" in octodns_sync()


class Certbot:
    """certbot's own authenticator (perform, then cleanup) with a certbot-dns-rfc2136 INI
    for one DNS-01 challenge; the test plays the CA's part."""

    def __init__(self, ini_text: str, fqdn: str, tmp_path: Path) -> None:
        from types import SimpleNamespace

        import josepy
        from acme import challenges, messages
        from certbot import achallenges
        from certbot._internal.display import obj as display
        from certbot_dns_rfc2136._internal.dns_rfc2136 import Authenticator
        from cryptography.hazmat.primitives.asymmetric import rsa

        ini = tmp_path / "rfc2136.ini"
        ini.write_text(ini_text)
        ini.chmod(0o600)
        config = SimpleNamespace(dns_rfc2136_credentials=str(ini),
                                 dns_rfc2136_propagation_seconds=0)
        self.quiet = (tmp_path / "certbot.out").open("w")
        display.set_display(display.NoninteractiveDisplay(self.quiet))  # as `certbot -n`
        self.authenticator = Authenticator(config, "dns-rfc2136")
        account_key = josepy.JWKRSA(key=rsa.generate_private_key(public_exponent=65537,
                                                                 key_size=2048))
        challenge = challenges.DNS01(token=b"tunnus-token-0123456789abcdef")
        self.achall = achallenges.KeyAuthorizationAnnotatedChallenge(
            challb=messages.ChallengeBody(chall=challenge, uri="https://ca.example/chall/1",
                                          status=messages.STATUS_PENDING),
            identifier=messages.Identifier(typ=messages.IDENTIFIER_FQDN, value=fqdn),
            account_key=account_key)
        self.expected = challenge.validation(account_key)

    def perform(self) -> None:
        self.authenticator.perform([self.achall])

    def cleanup(self) -> None:
        self.authenticator.cleanup([self.achall])
        self.quiet.close()


def test_certbot_dns_rfc2136_answers_a_challenge_for_a_host_not_in_the_zone(factory, jobs, knot,
                                                                           tmp_path):
    """certbot's own authenticator with the INI the API hands out; the test plays the CA's
    part: it reads the TXT record from the server."""
    api, zone = hosted(factory, jobs)
    created = api.post(f"/api/v1/domains/{zone}/dns/acme-keys").get_json()
    jobs.run_all()
    wait_until_known(knot, {**created, "name": created["key_name"], "scope": "acme"})
    certbot = Certbot(created["certbot_ini"].replace(f"dns_rfc2136_port = {created['port']}",
                                                     f"dns_rfc2136_port = {knot.port}")
                      .replace(f"dns_rfc2136_server = {created['server']}",
                               "dns_rfc2136_server = 127.0.0.1"), f"new.{zone}", tmp_path)
    certbot.perform()
    expected = certbot.expected
    assert dig(knot, f"_acme-challenge.new.{zone}", "TXT") == [f'"{expected}"']
    sync()  # the API's serial follows the ACME write
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    assert body["serial"] == body["server_serial"] == int(dig(knot, zone, "SOA")[0].split()[2])
    assert ("_acme-challenge.new", "TXT", 120, f'"{expected}"') in records(api, zone)
    certbot.cleanup()
    assert dig(knot, f"_acme-challenge.new.{zone}", "TXT") == []
    sync()
    assert not any(r[0] == "_acme-challenge.new" for r in records(api, zone))
