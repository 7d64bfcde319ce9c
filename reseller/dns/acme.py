"""ACME DNS-01 helpers: per-zone TSIG keys limited to ``_acme-challenge`` TXT records (for
certbot-dns-rfc2136 and octoDNS), and the TXT writes behind lego's ``httpreq`` provider."""

from __future__ import annotations

import base64
import secrets

import dns.name
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.errors import ValidationFailed
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.dns import services
from reseller.dns.errors import AcmeKeyNotFound, ZoneNotFound
from reseller.dns.models import AcmeKey, Zone
from reseller.dns.records import RR
from reseller.dns.settings import DnsSettings

CHALLENGE_LABEL = "_acme-challenge"
CHALLENGE_TTL = 60


def create_key(*, reseller_id: int, zone_name: str, settings: DnsSettings) -> AcmeKey:
    """A key for an active zone the reseller may still host (a pending zone gets none: a
    certificate for a name nobody proved control of must not be possible)."""
    zone = services.get_zone(reseller_id=reseller_id, name=zone_name)
    services.check_zone(zone, settings)
    key = AcmeKey(reseller_id=reseller_id, zone_id=zone.id,
                  key_name=f"acme-{zone.id}-{secrets.token_hex(4)}",
                  secret=base64.b64encode(secrets.token_bytes(32)).decode())
    db.session.add(key)
    db.session.flush()
    enqueue("reseller.dns.tasks.install_acme_key", key.id)
    return key


def keys_query(*, reseller_id: int, zone_name: str) -> sa.Select:
    zone = services.get_zone(reseller_id=reseller_id, name=zone_name)
    return sa.select(AcmeKey).where(AcmeKey.zone_id == zone.id)


def delete_key(*, reseller_id: int, zone_name: str, key_id: int) -> None:
    zone = services.get_zone(reseller_id=reseller_id, name=zone_name)
    key = db.session.get(AcmeKey, key_id)
    if key is None or key.zone_id != zone.id:
        raise AcmeKeyNotFound()
    enqueue("reseller.dns.tasks.remove_acme_key", zone.name, key.key_name)
    db.session.delete(key)
    db.session.flush()


def _challenge_zone(reseller_id: int, fqdn: str, settings: DnsSettings) -> tuple[Zone, str]:
    """The reseller's zone holding ``fqdn`` and the relative owner name inside it; the
    zone must be active and still the reseller's to host."""
    try:
        name = dns.name.from_text(fqdn.strip() if fqdn.strip().endswith(".")
                                  else fqdn.strip() + ".")
    except Exception as error:
        raise ValidationFailed({"fqdn": [str(_l("Not a domain name."))]}) from error
    labels = name.to_text(omit_final_dot=True).lower().split(".")
    if labels[0] != CHALLENGE_LABEL:
        raise ValidationFailed({"fqdn": [str(_l("Only _acme-challenge names can be written."))]})
    for start in range(1, len(labels) - 1):
        zone = services.find_own_zone(reseller_id, ".".join(labels[start:]))
        if zone is not None:
            services.check_zone(zone, settings)
            return zone, ".".join(labels[:start])
    raise ZoneNotFound(_l("No zone of yours holds %(fqdn)s.", fqdn=fqdn))


def _txt(owner: str, value: str, zone: Zone) -> RR:
    if not value or len(value) > 255 or any(c in value for c in '"\\\n'):
        raise ValidationFailed({"value": [str(_l("Send the challenge value as plain text."))]})
    return RR(owner, "TXT", CHALLENGE_TTL, f'"{value}"')


def present(*, reseller_id: int, fqdn: str, value: str, settings: DnsSettings) -> Zone:
    zone, owner = _challenge_zone(reseller_id, fqdn, settings)
    rr = _txt(owner, value, zone)
    records = services.current_rrs(zone)
    if rr in records:
        return zone
    # The RRset keeps one TTL: existing challenge values adopt the challenge TTL.
    records = [r._replace(ttl=CHALLENGE_TTL) if r[:2] == rr[:2] else r for r in records]
    return services.change_records(zone, sorted({*records, rr}), settings=settings)


def cleanup(*, reseller_id: int, fqdn: str, value: str, settings: DnsSettings) -> Zone:
    zone, owner = _challenge_zone(reseller_id, fqdn, settings)
    rr = _txt(owner, value, zone)
    remaining = [r for r in services.current_rrs(zone) if r != rr]
    return services.change_records(zone, remaining, settings=settings)
