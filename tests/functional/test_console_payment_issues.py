"""The operator's queue of provider payment issues (``wallet_payment_issues``): staff see
each issue, add notes, resolve it (a note required) and open it again; resellers never."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from wallet.models import PaymentIssue

PASSWORD = "correct horse battery"


def login(client, user, password=PASSWORD):
    assert client.post("/login", data={"email": user.email, "password": password}).status_code == 302


def _issue(reseller_id, kind="currency", amount="102.00", currency="USD", event="evt_1"):
    with unit_of_work():
        issue = PaymentIssue(provider="paypal", event_id=event, kind=kind, topup_id=None,
                             reseller_id=reseller_id, amount=Decimal(amount),
                             currency=currency, detail=f"paid {amount} {currency}",
                             state="open", created_at=clock.now())
        db.session.add(issue)
        db.session.flush()
        return issue.id


@pytest.fixture
def staff(client, factory):
    user = factory.operator()
    login(client, user, "operator password")
    return user


def test_staff_see_annotate_resolve_and_reopen_an_issue(client, factory, staff):
    reseller = factory.reseller(company_name="Queue Oy")
    issue_id = _issue(reseller.id)
    other = _issue(None, kind="unknown_payment", amount="5.00", currency="EUR", event="evt_2")

    index = client.get("/console/wallet").get_data(as_text=True)
    assert "/console/wallet/payment-issues" in index and "Open payment issues: 2" in index
    page = client.get("/console/wallet/payment-issues").get_data(as_text=True)
    assert "Queue Oy" in page and "Another currency" in page and "$102.00" in page
    assert f"issue-{other}" in page and "Unknown payment" in page

    client.post(f"/console/wallet/payment-issues/{issue_id}/note",
                data={"note": "asked PayPal to refund the USD payment"})
    refused = client.post(f"/console/wallet/payment-issues/{issue_id}/resolve",
                          data={"note": "  "}, follow_redirects=True)
    assert "Write a note" in refused.get_data(as_text=True)
    client.post(f"/console/wallet/payment-issues/{issue_id}/resolve",
                data={"note": "refunded at PayPal"})
    issue = db.session.get(PaymentIssue, issue_id)
    db.session.refresh(issue)
    assert (issue.state, issue.resolved_by) == ("resolved", f"staff:{staff.id}")
    lines = issue.note.splitlines()
    assert lines[0].endswith(f"staff:{staff.id}: asked PayPal to refund the USD payment")
    assert lines[1].endswith(f"staff:{staff.id} [resolved]: refunded at PayPal")

    open_page = client.get("/console/wallet/payment-issues").get_data(as_text=True)
    assert f"issue-{issue_id}" not in open_page and f"issue-{other}" in open_page
    resolved = client.get("/console/wallet/payment-issues?state=resolved").get_data(as_text=True)
    assert f"issue-{issue_id}" in resolved and "refunded at PayPal" in resolved
    assert client.post(f"/console/wallet/payment-issues/{issue_id}/resolve",
                       data={"note": "again"}).status_code == 302  # refused: already resolved
    client.post(f"/console/wallet/payment-issues/{issue_id}/reopen",
                data={"note": "PayPal refund failed"})
    db.session.refresh(issue)
    assert (issue.state, issue.resolved_at, issue.resolved_by) == ("open", None, None)
    assert issue.note.count("[resolved]") == 1 and "[reopened]: PayPal refund failed" in issue.note
    by_kind = client.get("/console/wallet/payment-issues?state=all&kind=unknown_payment")
    assert f"issue-{issue_id}" not in by_kind.get_data(as_text=True)


def test_an_unknown_issue_and_bad_filters_are_not_errors(client, staff):
    response = client.post("/console/wallet/payment-issues/999999/resolve",
                           data={"note": "x"}, follow_redirects=True)
    assert response.status_code == 200 and "No such payment issue" in response.get_data(
        as_text=True)
    assert client.get("/console/wallet/payment-issues?state=x&kind=y&before=z").status_code == 200
    assert client.post("/console/wallet/payment-issues/1/delete").status_code in (404, 405)


def test_the_queue_is_for_operators_only(client, factory):
    reseller = factory.reseller()
    issue_id = _issue(reseller.id)
    login(client, factory.user(reseller))
    assert client.get("/console/wallet/payment-issues").status_code in (302, 403)
    assert client.post(f"/console/wallet/payment-issues/{issue_id}/resolve",
                       data={"note": "mine now"}).status_code in (302, 403)
    assert db.session.get(PaymentIssue, issue_id).state == "open"
