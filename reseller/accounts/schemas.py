"""API schemas for accounts, users and credentials."""

from marshmallow import fields, validate

from reseller.core.permissions import SCOPES, Role
from reseller.core.schemas import BaseSchema, StrictInteger

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
