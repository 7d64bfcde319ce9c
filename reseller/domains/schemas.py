"""API schemas for contacts, availability, orders and domains (In/Out pairs)."""

from __future__ import annotations

import re

import phonenumbers
from babel import Locale
from marshmallow import (
    ValidationError,
    fields,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from reseller.core.identity import InvalidIdentifier
from reseller.core.schemas import AMOUNT_PATTERN, BaseSchema, Id, Line, LineEmail, StrictBoolean
from reseller.domains import identity
from wallet.money import Money

LANGUAGES = ("fi", "sv", "en")
PHONE = re.compile(r"^\+\d{1,3}\.\d{4,14}$")
AMOUNT = re.compile(AMOUNT_PATTERN)  # ASCII digits only: no "1e2", no other scripts
COUNTRIES = frozenset(code for code in Locale("en").territories
                      if len(code) == 2 and code.isalpha() and code.isupper())


def normalize_phone(value: str | None, country: str | None = None) -> str:
    """A phone number as typed, in the registry's ``+CC.NUMBER`` form. A national number
    (no ``+``/``00``) is read in ``country``'s numbering plan; ``ValidationError`` when it
    is no possible number (phonenumbers' metadata, libphonenumber's rules)."""
    text = (value or "").strip()
    if PHONE.fullmatch(text):
        return text
    region = (country or "").upper() if (country or "").upper() in COUNTRIES else None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text.replace(".", " ", 1) if text.startswith("+")
                                    else text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        if not text.startswith("+") and region is None:
            raise ValidationError("Start with the country code, e.g. +358 40 1234567.")
        raise ValidationError("This is not a phone number we recognise. Write it as "
                              "+358 40 1234567 or, for the contact's country, 040 1234567.")
    national = str(number.national_number)
    if number.italian_leading_zero:
        national = "0" * (number.number_of_leading_zeros or 1) + national
    normalised = f"+{number.country_code}.{national}"
    if not PHONE.fullmatch(normalised):
        raise ValidationError("Use the form +CC.NUMBER, e.g. +358.401234567.")
    return normalised


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
    phone = Line(required=True, metadata={
        "description": "Any common format (+358 40 1234567, or 040 1234567 read in the "
                       "contact's country); stored and returned as the registry's "
                       "+CC.NUMBER, e.g. +358.401234567.", "example": "+358.401234567"})
    street = Line(required=True, validate=validate.Length(min=1, max=255))
    city = Line(required=True, validate=validate.Length(min=1, max=100))
    postal_code = Line(required=True, validate=validate.Length(min=1, max=20))
    country = Line(required=True)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    entity_type = fields.String(allow_none=True, validate=validate.OneOf(identity.ENTITY_TYPES),
                                metadata={"description": (
                                    "Who holds the contact: a person or an organisation "
                                    "type (default: company with an organization, else "
                                    "person). .fi/.se/.nu registrants need it with their "
                                    "number.")})
    registration_number = Line(allow_none=True, validate=validate.Length(max=40), metadata={
        "description": "An organisation's business/organisation number (FI Y-tunnus, SE "
                       "organisationsnummer; checked for FI and SE). Shown masked."})
    personal_id = Line(allow_none=True, validate=validate.Length(max=40), metadata={
        "description": "A person's identity code (FI henkilötunnus, SE personnummer; checked "
                       "for FI and SE). Encrypted at rest, shown masked, sent only to the "
                       "registry."})
    citizenship = Line(allow_none=True, metadata={
        "description": "A person's country of citizenship (ISO 3166-1 alpha-2). .eu takes EU "
                       "citizens living outside the EU/EEA (EURid's registration policy)."})

    @validates_schema
    def _identity(self, data: dict, **_kwargs) -> None:
        """Numbers checked for the contact's country; a masked value (as the API shows
        it) is passed on for the service to match against the stored one."""
        country = data.get("country") or ""
        errors = {}
        checks = (("registration_number", identity.normalize_registration_number),
                  ("personal_id", identity.normalize_personal_id))
        for field, normalize in checks:
            value = data.get(field)
            if not value or identity.is_masked(value):
                continue
            try:
                data[field] = normalize(country, value)
            except InvalidIdentifier as error:
                errors[field] = [str(error)]
        kind = identity.entity_type_of(entity_type=data.get("entity_type"),
                                       organization=data.get("organization"))
        if kind == "person" and data.get("registration_number"):
            errors.setdefault("registration_number", []).append(
                "A person has a personal_id, not a registration_number.")
        if kind != "person" and data.get("personal_id"):
            errors.setdefault("personal_id", []).append(
                "An organisation has a registration_number, not a personal_id.")
        if errors:
            raise ValidationError(errors)

    @pre_load
    def _country_as_typed(self, data, **_kwargs):
        """" fi" is FI: the code is compared upper case, spaces around ignored."""
        for key in ("country", "citizenship"):
            if isinstance(data, dict) and isinstance(data.get(key), str):
                data = {**data, key: data[key].strip(" ").upper()}
        return data

    @validates_schema(skip_on_field_errors=False)
    def _phone(self, data: dict, **_kwargs) -> None:
        """Any common way of writing the number (``+358 40 1234567``, ``040 123 4567`` read
        with the contact's country as the region, ``00358…``) stored as the registry's
        ``+CC.NUMBER`` (RFC 5733 ``contact:voice``)."""
        if "phone" not in data:
            return
        try:
            data["phone"] = normalize_phone(data["phone"], data.get("country"))
        except ValidationError as error:
            raise ValidationError(error.messages, "phone") from None

    @validates("country")
    def _country(self, value: str, **_kwargs) -> None:
        if value not in COUNTRIES:
            raise ValidationError("Use an ISO 3166-1 alpha-2 country code, e.g. FI.")

    @validates("citizenship")
    def _citizenship(self, value: str | None, **_kwargs) -> None:
        if value is not None and value not in COUNTRIES:
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
    citizenship = fields.String(allow_none=True)
    entity_type = fields.Method("_entity_type", metadata={"type": "string"})
    registration_number = fields.Method("_registration_number", allow_none=True,
                                        metadata={"type": "string", "description": "masked"})
    personal_id = fields.Method("_personal_id", allow_none=True,
                                metadata={"type": "string", "description": "masked"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _entity_type(self, contact) -> str:
        return identity.entity_type_of(entity_type=contact.entity_type,
                                       organization=contact.organization)

    def _registration_number(self, contact) -> str | None:
        return identity.mask(contact.registration_number)

    def _personal_id(self, contact) -> str | None:
        return identity.mask(contact.personal_id)


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
    reason = Line(validate=validate.Length(min=1, max=500), metadata={
        "description": "Why the name is restored, for the RFC 3915 restore report the "
                       "registry receives (default: the registrant asked for it)"})


class TransferIn(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    auth_code = fields.String(required=True, validate=validate.Length(max=255))
    contacts = fields.Nested(ContactsIn, load_default=None, allow_none=True)
    accept_price = AcceptPrice()


class OwnerChangeIn(BaseSchema):
    registrant = Id(required=True)
    # The reseller holds the current registrant's explicit authorisation to approve the
    # change for it (ICANN Transfer Policy's Designated Agent): no e-mail is sent.
    designated_agent = fields.Boolean(load_default=False)
    lock_opt_out = fields.Boolean(load_default=False)  # with designated_agent only


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
    approval = fields.Method("_approval", metadata={
        "type": "object", "nullable": True,
        "description": "Owner changes: the current registrant's consent (state awaiting, "
                       "approved or not_required; by; deadline)."})

    def _approval(self, order) -> dict | None:
        return (order.params or {}).get("approval") if order.kind == "owner_change" else None

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


PENDING_CHANGE_DOC = {
    "type": ["object", "null"],
    "description": "A registry command for this domain not confirmed yet: being sent "
                   "right now (for a moment; another command meanwhile is a 409 "
                   "`change_pending`), or sent and its answer lost. The fields shown are "
                   "as before it until the registry confirms it (a lost answer: within "
                   "about a minute once the registry answers; then "
                   "`domain.registry_changed` with `source: recovery` says what it did).",
    "required": ["operation", "values", "requested_at", "transaction_id"],
    "properties": {
        "operation": {"type": "string", "enum": ["nameservers", "ds", "lock", "contacts",
                                                 "hold", "registrant", "delete", "host_set",
                                                 "host_delete"]},
        "values": {"type": "object"}, "requested_at": {"type": "string",
                                                       "format": "date-time"},
        "transaction_id": {"type": "string"}}}


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
    pending_change = fields.Function(lambda domain: pending_change_out(domain.pending_change),
                                     metadata=PENDING_CHANGE_DOC)


def pending_change_out(change: dict | None) -> dict | None:
    """A change whose answer from the registry was lost, as the API shows it (the contact
    handles it carries stay internal)."""
    if not change:
        return None
    values = {k: v for k, v in change["params"].items() if not k.endswith("_handle")}
    return {"operation": change["operation"], "values": values,
            "requested_at": change["requested_at"], "transaction_id": change["transaction_id"]}


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
