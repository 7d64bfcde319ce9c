"""Browser test (Debian's Chromium, JavaScript off): a billing manager saves a card on the
sandbox provider's page and finds it on the billing page, then replaces and removes it."""

import threading

import pytest
from werkzeug.serving import make_server

from reseller.accounts import services as accounts
from reseller.accounts.models import Reseller, User
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.servers import free_port
from wallet.services import open_wallet

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_server(app, committed_db):
    port = free_port()
    base_url = app.config["BASE_URL"]
    app.config["BASE_URL"] = f"http://127.0.0.1:{port}"
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    thread.join(timeout=10)
    app.config["BASE_URL"] = base_url


@pytest.mark.browser
def test_a_card_is_saved_replaced_and_removed_without_javascript(live_server):
    from playwright.sync_api import sync_playwright

    with unit_of_work():
        reseller = Reseller(company_name="Kortti Oy", country="FI", business_id="2464491-9",
                            contact_email="info@kortti.example", language="en",
                            tier="standard", status="active")
        db.session.add(reseller)
        db.session.flush()
        open_wallet(reseller_id=reseller.id)
        user = User(reseller_id=reseller.id, email="billing@kortti.example", name="Billing",
                    role="billing", is_operator=False)
        accounts.set_password(user, "correct horse battery")
        db.session.add(user)
    base = f"http://127.0.0.1:{live_server}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            page = browser.new_page(java_script_enabled=False)
            page.goto(f"{base}/login?lang=en")
            page.fill("#email", "billing@kortti.example")
            page.fill("#password", "correct horse battery")
            page.click("button[type=submit] >> text=/Kirjaudu|Sign in|Logga in/")
            page.goto(f"{base}/billing/invoices?lang=en")
            page.get_by_role("button", name="Add a card").click()
            assert "/payments/sandbox/card-setup/" in page.url
            page.fill("#number", "4242 4242 4242 4241")
            page.fill("#expiry", "12/29")
            page.fill("#cvc", "123")
            page.get_by_role("button", name="Save card").click()
            assert "The card number is not valid." in page.content()
            page.fill("#number", "4242 4242 4242 4242")
            page.fill("#cvc", "123")
            page.get_by_role("button", name="Save card").click()
            assert "/billing/invoices" in page.url
            assert "Visa •••• 4242" in page.content()
            page.get_by_role("button", name="Replace card").click()
            page.fill("#number", "5555 5555 5555 4444")
            page.fill("#expiry", "01/30")
            page.fill("#cvc", "321")
            page.get_by_role("button", name="Save card").click()
            assert "Mastercard •••• 4444" in page.content() and "4242" not in page.content()
            page.get_by_role("button", name="Remove card").click()
            assert "deleted at the payment provider" in page.content()
            assert "Mastercard" not in page.content()
        finally:
            browser.close()
