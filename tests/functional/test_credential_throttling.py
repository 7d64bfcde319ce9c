"""Guessing credentials is throttled per credential and per address: 429 with Retry-After,
a temporary lock, and an event the operator sees (sign-in, TOTP, password reset and the
OAuth2 token endpoint), on whichever store the run uses (Redis on PostgreSQL runs, the
database on SQLite runs) and on the database store explicitly."""

import base64
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from reseller.accounts import services
from reseller.accounts.throttling import LOCK_EVENT, Guard
from reseller.core.clock import clock
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.core.throttle import DatabaseStore, Rule
from whitelabel.models import OutboxMessage

PASSWORD = "correct horse battery"
LOCK_SECONDS = 600


@pytest.fixture
def small_limits(app, monkeypatch):
    """3 failures lock a credential, 5 an address, for 10 minutes (the run's store)."""
    guard = app.extensions["tunnus.guard"]
    monkeypatch.setitem(app.extensions, "tunnus.guard", Guard(
        guard.store, per_credential=Rule(3, LOCK_SECONDS, LOCK_SECONDS),
        per_address=Rule(5, LOCK_SECONDS, LOCK_SECONDS)))


@pytest.fixture
def database_store(app, monkeypatch, small_limits):
    """The same limits on the database store, whatever the run configured."""
    monkeypatch.setitem(app.extensions, "tunnus.guard", Guard(
        DatabaseStore(), per_credential=Rule(3, LOCK_SECONDS, LOCK_SECONDS),
        per_address=Rule(5, LOCK_SECONDS, LOCK_SECONDS)))


def _from(address):
    return {"environ_base": {"REMOTE_ADDR": address}}


def login(client, email, password=PASSWORD, address="198.51.100.7"):
    return client.post("/login", data={"email": email, "password": password}, **_from(address))


def lock_events():
    return list(db.session.scalars(sa.select(Event).where(Event.type == LOCK_EVENT)
                                   .order_by(Event.id)))


@pytest.mark.smoke
@pytest.mark.parametrize("store", ["configured", "database"])
def test_sign_in_locks_the_account_with_429_retry_after_and_an_event(client, factory, app,
                                                                    request, store):
    request.getfixturevalue("database_store" if store == "database" else "small_limits")
    user = factory.user()
    for _ in range(3):
        refused = login(client, user.email, "wrong password")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Form ")
    locked = login(client, user.email)  # the right password, but the account is locked
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == LOCK_SECONDS
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    [event] = lock_events()
    assert event.reseller_id == user.reseller_id
    assert event.data["action"] == "sign_in" and event.data["subject"] == "account"
    assert event.data["value"] == user.email and event.data["address"] == "198.51.100.7"
    # Another address does not get around an account's lock.
    assert login(client, user.email, address="192.0.2.99").status_code == 429
    clock.set_offset(timedelta(seconds=LOCK_SECONDS + 1))
    assert login(client, user.email).status_code == 302


def test_retry_after_counts_down_to_the_end_of_the_lock(client, factory, small_limits):
    user = factory.user()
    for _ in range(3):
        login(client, user.email, "wrong password")
    clock.set_offset(timedelta(minutes=4))
    assert LOCK_SECONDS - 240 - 2 <= int(login(client, user.email).headers["Retry-After"]) \
        <= LOCK_SECONDS - 240


def test_a_success_forgets_the_accounts_failures(client, factory, small_limits):
    user = factory.user()
    for _ in range(2):
        login(client, user.email, "wrong password")
    assert login(client, user.email).status_code == 302
    client.post("/logout")
    for _ in range(2):
        assert login(client, user.email, "wrong password").status_code == 401
    assert login(client, user.email).status_code == 302


@pytest.mark.parametrize("store", ["configured", "database"])
def test_one_address_guessing_many_accounts_is_locked(client, factory, request, store):
    request.getfixturevalue("database_store" if store == "database" else "small_limits")
    users = [factory.user() for _ in range(5)]
    for user in users:  # one failure each: no account reaches its limit
        assert login(client, user.email, "wrong", address="203.0.113.9").status_code == 401
    fresh = factory.user()
    locked = login(client, fresh.email, address="203.0.113.9")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    [event] = lock_events()
    assert event.reseller_id is None  # the operator's: no reseller's feed shows it
    assert event.data["subject"] == "address" and event.data["value"] == "203.0.113.9"
    assert login(client, fresh.email, address="203.0.113.10").status_code == 302


def test_unknown_accounts_lock_like_real_ones(client, small_limits):
    """Locking only real accounts would tell which addresses have one."""
    for _ in range(3):
        assert login(client, "nobody@example.test", "x").status_code == 401
    assert login(client, "nobody@example.test", "x").status_code == 429


