"""Signing in to the client area: the session cookie's user, and finding it again.

``load_user`` is the loader the web shell (``reseller.core.web.session``) runs before
each request; ``accounts.init_app`` hands it over.
"""

from __future__ import annotations

import hashlib

from flask import session
from sqlalchemy.orm import joinedload

from reseller.accounts.models import User
from reseller.core.extensions import db
from reseller.core.logs import note_reseller


def _fingerprint(user: User) -> str:
    # Changing the password signs out every other session of the user.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def sign_in(user: User) -> None:
    session.clear()
    session["uid"] = user.id
    session["fp"] = _fingerprint(user)
    session.permanent = True


def sign_out() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def load_user() -> User | None:
    """The signed-in user of this request (None: nobody, or a session that went stale)."""
    uid = session.get("uid")
    if uid is None:
        return None
    # the reseller comes along: every page reads it (one statement, not two)
    user = db.session.get(User, uid, options=[joinedload(User.reseller)])
    if user is None or not user.active or session.get("fp") != _fingerprint(user):
        session.pop("uid", None)
        return None
    if user.reseller is not None and user.reseller.personal_data_deleted_at is not None:
        session.pop("uid", None)
        return None
    note_reseller(user.reseller_id)
    return user
