"""Reading a reseller's event log in order, after a cursor; the event types resellers see
(the feed's filter and the webhooks' subscriptions)."""

from __future__ import annotations

import sqlalchemy as sa

from reseller.core.db import is_sqlite
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.core.pagination import (
    BIGINT_MAX,
    Page,
    decode_cursor,
    decode_position,
    encode_cursor,
    paginate,
)

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


def events_after(*, reseller_id: int, after: str | None, limit: int,
                 types: list[str] | None = None) -> tuple[Page, str]:
    """The next events after ``after`` and the cursor to poll next (never empty).

    On PostgreSQL the feed is read in (``txid``, id) order, not id order: an id is taken
    when the event is inserted and a transaction id when the transaction first writes, so
    a transaction that wrote first may insert later. Shown only below the oldest running
    transaction (``_settled``), events in (txid, id) order are final: every transaction that
    can still add one has a txid at or above that horizon. In id order a poller passed an
    event whose transaction got its txid after a faster one's (bench/orders.py: one order
    of 300 never seen completed). The cursor is ``[txid, id]``; a cursor of the id alone
    (issued before) resumes at that event's place."""
    stmt = sa.select(Event).where(Event.reseller_id == reseller_id)
    if types:
        stmt = stmt.where(Event.type.in_(types))
    if is_sqlite():  # writers are serialised: ids are in commit order, txid is null
        page = paginate(stmt, key=Event.id, cursor=after, limit=limit)
        poll = encode_cursor(page.items[-1].id) if page.items else after or encode_cursor(0)
        return page, poll
    stmt = stmt.where(_settled())
    if after:
        txid, event_id = _feed_position(after)
        stmt = stmt.where(sa.tuple_(Event.txid, Event.id) > sa.tuple_(txid, event_id))
    rows = list(db.session.scalars(stmt.order_by(Event.txid, Event.id).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    last = [rows[-1].txid, rows[-1].id] if rows else None
    page = Page(rows, encode_cursor(last) if more else None)
    return page, encode_cursor(last) if last else after or encode_cursor([0, 0])


def _feed_position(cursor: str) -> tuple[int, int]:
    value = decode_cursor(cursor)
    if type(value) is list and len(value) == 2 and all(
            type(part) is int and 0 <= part <= BIGINT_MAX for part in value):
        return value[0], value[1]
    event_id = decode_position(cursor, maximum=BIGINT_MAX)  # an id-only cursor
    found = db.session.execute(
        sa.select(Event.txid, Event.id).where(Event.id <= event_id, Event.txid.is_not(None))
        .order_by(Event.id.desc()).limit(1)).first()
    return (found[0], found[1]) if found else (0, 0)