def test_the_operator_sees_lock_events_in_the_console(client, factory, small_limits):
    user = factory.user()
    for _ in range(3):
        login(client, user.email, "wrong password")
    operator = factory.operator()
    login(client, operator.email, "operator password", address="192.0.2.1")
    page = client.get("/console/security")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert user.email in text and "198.51.100.7" in text
    client.post("/logout")
    login(client, user.email, address="192.0.2.2")
    assert client.get("/console/security").status_code in (302, 403)


def _totp_user(factory):
    user = factory.user()
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = True
    db.session.commit()
    return user


def test_totp_codes_are_throttled_per_user(client, factory, small_limits):
    user = _totp_user(factory)
    assert login(client, user.email).headers["Location"].endswith("/login/2fa")
    for _ in range(3):
        assert client.post("/login/2fa", data={"code": "000000"},
                           **_from("198.51.100.7")).status_code == 200
    good = pyotp.TOTP(user.totp_secret).at(clock.now())
    locked = client.post("/login/2fa", data={"code": good}, **_from("198.51.100.7"))
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) == LOCK_SECONDS
    [event] = lock_events()
    assert event.data["action"] == "totp" and event.reseller_id == user.reseller_id
    clock.set_offset(timedelta(seconds=LOCK_SECONDS + 1))
    later = pyotp.TOTP(user.totp_secret).at(clock.now())
    assert client.post("/login/2fa", data={"code": later},
                       **_from("198.51.100.7")).status_code == 302


def test_totp_codes_in_settings_share_the_throttle(client, factory, small_limits):
    user = _totp_user(factory)
    login(client, user.email)
    client.post("/login/2fa", data={"code": pyotp.TOTP(user.totp_secret).at(clock.now())},
                **_from("198.51.100.7"))
    for _ in range(3):
        client.post("/settings", data={"action": "totp_disable", "code": "000000"},
                    **_from("198.51.100.7"))
    refused = client.post("/settings", data={"action": "totp_disable", "code": "000000"},
                          **_from("198.51.100.7"))
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert db.session.get(type(user), user.id).totp_enabled


def _reset_mails(email):
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.recipient == email))


