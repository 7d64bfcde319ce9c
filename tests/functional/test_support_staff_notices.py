"""What staff and resellers are told about a ticket's clock: a new ticket and a reseller's
reply mailed to staff under the operator's brand (through the outbox), due times in
Helsinki time with the offset in force (babel, the page's or recipient's language) on the
client-area and console pages and in mail, and the billing page's API tier, limit and this
hour's usage."""

import pytest
from lxml import html

from reseller.core.db import unit_of_work
from reseller.support import mail, services, settings, tickets
from tests.support.crawl import english_left, visible_texts
from tests.support.invoicing import at
from tests.support.support_desk import install_plans
from tests.support.wallet import fund
from whitelabel.messages import send_reseller_message
from whitelabel.models import OutboxMessage

T = "/api/v1/support/tickets"
PASSWORD = "correct horse battery"


@pytest.fixture
def agency(factory):
    install_plans()
    reseller = factory.reseller(language="fi", company_name="Kotisivu Oy")
    fund(reseller.id, "100.00")
    return reseller


def _open(api, **extra):
    response = api.post(T, json={"subject": "DNS ei päivity", "category": "domain",
                                 "body": "example.fi näyttää vanhat nimipalvelimet.",
                                 **extra})
    assert response.status_code == 201, response.json
    return response.json


def _words(page) -> str:
    return " ".join(page.get_data(as_text=True).split())


def _field(page, name: str) -> str:
    found = html.fromstring(page.get_data(as_text=True)).xpath(f"//*[@data-field='{name}']")
    return " ".join(found[0].text_content().split())


def test_a_new_ticket_is_mailed_to_the_desk_under_the_operators_brand(
        app, factory, agency, jobs):
    at("2027-03-05T14:00:00")  # Friday 16:00 in Helsinki; Core: due Wednesday 16:00
    ticket = _open(factory.api(agency), priority="high")
    jobs.run_all()
    mails = OutboxMessage.query.filter_by(template="reseller/support_staff_new_ticket").all()
    assert len(mails) == 1
    mail = mails[0]
    assert mail.recipient == settings.current().staff_email
    brand = app.config["OPERATOR_BRAND"]
    assert brand in mail.sender and brand in mail.html and "Kotisivu" not in mail.sender
    assert f"#{ticket['id']}" in mail.subject and "Kotisivu Oy" in mail.subject
    assert mail.language == "fi"  # SUPPORT_STAFF_LANGUAGE
    assert "example.fi näyttää vanhat nimipalvelimet." in mail.text
    assert "korkea" in mail.text and "verkkotunnus" in mail.text  # priority, category
    # Due Wednesday 10 March 16:00 Helsinki time (14:00 UTC), with the winter offset.
    assert "10.3.2027 16.00 UTC+02:00" in mail.text and "14.00" not in mail.text
    assert f"/console/support/tickets/{ticket['id']}" in mail.text
    assert mail.reply_to is None  # a staff member's reply must not land in mail-in
    jobs.run_all()
    assert OutboxMessage.query.filter_by(
        template="reseller/support_staff_new_ticket").count() == 1


def test_a_resellers_reply_goes_to_the_assignee_in_their_language(factory, agency, jobs):
    staff = factory.operator()
    with unit_of_work():
        staff.language = "sv"
    at("2027-07-05T07:00:00")  # Monday 10:00 in Helsinki, summer time
    ticket = _open(factory.api(agency))
    with unit_of_work():
        tickets.assign(ticket_id=ticket["id"], assignee_id=staff.id)
        services.reply(ticket=services.get_ticket_for_staff(ticket["id"]),
                       author=tickets.Author(staff.id, "Staff", staff=True),
                       body="Kan du skicka zonfilen?", settings=settings.current())
    at("2027-07-05T08:00:00")  # Monday 11:00: Core's next reply due Thursday 11:00
    assert factory.api(agency).post(f"{T}/{ticket['id']}/messages",
                                    json={"body": "Här är den."}).status_code == 201
    jobs.run_all()
    mails = OutboxMessage.query.filter_by(template="reseller/support_staff_reply").all()
    assert len(mails) == 1 and mails[0].recipient == staff.email
    assert mails[0].language == "sv" and "Här är den." in mails[0].text
    assert "8 juli 2027 11:00 GMT+03:00" in mails[0].text


