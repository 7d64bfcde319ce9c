"""Tickets over the API and the console: the contract fields, SLA due times in business
hours (paused while waiting on the reseller), statuses and the reopen window, attachments,
staff replies and their mail, hours against included hours and accepted quotes, the
monthly SLA report, and the queue sorted by due time."""

import base64
from datetime import datetime
from decimal import Decimal

import pytest

from reseller.core.db import unit_of_work
from reseller.support import services, settings, tickets, work
from reseller.support.errors import IncludedHoursUsed
from reseller.support.tasks import close_solved, watch_sla
from tests.support.invoicing import at
from tests.support.support_desk import install_plans
from tests.support.wallet import fund
from wallet import services as wallet
from whitelabel.models import OutboxMessage

T = "/api/v1/support/tickets"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _at(stamp: str, expected: str) -> bool:
    """The stamp is the expected moment; the test's sandbox clock runs on in real time, so
    a second may have ticked between setting it and the request."""
    delta = datetime.fromisoformat(stamp) - datetime.fromisoformat(expected)
    return stamp.endswith("+00:00") and 0 <= delta.total_seconds() < 5


def _ticket(api, **extra):
    body = {"subject": "Nameservers do not update", "category": "domain",
            "body": "example.fi still shows the old NS.", **extra}
    response = api.post(T, json=body)
    assert response.status_code == 201, response.json
    return response.json


def _staff_reply(ticket_id, body="We are on it.", status=None, staff=None):
    with unit_of_work():
        ticket = services.get_ticket_for_staff(ticket_id)
        author = tickets.Author(user_id=staff.id if staff else None, name="Staff", staff=True)
        services.reply(ticket=ticket, author=author, body=body, status=status,
                       settings=settings.current())


@pytest.fixture
def agency(factory):
    install_plans()
    reseller = factory.reseller(language="fi")
    fund(reseller.id, "1000.00")
    return reseller


def test_a_ticket_carries_status_priority_and_rfc3339_due_times(factory, agency):
    at("2027-03-05T14:00:00")  # Friday 16:00 in Helsinki
    created = _ticket(factory.api(agency), priority="high")
    assert created["status"] == "new" and created["priority"] == "high"
    # Core: 24 business hours = 3 business days from Fri 16:00 → Wed 10 March 16:00.
    due = datetime.fromisoformat(created["first_response_due"])
    assert due.utcoffset() is not None
    assert _at(created["first_response_due"], "2027-03-10T14:00:00+00:00")
    assert created["next_response_due"] == created["first_response_due"]
    listed = factory.api(agency).get(T).json["items"]
    assert [t["id"] for t in listed] == [created["id"]]
    one = factory.api(agency).get(f"{T}/{created['id']}").json
    assert one["messages"][0]["body"] == "example.fi still shows the old NS."


def test_tickets_are_tenant_isolated(factory, agency):
    mine = _ticket(factory.api(agency))
    thief = factory.api(factory.reseller())
    assert thief.get(f"{T}/{mine['id']}").status_code == 404
    assert thief.get(T).json["items"] == []
    assert thief.post(f"{T}/{mine['id']}/messages", json={"body": "hi"}).status_code == 404


@pytest.mark.smoke
def test_waiting_on_the_reseller_pauses_the_clock_until_it_answers(factory, agency):
    api = factory.api(agency)
    at("2027-03-08T08:00:00")  # Monday 10:00
    ticket = _ticket(api)
    _staff_reply(ticket["id"], "Which NS do you want?", status="waiting_on_reseller")
    waiting = api.get(f"{T}/{ticket['id']}").json
    assert waiting["status"] == "waiting_on_reseller"
    assert waiting["next_response_due"] is None  # nothing owed: the clock stands still
    assert waiting["first_responded_at"] is not None
    at("2027-03-12T14:00:00")  # Friday 16:00: the reseller answers
    reply = api.post(f"{T}/{ticket['id']}/messages", json={"body": "ns1.example.net"})
    assert reply.status_code == 201
    reopened = api.get(f"{T}/{ticket['id']}").json
    assert reopened["status"] == "open"
    # Next response on Core: 24 business hours from Fri 16:00 → Wed 17 March 16:00.
    assert _at(reopened["next_response_due"], "2027-03-17T14:00:00+00:00")


