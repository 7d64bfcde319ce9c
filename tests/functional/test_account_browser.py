"""In Chromium: a reseller's owner sets up two-factor authentication from the QR code and
later signs in with a recovery code (390 px, Finnish), edits the company details and finds
a refused VAT ID by its field (1280 px, Swedish), changes the sign-in address through the
link in the sandbox outbox (English); axe-core finds no serious or critical violation on
any page a crawl of the client area and the console reaches."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pyotp
import pytest
import sqlalchemy as sa

from reseller import demo
from reseller.accounts.models import Reseller, User
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.browser import (
    DESKTOP,
    PHONE,
    axe_violations,
    chromium,
    crawl_with_axe,
    scrolls_sideways,
    serving,
    sign_in,
)
from tests.support.factories import Factory

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture
def owner(app, committed_db):
    factory = Factory(app)
    reseller = factory.reseller(company_name="Selainpolku Oy", language="fi")
    return factory.user(reseller, language="fi")


@contextmanager
def signed_in(app, user, *, language: str, viewport: dict) -> Iterator[tuple]:
    """A Chromium page at ``viewport`` signed in as ``user``, who reads ``language``."""
    with unit_of_work():
        db.session.get(User, user.id).language = language
    with serving(app) as base, chromium() as browser:
        page = browser.new_page(viewport=viewport)
        sign_in(page, base, user.email, PASSWORD)
        yield page, base


def test_totp_from_the_qr_code_then_a_recovery_code_sign_in_on_a_phone(app, owner):
    with signed_in(app, owner, language="fi", viewport=PHONE) as (page, base):
        page.goto(base + "/settings")
        page.get_by_role("button", name="Ota kaksivaiheinen tunnistautuminen käyttöön").click()
        qr = page.get_by_role("img", name="QR-koodi todennussovellustasi varten")
        assert qr.is_visible() and qr.bounding_box()["width"] >= 100
        secret = page.locator("#totp-secret").inner_text()
        assert not scrolls_sideways(page) and axe_violations(page) == []
        page.fill("#code", pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Ota käyttöön").click()
        codes = page.locator("#recovery-codes code").all_inner_texts()
        assert len(codes) == 10
        assert axe_violations(page) == []
        page.get_by_role("button", name="Kirjaudu ulos").click()
        sign_in(page, base, owner.email, PASSWORD)
        assert page.url.endswith("/login/2fa")
        page.fill("#code", codes[0])
        page.get_by_role("button", name="Vahvista").click()
        assert page.url.rstrip("/") == base
        assert "Jäljellä on 9 koodia" in page.locator("main").inner_text()
        assert not scrolls_sideways(page)


def test_company_details_keep_the_input_and_name_the_field_in_swedish(app, owner):
    with signed_in(app, owner, language="sv", viewport=DESKTOP) as (page, base):
        page.goto(base + "/account")
        page.fill("#company_name", "Selainpolku Ab")
        page.fill("#vat_id", "FI12345678")
        page.fill("#contact_phone", "+358 40 1234567")
        page.get_by_role("button", name="Spara företagsuppgifterna").click()
        vat = page.locator("#vat_id")
        assert vat.get_attribute("aria-invalid") == "true"
        error = page.locator("#" + vat.get_attribute("aria-describedby"))
        assert "kontrollsiffra" in error.inner_text() or "giltigt" in error.inner_text()
        assert page.locator("#company_name").input_value() == "Selainpolku Ab"
        assert axe_violations(page) == []
        vat.fill("FI24644919")
        page.get_by_role("button", name="Spara företagsuppgifterna").click()
        history = page.locator("#history").inner_text()
        assert "Selainpolku Ab" in history and "FI24644919" in history and owner.email in history
    saved = db.session.get(Reseller, owner.reseller_id)
    db.session.refresh(saved)
    assert (saved.vat_id, saved.contact_phone) == ("FI24644919", "+358.401234567")


def test_the_sign_in_address_changes_through_the_link_in_the_sandbox_outbox(app, owner):
    with signed_in(app, owner, language="en", viewport=PHONE) as (page, base):
        page.goto(base + "/settings")
        page.fill("#new-email", "new.owner@example.test")
        page.fill("#email_password", PASSWORD)
        page.get_by_role("button", name="Change the address").click()
        page.goto(base + "/_dev/outbox")  # Chromium's own Accept header: HTML
        href = page.locator('main a[href*="/account/email/"]').get_attribute("href")
        page.goto(href.replace(app.config["BASE_URL"], base))
        page.get_by_role("button", name="Confirm the new address").click()
        assert "new.owner@example.test" in page.locator("main").inner_text()
    user = db.session.scalar(sa.select(User).where(User.id == owner.id))
    db.session.refresh(user)
    assert user.email == "new.owner@example.test"


def test_axe_finds_nothing_serious_on_any_page_of_the_client_area_or_console(app,
                                                                             committed_db):
    info = demo.load(app.config)
    db.session.commit()
    reseller, staff = info["resellers"][0], info["operator"]
    with serving(app) as base, chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        public = {path: axe_violations(page) for path in ("/login", "/apply", "/_dev/outbox")
                  if page.goto(base + path)}
        sign_in(page, base, reseller["email"], reseller["password"])
        client_area = crawl_with_axe(page, base, app, ["/"], limit=80)
        page.get_by_role("button", name=re.compile("Kirjaudu ulos|Sign out|Logga ut")).click()
        sign_in(page, base, staff["email"], staff["password"])
        console = crawl_with_axe(page, base, app, ["/console/"], limit=60)
    print(f"axe: {len(public)} public, {len(client_area)} client-area and "
          f"{len(console)} console pages")
    assert len(client_area) > 20 and len(console) > 10
    found = {path: v for pages in (public, client_area, console) for path, v in pages.items()
             if v}
    assert found == {}
