"""The operator's brand, from OPERATOR_BRAND, on everything resellers see; the platform's
name ("Tunnus") on nothing a reseller or a registrant sees. Scans what is rendered (pages,
the API description, mails, the TOTP issuer, invoice PDFs), not the source."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.invoicing import at, buy, pdf_text
from tests.support.wallet import fund
from wallet.invoices import invoicing, pdf
from wallet.invoices.models import Invoice
from whitelabel.messages import send_registrant_message, send_reseller_message
from whitelabel.models import OutboxMessage

BRAND = "Acme Registrar"
PLATFORM = "Tunnus"
PASSWORD = "correct horse battery"
SKIP_PREFIXES = ("/api/", "/oauth/", "/whmcs/", "/rdap/", "/acme/", "/_dev/", "/payments/",
                 "/static/", "/go/", "/console")


@pytest.fixture
def branded(app):
    saved = app.config["OPERATOR_BRAND"]
    app.config["OPERATOR_BRAND"] = BRAND
    app.extensions.pop("whitelabel.settings", None)
    app.extensions.pop("tunnus.openapi", None)
    yield
    app.config["OPERATOR_BRAND"] = saved
    app.extensions.pop("whitelabel.settings", None)
    app.extensions.pop("tunnus.openapi", None)


def _client_pages(app):
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and not rule.arguments \
                and not rule.rule.startswith(SKIP_PREFIXES):
            yield rule.rule


def test_client_area_pages_carry_the_operator_brand_and_never_the_platform(app, client,
                                                                           factory, branded):
    signed_out = {path: client.get(path).get_data(as_text=True)
                  for path in ("/login", "/apply", "/no-such-page")}
    user = factory.user(factory.reseller())
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    pages = {f"{path}?lang={lang}": client.get(f"{path}?lang={lang}").get_data(as_text=True)
             for path in _client_pages(app) for lang in ("fi", "sv", "en")}
    pages.update(signed_out)
    assert len(pages) > 30
    assert [path for path, body in pages.items() if PLATFORM in body] == []
    assert f"<title>{BRAND}" in pages["/?lang=en"] or f"· {BRAND}</title>" in pages["/login"]
    assert f"· {BRAND}</title>" in pages["/login"]


def test_api_description_and_docs_carry_the_operator_brand(client, factory, branded):
    spec = client.get("/api/v1/openapi.json")
    assert spec.get_json()["info"]["title"] == f"{BRAND} reseller API"
    assert PLATFORM not in spec.get_data(as_text=True)
    user = factory.user(factory.reseller())
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert PLATFORM not in client.get("/api/v1/docs").get_data(as_text=True)


def test_totp_issuer_is_the_operator_brand(client, factory, branded):
    user = factory.user(factory.reseller())
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    page = unquote(client.post("/settings", data={"action": "totp_start"})
                   .get_data(as_text=True))
    assert f"issuer={BRAND}" in page
    assert PLATFORM not in page


def test_mail_to_a_reseller_comes_from_the_operator_brand(factory, branded):
    reseller = factory.reseller()
    with unit_of_work():
        message = send_reseller_message(
            reseller_id=reseller.id, kind="low_balance", recipient="owner@agency.fi",
            language="en", context={"balance": "5.00", "threshold": "50.00"},
            dedupe_key="brand-test-reseller")
    assert message.sender.startswith(f'"{BRAND}" <') or message.sender.startswith(f"{BRAND} <")
    for text in (message.sender, message.subject, message.text, message.html):
        assert PLATFORM not in text


def test_mail_to_a_registrant_carries_neither_the_platform_nor_the_operator(factory, branded):
    reseller = factory.reseller(company_name="Agency Oy")
    with unit_of_work():
        message = send_registrant_message(
            reseller_id=reseller.id, kind="domain_deleted", recipient="owner@customer.fi",
            language="fi", context={"domain": "site.fi"}, dedupe_key="brand-test-registrant")
    for text in (message.sender, message.subject, message.text, message.html):
        assert PLATFORM not in text and BRAND not in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.id == message.id)) == 1


def test_invoice_pdf_never_names_the_platform(factory, jobs, branded):
    reseller = factory.reseller(company_name="Buyer Oy", street="Katu 1", postal_code="00100",
                                city="Helsinki", language="en")
    fund(reseller.id, "100.00")
    at("2026-10-05T09:00:00")
    buy(reseller, "brand-check.fi", "9.90")
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))
    text = pdf_text(pdf.stored_pdf(invoice.id).content)
    assert "Buyer Oy" in text and PLATFORM not in text


def test_webhook_user_agent_is_neutral_and_configurable(app):
    from reseller.core.config import load_config

    assert PLATFORM not in app.config["WEBHOOKS_USER_AGENT"]
    assert load_config({"WEBHOOKS_USER_AGENT": "Acme-Hooks/2"})["WEBHOOKS_USER_AGENT"] == \
        "Acme-Hooks/2"


def test_the_neutral_link_host_serves_no_platform_page(app, client):
    from dataclasses import replace

    from whitelabel.settings import Settings

    app.extensions["whitelabel.settings"] = replace(Settings.from_config(app.config),
                                                    neutral_link_host="links.relay.example")
    try:
        for path in ("/login", "/", "/go/help", "/no-such-page"):
            response = client.get(path, headers={"Host": "links.relay.example"})
            assert (response.status_code, response.get_data(as_text=True)) == (404, "Not found")
    finally:
        app.extensions.pop("whitelabel.settings", None)


def test_problem_types_live_on_the_operators_site_and_document_the_problem(app, client,
                                                                            factory):
    """RFC 9457: an error's ``type`` is a URI of the operator's portal (never the
    platform's name) that explains the problem when a developer opens it."""
    api = factory.api(factory.reseller())
    problem = api.get("/api/v1/domains/no-such-name.fi").get_json()
    base = app.config["BASE_URL"]
    assert problem["type"] == f"{base}/problems/{problem['code'].replace('_', '-')}"
    page = client.get(problem["type"].removeprefix(base))
    assert page.status_code == 200 and problem["code"] in page.get_data(as_text=True)
    assert client.get("/problems/no-such-problem").status_code == 404
    assert "tunnus.dev" not in client.get("/api/v1/openapi.json").get_data(as_text=True)
