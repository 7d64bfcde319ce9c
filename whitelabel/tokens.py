"""Signed, expiring, single-use tokens for the links in registrant email.

The token signs a ``LinkToken`` row's id; expiry and use are kept on the row and judged
by ``clock.now()``, so the sandbox time machine expires links too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

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
    row = LinkToken(reseller_id=reseller_id, purpose=purpose, subject=subject,
                    language=language, data=data,
                    expires_at=(now or clock.now()) + LIFETIMES[purpose])
    db.session.add(row)
    db.session.flush()
    return _serializer(secret_key).dumps({"t": row.id, "p": purpose})


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
