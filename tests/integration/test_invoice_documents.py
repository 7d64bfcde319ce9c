"""What an invoice says: VAT per buyer, references, PDF content, e-invoice, credit notes."""

import hashlib
from decimal import Decimal

import pytest
import sqlalchemy as sa
from peppol import check_rules, validate_xsd

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support import peppol_rules
from tests.support.invoicing import at, buy, first_page_png, is_blank, pdf_text
from tests.support.wallet import fund, make_postpaid
from wallet.invoices import einvoice, invoicing, pdf, references, services
from wallet.invoices.models import Invoice

BUYERS = {
    "fi": {"country": "FI", "vat_id": "FI24644919", "business_id": "2464491-9"},
    "eu_vat": {"country": "SE", "vat_id": "SE556036079301", "business_id": "556036-0793"},
    "eu_no_vat": {"country": "SE", "vat_id": None, "business_id": "556036-0793"},
    "uk": {"country": "GB", "vat_id": "GB980780684", "business_id": "01234567"},
}


def _invoice_for(factory, jobs, kind: str, *, postpaid: bool = False, **fields) -> Invoice:
    reseller = factory.reseller(**{"company_name": f"Buyer {kind}", "street": "Katu 1",
                                   "postal_code": "00100", "city": "Helsinki",
                                   "language": "en", **BUYERS[kind], **fields})
    if postpaid:
        make_postpaid(reseller.id, "2000.00")
    else:
        fund(reseller.id, "1000.00")
    at("2026-10-05T09:00:00")
    for n in range(3):
        buy(reseller, f"{kind}-{n}.fi", "9.90")
    buy(reseller, f"{kind}-renew.com", "12.00", operation="renew", years=2)
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    return db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))


def _valid_ubl(invoice: Invoice) -> bytes:
    xml = einvoice.to_ubl(invoice)
    valid, errors = validate_xsd(xml)
    assert valid, errors
    assert [str(finding) for finding in check_rules(xml)] == []
    assert peppol_rules.fatal(xml) == []  # the official BIS 3.0 + EN 16931 rules, on Saxon
    return xml


@pytest.mark.smoke
def test_finnish_buyer_pays_finnish_vat_rounded_once_per_rate(factory, jobs):
    invoice = _invoice_for(factory, jobs, "fi")
    assert invoice.vat_status == "domestic"
    assert invoice.vat_breakdown == [
        {"category": "S", "rate": "25.5", "net": "41.70", "vat": "10.63"}]
    assert (str(invoice.net_total), str(invoice.vat_total), str(invoice.total)) == (
        "41.70", "10.63", "52.33")
    text = pdf_text(pdf.stored_pdf(invoice.id).content)
    assert "Reverse charge" not in text and "25.5" in text.replace(",", ".")
    assert "rounded to the cent" in text
    _valid_ubl(invoice)


def test_eu_buyer_with_vat_id_is_reverse_charged_with_both_vat_ids(factory, jobs):
    invoice = _invoice_for(factory, jobs, "eu_vat")
    assert invoice.vat_status == "reverse_charge"
    assert invoice.vat_breakdown == [
        {"category": "AE", "rate": "0", "net": "41.70", "vat": "0.00"}]
    assert invoice.total == Decimal("41.70")
    text = pdf_text(pdf.stored_pdf(invoice.id).content)
    assert "Reverse charge" in text and "Article 196" in text
    assert "SE556036079301" in text and "FI24644919" in text
    xml = _valid_ubl(invoice)
    assert b"VATEX-EU-AE" in xml and b"SE556036079301" in xml


def test_eu_buyer_without_vat_id_pays_finnish_vat(factory, jobs):
    invoice = _invoice_for(factory, jobs, "eu_no_vat")
    assert invoice.vat_status == "domestic"
    assert invoice.vat_breakdown[0]["category"] == "S"
    assert invoice.vat_total == Decimal("10.63")
    assert "Reverse charge" not in pdf_text(pdf.stored_pdf(invoice.id).content)
    _valid_ubl(invoice)


def test_uk_buyer_is_outside_the_scope_of_finnish_vat(factory, jobs):
    invoice = _invoice_for(factory, jobs, "uk")
    assert invoice.vat_status == "outside_scope"
    assert invoice.vat_breakdown == [
        {"category": "O", "rate": "0", "net": "41.70", "vat": "0.00"}]
    text = pdf_text(pdf.stored_pdf(invoice.id).content)
    assert "Outside the scope of Finnish VAT" in text
    _valid_ubl(invoice)


