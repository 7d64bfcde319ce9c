"""Browser journeys (Debian's Chromium, no JavaScript needed): a reseller's owner opens a
ticket, sees its due time, replies; changes the support plan after a preview."""

import threading

import pytest
from werkzeug.serving import make_server

from reseller.accounts import services as accounts
from reseller.accounts.models import Reseller, User
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.servers import free_port
from tests.support.support_desk import install_plans
from tests.support.wallet import fund
from wallet.services import open_wallet

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "support journey 2027"


@pytest.fixture
def live_server(app, committed_db):
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def owner(live_server):
    install_plans()
    with unit_of_work():
        reseller = Reseller(company_name="Selain Oy", country="FI", business_id="2464491-9",
                            contact_email="info@selain.example", language="en",
                            tier="standard", status="active")
        db.session.add(reseller)
        db.session.flush()
        open_wallet(reseller_id=reseller.id)
        user = User(reseller_id=reseller.id, email="owner@selain.example", name="Olli Owner",
                    role="owner", language="en")
        accounts.set_password(user, PASSWORD)
        db.session.add(user)
    fund(reseller.id, "500.00")
    return user


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.fill("#email", "owner@selain.example")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_open_a_ticket_see_its_due_time_and_reply(live_server, owner):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            page = browser.new_page(java_script_enabled=False)
            _sign_in(page, live_server)
            page.goto(f"{live_server}/support/tickets/new")
            page.fill("#subject", "Glue records for ns1.selain.fi")
            page.select_option("#category", "domain")
            page.select_option("#priority", "high")
            page.fill("#body", "Please add glue for ns1.selain.fi at 192.0.2.53.")
            page.get_by_role("button", name="Open the ticket").click()
            assert "Your ticket was opened." in page.locator("[role=status]").inner_text()
            assert page.locator("[data-field=status]").inner_text() == "New"
            due = page.locator("[data-field=first-response-due]").inner_text()
            assert any(str(year) in due for year in range(2026, 2031))  # a date and time
            page.fill("#body", "The address is 192.0.2.54, sorry.")
            page.get_by_role("button", name="Send reply").click()
            assert "Your reply was sent." in page.locator("[role=status]").inner_text()
            assert page.locator("[data-message]").count() == 2
            page.goto(f"{live_server}/support/tickets")
            assert page.get_by_role("link", name="Glue records for ns1.selain.fi").count() == 1
        finally:
            browser.close()


@pytest.mark.browser
def test_change_the_plan_after_a_preview(live_server, owner):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            page = browser.new_page(java_script_enabled=False)
            _sign_in(page, live_server)
            page.goto(f"{live_server}/support/plan")
            assert page.locator("[data-field=current-plan]").inner_text() == "Core"
            page.get_by_role("button", name="Preview Pro").click()
            assert "€149.00" in page.locator("[data-field=amount-due]").inner_text()
            assert page.locator("[data-field=preview-renewal]").inner_text() != ""
            page.get_by_role("button", name="Confirm the change").click()
            assert "Your support plan was changed." in page.locator(
                "[role=status]").inner_text()
            assert page.locator("[data-field=current-plan]").inner_text() == "Pro (monthly)"
            assert "€149.00" in page.locator("[data-field=next-renewal]").inner_text()
            page.goto(f"{live_server}/billing/invoices")
            assert "€149.00" in page.locator("[data-field=next-support-charge]").inner_text()
        finally:
            browser.close()
