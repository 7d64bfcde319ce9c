"""Password links: signed, expiring, and tied to the current password hash so that a link
stops working once used (the hash changes) — no table needed."""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from reseller.accounts.errors import InvalidToken
from reseller.accounts.models import User
from reseller.core.extensions import db

PASSWORD_TOKEN_MAX_AGE = 2 * 24 * 3600


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="tunnus-password")


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_password_token(*, user: User, secret_key: str) -> str:
    return _serializer(secret_key).dumps({"uid": user.id, "fp": _fingerprint(user)})


def user_of_password_token(*, token: str, secret_key: str) -> User:
    """The active user a still-valid link was made for; InvalidToken otherwise."""
    try:
        data = _serializer(secret_key).loads(token, max_age=PASSWORD_TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired) as error:
        raise InvalidToken() from error
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active:
        raise InvalidToken()
    if not hmac.compare_digest(_fingerprint(user), data.get("fp", "")):
        raise InvalidToken()
    return user
