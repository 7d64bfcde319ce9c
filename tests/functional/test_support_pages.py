"""The support pages render in every language, for the reseller's roles and for staff; a
technical user sees the plan but no prices and cannot change it."""

import pytest

from reseller.core.db import unit_of_work
from reseller.support import services, settings, tickets
from tests.support.support_desk import install_plans, quote_ultimate
from tests.support.wallet import fund


@pytest.fixture
def world(factory):
    install_plans()
    reseller = factory.reseller()
    fund(reseller.id, "500.00")
    quote_ultimate(reseller.id)
    api = factory.api(reseller)
    ticket = api.post("/api/v1/support/tickets", json={
        "subject": "Pages ticket", "category": "billing", "body": "Hello"}).json
    with unit_of_work():
        found = services.get_ticket_for_staff(ticket["id"])
        services.reply(ticket=found, author=tickets.Author(None, "Staff", staff=True),
                       body="Answer", settings=settings.current())
    return reseller, ticket["id"]


def _sign_in(client, user, password="correct horse battery"):
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_client_pages_render(factory, client, world, language):
    reseller, ticket_id = world
    _sign_in(client, factory.user(reseller, role="owner"))
    for path in ("/support/plan", "/support/tickets", "/support/tickets/new",
                 f"/support/tickets/{ticket_id}", "/billing/invoices"):
        response = client.get(f"{path}?lang={language}")
        assert response.status_code == 200, path
    preview = client.post(f"/support/plan?lang={language}",
                          data={"plan": "ultimate", "cycle": "yearly", "action": "preview"})
    assert preview.status_code == 200 and 'id="preview"' in preview.get_data(as_text=True)


def test_a_technical_user_sees_the_plan_without_prices_and_cannot_change_it(
        factory, client, world):
    reseller, _ = world
    _sign_in(client, factory.user(reseller, role="technical"))
    page = client.get("/support/plan?lang=en").get_data(as_text=True)
    assert "149.00" not in page and "Preview Pro" not in page
    refused = client.post("/support/plan", data={"plan": "pro", "cycle": "monthly",
                                                 "action": "confirm", "key": "t"})
    assert refused.status_code == 422
    assert services.get_subscription(reseller_id=reseller.id).plan.code == "core"


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_console_pages_render(factory, client, world, language):
    _reseller, ticket_id = world
    staff = factory.operator()
    _sign_in(client, staff, "operator password")
    for path in ("/console/support", "/console/support?mine=1",
                 f"/console/support/tickets/{ticket_id}", "/console/support/plans",
                 "/console/support/plans/pro", "/console/support/report?month=2026-12"):
        assert client.get(f"{path}{'&' if '?' in path else '?'}lang={language}"
                          ).status_code == 200, path
    saved = client.post("/console/support/plans/pro", data={
        "action": "price", "cycle": "monthly", "amount": "159,00",
        "effective_from": "2027-01-01", "reseller_id": "0"})
    assert saved.status_code == 302
    bad = client.post("/console/support/plans/pro", data={
        "action": "price", "cycle": "weekly", "amount": "x", "effective_from": "soon"})
    assert bad.status_code == 422
    assert client.get("/console/support/report?month=nonsense").status_code == 400
