"""Event feed schemas."""

from __future__ import annotations

from marshmallow import fields

from reseller.core.schemas import BaseSchema

# Event types a reseller can subscribe to with webhooks, and filter the feed by.
EVENT_TYPES = (
    "order.completed", "order.failed",
    "domain.transferred_in", "domain.transferred_out", "domain.expiring", "domain.expired",
    "wallet.low_balance", "wallet.topup_received",
    "invoice.issued", "invoice.paid", "invoice.payment_failed", "invoice.overdue",
    "invoice.credited",
)


class EventOut(BaseSchema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    data = fields.Dict(required=True)


class EventFeedOut(BaseSchema):
    items = fields.List(fields.Nested(EventOut), required=True)
    next = fields.String(required=True, metadata={
        "description": "Poll this URL for events after the last one in this page"})
    has_more = fields.Boolean(required=True, metadata={
        "description": "True when more events are waiting right now"})
