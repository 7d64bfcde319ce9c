"""Forwarding API (``/api/v1/domains/<name>/forwarding``) and the redirect server: any
request whose Host is a forwarded name is answered with the redirect, whatever its path."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request
from marshmallow import fields, validate

from reseller.core.db import transactional
from reseller.core.pagination import paginate
from reseller.core.schemas import BaseSchema, StrictBoolean
from reseller.core.web.auth import current_reseller_id, require_scope
from reseller.core.web.helpers import json_body, list_args, page_body
from reseller.core.web.openapi import doc
from reseller.dns.records import is_ip_address
from reseller.dns.settings import dns_settings
from reseller.forwarding import services
from reseller.forwarding.models import Forward

bp = Blueprint("forwarding_api", __name__)
server = Blueprint("forwarding_server", __name__)


class ForwardIn(BaseSchema):
    host = fields.String(load_default="@", metadata={"example": "www"})
    target = fields.String(required=True, metadata={"example": "https://example.org/shop"})
    status = fields.Integer(load_default=301, strict=True, validate=validate.OneOf([301, 302]))
    preserve_path = StrictBoolean(load_default=True)
    preserve_query = StrictBoolean(load_default=True)


class ForwardOut(BaseSchema):
    host = fields.String()
    fqdn = fields.String()
    target = fields.String()
    status = fields.Integer()
    preserve_path = fields.Boolean()
    preserve_query = fields.Boolean()


def forward_body(forward: Forward) -> dict:
    return ForwardOut().dump(forward)


class ForwardListOut(BaseSchema):
    items = fields.List(fields.Nested(ForwardOut))
    next = fields.String(allow_none=True)


@bp.get("/domains/<name>/forwarding")
@doc(summary="URL forwards of the zone", tags=["URL forwarding"], response=ForwardListOut,
     query=[{"name": "cursor", "schema": {"type": "string"}},
            {"name": "limit", "schema": {"type": "integer"}}])
@require_scope("dns:read")
@transactional
def list_forwards(name: str):
    cursor, limit = list_args()
    page = paginate(services.forwards_query(reseller_id=current_reseller_id(), zone_name=name),
                    key=Forward.id, cursor=cursor, limit=limit)
    return page_body(page, [forward_body(f) for f in page.items])


@bp.put("/domains/<name>/forwarding")
@doc(summary="Forward a host of the zone to a URL (free)", tags=["URL forwarding"],
     body=ForwardIn, response=ForwardOut,
     description="The host's A/AAAA records are pointed at the forwarding server.")
@require_scope("dns:write")
@transactional
def put_forward(name: str):
    data = ForwardIn().load_or_raise(json_body())
    forward = services.set_forward(reseller_id=current_reseller_id(), zone_name=name,
                                   settings=dns_settings(), **data)
    return forward_body(forward)


@bp.delete("/domains/<name>/forwarding/<host>")
@doc(summary="Stop forwarding a host", tags=["URL forwarding"], status=204)
@require_scope("dns:write")
@transactional
def delete_forward(name: str, host: str):
    services.delete_forward(reseller_id=current_reseller_id(), zone_name=name, host=host,
                            settings=dns_settings())
    return "", 204


def _own_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]").lower() if host else ""
    base = (urlsplit(current_app.config["BASE_URL"]).hostname or "").lower()
    return not name or name in (base, "localhost") or is_ip_address(name) or "." not in name


@server.before_app_request
def serve_forward():
    if _own_host(request.host):
        return None
    forward = services.find_forward(request.host)
    if forward is None:
        return None
    location = services.redirect_location(forward, request.path,
                                          request.query_string.decode("latin-1"))
    response = redirect(location, code=forward.status)
    response.headers["Cache-Control"] = "no-cache" if forward.status == 302 else "max-age=3600"
    return response
