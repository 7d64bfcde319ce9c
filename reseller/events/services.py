"""Reading a reseller's event log in order, after a cursor."""

from __future__ import annotations

import sqlalchemy as sa

from reseller.core.events import Event
from reseller.core.pagination import Page, decode_cursor, encode_cursor, paginate
from reseller.core.errors import DomainError


class InvalidEventCursor(DomainError):
    status = 400
    code = "invalid_cursor"
    title = "The cursor is not valid"


def events_after(*, reseller_id: int, after: str | None, limit: int,
                 types: list[str] | None = None) -> tuple[Page, str]:
    """The next events after ``after`` and the cursor to poll next (never empty)."""
    stmt = sa.select(Event).where(Event.reseller_id == reseller_id)
    if types:
        stmt = stmt.where(Event.type.in_(types))
    if after and not isinstance(decode_cursor(after), int):
        raise InvalidEventCursor()
    page = paginate(stmt, key=Event.id, cursor=after, limit=limit)
    if page.items:
        poll = encode_cursor(page.items[-1].id)
    else:
        poll = after or encode_cursor(0)
    return page, poll
