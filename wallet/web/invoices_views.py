"""Client-area billing page: payment mode and tier, invoices with PDFs, billing details."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from reseller.core.clock import clock
from reseller.core.db import transactional, unit_of_work
from reseller.core.directory import reseller_profile
from reseller.core.errors import DomainError
from reseller.core.pagination import paginate, parse_limit
from reseller.core.permissions import Permission
from reseller.core.web.session import permission_required, user_can
from wallet import cards
from wallet.invoices import pdf, services, specification
from wallet.invoices.invoicing import billing_standing, invoicing_settings
from wallet.invoices.models import Invoice
from wallet.invoices.periods import Month, local_date
from wallet.payments import offered_methods
from wallet.topups import surcharge_for
from wallet.web.invoices_api import start_payment
from wallet.web.views import METHOD_LABELS

bp = Blueprint("invoices_client", __name__, url_prefix="/billing")


@bp.get("/invoices")
@permission_required(Permission.VIEW_BILLING)
def invoices():
    reseller = reseller_profile(g.user.reseller_id)
    page = paginate(services.invoices_query(reseller.id), key=Invoice.id,
                    cursor=request.args.get("cursor") or None,
                    limit=parse_limit(request.args.get("limit")), descending=True)
    now = clock.now()
    today = local_date(now)
    payment_mode, blocked = billing_standing(reseller.id)  # one statement for both
    card = cards.active_card(reseller.id)
    return render_template(
        "billing/invoices.html", reseller=reseller, page=page, today=today,
        payment_mode=payment_mode, card=card,
        # What the card pays next and its last automatic charge: read only with a card.
        next_charge=cards.next_charge(reseller.id, today) if card else None,
        last_autopay=cards.last_autopay(reseller.id) if card else None,
        card_surcharge=surcharge_for("card", current_app.config["PAYMENT_SURCHARGES"]).amount,
        settings=invoicing_settings(), next_run=Month.containing(now).next().first_day,
        blocked=blocked,
        can_pay=user_can(Permission.MANAGE_BILLING), pay_key=uuid.uuid4().hex,
        pay_methods=[(m, str(METHOD_LABELS[m])) for m in offered_methods(current_app.config)
                     if m != "bank_transfer"],
        card_offered="card" in offered_methods(current_app.config),
        operator=current_app.config["OPERATOR_NAME"])


@bp.get("/invoices/<number>.pdf")
@permission_required(Permission.VIEW_BILLING)
def invoice_pdf(number: str):
    # No transaction stays open while a PDF not stored yet is rendered.
    with unit_of_work():
        invoice_id = services.get_invoice(reseller_id=g.user.reseller_id, number=number).id
    content, sha256 = pdf.stored_or_rendered(invoice_id)
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{number}.pdf"', "ETag": f'"{sha256}"'})


@bp.get("/invoices/<number>.csv")
@permission_required(Permission.VIEW_BILLING)
@transactional
def invoice_csv(number: str):
    """The invoice's specification: every line (the PDF states them grouped)."""
    invoice = services.get_invoice(reseller_id=g.user.reseller_id, number=number)
    return Response(specification.specification_csv(invoice), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="{invoice.number}-specification.csv"'})


@bp.post("/invoices/<number>/pay")
@permission_required(Permission.MANAGE_BILLING)
def pay_invoice(number: str):
    """Start paying an open invoice by card, PayPal or online banking: off to checkout."""
    try:
        with unit_of_work():
            shown = start_payment(reseller_id=g.user.reseller_id, number=number,
                                  method=request.form.get("method", ""),
                                  key=f"page-{request.form.get('key') or uuid.uuid4().hex}")
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
        return redirect(url_for("invoices_client.invoices"))
    return redirect(shown["checkout_url"] or url_for("invoices_client.invoices"))
