"""Event listeners that turn domain, order and wallet events into messages.

They are deferred listeners: they run in a job right after the transaction that records
the event commits (``reseller.core.events``), off the path a reseller waits on, and the
event row guarantees they run. Each message's dedupe key derives from the event's id, and
an event is recorded once per happening, so a message never goes out twice.

Event data read here (see docs/whitelabel.md): ``domain``; the registrant as
``registrant: {email, language}`` (or ``registrant_email``/``registrant_language``);
``expires_at`` (ISO 8601). A missing recipient is logged and skipped: mail must never
roll back the domain operation that caused it. A reseller's own address and language
come from the kernel's reseller directory.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from reseller.core.clock import clock
from reseller.core.directory import reseller_profile
from reseller.core.events import Event, on_event, on_events
from whitelabel import compliance
from whitelabel.messages import (
    MessageContextError,
    send_registrant_messages,
    send_reseller_message,
)

log = logging.getLogger(__name__)


def registrant_of(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """(email, language) of the registrant named in event data."""
    contact = data.get("registrant") if isinstance(data.get("registrant"), dict) else {}
    email = contact.get("email") or data.get("registrant_email")
    language = contact.get("language") or data.get("registrant_language")
    return email, language


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _to_registrant(event: Event, kind: str, *, recipient: str | None = None,
                   language: str | None = None, suffix: str = "", **extra: Any) -> None:
    _to_registrants([(event, _registrant_message(event, kind, recipient=recipient,
                                                 language=language, suffix=suffix, **extra))])


def _registrant_message(event: Event, kind: str, *, recipient: str | None = None,
                        language: str | None = None, suffix: str = "",
                        **extra: Any) -> dict[str, Any] | None:
    """``send_registrant_message``'s arguments for ``kind`` about the event (None, logged:
    the event names no registrant email)."""
    email, registrant_language = registrant_of(event.data)
    recipient = recipient or email
    if not recipient:
        log.warning("event %s (%s) names no registrant email; no %s sent",
                    event.id, event.type, kind)
        return None
    return {"reseller_id": event.reseller_id, "kind": kind, "recipient": recipient,
            "language": language or registrant_language, "context": {**event.data, **extra},
            "dedupe_key": f"event:{event.id}:{kind}{suffix}"}


def _to_registrants(messages: list[tuple[Event, dict[str, Any] | None]]) -> None:
    """Queue the messages (each with the event it is about), in one statement; one whose
    context lacks what its kind needs is logged and not sent, the others are."""
    wanted = [(event, message) for event, message in messages if message is not None]
    answers = send_registrant_messages([message for _event, message in wanted])
    for (event, message), answer in zip(wanted, answers, strict=True):
        if isinstance(answer, MessageContextError):
            log.error("event %s (%s) lacks data for %s; not sent", event.id, event.type,
                      message["kind"], exc_info=answer)


def _to_reseller(event: Event, kind: str, *, billing: bool = False, **extra: Any) -> None:
    reseller = reseller_profile(event.reseller_id) if event.reseller_id else None
    if reseller is None:
        return
    recipient = (reseller.billing_email if billing else None) or reseller.contact_email
    try:
        send_reseller_message(reseller_id=reseller.id, kind=kind, recipient=recipient,
                              language=reseller.language, context={**event.data, **extra},
                              dedupe_key=f"event:{event.id}:{kind}")
    except MessageContextError:
        log.exception("event %s (%s) lacks data for %s; not sent", event.id, event.type, kind)


def _watch_of(event: Event) -> dict[str, Any] | None:
    """The renewal watch an event asks for (``compliance.watch_renewal``'s arguments)."""
    email, language = registrant_of(event.data)
    expires_at = _when(event.data.get("expires_at"))
    if email and expires_at and event.data.get("domain"):
        return {"reseller_id": event.reseller_id, "domain": event.data["domain"],
                "expires_at": expires_at, "recipient": email, "language": language}
    return None


def _verification_of(event: Event) -> dict[str, Any] | None:
    """The registrant verification an event asks for (a verified address is not asked
    again: ``compliance.start_registrant_verification``'s arguments)."""
    email, language = registrant_of(event.data)
    if email and event.data.get("domain"):
        return {"reseller_id": event.reseller_id, "email": email,
                "domain": event.data["domain"], "language": language}
    return None


def _watch(event: Event) -> None:
    if (watch := _watch_of(event)) is not None:
        compliance.watch_renewal(**watch)


def _verify_registrant(event: Event) -> None:
    if (verification := _verification_of(event)) is not None:
        compliance.start_registrant_verification(**verification)


def _domain_of(event: Event) -> Any:
    return event.data.get("domain")


@on_events("domain.registered", subject=_domain_of)
def on_registered(events: list[Event]) -> None:
    """The registration's confirmation to the registrant, its renewal watch and the
    registrant's address verification: for a dispatch batch's registrations together, in a
    few statements for them all (a burst of orders). Before another event of the batch
    about one of the domains (its deletion, say), those gathered so far are done first."""
    _to_registrants([(event, _registrant_message(event, "registration_confirmed"))
                     for event in events])
    compliance.watch_renewals([w for event in events if (w := _watch_of(event))])
    compliance.start_registrant_verifications(
        [v for event in events if (v := _verification_of(event))])


@on_event("domain.transferred_in", deferred=True)
def on_transferred_in(event: Event) -> None:
    _watch(event)
    _verify_registrant(event)


@on_event("domain.renewed", deferred=True)
def on_renewed(event: Event) -> None:
    _watch(event)


@on_event("domain.transferred_out", deferred=True)
def on_transferred_out(event: Event) -> None:
    """``status: "pending"`` (with ``completes_at``): tell the registrant how to stop it;
    otherwise the domain has left and needs no more reminders."""
    if event.data.get("status") == "pending":
        _to_registrant(event, "transfer_out_notice", date=event.data.get("completes_at"))
    elif event.data.get("domain"):
        compliance.unwatch_renewal(reseller_id=event.reseller_id, domain=event.data["domain"])


@on_event("domain.expiring", deferred=True)
def on_expiring(event: Event) -> None:
    email, language = registrant_of(event.data)
    expires_at = _when(event.data.get("expires_at"))
    if email and expires_at and event.data.get("domain"):
        # Same marker as the scheduled run, so the two never both send a stage.
        compliance.send_renewal_reminder(
            reseller_id=event.reseller_id, domain=event.data["domain"], expires_at=expires_at,
            recipient=email, language=language, now=clock.now())


@on_event("domain.expired", deferred=True)
def on_expired(event: Event) -> None:
    _to_registrant(event, "domain_expired")


@on_event("domain.deleted", deferred=True)
def on_deleted(event: Event) -> None:
    _to_registrant(event, "domain_deleted")
    if event.data.get("domain"):
        compliance.unwatch_renewal(reseller_id=event.reseller_id, domain=event.data["domain"])


@on_event("contact.changed", deferred=True)
def on_contact_changed(event: Event) -> None:
    """Confirm the change to the registrant (and to the previous address, if it changed);
    a new registrant address must be verified again."""
    changed = event.data.get("changed_at") or event.created_at.isoformat()
    _to_registrant(event, "contact_change", date=changed)
    email, _language = registrant_of(event.data)
    previous = event.data.get("previous_email")
    if previous and email and previous.lower() != email.lower():
        _to_registrant(event, "contact_change", recipient=previous, suffix=":previous",
                       language=event.data.get("previous_language"), date=changed)
    if event.data.get("role", "registrant") == "registrant":
        _verify_registrant(event)


@on_event("order.failed", deferred=True)
def on_order_failed(event: Event) -> None:
    data = event.data
    _to_reseller(event, "order_failed",
                 order=str(data.get("order") or data.get("reference") or data.get("order_id")
                           or event.id),
                 reason=str(data.get("reason") or data.get("error") or "-"))


@on_event("wallet.low_balance", deferred=True)
def on_low_balance(event: Event) -> None:
    _to_reseller(event, "low_balance", billing=True,
                 balance=event.data.get("balance") or event.data.get("available"))


@on_event("wallet.topup_received", deferred=True)
def on_topup(event: Event) -> None:
    _to_reseller(event, "topup_received", billing=True)


@on_event("wallet.payment_reversed", deferred=True)
def on_payment_reversed(event: Event) -> None:
    """A refund, chargeback or returned bank payment took money back: the billing contact
    is told why, and whether it re-opened an invoice or left a debt that holds orders."""
    data = event.data
    standing = "invoice" if data.get("invoice") else "debt" if data.get("orders_blocked") \
        else "balance"
    _to_reseller(event, "payment_reversed", billing=True, cause=data.get("cause") or "other",
                 standing=standing)


@on_event("whitelabel.domain_paused", deferred=True)
def on_domain_paused(event: Event) -> None:
    _to_reseller(event, "sender_domain_paused")
