"""DNS API: ``/api/v1/domains/<name>/dns`` (records, zone file, zone keys, changes),
``/api/v1/domains/<name>/forwarding`` (URL forwards), ``/api/v1/nameservers`` (vanity
names), and lego's ``/acme/httpreq/present|cleanup``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from flask_babel import lazy_gettext as _l

from reseller.core.db import lock_row, transactional
from reseller.core.errors import ValidationFailed
from reseller.core.pagination import paginate
from reseller.core.web.auth import basic_token, current_reseller_id, require_scope
from reseller.core.web.helpers import json_body, list_args, page_body, versioned
from reseller.core.web.openapi import doc
from reseller.core.web.responses import secret_response
from reseller.dns import (
    acme,
    before_transaction,
    forwarding,
    keys,
    ownership,
    schemas,
    services,
    vanity,
)
from reseller.dns.models import Forward, Zone, ZoneChange, ZoneKey
from reseller.dns.records import RR
from reseller.dns.settings import dns_settings

bp = Blueprint("dns_api", __name__)
forwarding_bp = Blueprint("forwarding_api", __name__)  # its own name: api.forwarding_api.*
httpreq = Blueprint("acme_httpreq", __name__, url_prefix="/acme/httpreq")

TAGS = ["DNS"]
FORWARDING_TAGS = ["URL forwarding"]
PAGE_QUERY = [{"name": "cursor", "schema": {"type": "string"}},
              {"name": "limit", "schema": {"type": "integer"}}]
ZONE_FILE_MIME = "text/dns"


def zone_body(zone: Zone) -> dict[str, Any]:
    # Read whatever the zone's state, so the answer costs the same statements when the
    # zone is published as before (when the flags alone said "not published").
    unpublished_changes = bool(services.pending_changes(zone))
    changes_pending = not zone.active or zone.published_serial is None or \
        not zone.on_server or unpublished_changes
    published_serial = zone.published_serial if zone.active else None
    server_serial = before_transaction.served(zone)
    return schemas.ZoneOut().dump({
        "name": zone.name, "status": zone.status, "serial": zone.serial,
        "nameservers": services.nameservers_for(zone.reseller_id, dns_settings()),
        "published": not changes_pending,
        "published_serial": published_serial, "server_serial": server_serial,
        "serials_agree": server_serial is not None and server_serial == published_serial,
        "last_sync": zone.last_sync or None,
        "records": [RR(r.name, r.type, r.ttl, r.value).as_dict()
                    for r in sorted(zone.records, key=lambda r: (r.name, r.type, r.value))],
        "verification": ownership.verification_view(zone),
        "unpublished_reason": zone.unpublished_reason,
    })


def current_zone(name: str) -> dict[str, Any]:
    """The zone as GET answers it, locked (for ``If-Match``)."""
    zone = services.get_zone(reseller_id=current_reseller_id(), name=name)
    return zone_body(lock_row(Zone, zone.id))


@bp.get("/domains/<name>/dns")
@doc(summary="The zone's records, serial and nameservers", tags=TAGS, response=schemas.ZoneOut)
@require_scope("dns:read")
@before_transaction.server_serial
@transactional
@versioned(current_zone)
def get_zone(name: str):
    return zone_body(services.get_zone(reseller_id=current_reseller_id(), name=name))


@bp.put("/domains/<name>/dns")
@doc(summary="Replace every record (hosting the zone if it is new)", tags=TAGS,
     body=schemas.ZonePutIn, response=schemas.ZoneOut, status=(200, 201), errors=(409,),
     description="201 when this hosts the zone for the first time. Send `records` (the complete set) or `template: default`. The zone's "
                 "SOA and apex NS are managed for you. Changes are published to the "
                 "nameservers in the background; `published` turns true when done. A name "
                 "you hold in this account is active at once; any other name is `pending` "
                 "until you prove control (`verification`, then `POST …/dns/verify`). "
                 "Refused: `zone_held_elsewhere` (403: registered or hosted in another "
                 "account), `zone_inside_other_zone` (403), `public_suffix` and "
                 "`zone_not_allowed` (422).")
@require_scope("dns:write")
@before_transaction.server_serial
@transactional
@versioned(current_zone, creates=True)
def put_zone(name: str):
    body = json_body()
    data = schemas.ZonePutIn().load_or_raise(body)
    if (data["records"] is None) == (data["template"] is None):
        raise ValidationFailed({"records": [str(_l("Send either records or template."))]})
    records = services.DEFAULT_TEMPLATE if data["template"] else body["records"]
    created = services.find_own_zone(current_reseller_id(), services.zone_name(name)) is None
    zone = services.replace_records(reseller_id=current_reseller_id(), name=name,
                                    records=records, settings=dns_settings())
    return zone_body(zone), 201 if created else 200


@bp.patch("/domains/<name>/dns")
@doc(summary="Add and remove records", tags=TAGS, body=schemas.ZonePatchIn,
     response=schemas.ZoneOut,
     description="`remove` runs first; a removal without `value` removes the whole RRset.")
@require_scope("dns:write")
@before_transaction.server_serial
@transactional
@versioned(current_zone)
def patch_zone(name: str):
    body = json_body()
    schemas.ZonePatchIn().load_or_raise(body)
    zone = services.patch_records(reseller_id=current_reseller_id(), name=name,
                                  add=body.get("add", []), remove=body.get("remove", []),
                                  settings=dns_settings())
    return zone_body(zone)


@bp.delete("/domains/<name>/dns")
@doc(summary="Stop hosting the zone", tags=TAGS, status=204)
@require_scope("dns:write")
@transactional
def delete_zone(name: str):
    services.delete_zone(reseller_id=current_reseller_id(), name=name)
    return "", 204


@bp.post("/domains/<name>/dns/verify")
@doc(summary="Verify now: look for the TXT record or delegation of a pending zone", tags=TAGS,
     response=schemas.ZoneOut, errors=(409,),
     description="Publishes the zone once the TXT record in `verification` (or the "
                 "delegation to the listed nameservers) is found; otherwise the zone stays "
                 "`pending` and `verification.problems` says what was missing. An active "
                 "zone is returned as it is. A periodic job does the same every 10 minutes.")
@require_scope("dns:write")
@before_transaction.proof_of_control
@before_transaction.server_serial
@transactional
def verify_zone(name: str):
    zone = services.get_zone(reseller_id=current_reseller_id(), name=name)
    return zone_body(ownership.verify_zone(zone, dns_settings(), lookup=g.dns_answers))


@bp.get("/domains/<name>/dns/zonefile")
@doc(summary="Export the zone as an RFC 1035 zone file", tags=TAGS, content_type=ZONE_FILE_MIME)
@require_scope("dns:read")
@transactional
def export_zone(name: str):
    zone = services.get_zone(reseller_id=current_reseller_id(), name=name)
    text = services.export_zone_file(zone, dns_settings())
    return Response(text, mimetype=ZONE_FILE_MIME, headers={
        "Content-Disposition": f'attachment; filename="{zone.name}.zone"'})


@bp.put("/domains/<name>/dns/zonefile")
@doc(summary="Import a zone file (replaces every record)", tags=TAGS, response=schemas.ZoneOut,
     body_types=(ZONE_FILE_MIME, "text/plain"),
     description="Send the zone file as the body (`text/dns` or `text/plain`). Its SOA and "
                 "apex NS records are ignored: they are managed for you.")
@require_scope("dns:write")
@before_transaction.server_serial
@transactional
def import_zone(name: str):
    text = request.get_data(as_text=True)
    if not text.strip():
        raise ValidationFailed({"zonefile": [str(_l("Send the zone file as the request body."))]})
    zone = services.import_zone_file(reseller_id=current_reseller_id(), name=name, text=text,
                                     settings=dns_settings())
    return zone_body(zone)


def zone_key_body(key: ZoneKey, *, with_secret: bool = False) -> dict[str, Any]:
    body = {"id": key.id, "zone": key.zone.name, "name": key.key_name,
            "algorithm": keys.ALGORITHM, "scope": key.scope,
            "server": dns_settings().server_for(key.scope),
            "allowed": keys.allowed_text(key.scope, key.zone.name),
            "installed": key.installed_at is not None, "created_at": key.created_at}
    if with_secret:
        body["secret"] = key.secret
    return schemas.ZoneKeyOut().dump(body)


@bp.post("/domains/<name>/dns/keys")
@doc(summary="Create a zone key (TSIG) for DNS UPDATE and AXFR tools", tags=TAGS,
     body=schemas.ZoneKeyIn, response=schemas.ZoneKeyOut, status=201, errors=(409,),
     description="`scope`: `acme` (TXT at `_acme-challenge` names: certbot, lego), "
                 "`records` (every record except the SOA and apex NS, and AXFR: octoDNS, "
                 "external-dns, Terraform, nsupdate) or `read` (AXFR only). The secret is "
                 "shown in this response only. Changes a key makes on the server become "
                 "the zone's records (`GET …/dns/changes` names the key). Only for an "
                 "active zone (`409 zone_pending`).")
@require_scope("dns:write")
@transactional
@secret_response
def create_zone_key(name: str):
    data = schemas.ZoneKeyIn().load_or_raise(json_body())
    key = keys.create_key(reseller_id=current_reseller_id(), zone_name=name,
                          scope=data["scope"], settings=dns_settings())
    return zone_key_body(key, with_secret=True), 201


@bp.get("/domains/<name>/dns/keys")
@doc(summary="List the zone's keys (without secrets)", tags=TAGS,
     response=schemas.ZoneKeyListOut, query=PAGE_QUERY)
@require_scope("dns:read")
@transactional
def list_zone_keys(name: str):
    cursor, limit = list_args()
    page = paginate(keys.keys_query(reseller_id=current_reseller_id(), zone_name=name),
                    key=ZoneKey.id, cursor=cursor, limit=limit)
    return page_body(page, [zone_key_body(key) for key in page.items])


@bp.delete("/domains/<name>/dns/keys/<int:key_id>")
@doc(summary="Revoke a zone key", tags=TAGS, status=204,
     description="The key stops working on the server within a second.")
@require_scope("dns:write")
@transactional
def delete_zone_key(name: str, key_id: int):
    keys.delete_key(reseller_id=current_reseller_id(), zone_name=name, key_id=key_id)
    return "", 204


def change_body(change: ZoneChange) -> dict[str, Any]:
    return schemas.ZoneChangeOut().dump({
        "id": change.id, "serial": change.serial, "origin": change.origin,
        "keys": change.key_names, "created_at": change.created_at,
        "published_at": change.published_at,
        "deletes": [RR(*item).as_dict() for item in change.deletes],
        "adds": [RR(*item).as_dict() for item in change.adds]})


@bp.get("/domains/<name>/dns/changes")
@doc(summary="The zone's changes, newest first", tags=TAGS,
     response=schemas.ZoneChangeListOut, query=PAGE_QUERY,
     description="Each change with its serial, whether it was made here (`tunnus`) or on "
                 "the server with a zone key (`server`, with the key's name).")
@require_scope("dns:read")
@transactional
def list_changes(name: str):
    cursor, limit = list_args()
    page = paginate(services.changes_query(reseller_id=current_reseller_id(), name=name),
                    key=ZoneChange.id, cursor=cursor, limit=limit, descending=True)
    return page_body(page, [change_body(change) for change in page.items])


def key_body(key: ZoneKey, *, with_secret: bool = False) -> dict[str, Any]:
    server = dns_settings().server_for("acme")
    host, _, port = server.rpartition(":")
    body = {
        "id": key.id, "zone": key.zone.name, "key_name": key.key_name,
        "algorithm": "hmac-sha256", "server": host or server,
        "port": int(port or 53), "allowed": keys.allowed_text("acme", key.zone.name),
        "created_at": key.created_at,
    }
    if with_secret:
        body["secret"] = key.secret
        body["certbot_ini"] = (
            f"dns_rfc2136_server = {body['server']}\ndns_rfc2136_port = {body['port']}\n"
            f"dns_rfc2136_name = {key.key_name}\ndns_rfc2136_secret = {key.secret}\n"
            f"dns_rfc2136_algorithm = HMAC-SHA256\n")
    return schemas.AcmeKeyOut().dump(body)


@bp.post("/domains/<name>/dns/acme-keys")
@doc(summary="Create a TSIG key for ACME DNS-01 (certbot-dns-rfc2136, octoDNS)", tags=TAGS,
     response=schemas.AcmeKeyOut, status=201, errors=(409,),
     description="The key may only change TXT records at `_acme-challenge` names of this "
                 "zone (the host need not exist). The secret is shown in this response; "
                 "`certbot_ini` is ready to use. The same as `POST …/dns/keys` with "
                 "`scope: acme`.")
@require_scope("dns:write")
@transactional
@secret_response
def create_acme_key(name: str):
    key = acme.create_key(reseller_id=current_reseller_id(), zone_name=name,
                          settings=dns_settings())
    return key_body(key, with_secret=True), 201


@bp.get("/domains/<name>/dns/acme-keys")
@doc(summary="List the zone's ACME keys (without secrets)", tags=TAGS,
     response=schemas.AcmeKeyListOut, query=PAGE_QUERY)
@require_scope("dns:read")
@transactional
def list_acme_keys(name: str):
    cursor, limit = list_args()
    page = paginate(acme.keys_query(reseller_id=current_reseller_id(), zone_name=name),
                    key=ZoneKey.id, cursor=cursor, limit=limit)
    return page_body(page, [key_body(key) for key in page.items])


@bp.delete("/domains/<name>/dns/acme-keys/<int:key_id>")
@doc(summary="Revoke an ACME key", tags=TAGS, status=204)
@require_scope("dns:write")
@transactional
def delete_acme_key(name: str, key_id: int):
    acme.delete_key(reseller_id=current_reseller_id(), zone_name=name, key_id=key_id)
    return "", 204


@bp.get("/nameservers")
@doc(summary="Your vanity nameservers, the glue records to create, and their status",
     tags=TAGS, response=schemas.VanityOut)
@require_scope("dns:read")
@transactional
def get_nameservers():
    return schemas.VanityOut().dump(vanity.vanity_view(current_reseller_id(), dns_settings()))


@bp.put("/nameservers")
@doc(summary="Declare vanity nameserver names (used once verified)", tags=TAGS,
     body=schemas.VanityIn, response=schemas.VanityOut)
@require_scope("dns:write")
@transactional
def put_nameservers():
    data = schemas.VanityIn().load_or_raise(json_body())
    vanity.set_vanity(reseller_id=current_reseller_id(), hostnames=data["hostnames"],
                      settings=dns_settings())
    return schemas.VanityOut().dump(vanity.vanity_view(current_reseller_id(), dns_settings()))


@bp.post("/nameservers/verify")
@doc(summary="Check the vanity names resolve to our nameservers and start using them", tags=TAGS,
     response=schemas.VanityOut, errors=(409,))
@require_scope("dns:write")
@before_transaction.vanity_names
@transactional
def verify_nameservers():
    vanity.verify_vanity(reseller_id=current_reseller_id(), settings=dns_settings(),
                         resolve=g.dns_resolved)
    return schemas.VanityOut().dump(vanity.vanity_view(current_reseller_id(), dns_settings()))


@bp.delete("/nameservers")
@doc(summary="Go back to the default nameservers", tags=TAGS, status=204)
@require_scope("dns:write")
@transactional
def delete_nameservers():
    vanity.clear_vanity(reseller_id=current_reseller_id(), settings=dns_settings())
    return "", 204


# -- URL forwarding ------------------------------------------------------------------------

def forward_body(forward: Forward) -> dict:
    return schemas.ForwardOut().dump(forward)


@forwarding_bp.get("/domains/<name>/forwarding")
@doc(summary="URL forwards of the zone", tags=FORWARDING_TAGS,
     response=schemas.ForwardListOut, query=PAGE_QUERY)
@require_scope("dns:read")
@transactional
def list_forwards(name: str):
    cursor, limit = list_args()
    query = forwarding.forwards_query(reseller_id=current_reseller_id(), zone_name=name)
    page = paginate(query, key=Forward.id, cursor=cursor, limit=limit)
    return page_body(page, [forward_body(f) for f in page.items])


@forwarding_bp.put("/domains/<name>/forwarding")
@doc(summary="Forward a host of the zone to a URL (free)", tags=FORWARDING_TAGS,
     body=schemas.ForwardIn, response=schemas.ForwardOut,
     description="The host's A/AAAA records are pointed at the forwarding server.")
@require_scope("dns:write")
@transactional
def put_forward(name: str):
    data = schemas.ForwardIn().load_or_raise(json_body())
    forward = forwarding.set_forward(reseller_id=current_reseller_id(), zone_name=name,
                                     settings=dns_settings(), **data)
    return forward_body(forward)


@forwarding_bp.delete("/domains/<name>/forwarding/<host>")
@doc(summary="Stop forwarding a host", tags=FORWARDING_TAGS, status=204)
@require_scope("dns:write")
@transactional
def delete_forward(name: str, host: str):
    forwarding.delete_forward(reseller_id=current_reseller_id(), zone_name=name, host=host,
                              settings=dns_settings())
    return "", 204


def _challenge() -> dict[str, str]:
    body = json_body()
    fqdn, value = body.get("fqdn"), body.get("value")
    errors = {key: [str(_l("Required."))] for key, item in (("fqdn", fqdn), ("value", value))
              if not isinstance(item, str) or not item}
    if errors:
        raise ValidationFailed(errors)
    return {"fqdn": fqdn, "value": value}


@httpreq.post("/present")
@basic_token  # lego sends the API token as the HTTP Basic password (any user name)
@require_scope("dns:write")
@transactional
def present():
    acme.present(reseller_id=current_reseller_id(), settings=dns_settings(), **_challenge())
    return jsonify({"status": "ok"})


@httpreq.post("/cleanup")
@basic_token
@require_scope("dns:write")
@transactional
def cleanup():
    acme.cleanup(reseller_id=current_reseller_id(), settings=dns_settings(), **_challenge())
    return jsonify({"status": "ok"})
