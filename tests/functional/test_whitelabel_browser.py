"""Browser test (Debian's Chromium): a registrant opens the confirm-email link on a
reseller's link host and sees that reseller's brand, then confirms without JavaScript."""

import threading

import pytest
from werkzeug.serving import make_server

from reseller.accounts.models import Reseller
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.servers import free_port
from tests.support.whitelabel import verified_domain
from wallet.services import open_wallet
from whitelabel import brands, compliance
from whitelabel.models import OutboxMessage

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP *.reseller.test 127.0.0.1"]


@pytest.fixture
def live_server(app, committed_db):
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    thread.join(timeout=10)


def _reseller(name: str, color: str) -> Reseller:
    with unit_of_work():
        reseller = Reseller(company_name=f"{name} Oy", country="FI", business_id="2464491-9",
                            contact_email=f"info@{name.lower()}.example", language="fi",
                            tier="standard", status="active")
        db.session.add(reseller)
        db.session.flush()
        open_wallet(reseller_id=reseller.id)
        brands.update_brand(reseller_id=reseller.id, name=name, primary_color=color,
                            support_email=f"tuki@{name.lower()}.example")
    return reseller


@pytest.mark.browser
def test_confirm_email_page_on_a_reseller_host_shows_that_resellers_brand(
        live_server, wl_knot, wl_settings):
    from playwright.sync_api import sync_playwright

    webbi = _reseller("Webbi", "#0a7d32")
    _reseller("Toinen", "#7d0a0a")  # another brand that must not show
    domain = verified_domain(webbi.id, wl_knot, wl_settings)
    with unit_of_work():
        compliance.start_registrant_verification(
            reseller_id=webbi.id, email="maija@customer.example", domain="kauppa.fi",
            language="fi", settings=wl_settings)
    text = db.session.scalars(db.select(OutboxMessage.text)).one()
    link = next(line for line in text.splitlines() if "/go/confirm-email/" in line)
    url = link.replace(f"http://{domain.domain}/", f"http://{domain.domain}:{live_server}/")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            styled = browser.new_page()
            styled.goto(url)
            background = styled.locator("header").evaluate(
                "e => getComputedStyle(e).backgroundColor")
            assert background == "rgb(10, 125, 50)"  # the reseller's colour, rendered
            page = browser.new_page(java_script_enabled=False)
            page.goto(url)
            assert page.locator("header .name").inner_text() == "Webbi"
            assert page.title() == "Vahvista sähköpostiosoitteesi · Webbi"
            assert "Toinen" not in page.content()
            page.get_by_role("button", name="Vahvista sähköpostiosoitteeni").click()
            assert "on nyt vahvistettu" in page.locator("[role=status]").inner_text()
        finally:
            browser.close()
    assert compliance.is_verified(reseller_id=webbi.id, email="maija@customer.example")
