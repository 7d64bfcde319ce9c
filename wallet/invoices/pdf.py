"""The invoice PDF: HTML from ``templates/pdf/`` in the buyer's language, rendered once by
weasyprint and stored with its SHA-256, so every later download is byte-identical."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale

from reseller.core.db import insert_unless_exists, unit_of_work
from reseller.core.extensions import db
from wallet.invoices import references
from wallet.invoices.models import Invoice, InvoiceDocument

_FONTS: Any = None


def payment_details(invoice: Invoice) -> dict[str, Any]:
    """References, the amount to pay and, when something is due, the virtual bank barcode.

    What is due is decided when the invoice is issued (``booking``): postpaid purchases,
    and whatever prepaid funds did not cover. The PDF is stored then, so it shows that.
    """
    details: dict[str, Any] = {
        "reference": references.format_finnish_reference(invoice.reference),
        "rf_reference": references.format_rf_reference(invoice.rf_reference),
        "barcode": None,
        "amount_due": invoice.amount_due,
    }
    iban = (invoice.seller or {}).get("iban") or ""
    if invoice.amount_due > 0 and iban.replace(" ", "").upper().startswith("FI"):
        details["barcode"] = references.bank_barcode(
            iban=iban, amount=invoice.amount_due, reference=invoice.rf_reference,
            due=invoice.due_date)
    return details


def render_html(invoice: Invoice) -> str:
    with force_locale(invoice.language):
        return render_template("pdf/invoice.html", invoice=invoice,
                               payment=payment_details(invoice))


def html_to_pdf(html: str) -> bytes:
    """weasyprint, with one font configuration per process (fontconfig is slow to load)."""
    global _FONTS
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    if _FONTS is None:
        _FONTS = FontConfiguration()
        # Seven INFO lines per document would flood a month-end run's logs.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    return HTML(string=html).write_pdf(font_config=_FONTS)


def stored_pdf(invoice_id: int) -> InvoiceDocument | None:
    return db.session.scalar(sa.select(InvoiceDocument).where(
        InvoiceDocument.invoice_id == invoice_id, InvoiceDocument.kind == "pdf"))


def render_and_store(invoice_id: int) -> None:
    """Render and store ``invoice_id``'s PDF with no database transaction open while
    weasyprint works (a month of 10,000 lines renders for most of a minute): the HTML is
    built in one unit of work, the PDF rendered outside any, and stored in a second unit of
    work unless a concurrent run stored it first. Safe to run twice."""
    with unit_of_work():
        invoice = db.session.get(Invoice, invoice_id)
        if invoice is None or stored_pdf(invoice_id) is not None:
            return
        html = render_html(invoice)
    content = html_to_pdf(html)
    with unit_of_work():
        insert_unless_exists(InvoiceDocument, invoice_id=invoice_id, kind="pdf",
                             content=content, sha256=hashlib.sha256(content).hexdigest())


def ensure_pdf(invoice: Invoice) -> InvoiceDocument:
    """Render and store the PDF unless it already is; safe to run twice."""
    document = stored_pdf(invoice.id)
    if document is not None:
        return document
    content = html_to_pdf(render_html(invoice))
    document = InvoiceDocument(invoice_id=invoice.id, kind="pdf", content=content,
                               sha256=hashlib.sha256(content).hexdigest())
    db.session.add(document)
    db.session.flush()
    return document