@pytest.mark.smoke
def test_pdf_carries_number_totals_and_references_and_is_not_blank(factory, jobs):
    invoice = _invoice_for(factory, jobs, "fi", postpaid=True)
    content = pdf.stored_pdf(invoice.id).content
    text = pdf_text(content)
    assert invoice.number in text
    assert "52.33" in text.replace(",", ".") and "41.70" in text.replace(",", ".")
    assert references.format_finnish_reference(invoice.reference) in text
    assert references.format_rf_reference(invoice.rf_reference) in text
    barcode = references.bank_barcode(iban=invoice.seller["iban"], amount=invoice.total,
                                      reference=invoice.rf_reference, due=invoice.due_date)
    assert barcode in text.replace(" ", "")
    assert not is_blank(first_page_png(content))


def test_prepaid_invoice_is_paid_from_funds_at_issue(factory, jobs):
    invoice = _invoice_for(factory, jobs, "fi")
    assert invoice.status == "paid" and invoice.paid_at == invoice.issued_at
    assert invoice.payment_method == "prepaid_funds"
    text = pdf_text(pdf.stored_pdf(invoice.id).content)
    assert "Paid from prepaid funds" in text and "Virtual bank barcode" not in text


def test_pdf_is_in_the_buyers_language(factory, jobs):
    invoice = _invoice_for(factory, jobs, "fi", postpaid=True)
    assert invoice.language == "en"
    finnish = _invoice_for(factory, jobs, "eu_no_vat", language="fi")
    text = pdf_text(pdf.stored_pdf(finnish.id).content)
    assert "LASKU" in text and "Eräpäivä" in text


def test_the_pdf_is_rendered_once_and_kept(factory, jobs):
    invoice = _invoice_for(factory, jobs, "fi")
    stored = pdf.stored_pdf(invoice.id)
    assert hashlib.sha256(stored.content).hexdigest() == stored.sha256
    assert pdf.ensure_pdf(invoice).content == stored.content


def test_references_are_unique_valid_and_findable(factory, jobs):
    invoice = _invoice_for(factory, jobs, "fi", postpaid=True)
    assert references.is_valid_finnish_reference(invoice.reference)
    assert references.reference_from_rf(invoice.rf_reference) == invoice.reference
    assert services.find_invoice_by_reference(invoice.rf_reference) is invoice
    spaced = references.format_finnish_reference(invoice.reference)
    assert services.find_invoice_by_reference(spaced) is invoice
    assert services.find_invoice_by_reference("12328") is None


def test_credit_note_references_the_invoice_it_corrects(factory, jobs):
    invoice = _invoice_for(factory, jobs, "fi", postpaid=True)
    at("2026-11-05T10:00:00")
    with unit_of_work():
        note = services.issue_credit_note(reseller_id=invoice.reseller_id,
                                          invoice_number=invoice.number, reason="Wrong price",
                                          now=at("2026-11-05T10:00:00"))
    assert note.number == "CN-2026-000001" and note.corrects_id == invoice.id
    assert note.total == -invoice.total and invoice.status == "credited"
    assert [str(line.net) for line in note.lines] == [f"-{line.net}" for line in invoice.lines]
    with unit_of_work():
        content = pdf.ensure_pdf(note).content
    text = pdf_text(content)
    assert "CREDIT NOTE" in text and invoice.number in text and "Wrong price" in text
    xml = _valid_ubl(note)
    assert b"<cbc:CreditNoteTypeCode>381" in xml and invoice.number.encode() in xml
    with pytest.raises(services.NothingToCredit), unit_of_work():
        services.issue_credit_note(reseller_id=invoice.reseller_id,
                                   invoice_number=invoice.number, reason="again",
                                   now=at("2026-11-06T10:00:00"))


def test_a_partial_credit_note_leaves_the_rest_due(factory, jobs):
    invoice = _invoice_for(factory, jobs, "fi", postpaid=True)
    with unit_of_work():
        note = services.issue_credit_note(reseller_id=invoice.reseller_id,
                                          invoice_number=invoice.number, reason="one domain",
                                          now=at("2026-11-05T10:00:00"), line_positions=[1])
    assert note.total == Decimal("-12.42")  # 9.90 + 25.5 % rounded once
    assert invoice.status == "open" and invoice.amount_due == invoice.total - Decimal("12.42")
