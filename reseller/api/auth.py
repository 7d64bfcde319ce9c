"""Bearer-token authentication and scope checks for the API.

A token is either an OAuth2 client-credentials token or a personal API token; both
resolve to a ``Principal`` bound to exactly one reseller, which every view passes on to
services as ``reseller_id`` (tenancy is explicit, never implied).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request

from reseller.accounts import services as accounts
from reseller.core.clock import clock
from reseller.core.errors import InsufficientScope, Unauthorized


@dataclass(frozen=True)
class Principal:
    reseller_id: int
    scopes: frozenset[str]
    token_id: int
    kind: str  # "oauth" | "personal"
    user_id: int | None
    role: str  # the user's role for personal tokens; clients act as "admin" within scopes


def _authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    found = accounts.resolve_bearer(raw.strip())
    if found is None:
        raise Unauthorized("The token is unknown, expired or revoked.")
    token, scopes = found
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now  # coarse, to avoid a write per request
    role = token.user.role if token.kind == "personal" and token.user else "admin"
    return Principal(token.reseller_id, scopes, token.id, token.kind, token.user_id, role)


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
                    f"This needs the scope(s): {', '.join(missing)}.", required=missing
                )
            return view(*args, **kwargs)

        wrapper._scopes = list(scopes)  # read by the OpenAPI builder
        return wrapper

    return decorator

