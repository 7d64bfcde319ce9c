"""Cursor pagination: stable under inserts, opaque to clients, cheap on large tables."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reseller.core.errors import DomainError
from reseller.core.extensions import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 100  # ours are base64 of one id: a few dozen characters at most
INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,4}")


class InvalidCursor(DomainError):
    status = 400
    code = "invalid_cursor"
    title = "The cursor is not valid"


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidCursor() from error


def decode_position(cursor: str, *, maximum: int = INTEGER_MAX) -> int:
    """The row id a cursor we issued carries: a whole number from 0 to ``maximum`` (the
    key column's range). Anything else — a string, a list, ``true``, a negative or a huge
    number — is a 400 ``invalid_cursor``, never a database overflow."""
    value = decode_cursor(cursor)
    if type(value) is not int or not 0 <= value <= maximum:  # bool is an int subclass
        raise InvalidCursor()
    return value


def parse_limit(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not _DIGITS.fullmatch(raw):  # ASCII digits only: no sign, spaces or other scripts
        raise InvalidCursor(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    limit = int(raw)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidCursor(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def paginate(stmt: sa.Select, *, key: Any, cursor: str | None, limit: int,
             descending: bool = False) -> Page:
    """Keyset pagination on a unique, ordered ``key`` column (usually the id)."""
    if cursor:
        maximum = BIGINT_MAX if isinstance(key.type, sa.BigInteger) else INTEGER_MAX
        after = decode_position(cursor, maximum=maximum)
        stmt = stmt.where(key < after if descending else key > after)
    stmt = stmt.order_by(key.desc() if descending else key.asc()).limit(limit + 1)
    rows = list(db.session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], key.key)) if more and rows else None
    return Page(rows, next_cursor)
