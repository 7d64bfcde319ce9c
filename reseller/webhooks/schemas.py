"""Webhook API schemas (in/out pairs)."""

from __future__ import annotations

from marshmallow import fields, validate

from reseller.core.schemas import BaseSchema, StrictBoolean
from reseller.events.services import EVENT_TYPES


def _events(**kwargs) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)),
                       validate=validate.Length(max=len(EVENT_TYPES)),
                       metadata={"description": "Event types to receive; empty for all"},
                       **kwargs)


class CreateEndpointIn(BaseSchema):
    url = fields.String(required=True, validate=validate.Length(min=8, max=2000),
                        metadata={"example": "https://hooks.example.com/tunnus"})
    events = _events(load_default=list)
    description = fields.String(load_default="", validate=validate.Length(max=200))


class UpdateEndpointIn(BaseSchema):
    url = fields.String(validate=validate.Length(min=8, max=2000))
    events = _events()
    description = fields.String(validate=validate.Length(max=200))
    active = StrictBoolean()


class EndpointOut(BaseSchema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    description = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    created_at = fields.AwareDateTime(required=True)


class EndpointWithSecretOut(EndpointOut):
    secret = fields.String(required=True, metadata={
        "description": "Standard Webhooks signing secret (whsec_…); verify `webhook-signature`"})


class AttemptOut(BaseSchema):
    number = fields.Integer(required=True)
    attempted_at = fields.AwareDateTime(required=True)
    status_code = fields.Integer(allow_none=True, required=True)
    error = fields.String(allow_none=True, required=True)
    duration_ms = fields.Integer(required=True)


class DeliveryOut(BaseSchema):
    id = fields.Integer(required=True)
    endpoint_id = fields.Integer(required=True)
    event_id = fields.Integer(allow_none=True, required=True)
    event_type = fields.String(required=True)
    message_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ["pending", "succeeded", "failed"]))
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True, required=True)
    last_status_code = fields.Integer(allow_none=True, required=True)
    last_error = fields.String(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    delivered_at = fields.AwareDateTime(allow_none=True, required=True)
    replay_of_id = fields.Integer(allow_none=True, required=True)


class DeliveryDetailOut(DeliveryOut):
    payload = fields.String(required=True)
    attempt_log = fields.List(fields.Nested(AttemptOut), required=True)
