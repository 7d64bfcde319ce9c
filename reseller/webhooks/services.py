"""Webhook endpoints and deliveries: registration with SSRF checks, fan-out, replay.

Every recorded event fans out (in the recording transaction) to a delivery row per
subscribed endpoint; the send runs in a job after commit (see ``tasks``).
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.db import memo
from reseller.core.errors import DomainError, NotFound, ValidationFailed
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.core.pagination import Page, paginate
from reseller.events.services import EVENT_TYPES
from reseller.webhooks import targets
from reseller.webhooks.models import WebhookDelivery, WebhookEndpoint

MAX_ENDPOINTS = 20
DELIVER = "reseller.webhooks.tasks.deliver"


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"
    title = _l("No such webhook endpoint")


class DeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"
    title = _l("No such webhook delivery")


class TooManyEndpoints(DomainError):
    status = 409
    code = "too_many_webhook_endpoints"
    title = _l("Too many webhook endpoints")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def check_url(url: str, *, allow_private: bool) -> str:
    """Refuse non-HTTPS URLs and hosts resolving to private, loopback or link-local
    addresses (both allowed only when ``allow_private``, i.e. in sandbox mode)."""
    if allow_private:  # sandbox: the form is checked, the host need not resolve yet
        targets.parse_url(url, allow_private=True)
    else:
        targets.resolve_target(url, allow_private=False)
    return url.strip()


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValidationFailed({"events": [f"Unknown event type: {', '.join(unknown)}"]})
    return sorted(set(events))


def create_endpoint(*, reseller_id: int, url: str, events: list[str], description: str = "",
                    allow_private: bool) -> WebhookEndpoint:
    # The URL's DNS check (seconds, for a slow name) comes before any statement of ours: a
    # query would autoflush what the request has pending and take a transaction id, which
    # holds back every reseller's event feed for as long as the lookup takes.
    url = check_url(url, allow_private=allow_private)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint).where(
        WebhookEndpoint.reseller_id == reseller_id, WebhookEndpoint.deleted_at.is_(None)))
    if count >= MAX_ENDPOINTS:
        raise TooManyEndpoints()
    endpoint = WebhookEndpoint(reseller_id=reseller_id, url=url,
                               events=_check_events(events), description=description,
                               secret=new_secret(), active=True)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def _endpoints(reseller_id: int) -> sa.Select:
    return sa.select(WebhookEndpoint).where(WebhookEndpoint.reseller_id == reseller_id,
                                            WebhookEndpoint.deleted_at.is_(None))


def endpoints_page(*, reseller_id: int, cursor: str | None, limit: int) -> Page:
    return paginate(_endpoints(reseller_id), key=WebhookEndpoint.id, cursor=cursor, limit=limit)


def list_endpoints(*, reseller_id: int) -> list[WebhookEndpoint]:
    return list(db.session.scalars(_endpoints(reseller_id).order_by(WebhookEndpoint.id)))


def get_endpoint(*, reseller_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.scalar(_endpoints(reseller_id).where(WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise EndpointNotFound()
    return endpoint


def update_endpoint(*, reseller_id: int, endpoint_id: int, allow_private: bool,
                    url: str | None = None, events: list[str] | None = None,
                    description: str | None = None, active: bool | None = None
                    ) -> WebhookEndpoint:
    if url is not None:  # first, holding no transaction id (see ``create_endpoint``)
        url = check_url(url, allow_private=allow_private)
    endpoint = get_endpoint(reseller_id=reseller_id, endpoint_id=endpoint_id)
    if url is not None:
        endpoint.url = url
    if events is not None:
        endpoint.events = _check_events(events)
    if description is not None:
        endpoint.description = description
    if active is not None:
        endpoint.active = active
    db.session.flush()
    return endpoint


def rotate_secret(*, reseller_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = get_endpoint(reseller_id=reseller_id, endpoint_id=endpoint_id)
    endpoint.secret = new_secret()
    db.session.flush()
    return endpoint


def delete_endpoint(*, reseller_id: int, endpoint_id: int) -> None:
    """Soft delete: the delivery log stays readable; pending deliveries stop."""
    endpoint = get_endpoint(reseller_id=reseller_id, endpoint_id=endpoint_id)
    endpoint.deleted_at = clock.now()
    endpoint.active = False
    db.session.flush()


def payload_for(event: Event) -> str:
    return json.dumps({
        "type": event.type,
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {"event_id": event.id, **(event.data or {})},
    }, separators=(",", ":"), default=str)


def _new_delivery(endpoint: WebhookEndpoint, *, event_id: int | None, event_type: str,
                  payload: str, replay_of_id: int | None = None) -> WebhookDelivery:
    delivery = WebhookDelivery(reseller_id=endpoint.reseller_id, endpoint_id=endpoint.id,
                               event_id=event_id, event_type=event_type,
                               message_id=f"msg_{uuid.uuid4().hex}", payload=payload,
                               status="pending", attempts=0, next_attempt_at=clock.now(),
                               replay_of_id=replay_of_id)
    db.session.add(delivery)
    db.session.flush()
    enqueue(DELIVER, delivery.id, 1, retries=0)
    return delivery


# Built once: every event a feed can show asks (see BUILT ONCE in reseller.core.db)
_ACTIVE_ENDPOINTS = sa.select(WebhookEndpoint).where(
    WebhookEndpoint.reseller_id == sa.bindparam("reseller_id"),
    WebhookEndpoint.deleted_at.is_(None), WebhookEndpoint.active.is_(True))


def fan_out(event: Event) -> list[WebhookDelivery]:
    """A delivery per subscribed endpoint, in the event's own transaction."""
    if event.type not in EVENT_TYPES:  # internal events: no endpoint can subscribe to them
        return []
    endpoints = memo(("webhook_endpoints", event.reseller_id), lambda: db.session.scalars(
        _ACTIVE_ENDPOINTS, {"reseller_id": event.reseller_id}).all())
    wanted = [endpoint for endpoint in endpoints if endpoint.wants(event.type, EVENT_TYPES)]
    if not wanted:
        return []
    payload = payload_for(event)
    return [_new_delivery(endpoint, event_id=event.id, event_type=event.type, payload=payload)
            for endpoint in wanted]


