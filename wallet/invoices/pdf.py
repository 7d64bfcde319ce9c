"""The invoice PDF: HTML from ``templates/pdf/`` in the buyer's language, rendered once by
weasyprint and stored with its SHA-256, so every later download is byte-identical.

The invoice states its lines grouped (``grouping``); the specification — every line —
follows as an appendix of monospaced text pages, rendered by weasyprint in documents of
``APPENDIX_PAGES_PER_DOCUMENT`` pages whose pages are then written as one PDF. Text
blocks lay out an order of magnitude faster than table cells, and a bounded document at
a time keeps the renderer's memory bounded: 10,000 lines are about 130 pages in seconds.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from reseller.core.db import insert_unless_exists, unit_of_work
from reseller.core.extensions import db
from reseller.core.text import one_line
from wallet.invoices import references
from wallet.invoices.grouping import group_lines
from wallet.invoices.models import Invoice, InvoiceDocument, InvoiceLine

_FONTS: Any = None
# weasyprint lays text out with Pango, whose font map and fontconfig state the process's
# one font configuration shares: two threads rendering at once corrupt the heap and abort
# the process ("corrupted double-linked list" in GLib, then SIGABRT in
# ``line_break.get_first_line``; WeasyPrint issue #1402). A process renders one PDF at a
# time: a job thread beside a request thread (the embedded default's in-process jobs), or
# two of gunicorn's threads, wait for each other instead. Processes render in parallel.
_RENDERING = threading.Lock()


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


APPENDIX_LINES_PER_PAGE = 80  # text lines of 7 pt on an A4 page, below its heading;
# a specification of one page or less follows on the invoice's own pages instead
APPENDIX_PAGES_PER_DOCUMENT = 20
DOMAIN_WIDTH = 40


@dataclass(frozen=True)
class Rendition:
    """Everything weasyprint needs, built while the invoice is loaded: the invoice's own
    HTML and its appendix, as HTML documents of a bounded number of pages each."""

    invoice_html: str
    appendix_html: list[str]


def render_html(invoice: Invoice) -> str:
    """The invoice itself (grouped lines, totals, payment details) as HTML."""
    with force_locale(invoice.language):
        return _invoice_html(invoice)


def _invoice_html(invoice: Invoice, specification: list[str] | None = None) -> str:
    """``specification``: the appendix's rows, when short enough to follow on the
    invoice's own pages (one document, as quick to render as an invoice ever was)."""
    return render_template("pdf/invoice.html", invoice=invoice, groups=group_lines(invoice.lines),
                           line_count=len(invoice.lines), payment=payment_details(invoice),
                           specification=specification,
                           spec_header=_spec_header(invoice) if specification else None)


def _operation_names() -> dict[str, str]:
    return {"register": _("Registration"), "renew": _("Renewal"), "transfer": _("Transfer"),
            "restore": _("Restore"), "owner_change": _("Owner change"),
            "interest": _("Late-payment interest"), "refund": _("Refund")}


@functools.cache
def _symbols(locale: str) -> tuple[str, str]:
    """(decimal, group) symbols of ``locale``: babel once, not per amount of 10,000 lines."""
    return get_decimal_symbol(locale), get_group_symbol(locale)


def _amount(value: Decimal, locale: str) -> str:
    """``value`` with two decimals in ``locale``'s symbols (as babel's ``#,##0.00``)."""
    decimal, group = _symbols(locale)
    return f"{value:,.2f}".replace(",", "\0").replace(".", decimal).replace("\0", group)


def _rate(value: Decimal, locale: str) -> str:
    return f"{value.normalize():f}".replace(".", _symbols(locale)[0])


def _spec_row(line: InvoiceLine, locale: str, names: dict[str, str]) -> str:
    """One specification line in fixed columns; a long name gets a text line of its own."""
    what = line.domain or line.description
    if line.kind == "interest" and ":" in what:
        what = what.split(":", 1)[1]  # the invoice number the interest is charged on
    what = one_line(what)  # descriptions are stored text: one line in the columns
    operation = names.get(line.operation or "", line.operation or "")
    if line.kind == "interest":
        operation = names["interest"]
    elif line.kind == "refund":
        operation = names["refund"] + ": " + operation
    years = str(line.period_years) if line.period_years else ""
    rest = (f"{operation[:18]:<18} {years:>5} {_amount(line.net, locale):>12} "
            f"{_rate(line.vat_rate, locale):>6}"
            f" {_amount(line.vat, locale):>10}")
    head = f"{line.position:>6} {line.occurred_on.isoformat()} "
    if len(what) <= DOMAIN_WIDTH:
        return f"{head}{what:<{DOMAIN_WIDTH}} {rest}"
    return f"{head}{what}\n{'':>{len(head) + DOMAIN_WIDTH}} {rest}"


def _spec_pages(invoice: Invoice, locale: str) -> list[list[str]]:
    names = _operation_names()
    pages: list[list[str]] = [[]]
    used = 0
    for line in invoice.lines:
        row = _spec_row(line, locale, names)
        height = row.count("\n") + 1
        if used + height > APPENDIX_LINES_PER_PAGE:
            pages.append([])
            used = 0
        pages[-1].append(row)
        used += height
    return pages if pages[0] else []


