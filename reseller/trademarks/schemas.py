"""Trademark API schemas (in/out pairs)."""

from __future__ import annotations

from marshmallow import fields, validate

from reseller.core.schemas import BaseSchema, Id, Line, StrictBoolean
from reseller.trademarks.matching import REASONS
from reseller.trademarks.models import (
    ACTIONS,
    BILLING_PERIODS,
    LANGUAGES,
    MATCH_STATES,
    STATUSES,
)
from reseller.trademarks.services import price_of

_languages = dict(
    cls_or_instance=fields.String(validate=validate.OneOf(LANGUAGES)),
    validate=validate.Length(max=len(LANGUAGES)),
    metadata={"description": "Languages the alerts may be written in (fi, sv, en); the "
                             "contact's own language is used when it is one of them"})
_variants = dict(
    cls_or_instance=Line(validate=validate.Length(min=1, max=63)),
    validate=validate.Length(max=10),
    metadata={"description": "Extra labels the claims notice covers (e.g. a product name "
                             "or an abbreviation), besides the mark's own labels"})


class TrademarkIn(BaseSchema):
    mark = Line(required=True, validate=validate.Length(min=1, max=100),
                metadata={"example": "NordName"})
    holder = Line(required=True, validate=validate.Length(min=1, max=255),
                  metadata={"example": "NordName Oy"})
    contact = Id(load_default=None, allow_none=True, metadata={
        "description": "The customer contact alerted about matches (a contact id of yours)"})
    registration_number = Line(load_default=None, allow_none=True,
                               validate=validate.Length(max=60))
    jurisdiction = Line(load_default=None, allow_none=True, validate=validate.Length(max=60),
                        metadata={"example": "EUIPO"})
    languages = fields.List(load_default=list, **_languages)
    billing_period = fields.String(load_default="year", validate=validate.OneOf(BILLING_PERIODS))
    variants = fields.List(load_default=list, **_variants)


class TrademarkUpdateIn(BaseSchema):
    contact = Id(allow_none=True)
    languages = fields.List(**_languages)
    billing_period = fields.String(validate=validate.OneOf(BILLING_PERIODS),
                                   metadata={"description": "From the next period on"})
    variants = fields.List(**_variants)
    cancel_at_period_end = StrictBoolean(validate=validate.Equal(False), metadata={
        "description": "false takes a cancellation back (DELETE cancels)"})


class TrademarkOut(BaseSchema):
    id = fields.Integer(required=True)
    mark = fields.String(required=True)
    holder = fields.String(required=True)
    contact = fields.Integer(attribute="contact_id", allow_none=True, required=True)
    registration_number = fields.String(allow_none=True, required=True)
    jurisdiction = fields.String(allow_none=True, required=True)
    languages = fields.List(fields.String(), required=True)
    variants = fields.List(fields.String(), required=True)
    labels = fields.List(fields.String(), attribute="label_texts", required=True, metadata={
        "description": "The labels claimed at registration (the mark's, then the variants)"})
    billing_period = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    cancel_at_period_end = fields.Boolean(required=True)
    current_period_start = fields.AwareDateTime(required=True)
    current_period_end = fields.AwareDateTime(required=True, metadata={
        "description": "Paid until; the next period is charged then unless cancelled"})
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True, required=True)
    ended_at = fields.AwareDateTime(allow_none=True, required=True)
    next_price = fields.Method("_next_price", allow_none=True, required=True, metadata={
        "description": "What the next period costs (null once cancelled or ended)",
        "type": "object", "properties": {
            key: {"type": "string"} for key in
            ("currency", "net", "vat", "total", "billing_period")}})

    def _next_price(self, trademark) -> dict | None:
        if trademark.cancel_at_period_end or trademark.status == "ended":
            return None
        price = price_of(trademark)
        return price.as_dict() if price else None


class MatchStateIn(BaseSchema):
    state = fields.String(required=True, validate=validate.OneOf(MATCH_STATES))
    action = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(ACTIONS),
                           metadata={"description": "With act_on: udrp, urs, purchase, "
                                                    "takedown or other"})
    note = Line(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class MatchOut(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"example": "nordnarne.com"})
    unicode_name = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    score = fields.Integer(required=True, metadata={"description": "0–100, higher is closer"})
    detail = fields.String(required=True)
    source = fields.String(required=True, metadata={"description": "tunnus or zone:<tld>"})
    found_at = fields.AwareDateTime(required=True)
    claims_acknowledged = fields.Boolean(required=True)
    state = fields.String(required=True, validate=validate.OneOf(MATCH_STATES))
    action = fields.String(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)
    state_changed_at = fields.AwareDateTime(allow_none=True, required=True)
