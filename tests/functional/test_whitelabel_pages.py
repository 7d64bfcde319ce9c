"""Branded pages on the reseller's link host: picked by Host, token-driven, clear pages
for invalid, used and expired links; the client-area brand page and its preview."""

from datetime import timedelta

import pytest

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from tests.support.whitelabel import verified_domain
from whitelabel import brands, compliance, tokens
from whitelabel.messages import send_registrant_message


@pytest.fixture
def reseller_site(factory, wl_knot, wl_settings):
    reseller = factory.reseller(company_name="Webbi Oy")
    with unit_of_work():
        brands.update_brand(reseller_id=reseller.id, name="Webbi", primary_color="#0a7d32",
                            support_email="tuki@webbi.example", default_language="fi")
    domain = verified_domain(reseller.id, wl_knot, wl_settings)
    return reseller, f"http://{domain.domain}"


def _confirm_link(reseller, wl_settings, language="sv") -> str:
    with unit_of_work():
        compliance.start_registrant_verification(
            reseller_id=reseller.id, email="maija@customer.example", domain="kauppa.fi",
            language=language, settings=wl_settings)
    from whitelabel.models import OutboxMessage

    text = OutboxMessage.query.filter_by(template="registrant/email_verification").one().text
    return next(line for line in text.splitlines() if "/go/confirm-email/" in line)


@pytest.mark.smoke
def test_confirm_page_on_the_link_host_confirms_once_in_the_registrants_language(
        client, reseller_site, wl_settings):
    reseller, host = reseller_site
    link = _confirm_link(reseller, wl_settings)
    assert link.startswith(host)
    path = link[len(host):]
    page = client.get(path, base_url=host)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Webbi" in html and "#0a7d32" in html and 'lang="sv"' in html
    assert "Bekräfta din e-postadress" in html and "maija@customer.example" in html
    assert "<script" not in html  # works without JavaScript
    done = client.post(path, base_url=host).get_data(as_text=True)
    assert "är nu bekräftad" in done
    assert compliance.is_verified(reseller_id=reseller.id, email="maija@customer.example")
    again = client.post(path, base_url=host)
    assert again.status_code == 410
    assert "redan använts" in again.get_data(as_text=True)  # used: a clear page
    assert "Webbi" in again.get_data(as_text=True)


def test_a_tampered_token_gets_a_clear_branded_page(client, reseller_site):
    _reseller, host = reseller_site
    page = client.get("/go/confirm-email/not-a-real-token", base_url=host)
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "Webbi" in html and "This link is not valid" not in html  # Finnish by default
    assert "Tämä linkki ei ole kelvollinen" in html


def test_an_expired_link_says_so(client, reseller_site, wl_settings):
    reseller, host = reseller_site
    with unit_of_work():
        token = tokens.issue(reseller_id=reseller.id, purpose="transfer_in", subject="a.fi",
                             language="en", data={"domain": "a.fi"},
                             secret_key=wl_settings.secret_key,
                             now=clock.now() - timedelta(days=6))
    page = client.get(f"/go/transfer-in/{token}", base_url=host)
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)


def test_another_resellers_link_host_does_not_accept_the_token(client, factory, wl_knot,
                                                              reseller_site, wl_settings):
    reseller, _host = reseller_site
    link = _confirm_link(reseller, wl_settings)
    other = factory.reseller()
    other_host = "http://" + verified_domain(other.id, wl_knot, wl_settings).domain
    path = "/go/" + link.split("/go/", 1)[1]
    assert client.get(path, base_url=other_host).status_code == 404
    assert not compliance.is_verified(reseller_id=reseller.id, email="maija@customer.example")


