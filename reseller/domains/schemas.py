"""API schemas for contacts, availability, orders and domains (In/Out pairs)."""

from __future__ import annotations

import re

from babel import Locale
from marshmallow import ValidationError, fields, validate, validates

from reseller.core.schemas import AMOUNT_PATTERN, BaseSchema, Id, Line, LineEmail, StrictBoolean
from wallet.money import Money

LANGUAGES = ("fi", "sv", "en")
PHONE = re.compile(r"^\+\d{1,3}\.\d{4,14}$")
AMOUNT = re.compile(AMOUNT_PATTERN)  # ASCII digits only: no "1e2", no other scripts
COUNTRIES = frozenset(code for code in Locale("en").territories
                      if len(code) == 2 and code.isalpha() and code.isupper())


def parse_price(value: object) -> Money:
    """A net EUR amount the caller accepts, as a decimal string ("250.00"): JSON numbers,
    exponents, more than two decimals and negative amounts are refused."""
    if not isinstance(value, str) or not AMOUNT.fullmatch(value):
        raise ValidationError('Give a decimal string with at most two decimals, e.g. "250.00".')
    price = Money.of(value, "EUR")
    if price.is_negative():
        raise ValidationError("Must be zero or more.")
    return price


class AcceptPrice(fields.String):
    """``accept_price``: the most (net, EUR) the caller agrees to pay; loads as Money."""

    def __init__(self, **kwargs) -> None:
        metadata = {"type": "string", "format": "decimal", "pattern": AMOUNT.pattern,
                    "example": "250.00", "description": (
                        "The highest net price in EUR you accept for this order. Required "
                        "for a premium name (409 price_not_accepted without it); any price "
                        "above it is refused with 409 price_not_accepted and the quoted "
                        "price."), **kwargs.pop("metadata", {})}
        super().__init__(load_default=None, allow_none=True, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Money:
        return parse_price(value)


class ContactIn(BaseSchema):
    """Every text field is one line: WHOIS prints each as a ``Key: value`` line."""

    name = Line(required=True, validate=validate.Length(min=1, max=255))
    organization = Line(load_default=None, allow_none=True, validate=validate.Length(max=255))
    email = LineEmail(required=True, validate=validate.Length(max=254))
    phone = Line(required=True)
    street = Line(required=True, validate=validate.Length(min=1, max=255))
    city = Line(required=True, validate=validate.Length(min=1, max=100))
    postal_code = Line(required=True, validate=validate.Length(min=1, max=20))
    country = Line(required=True)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))

    @validates("phone")
    def _phone(self, value: str, **_kwargs) -> None:
        if not PHONE.fullmatch(value or ""):
            raise ValidationError("Use the form +CC.NUMBER, e.g. +358.401234567.")

    @validates("country")
    def _country(self, value: str, **_kwargs) -> None:
        if value not in COUNTRIES:
            raise ValidationError("Use an ISO 3166-1 alpha-2 country code, e.g. FI.")


class ContactOut(BaseSchema):
    id = fields.Integer()
    handle = fields.String()
    name = fields.String()
    organization = fields.String(allow_none=True)
    email = fields.String()
    phone = fields.String()
    street = fields.String()
    city = fields.String()
    postal_code = fields.String()
    country = fields.String()
    language = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ContactListOut(BaseSchema):
    items = fields.List(fields.Nested(ContactOut))
    next = fields.String(allow_none=True)


class PriceOut(BaseSchema):
    currency = fields.String()
    net = fields.String()
    vat = fields.String()
    total = fields.String()


class CheckResultOut(BaseSchema):
    name = fields.String()
    unicode_name = fields.String()
    available = fields.Boolean()
    premium = fields.Boolean()
    period = fields.Integer()
    price = fields.Nested(PriceOut)
    reason = fields.String(allow_none=True)


class CheckOut(BaseSchema):
    results = fields.List(fields.Nested(CheckResultOut))


class ContactsIn(BaseSchema):
    registrant = Id(required=True)
    admin = Id(load_default=None, allow_none=True)
    tech = Id(load_default=None, allow_none=True)


class ContactsUpdateIn(BaseSchema):
    registrant = Id(load_default=None, allow_none=True)
    admin = Id(load_default=None, allow_none=True)
    tech = Id(load_default=None, allow_none=True)


_period = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10))


class RegisterIn(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    period = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10))
    contacts = fields.Nested(ContactsIn, required=True)
    nameservers = fields.List(Line(), load_default=list, validate=validate.Length(max=13))
    privacy = StrictBoolean(load_default=False)
    auto_renew = StrictBoolean(load_default=True)
    accept_price = AcceptPrice()
    claims_ack = Line(load_default=None, allow_none=True, validate=validate.Length(max=64),
                      metadata={"description": "The id of the trademark claims notice the "
                                "registrant was shown and acknowledged (409 "
                                "claims_notice_required carries it)"})


