"""Queue and send outbox messages.

``queue_message`` writes the row in the caller's transaction and schedules the send job
after commit; the job sends, records the outcome and lets the job runner retry.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from whitelabel.models import OutboxMessage

MAX_ATTEMPTS = 12


def queue_message(*, dedupe_key: str, recipient: str, sender: str, language: str,
                  template: str, subject: str, text: str, html: str | None = None,
                  reseller_id: int | None = None, context: dict[str, Any] | None = None
                  ) -> OutboxMessage:
    """Store a message to send; the same ``dedupe_key`` twice returns the first row."""
    existing = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
    )
    if existing is not None:
        return existing
    message = OutboxMessage(
        dedupe_key=dedupe_key, recipient=recipient, sender=sender, language=language,
        template=template, subject=subject, text=text, html=html, reseller_id=reseller_id,
        context=context or {}, state="queued",
    )
    db.session.add(message)
    db.session.flush()
    enqueue("whitelabel.tasks.send_message", message.id)
    return message


def deliver(message_id: int, mailer: Any) -> None:
    """Send one queued message. Safe to run twice: a sent message is not sent again."""
    stmt = sa.select(OutboxMessage).where(OutboxMessage.id == message_id)
    if db.engine.dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    message = db.session.scalar(stmt)
    if message is None or message.state != "queued":
        return
    message.attempts += 1
    try:
        mailer.send(message)
    except Exception as error:  # any transport failure: record it, retry later
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.state = "failed"
        db.session.flush()
        if message.state == "queued":
            enqueue("whitelabel.tasks.send_message", message.id,
                    delay=min(3600, 2 ** message.attempts * 5))
        return
    message.state = "sent"
    message.sent_at = clock.now()
    message.last_error = None
    db.session.flush()


def mailer() -> Any:
    return current_app.extensions["tunnus.mailer"]