def test_a_paused_first_response_keeps_the_time_it_had_left(factory, agency):
    api = factory.api(agency)
    at("2027-03-08T07:59:55")  # just before Monday 10:00: 24 business hours → Wed 18:00
    ticket = _ticket(api)
    assert _at(ticket["first_response_due"], "2027-03-10T16:00:00+00:00")
    at("2027-03-09T07:59:55")  # before Tuesday 10:00: 16 business hours left
    with unit_of_work():
        services.set_status(ticket=services.get_ticket_for_staff(ticket["id"]),
                            status="waiting_on_reseller", by_staff=True,
                            settings=settings.current())
    at("2027-03-15T07:59:55")  # before the next Monday 10:00
    api.post(f"{T}/{ticket['id']}/messages", json={"body": "Here is the detail."})
    resumed = api.get(f"{T}/{ticket['id']}").json
    assert _at(resumed["first_response_due"], "2027-03-16T16:00:00+00:00")  # Tue 18:00


def test_solved_tickets_reopen_within_the_window_and_close_after_it(factory, agency, jobs):
    api = factory.api(agency)
    at("2027-03-08T08:00:00")
    ticket = _ticket(api)
    _staff_reply(ticket["id"], "Fixed.", status="solved")
    at("2027-03-10T08:00:00")
    assert api.post(f"{T}/{ticket['id']}/messages",
                    json={"body": "Still broken"}).status_code == 201
    assert api.get(f"{T}/{ticket['id']}").json["status"] == "open"
    _staff_reply(ticket["id"], "Now fixed.", status="solved")
    at("2027-03-20T08:00:00")  # past the 7-day window
    with unit_of_work():
        assert close_solved() == 1
    late = api.post(f"{T}/{ticket['id']}/messages", json={"body": "again"})
    assert late.status_code == 409 and late.json["code"] == "ticket_closed"


def test_a_staff_reply_is_mailed_in_the_requesters_language_with_a_threading_address(
        factory, agency, jobs):
    user = factory.user(agency, language="sv")
    api_token = factory.api(agency)
    ticket = _ticket(api_token)
    with unit_of_work():
        found = services.get_ticket_for_staff(ticket["id"])
        found.requester_id = user.id
    jobs.run_all()
    _staff_reply(ticket["id"], "Vi har åtgärdat felet.")
    jobs.run_all()
    mails = OutboxMessage.query.filter_by(template="reseller/support_ticket_reply").all()
    assert len(mails) == 1 and mails[0].recipient == user.email
    assert mails[0].language == "sv" and "Vi har åtgärdat felet." in mails[0].text
    assert "svarade på ditt supportärende" in mails[0].text
    assert mails[0].reply_to.startswith("ticket+") and f"/support/tickets/{ticket['id']}" \
        in mails[0].text


def test_internal_notes_are_never_shown_to_the_reseller(factory, agency):
    api = factory.api(agency)
    ticket = _ticket(api)
    with unit_of_work():
        services.reply(ticket=services.get_ticket_for_staff(ticket["id"]),
                       author=tickets.Author(user_id=None, name="Staff", staff=True),
                       body="Internal: customer is slow to pay", internal=True,
                       settings=settings.current())
    text = api.get(f"{T}/{ticket['id']}").get_data(as_text=True)
    assert "slow to pay" not in text
    assert "slow to pay" not in api.get(f"{T}/{ticket['id']}/messages").get_data(as_text=True)


def test_attachments_within_limits_are_kept_and_others_refused(factory, agency):
    api = factory.api(agency)
    good = {"filename": "screen.png", "content_type": "image/png",
            "data": base64.b64encode(PNG).decode()}
    ticket = _ticket(api, attachments=[good])
    attachment = ticket["messages"][0]["attachments"][0]
    download = api.get(f"{T}/{ticket['id']}/attachments/{attachment['id']}")
    assert download.data == PNG and "attachment" in download.headers["Content-Disposition"]
    fake = {**good, "data": base64.b64encode(b"<script>alert(1)</script>").decode()}
    refused = api.post(T, json={"subject": "x" * 5, "category": "api", "body": "b",
                                "attachments": [fake]})
    assert refused.status_code == 422 and refused.json["code"] == "attachment_refused"
    exe = {**good, "content_type": "application/x-msdownload"}
    assert api.post(T, json={"subject": "xxxxx", "category": "api", "body": "b",
                             "attachments": [exe]}).status_code == 422


