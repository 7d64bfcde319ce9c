"""Account security and details in the client area: TOTP set up from a QR code with
one-time recovery codes, password and sign-in e-mail change with re-authentication and
notices, editable company and billing details with a change log."""

import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from reseller.accounts import closure
from reseller.accounts.models import AccountChange, RecoveryCode, User
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from whitelabel.models import OutboxMessage

PASSWORD = "correct horse battery"


def login(client, user, password=PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


def enable_totp(client, user) -> tuple[str, list[str]]:
    page = client.post("/settings", data={"action": "totp_start"}).get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page)[1]
    code = pyotp.TOTP(secret).at(clock.now())
    page = client.post("/settings", data={"action": "totp_confirm", "code": code})
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>",
                       page.get_data(as_text=True))
    return secret, codes


def mails_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == address).order_by(OutboxMessage.id)))


def test_totp_setup_shows_a_qr_code_and_the_recovery_codes_once(client, factory):
    user = factory.user()
    login(client, user)
    page = client.post("/settings", data={"action": "totp_start"})
    body = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert re.search(r'<svg role="img" aria-label="[^"]+" width="\d+"', body)  # the QR code
    client.post("/logout")
    login(client, user)
    secret, codes = enable_totp(client, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash)
                                .where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
    again = client.get("/settings").get_data(as_text=True)
    assert codes[0] not in again and "10" in again  # shown once; the count stays


@pytest.mark.smoke
def test_a_recovery_code_signs_in_once_and_says_how_many_remain(client, factory):
    user = factory.user(language="en")
    login(client, user)
    _secret, codes = enable_totp(client, user)
    client.post("/logout")
    login(client, user)
    response = client.post("/login/2fa", data={"code": codes[3].upper().replace("-", " ")})
    assert response.status_code == 302
    assert "9 codes remain" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, user)
    refused = client.post("/login/2fa", data={"code": codes[3]})
    assert refused.status_code == 200 and "already used" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in


def test_recovery_code_guessing_is_throttled(client, factory, app):
    user = factory.user()
    login(client, user)
    enable_totp(client, user)
    client.post("/logout")
    login(client, user)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login/2fa", data={"code": "aaaaa-bbbbb"})
    assert client.post("/login/2fa", data={"code": "aaaaa-bbbbb"}).status_code == 429


def test_new_recovery_codes_need_the_password_and_void_the_old_ones(client, factory):
    user = factory.user()
    login(client, user)
    _secret, old = enable_totp(client, user)
    wrong = client.post("/settings", data={"action": "recovery_codes", "password": "nope"})
    assert wrong.status_code == 422
    page = client.post("/settings", data={"action": "recovery_codes", "password": PASSWORD})
    new = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", page.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout")
    login(client, user)
    assert client.post("/login/2fa", data={"code": old[0]}).status_code == 200
    assert client.post("/login/2fa", data={"code": new[0]}).status_code == 302


def test_password_change_needs_the_current_password_and_tells_the_user(client, app, factory):
    user = factory.user(language="sv")
    other = app.test_client()
    login(other, user)
    login(client, user)
    refused = client.post("/settings", data={
        "action": "password", "current_password": "wrong", "new_password": "a new password 1",
        "confirm": "a new password 1"})
    assert refused.status_code == 422
    short = client.post("/settings", data={
        "action": "password", "current_password": PASSWORD, "new_password": "short",
        "confirm": "short"})
    assert short.status_code == 422 and 'id="new_password-error"' in short.get_data(as_text=True)
    done = client.post("/settings", data={
        "action": "password", "current_password": PASSWORD, "new_password": "a new password 1",
        "confirm": "a new password 1"})
    assert done.status_code == 302
    assert client.get("/settings").status_code == 200  # this session stays signed in
    assert other.get("/settings").status_code == 302  # the other one does not
    [notice] = mails_to(user.email)
    assert notice.template == "password_changed" and notice.language == "sv"
    assert "lösenord" in notice.text
    client.post("/logout")
    assert login(client, user, "a new password 1").status_code == 302


