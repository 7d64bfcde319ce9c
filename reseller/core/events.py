"""The event log: what happened to a reseller's things, in order, for feeds and webhooks.

Any package (``wallet`` and ``whitelabel`` included) records events with
``record_event`` in the same transaction as the change; the API's event feed reads them
and webhook delivery fans them out after commit. Listeners registered with ``on_event``
run inside the recording transaction (e.g. to queue a notification email).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    type: Mapped[str] = mapped_column(sa.String(60), index=True)
    # Unique per event source, so recording the same happening twice is a no-op.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.now())


_LISTENERS: dict[str, list[Callable[[Event], None]]] = {}


def on_event(event_type: str) -> Callable:
    """Register ``listener(event)`` for ``event_type`` (``"*"`` for every event)."""

    def register(listener: Callable[[Event], None]) -> Callable[[Event], None]:
        _LISTENERS.setdefault(event_type, []).append(listener)
        return listener

    return register


def record_event(*, reseller_id: int, type: str, data: dict[str, Any],
                 dedupe_key: str | None = None) -> Event:
    """Append an event (once per ``dedupe_key``) and notify listeners."""
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(Event).where(Event.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    event = Event(reseller_id=reseller_id, type=type, data=data,
                  dedupe_key=dedupe_key or f"{type}:{uuid.uuid4()}")
    db.session.add(event)
    db.session.flush()
    for listener in _LISTENERS.get(type, []) + _LISTENERS.get("*", []):
        listener(event)
    return event
