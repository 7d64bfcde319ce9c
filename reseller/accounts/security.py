"""A user's own sign-in details: TOTP with one-time recovery codes, password change
(the current password first) and sign-in e-mail change (the password first, then a link
to the new address). Every change lands in the account's change log (``changes``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash

from reseller.accounts import changes, services
from reseller.accounts.errors import EmailTaken, InvalidRecoveryCode, InvalidToken, WrongPassword
from reseller.accounts.models import RecoveryCode, User
from reseller.core.clock import clock
from reseller.core.errors import ValidationFailed
from reseller.core.extensions import db

MIN_PASSWORD = 10
RECOVERY_CODES = 10
# 31 letters and digits without look-alikes (0/o, 1/l/i): 10 of them are ~50 bits, and
# guessing is throttled like TOTP codes.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LENGTH = 10
EMAIL_TOKEN_MAX_AGE = 2 * 24 * 3600


# Recovery codes
def _normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _hash_code(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{_normalize_code(code)}".encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    """A recovery code (letters and digits, 10 long) rather than a 6-digit TOTP code."""
    normal = _normalize_code(code)
    return len(normal) == _CODE_LENGTH and not normal.isdigit()


def issue_recovery_codes(*, user: User) -> list[str]:
    """A fresh set of codes, returned once; the previous set stops working."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(user.id, raw)))
    changes.record(reseller_id=user.reseller_id, user=user, actor=user, field="recovery_codes")
    db.session.flush()
    return codes


def remaining_recovery_codes(*, user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def use_recovery_code(*, user: User, code: str) -> int:
    """Accept an unused code of a user with two-factor on, once; how many remain."""
    if not user.totp_enabled:
        raise InvalidRecoveryCode()
    row = db.session.scalar(sa.select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_code(user.id, code),
        RecoveryCode.used_at.is_(None)).with_for_update())
    if row is None:
        raise InvalidRecoveryCode()
    row.used_at = user.last_login_at = clock.now()
    changes.record(reseller_id=user.reseller_id, user=user, actor=user,
                   field="recovery_code_used")
    db.session.flush()
    return remaining_recovery_codes(user=user)


def enable_totp(*, user: User, code: str) -> list[str]:
    """Confirm the enrolment with a code from the app; the recovery codes, shown once."""
    services.confirm_totp_enrolment(user=user, code=code)
    changes.record(reseller_id=user.reseller_id, user=user, actor=user, field="totp",
                   old="off", new="on")
    return issue_recovery_codes(user=user)


def disable_totp(*, user: User, code: str) -> None:
    services.disable_totp(user=user, code=code)
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    changes.record(reseller_id=user.reseller_id, user=user, actor=user, field="totp",
                   old="on", new="off")
    db.session.flush()


# Password and e-mail
def check_password(*, user: User, password: str) -> None:
    """Re-authentication before a sensitive change (throttled by the caller)."""
    if not user.password_hash or not check_password_hash(user.password_hash, password or ""):
        raise WrongPassword()


def change_password(*, user: User, current_password: str, new_password: str,
                    confirm: str) -> None:
    """Set a new password; the user's other sessions end (their fingerprint changes)."""
    check_password(user=user, password=current_password)
    if len(new_password) < MIN_PASSWORD:
        raise ValidationFailed({"new_password": [_l("Use at least %(min)s characters.",
                                                    min=MIN_PASSWORD)]})
    if new_password != confirm:
        raise ValidationFailed({"confirm": [_l("The passwords do not match.")]})
    services.set_password(user, new_password)
    changes.record(reseller_id=user.reseller_id, user=user, actor=user, field="password")
    db.session.flush()


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="tunnus-email-change")


def _email_fingerprint(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def request_email_change(*, user: User, password: str, new_email: str,
                         secret_key: str) -> str:
    """Check the password and the new address; a signed link for the new address (two
    days, and void once the address has changed)."""
    check_password(user=user, password=password)
    new_email = new_email.strip().lower()
    if new_email == user.email:
        raise ValidationFailed({"email": [_l("This is already your address.")]})
    if services.find_user_by_email(new_email) is not None:
        raise EmailTaken()
    return _serializer(secret_key).dumps(
        {"uid": user.id, "new": new_email, "fp": _email_fingerprint(user.email)})


def confirm_email_change(*, token: str, secret_key: str) -> tuple[User, str]:
    """Apply a change whose link was opened: (the user, their previous address)."""
    try:
        data = _serializer(secret_key).loads(token, max_age=EMAIL_TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired) as error:
        raise InvalidToken() from error
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active or not hmac.compare_digest(
            _email_fingerprint(user.email), data.get("fp", "")):
        raise InvalidToken()
    if services.find_user_by_email(data["new"]) is not None:
        raise EmailTaken()
    old, user.email = user.email, data["new"]
    changes.record(reseller_id=user.reseller_id, user=user, actor=user, field="email",
                   old=old, new=user.email)
    db.session.flush()
    return user, old
