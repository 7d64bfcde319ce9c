"""API shapes for zones, records, vanity nameservers, zone keys, changes and URL forwards. Marshmallow checks the
shape; ``reseller.dns.records`` checks the DNS meaning (dnspython) with index-keyed errors."""

from __future__ import annotations

from marshmallow import fields, validate

from reseller.core.schemas import BaseSchema, StrictBoolean, StrictInteger
from reseller.dns.records import RECORD_TYPES


class RecordIn(BaseSchema):
    name = fields.String(load_default="@", metadata={"example": "www"})
    type = fields.String(required=True, metadata={"enum": list(RECORD_TYPES)})
    ttl = StrictInteger(minimum=0, load_default=3600, metadata={"example": 3600})
    value = fields.String(required=True, metadata={"example": "192.0.2.10"})


class RecordOut(BaseSchema):
    name = fields.String()
    type = fields.String()
    ttl = fields.Integer()
    value = fields.String()


class RemoveIn(BaseSchema):
    name = fields.String(load_default="@")
    type = fields.String(required=True)
    ttl = StrictInteger(minimum=0)
    value = fields.String(load_default=None, allow_none=True,
                          metadata={"description": "Omit to remove the whole RRset."})


class ZonePutIn(BaseSchema):
    records = fields.List(fields.Nested(RecordIn), load_default=None,
                          metadata={"description": "The zone's complete record set."})
    template = fields.String(load_default=None, validate=validate.OneOf(["default"]),
                             metadata={"description": "Use the default template instead."})


class ZonePatchIn(BaseSchema):
    add = fields.List(fields.Nested(RecordIn), load_default=list)
    remove = fields.List(fields.Nested(RemoveIn), load_default=list)


class VerificationOut(BaseSchema):
    txt = fields.Nested(RecordOut, metadata={
        "description": "Publish this TXT record where the name is served today."})
    nameservers = fields.List(fields.String(), metadata={
        "description": "Or delegate the name to exactly these nameservers (your verified "
                       "vanity names; empty: only the TXT record counts)."})
    checked_at = fields.String(allow_none=True)
    problems = fields.List(fields.String())


class SyncOut(BaseSchema):
    checked_at = fields.String()
    outcome = fields.String(metadata={
        "description": "same; adopted (a zone key's change became the zone's records); "
                       "rejected (a zone key's change broke the zone rules and was "
                       "reverted); repaired (a change made without a key of this zone was "
                       "reverted); or a combination such as adopted+repaired."})
    problems = fields.List(fields.String())


class ZoneOut(BaseSchema):
    name = fields.String()
    status = fields.String(metadata={
        "enum": ["active", "pending"],
        "description": "`pending`: not published until you prove control of the name "
                       "(see `verification`)."})
    serial = fields.Integer()
    nameservers = fields.List(fields.String())
    published = fields.Boolean(metadata={"description": "The server has every change."})
    published_serial = fields.Integer(allow_none=True, metadata={
        "description": "The serial last published, or read back from the server."})
    server_serial = fields.Integer(allow_none=True, metadata={
        "description": "The serial the server serves now (null: not served, or the server "
                       "did not answer)."})
    serials_agree = fields.Boolean(metadata={
        "description": "`server_serial` equals `published_serial`. False for a moment "
                       "after a zone key wrote to the server, until the change is read back "
                       "(`last_sync`)."})
    last_sync = fields.Nested(SyncOut, allow_none=True)
    records = fields.List(fields.Nested(RecordOut))
    verification = fields.Nested(VerificationOut, allow_none=True, metadata={
        "description": "For a pending zone: what proves control. Null when active."})
    unpublished_reason = fields.String(allow_none=True, metadata={
        "description": "Why an active zone was taken off the server: zone_held_elsewhere, "
                       "zone_inside_other_zone or domain_left."})


class VanityIn(BaseSchema):
    hostnames = fields.List(fields.String(), required=True,
                            validate=validate.Length(min=2, max=4),
                            metadata={"example": ["ns1.yourcompany.fi", "ns2.yourcompany.fi"]})


class GlueOut(BaseSchema):
    hostname = fields.String()
    type = fields.String()
    value = fields.String()


class VanityOut(BaseSchema):
    hostnames = fields.List(fields.String())
    verified = fields.Boolean()
    verified_at = fields.DateTime(allow_none=True)
    glue = fields.List(fields.Nested(GlueOut))
    problems = fields.List(fields.String())
    in_use = fields.List(fields.String())


class AcmeKeyOut(BaseSchema):
    id = fields.Integer()
    zone = fields.String()
    key_name = fields.String()
    algorithm = fields.String()
    secret = fields.String(metadata={"description": "Shown only when the key is created."})
    server = fields.String()
    port = fields.Integer()
    allowed = fields.String()
    created_at = fields.DateTime()
    certbot_ini = fields.String()


class ZoneKeyIn(BaseSchema):
    scope = fields.String(required=True, validate=validate.OneOf(["acme", "records", "read"]),
                          metadata={"example": "records"})


class ZoneKeyOut(BaseSchema):
    id = fields.Integer()
    zone = fields.String()
    name = fields.String(metadata={"description": "The TSIG key name."})
    algorithm = fields.String(metadata={"example": "hmac-sha256"})
    secret = fields.String(metadata={"description": "Base64; shown only when the key is "
                                                    "created."})
    scope = fields.String(metadata={"enum": ["acme", "records", "read"]})
    server = fields.String(metadata={
        "description": "host:port to send the key's DNS UPDATEs and AXFRs to: the "
                       "nameserver, or for `acme` keys the DNS update gate where the "
                       "operator runs one.",
        "example": "192.0.2.53:53"})
    allowed = fields.String()
    installed = fields.Boolean(metadata={"description": "The server has the key."})
    created_at = fields.DateTime()


class ZoneKeyListOut(BaseSchema):
    items = fields.List(fields.Nested(ZoneKeyOut))
    next = fields.String(allow_none=True)


class ZoneChangeOut(BaseSchema):
    id = fields.Integer()
    serial = fields.Integer()
    origin = fields.String(metadata={
        "enum": ["tunnus", "server"],
        "description": "`tunnus`: made here (API, client area, WHMCS); `server`: made on "
                       "the server with a zone key and adopted."})
    keys = fields.List(fields.String(), metadata={
        "description": "For `server`: the zone keys whose scope admits the change."})
    deletes = fields.List(fields.Nested(RecordOut))
    adds = fields.List(fields.Nested(RecordOut))
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class ZoneChangeListOut(BaseSchema):
    items = fields.List(fields.Nested(ZoneChangeOut))
    next = fields.String(allow_none=True)


class AcmeKeyListOut(BaseSchema):
    items = fields.List(fields.Nested(AcmeKeyOut))
    next = fields.String(allow_none=True)


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


class ForwardListOut(BaseSchema):
    items = fields.List(fields.Nested(ForwardOut))
    next = fields.String(allow_none=True)
