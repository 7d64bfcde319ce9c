"""The ledger agrees with the invoices to the cent: per-rate VAT rounding, late-payment
interest and credit notes are booked, so paying what an invoice asks clears the reseller's
receivable exactly, and a credit note gives the money back once."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reseller.core.db import unit_of_work
from reseller.core.directory import reseller_profile
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.core.identity import vat_status
from tests.support.invoicing import at, buy
from tests.support.wallet import camt054, fund, make_postpaid
from wallet import ledger, services, statements
from wallet.errors import PurchaseCredited
from wallet.invoices import invoicing, monthly
from wallet.invoices import services as invoices
from wallet.invoices.models import Invoice
from wallet.invoices.periods import Month
from wallet.models import LedgerEntry


def _wallet(reseller_id: int):
    db.session.expire_all()
    return services.get_wallet(reseller_id=reseller_id)


def _month_end(reseller, month: str = "2026-10") -> Invoice:
    """Issue ``reseller``'s invoice for ``month`` on the 1st after, as the month-end job
    does, without the PDF."""
    month = Month.parse(month)
    now = at(month.next().starts_at.isoformat())
    with unit_of_work():
        return monthly.issue_month(
            reseller_id=reseller.id, month=month,
            buyer=invoicing.buyer_of(reseller_profile(reseller.id)),
            vat_status=vat_status(reseller.country, reseller.vat_id),
            language=reseller.language, payment_mode=reseller.payment_mode,
            settings=invoicing.invoicing_settings(), now=now)


def _pay_by_bank(invoice: Invoice, amount: Decimal, booked: str = "2026-11-10") -> None:
    data = camt054((f"PAY-{invoice.number}-{amount}", str(amount), invoice.reference),
                   booked=booked)
    with unit_of_work():
        result = statements.import_statement(data, settings=invoicing.invoicing_settings())
    assert result.invoices == 1


def _balance(account: str) -> Decimal:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
                             .where(LedgerEntry.account == account)) or Decimal(0)


def _events(kind: str, number: str) -> list[Event]:
    return [event for event in db.session.scalars(sa.select(Event).where(Event.type == kind))
            if event.data.get("number") == number]


@pytest.fixture
def finnish(factory):
    return factory.reseller(country="FI", vat_id="FI24644919", language="en")


def _buy_october(reseller) -> None:
    """Three 9.90 registrations and a 12.00 renewal: the ledger books 10.62 VAT (per
    purchase), the invoice 10.63 (per rate): one cent of rounding."""
    at("2026-10-05T09:00:00")
    for n in range(3):
        buy(reseller, f"r{reseller.id}-{n}.fi", "9.90")
    buy(reseller, f"r{reseller.id}-renew.com", "12.00", operation="renew", years=2)
    at("2026-11-01T00:05:00")


def _october_invoice(reseller, *, postpaid: bool) -> Invoice:
    if postpaid:
        make_postpaid(reseller.id, "1000.00")
    else:
        fund(reseller.id, "100.00")
    _buy_october(reseller)
    return _month_end(reseller)


def _credit(reseller, invoice: Invoice, reason: str, when: str,
            lines: list[int] | None = None) -> Invoice:
    with unit_of_work():
        return invoices.issue_credit_note(reseller_id=reseller.id, invoice_number=invoice.number,
                                          reason=reason, now=at(when), line_positions=lines)


@pytest.mark.smoke
def test_postpaid_receivable_equals_the_invoice_and_paying_it_clears_it(finnish):
    make_postpaid(finnish.id, "1000.00")
    _buy_october(finnish)
    assert _wallet(finnish.id).receivable_amount == Decimal("52.32")
    vat_before = _balance(ledger.VAT_PAYABLE)

    invoice = _month_end(finnish)

    assert (invoice.vat_total, invoice.total, invoice.status) == (
        Decimal("10.63"), Decimal("52.33"), "open")
    assert _wallet(finnish.id).receivable_amount == invoice.total == invoice.amount_due
    assert _balance(ledger.VAT_PAYABLE) - vat_before == Decimal("-0.01")
    _pay_by_bank(invoice, invoice.total)
    assert _wallet(finnish.id).receivable_amount == 0
    assert ledger.verify() == []
    [paid] = _events("invoice.paid", invoice.number)
    assert paid.data["paid_amount"] == "52.33" and paid.data["payment_method"] == "bank_transfer"


@pytest.mark.smoke
def test_prepaid_funds_pay_the_rounding_too(finnish):
    fund(finnish.id, "100.00")
    _buy_october(finnish)
    assert _wallet(finnish.id).funds_amount == Decimal("47.68")

    invoice = _month_end(finnish)

    assert invoice.status == "paid" and invoice.paid_amount == Decimal("52.33")
    assert invoice.due_date == invoice.issue_date
    assert _wallet(finnish.id).funds_amount == Decimal("47.67")
    assert len(_events("invoice.paid", invoice.number)) == 1
    assert ledger.verify() == []


def test_rounding_in_the_resellers_favour_goes_back_to_funds(finnish):
    fund(finnish.id, "10.00")
    at("2026-10-05T09:00:00")
    buy(finnish, "one.fi", "1.00")  # 0.255 -> 0.26 per purchase
    buy(finnish, "two.fi", "1.00")
    invoice = _month_end(finnish)
    assert invoice.vat_total == Decimal("0.51")  # 2.00 * 25.5 % rounded once
    assert _wallet(finnish.id).funds_amount == Decimal("10.00") - invoice.total


def test_prepaid_funds_that_fall_short_leave_the_rest_due_in_14_days(finnish):
    fund(finnish.id, "52.32")
    _buy_october(finnish)
    assert _wallet(finnish.id).funds_amount == 0

    invoice = _month_end(finnish)

    assert invoice.status == "open" and invoice.amount_due == Decimal("0.01")
    assert (invoice.due_date - invoice.issue_date).days == 14
    wallet = _wallet(finnish.id)
    assert wallet.funds_amount == 0 and wallet.receivable_amount == Decimal("0.01")
    _pay_by_bank(invoice, Decimal("0.01"))
    assert invoice.status == "paid" and _wallet(finnish.id).receivable_amount == 0


def test_late_payment_interest_is_income_and_on_the_receivable(finnish):
    october = _october_invoice(finnish, postpaid=True)
    at("2026-12-16T10:00:00")
    _pay_by_bank(october, october.total, booked="2026-12-15")  # 30 days late
    assert october.interest_amount == Decimal("0.44")  # 52.33 * 10.15 % * 30 / 365
    buy(finnish, "december.fi", "10.00")
    interest_before = _balance(ledger.INTEREST_REVENUE)

    december = _month_end(finnish, "2026-12")

    assert december.total == Decimal("12.55") + Decimal("0.44")
    assert _balance(ledger.INTEREST_REVENUE) - interest_before == Decimal("-0.44")
    assert _wallet(finnish.id).receivable_amount == december.total
    _pay_by_bank(december, december.total, booked="2027-01-05")
    assert _wallet(finnish.id).receivable_amount == 0 and ledger.verify() == []


@pytest.mark.smoke
def test_a_credit_note_on_a_prepaid_invoice_returns_the_money_to_funds(finnish):
    invoice = _october_invoice(finnish, postpaid=False)
    funds = _wallet(finnish.id).funds_amount
    revenue, vat = _balance(ledger.REVENUE), _balance(ledger.VAT_PAYABLE)

    note = _credit(finnish, invoice, "Wrong price", "2026-11-05T10:00")

    assert note.total == -invoice.total and invoice.status == "credited"
    assert _wallet(finnish.id).funds_amount == funds + invoice.total
    assert _balance(ledger.REVENUE) - revenue == invoice.net_total
    assert _balance(ledger.VAT_PAYABLE) - vat == invoice.vat_total
    assert ledger.verify() == []


def test_a_partial_credit_on_an_open_invoice_lowers_what_is_due(finnish):
    invoice = _october_invoice(finnish, postpaid=True)
    note = _credit(finnish, invoice, "one domain", "2026-11-05T10:00", [2])
    assert note.total == Decimal("-12.42")
    assert _wallet(finnish.id).receivable_amount == invoice.amount_due == Decimal("39.91")
    _pay_by_bank(invoice, Decimal("39.91"))
    assert invoice.status == "paid" and _wallet(finnish.id).receivable_amount == 0


def test_a_credit_covering_the_unpaid_rest_settles_the_invoice(finnish):
    invoice = _october_invoice(finnish, postpaid=True)
    _pay_by_bank(invoice, Decimal("39.91"))
    assert invoice.status == "open"
    _credit(finnish, invoice, "one domain", "2026-11-12T10:00", [1])
    assert invoice.status == "paid" and invoice.amount_due == 0
    assert _wallet(finnish.id).receivable_amount == 0
    assert len(_events("invoice.paid", invoice.number)) == 1


def test_a_credit_beyond_what_is_due_goes_on_account_for_postpaid(finnish):
    invoice = _october_invoice(finnish, postpaid=True)
    _pay_by_bank(invoice, invoice.total)
    _credit(finnish, invoice, "goodwill", "2026-11-12T10:00", [4])
    wallet = _wallet(finnish.id)
    assert wallet.receivable_amount == Decimal("-15.06") and wallet.funds_amount == 0
    assert services.available(reseller_id=finnish.id).amount == Decimal("1015.06")


def test_nothing_is_given_back_twice(finnish):
    invoice = _october_invoice(finnish, postpaid=False)
    _credit(finnish, invoice, "first", "2026-11-05T10:00", [1])
    funds = _wallet(finnish.id).funds_amount
    for positions, message in (([1], "already credited"), ([9], "No such line"),
                               (None, "already credited")):
        with pytest.raises(invoices.NothingToCredit) as refused, unit_of_work():
            invoices.issue_credit_note(reseller_id=finnish.id, invoice_number=invoice.number,
                                       reason="again", now=at("2026-11-06T10:00"),
                                       line_positions=positions)
        assert message in str(refused.value.detail)
    with pytest.raises(invoices.NothingToCredit), unit_of_work():
        invoices.issue_credit_note(reseller_id=finnish.id, invoice_number=invoice.number,
                                   reason="  ", now=at("2026-11-06T10:00"), line_positions=[2])
    credited = invoice.lines[0].source_key.split(":")[1]
    from wallet.models import Purchase

    reference = db.session.get(Purchase, int(credited)).reference
    with pytest.raises(PurchaseCredited), unit_of_work():
        services.refund_purchase(reference=reference, reason="registry refunded")
    assert _wallet(finnish.id).funds_amount == funds


def test_a_refunded_purchase_cannot_be_credited_too(finnish):
    invoice = _october_invoice(finnish, postpaid=False)
    from wallet.models import Purchase

    purchase = db.session.get(Purchase, int(invoice.lines[2].source_key.split(":")[1]))
    with unit_of_work():
        services.refund_purchase(reference=purchase.reference, reason="deleted in grace")
    with pytest.raises(invoices.NothingToCredit) as refused, unit_of_work():
        invoices.issue_credit_note(reseller_id=finnish.id, invoice_number=invoice.number,
                                   reason="again", now=at("2026-11-06T10:00"),
                                   line_positions=[3])
    assert "refunded already" in str(refused.value.detail)


NETS = st.lists(st.sampled_from(["0.99", "1.00", "1.01", "4.99", "9.90", "12.00", "13.37",
                                 "59.00"]), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nets=NETS, postpaid=st.booleans())
def test_paying_what_the_invoice_asks_always_leaves_the_wallet_square(factory, nets, postpaid):
    """Whatever the purchases, after the invoice is settled the reseller owes nothing and
    has paid exactly the invoice total, and the ledger still balances."""
    reseller = factory.reseller(country="FI", vat_id="FI24644919", language="en")
    if postpaid:
        make_postpaid(reseller.id, "10000.00")
    else:
        fund(reseller.id, "1000.00")
    at("2026-10-05T09:00:00")
    for n, net in enumerate(nets):
        buy(reseller, f"p{reseller.id}-{n}.fi", net)
    invoice = _month_end(reseller)
    by_bank = invoice.amount_due
    if by_bank:
        _pay_by_bank(invoice, by_bank)
    wallet = _wallet(reseller.id)
    assert invoice.status == "paid" and wallet.receivable_amount == 0
    from_funds = Decimal("0.00") if postpaid else Decimal("1000.00") - wallet.funds_amount
    assert from_funds + by_bank == invoice.total
    assert ledger.verify() == [] and _receivable_row(reseller.id) is None


def test_a_reseller_turned_prepaid_pays_its_postpaid_purchases_from_funds(finnish):
    """Bought on credit early in the month, then moved to prepaid with funds: the invoice
    takes what the receivable holds from the funds, and nothing stays owed."""
    from wallet import credit
    from wallet.money import Money

    make_postpaid(finnish.id, "1000.00")
    at("2026-10-05T09:00:00")
    buy(finnish, "oncredit.fi", "10.00")  # 12.55 on the receivable
    with unit_of_work():
        credit.set_payment_mode(reseller_id=finnish.id, payment_mode="prepaid",
                                credit_limit=Money.of("0"), note="back to prepaid",
                                actor="test")
    fund(finnish.id, "50.00")
    at("2026-10-20T09:00:00")
    buy(finnish, "fromfunds.fi", "20.00")  # 25.10 from funds

    invoice = _month_end(finnish)

    assert invoice.total == Decimal("37.65") and invoice.status == "paid"
    assert invoice.paid_amount == invoice.total and invoice.payment_method == "prepaid_funds"
    wallet = _wallet(finnish.id)
    assert wallet.receivable_amount == 0
    assert wallet.funds_amount == Decimal("50.00") - invoice.total
    assert ledger.verify() == []


def test_the_pdf_of_a_partly_paid_prepaid_invoice_asks_only_for_the_rest(finnish):
    from tests.support.invoicing import pdf_text
    from wallet.invoices import pdf, references

    fund(finnish.id, "52.32")
    _buy_october(finnish)
    invoice = _month_end(finnish)
    with unit_of_work():
        text = pdf_text(pdf.ensure_pdf(invoice).content).replace("\u00a0", " ")
    assert "€52.32 paid from prepaid funds; €0.01 to pay." in text
    assert "Paid from prepaid funds." not in text
    barcode = references.bank_barcode(iban=invoice.seller["iban"], amount=Decimal("0.01"),
                                      reference=invoice.rf_reference, due=invoice.due_date)
    assert barcode in text.replace(" ", "")


def _receivable_row(reseller_id: int):
    from wallet.invoices import reconcile

    return next((row for row in reconcile.receivables() if row.reseller_id == reseller_id),
                None)


def test_receivables_reconcile_with_open_invoices_credit_purchases_and_holds(finnish):
    from wallet import services as wallet_services
    from wallet.money import Money

    invoice = _october_invoice(finnish, postpaid=True)
    at("2026-11-03T09:00:00")
    buy(finnish, "november.fi", "10.00")  # on credit, not invoiced yet
    with unit_of_work():
        wallet_services.hold_funds(reseller_id=finnish.id, net=Money.of("20.00"),
                                   vat_rate=Decimal("0.255"), reference="pending-order",
                                   description="register pending.fi")
    assert _wallet(finnish.id).receivable_amount == invoice.total + Decimal("12.55") \
        + Decimal("25.10")
    assert _receivable_row(finnish.id) is None  # all explained

    _pay_by_bank(invoice, invoice.total + Decimal("5.00"))  # 5.00 too much: on account
    row = _receivable_row(finnish.id)
    assert row.difference == Decimal("-5.00") and not row.unexplained

    with unit_of_work():  # a booking that no invoice will ever ask for
        ledger.post(reference="stray", kind="adjustment", reseller_id=finnish.id,
                    description="stray", legs=[
                        ledger.debit(ledger.RECEIVABLE, Decimal("7.00"), finnish.id),
                        ledger.credit(ledger.ADJUSTMENTS, Decimal("7.00"))])
        wallet_services.apply_legs(finnish.id, [
            ledger.debit(ledger.RECEIVABLE, Decimal("7.00"), finnish.id)])
    row = _receivable_row(finnish.id)
    assert row.difference == Decimal("2.00") and row.unexplained
