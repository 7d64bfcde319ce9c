"""Schemas for ``/api/v1/whitelabel``: the brand, the sender domain and DNS checks."""

from __future__ import annotations

from marshmallow import fields, validate

from reseller.core.schemas import BaseSchema, Line, LineEmail


def N_(text: str) -> str:  # noqa: N802  (marks a message for extraction; translated on output)
    return text


COLOR = validate.Regexp(r"^#[0-9a-fA-F]{6}$", error=N_("Use a colour like #1f5f8b."))
HTTPS_URL = validate.URL(schemes={"https"}, require_tld=True)


class BrandIn(BaseSchema):
    """Every field is one line: the name is WHOIS's ``Reseller:`` and mail's From name."""

    name = Line(validate=validate.Length(min=1, max=100))
    logo_url = Line(allow_none=True, validate=[validate.Length(max=500), HTTPS_URL])
    primary_color = Line(validate=COLOR)
    accent_color = Line(validate=COLOR)
    support_email = LineEmail(allow_none=True, validate=validate.Length(max=254))
    support_phone = Line(allow_none=True, validate=[
        validate.Length(max=40), validate.Regexp(r"^\+?[0-9 ()-]{5,40}$",
                                                 error=N_("Use digits, spaces and + only."))])
    support_url = Line(allow_none=True, validate=[validate.Length(max=500), HTTPS_URL])
    default_language = fields.String(validate=validate.OneOf(("fi", "sv", "en")))
    sender_domain = Line(allow_none=True, validate=validate.Length(min=1, max=253),
                         metadata={"description": "null removes it"})


class BrandOut(BaseSchema):
    name = fields.String()
    logo_url = fields.String(allow_none=True)
    primary_color = fields.String()
    accent_color = fields.String()
    support_email = fields.String(allow_none=True)
    support_phone = fields.String(allow_none=True)
    support_url = fields.String(allow_none=True)
    default_language = fields.String()


class RecordOut(BaseSchema):
    purpose = fields.String()
    type = fields.String()
    name = fields.String()
    value = fields.String()
    required = fields.Boolean()


class CheckOut(BaseSchema):
    purpose = fields.String()
    type = fields.String()
    name = fields.String()
    expected = fields.String()
    found = fields.List(fields.String())
    required = fields.Boolean()
    ok = fields.Boolean()
    problem = fields.String(allow_none=True, metadata={
        "description": "missing, wrong_value, multiple or lookup_failed"})
    detail = fields.String(allow_none=True)


class SenderDomainOut(BaseSchema):
    domain = fields.String()
    status = fields.String(metadata={"description": "pending, verified or paused"})
    records = fields.List(fields.Nested(RecordOut))
    checks = fields.List(fields.Nested(CheckOut))
    last_checked_at = fields.DateTime(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
    paused_at = fields.DateTime(allow_none=True)


class WhitelabelOut(BaseSchema):
    brand = fields.Nested(BrandOut)
    sender_domain = fields.Nested(SenderDomainOut, allow_none=True)
    mail_from = fields.String(metadata={"description": "The From address mail uses now"})
    link_host = fields.String(metadata={"description": "Where registrant links point now"})


class VerifyOut(BaseSchema):
    domain = fields.String()
    status = fields.String()
    verified = fields.Boolean()
    checks = fields.List(fields.Nested(CheckOut))