def test_transfer_page_approves_with_a_plain_form_post(client, reseller_site, wl_settings):
    reseller, host = reseller_site
    with unit_of_work():
        send_registrant_message(
            reseller_id=reseller.id, kind="transfer_in_approval", language="en",
            recipient="maija@customer.example", context={"domain": "kauppa.fi",
                                                         "transfer_id": 12},
            dedupe_key="t1", settings=wl_settings)
    from whitelabel.models import OutboxMessage

    text = OutboxMessage.query.one().text
    path = "/go/" + text.split("/go/", 1)[1].split()[0]
    html = client.get(path, base_url=host).get_data(as_text=True)
    assert 'name="decision" value="approve"' in html and "kauppa.fi" in html
    unclear = client.post(path, base_url=host, data={"decision": "maybe"})
    assert unclear.status_code == 200 and 'value="approve"' in unclear.get_data(as_text=True)
    done = client.post(path, base_url=host, data={"decision": "approve"})
    assert "You approved the transfer" in done.get_data(as_text=True)
    again = client.post(path, base_url=host, data={"decision": "reject"})
    assert again.status_code == 410  # already used


def test_renewal_page_can_be_opened_again(client, reseller_site, wl_settings):
    reseller, host = reseller_site
    with unit_of_work():
        token = tokens.issue(reseller_id=reseller.id, purpose="renewal", subject="a.fi",
                             language="fi", secret_key=wl_settings.secret_key,
                             data={"domain": "a.fi", "expires_at": "2027-03-01T00:00:00+00:00"})
    for _ in range(2):
        html = client.get(f"/go/renewal/{token}", base_url=host).get_data(as_text=True)
        assert "a.fi" in html and "1.3.2027" in html and "Webbi" in html


def test_the_link_host_serves_nothing_but_the_registrant_pages(client, reseller_site):
    _reseller, host = reseller_site
    assert client.get("/login", base_url=host).status_code == 404
    assert client.get("/api/v1/openapi.json", base_url=host).status_code == 404
    unknown = client.get("/go/nothing-here", base_url=host)
    assert unknown.status_code == 404 and "Tunnus" not in unknown.get_data(as_text=True)
    help_page = client.get("/go/help", base_url=host)
    assert help_page.status_code == 200 and "tuki@webbi.example" in help_page.get_data(
        as_text=True)


def test_brand_page_previews_unsaved_values_without_javascript(client, factory):
    user = factory.user(role="admin")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    page = client.get("/settings/brand")
    assert page.status_code == 200
    preview = client.post("/settings/brand", data={
        "action": "preview", "name": "Kokeilu", "primary_color": "#aa0000",
        "accent_color": "#ffffff", "default_language": "en"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Kokeilu" in html and "#aa0000" in html
    assert "srcdoc=" in html and "<script" not in html
    assert brands.find_brand(user.reseller_id) is None  # nothing saved
    saved = client.post("/settings/brand", data={
        "action": "save", "name": "Kokeilu", "primary_color": "#aa0000",
        "accent_color": "#ffffff", "default_language": "en"})
    assert saved.status_code == 302
    assert brands.find_brand(user.reseller_id).name == "Kokeilu"


def test_brand_page_shows_field_errors(client, factory):
    user = factory.user(role="owner")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    reply = client.post("/settings/brand", data={
        "action": "save", "name": "X", "primary_color": "red", "accent_color": "#ffffff",
        "default_language": "en"})
    assert reply.status_code == 422
    assert "primary_color" in reply.get_data(as_text=True)


def test_billing_users_may_look_but_not_change_the_brand(client, factory):
    user = factory.user(role="billing")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert client.get("/settings/brand").status_code == 200
    client.post("/settings/brand", data={"action": "save", "name": "Nope",
                                         "primary_color": "#000000", "accent_color": "#ffffff",
                                         "default_language": "en"})
    assert brands.find_brand(user.reseller_id) is None


def test_domain_form_shows_the_records_to_publish(client, factory, wl_settings):
    user = factory.user(role="technical")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    client.post("/settings/brand", data={"action": "domain", "sender_domain": "posti.webbi.test"})
    html = client.get("/settings/brand").get_data(as_text=True)
    assert "posti.webbi.test" in html and "_domainkey.posti.webbi.test" in html
    assert wl_settings.link_cname_target in html
