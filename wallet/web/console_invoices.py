"""Operator console for invoices: every reseller's invoices and credit notes, what is
owed and overdue, and credit notes (the only way to correct an issued invoice)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from reseller.core.clock import clock
from reseller.core.db import transactional, unit_of_work
from reseller.core.directory import reseller_names
from reseller.core.errors import DomainError
from reseller.core.jobs import enqueue
from reseller.core.pagination import paginate, parse_limit
from reseller.core.web.session import operator_required
from wallet.invoices import einvoice, pdf, reports, services
from wallet.invoices.invoicing import RENDER_JOB
from wallet.invoices.models import Invoice
from wallet.invoices.periods import Month, local_date

bp = Blueprint("console_invoices", __name__, url_prefix="/console/invoices")


@bp.get("")
@operator_required
@transactional
def index():
    today = local_date(clock.now())
    status = request.args.get("status") or None
    reseller_id = request.args.get("reseller", type=int)
    page = paginate(services.operator_query(today=today, status=status, reseller_id=reseller_id),
                    key=Invoice.id, cursor=request.args.get("cursor") or None,
                    limit=parse_limit(request.args.get("limit")), descending=True)
    return render_template("billing/console_invoices.html", page=page, today=today,
                           status=status if status in services.STATUSES else None,
                           statuses=services.STATUSES, reseller_id=reseller_id,
                           names=reseller_names(),  # every reseller: the filter's choices
                           receivables=services.receivables(today=today))


def _month() -> Month:
    """``?month=2026-10``, by default the last ended month."""
    raw = request.args.get("month") or ""
    try:
        return Month.parse(raw)
    except ValueError:
        return Month.containing(clock.now()).previous()


@bp.get("/reports")
@operator_required
@transactional
def reports_page():
    month = _month()
    return render_template("billing/console_invoice_reports.html", month=month,
                           vat=reports.vat_summary(month), ec=reports.ec_sales_list(month),
                           count=sum(1 for _ in reports.documents(month)))


@bp.get("/journal-<month>.csv")
@operator_required
@transactional
def journal(month: str):
    try:
        period = Month.parse(month)
    except ValueError:
        abort(404)
    return Response(reports.journal_csv(period), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="sales-journal-{period.key}.csv"'})


@bp.get("/<number>")
@operator_required
@transactional
def detail(number: str):
    invoice = services.invoice_by_number(number)
    return render_template("billing/console_invoice.html", invoice=invoice,
                           today=local_date(clock.now()),
                           name=reseller_names([invoice.reseller_id]).get(invoice.reseller_id),
                           notes=services.credit_notes_of(invoice),
                           has_pdf=pdf.stored_pdf(invoice.id) is not None)


@bp.get("/<number>.pdf")
@operator_required
def invoice_pdf(number: str):
    # No transaction stays open while a PDF not stored yet is rendered.
    with unit_of_work():
        invoice_id = services.invoice_by_number(number).id
    content, sha256 = pdf.stored_or_rendered(invoice_id)
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{number}.pdf"', "ETag": f'"{sha256}"'})


@bp.get("/<number>.xml")
@operator_required
@transactional
def invoice_ubl(number: str):
    invoice = services.invoice_by_number(number)
    return Response(einvoice.to_ubl(invoice), mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{invoice.number}.xml"'})


@bp.post("/<number>/credit")
@operator_required
def credit(number: str):
    """Issue a credit note for the whole invoice or the ticked lines; money goes back now."""
    back = redirect(url_for("console_invoices.detail", number=number))
    positions = None
    if request.form.get("scope") == "lines":
        try:
            positions = sorted({int(position) for position in request.form.getlist("line")})
        except ValueError:
            positions = []
        if not positions:
            flash(_("Tick the lines to credit, or credit the whole invoice."), "error")
            return back
    try:
        with unit_of_work():
            invoice = services.invoice_by_number(number)
            note = services.issue_credit_note(
                reseller_id=invoice.reseller_id, invoice_number=number,
                reason=request.form.get("reason", "")[:500], now=clock.now(),
                line_positions=positions)
            enqueue(RENDER_JOB, note.id)
            note_number = note.number
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
        return back
    flash(_("Credit note %(number)s issued; the money is back with the reseller.",
            number=note_number))
    return redirect(url_for("console_invoices.detail", number=note_number))
