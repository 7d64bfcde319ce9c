"""Zone keys: TSIG keys a reseller creates per zone for tools that speak RFC 2136 (DNS
UPDATE) and AXFR to the server directly, each limited to a scope; and what each scope
admits, the same rules the server's ACLs enforce (``publishers.KnotPublisher.acl_rules``),
by which changes read back from the server are attributed (``reseller.dns.sync``)."""

from __future__ import annotations

import base64
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.errors import ValidationFailed
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.dns import services
from reseller.dns.errors import ZoneKeyLimit, ZoneKeyNotFound
from reseller.dns.models import KEY_SCOPES, ZoneKey
from reseller.dns.records import RECORD_TYPES, RR
from reseller.dns.settings import DnsSettings

ALGORITHM = "hmac-sha256"
CHALLENGE_LABEL = "_acme-challenge"
MAX_KEYS_PER_ZONE = 20  # each key is server configuration; tools share one per purpose

ALLOWED = {
    "acme": _l("TXT records at _acme-challenge.%(zone)s and at _acme-challenge.<any name "
               "below it>, whether the host exists or not"),
    "records": _l("Every record of %(zone)s except the SOA and the apex NS, and zone "
                  "transfers (AXFR)"),
    "read": _l("Zone transfers (AXFR) of %(zone)s only"),
}


def check_scope(scope: object) -> str:
    if scope not in KEY_SCOPES:
        raise ValidationFailed({"scope": [str(_l("Use one of: %(scopes)s.",
                                                 scopes=", ".join(KEY_SCOPES)))]})
    return str(scope)


def create_key(*, reseller_id: int, zone_name: str, scope: str,
               settings: DnsSettings) -> ZoneKey:
    """A key for an active zone the reseller may still host (a pending zone gets none:
    nobody proved control of the name). The job installs it on the server."""
    scope = check_scope(scope)
    zone = services.get_zone(reseller_id=reseller_id, name=zone_name)
    services.check_zone(zone, settings)
    count = db.session.scalar(sa.select(sa.func.count()).where(ZoneKey.zone_id == zone.id))
    if count >= MAX_KEYS_PER_ZONE:
        raise ZoneKeyLimit(_l("A zone has at most %(limit)d keys; revoke one first.",
                              limit=MAX_KEYS_PER_ZONE))
    key = ZoneKey(reseller_id=reseller_id, zone_id=zone.id, scope=scope,
                  key_name=f"{scope}-{zone.id}-{secrets.token_hex(6)}",
                  secret=base64.b64encode(secrets.token_bytes(32)).decode())
    db.session.add(key)
    db.session.flush()
    enqueue("reseller.dns.tasks.install_zone_key", key.id)
    return key


def keys_query(*, reseller_id: int, zone_name: str, scope: str | None = None) -> sa.Select:
    zone = services.get_zone(reseller_id=reseller_id, name=zone_name)
    query = sa.select(ZoneKey).where(ZoneKey.zone_id == zone.id)
    return query if scope is None else query.where(ZoneKey.scope == scope)


def delete_key(*, reseller_id: int, zone_name: str, key_id: int, scope: str | None = None,
               missing: type[Exception] = ZoneKeyNotFound) -> None:
    """Revoke: the row goes now, the job takes the key off the server."""
    zone = services.get_zone(reseller_id=reseller_id, name=zone_name)
    key = db.session.get(ZoneKey, key_id)
    if key is None or key.zone_id != zone.id or scope not in (None, key.scope):
        raise missing()
    enqueue("reseller.dns.tasks.remove_zone_key", zone.name, key.key_name)
    db.session.delete(key)
    db.session.flush()


def zone_keys(zone_id: int) -> list[ZoneKey]:
    return list(db.session.scalars(sa.select(ZoneKey).where(ZoneKey.zone_id == zone_id)
                                   .order_by(ZoneKey.id)))


def is_challenge(rr: RR) -> bool:
    return rr.type == "TXT" and rr.name.split(".")[0].lower() == CHALLENGE_LABEL


def admits(scope: str, rr: RR) -> bool:
    """Whether a key of ``scope`` may have written ``rr`` (a relative owner name)."""
    if scope == "acme":
        return is_challenge(rr)
    if scope == "records":
        return rr.type in RECORD_TYPES and not (rr.type == "NS" and rr.name == "@")
    return False


def allowed_text(scope: str, zone: str) -> str:
    return str(ALLOWED[scope] % {"zone": zone})
