"""Onboarding in the sandbox and the console: the dev outbox a browser can read and
click, rejected applicants told in their language, business IDs already in use flagged."""

import re

import pytest
import sqlalchemy as sa

from reseller.core.extensions import db
from whitelabel.models import OutboxMessage

CHROMIUM_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                   "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
APPLICATION = {
    "company_name": "Uusi Toimisto Oy", "country": "FI", "business_id": "2464491-9",
    "website": "https://uusitoimisto.example", "contact_name": "Maija Meikäläinen",
    "contact_email": "maija@uusitoimisto.example", "language": "sv",
}


def apply(client, **changes) -> int:
    response = client.post("/api/v1/applications", json={**APPLICATION, **changes})
    assert response.status_code == 201, response.json
    return response.json["id"]


def sign_in_staff(client, factory):
    staff = factory.operator()
    client.post("/login", data={"email": staff.email, "password": "operator password"})


@pytest.mark.smoke
def test_dev_outbox_answers_a_browser_in_html_with_links_and_tools_in_json(client, factory):
    user = factory.user(language="en")
    client.post("/password/forgot", data={"email": user.email})
    page = client.get("/_dev/outbox", headers={"Accept": CHROMIUM_ACCEPT})
    assert page.mimetype == "text/html"
    assert re.search(r'<a href="http://tunnus\.test/password/set/[^"]+"', page.get_data(
        as_text=True))  # the link in the mail is clickable
    for accept in ("application/json", "*/*", None):
        headers = {"Accept": accept} if accept else {}
        listing = client.get("/_dev/outbox", headers=headers)
        assert listing.mimetype == "application/json"
        assert listing.get_json()["messages"][0]["to"] == user.email
    forced = client.get("/_dev/outbox?json=1", headers={"Accept": CHROMIUM_ACCEPT})
    assert forced.mimetype == "application/json"


def test_a_rejected_applicant_is_told_in_their_language_with_the_reason(client, factory):
    application_id = apply(client)
    sign_in_staff(client, factory)
    client.post(f"/console/applications/{application_id}/reject",
                data={"note": "Webbplatsen saknar företagsuppgifter."})
    [mail] = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == APPLICATION["contact_email"])).all()
    assert mail.language == "sv" and mail.template == "application_rejected"
    assert "Webbplatsen saknar företagsuppgifter." in mail.text
    assert "Tack" in mail.text and "Uusi Toimisto Oy" in mail.subject + mail.text


def test_a_business_id_already_in_use_is_flagged_in_the_list_and_the_detail(client, factory):
    existing = factory.reseller(company_name="Vanha Toimisto Oy", business_id="2464491-9")
    first = apply(client)
    second = apply(client, company_name="Toinen Oy", business_id="24644919",
                   contact_email="toinen@example.test")
    unrelated = apply(client, company_name="Muu Oy", business_id="0112038-9",
                      contact_email="muu@example.test")
    sign_in_staff(client, factory)
    client.post("/language", data={"language": "en"})
    listing = client.get("/console/").get_data(as_text=True)
    assert listing.count("Business ID already in use") == 2
    detail = client.get(f"/console/applications/{first}").get_data(as_text=True)
    assert existing.company_name in detail and "Toinen Oy" in detail
    assert f"/console/applications/{second}" in detail
    clean = client.get(f"/console/applications/{unrelated}").get_data(as_text=True)
    assert "Business ID already in use" not in clean
    assert client.get("/console/applications/999999").status_code == 404
