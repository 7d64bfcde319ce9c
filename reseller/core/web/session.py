"""Who is signed in to the client area (``g.user``), and page guards on the permission matrix.

The kernel does not know the user model: the accounts feature provides the loader
(``set_user_loader``) that finds the signed-in user for a request, and this shell runs it
before each request. A user has ``is_operator``, ``role`` and ``reseller.status``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import (
    Flask,
    abort,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from markupsafe import Markup, escape

from reseller.core.permissions import Permission, can

_LOADER = "tunnus.load_user"
LANGUAGES = ("fi", "sv", "en")


def set_user_loader(app: Flask, loader: Callable[[], Any]) -> None:
    """``loader()`` returns the signed-in user of the current request, or None."""
    app.extensions[_LOADER] = loader


def _load_user() -> None:
    """Before each request: put the signed-in user (if any) on ``g``."""
    loader = current_app.extensions.get(_LOADER)
    g.user = loader() if loader is not None else None


def select_locale() -> str:
    """The page language: ``?lang=`` (remembered), the user's, the session's, the browser's."""
    if not has_request_context():
        return "en"
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    user = g.get("user")
    if user is not None and user.language in LANGUAGES:
        return user.language
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(LANGUAGES) or "en"


def is_current(url: str, exact: bool = False) -> bool:
    """Whether ``url`` is the page shown or (unless ``exact``) the section it heads."""
    path = request.path.rstrip("/") or "/"
    url = url.split("?")[0].rstrip("/") or "/"
    return path == url or (not exact and url != "/" and path.startswith(url + "/"))


def nav_link(url: str, text: str, exact: bool = False) -> Markup:
    """A navigation link, marked ``aria-current="page"`` on its own page and section."""
    current = Markup(' aria-current="page"') if is_current(url, exact) else ""
    return Markup('<a href="{}"{}>{}</a>').format(url, current, text)


def favicon(color: str, brand: str) -> str:
    """The operator's favicon: its initial on its colour, as an inline SVG data URL."""
    initial = escape((brand or "?")[:1].upper())
    svg = (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'>"
           f"<rect width='32' height='32' rx='6' fill='{color}'/>"
           f"<text x='16' y='23' font-size='20' font-family='sans-serif' fill='#fff' "
           f"text-anchor='middle'>{initial}</text></svg>")
    return "data:image/svg+xml," + quote(svg)


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
    app.jinja_env.globals.update(nav_link=nav_link, favicon=favicon, is_current=is_current)


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
