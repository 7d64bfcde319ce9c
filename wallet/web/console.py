"""Operator console for money: wallets, per-reseller statements, manual adjustments,
credit decisions, the trial balance, withdrawal approvals, unmatched bank credits and the
queue of provider payment issues."""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.core.db import unit_of_work
from reseller.core.directory import reseller_names
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.core.schemas import amount_from_text
from reseller.core.web.session import operator_required
from wallet import cards, issues, ledger, reports, services, statements, withdrawals
from wallet import credit as credit_decisions
from wallet.invoices import reconcile
from wallet.invoices import services as invoices
from wallet.invoices.invoicing import invoicing_settings
from wallet.models import Purchase, WalletChange
from wallet.money import Money

bp = Blueprint("console_wallet", __name__, url_prefix="/console/wallet")


def _actor() -> str:
    return f"staff:{g.user.id}"


def _money(field: str) -> Money:
    value = amount_from_text(request.form.get(field, ""))
    if value is None:
        raise DomainError(_("Enter an amount such as 100.00."))
    return Money.of(value)


def _names_of(rows) -> dict[int, str]:
    """Company names of the resellers ``rows`` belong to: one directory lookup per page."""
    return reseller_names({row.reseller_id for row in rows})


def _name(reseller_id: int) -> str | None:
    return reseller_names([reseller_id]).get(reseller_id)


def _done(message: str, target: str, **values):
    flash(message)
    return redirect(url_for(target, **values))


def _act(action, success: str, target: str, **values):
    try:
        with unit_of_work():
            action()
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
        return redirect(url_for(target, **values))
    return _done(success, target, **values)


@bp.get("")
@operator_required
def index():
    with unit_of_work():
        wallets = reports.wallets()
        return render_template(
            "billing/console_index.html", wallets=wallets, names=_names_of(wallets),
            pending=len(withdrawals.list_withdrawals(state="requested", limit=500)),
            unmatched=len(statements.unmatched_entries()), open_issues=issues.count_open())


@bp.get("/resellers/<int:reseller_id>")
@operator_required
def statement(reseller_id: int):
    before = request.args.get("before", type=int)
    with unit_of_work():
        wallet = services.get_wallet(reseller_id=reseller_id)
        rows, after = reports.transactions(reseller_id=reseller_id, before_id=before, limit=50)
        changes = db.session.scalars(sa.select(WalletChange).where(
            WalletChange.reseller_id == reseller_id).order_by(WalletChange.id.desc())).all()
        return render_template(
            "billing/console_statement.html", wallet=wallet, name=_name(reseller_id),
            transactions=rows, after=after, changes=changes, key=uuid.uuid4().hex,
            holds=services.active_holds(reseller_id=reseller_id),
            card=cards.active_card(reseller_id))


@bp.get("/resellers/<int:reseller_id>/purchases")
@operator_required
def purchases(reseller_id: int):
    before = request.args.get("before", type=int)
    with unit_of_work():
        services.get_wallet(reseller_id=reseller_id)  # 404 for an unknown reseller
        rows, after = services.purchases_page(reseller_id=reseller_id, before_id=before)
        return render_template(
            "billing/console_purchases.html", reseller_id=reseller_id,
            name=_name(reseller_id), purchases=rows, after=after,
            billing=invoices.purchase_billing([row.id for row in rows]))


@bp.post("/resellers/<int:reseller_id>/purchases/<int:purchase_id>/refund")
@operator_required
def refund(reseller_id: int, purchase_id: int):
    """Refund a purchase: the gross goes back to its source, billed on the next invoice."""
    def action():
        purchase = db.session.get(Purchase, purchase_id)
        if purchase is None or purchase.reseller_id != reseller_id:
            raise DomainError(_("No such purchase."))
        if purchase.refunded:
            raise DomainError(_("The purchase was refunded already."))
        services.refund_purchase(reference=purchase.reference,
                                 reason=request.form.get("reason", "")[:500], actor=_actor())
    return _act(action, _("Purchase refunded."), "console_wallet.purchases",
                reseller_id=reseller_id)


@bp.post("/resellers/<int:reseller_id>/adjust")
@operator_required
def adjust(reseller_id: int):
    def action():
        services.adjust_funds(reseller_id=reseller_id, amount=_money("amount"),
                              reason=request.form.get("reason", ""), actor=_actor(),
                              reference=f"console-{request.form.get('key') or uuid.uuid4().hex}")
    return _act(action, _("Adjustment recorded."), "console_wallet.statement",
                reseller_id=reseller_id)


