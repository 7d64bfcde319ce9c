"""Who is signed in to the client area, and page guards built on the permission matrix."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from flask import abort, g, redirect, request, session, url_for

from reseller.accounts.models import User
from reseller.accounts.permissions import Permission, can
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


def load_user() -> None:
    """Before each request: put the signed-in user (if any) on ``g``."""
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return
    user = db.session.get(User, uid)
    if user is None or not user.active or session.get("fp") != _fingerprint(user):
        session.pop("uid", None)
        return
    if user.reseller is not None and user.reseller.personal_data_deleted_at is not None:
        session.pop("uid", None)
        return
    g.user = user
    note_reseller(user.reseller_id)


CLOSED_ALLOWED = {"client.account", "client.account_closure", "client.settings"}


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("client.login", next=request.full_path))
        if g.user.is_operator:
            return redirect(url_for("console.index"))
        if g.user.reseller.status == "closed" and request.endpoint not in CLOSED_ALLOWED:
            # A deactivated account can only look at its account page and reopen.
            return redirect(url_for("client.account"))
        return view(*args, **kwargs)

    return wrapper


def permission_required(permission: Permission) -> Callable:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not can(g.user.role, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def operator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("client.login", next=request.full_path))
        if not g.user.is_operator:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def user_can(permission: Permission) -> bool:
    user = g.get("user")
    return bool(user and not user.is_operator and can(user.role, permission))
