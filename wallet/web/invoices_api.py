"""``/api/v1/invoices``: the reseller's invoices and credit notes, their PDF and e-invoice."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from reseller.core.db import transactional, unit_of_work
from reseller.core.pagination import paginate
from reseller.core.web.auth import current_reseller_id, require_scope
from reseller.core.web.helpers import idempotency_key, json_body, list_args, page_body
from reseller.core.web.openapi import doc
from wallet import topups
from wallet.invoices import einvoice, pdf, services, specification
from wallet.invoices.models import Invoice
from wallet.models import TopUp
from wallet.payments import provider_for
from wallet.web import invoices_schemas as schemas
from wallet.web import present

bp = Blueprint("invoices_api", __name__, url_prefix="/invoices")

invoice_out = schemas.InvoiceOut()
detail_out = schemas.InvoiceDetailOut()
PAGE_QUERY = [
    {"name": "cursor", "schema": {"type": "string"}, "required": False},
    {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 200},
     "required": False},
]


@bp.get("")
@doc(summary="List invoices and credit notes, newest first", tags=["Invoices"],
     response=schemas.InvoiceListOut, query=PAGE_QUERY)
@require_scope("billing:read")
@transactional
def list_invoices():
    cursor, limit = list_args()
    page = paginate(services.invoices_query(current_reseller_id()), key=Invoice.id,
                    cursor=cursor, limit=limit, descending=True)
    return page_body(page, invoice_out.dump(page.items, many=True))


@bp.get("/<number>.pdf")
@doc(summary="The invoice PDF (stored once; every download is identical)", tags=["Invoices"],
     content_type="application/pdf",
     description="The invoice states its lines grouped by operation, zone (TLD), period "
                 "and unit price, with quantity and unit price; an appendix lists every "
                 "line (also as CSV: `GET /invoices/{number}.csv`).")
@require_scope("billing:read")
def invoice_pdf(number: str):
    # No transaction stays open while a PDF not stored yet is rendered.
    with unit_of_work():
        invoice_id = services.get_invoice(reseller_id=current_reseller_id(), number=number).id
    content, sha256 = pdf.stored_or_rendered(invoice_id)
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{number}.pdf"',
        "ETag": f'"{sha256}"', "Cache-Control": "private, max-age=86400"})


@bp.get("/<number>.csv")
@doc(summary="The invoice's specification: every line as CSV", tags=["Invoices"],
     content_type="text/csv",
     description="One row per invoice line (`invoice, line, date, kind, domain, zone, "
                 "operation, period_years, description, net, vat_category, vat_rate, vat, "
                 "currency`), in line order, UTF-8 with a header row. The PDF and the "
                 "e-invoice state these lines grouped; their amounts add up to the same "
                 "totals. A cell that would start a spreadsheet formula starts with `'`.")
@require_scope("billing:read")
@transactional
def invoice_csv(number: str):
    invoice = services.get_invoice(reseller_id=current_reseller_id(), number=number)
    return Response(specification.specification_csv(invoice), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="{invoice.number}-specification.csv"'})


@bp.get("/<number>.xml")
@doc(summary="The invoice as a Peppol BIS Billing 3.0 (UBL 2.1) e-invoice", tags=["Invoices"],
     content_type="application/xml")
@require_scope("billing:read")
@transactional
def invoice_ubl(number: str):
    invoice = services.get_invoice(reseller_id=current_reseller_id(), number=number)
    return Response(einvoice.to_ubl(invoice), mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{invoice.number}.xml"'})


@bp.get("/<number>")
@doc(summary="One invoice or credit note with its lines and VAT breakdown", tags=["Invoices"],
     response=schemas.InvoiceDetailOut)
@require_scope("billing:read")
@transactional
def get_invoice(number: str):
    invoice = services.get_invoice(reseller_id=current_reseller_id(), number=number)
    return detail_out.dump(invoice)


def payment_dict(payment: TopUp, invoice: Invoice) -> dict[str, Any]:
    data = {key: getattr(payment, key) for key in (
        "id", "state", "method", "currency", "amount", "surcharge", "total", "created_at",
        "settled_at")}
    data["invoice"] = invoice.number
    data["checkout_url"] = None
    if payment.state == "pending":
        data["checkout_url"] = present.checkout_url(payment,
                                                    description=f"Invoice {invoice.number}")
    return data


def start_payment(*, reseller_id: int, number: str, method: str, key: str) -> dict[str, Any]:
    config = current_app.config
    payment, invoice = topups.create_invoice_payment(
        reseller_id=reseller_id, invoice_number=number, method=method, idempotency_key=key,
        surcharges=config["PAYMENT_SURCHARGES"], provider=provider_for(method, config))
    return payment_dict(payment, invoice)


@bp.post("/<number>/payments")
@doc(summary="Pay an open invoice by card, PayPal or online banking", tags=["Invoices"],
     body=schemas.InvoicePaymentIn, response=schemas.InvoicePaymentOut, status=201,
     errors=(404, 409, 422),
     description="Returns the amount due, the method's surcharge, the total and a "
                 "`checkout_url`. The invoice is paid when the provider confirms the payment. "
                 "409 `invoice_not_payable` when the invoice is not open.")
@require_scope("billing:write")
@transactional
def pay_invoice(number: str):
    data = schemas.InvoicePaymentIn().load_or_raise(json_body())
    body = start_payment(reseller_id=current_reseller_id(), number=number,
                         method=data["method"], key=idempotency_key())
    return schemas.InvoicePaymentOut().dump(body), 201
