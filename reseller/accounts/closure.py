"""Closing an account.

The owner or an admin asks, with a reason. The account stays usable to the end of the
paid period (the current invoicing month, Europe/Helsinki); then it is deactivated:
credentials stop working and an ``account.closed`` event is recorded, on which the wallet
refunds unused prepaid funds (a listener in the same transaction). Personal data is deleted 14 days after deactivation;
until then the reseller may change its mind and reopen. Company data on invoices is kept
(bookkeeping law), personal data of users is not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.accounts import changes
from reseller.accounts.errors import PermissionDenied
from reseller.accounts.models import AccessToken, OAuthClient, RecoveryCode, Reseller, User
from reseller.core.clock import clock
from reseller.core.errors import Conflict, ValidationFailed
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.core.permissions import Permission, can

HELSINKI = ZoneInfo("Europe/Helsinki")
GRACE = timedelta(days=14)

class AccountNotClosing(Conflict):
    code = "account_not_closing"
    title = _l("The account is not being closed")


class AccountAlreadyClosing(Conflict):
    code = "account_already_closing"
    title = _l("The account is already being closed")


class ReopenTooLate(Conflict):
    code = "reopen_too_late"
    title = _l("The account's data has been deleted; it cannot be reopened")


def end_of_paid_period(moment: datetime) -> datetime:
    """The first instant of the next month in Helsinki: the current month is paid for."""
    local = moment.astimezone(HELSINKI)
    first_next = (local.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0)
    return first_next.astimezone(UTC)


def _locked(reseller_id: int) -> Reseller:
    return db.session.get(Reseller, reseller_id, with_for_update=True, populate_existing=True)


def request_closure(*, reseller_id: int, actor_role: str, actor_user_id: int | None,
                    reason: str) -> Reseller:
    if not can(actor_role, Permission.CLOSE_ACCOUNT):
        raise PermissionDenied()
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationFailed({"reason": [_l("Tell us why you are leaving.")]})
    reseller = _locked(reseller_id)
    if reseller.status != "active":
        raise AccountAlreadyClosing()
    now = clock.now()
    reseller.status = "closing"
    reseller.closing_reason = reason[:2000]
    reseller.closing_requested_at = now
    reseller.closing_requested_by_id = actor_user_id
    reseller.closes_at = end_of_paid_period(now)
    record_event(reseller_id=reseller_id, type="account.closing",
                 data={"closes_at": reseller.closes_at.isoformat()},
                 dedupe_key=f"account.closing:{reseller_id}:{now.isoformat()}")
    db.session.flush()
    return reseller


def reopen(*, reseller_id: int, actor_role: str) -> Reseller:
    """Undo a closure: before deactivation, or within 14 days after it."""
    if not can(actor_role, Permission.CLOSE_ACCOUNT):
        raise PermissionDenied()
    reseller = _locked(reseller_id)
    if reseller.status == "active":
        raise AccountNotClosing()
    if reseller.personal_data_deleted_at is not None:
        raise ReopenTooLate()
    reseller.status = "active"
    reseller.closes_at = None
    reseller.deactivated_at = None
    reseller.closing_reason = None
    db.session.flush()
    return reseller


def deactivate_due(now: datetime | None = None) -> list[int]:
    """Deactivate accounts whose paid period has ended. Idempotent."""
    now = now or clock.now()
    ids = db.session.scalars(sa.select(Reseller.id).where(
        Reseller.status == "closing", Reseller.closes_at <= now)).all()
    for reseller_id in ids:
        reseller = _locked(reseller_id)
        if reseller.status != "closing":
            continue
        reseller.status = "closed"
        reseller.deactivated_at = now
        _revoke_credentials(reseller_id, now)
        record_event(reseller_id=reseller_id, type="account.closed", data={},
                     dedupe_key=f"account.closed:{reseller_id}:{now.isoformat()}")
    db.session.flush()
    return list(ids)


def _revoke_credentials(reseller_id: int, now: datetime) -> None:
    db.session.execute(sa.update(AccessToken).where(
        AccessToken.reseller_id == reseller_id, AccessToken.revoked_at.is_(None)
    ).values(revoked_at=now))
    db.session.execute(sa.update(OAuthClient).where(
        OAuthClient.reseller_id == reseller_id, OAuthClient.revoked_at.is_(None)
    ).values(revoked_at=now))


def delete_personal_data_due(now: datetime | None = None) -> list[int]:
    """Erase users' personal data 14 days after deactivation. Idempotent."""
    now = now or clock.now()
    ids = db.session.scalars(sa.select(Reseller.id).where(
        Reseller.status == "closed", Reseller.personal_data_deleted_at.is_(None),
        Reseller.deactivated_at <= now - GRACE)).all()
    for reseller_id in ids:
        reseller = _locked(reseller_id)
        for user in db.session.scalars(sa.select(User).where(User.reseller_id == reseller_id)):
            user.email = f"deleted-user-{user.id}@invalid"
            user.name = ""
            user.password_hash = None
            user.totp_secret = None
            user.totp_enabled = False
            user.active = False
            db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        changes.forget_personal_values(reseller_id=reseller_id)
        reseller.contact_phone = None
        reseller.contact_email = f"deleted-reseller-{reseller_id}@invalid"
        reseller.closing_reason = None
        reseller.personal_data_deleted_at = now
    db.session.flush()
    return list(ids)
