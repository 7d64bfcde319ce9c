"""Webhook jobs: send one attempt (signed per Standard Webhooks), schedule the next.

Each attempt is its own job, ``deliver(delivery_id, attempt)``, so a duplicate job is a
no-op (the attempt number no longer matches); the attempt is claimed with a lease in a
unit of work of its own, so no transaction is open across the DNS lookup and the POST. A
failure records the attempt and queues the next one after an exponential backoff (30 s,
2 min, 8 min, … capped at 12 h) until ``WEBHOOKS_RETRY_HOURS`` (72) after the delivery
was created; then it is given up.
"""

from __future__ import annotations

import http.client
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from standardwebhooks import Webhook

from reseller.core.clock import clock
from reseller.core.db import lock_row, unit_of_work
from reseller.core.events import Event, on_event
from reseller.core.extensions import db
from reseller.core.jobs import enqueue, periodic
from reseller.webhooks import services, targets
from reseller.webhooks.models import WebhookAttempt, WebhookDelivery

BASE_DELAY = 30
MAX_DELAY = 12 * 3600


@on_event("*")
def _fan_out(event: Event) -> None:
    services.fan_out(event)


def backoff(failures: int) -> int:
    """Seconds to wait after the ``failures``-th failed attempt."""
    return min(BASE_DELAY * 4 ** (failures - 1), MAX_DELAY)


def sign(secret: str, message_id: str, payload: str) -> dict[str, str]:
    # Real time even under the sandbox's time machine: receivers check the timestamp
    # against their own clock (Standard Webhooks: a 5-minute tolerance).
    now = clock.real_now()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, payload),
    }


def _post(target: targets.Target, headers: dict[str, str], payload: str, timeout: float,
          user_agent: str) -> tuple[int | None, str | None, str]:
    """(status code, error, response excerpt) of one POST to the checked address."""
    try:
        status, body = targets.post(target, {**headers, "Content-Type": "application/json",
                                             "User-Agent": user_agent},
                                    payload.encode(), timeout)
    except (OSError, http.client.HTTPException) as error:
        return None, str(error)[:500] or type(error).__name__, ""
    excerpt = body.decode("utf-8", "replace")
    return status, None if 200 <= status < 300 else f"HTTP {status}", excerpt


def _resolve(url: str) -> tuple[targets.Target | None, str | None, bool]:
    """(target, refusal, permanent): check again at send time, since DNS may have changed
    since the endpoint was registered; a name that does not resolve now is retried."""
    try:
        target = targets.resolve_target(
            url, allow_private=current_app.config["WEBHOOKS_ALLOW_PRIVATE"])
    except targets.WebhookUrlRefused as refused:
        permanent = not isinstance(refused, targets.WebhookHostUnresolved)
        return None, str(refused.detail or refused.title), permanent
    return target, None, False


@dataclass(frozen=True)
class _Attempt:
    """A claimed attempt: what to sign and send, and the lease that makes it this run's."""
    delivery_id: int
    number: int
    lease: datetime
    url: str
    secret: str
    message_id: str
    payload: str


@dataclass(frozen=True)
class _Outcome:
    code: int | None
    error: str | None
    body: str
    duration_ms: int
    permanent: bool


def lease_for(timeout: float) -> timedelta:
    """How long a claimed attempt is this run's: longer than the DNS lookup, connecting
    and the answer (each bounded by ``WEBHOOKS_TIMEOUT``) normally take together."""
    return timedelta(seconds=3 * timeout + 30)


