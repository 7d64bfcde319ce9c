"""Paying invoices: bank transfers by reference, reminders, late interest, the order block."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from tests.support.invoicing import at, buy
from tests.support.wallet import make_postpaid
from wallet.invoices import invoicing, services
from wallet.invoices.models import Invoice


@pytest.fixture
def open_invoice(factory, jobs):
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    make_postpaid(reseller.id, "1000.00")
    at("2026-10-05T09:00:00")
    buy(reseller, "postpaid.fi", "100.00")
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    return db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))


def _events(kind: str) -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(Event.type == kind).order_by(Event.id)))


def test_a_matched_bank_transfer_pays_the_invoice(open_invoice):
    assert open_invoice.total == Decimal("125.50")
    found = invoicing.find_invoice_by_reference(open_invoice.rf_reference)
    paid_at = datetime(2026, 11, 10, 12, tzinfo=UTC)
    with unit_of_work():
        invoicing.mark_invoice_paid(invoice_number=found.number, amount=Decimal("125.50"),
                                    paid_at=paid_at)
    assert open_invoice.status == "paid" and open_invoice.paid_at == paid_at
    assert open_invoice.interest_amount == Decimal("0.00")
    with pytest.raises(services.InvoiceNotPayable), unit_of_work():
        invoicing.mark_invoice_paid(invoice_number=found.number, amount=Decimal("1"),
                                    paid_at=paid_at)


def test_partial_payments_add_up(open_invoice):
    for amount in ("100.00", "25.50"):
        with unit_of_work():
            invoicing.mark_invoice_paid(invoice_number=open_invoice.number,
                                        amount=Decimal(amount), paid_at=at("2026-11-12T10:00"))
        if amount == "100.00":
            assert open_invoice.status == "open" and open_invoice.amount_due == Decimal("25.50")
    assert open_invoice.status == "paid"


def test_a_non_positive_payment_is_refused(open_invoice):
    with pytest.raises(services.InvalidPaymentAmount), unit_of_work():
        invoicing.mark_invoice_paid(invoice_number=open_invoice.number, amount=Decimal("0"),
                                    paid_at=at("2026-11-12T10:00"))


def test_reminders_go_out_at_7_and_21_days_overdue_once_each(open_invoice):
    assert open_invoice.due_date == date(2026, 11, 15)
    for moment in ("2026-11-21T08:00", "2026-11-22T08:00", "2026-11-23T08:00",
                   "2026-12-06T08:00", "2026-12-07T08:00", "2026-12-20T08:00"):
        at(moment)
        with unit_of_work():
            invoicing.send_overdue_reminders()
    reminders = _events("invoice.overdue")
    assert [(e.data["reminder"], e.data["days_overdue"]) for e in reminders] == [(1, 7), (2, 21)]
    assert reminders[0].data["number"] == open_invoice.number


def test_late_payment_interest_goes_on_the_next_invoice(open_invoice, jobs):
    with unit_of_work():
        invoicing.mark_invoice_paid(invoice_number=open_invoice.number,
                                    amount=Decimal("125.50"), paid_at=at("2026-12-15T10:00"))
    # 30 days late; reference rate 2.15 % (2nd half of 2025, the last in the default table)
    assert open_invoice.interest_amount == Decimal("1.05")  # 125.50 * 10.15 % * 30/365
    reseller_id = open_invoice.reseller_id
    from reseller.accounts.models import Reseller

    buy(db.session.get(Reseller, reseller_id), "december.fi", "10.00")
    at("2027-01-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    december = db.session.scalar(sa.select(Invoice).where(
        Invoice.reseller_id == reseller_id, Invoice.period_key == "2026-12"))
    interest = [line for line in december.lines if line.kind == "interest"]
    assert [(str(line.net), line.vat_category) for line in interest] == [("1.05", "E")]
    assert open_invoice.interest_charged_on_id == december.id
    assert december.total == Decimal("12.55") + Decimal("1.05")
    from tests.support import peppol_rules
    from wallet.invoices import einvoice
    assert peppol_rules.fatal(einvoice.to_ubl(december)) == []  # the official rules


def test_orders_are_blocked_only_past_30_days_overdue(open_invoice, app):
    reseller_id = open_invoice.reseller_id
    at("2026-12-15T08:00")  # 30 days after the due date
    assert not invoicing.is_blocked_for_overdue(reseller_id)
    at("2026-12-16T08:00")
    assert invoicing.is_blocked_for_overdue(reseller_id)
    app.extensions.pop("tunnus.invoicing", None)
    app.config["INVOICE_BLOCK_OVERDUE"] = False
    try:
        assert not invoicing.is_blocked_for_overdue(reseller_id)
    finally:
        app.config["INVOICE_BLOCK_OVERDUE"] = True
        app.extensions.pop("tunnus.invoicing", None)
    with unit_of_work():
        invoicing.mark_invoice_paid(invoice_number=open_invoice.number,
                                    amount=Decimal("125.50"), paid_at=at("2026-12-16T09:00"))
    assert not invoicing.is_blocked_for_overdue(reseller_id)


def test_billing_contacts_get_issued_and_overdue_emails_in_their_language(open_invoice, factory):
    from whitelabel.models import OutboxMessage

    issued = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.template == "invoices/issued")).all()
    assert [m.language for m in issued] == ["fi"]
    assert issued[0].subject.startswith(f"Lasku {open_invoice.number}")
    assert open_invoice.rf_reference in issued[0].text
    from wallet.invoices import pdf
    from whitelabel import outbox

    [attachment] = list(outbox.build_email(issued[0]).iter_attachments())
    assert attachment.get_filename() == f"{open_invoice.number}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf.stored_pdf(open_invoice.id).content
    at("2026-11-22T08:00")
    with unit_of_work():
        invoicing.send_overdue_reminders()
    [overdue] = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.template == "invoices/overdue")).all()
    assert overdue.subject == f"Muistutus: lasku {open_invoice.number} on erääntynyt"
    assert "125.50" in overdue.text


def test_the_bank_import_pays_by_reference_and_ignores_other_references(open_invoice):
    settings = invoicing.invoicing_settings()
    paid_at = datetime(2026, 11, 12, 9, tzinfo=UTC)
    with unit_of_work():
        assert services.pay_by_reference(reference="7700011", amount=Decimal("5"),
                                         paid_at=paid_at, settings=settings) is None
        paid = services.pay_by_reference(reference=open_invoice.reference,
                                         amount=Decimal("125.50"), paid_at=paid_at,
                                         settings=settings)
    assert paid is open_invoice and open_invoice.status == "paid"


def test_an_invoice_event_that_is_not_ours_mails_nobody(factory):
    from reseller.core.events import record_event
    from whitelabel.models import OutboxMessage

    reseller = factory.reseller()
    with unit_of_work():
        record_event(reseller_id=reseller.id, type="invoice.issued", data={"invoice": "x"})
    assert db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.reseller_id == reseller.id)).all() == []


def test_an_attachment_that_cannot_be_loaded_is_retried_not_sent_without_it(factory):
    from whitelabel import outbox

    reseller = factory.reseller()
    with unit_of_work():
        message = outbox.queue_message(
            dedupe_key="missing-attachment", recipient="billing@example.test",
            sender="Nimipalvelu <billing@nimipalvelu.example>", language="fi",
            template="invoices/issued", subject="Lasku", text="Lasku", reseller_id=reseller.id,
            context={"attachments": [{"kind": "invoice_pdf", "ref": "2099-999999"}]})

    class Mailer:
        sent: list = []

        def send(self, **kwargs):
            self.sent.append(kwargs)

    mailer = Mailer()
    with unit_of_work():
        state = outbox.deliver(message.id, mailer)
    assert state == "queued" and mailer.sent == []
    assert "AttachmentMissing" in message.last_error
