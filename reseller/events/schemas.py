"""Event feed schemas."""

from __future__ import annotations

from marshmallow import fields

from reseller.core.schemas import BaseSchema


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