@bp.post("/resellers/<int:reseller_id>/credit")
@operator_required
def credit(reseller_id: int):
    def action():
        credit_decisions.set_payment_mode(reseller_id=reseller_id,
                                  payment_mode=request.form.get("payment_mode", ""),
                                  credit_limit=_money("credit_limit"),
                                  note=request.form.get("note", ""), actor=_actor())
    return _act(action, _("Credit decision recorded."), "console_wallet.statement",
                reseller_id=reseller_id)


@bp.get("/ledger")
@operator_required
def trial_balance():
    with unit_of_work():
        rows = ledger.trial_balance()
        receivables = reconcile.receivables()
        return render_template("billing/console_ledger.html", rows=rows,
                               debits=sum((r[1] for r in rows), Decimal(0)),
                               credits=sum((r[2] for r in rows), Decimal(0)),
                               problems=ledger.verify(), receivables=receivables,
                               names=_names_of(receivables))


@bp.get("/withdrawals")
@operator_required
def pending_withdrawals():
    with unit_of_work():
        shown = withdrawals.list_withdrawals(limit=200)
        return render_template("billing/console_withdrawals.html", names=_names_of(shown),
                               withdrawals=shown)


@bp.post("/withdrawals/<int:withdrawal_id>/<any(approve, reject):decision>")
@operator_required
def decide_withdrawal(withdrawal_id: int, decision: str):
    note = request.form.get("note", "").strip() or None

    def action():
        if decision == "approve":
            withdrawals.approve_withdrawal(withdrawal_id=withdrawal_id, actor=_actor(), note=note)
        else:
            withdrawals.cancel_withdrawal(withdrawal_id=withdrawal_id, actor=_actor(),
                                          reject=True, note=note)
    return _act(action, _("Withdrawal approved and paid out.") if decision == "approve"
                else _("Withdrawal rejected."), "console_wallet.pending_withdrawals")


@bp.get("/bank")
@operator_required
def bank():
    with unit_of_work():
        # Every reseller: the allocation form chooses among them.
        return render_template("billing/console_bank.html", names=reseller_names(),
                               entries=statements.unmatched_entries())


@bp.post("/bank/import")
@operator_required
def bank_import():
    upload = request.files.get("statement")
    if upload is None or not upload.filename:
        flash(_("Choose a camt.054 or camt.053 file."), "error")
        return redirect(url_for("console_wallet.bank"))
    try:
        with unit_of_work():
            result = statements.import_statement(upload.read(),
                                                  settings=invoicing_settings())
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
        return redirect(url_for("console_wallet.bank"))
    return _done(_("Imported: %(matched)d matched (%(invoices)d of them paid invoices), "
                   "%(unmatched)d waiting, %(duplicates)d already imported.",
                   matched=result.matched, invoices=result.invoices,
                   unmatched=result.unmatched, duplicates=result.duplicates),
                 "console_wallet.bank")


@bp.post("/bank/<int:entry_id>/<any(allocate, ignore):decision>")
@operator_required
def bank_decide(entry_id: int, decision: str):
    note = request.form.get("note", "").strip()

    def action():
        if decision == "ignore":
            statements.ignore_entry(entry_id=entry_id, actor=_actor(), note=note)
            return
        try:
            reseller_id = int(request.form.get("reseller_id", ""))
        except ValueError:
            raise DomainError(_("Choose the reseller.")) from None
        statements.allocate_entry(entry_id=entry_id, reseller_id=reseller_id, actor=_actor(),
                                  note=note)
    return _act(action, _("Bank entry handled."), "console_wallet.bank")


@bp.get("/payment-issues")
@operator_required
def payment_issues():
    """Provider payments refused, taken back or disputed: open first, or by state/kind."""
    state = request.args.get("state", "open")
    kind = request.args.get("kind") or None
    with unit_of_work():
        rows, after = issues.list_issues(
            state=state if state in issues.STATES else None, kind=kind,
            reseller_id=request.args.get("reseller", type=int),
            before_id=request.args.get("before", type=int))
        return render_template("billing/console_payment_issues.html", issues=rows,
                               after=after, names=_names_of([r for r in rows if r.reseller_id]),
                               state=state, kind=kind, kinds=issues.KINDS)


@bp.post("/payment-issues/<int:issue_id>/<any(note, resolve, reopen):action>")
@operator_required
def payment_issue_action(issue_id: int, action: str):
    note = request.form.get("note", "")
    verb = {"note": issues.annotate_issue, "resolve": issues.resolve_issue,
            "reopen": issues.reopen_issue}[action]
    done = {"note": _("Note added."), "resolve": _("Issue resolved."),
            "reopen": _("Issue opened again.")}[action]
    state = request.args.get("state", "open")
    return _act(lambda: verb(issue_id=issue_id, note=note, actor=_actor()), done,
                "console_wallet.payment_issues", state=state)
