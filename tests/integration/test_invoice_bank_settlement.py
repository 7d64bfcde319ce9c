"""Postpaid invoices paid by bank transfer: the camt.054 import settles the invoice and books
the payment against the receivable, once; overdue resellers' new orders are refused."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains.models import Order
from tests.support.domains import CONTACT, install_catalogue
from tests.support.invoicing import at, buy
from tests.support.wallet import camt054, make_postpaid
from wallet import ledger, services, statements
from wallet.invoices import invoicing
from wallet.invoices.models import Invoice
from wallet.models import BankEntry, Hold, LedgerTransfer
from wallet.money import Money


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
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))
    assert invoice.status == "open" and invoice.total == Decimal("125.50")
    return invoice


def _import(data: bytes) -> statements.ImportResult:
    with unit_of_work():
        return statements.import_statement(data, settings=invoicing.invoicing_settings())


def _wallet(reseller_id: int):
    db.session.expire_all()
    return services.get_wallet(reseller_id=reseller_id)


def test_a_credit_to_an_invoice_reference_pays_it_and_reduces_the_receivable_once(open_invoice):
    rid = open_invoice.reseller_id
    assert _wallet(rid).receivable == Money.of("125.50")
    assert services.available(reseller_id=rid) == Money.of("874.50")
    data = camt054(("INV1", "125.50", open_invoice.reference), booked="2026-11-12")
    at("2026-11-13T07:30:00")
    paid_at = datetime(2026, 11, 12, 10, tzinfo=UTC)  # the booking date, noon in Helsinki

    result = _import(data)

    assert (result.matched, result.invoices, result.unmatched) == (1, 1, 0)
    db.session.refresh(open_invoice)
    assert open_invoice.status == "paid" and open_invoice.paid_at == paid_at
    assert open_invoice.paid_amount == Decimal("125.50")
    assert _wallet(rid).receivable == Money.of("0.00")
    assert services.available(reseller_id=rid) == Money.of("1000.00")
    [entry] = db.session.scalars(sa.select(BankEntry)).all()
    assert (entry.state, entry.reseller_id) == ("matched", rid)
    transfer = db.session.scalar(sa.select(LedgerTransfer).where(
        LedgerTransfer.reference == f"bank:{entry.id}"))
    assert transfer.kind == "invoice_payment" and open_invoice.number in transfer.description
    balances = ledger.account_balances(rid)
    assert balances[(ledger.RECEIVABLE, rid)] == Decimal("0.00")

    at("2026-11-14T09:30:00")
    again = _import(data)

    assert (again.matched, again.invoices, again.duplicates) == (0, 0, 1)
    db.session.refresh(open_invoice)
    assert open_invoice.paid_amount == Decimal("125.50") and open_invoice.paid_at == paid_at
    assert _wallet(rid).receivable == Money.of("0.00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer).where(
        LedgerTransfer.kind == "invoice_payment")) == 1
    assert ledger.verify() == []


def test_the_rf_form_and_partial_payments_add_up(open_invoice):
    rid = open_invoice.reseller_id
    at("2026-11-12T09:30:00")
    _import(camt054(("P1", "100.00", open_invoice.rf_reference)))
    db.session.refresh(open_invoice)
    assert open_invoice.status == "open" and open_invoice.amount_due == Decimal("25.50")
    assert _wallet(rid).receivable == Money.of("25.50")
    result = _import(camt054(("P2", "25.50", f"RF {open_invoice.rf_reference[2:]}")))
    assert result.invoices == 1
    db.session.refresh(open_invoice)
    assert open_invoice.status == "paid"
    assert _wallet(rid).receivable == Money.of("0.00")
    assert ledger.verify() == []


def test_a_late_bank_payment_books_interest_for_the_next_invoice(open_invoice):
    at("2026-12-18T10:00:00")  # imported later; booked 30 days after the due date
    _import(camt054(("LATE", "125.50", open_invoice.reference), booked="2026-12-15"))
    db.session.refresh(open_invoice)
    assert open_invoice.status == "paid"
    assert open_invoice.interest_amount == Decimal("1.05")


def test_a_paid_invoice_reference_waits_for_the_operator(open_invoice):
    rid = open_invoice.reseller_id
    at("2026-11-12T09:30:00")
    _import(camt054(("FIRST", "125.50", open_invoice.reference)))
    result = _import(camt054(("SECOND", "125.50", open_invoice.reference)))
    assert (result.matched, result.unmatched) == (0, 1)
    [waiting] = statements.unmatched_entries()
    assert "|SECOND|" in waiting.entry_key and waiting.reseller_id is None  # per account (#26)
    assert _wallet(rid).receivable == Money.of("0.00")
    assert ledger.verify() == []


def test_wallet_references_still_fund_and_unknown_ones_wait(open_invoice, factory):
    prepaid = factory.reseller()
    ref = services.get_wallet(reseller_id=prepaid.id).reference_number
    at("2026-11-12T09:30:00")
    result = _import(camt054(("W1", "40.00", ref), ("X1", "12.00", "1232"),
                             ("I1", "125.50", open_invoice.reference)))
    assert (result.matched, result.invoices, result.unmatched) == (2, 1, 1)
    assert services.available(reseller_id=prepaid.id) == Money.of("40.00")
    assert [e.entry_key.split("|")[1] for e in statements.unmatched_entries()] == ["X1"]
    assert ledger.verify() == []


# -- orders of a reseller blocked for an overdue invoice ---------------------------------

def _register(api, contact, name, key):
    return api.post("/api/v1/domains", json={
        "name": name, "period": 1, "contacts": {"registrant": contact["id"]}},
        headers={"Idempotency-Key": key})


@pytest.mark.smoke
def test_an_overdue_reseller_cannot_order_new_domains_until_the_bank_transfer_arrives(
        factory, jobs):
    install_catalogue()
    reseller = factory.reseller()
    make_postpaid(reseller.id, "1000.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    at("2026-10-05T09:00:00")
    first = _register(api, contact, "vanha-asiakas.fi", "reg-old")
    assert first.status_code == 202, first.json
    jobs.run_all()
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))
    assert invoice.status == "open"

    at("2026-12-16T08:00:00")  # overdue more than 30 days
    orders_before = db.session.scalar(sa.select(sa.func.count()).select_from(Order))
    holds_before = db.session.scalar(sa.select(sa.func.count()).select_from(Hold))
    available_before = services.available(reseller_id=reseller.id)
    refused = _register(api, contact, "uusi-asiakas.fi", "reg-new")
    assert refused.status_code == 402
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json["code"] == "orders_blocked_overdue"
    transfer = api.post("/api/v1/transfers", json={"name": "siirto-muualla.fi",
                                                   "auth_code": "x"})
    assert transfer.status_code == 402 and transfer.json["code"] == "orders_blocked_overdue"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == orders_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Hold)) == holds_before
    assert services.available(reseller_id=reseller.id) == available_before
    renew = api.post("/api/v1/domains/vanha-asiakas.fi/renew", json={"period": 1})
    assert renew.status_code == 202, renew.json  # existing domains still renew

    at("2026-12-16T11:00:00")
    result = _import(camt054(("PAY", f"{invoice.total:.2f}", invoice.rf_reference),
                             booked="2026-12-16"))
    assert result.invoices == 1
    db.session.refresh(invoice)
    assert invoice.status == "paid"
    assert invoice.paid_at == datetime(2026, 12, 16, 10, tzinfo=UTC)
    assert _register(api, contact, "uusi-asiakas.fi", "reg-new-2").status_code == 202
    assert ledger.verify() == []


def test_the_block_can_be_switched_off(open_invoice, app, factory):
    install_catalogue()
    from reseller.accounts.models import Reseller

    reseller = db.session.get(Reseller, open_invoice.reseller_id)
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    at("2026-12-16T08:00:00")
    assert _register(api, contact, "estetty.fi", "k1").json["code"] == "orders_blocked_overdue"
    app.extensions.pop("tunnus.invoicing", None)
    app.config["INVOICE_BLOCK_OVERDUE"] = False
    try:
        assert _register(api, contact, "sallittu.fi", "k2").status_code == 202
    finally:
        app.config["INVOICE_BLOCK_OVERDUE"] = True
        app.extensions.pop("tunnus.invoicing", None)


def test_without_a_booking_date_in_the_past_the_payment_date_is_now(open_invoice):
    moment = at("2026-11-14T15:00:00")
    _import(camt054(("T1", "125.50", open_invoice.reference), booked="2026-11-30"))
    db.session.refresh(open_invoice)
    assert moment <= open_invoice.paid_at < moment + timedelta(minutes=1)  # the clock runs
