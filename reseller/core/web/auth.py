"""Bearer-token authentication and scope checks for the API.

A token is either an OAuth2 client-credentials token or a personal API token; both
resolve to a ``Principal`` bound to exactly one reseller, which every view passes on to
services as ``reseller_id`` (tenancy is explicit, never implied). The kernel does not
know the tokens: the accounts feature hands over the resolver (``set_authenticator``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request

from reseller.core.errors import InsufficientScope, Unauthorized


@dataclass(frozen=True)
class Principal:
    reseller_id: int
    scopes: frozenset[str]
    token_id: int
    kind: str  # "oauth" | "personal"
    user_id: int | None
    role: str  # the user's role for personal tokens; clients act as "admin" within scopes


REALM = "api"
_BASIC = "tunnus.basic_token"
_AUTHENTICATOR = "tunnus.authenticate_token"


def set_authenticator(app: Flask, authenticate: Callable[[str], Principal | None]) -> None:
    """``authenticate(raw_token)`` returns the token's ``Principal``, or None for a token
    that is unknown, expired or revoked."""
    app.extensions[_AUTHENTICATOR] = authenticate


def basic_token(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that takes the API token as the HTTP Basic password (lego's ``httpreq``
    provider sends it so) instead of as a bearer token. Put it right under the route."""
    setattr(view, _BASIC, True)
    return view


def _takes_basic() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _BASIC, False))


def _challenge(scheme: str, error: str | None = None, description: str | None = None,
               scope: str | None = None) -> str:
    """A ``WWW-Authenticate`` value (RFC 6750 §3; RFC 7617 for Basic)."""
    params = [f'realm="{REALM}"']
    if error:
        params.append(f'error="{error}"')
    if description:
        params.append(f'error_description="{description}"')
    if scope:
        params.append(f'scope="{scope}"')
    return f"{scheme} " + ", ".join(params)


def _presented_token() -> tuple[str, str | None]:
    """(scheme, token) from the Authorization header; token None when none was sent."""
    if _takes_basic():
        auth = request.authorization
        sent = auth is not None and auth.type == "basic" and bool(auth.password)
        return "Basic", auth.password if sent else None
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    return "Bearer", raw.strip() if scheme.lower() == "bearer" and raw.strip() else None


def _authenticate() -> Principal:
    scheme, raw = _presented_token()
    if raw is None:
        hint = ("Use HTTP Basic with an API token as the password." if scheme == "Basic"
                else "Send 'Authorization: Bearer <token>'.")
        # RFC 6750 §3.1: no error code when the request carried no credentials.
        raise Unauthorized(hint, challenge=_challenge(scheme))
    authenticate = current_app.extensions.get(_AUTHENTICATOR)
    principal = authenticate(raw) if authenticate is not None else None
    if principal is None:
        message = "The token is unknown, expired or revoked."
        raise Unauthorized(message, challenge=_challenge(scheme, "invalid_token", message))
    return principal


def current_principal() -> Principal:
    # Kept on the request itself (not ``g``), so it can never outlive the request.
    principal = request.environ.get("tunnus.principal")
    if principal is None:
        principal = request.environ["tunnus.principal"] = _authenticate()
    return principal


def current_reseller_id() -> int:
    return current_principal().reseller_id


def require_scope(*scopes: str) -> Callable:
    """Authenticate the caller and demand every scope listed (403 otherwise)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            missing = [scope for scope in scopes if scope not in principal.scopes]
            if missing:
                raise InsufficientScope(
                    f"This needs the scope(s): {', '.join(missing)}.", required=missing,
                    challenge=None if _takes_basic() else _challenge(
                        "Bearer", "insufficient_scope", scope=" ".join(scopes)))
            return view(*args, **kwargs)

        wrapper._scopes = list(scopes)  # read by the OpenAPI builder
        return wrapper

    return decorator