def _spec_header(invoice: Invoice) -> str:
    line, day, name, operation = _("Line"), _("Date"), _("Domain name"), _("Operation")
    years, net, rate, tax = _("Years"), _("Net") + " " + invoice.currency, _("VAT %"), _("VAT")
    return (f"{line:>6} {day:<10} {name:<{DOMAIN_WIDTH}} {operation:<18} {years:>5} "
            f"{net:>12} {rate:>6} {tax:>10}")


def _appendix_html(invoice: Invoice, pages: list[list[str]]) -> list[str]:
    header = _spec_header(invoice)
    documents = []
    for first in range(0, len(pages), APPENDIX_PAGES_PER_DOCUMENT):
        chunk = pages[first:first + APPENDIX_PAGES_PER_DOCUMENT]
        documents.append(render_template(
            "pdf/specification.html", invoice=invoice, header=header, line_count=len(invoice.lines),
            pages=[(first + n + 1, rows) for n, rows in enumerate(chunk)], page_count=len(pages)))
    return documents


def rendition(invoice: Invoice) -> Rendition:
    """The invoice's HTML and its appendix's, in the buyer's language. A specification
    of a page or less follows on the invoice's own pages (no appendix document)."""
    with force_locale(invoice.language):
        pages = _spec_pages(invoice, invoice.language)
        if len(pages) <= 1:
            return Rendition(invoice_html=_invoice_html(invoice, pages[0] if pages else None),
                             appendix_html=[])
        return Rendition(invoice_html=_invoice_html(invoice),
                         appendix_html=_appendix_html(invoice, pages))


def _fonts() -> Any:
    """One font configuration per process (fontconfig is slow to load)."""
    global _FONTS
    from weasyprint.text.fonts import FontConfiguration

    if _FONTS is None:
        _FONTS = FontConfiguration()
        # Seven INFO lines per document would flood a month-end run's logs.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    return _FONTS


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    with _RENDERING:
        return HTML(string=html).write_pdf(font_config=_fonts())


def rendition_to_pdf(parts: Rendition) -> bytes:
    """One PDF: the invoice's pages, then the appendix's, laid out a document at a time."""
    from weasyprint import HTML

    if not parts.appendix_html:
        return html_to_pdf(parts.invoice_html)
    with _RENDERING:
        fonts = _fonts()
        invoice = HTML(string=parts.invoice_html).render(font_config=fonts)
        pages = list(invoice.pages)
        for html in parts.appendix_html:
            pages.extend(HTML(string=html).render(font_config=fonts).pages)
        return invoice.copy(pages).write_pdf()


def stored_pdf(invoice_id: int) -> InvoiceDocument | None:
    return db.session.scalar(sa.select(InvoiceDocument).where(
        InvoiceDocument.invoice_id == invoice_id, InvoiceDocument.kind == "pdf"))


def render_and_store(invoice_id: int) -> None:
    """Render and store ``invoice_id``'s PDF with no database transaction open while
    weasyprint works (a month of 10,000 lines renders for most of a minute): the HTML is
    built in one unit of work, the PDF rendered outside any, and stored in a second unit of
    work unless a concurrent run stored it first. Safe to run twice."""
    parts = _rendition_to_store(invoice_id)
    if parts is None:
        return
    content = rendition_to_pdf(parts)
    with unit_of_work():
        insert_unless_exists(InvoiceDocument, invoice_id=invoice_id, kind="pdf",
                             content=content, sha256=hashlib.sha256(content).hexdigest())


def _rendition_to_store(invoice_id: int) -> Rendition | None:
    """The rendition of an invoice with no stored PDF, in a unit of work of its own. Its
    rows are let go on return: weasyprint then works beside no 10,000 loaded lines (the
    collector would walk them over and over)."""
    with unit_of_work():
        invoice = db.session.get(Invoice, invoice_id)
        if invoice is None or stored_pdf(invoice_id) is not None:
            return None
        return rendition(invoice)


def ensure_pdf(invoice: Invoice) -> InvoiceDocument:
    """Render and store the PDF unless it already is; safe to run twice."""
    document = stored_pdf(invoice.id)
    if document is not None:
        return document
    content = rendition_to_pdf(rendition(invoice))
    document = InvoiceDocument(invoice_id=invoice.id, kind="pdf", content=content,
                               sha256=hashlib.sha256(content).hexdigest())
    db.session.add(document)
    db.session.flush()
    return document


def stored_or_rendered(invoice_id: int) -> tuple[bytes, str]:
    """(content, sha256) of the stored PDF, rendering it first if need be — for downloads.

    Call it with no transaction open: it opens its own, and none is open while weasyprint
    works (``render_and_store``)."""
    with unit_of_work():
        document = stored_pdf(invoice_id)
        found = (document.content, document.sha256) if document is not None else None
    if found is not None:
        return found
    render_and_store(invoice_id)
    with unit_of_work():
        document = stored_pdf(invoice_id)
        return document.content, document.sha256
