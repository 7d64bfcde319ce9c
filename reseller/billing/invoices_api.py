"""``/api/v1/invoices``: the reseller's invoices and credit notes, their PDF and e-invoice."""

from __future__ import annotations

from flask import Blueprint, Response

from reseller.api.auth import current_reseller_id, require_scope
from reseller.api.helpers import list_args, page_body
from reseller.api.openapi import doc
from reseller.billing import invoices_schemas as schemas
from reseller.core.db import transactional
from reseller.core.pagination import paginate
from wallet.invoices import einvoice, pdf, services
from wallet.invoices.models import Invoice

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
     content_type="application/pdf")
@require_scope("billing:read")
@transactional
def invoice_pdf(number: str):
    invoice = services.get_invoice(reseller_id=current_reseller_id(), number=number)
    document = pdf.ensure_pdf(invoice)
    return Response(document.content, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{invoice.number}.pdf"',
        "ETag": f'"{document.sha256}"', "Cache-Control": "private, max-age=86400"})


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
