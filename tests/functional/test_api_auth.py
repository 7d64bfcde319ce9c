import base64

import pytest

from reseller.accounts import services
from reseller.accounts.models import User


@pytest.mark.smoke
def test_no_token_is_401_problem(client):
    response = client.get("/api/v1/account")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "unauthorized"


def test_unknown_token_is_401(client):
    response = client.get("/api/v1/account", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_missing_scope_is_403(factory):
    api = factory.api(scopes=["domains:read"])
    response = api.get("/api/v1/account")
    assert response.status_code == 403
    assert response.json["code"] == "insufficient_scope"


@pytest.mark.smoke
def test_each_token_sees_only_its_own_account(factory):
    first, second = factory.reseller(company_name="First Oy"), factory.reseller(company_name="Second AB", country="SE")
    assert factory.api(first).get("/api/v1/account").json["company_name"] == "First Oy"
    assert factory.api(second).get("/api/v1/account").json["company_name"] == "Second AB"


def test_another_resellers_user_is_404(factory):
    first, second = factory.reseller(), factory.reseller()
    stranger = factory.user(second)
    api = factory.api(first)
    assert api.get(f"/api/v1/users/{stranger.id}").status_code == 404
    assert api.patch(f"/api/v1/users/{stranger.id}", json={"role": "billing"}).status_code == 404
    assert api.delete(f"/api/v1/users/{stranger.id}").status_code == 404
    ids = [u["id"] for u in api.get("/api/v1/users").json["items"]]
    assert stranger.id not in ids


@pytest.mark.smoke
def test_oauth_client_credentials_flow(client, factory):
    reseller = factory.reseller()
    owner = factory.user(reseller)
    oauth_client, secret = services.create_oauth_client(
        reseller_id=reseller.id, actor=owner, name="WHMCS", scopes=["account:read", "domains:read"])
    basic = base64.b64encode(f"{oauth_client.client_id}:{secret}".encode()).decode()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.json
    token = response.json["access_token"]
    assert response.json["token_type"].lower() == "bearer"
    assert set(response.json["scope"].split()) == {"account:read", "domains:read"}
    me = client.get("/api/v1/account", headers={"Authorization": f"Bearer {token}"})
    assert me.json["id"] == reseller.id
    # revoking the client kills its tokens at once
    services.revoke_oauth_client(reseller_id=reseller.id, actor_role="owner", client_id=oauth_client.id)
    assert client.get("/api/v1/account", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_wrong_client_secret_is_refused(client, factory):
    reseller = factory.reseller()
    oauth_client, _ = services.create_oauth_client(
        reseller_id=reseller.id, actor=factory.user(reseller), name="x", scopes=["account:read"])
    response = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": oauth_client.client_id,
        "client_secret": "wrong"})
    assert response.status_code == 401


def test_personal_token_never_exceeds_the_users_role(factory):
    reseller = factory.reseller()
    admin = factory.user(reseller, role="admin")
    token, raw = services.create_personal_token(reseller_id=reseller.id, actor=admin, name="t",
                                                scopes=["billing:read", "account:read"])
    services.change_role(reseller_id=reseller.id, actor_role="owner", user_id=admin.id,
                         role="technical")
    _, scopes = services.resolve_bearer(raw)
    assert "billing:read" not in scopes and "account:read" in scopes


def test_technical_user_cannot_mint_a_billing_token(factory):
    api = factory.api(role="technical")
    response = api.post("/api/v1/tokens", json={"name": "x", "scopes": ["billing:read"]})
    assert response.status_code == 403
    assert response.json["code"] == "insufficient_scope"  # technical tokens lack account:write


def test_billing_user_cannot_grant_domain_scopes(factory):
    reseller = factory.reseller()
    billing = factory.user(reseller, role="billing")
    with pytest.raises(Exception) as refused:
        services.create_personal_token(reseller_id=reseller.id, actor=billing, name="x",
                                       scopes=["domains:write"])
    assert refused.value.code in {"permission_denied", "scope_not_allowed"}


