"""Support API schemas (in/out pairs). Amounts are decimal strings; times RFC 3339."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from reseller.core.schemas import BaseSchema, Line, StrictBoolean
from reseller.support.models import CATEGORIES, CHANNELS, CYCLES, LEVELS, PRIORITIES, STATUSES

_DECIMAL = {"type": "string", "format": "decimal", "example": "99.00"}


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _amount(name: str, **kwargs: Any) -> fields.Function:
    """A Decimal attribute (or dict key) as a decimal string."""
    return fields.Function(lambda obj: _money(_get(obj, name)), required=True,
                           metadata={**_DECIMAL, **kwargs.pop("metadata", {})}, **kwargs)


class PlanIn(BaseSchema):
    plan = fields.String(required=True, validate=validate.Length(min=1, max=30),
                         metadata={"example": "pro"})
    cycle = fields.String(load_default="monthly", validate=validate.OneOf(CYCLES))


class PlanInfoOut(BaseSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    description = fields.String(required=True)
    by_quote = fields.Boolean(required=True)
    included_hours = _amount("included_hours")
    hourly_rate = _amount("hourly_rate")
    hourly_rate_outside = _amount("hourly_rate_outside")
    first_response_hours = fields.Integer(required=True)
    next_response_hours = fields.Integer(required=True)
    around_the_clock = fields.Boolean(required=True, metadata={
        "description": "Urgent tickets are counted around the clock (24/7)"})
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), required=True)
    unlimited_tickets = fields.Boolean(required=True)


class OfferOut(PlanInfoOut):
    monthly_price = fields.String(allow_none=True, required=True, metadata=_DECIMAL)
    yearly_price = fields.String(allow_none=True, required=True, metadata=_DECIMAL)


class HoursOut(BaseSchema):
    month = fields.String(required=True, metadata={"example": "2027-03"})
    included = _amount("included")
    used = _amount("used")
    left = _amount("left")
    quoted = _amount("quoted")


class SubscriptionOut(BaseSchema):
    plan = fields.Nested(PlanInfoOut, required=True)
    cycle = fields.String(required=True, validate=validate.OneOf(CYCLES))
    price = fields.String(allow_none=True, required=True, metadata=_DECIMAL)
    currency = fields.String(required=True)
    period_start = fields.Date(allow_none=True, required=True)
    next_renewal = fields.Date(allow_none=True, required=True)
    next_charge = fields.String(allow_none=True, required=True, metadata=_DECIMAL)
    phone_number = fields.String(allow_none=True, required=True, metadata={
        "description": "The support phone, for plans with the phone channel"})
    oncall_number = fields.String(allow_none=True, required=True, metadata={
        "description": "The 24/7 on-call number, only for plans that include it"})
    hours = fields.Nested(HoursOut, required=True)
    offers = fields.List(fields.Nested(OfferOut), required=True)


class PreviewOut(BaseSchema):
    plan = fields.String(required=True)
    cycle = fields.String(required=True)
    previous_plan = fields.String(required=True)
    previous_cycle = fields.String(required=True)
    effective_on = fields.Date(required=True)
    price = fields.String(required=True, metadata=_DECIMAL)
    credit = fields.String(required=True, metadata={
        **_DECIMAL, "description": "Net value of the unused part of the current plan"})
    charge = fields.String(required=True, metadata={
        **_DECIMAL, "description": "Net price of the new plan from today to the renewal"})
    amount_due = fields.String(required=True, metadata={
        **_DECIMAL, "description": "Net amount charged now (charge − credit, at least 0)"})
    refund = fields.String(required=True, metadata={
        **_DECIMAL, "description": "Net amount given back now (credit − charge, at least 0)"})
    vat = fields.String(required=True, metadata=_DECIMAL)
    total = fields.String(required=True, metadata={
        **_DECIMAL, "description": "What the wallet moves now with VAT (negative: back)"})
    vat_rate = fields.String(required=True, metadata={"example": "25.5"})
    currency = fields.String(required=True)
    days_left = fields.Integer(required=True)
    cycle_days = fields.Integer(required=True)
    next_renewal = fields.Date(allow_none=True, required=True)


class ChangeOut(PreviewOut):
    change_id = fields.Integer(required=True)


_ID = {"type": "integer"}


class Base64Bytes(fields.String):
    """A file as a base64 string (standard alphabet, padded)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bytes:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValidationError(_l("Send the file as base64.")) from error


class AttachmentIn(BaseSchema):
    filename = Line(required=True, validate=validate.Length(min=1, max=200))
    content_type = Line(required=True, validate=validate.Length(min=3, max=100),
                        metadata={"example": "image/png"})
    data = Base64Bytes(required=True, validate=validate.Length(min=1, max=8_000_000),
                       metadata={"description": "The file, base64", "format": "byte"})


class TicketIn(BaseSchema):
    subject = Line(required=True, validate=validate.Length(min=3, max=200))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    domain = Line(load_default=None, allow_none=True, validate=validate.Length(max=253))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20_000))
    attachments = fields.List(fields.Nested(AttachmentIn), load_default=list,
                              validate=validate.Length(max=10))


class MessageIn(BaseSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=20_000))
    attachments = fields.List(fields.Nested(AttachmentIn), load_default=list,
                              validate=validate.Length(max=10))
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(["solved", "closed"]), metadata={
                               "description": "Also mark the ticket solved or closed"})


class AttachmentOut(BaseSchema):
    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class MessageOut(BaseSchema):
    id = fields.Integer(required=True)
    author = fields.String(attribute="author_name", required=True)
    from_staff = fields.Boolean(required=True)
    channel = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    attachments = fields.List(fields.Nested(AttachmentOut), required=True)


class TicketOut(BaseSchema):
    id = fields.Integer(required=True)
    subject = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    domain = fields.String(allow_none=True, required=True)
    channel = fields.String(required=True)
    plan = fields.String(attribute="plan_code", required=True)
    first_response_due = fields.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "When the first reply is due (RFC 3339)"})
    next_response_due = fields.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "When the next reply we owe is due; null while none is owed "
                       "(e.g. waiting on you: the clock is paused)"})
    first_responded_at = fields.AwareDateTime(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    solved_at = fields.AwareDateTime(allow_none=True, required=True)
    closed_at = fields.AwareDateTime(allow_none=True, required=True)


class QuoteOut(BaseSchema):
    id = fields.Integer(required=True)
    hours = _amount("hours")
    hourly_rate = _amount("hourly_rate")
    amount = _amount("net")
    description = fields.String(required=True)
    state = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    decided_at = fields.AwareDateTime(allow_none=True, required=True)


class TicketDetailOut(TicketOut):
    messages = fields.List(fields.Nested(MessageOut), required=True)
    quotes = fields.List(fields.Nested(QuoteOut), required=True)


class QuoteDecisionIn(BaseSchema):
    accept = StrictBoolean(required=True)