def deliver(delivery_id: int, attempt: int) -> None:
    """Make attempt number ``attempt`` of a delivery. Safe to run twice and concurrently.

    No transaction is open while the name resolves and the endpoint answers: the attempt
    is claimed (a lease, committed), made, and recorded in a new unit of work if the lease
    is still this run's. A run finding another's lease in force sends nothing and looks
    again when it ends, so an attempt whose worker died after the POST is made again with
    the same ``webhook-id`` (receivers dedupe, per Standard Webhooks)."""
    claim = _claim(delivery_id, attempt)
    if claim is None:
        return
    started = time.monotonic()
    target, refused, permanent = _resolve(claim.url)
    if target is None:
        code, error, body = None, refused, ""
    else:
        headers = sign(claim.secret, claim.message_id, claim.payload)
        code, error, body = _post(target, headers, claim.payload,
                                  current_app.config["WEBHOOKS_TIMEOUT"],
                                  current_app.config["WEBHOOKS_USER_AGENT"])
    outcome = _Outcome(code, error, body, int((time.monotonic() - started) * 1000), permanent)
    with unit_of_work():
        _record(claim, outcome)


def _claim(delivery_id: int, attempt: int) -> _Attempt | None:
    """Take the attempt's lease in a unit of work of its own (the row lock is held only
    for it); None when the attempt is not this run's to make."""
    with unit_of_work():
        delivery = lock_row(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending" or delivery.attempts != attempt - 1:
            return None
        endpoint = delivery.endpoint
        if not endpoint.active or endpoint.deleted_at is not None:
            delivery.status, delivery.last_error = "failed", "endpoint disabled"
            delivery.next_attempt_at = delivery.claimed_until = None
            return None
        real = clock.real_now()
        if delivery.claimed_until is not None and delivery.claimed_until > real:
            wait = (delivery.claimed_until - real).total_seconds()
            enqueue(services.DELIVER, delivery.id, attempt, retries=0,
                    delay=max(1, math.ceil(wait)))
            return None
        lease = lease_for(current_app.config["WEBHOOKS_TIMEOUT"])
        # The sweep leaves the attempt alone until its lease has run out.
        delivery.claimed_until, delivery.next_attempt_at = real + lease, clock.now() + lease
        return _Attempt(delivery.id, attempt, delivery.claimed_until, endpoint.url,
                        endpoint.secret, delivery.message_id, delivery.payload)


def _record(claim: _Attempt, outcome: _Outcome) -> None:
    """Write the attempt and what follows from it, if the lease is still this run's: a run
    that outlived its lease leaves the attempt to the run that took it over."""
    delivery = lock_row(WebhookDelivery, claim.delivery_id)
    if (delivery is None or delivery.status != "pending"
            or delivery.attempts != claim.number - 1 or delivery.claimed_until != claim.lease):
        return
    now = clock.now()
    delivery.attempts, delivery.claimed_until = claim.number, None
    delivery.last_status_code, delivery.last_error = outcome.code, outcome.error
    db.session.add(WebhookAttempt(delivery_id=delivery.id, number=claim.number,
                                  attempted_at=now, status_code=outcome.code,
                                  error=outcome.error, response_body=outcome.body[:1000],
                                  duration_ms=outcome.duration_ms))
    if outcome.code is not None and 200 <= outcome.code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "succeeded", now, None
        return
    _schedule_retry(delivery, claim.number, now, permanent=outcome.permanent)


def _schedule_retry(delivery: WebhookDelivery, attempt: int, now: Any, *, permanent: bool
                    ) -> None:
    delay = backoff(attempt)
    deadline = delivery.created_at + timedelta(hours=current_app.config["WEBHOOKS_RETRY_HOURS"])
    if permanent or now + timedelta(seconds=delay) > deadline:
        delivery.status, delivery.next_attempt_at = "failed", None
        return
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    enqueue(services.DELIVER, delivery.id, attempt + 1, retries=0, delay=delay)


@periodic("webhook_sweep", "*/10 * * * *",
          "Re-queue webhook deliveries whose next attempt is overdue (a lost job)")
def sweep_overdue() -> int:
    cutoff = clock.now() - timedelta(minutes=10)
    overdue = db.session.execute(
        sa.select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at < cutoff)
        .limit(1000)).all()
    for delivery_id, attempts in overdue:
        enqueue(services.DELIVER, delivery_id, attempts + 1, retries=0)
    return len(overdue)


__all__ = ["deliver", "sweep_overdue", "backoff", "sign"]