def test_a_staff_reply_mails_no_staff_notice(factory, agency, jobs):
    ticket = _open(factory.api(agency))
    with unit_of_work():
        services.reply(ticket=services.get_ticket_for_staff(ticket["id"]),
                       author=tickets.Author(None, "Staff", staff=True), body="Hoidossa.",
                       settings=settings.current())
    jobs.run_all()
    assert OutboxMessage.query.filter_by(template="reseller/support_staff_reply").count() == 0


@pytest.mark.parametrize(("language", "shown"), [
    ("fi", "10.3.2027 16.00 UTC+02:00"), ("sv", "10 mars 2027 16:00 GMT+02:00"),
    ("en", "Mar 10, 2027, 4:00 PM GMT+02:00")])  # (narrow no-break space in the page)
def test_due_times_show_in_helsinki_time_with_the_offset(factory, agency, client, language,
                                                         shown):
    at("2027-03-05T14:00:00")
    ticket = _open(factory.api(agency))
    client.post("/login", data={"email": factory.user(agency).email, "password": PASSWORD})
    page = client.get(f"/support/tickets/{ticket['id']}?lang={language}")
    assert _field(page, "first-response-due") == shown
    assert shown in _words(client.get(f"/support/tickets?lang={language}"))
    staff = factory.operator()
    client.post("/logout")
    client.post("/login", data={"email": staff.email, "password": "operator password"})
    console = client.get(f"/console/support/tickets/{ticket['id']}?lang={language}")
    assert _field(console, "next-response-due") == shown
    assert shown in _words(client.get(f"/console/support?lang={language}"))


def test_a_due_time_in_summer_carries_the_summer_offset(factory, agency, client):
    at("2027-07-05T08:00:00")  # Monday 11:00 in Helsinki: due Thursday 11:00 (08:00 UTC)
    ticket = _open(factory.api(agency))
    client.post("/login", data={"email": factory.user(agency).email, "password": PASSWORD})
    page = client.get(f"/support/tickets/{ticket['id']}?lang=fi")
    assert _field(page, "first-response-due") == "8.7.2027 11.00 UTC+03:00"


def test_the_billing_page_shows_the_api_tier_its_limit_and_this_hours_usage(
        app, factory, agency, client):
    app.extensions["tunnus.limiter"].reset()
    api = factory.api(agency)
    for _ in range(3):
        assert api.get("/api/v1/support/plan").status_code == 200
    client.post("/login", data={"email": factory.user(agency, role="billing").email,
                                "password": PASSWORD})
    page = client.get("/billing/invoices?lang=en")
    assert _field(page, "api-tier") == "Standard"
    assert _field(page, "api-limit") == "20,000 calls an hour"
    used = _field(page, "api-used")
    assert used.startswith("3 of 20,000") and "GMT+0" in used  # when the count restarts
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "standard": "unlimited"}
    try:
        page = client.get("/billing/invoices?lang=fi")
        assert _field(page, "api-limit") == "Rajaton"
        assert 'data-field="api-used"' not in page.get_data(as_text=True)
    finally:
        app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "standard": "20000/hour"}


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_staff_notices_have_no_english_left(factory, language):
    context = {"ticket_id": 12, "subject": "DNSSEC", "company": "Webbi Oy", "author": "Maija",
               "body": "Kiitos!", "due": "10.3.2027 16.00 UTC+02:00", "plan": "pro",
               **mail.in_language(language, priority_label=mail.priority_label("urgent"),
                                  category_label=mail.category_label("api"))}
    with unit_of_work():
        for kind in ("support_staff_new_ticket", "support_staff_reply"):
            send_reseller_message(reseller_id=None, kind=kind, language=language,
                                  context=context, recipient="desk@operator.example",
                                  dedupe_key=f"words:{kind}")
    for message in OutboxMessage.query.all():
        texts = [message.subject, *message.text.splitlines(), *visible_texts(message.html)]
        assert english_left([t.strip() for t in texts if t.strip()], language) == []
