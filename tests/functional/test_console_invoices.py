"""The operator's invoice console: every reseller's invoices, what is owed and overdue,
documents, and credit notes that give the money back."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.accounts.models import Reseller
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.invoicing import at, buy
from tests.support.wallet import fund
from wallet import ledger, services
from wallet.invoices import services as invoices
from wallet.invoices.models import Invoice

PASSWORD = "correct horse battery"


def login(client, user, password=PASSWORD):
    assert client.post("/login", data={"email": user.email, "password": password}).status_code == 302


@pytest.fixture
def invoiced(factory, jobs):
    """A prepaid Finnish reseller with an October invoice of two lines (PDF stored)."""
    from wallet.invoices import invoicing

    reseller = factory.reseller(country="FI", vat_id="FI24644919", language="en",
                                company_name="Console Buyer Oy")
    fund(reseller.id, "100.00")
    at("2026-10-05T09:00:00")
    buy(reseller, "first.fi", "10.00")
    buy(reseller, "second.fi", "20.00")
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    return db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))


def _funds(reseller_id: int) -> Decimal:
    db.session.expire_all()
    return services.get_wallet(reseller_id=reseller_id).funds_amount


def test_operator_lists_filters_and_opens_invoices(client, factory, invoiced):
    login(client, factory.operator(), "operator password")
    page = client.get("/console/invoices").get_data(as_text=True)
    assert invoiced.number in page and "Console Buyer Oy" in page
    assert invoiced.number in client.get(
        f"/console/invoices?status=paid&reseller={invoiced.reseller_id}").get_data(as_text=True)
    assert invoiced.number not in client.get("/console/invoices?status=overdue").get_data(
        as_text=True)
    assert client.get("/console/invoices?status=nonsense&cursor=").status_code == 200
    detail = client.get(f"/console/invoices/{invoiced.number}").get_data(as_text=True)
    assert "first.fi" in detail and "second.fi" in detail and "Issue credit note" in detail
    document = client.get(f"/console/invoices/{invoiced.number}.pdf")
    assert document.status_code == 200 and document.data.startswith(b"%PDF")
    xml = client.get(f"/console/invoices/{invoiced.number}.xml")
    assert xml.status_code == 200 and invoiced.number.encode() in xml.data
    assert client.get("/console/invoices/2026-999999").status_code == 404
    for lang in ("fi", "sv"):
        for path in (f"/console/invoices/{invoiced.number}", "/console/invoices",
                     f"/console/wallet/resellers/{invoiced.reseller_id}/purchases"):
            assert client.get(f"{path}?lang={lang}").status_code == 200, (path, lang)
    assert "Hyvitä koko lasku" in client.get(
        f"/console/invoices/{invoiced.number}?lang=fi").get_data(as_text=True)


@pytest.mark.smoke
def test_crediting_a_line_returns_the_money_and_links_both_ways(client, factory, invoiced, jobs):
    login(client, factory.operator(), "operator password")
    funds = _funds(invoiced.reseller_id)
    response = client.post(f"/console/invoices/{invoiced.number}/credit",
                           data={"scope": "lines", "line": ["2"], "reason": "Wrong price"})
    assert response.status_code == 302
    jobs.run_all()
    [note] = invoices.credit_notes_of(invoiced)
    assert response.headers["Location"].endswith(f"/console/invoices/{note.number}")
    assert note.total == Decimal("-25.10") and note.reason == "Wrong price"
    assert _funds(invoiced.reseller_id) == funds + Decimal("25.10")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert invoiced.number in page and "Wrong price" in page and "not rendered" not in page
    assert note.number in client.get(f"/console/invoices/{invoiced.number}").get_data(
        as_text=True)
    assert ledger.verify() == []


@pytest.mark.parametrize("form, message", [
    ({"scope": "lines", "reason": "x"}, "Tick the lines to credit"),
    ({"scope": "lines", "line": ["x"], "reason": "x"}, "Tick the lines to credit"),
    ({"scope": "lines", "line": ["7"], "reason": "x"}, "No such line"),
    ({"scope": "whole", "reason": "   "}, "A credit note needs a reason"),
])
def test_a_bad_credit_form_is_explained_and_changes_nothing(client, factory, invoiced, form,
                                                            message):
    login(client, factory.operator(), "operator password")
    funds = _funds(invoiced.reseller_id)
    response = client.post(f"/console/invoices/{invoiced.number}/credit", data=form,
                           follow_redirects=True)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert invoices.credit_notes_of(invoiced) == []
    assert _funds(invoiced.reseller_id) == funds


def test_whole_credit_then_nothing_more(client, factory, invoiced):
    login(client, factory.operator(), "operator password")
    client.post(f"/console/invoices/{invoiced.number}/credit",
                data={"scope": "whole", "reason": "Cancelled"})
    db.session.expire_all()
    assert db.session.get(Invoice, invoiced.id).status == "credited"
    page = client.get(f"/console/invoices/{invoiced.number}").get_data(as_text=True)
    assert "Issue credit note" not in page
    again = client.post(f"/console/invoices/{invoiced.number}/credit",
                        data={"scope": "whole", "reason": "again"}, follow_redirects=True)
    assert "Nothing left to credit" in again.get_data(as_text=True)


def test_the_reseller_sees_the_credit_note_and_others_do_not(client, factory, invoiced):
    with unit_of_work():
        note = invoices.issue_credit_note(reseller_id=invoiced.reseller_id,
                                          invoice_number=invoiced.number, reason="Goodwill",
                                          now=at("2026-11-03T10:00"), line_positions=[1])
    login(client, factory.user(db.session.get(Reseller, invoiced.reseller_id)))
    page = client.get("/billing/invoices").get_data(as_text=True)
    assert note.number in page and "credit note" in page
    assert client.get(f"/billing/invoices/{note.number}.pdf").status_code == 200
    client.post("/logout")
    login(client, factory.user(factory.reseller()))
    assert client.get(f"/billing/invoices/{note.number}.pdf").status_code == 404


def test_the_console_is_for_operators_only(client, factory, invoiced):
    login(client, factory.user(db.session.get(Reseller, invoiced.reseller_id)))
    assert client.get("/console/invoices").status_code == 403
    assert client.post(f"/console/invoices/{invoiced.number}/credit",
                       data={"scope": "whole", "reason": "mine"}).status_code == 403
    assert invoices.credit_notes_of(invoiced) == []


def _purchase_ids(reseller_id: int) -> list[int]:
    from wallet.models import Purchase

    return list(db.session.scalars(sa.select(Purchase.id).where(
        Purchase.reseller_id == reseller_id).order_by(Purchase.id)))


def test_operator_refunds_a_purchase_and_it_is_billed_next_month(client, factory, invoiced,
                                                                 jobs):
    from wallet.invoices import invoicing

    login(client, factory.operator(), "operator password")
    first, second = _purchase_ids(invoiced.reseller_id)
    page = client.get(f"/console/wallet/resellers/{invoiced.reseller_id}/purchases")
    assert page.status_code == 200 and invoiced.number in page.get_data(as_text=True)
    funds = _funds(invoiced.reseller_id)

    done = client.post(f"/console/wallet/resellers/{invoiced.reseller_id}/purchases/{first}"
                       "/refund", data={"reason": "Registry refunded"}, follow_redirects=True)

    assert "Purchase refunded." in done.get_data(as_text=True)
    assert "Registry refunded" in done.get_data(as_text=True)
    assert _funds(invoiced.reseller_id) == funds + Decimal("12.55")
    at("2026-12-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    november = db.session.scalar(sa.select(Invoice).where(
        Invoice.reseller_id == invoiced.reseller_id, Invoice.period_key == "2026-11"))
    assert [(line.kind, line.net) for line in november.lines] == [("refund", Decimal("-10.00"))]
    assert ledger.verify() == []


def test_refunds_need_a_reason_and_never_pay_twice(client, factory, invoiced):
    login(client, factory.operator(), "operator password")
    first, second = _purchase_ids(invoiced.reseller_id)
    with unit_of_work():
        invoices.issue_credit_note(reseller_id=invoiced.reseller_id,
                                   invoice_number=invoiced.number, reason="Goodwill",
                                   now=at("2026-11-03T10:00"), line_positions=[2])
    funds = _funds(invoiced.reseller_id)
    base = f"/console/wallet/resellers/{invoiced.reseller_id}/purchases"
    for purchase, reason, message in ((first, "  ", "A refund needs a reason"),
                                      (second, "again", "credited on a credit note already"),
                                      (999999, "x", "No such purchase.")):
        answer = client.post(f"{base}/{purchase}/refund", data={"reason": reason},
                             follow_redirects=True)
        assert message in answer.get_data(as_text=True)
    other = factory.reseller()
    answer = client.post(f"/console/wallet/resellers/{other.id}/purchases/{first}/refund",
                         data={"reason": "wrong reseller"}, follow_redirects=True)
    assert "No such purchase." in answer.get_data(as_text=True)
    assert _funds(invoiced.reseller_id) == funds
    assert "Credited on CN-" in client.get(base).get_data(as_text=True)


def test_resellers_cannot_refund_themselves(client, factory, invoiced):
    login(client, factory.user(db.session.get(Reseller, invoiced.reseller_id)))
    first, _ = _purchase_ids(invoiced.reseller_id)
    assert client.post(f"/console/wallet/resellers/{invoiced.reseller_id}/purchases/{first}"
                       "/refund", data={"reason": "free money"}).status_code == 403
    assert client.get(f"/console/wallet/resellers/{invoiced.reseller_id}/purchases"
                      ).status_code == 403


def test_the_trial_balance_reconciles_receivables_with_invoices(client, factory, invoiced):
    login(client, factory.operator(), "operator password")
    page = client.get("/console/wallet/ledger").get_data(as_text=True)
    assert "Every transfer balances" in page
    assert "Every receivable is explained by open invoices" in page
    assert page.count("Receivables and invoices") == 1  # in the page body only
    title = page[page.index("<title>"):page.index("</title>")]
    assert "Trial balance" in title and "<" not in title[len("<title>"):]
