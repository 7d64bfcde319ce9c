from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.extensions import db
from whitelabel.models import OutboxMessage

PASSWORD = "correct horse battery"


def login(client, user, password=PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


@pytest.mark.smoke
def test_sign_in_and_out(client, factory):
    user = factory.user()
    assert client.get("/").status_code == 302
    response = login(client, user)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert user.reseller.company_name in page
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_and_repeated_failures_lock(client, factory, app):
    user = factory.user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login(client, user, "wrong password").status_code == 401
    # even the right password is refused while locked: 429, and when to come back
    response = login(client, user)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= app.config["LOGIN_LOCK_MINUTES"] * 60
    assert "Too many" in response.get_data(as_text=True) or "Liian" in response.get_data(as_text=True)
    clock.set_offset(timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"] + 1))
    assert login(client, user).status_code == 302


def test_totp_second_factor(client, factory):
    user = factory.user()
    login(client, user)
    response = client.post("/settings", data={"action": "totp_start"})
    secret = db.session.get(type(user), user.id).totp_secret
    assert secret and secret in response.get_data(as_text=True)
    code = pyotp.TOTP(secret).at(clock.now())
    client.post("/settings", data={"action": "totp_confirm", "code": code})
    assert db.session.get(type(user), user.id).totp_enabled
    client.post("/logout")
    response = login(client, user)
    assert response.headers["Location"].endswith("/login/2fa")
    assert client.get("/").status_code == 302  # not signed in yet
    assert client.post("/login/2fa", data={"code": "000000"}).status_code == 200
    # the code used at enrolment cannot be replayed; the next one works
    later = pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=30))
    clock.set_offset(timedelta(seconds=30))
    assert client.post("/login/2fa", data={"code": later}).status_code == 302
    assert client.get("/").status_code == 200


def test_password_reset_by_emailed_link(client, factory):
    user = factory.user()
    client.post("/password/forgot", data={"email": user.email})
    mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == user.email))
    path = next(line for line in mail.text.splitlines() if "/password/set/" in line).split("tunnus.test")[1]
    assert client.post(path, data={"password": "short", "confirm": "short"}).status_code == 400
    response = client.post(path, data={"password": "brand new password", "confirm": "brand new password"})
    assert response.status_code == 302
    client.post("/logout")
    assert login(client, user, "brand new password").status_code == 302


def test_forgot_password_does_not_reveal_accounts(client):
    response = client.post("/password/forgot", data={"email": "nobody@example.test"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.smoke
def test_language_switch_is_remembered_per_user(client, factory):
    user = factory.user(language="en")
    login(client, user)
    assert "Dashboard" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"language": "sv", "next": "/"})
    assert db.session.get(type(user), user.id).language == "sv"
    assert "Översikt" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, user)
    assert "Översikt" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role, status", [("owner", 200), ("admin", 200), ("billing", 200),
                                          ("technical", 200)])
def test_every_role_sees_the_users_page_but_only_managers_get_forms(client, factory, role, status):
    user = factory.user(role=role)
    login(client, user)
    response = client.get("/users")
    assert response.status_code == status
    has_invite = 'value="invite"' in response.get_data(as_text=True)
    assert has_invite == (role in {"owner", "admin"})


def test_technical_user_cannot_invite_users(client, factory):
    user = factory.user(role="technical")
    login(client, user)
    response = client.post("/users", data={"action": "invite", "email": "x@example.test",
                                           "role": "owner"})
    assert "not allow" in response.get_data(as_text=True) or "salli" in response.get_data(as_text=True)


def test_billing_data_hidden_from_technical_users(client, factory):
    reseller = factory.reseller(billing_email="money@example.test")
    login(client, factory.user(reseller, role="technical"))
    assert "money@example.test" not in client.get("/account").get_data(as_text=True)
    client.post("/logout")
    login(client, factory.user(reseller, role="billing"))
    assert "money@example.test" in client.get("/account").get_data(as_text=True)


def test_credentials_page_creates_and_revokes_a_client(client, factory):
    login(client, factory.user(role="admin"))
    response = client.post("/credentials", data={"action": "create_client", "name": "WHMCS",
                                                 "scopes": ["domains:read", "domains:write"]})
    page = response.get_data(as_text=True)
    assert 'id="created-secret"' in page
    from reseller.accounts.models import OAuthClient
    created = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.name == "WHMCS"))
    asked = client.post("/credentials", data={"action": "revoke_client", "id": created.id})
    assert "get “401 Unauthorized”" in asked.get_data(as_text=True)  # said before it happens
    db.session.expire_all()
    assert db.session.get(OAuthClient, created.id).revoked_at is None
    done = client.post("/credentials", data={"action": "revoke_client", "id": created.id,
                                             "confirmed": "1"}, follow_redirects=True)
    assert "no longer works" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OAuthClient, created.id).revoked_at is not None


def test_forms_need_a_csrf_token(database_url, instance_dir, db_session):
    from reseller.app import create_app
    from tests.conftest import test_config

    app = create_app(test_config(database_url, instance_dir, WTF_CSRF_ENABLED=True))
    with app.test_client() as browser:
        assert browser.post("/login", data={"email": "a@b.c", "password": "x"}).status_code == 400
        page = browser.get("/login").get_data(as_text=True)
        assert 'name="csrf_token"' in page