def test_revoked_personal_token_stops_working(factory):
    reseller = factory.reseller()
    api = factory.api(reseller)
    created = api.post("/api/v1/tokens", json={"name": "ci", "scopes": ["account:read"]})
    assert created.status_code == 201
    second = created.json["token"]
    headers = {"Authorization": f"Bearer {second}"}
    assert api.client.get("/api/v1/account", headers=headers).status_code == 200
    assert api.delete(f"/api/v1/tokens/{created.json['id']}").status_code == 204
    assert api.client.get("/api/v1/account", headers=headers).status_code == 401


def test_the_last_owner_cannot_be_removed(factory):
    reseller = factory.reseller()
    owner = factory.user(reseller, role="owner")
    api = factory.api(reseller, role="admin")
    response = api.delete(f"/api/v1/users/{owner.id}")
    assert response.status_code in {403, 409}


def test_invite_user_validates_and_sends_mail(factory, jobs):
    api = factory.api()
    bad = api.post("/api/v1/users", json={"email": "x", "role": "king"})
    assert bad.status_code == 422 and {"email", "role"} <= set(bad.json["errors"])
    good = api.post("/api/v1/users", json={"email": "New@Example.test", "role": "billing"})
    assert good.status_code == 201 and good.json["email"] == "new@example.test"
    assert any(path == "whitelabel.tasks.send_message" for path, _ in jobs.jobs)


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_wrong_method_is_problem_json(client):
    response = client.delete("/api/v1/applications")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"


def test_healthz_is_liveness_and_readyz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.json["checks"]["database"] == {"ok": True}


def test_401_without_a_token_challenges_for_bearer_without_an_error(client):
    """RFC 6750 §3.1: no error code when the request carried no credentials."""
    response = client.get("/api/v1/account")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_401_for_a_bad_token_says_invalid_token(client):
    response = client.get("/api/v1/account", headers={"Authorization": "Bearer nope"})
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api", error="invalid_token"')
    assert "error_description=" in challenge


def test_403_for_a_missing_scope_names_the_scope(factory):
    response = factory.api(scopes=["domains:read"]).get("/api/v1/account")
    assert response.headers["WWW-Authenticate"] == \
        'Bearer realm="api", error="insufficient_scope", scope="account:read"'


def test_httpreq_401_challenges_for_basic(client, factory):
    challenge = {"fqdn": "_acme-challenge.example.fi.", "value": "x"}
    anonymous = client.post("/acme/httpreq/present", json=challenge)
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="api"'
    basic = base64.b64encode(b"lego:tun_pat_wrong").decode()
    wrong = client.post("/acme/httpreq/present", json=challenge,
                        headers={"Authorization": f"Basic {basic}"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith('Basic realm="api", error="invalid_token"')
    # A bearer token is not what lego sends: the Basic password is the only place looked at.
    bearer = client.post("/acme/httpreq/present", json=challenge,
                         headers={"Authorization": f"Bearer {factory.token()}"})
    assert bearer.status_code == 401


def test_a_personal_token_is_checked_without_decrypting_its_users_totp_seed(factory,
                                                                            monkeypatch):
    """The seed is read only when asked for: an API request never needs it."""
    from reseller.core import crypto
    from reseller.core.db import unit_of_work

    reseller = factory.reseller()
    owner = factory.user(reseller, role="owner")
    with unit_of_work():
        owner.totp_secret, owner.totp_enabled = "JBSWY3DPEHPK3PXP", True
    _, raw = services.create_personal_token(reseller_id=reseller.id, actor=owner, name="t",
                                            scopes=["account:read"])
    decrypted = []
    decrypt = crypto.Keyring.decrypt
    monkeypatch.setattr(crypto.Keyring, "decrypt",
                        lambda self, stored: decrypted.append(stored) or decrypt(self, stored))
    from reseller.core.extensions import db

    db.session.expire_all()
    token, scopes = services.resolve_bearer(raw)
    assert "account:read" in scopes and decrypted == []
    user = db.session.get(User, token.user_id)
    assert user.totp_secret == "JBSWY3DPEHPK3PXP" and len(decrypted) == 1  # when asked