def test_hours_count_against_included_hours_and_overage_needs_an_accepted_quote(
        factory, agency, jobs):
    api = factory.api(agency)
    at("2027-03-01T08:00:00")
    assert api.put("/api/v1/support/plan", json={"plan": "pro", "cycle": "monthly"},
                   headers={"Idempotency-Key": "pro"}).status_code == 200
    ticket = _ticket(api)
    with unit_of_work():
        work.log_time(ticket_id=ticket["id"], staff_id=None, minutes=90)
    with pytest.raises(IncludedHoursUsed), unit_of_work():  # Pro includes 2 hours
        work.log_time(ticket_id=ticket["id"], staff_id=None, minutes=45)
    with unit_of_work():
        quote = work.propose_quote(ticket_id=ticket["id"], hours=Decimal("1.5"),
                                   description="Migrate the DNS zones").id
    technical = factory.api(agency, role="technical")
    decide = f"{T}/{ticket['id']}/quotes/{quote}/decision"
    assert technical.post(decide, json={"accept": True}).status_code == 403
    before = wallet.available(reseller_id=agency.id)
    accepted = api.post(decide, json={"accept": True})
    assert accepted.status_code == 200 and accepted.json["amount"] == "127.50"  # 1.5 × 85
    assert (before - wallet.available(reseller_id=agency.id)).amount == Decimal("160.01")
    with unit_of_work():
        work.log_time(ticket_id=ticket["id"], staff_id=None, minutes=60, quote_id=quote)
    usage = api.get("/api/v1/support/plan").json["hours"]
    assert (usage["used"], usage["left"], usage["quoted"]) == ("1.50", "0.50", "1.00")


def test_staff_are_warned_before_a_breach_and_the_month_report_counts_targets(
        factory, agency, jobs):
    api = factory.api(agency)
    at("2027-03-08T07:59:55")  # before Monday 10:00, Core: due Wednesday 18:00
    answered = _ticket(api)
    late = _ticket(api, subject="Second question")
    _staff_reply(answered["id"])
    at("2027-03-10T15:30:00")  # 17:30 on Wednesday: 30 minutes before the due time
    with unit_of_work():
        assert watch_sla() == 1
    jobs.run_all()
    warnings = OutboxMessage.query.filter_by(template="reseller/support_sla_warning").all()
    assert len(warnings) == 1 and f"#{late['id']}" in warnings[0].subject
    at("2027-03-11T08:00:00")
    with unit_of_work():
        watch_sla()
    rows = work.sla_report(month="2027-03", reseller_id=agency.id)
    assert (rows[0].met, rows[0].breached) == (1, 1)


def test_the_console_queue_lists_tickets_by_due_time(factory, agency, client):
    api = factory.api(agency)
    at("2027-03-08T08:00:00")
    later = _ticket(api, subject="Opened first, Core")
    premium = factory.reseller()
    fund(premium.id, "1000.00")
    premium_api = factory.api(premium)
    premium_api.put("/api/v1/support/plan", json={"plan": "pro"},
                    headers={"Idempotency-Key": "p"})
    at("2027-03-08T09:00:00")
    sooner = _ticket(premium_api, subject="Opened second, Pro")  # due in 4 business hours
    staff = factory.operator()
    client.post("/login", data={"email": staff.email, "password": "operator password"})
    page = client.get("/console/support").get_data(as_text=True)
    assert page.index(f'data-ticket="{sooner["id"]}"') < page.index(
        f'data-ticket="{later["id"]}"')
    detail = client.get(f"/console/support/tickets/{later['id']}")
    assert detail.status_code == 200
    response = client.post(f"/console/support/tickets/{later['id']}",
                           data={"action": "reply", "body": "Looking into it",
                                 "status": "waiting_on_reseller"})
    assert response.status_code == 302
    assert api.get(f"{T}/{later['id']}").json["status"] == "waiting_on_reseller"
