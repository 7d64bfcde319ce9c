"""ACME DNS-01 helpers: the ``acme-keys`` endpoints (zone keys of scope ``acme``, for
certbot-dns-rfc2136 and lego's rfc2136 provider) and the TXT writes behind lego's
``httpreq`` provider."""

from __future__ import annotations

import dns.name
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.errors import ValidationFailed
from reseller.dns import keys, services
from reseller.dns.errors import AcmeKeyNotFound, ZoneNotFound
from reseller.dns.models import Zone, ZoneKey
from reseller.dns.records import RR
from reseller.dns.settings import DnsSettings

CHALLENGE_LABEL = keys.CHALLENGE_LABEL
CHALLENGE_TTL = 60


def create_key(*, reseller_id: int, zone_name: str, settings: DnsSettings) -> ZoneKey:
    """``POST …/dns/acme-keys``: a zone key of scope ``acme``."""
    return keys.create_key(reseller_id=reseller_id, zone_name=zone_name, scope="acme",
                           settings=settings)


def keys_query(*, reseller_id: int, zone_name: str) -> sa.Select:
    return keys.keys_query(reseller_id=reseller_id, zone_name=zone_name, scope="acme")


def delete_key(*, reseller_id: int, zone_name: str, key_id: int) -> None:
    keys.delete_key(reseller_id=reseller_id, zone_name=zone_name, key_id=key_id,
                    scope="acme", missing=AcmeKeyNotFound)


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
