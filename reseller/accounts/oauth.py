"""OAuth2 client-credentials token endpoint (RFC 6749 §4.4) and token revocation
(RFC 7009) on authlib.

Clients live in ``oauth_clients`` with hashed secrets; issued tokens are stored only as
hashes (``access_tokens``), exactly like personal API tokens, so one bearer check serves
both, and a revoked token fails that check at once. Client authentication is throttled
per client id and per address (``throttling``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.security import check_password_hash

from reseller.accounts.models import AccessToken, OAuthClient, Reseller
from reseller.accounts.services import ACCESS_TOKEN_PREFIX, hash_token
from reseller.accounts.throttling import OAUTH_TOKEN, Attempt, current_guard
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import csrf, db
from reseller.core.permissions import SCOPES

bp = Blueprint("oauth", __name__, url_prefix="/oauth")
# Basic auth (RFC 6749's recommendation) and form fields (what WHMCS modules send).
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class _Client(ClientMixin):
    """Adapts our model to authlib's client interface."""

    def __init__(self, model: OAuthClient) -> None:
        self.model = model

    def get_client_id(self) -> str:
        return self.model.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return check_password_hash(self.model.secret_hash, client_secret or "")

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint in {"token", "revocation"} and method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.model.scope_set
        if not scope:
            return " ".join(sorted(allowed))
        return " ".join(sorted(set(scope.split()) & allowed))

    def get_default_redirect_uri(self) -> None:
        return None


def _query_client(client_id: str) -> _Client | None:
    model = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_id))
    if model is None or model.revoked_at is not None:
        return None
    reseller = db.session.get(Reseller, model.reseller_id)
    if reseller is None or reseller.status == "closed":
        return None
    return _Client(model)


def _save_token(token: dict, request) -> None:
    client = request.client.model
    db.session.add(
        AccessToken(
            reseller_id=client.reseller_id,
            kind="oauth",
            client_id=client.id,
            name=client.name,
            prefix=token["access_token"][: len(ACCESS_TOKEN_PREFIX) + 4],
            token_hash=hash_token(token["access_token"]),
            scopes=token.get("scope", ""),
            expires_at=clock.now() + _ttl(token),
        )
    )
    db.session.flush()


def _ttl(token: dict):
    return timedelta(seconds=int(token.get("expires_in", 3600)))


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class _Token:
    """Adapts an access token row to authlib's token interface (for revocation)."""

    def __init__(self, model: AccessToken) -> None:
        self.model = model

    def check_client(self, client: _Client) -> bool:
        return self.model.kind == "oauth" and self.model.client_id == client.model.id


class Revocation(RevocationEndpoint):
    """RFC 7009: a client revokes one of its own access tokens; unknown tokens get 200."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
        # Only access tokens exist here, so every hint leads to the same search (§2.1).
        model = db.session.scalar(sa.select(AccessToken).where(
            AccessToken.token_hash == hash_token(token_string)))
        return _Token(model) if model is not None else None

    def revoke_token(self, token: _Token, request) -> None:
        token.model.revoked_at = token.model.revoked_at or clock.now()
        db.session.flush()


def _client_authenticated(respond: Callable[[AuthorizationServer], Response]) -> Response:
    """Answer a client-authenticated request unless its client id or address is locked,
    and count a failed client authentication."""
    auth = request.authorization
    client_id = auth.username if auth is not None and auth.type == "basic" else None
    attempt = Attempt(OAUTH_TOKEN, client_id or request.form.get("client_id"),
                      request.remote_addr or "unknown")
    guard = current_guard()
    guard.check(attempt)  # TooManyAttempts: 429 problem+json with Retry-After
    with unit_of_work():
        response = respond(current_app.extensions["tunnus.oauth"])
    refused = (response.get_json(silent=True) or {}).get("error") == "invalid_client"
    with unit_of_work():
        if refused:
            guard.failed(attempt)
        elif response.status_code == 200:
            guard.succeeded(attempt)
    challenge = response.headers.get("WWW-Authenticate", "")
    if challenge.startswith("Basic ") and "realm=" not in challenge:
        # RFC 6749 §5.2 asks for the scheme the client used; RFC 7617 gives Basic a realm.
        response.headers["WWW-Authenticate"] = 'Basic realm="oauth", ' + challenge[6:]
    return response


@bp.post("/token")
@csrf.exempt
def token():
    """Exchange client id and secret for a bearer token (Basic auth or form fields)."""
    return _client_authenticated(lambda server: server.create_token_response())


@bp.post("/revoke")
@csrf.exempt
def revoke():
    """RFC 7009: revoke one access token (``token`` form field), authenticated as the
    client it was issued to. 200 also for an unknown or already revoked token (§2.2)."""
    return _client_authenticated(
        lambda server: server.create_endpoint_response(Revocation.ENDPOINT_NAME))


def init_app(app: Flask) -> None:
    app.config.setdefault(
        "OAUTH2_ACCESS_TOKEN_GENERATOR",
        lambda *args, **kwargs: ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32),
    )
    app.config.setdefault(
        "OAUTH2_TOKEN_EXPIRES_IN", {"client_credentials": app.config["ACCESS_TOKEN_TTL"]}
    )
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", sorted(SCOPES))
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    if app.config["SANDBOX"]:
        # The embedded default serves plain HTTP on 127.0.0.1; production sits behind TLS.
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    app.extensions["tunnus.oauth"] = server
    app.register_blueprint(bp)