def send_test(*, reseller_id: int, endpoint_id: int) -> WebhookDelivery:
    """A ``webhook.test`` message to one endpoint (no event is recorded)."""
    endpoint = get_endpoint(reseller_id=reseller_id, endpoint_id=endpoint_id)
    payload = json.dumps({"type": "webhook.test",
                          "timestamp": clock.now().isoformat().replace("+00:00", "Z"),
                          "data": {"endpoint_id": endpoint.id}}, separators=(",", ":"))
    return _new_delivery(endpoint, event_id=None, event_type="webhook.test", payload=payload)


def _deliveries(reseller_id: int) -> sa.Select:
    return sa.select(WebhookDelivery).where(WebhookDelivery.reseller_id == reseller_id)


def deliveries_page(*, reseller_id: int, endpoint_id: int | None, cursor: str | None,
                    limit: int, status: str | None = None) -> Page:
    stmt = _deliveries(reseller_id)
    if endpoint_id is not None:
        get_endpoint(reseller_id=reseller_id, endpoint_id=endpoint_id)
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    return paginate(stmt, key=WebhookDelivery.id, cursor=cursor, limit=limit, descending=True)


def get_delivery(*, reseller_id: int, delivery_id: int) -> WebhookDelivery:
    delivery = db.session.scalar(_deliveries(reseller_id).where(WebhookDelivery.id == delivery_id))
    if delivery is None:
        raise DeliveryNotFound()
    return delivery


def replay_delivery(*, reseller_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a past delivery's message again, as a new delivery with its own log."""
    original = get_delivery(reseller_id=reseller_id, delivery_id=delivery_id)
    endpoint = get_endpoint(reseller_id=reseller_id, endpoint_id=original.endpoint_id)
    return _new_delivery(endpoint, event_id=original.event_id, event_type=original.event_type,
                         payload=original.payload, replay_of_id=original.id)
