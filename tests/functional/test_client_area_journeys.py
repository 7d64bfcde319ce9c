"""Browser journeys (Debian's Chromium) through the client area in Finnish, Swedish and
English, at a desktop width (1280 px) and a phone's (390 px): register a domain, edit one of
its DNS records in place, fail a form and find the input kept and the error by its field,
delete the domain (refused until its name is typed). At 390 px no page scrolls sideways
(``document.scrollingElement.scrollWidth <= innerWidth``) on any page the journey shows.

Selectors are ids and form actions, never button words, so one journey serves every
language; what the pages *say* is checked per language."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from reseller.accounts import services as accounts
from reseller.accounts.models import Reseller, User
from reseller.catalog import services as catalog
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains import contacts
from reseller.domains.models import Domain
from tests.support.domains import CONTACT
from tests.support.servers import free_port
from tests.support.wallet import fund
from wallet.services import open_wallet

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "journey through the panel"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}

# What each language's pages say at the checked steps.
WORDS = {
    "fi": {"placed": "Tilaus tehty", "changed": "Tietue muutettiin", "deleted": "poistettiin rekisteristä",
           "type_name": "kirjoittamalla verkkotunnus", "phone": "Tunnistamaton puhelinnumero"},
    "sv": {"placed": "Beställning lagd", "changed": "Posten ändrades", "deleted": "raderades hos registret",
           "type_name": "skriva domännamnet", "phone": "känner inte igen telefonnumret"},
    "en": {"placed": "Order placed", "changed": "Record changed", "deleted": "was deleted at the registry",
           "type_name": "Type the domain name", "phone": "not a phone number we recognise"},
}


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


def _owner(language: str) -> None:
    with unit_of_work():
        catalog.install_defaults()
        reseller = Reseller(company_name="Polku Oy", country="FI", business_id="2464491-9",
                            contact_email="info@polku.example", language=language,
                            tier="standard", status="active")
        db.session.add(reseller)
        db.session.flush()
        open_wallet(reseller_id=reseller.id)
        user = User(reseller_id=reseller.id, email="owner@polku.example", name="Olli Owner",
                    role="owner", language=language)
        accounts.set_password(user, PASSWORD)
        db.session.add(user)
        db.session.flush()
        contacts.create_contact(reseller_id=reseller.id, **CONTACT)
    fund(reseller.id, "500.00")


class Journey:
    """One page of one browser context, checking every page it shows at a phone's width."""

    def __init__(self, page, base: str, width: int, words: dict[str, str]) -> None:
        self.page, self.base, self.width, self.words = page, base, width, words
        self.checked: list[str] = []

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.fits()

    def submit(self, form: str) -> None:
        self.page.locator(f"{form} button[type=submit]").first.click()
        self.page.wait_for_load_state()
        self.fits()

    def fits(self) -> None:
        assert self.page.evaluate("document.documentElement.lang")  # a rendered page
        if self.width <= 390:
            wide = self.page.evaluate(
                "[document.scrollingElement.scrollWidth, window.innerWidth]")
            assert wide[0] <= wide[1], (self.page.url, wide)
        self.checked.append(self.page.url)

    def sign_in(self) -> None:
        self.goto("/login")
        self.page.fill("#email", "owner@polku.example")
        self.page.fill("#password", PASSWORD)
        self.submit("form:has(#password)")

    def register(self, name: str, run_jobs) -> None:
        self.goto(f"/domains/search?q={name}")
        self.page.locator(f"a[href*='/domains/register?name={name}']").click()
        self.fits()
        self.submit("form[method=post]:has(#registrant)")
        assert self.words["placed"] in self.page.content()
        run_jobs()
        self.goto(f"/domains/{name}")

    def edit_a_record(self, name: str) -> None:
        self.goto("/dns")
        self.page.fill("#name", name)
        self.submit("form[method=post]:has(#name)")
        self.page.fill("#r-name", "www")
        self.page.fill("#r-ttl", "300")
        self.page.fill("#r-value", "192.0.2.7")
        self.submit("form:has(#r-value)")
        row = self.page.locator("tr", has=self.page.locator("input[name=old_value][value='192.0.2.7']"))
        row.locator("summary").click()
        value = row.locator("form.record-edit input[name=value]")
        assert value.is_visible() and value.input_value() == "192.0.2.7"
        value.fill("192.0.2.8")
        row.locator("form.record-edit button[type=submit]").click()
        self.page.wait_for_load_state()
        self.fits()
        assert self.words["changed"] in self.page.content()
        assert self.page.locator("input[name=old_value][value='192.0.2.8']").count() == 1
        assert self.page.locator("input[name=old_value][value='192.0.2.7']").count() == 0

    def fail_a_form(self) -> None:
        self.goto("/contacts")
        for field, value in {**CONTACT, "phone": "12 34"}.items():
            if self.page.locator(f"#new-contact input#{field}").count():
                self.page.fill(f"#new-contact #{field}", value)
        self.submit("#new-contact")
        phone = self.page.locator("#phone")
        assert phone.input_value() == "12 34"
        assert self.page.locator("#street").input_value() == CONTACT["street"]
        assert phone.get_attribute("aria-invalid") == "true"
        error = self.page.locator("#phone-error")
        assert "phone-error" in phone.get_attribute("aria-describedby").split()
        assert self.words["phone"] in error.inner_text()
        # Beside its field: just below the input, not somewhere else on the page.
        field_box, error_box = phone.bounding_box(), error.bounding_box()
        assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40

    def delete(self, name: str) -> None:
        self.goto(f"/domains/{name}")
        self.page.locator(f"a[href='/domains/{name}/delete']").click()
        self.fits()
        self.page.fill("#confirm_name", name.split(".")[0])
        self.submit("form:has(#confirm_name)")
        field = self.page.locator("#confirm_name")
        assert field.input_value() == name.split(".")[0]
        assert field.get_attribute("aria-invalid") == "true"
        assert self.words["type_name"] in self.page.locator("#confirm_name-error").inner_text()
        field.fill(name.upper())
        self.submit("form:has(#confirm_name)")
        assert self.words["deleted"] in self.page.content()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_client_area_journeys_at_desktop_and_phone_widths(live_server, app, language):
    from playwright.sync_api import sync_playwright

    _owner(language)

    def run_jobs() -> None:
        app.extensions["tunnus.jobs"].run_all()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            for label, (width, height) in WIDTHS.items():
                context = browser.new_context(viewport={"width": width, "height": height},
                                              locale=language)
                context.set_default_timeout(5000)
                journey = Journey(context.new_page(), live_server, width, WORDS[language])
                name = f"polku-{label}-{language}.fi"
                journey.sign_in()
                journey.register(name, run_jobs)
                journey.edit_a_record(name)
                journey.fail_a_form()
                journey.delete(name)
                if width <= 390:
                    journey.goto("/")
                    journey.goto("/domains")
                    journey.goto("/orders")
                assert len(journey.checked) >= 10
                context.close()
        finally:
            browser.close()
    with unit_of_work():
        statuses = {d.name: d.status for d in db.session.scalars(db.select(Domain))}
    assert set(statuses.values()) == {"deleted"} and len(statuses) == 2