class RenewIn(BaseSchema):
    period = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10))
    accept_price = AcceptPrice()


class RestoreIn(BaseSchema):
    accept_price = AcceptPrice()


class TransferIn(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    auth_code = fields.String(required=True, validate=validate.Length(max=255))
    contacts = fields.Nested(ContactsIn, load_default=None, allow_none=True)
    accept_price = AcceptPrice()


class OwnerChangeIn(BaseSchema):
    registrant = Id(required=True)


class BulkRenewIn(BaseSchema):
    names = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=500))
    period = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10))


class OrderOut(BaseSchema):
    id = fields.Integer()
    kind = fields.String()
    domain = fields.String(attribute="domain_name")
    unicode_name = fields.String()
    period = fields.Integer(allow_none=True)
    state = fields.String()
    premium = fields.Boolean()
    price = fields.Method("_price", metadata={
        "allOf": [{"$ref": "#/components/schemas/PriceOut"}]})
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)

    def _price(self, order) -> dict:
        return {"currency": order.currency, "net": f"{order.net:.2f}",
                "vat": f"{order.vat:.2f}", "total": f"{order.total:.2f}"}


class OrderListOut(BaseSchema):
    items = fields.List(fields.Nested(OrderOut))
    next = fields.String(allow_none=True)


class BulkItemOut(BaseSchema):
    name = fields.String()
    order = fields.Nested(OrderOut, allow_none=True)
    error = fields.Dict(allow_none=True)


class BulkOut(BaseSchema):
    results = fields.List(fields.Nested(BulkItemOut))


class ImportRowOut(BaseSchema):
    row = fields.Integer()
    name = fields.String(allow_none=True)
    order = fields.Nested(OrderOut, allow_none=True)
    error = fields.Dict(allow_none=True)


class ImportOut(BaseSchema):
    accepted = fields.Integer()
    rejected = fields.Integer()
    rows = fields.List(fields.Nested(ImportRowOut))


class ImportIn(BaseSchema):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=1_000_000))


class DsRecord(BaseSchema):
    key_tag = fields.Integer(required=True, strict=True, validate=validate.Range(0, 65535))
    algorithm = fields.Integer(required=True, strict=True, validate=validate.Range(0, 255))
    digest_type = fields.Integer(required=True, strict=True, validate=validate.Range(0, 255))
    digest = fields.String(required=True)


class HostOut(BaseSchema):
    name = fields.String()
    addresses = fields.List(fields.String())


class DomainContactsOut(BaseSchema):
    registrant = fields.Integer(attribute="registrant_id")
    admin = fields.Integer(attribute="admin_id", allow_none=True)
    tech = fields.Integer(attribute="tech_id", allow_none=True)


class DomainOut(BaseSchema):
    name = fields.String()
    unicode_name = fields.String()
    tld = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    auto_renew = fields.Boolean()
    locked = fields.Boolean()
    privacy = fields.Boolean()
    transfer_lock_until = fields.DateTime(allow_none=True)
    transfer_out_pending = fields.Boolean()
    suspended = fields.Boolean(metadata={"description": "On hold until the registrant's "
                                         "email address is verified"})
    nameservers = fields.List(fields.String())
    hosts = fields.List(fields.Nested(HostOut))
    contacts = fields.Function(lambda domain: DomainContactsOut().dump(domain), metadata={
        "type": "object", "required": ["registrant", "admin", "tech"],
        "properties": {"registrant": {"type": "integer"},
                       "admin": {"type": ["integer", "null"]},
                       "tech": {"type": ["integer", "null"]}}})
    ds = fields.List(fields.Nested(DsRecord))


class DomainListOut(BaseSchema):
    items = fields.List(fields.Nested(DomainOut))
    next = fields.String(allow_none=True)


class NameserversIn(BaseSchema):
    nameservers = fields.List(Line(), required=True)


class HostIn(BaseSchema):
    addresses = fields.List(fields.String(), required=True)


class DnssecIn(BaseSchema):
    ds = fields.List(fields.Dict(), required=True)


class LockIn(BaseSchema):
    locked = StrictBoolean(required=True)


class PrivacyIn(BaseSchema):
    privacy = StrictBoolean(required=True)


class AutoRenewIn(BaseSchema):
    auto_renew = StrictBoolean(required=True)


class TransferOutIn(BaseSchema):
    approve = StrictBoolean(required=True)


class AuthCodeOut(BaseSchema):
    auth_code = fields.String()