def test_password_reset_requests_are_throttled_per_account(client, factory, small_limits):
    user = factory.user()
    for _ in range(3):
        assert client.post("/password/forgot", data={"email": user.email},
                           **_from("198.51.100.7")).status_code == 302
    mailed = _reset_mails(user.email)
    refused = client.post("/password/forgot", data={"email": user.email}, **_from("192.0.2.4"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == LOCK_SECONDS
    assert mailed >= 1 and _reset_mails(user.email) == mailed
    # Unknown addresses are throttled the same way: the answer reveals nothing.
    for _ in range(3):
        client.post("/password/forgot", data={"email": "ghost@example.test"},
                    **_from("192.0.2.5"))
    assert client.post("/password/forgot", data={"email": "ghost@example.test"},
                       **_from("192.0.2.5")).status_code == 429


def test_password_reset_requests_are_throttled_per_address(client, factory, small_limits):
    for n in range(5):
        client.post("/password/forgot", data={"email": f"x{n}@example.test"},
                    **_from("203.0.113.20"))
    user = factory.user()
    refused = client.post("/password/forgot", data={"email": user.email},
                          **_from("203.0.113.20"))
    assert refused.status_code == 429
    assert _reset_mails(user.email) == 0


def test_guessing_password_links_is_throttled_per_address(client, small_limits):
    body = {"password": "brand new password", "confirm": "brand new password"}
    for n in range(5):
        assert client.post(f"/password/set/guess{n}", data=body,
                           **_from("203.0.113.30")).status_code == 400
    refused = client.post("/password/set/guess9", data=body, **_from("203.0.113.30"))
    assert refused.status_code == 429 and refused.headers["Retry-After"]


# -- the OAuth2 token endpoint ------------------------------------------------------------

def _client(factory, scopes=("account:read",)):
    reseller = factory.reseller()
    oauth_client, secret = services.create_oauth_client(
        reseller_id=reseller.id, actor=factory.user(reseller), name="WHMCS", scopes=list(scopes))
    db.session.commit()
    return oauth_client, secret


def _basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _token(client, client_id, secret, address="198.51.100.7"):
    return client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       headers=_basic(client_id, secret), **_from(address))


@pytest.mark.smoke
def test_oauth_token_locks_the_client_id_after_failures(client, factory, small_limits):
    oauth_client, secret = _client(factory)
    for _ in range(3):
        refused = _token(client, oauth_client.client_id, "wrong")
        assert refused.status_code == 401 and refused.json["error"] == "invalid_client"
    locked = _token(client, oauth_client.client_id, secret, address="192.0.2.50")
    assert locked.status_code == 429
    assert locked.mimetype == "application/problem+json"
    assert locked.json["code"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) == LOCK_SECONDS
    [event] = lock_events()
    assert event.reseller_id == oauth_client.reseller_id
    assert event.data == {**event.data, "action": "oauth_token", "subject": "client",
                          "value": oauth_client.client_id}
    clock.set_offset(timedelta(seconds=LOCK_SECONDS + 1))
    assert _token(client, oauth_client.client_id, secret).status_code == 200


def test_oauth_token_form_credentials_count_too(client, factory, small_limits):
    oauth_client, secret = _client(factory)
    form = {"grant_type": "client_credentials", "client_id": oauth_client.client_id}
    for _ in range(3):
        client.post("/oauth/token", data={**form, "client_secret": "wrong"}, **_from("192.0.2.8"))
    assert client.post("/oauth/token", data={**form, "client_secret": secret},
                       **_from("192.0.2.9")).status_code == 429


def test_oauth_token_locks_an_address_trying_many_client_ids(client, factory, small_limits):
    for n in range(5):
        _token(client, f"tun_guess{n}", "wrong", address="203.0.113.40")
    oauth_client, secret = _client(factory)
    assert _token(client, oauth_client.client_id, secret, "203.0.113.40").status_code == 429
    assert _token(client, oauth_client.client_id, secret, "203.0.113.41").status_code == 200


def test_oauth_token_401_names_basic_when_basic_was_used(client, factory):
    """RFC 6749 §5.2: invalid_client with the scheme the client authenticated with."""
    oauth_client, _ = _client(factory)
    refused = _token(client, oauth_client.client_id, "wrong")
    assert refused.status_code == 401
    assert refused.json["error"] == "invalid_client"
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith('Basic realm="oauth"') and 'error="invalid_client"' in challenge
    assert refused.headers["Cache-Control"] == "no-store"


# -- RFC 7009 revocation ----------------------------------------------------------------------

def _issued(client, factory):
    oauth_client, secret = _client(factory)
    token = _token(client, oauth_client.client_id, secret).json["access_token"]
    return oauth_client, secret, token


def _revoke(client, client_id, secret, token, **form):
    return client.post("/oauth/revoke", data={"token": token, **form},
                       headers=_basic(client_id, secret))


@pytest.mark.smoke
def test_revoking_a_token_kills_it_at_once_and_keeps_the_client(client, factory):
    oauth_client, secret, token = _issued(client, factory)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/account", headers=bearer).status_code == 200
    revoked = _revoke(client, oauth_client.client_id, secret, token,
                      token_type_hint="access_token")
    assert revoked.status_code == 200
    assert revoked.headers["Cache-Control"] == "no-store"
    refused = client.get("/api/v1/account", headers=bearer)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    fresh = _token(client, oauth_client.client_id, secret).json["access_token"]
    assert client.get("/api/v1/account",
                      headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_revoking_an_unknown_or_revoked_token_answers_200(client, factory):
    oauth_client, secret, token = _issued(client, factory)
    assert _revoke(client, oauth_client.client_id, secret, "tun_at_not-a-token").status_code == 200
    assert _revoke(client, oauth_client.client_id, secret, token).status_code == 200
    assert _revoke(client, oauth_client.client_id, secret, token).status_code == 200


def test_a_client_cannot_revoke_another_clients_token(client, factory):
    victim, victim_secret, token = _issued(client, factory)
    other, other_secret = _client(factory)
    refused = _revoke(client, other.client_id, other_secret, token)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    assert client.get("/api/v1/account",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_client_cannot_revoke_a_personal_token(client, factory):
    oauth_client, secret = _client(factory)
    personal = factory.token()
    assert _revoke(client, oauth_client.client_id, secret, personal).status_code == 400
    assert client.get("/api/v1/account",
                      headers={"Authorization": f"Bearer {personal}"}).status_code == 200


def test_revocation_needs_client_authentication(client, factory):
    oauth_client, secret, token = _issued(client, factory)
    refused = _revoke(client, oauth_client.client_id, "wrong", token)
    assert refused.status_code == 401 and refused.json["error"] == "invalid_client"
    assert refused.headers["WWW-Authenticate"].startswith('Basic realm="oauth"')
    anonymous = client.post("/oauth/revoke", data={"token": token})
    assert anonymous.status_code in (400, 401) and anonymous.json["error"] == "invalid_client"
    assert client.get("/api/v1/account",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_revocation_failures_are_throttled_like_token_requests(client, factory, small_limits):
    oauth_client, secret, token = _issued(client, factory)
    for _ in range(3):
        _revoke(client, oauth_client.client_id, "wrong", token)
    assert _revoke(client, oauth_client.client_id, secret, token).status_code == 429
