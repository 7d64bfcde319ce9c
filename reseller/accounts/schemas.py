"""API schemas for accounts, users and credentials."""

from marshmallow import fields, pre_load, validate

from reseller.core.permissions import SCOPES, Role
from reseller.core.schemas import BaseSchema, Line, LineEmail, StrictInteger

LANGUAGES = ("fi", "sv", "en")


class AccountOut(BaseSchema):
    id = fields.Integer()
    company_name = fields.String()
    country = fields.String()
    business_id = fields.String()
    vat_id = fields.String(allow_none=True)
    street = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    contact_email = fields.String()
    billing_email = fields.String(allow_none=True)
    einvoice_address = fields.String(allow_none=True)
    language = fields.String()
    payment_mode = fields.String()
    tier = fields.String()
    status = fields.String()
    closes_at = fields.DateTime(allow_none=True)
    deactivated_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class CloseAccountIn(BaseSchema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class UserOut(BaseSchema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean()
    language = fields.String(allow_none=True)
    totp_enabled = fields.Boolean()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)


class UserListOut(BaseSchema):
    items = fields.List(fields.Nested(UserOut))
    next = fields.String(allow_none=True)


class InviteUserIn(BaseSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))


class ChangeUserIn(BaseSchema):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))


_scope = fields.String(validate=validate.OneOf(sorted(SCOPES)))


class CreateTokenIn(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(_scope, required=True, validate=validate.Length(min=1))
    expires_in_days = StrictInteger(minimum=1, maximum=3650, load_default=None,
                                    allow_none=True)


class TokenOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    scopes = fields.Method("_scopes", metadata={"type": "array", "items": {"type": "string"}})
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    token = fields.String(dump_only=True, metadata={"description": "Shown once, at creation"})

    def _scopes(self, obj):
        return sorted(obj.scopes.split())


class CreateClientIn(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(_scope, required=True, validate=validate.Length(min=1))


class ClientOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    client_id = fields.String()
    scopes = fields.Method("_scopes", metadata={"type": "array", "items": {"type": "string"}})
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    client_secret = fields.String(dump_only=True, metadata={"description": "Shown once"})

    def _scopes(self, obj):
        return sorted(obj.scopes.split())


def _optional(field: type[fields.Field] = Line, max_length: int = 200, **kwargs) -> fields.Field:
    return field(load_default=None, allow_none=True, validate=validate.Length(max=max_length),
                 **kwargs)


class _FormIn(BaseSchema):
    """A form's fields: a blank optional field clears the value."""

    @pre_load
    def _blank_is_none(self, data: dict, **kwargs) -> dict:
        return {key: (value.strip() or None) if isinstance(value, str) else value
                for key, value in data.items()}


class CompanyDetailsIn(_FormIn):
    """The company and contact details a reseller edits (the country is fixed: VAT and
    the business register depend on it). Identifiers and the phone number are checked
    against the country by ``changes.update_details``."""

    company_name = Line(required=True, validate=validate.Length(min=2, max=200))
    business_id = Line(required=True, validate=validate.Length(min=1, max=40))
    vat_id = _optional(max_length=40)
    street = _optional()
    postal_code = _optional(max_length=20)
    city = _optional(max_length=100)
    website = _optional(fields.Url, 300, schemes={"http", "https"}, require_tld=True)
    contact_email = LineEmail(required=True, validate=validate.Length(max=254))
    contact_phone = _optional(max_length=40)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class BillingDetailsIn(_FormIn):
    billing_email = _optional(LineEmail, 254)
    einvoice_address = _optional(max_length=60)


class ChangeEmailIn(BaseSchema):
    email = LineEmail(required=True, validate=validate.Length(max=254))
    email_password = fields.String(required=True)
