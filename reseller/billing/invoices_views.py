"""Client-area billing page: payment mode and tier, invoices with PDFs, billing details."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, render_template, request

from reseller.accounts.permissions import Permission
from reseller.billing.invoicing import invoicing_settings, is_blocked_for_overdue
from reseller.client.session import permission_required
from reseller.core.clock import clock
from reseller.core.db import transactional
from reseller.core.pagination import paginate, parse_limit
from wallet.invoices import pdf, services
from wallet.invoices.models import Invoice
from wallet.invoices.periods import Month, local_date

bp = Blueprint("invoices_client", __name__, url_prefix="/billing")


@bp.get("/invoices")
@permission_required(Permission.VIEW_BILLING)
def invoices():
    reseller = g.user.reseller
    page = paginate(services.invoices_query(reseller.id), key=Invoice.id,
                    cursor=request.args.get("cursor") or None,
                    limit=parse_limit(request.args.get("limit")), descending=True)
    now = clock.now()
    return render_template(
        "billing/invoices.html", reseller=reseller, page=page, today=local_date(now),
        settings=invoicing_settings(), next_run=Month.containing(now).next().first_day,
        blocked=is_blocked_for_overdue(reseller.id),
        operator=current_app.config["OPERATOR_NAME"])


@bp.get("/invoices/<number>.pdf")
@permission_required(Permission.VIEW_BILLING)
@transactional
def invoice_pdf(number: str):
    invoice = services.get_invoice(reseller_id=g.user.reseller_id, number=number)
    document = pdf.ensure_pdf(invoice)
    return Response(document.content, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{invoice.number}.pdf"',
        "ETag": f'"{document.sha256}"'})
