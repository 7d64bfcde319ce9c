"""Application input: the same schema validates the API and the /apply form."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from reseller.core.identity import (
    ALLOWED_COUNTRIES,
    InvalidIdentifier,
    normalize_business_id,
    normalize_vat_id,
)
from reseller.core.schemas import BaseSchema, Line, LineEmail

_PHONE = re.compile(r"^\+\d{1,3}\.\d{4,14}$")


class ApplicationIn(BaseSchema):
    # One-line fields: the company name is WHOIS's ``Reseller:`` until a brand is saved.
    company_name = Line(required=True, validate=validate.Length(min=2, max=200))
    country = fields.String(required=True, validate=validate.Length(equal=2))
    business_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    vat_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    website = fields.Url(required=True, schemes={"http", "https"}, require_tld=True,
                         validate=validate.Length(max=300))
    street = Line(load_default=None, allow_none=True, validate=validate.Length(max=200))
    city = Line(load_default=None, allow_none=True, validate=validate.Length(max=100))
    postal_code = Line(load_default=None, allow_none=True,
                       validate=validate.Length(max=20))
    contact_name = Line(required=True, validate=validate.Length(min=1, max=200))
    contact_email = LineEmail(required=True, validate=validate.Length(max=254))
    contact_phone = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Regexp(_PHONE, error="Use the form +CC.NUMBER, e.g. +358.401234567."))
    language = fields.String(load_default="en", validate=validate.OneOf(("fi", "sv", "en")))

    @validates_schema(skip_on_field_errors=False)
    def _identity(self, data: dict, **kwargs) -> None:
        errors: dict[str, list[str]] = {}
        country = (data.get("country") or "").upper()
        if country and country not in ALLOWED_COUNTRIES:
            errors["country"] = [
                "Only companies in the EU, the EEA or the United Kingdom can become resellers."
            ]
        elif country:
            if data.get("business_id"):
                try:
                    data["business_id"] = normalize_business_id(country, data["business_id"])
                except InvalidIdentifier as error:
                    errors["business_id"] = [str(error)]
            if data.get("vat_id"):
                try:
                    data["vat_id"] = normalize_vat_id(country, data["vat_id"])
                except InvalidIdentifier as error:
                    errors["vat_id"] = [str(error)]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _normalize(self, data: dict, **kwargs) -> dict:
        data["country"] = data["country"].upper()
        data["contact_email"] = data["contact_email"].lower()
        return {key: (value or None) if key in {"vat_id", "contact_phone"} else value
                for key, value in data.items()}


class ApplicationOut(BaseSchema):
    id = fields.Integer()
    company_name = fields.String()
    country = fields.String()
    business_id = fields.String()
    vat_id = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()


# Field labels for forms and messages (extracted for translation).
LABELS = {
    "company_name": _l("Company name"),
    "country": _l("Country"),
    "business_id": _l("Business ID"),
    "vat_id": _l("VAT ID"),
    "website": _l("Website"),
    "street": _l("Street address"),
    "city": _l("City"),
    "postal_code": _l("Postal code"),
    "contact_name": _l("Contact person"),
    "contact_email": _l("Contact email"),
    "contact_phone": _l("Contact phone"),
    "language": _l("Language"),
}
