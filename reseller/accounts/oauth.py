"""OAuth2 client-credentials token endpoint (RFC 6749 §4.4) on authlib.

Clients live in ``oauth_clients`` with hashed secrets; issued tokens are stored only as
hashes (``access_tokens``), exactly like personal API tokens, so one bearer check serves
both.
"""

from __future__ import annotations

import os
import secrets

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from flask import Blueprint, Flask, current_app
from werkzeug.security import check_password_hash

from reseller.accounts.models import AccessToken, OAuthClient, Reseller
from reseller.accounts.permissions import SCOPES
from reseller.accounts.services import ACCESS_TOKEN_PREFIX, hash_token
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import csrf, db

bp = Blueprint("oauth", __name__, url_prefix="/oauth")


class _Client(ClientMixin):
    """Adapts our model to authlib's client interface."""

    def __init__(self, model: OAuthClient) -> None:
        self.model = model

    def get_client_id(self) -> str:
        return self.model.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return check_password_hash(self.model.secret_hash, client_secret or "")

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in {"client_secret_basic", "client_secret_post"}

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
    from datetime import timedelta

    return timedelta(seconds=int(token.get("expires_in", 3600)))


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    # Basic auth (RFC 6749's recommendation) and form fields (what WHMCS modules send).
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


@bp.post("/token")
@csrf.exempt
def token():
    """Exchange client id and secret for a bearer token (Basic auth or form fields)."""
    with unit_of_work():
        return current_app.extensions["tunnus.oauth"].create_token_response()


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
    if app.config["SANDBOX"]:
        # The embedded default serves plain HTTP on 127.0.0.1; production sits behind TLS.
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    app.extensions["tunnus.oauth"] = server
    app.register_blueprint(bp)
