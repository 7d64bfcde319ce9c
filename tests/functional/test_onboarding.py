import pytest
import sqlalchemy as sa

from reseller.accounts.models import Reseller, User
from reseller.core.extensions import db
from reseller.onboarding.models import Application
from whitelabel.models import OutboxMessage

GOOD = {
    "company_name": "Uusi Toimisto Oy", "country": "FI", "business_id": "2464491-9",
    "vat_id": "FI24644919", "website": "https://uusitoimisto.example",
    "contact_name": "Maija Meikäläinen", "contact_email": "Maija@UusiToimisto.example",
    "language": "fi",
}


@pytest.mark.smoke
def test_valid_application_is_accepted_and_pending(client):
    response = client.post("/api/v1/applications", json=GOOD)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "pending"
    application = db.session.get(Application, response.json["id"])
    assert application.contact_email == "maija@uusitoimisto.example"


@pytest.mark.parametrize("change, field", [
    ({"business_id": "2464491-8"}, "business_id"),
    ({"vat_id": "FI24644918"}, "vat_id"),
    ({"vat_id": "SE556036079301"}, "vat_id"),
    ({"country": "US"}, "country"),
    ({"country": "CH"}, "country"),
    ({"website": "not a url"}, "website"),
    ({"contact_email": "nobody"}, "contact_email"),
])
def test_bad_application_gets_422_naming_the_field(client, change, field):
    response = client.post("/api/v1/applications", json={**GOOD, **change})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "validation_failed"
    assert field in response.json["errors"]


@pytest.mark.parametrize("missing", ["company_name", "country", "business_id", "website",
                                     "contact_name", "contact_email"])
def test_missing_required_field_is_named(client, missing):
    body = {k: v for k, v in GOOD.items() if k != missing}
    response = client.post("/api/v1/applications", json=body)
    assert response.status_code == 422
    assert missing in response.json["errors"]


def test_non_json_body_is_a_clear_400(client):
    response = client.post("/api/v1/applications", data="{not json",
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == "invalid_json"


def test_unknown_fields_are_refused(client):
    response = client.post("/api/v1/applications", json={**GOOD, "discount": "99"})
    assert response.status_code == 422
    assert "discount" in response.json["errors"]


@pytest.mark.smoke
def test_apply_form_shows_errors_in_the_chosen_language(client):
    form = {**GOOD, "business_id": "2464491-8", "country": "FI"}
    response = client.post("/apply?lang=fi", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field="business_id"' in page
    assert "Virheellinen Y-tunnus" in page or "Y-tunnus" in page
    response = client.post("/apply?lang=sv", data={**GOOD, "country": "US"})
    assert "EU" in response.get_data(as_text=True)
    assert 'data-field="country"' in response.get_data(as_text=True)


def test_apply_form_success(client):
    response = client.post("/apply", data=GOOD)
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 1


@pytest.mark.smoke
def test_operator_approval_creates_reseller_and_owner_with_password_link(client, factory, jobs):
    staff = factory.operator(password="operator password")
    application_id = client.post("/api/v1/applications", json=GOOD).json["id"]
    client.post("/login", data={"email": staff.email, "password": "operator password"})
    page = client.get("/console/").get_data(as_text=True)
    assert "Uusi Toimisto Oy" in page
    response = client.post(f"/console/applications/{application_id}/approve")
    assert response.status_code == 302
    reseller = db.session.scalar(sa.select(Reseller).where(Reseller.company_name == GOOD["company_name"]))
    assert reseller.payment_mode == "prepaid" and reseller.status == "active"
    owner = db.session.scalar(sa.select(User).where(User.reseller_id == reseller.id))
    assert owner.role == "owner" and owner.password_hash is None
    mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == owner.email))
    assert "/password/set/" in mail.text
    # the owner follows the link and sets a password
    link = next(line for line in mail.text.splitlines() if "/password/set/" in line)
    path = link.strip().split("tunnus.test", 1)[1]
    client.post("/logout")
    response = client.post(path, data={"password": "a long new password", "confirm": "a long new password"})
    assert response.status_code == 302
    # the link worked once
    response = client.post(path, data={"password": "another password!", "confirm": "another password!"})
    assert response.status_code == 400


def test_second_decision_is_refused(client, factory):
    staff = factory.operator(password="operator password")
    application_id = client.post("/api/v1/applications", json=GOOD).json["id"]
    client.post("/login", data={"email": staff.email, "password": "operator password"})
    client.post(f"/console/applications/{application_id}/reject", data={"note": "no website"})
    client.post(f"/console/applications/{application_id}/approve")
    assert db.session.get(Application, application_id).status == "rejected"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reseller).where(
        Reseller.company_name == GOOD["company_name"])) == 0


def test_resellers_cannot_open_the_console(client, factory):
    user = factory.user(password="reseller password")
    client.post("/login", data={"email": user.email, "password": "reseller password"})
    assert client.get("/console/").status_code == 403
