"""Bank statements as Finnish banks send them (ISO-XSD-valid camt.054.001.02/.001.08 and
camt.053.001.02): batches credit each payment its own amount, batches that do not add up
wait uncredited, entries are de-duplicated per account and entry, and returned payments
take back what they return, with the reseller told."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from tests.support.camt import OTHER_ACCOUNT, Ntry, Tx, build
from tests.support.invoicing import at, buy
from tests.support.wallet import make_postpaid
from wallet import ledger, services, statements
from wallet.errors import BankEntryNotACredit, DebtOutstanding
from wallet.invoices import invoicing
from wallet.invoices.models import Invoice
from wallet.models import BankEntry, LedgerTransfer
from wallet.money import Money
from wallet.references import rf_reference

MESSAGES = ("camt.054.001.02", "camt.054.001.08", "camt.053.001.02")


def _import(data: bytes) -> statements.ImportResult:
    with unit_of_work():
        return statements.import_statement(data, settings=invoicing.invoicing_settings())


def _funds(reseller_id: int) -> Money:
    db.session.expire_all()
    return services.get_wallet(reseller_id=reseller_id).funds


@pytest.fixture
def two(factory):
    """Two prepaid resellers and their permanent references (RF form and Finnish form)."""
    first, second = factory.reseller(), factory.reseller()
    refs = [services.get_wallet(reseller_id=r.id).reference_number for r in (first, second)]
    return first, second, rf_reference(refs[0]), refs[1]


@pytest.mark.parametrize("message", MESSAGES)
@pytest.mark.parametrize("where", ["InstdAmt", "TxAmt"])
def test_a_batch_credits_each_payment_its_own_amount(two, message, where):
    first, second, rf1, ref2 = two
    data = build(Ntry("B1", "20.00", [Tx(rf1, "10.00", where), Tx(ref2, "10.00", where)]),
                 message=message)

    result = _import(data)

    assert (result.matched, result.unmatched, result.unbalanced) == (2, 0, 0)
    assert _funds(first.id) == Money.of("10.00") and _funds(second.id) == Money.of("10.00")
    assert db.session.scalar(sa.select(sa.func.sum(BankEntry.amount))) == Decimal("20.00")
    assert ledger.verify() == []


def test_camt054_v08_payment_amount_in_txdtls_amt(two):
    first, second, rf1, ref2 = two
    data = build(Ntry("B8", "35.50", [Tx(rf1, "30.00", "Amt"), Tx(ref2, "5.50", "Amt")]),
                 message="camt.054.001.08")
    assert _import(data).matched == 2
    assert _funds(first.id) == Money.of("30.00") and _funds(second.id) == Money.of("5.50")


@pytest.mark.parametrize("txs", [
    [Tx("RF", "10.00"), Tx("RF", "15.00")],          # parts 25.00, entry 20.00
    [Tx("RF", "10.00"), Tx("RF", None, "")],          # a payment without an amount
    [Tx("RF", "10.00", "InstdAmt", currency="USD"), Tx("RF", "10.00")],  # another currency
], ids=["sum", "missing", "currency"])
def test_a_batch_that_does_not_add_up_waits_uncredited(two, txs):
    first, second, rf1, ref2 = two
    for tx, ref in zip(txs, (rf1, ref2), strict=True):
        tx.reference = ref
    result = _import(build(Ntry("B2", "20.00", txs), message="camt.054.001.08"))

    assert (result.matched, result.unmatched, result.unbalanced) == (0, 1, 1)
    assert _funds(first.id) == Money.of("0.00") and _funds(second.id) == Money.of("0.00")
    [waiting] = statements.unmatched_entries()
    assert waiting.amount == Decimal("20.00") and waiting.note
    with unit_of_work():  # the operator places it by hand
        statements.allocate_entry(entry_id=waiting.id, reseller_id=first.id, actor="staff:1")
    assert _funds(first.id) == Money.of("20.00")


def test_same_archive_reference_on_another_account_is_not_a_duplicate(two):
    first, second, rf1, ref2 = two
    _import(build(Ntry("ARCH-1", "10.00", [Tx(rf1)])))

    other = _import(build(Ntry("ARCH-1", "10.00", [Tx(rf1)]), account=OTHER_ACCOUNT))
    again = _import(build(Ntry("ARCH-1", "10.00", [Tx(rf1)]), message_id="MSG-2"))
    next_day = _import(build(Ntry("ARCH-1", "10.00", [Tx(rf1)], booked="2026-11-21")))

    assert (other.matched, other.duplicates) == (1, 0)
    assert (again.matched, again.duplicates) == (0, 1)
    assert (next_day.matched, next_day.duplicates) == (1, 0)
    assert _funds(first.id) == Money.of("30.00")


def test_a_statement_imported_twice_credits_a_batch_once(two):
    first, second, rf1, ref2 = two
    data = build(Ntry("B3", "20.00", [Tx(rf1, "12.00"), Tx(ref2, "8.00")]),
                 message="camt.053.001.02")
    _import(data)
    again = _import(data)
    assert (again.matched, again.duplicates) == (0, 1)
    assert _funds(first.id) == Money.of("12.00") and _funds(second.id) == Money.of("8.00")


def test_legacy_rows_keyed_by_archive_reference_still_count_as_imported(two):
    first, second, rf1, ref2 = two
    with unit_of_work():  # a row imported before entries were keyed per account
        db.session.add(BankEntry(entry_key="OLD-1", statement_id="N", currency="EUR",
                                 amount=Decimal("10.00"), reference=rf1, booked_on="2026-11-20",
                                 state="matched", direction="credit"))
    result = _import(build(Ntry("OLD-1", "10.00", [Tx(rf1)])))
    assert result.duplicates == 1 and _funds(first.id) == Money.of("0.00")


def test_unbooked_and_outgoing_entries_are_skipped(two):
    first, second, rf1, ref2 = two
    result = _import(build(Ntry("P1", "10.00", [Tx(rf1)], status="PDNG"),
                           Ntry("D1", "10.00", [Tx(rf1)], credit=False),
                           message="camt.054.001.08"))
    assert (result.matched, result.unmatched) == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankEntry)) == 0


@pytest.mark.parametrize("message", MESSAGES)
def test_a_returned_payment_takes_the_credit_back_and_tells_the_reseller(two, message):
    first, second, rf1, ref2 = two
    _import(build(Ntry("C1", "50.00", [Tx(rf1, end_to_end="E2E-1")]), message=message))
    assert _funds(first.id) == Money.of("50.00")
    returned = build(Ntry("R1", "50.00", [Tx(rf1, end_to_end="E2E-1")], credit=False,
                          reversal=True, booked="2026-11-23"), message=message)

    result = _import(returned)
    again = _import(returned)

    assert (result.reversed, again.duplicates) == (1, 1)
    assert _funds(first.id) == Money.of("0.00")
    original, back = db.session.scalars(sa.select(BankEntry).order_by(BankEntry.id)).all()
    assert (original.state, back.direction, back.reverses_id) == ("reversed", "reversal",
                                                                  original.id)
    transfer = db.session.scalar(sa.select(LedgerTransfer).where(
        LedgerTransfer.kind == "reversal"))
    assert transfer.reverses == f"bank:{original.id}" and transfer.reseller_id == first.id
    [event] = db.session.scalars(sa.select(Event).where(
        Event.type == "wallet.payment_reversed")).all()
    assert event.reseller_id == first.id and event.data["amount"] == "50.00"
    assert ledger.verify() == []


def test_a_return_of_spent_money_becomes_debt_that_blocks_orders_until_a_payment_settles_it(
        two):
    """The overdraw rule: funds never go below zero; the shortfall is owed (debt), orders
    are refused with their own code while it is, and the next payment pays it first."""
    first, second, rf1, ref2 = two
    _import(build(Ntry("C2", "50.00", [Tx(rf1)])))
    with unit_of_work():  # 40.00 of it spent
        services.adjust_funds(reseller_id=first.id, amount=Money.of("-40.00"), reason="spent",
                              actor="test", reference="spent")

    _import(build(Ntry("R2", "50.00", [Tx(rf1)], credit=False, reversal=True)))

    wallet = services.get_wallet(reseller_id=first.id)
    assert (wallet.funds, wallet.debt) == (Money.of("0.00"), Money.of("40.00"))
    assert wallet.available == Money.of("-40.00")
    [event] = db.session.scalars(sa.select(Event).where(
        Event.type == "wallet.payment_reversed")).all()
    assert (event.data["debt"], event.data["orders_blocked"]) == ("40.00", True)
    with pytest.raises(DebtOutstanding) as refused, unit_of_work():
        services.hold_funds(reseller_id=first.id, net=Money.of("1.00"),
                            vat_rate=Decimal("0.255"), reference="o1", description="order")
    assert refused.value.status == 402 and refused.value.code == "wallet_debt_outstanding"
    _import(build(Ntry("C3", "45.00", [Tx(rf1)])))  # a bank payment pays the debt first
    wallet = services.get_wallet(reseller_id=first.id)
    assert (wallet.funds, wallet.debt) == (Money.of("5.00"), Money.of("0.00"))
    with unit_of_work():
        services.hold_funds(reseller_id=first.id, net=Money.of("1.00"),
                            vat_rate=Decimal("0.255"), reference="o2", description="order")
    assert ledger.verify() == []


def test_a_return_matching_no_credit_waits_and_cannot_be_credited(two):
    first, second, rf1, ref2 = two
    result = _import(build(Ntry("R3", "9.00", [Tx(rf1)], credit=False, reversal=True)))
    assert (result.reversed, result.unmatched) == (0, 1)
    [waiting] = statements.unmatched_entries()
    assert waiting.direction == "reversal"
    with pytest.raises(BankEntryNotACredit), unit_of_work():
        statements.allocate_entry(entry_id=waiting.id, reseller_id=first.id, actor="staff:1")
    with unit_of_work():
        statements.ignore_entry(entry_id=waiting.id, actor="staff:1", note="handled by phone")
    assert _funds(first.id) == Money.of("0.00")


def test_returning_a_credit_never_placed_takes_nothing(two):
    first, second, rf1, ref2 = two
    _import(build(Ntry("U1", "7.00", [Tx("123")])))  # no wallet has reference 123
    result = _import(build(Ntry("U2", "7.00", [Tx("123")], credit=False, reversal=True)))
    assert result.reversed == 1
    assert statements.unmatched_entries() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer).where(
        LedgerTransfer.kind == "reversal")) == 0


def test_a_returned_invoice_payment_reopens_the_invoice(factory, jobs):
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    make_postpaid(reseller.id, "1000.00")
    at("2026-10-05T09:00:00")
    buy(reseller, "postpaid.fi", "100.00")
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))
    at("2026-11-10T09:00:00")
    _import(build(Ntry("I1", "125.50", [Tx(invoice.reference)], booked="2026-11-10")))
    db.session.refresh(invoice)
    assert invoice.status == "paid"

    _import(build(Ntry("I2", "125.50", [Tx(invoice.reference)], credit=False, reversal=True,
                       booked="2026-11-12")))

    db.session.refresh(invoice)
    assert (invoice.status, invoice.paid_amount) == ("open", Decimal("0.00"))
    db.session.expire_all()
    assert services.get_wallet(reseller_id=reseller.id).receivable == Money.of("125.50")
    assert ledger.verify() == []
