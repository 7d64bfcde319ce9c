"""Signed, expiring, single-use tokens for the links in registrant email.

The token signs a ``LinkToken`` row's id; expiry and use are kept on the row and judged
by ``clock.now()``, so the sandbox time machine expires links too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer

from reseller.core.clock import clock, utc
from reseller.core.db import lock_row
from reseller.core.extensions import db
from whitelabel.models import LinkToken

LIFETIMES = {
    "confirm_email": timedelta(days=60),  # longer than the deadline: late confirms unsuspend
    "transfer_in": timedelta(days=5),
    "transfer_out": timedelta(days=5),
    "renewal": timedelta(days=60),
    # The registrant's answer to an owner change; the order waits as long (then expires).
    "owner_change": timedelta(days=14),
}
REUSABLE = {"renewal"}  # an information page, not an action


class TokenProblem(StrEnum):
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="whitelabel-link")


def issue(*, reseller_id: int, purpose: str, subject: str, language: str,
          data: dict[str, Any], secret_key: str, now: datetime | None = None) -> str:
    return issue_many([{"reseller_id": reseller_id, "purpose": purpose, "subject": subject,
                        "language": language, "data": data}], secret_key=secret_key, now=now)[0]


# Built once (see BUILT ONCE in reseller.core.db): the rows go as parameters, and their ids
# come back in the order the rows were given (``sort_by_parameter_order``).
_ISSUE = sa.insert(LinkToken.__table__).returning(LinkToken.__table__.c.id,
                                                  sort_by_parameter_order=True)


def issue_many(wanted: list[dict[str, Any]], *, secret_key: str,
               now: datetime | None = None) -> list[str]:
    """A token for each row wanted (``reseller_id``, ``purpose``, ``subject``,
    ``language``, ``data``), in the order given, the rows inserted in one statement (a
    chunk of renewal reminders issues a link each)."""
    if not wanted:
        return []
    now = now or clock.now()
    ids = db.session.scalars(_ISSUE, [
        {**row, "expires_at": now + LIFETIMES[row["purpose"]]}
        for row in wanted]).all()
    serializer = _serializer(secret_key)
    return [serializer.dumps({"t": row_id, "p": row["purpose"]})
            for row_id, row in zip(ids, wanted, strict=True)]


def read(token: str, *, purpose: str, secret_key: str, for_update: bool = False,
         now: datetime | None = None) -> tuple[LinkToken | None, TokenProblem | None]:
    """The token's row and, if it cannot be acted on, why not."""
    try:
        payload = _serializer(secret_key).loads(token)
    except BadSignature:
        return None, TokenProblem.INVALID
    if not isinstance(payload, dict) or payload.get("p") != purpose:
        return None, TokenProblem.INVALID
    row = lock_row(LinkToken, payload.get("t")) if for_update else \
        db.session.get(LinkToken, payload.get("t"))
    if row is None or row.purpose != purpose:
        return None, TokenProblem.INVALID
    if row.used_at is not None and purpose not in REUSABLE:
        return row, TokenProblem.USED
    if utc(row.expires_at) <= (now or clock.now()):
        return row, TokenProblem.EXPIRED
    return row, None


def use(row: LinkToken, *, outcome: str, now: datetime | None = None) -> None:
    row.used_at = now or clock.now()
    row.outcome = outcome
    db.session.flush()