def test_email_change_is_confirmed_from_the_new_address_and_the_old_one_is_told(
        client, factory):
    user = factory.user(language="fi")
    old = user.email
    login(client, user)
    refused = client.post("/settings", data={"action": "email", "email": "uusi@example.test",
                                             "email_password": "wrong"})
    assert refused.status_code == 422 and 'value="uusi@example.test"' in refused.get_data(
        as_text=True)
    client.post("/settings", data={"action": "email", "email": "Uusi@Example.test",
                                   "email_password": PASSWORD})
    assert db.session.get(User, user.id).email == old  # not before the link is opened
    [link_mail] = mails_to("uusi@example.test")
    path = re.search(r"http://tunnus\.test(/account/email/\S+)", link_mail.text)[1]
    assert client.get(path).status_code == 200  # a page with a button; nothing changes
    assert db.session.get(User, user.id).email == old
    assert client.post(path).status_code == 302
    assert db.session.get(User, user.id).email == "uusi@example.test"
    [notice] = mails_to(old)
    assert notice.template == "email_changed" and "uusi@example.test" in notice.text
    assert client.post(path).status_code == 400  # the link works once
    history = client.get("/account").get_data(as_text=True)
    assert old in history and "uusi@example.test" in history


def test_company_details_are_validated_kept_on_error_and_logged(client, factory):
    reseller = factory.reseller(vat_id=None, language="en")
    owner = factory.user(reseller, language="en")
    login(client, owner)
    form = {"section": "company", "company_name": "Uusi Nimi Oy", "business_id": "2464491-9",
            "vat_id": "FI12345678", "street": "Katu 1", "postal_code": "00100",
            "city": "Helsinki", "website": "https://uusi.example", "language": "fi",
            "contact_email": "info@uusi.example", "contact_phone": "040 123 4567"}
    bad = client.post("/account", data=form)
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="vat_id-error"' in body and 'aria-describedby="vat_id-error"' in body
    assert 'value="Uusi Nimi Oy"' in body  # input kept
    assert db.session.get(type(reseller), reseller.id).company_name != "Uusi Nimi Oy"
    assert client.post("/account", data={**form, "vat_id": "fi 24644919"}).status_code == 302
    saved = db.session.get(type(reseller), reseller.id)
    assert (saved.vat_id, saved.contact_phone) == ("FI24644919", "+358.401234567")
    logged = db.session.scalars(sa.select(AccountChange).where(
        AccountChange.reseller_id == reseller.id, AccountChange.field == "vat_id")).one()
    assert (logged.old_value, logged.new_value, logged.actor_id) == (None, "FI24644919",
                                                                      owner.id)
    assert "Uusi Nimi Oy" in client.get("/account").get_data(as_text=True)


def test_billing_details_need_billing_rights(client, factory):
    reseller = factory.reseller()
    login(client, factory.user(reseller, role="technical"))
    page = client.get("/account").get_data(as_text=True)
    assert 'name="section"' not in page
    response = client.post("/account", data={"section": "billing",
                                             "billing_email": "x@example.test"})
    assert response.status_code == 422
    assert db.session.get(type(reseller), reseller.id).billing_email != "x@example.test"
    client.post("/logout")
    login(client, factory.user(reseller, role="billing"))
    assert client.post("/account", data={"section": "billing", "billing_email": "x@example.test",
                                         "einvoice_address": "0037 24644919"}).status_code == 302
    saved = db.session.get(type(reseller), reseller.id)
    assert (saved.billing_email, saved.einvoice_address) == ("x@example.test", "003724644919")


@pytest.mark.parametrize("address", ["12345", "FI00 0000"])
def test_a_wrong_einvoice_address_is_refused(client, factory, address):
    login(client, factory.user())
    response = client.post("/account", data={"section": "billing", "billing_email": "",
                                             "einvoice_address": address})
    assert response.status_code == 422 and 'id="einvoice_address-error"' in response.get_data(
        as_text=True)


def test_deleting_personal_data_blanks_logged_addresses_and_recovery_codes(client, factory):
    reseller = factory.reseller()
    owner = factory.user(reseller)
    login(client, owner)
    enable_totp(client, owner)
    client.post("/account", data={
        "section": "company", "company_name": reseller.company_name, "business_id": "2464491-9",
        "contact_email": "new@reseller.example", "contact_phone": "040 123 4567",
        "language": "fi"})
    with unit_of_work():
        saved = db.session.get(type(reseller), reseller.id)
        saved.status, saved.deactivated_at = "closed", clock.now() - timedelta(days=15)
    with unit_of_work():
        assert closure.delete_personal_data_due() == [reseller.id]
    rows = db.session.scalars(sa.select(AccountChange).where(
        AccountChange.reseller_id == reseller.id)).all()
    assert {row.field for row in rows} >= {"contact_email", "contact_phone", "totp"}
    for row in rows:
        assert row.actor_email == ""
        if row.field in ("contact_email", "contact_phone"):
            assert row.old_value is None and row.new_value is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == owner.id)) == 0
