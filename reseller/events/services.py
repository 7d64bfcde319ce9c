"""Reading a reseller's event log in order, after a cursor; the event types resellers see
(the feed's filter and the webhooks' subscriptions)."""

from __future__ import annotations

import sqlalchemy as sa

from reseller.core.db import is_sqlite
from reseller.core.events import FEED_LOCK, Event
from reseller.core.extensions import db
from reseller.core.pagination import Page, encode_cursor, paginate

# Event types a reseller can subscribe to with webhooks, and filter the feed by;
# other events stay internal.
EVENT_TYPES = (
    "order.completed", "order.failed",
    "domain.transferred_in", "domain.transferred_out", "domain.expiring", "domain.expired",
    "domain.registry_changed", "domain.deleted",
    "wallet.low_balance", "wallet.topup_received", "wallet.payment_reversed",
    "invoice.issued", "invoice.paid", "invoice.payment_failed", "invoice.overdue",
    "invoice.credited",
    "dns.zone_changed", "dns.change_rejected",
    "ticket.created", "ticket.replied", "ticket.status_changed", "ticket.quote_proposed",
    "support_plan.changed", "support_plan.renewed", "support_plan.renewal_failed",
    "trademark.match",
)


def _settled() -> sa.ColumnElement[bool]:
    """Events no running transaction can still precede (PostgreSQL).

    Ids come from a sequence at insert time, but transactions commit in any order: a
    poller that has read id 12 would never see id 11 if its transaction committed a moment
    later. So an event is shown once its transaction is older than every transaction still
    running (``pg_snapshot_xmin``); the cursor then never passes an id that can still
    appear. A long transaction holds the feed back for as long as it runs, never loses
    an event. A transaction sees its own events at once.
    """
    xmin = sa.text("(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")
    own = sa.text("(pg_current_xact_id_if_assigned()::text)::bigint")
    return sa.or_(Event.txid.is_(None), Event.txid < xmin, Event.txid == own)


def _no_write_in_flight(reseller_id: int) -> bool:
    """Whether no transaction recording this reseller's events is running (PostgreSQL).

    Writers hold the reseller's feed lock shared from before their event takes its id
    until they end (``reseller.core.events``). Taking it exclusively, without waiting,
    proves none is in flight, and until this transaction ends none can start: every event
    of the reseller that will ever have a lower id than those now visible is visible.
    Other resellers' transactions, however long, are not waited for."""
    return bool(db.session.scalar(sa.select(
        sa.func.pg_try_advisory_xact_lock(FEED_LOCK, reseller_id))))


def events_after(*, reseller_id: int, after: str | None, limit: int,
                 types: list[str] | None = None) -> tuple[Page, str]:
    """The next events after ``after`` and the cursor to poll next (never empty).

    On PostgreSQL, when a transaction writing this reseller's events is in flight, only
    events it cannot precede are shown (``_settled``); otherwise every visible one."""
    stmt = sa.select(Event).where(Event.reseller_id == reseller_id)
    if not is_sqlite() and not _no_write_in_flight(reseller_id):
        stmt = stmt.where(_settled())
    if types:
        stmt = stmt.where(Event.type.in_(types))
    page = paginate(stmt, key=Event.id, cursor=after, limit=limit)
    if page.items:
        poll = encode_cursor(page.items[-1].id)
    else:
        poll = after or encode_cursor(0)
    return page, poll
