"""Issuing invoices and credit notes, settling them, reminders and late-payment interest.

Services take plain values (``wallet.invoices.invoicing`` passes the buyer as a ``Party``) and
flush; the caller's unit of work commits. An invoice is final when inserted: number,
references, lines and totals are never edited afterwards.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.events import record_event
from reseller.core.extensions import db
from wallet.invoices import booking, numbering, vat
from wallet.invoices.errors import (
    InvalidPaymentAmount,
    InvoiceNotFound,
    InvoiceNotPayable,
    NothingToCredit,
)
from wallet.invoices.lines import LineIn
from wallet.invoices.models import ZERO, Invoice, InvoiceLine
from wallet.invoices.periods import Month, local_date
from wallet.invoices.settings import InvoicingSettings, Party
from wallet.models import Purchase, Wallet

log = logging.getLogger("tunnus.wallet")
CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    """The one rounding rule for invoice money: half up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_breakdown(lines: list[LineIn]) -> list[dict[str, str]]:
    """Net and VAT per (category, rate), VAT rounded once per rate on the invoice total."""
    groups: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        groups[(line.vat_category, line.vat_rate.normalize())] += line.net
    return [{"category": category, "rate": str(rate), "net": str(to_cents(net)),
             "vat": str(to_cents(net * rate / 100))}
            for (category, rate), net in sorted(groups.items(), key=lambda g: (-g[0][1], g[0][0]))]


def _totals(breakdown: list[dict[str, str]]) -> tuple[Decimal, Decimal]:
    net = sum((Decimal(group["net"]) for group in breakdown), ZERO)
    tax = sum((Decimal(group["vat"]) for group in breakdown), ZERO)
    return net, tax


def _line_rows(lines: list[LineIn]) -> list[InvoiceLine]:
    return [InvoiceLine(position=position, kind=line.kind, source_key=line.source_key,
                        description=line.description[:300], domain=line.domain,
                        operation=line.operation, period_years=line.period_years,
                        occurred_on=line.occurred_on, net=to_cents(line.net),
                        vat_category=line.vat_category, vat_rate=line.vat_rate,
                        vat=to_cents(line.net * line.vat_rate / 100))
            for position, line in enumerate(lines, start=1)]


def _interest_lines(reseller_id: int, vat_status: str,
                    on: date) -> tuple[list[LineIn], list[Invoice]]:
    """Late-payment interest owed on earlier invoices, not yet charged on any invoice.

    Interest is no consideration for a supply, so it carries no VAT: category O on an
    outside-scope invoice, otherwise E (Peppol allows no O group beside others).
    """
    owing = list(db.session.scalars(
        sa.select(Invoice).where(Invoice.reseller_id == reseller_id,
                                 Invoice.interest_amount > 0,
                                 Invoice.interest_charged_on_id.is_(None))
        .order_by(Invoice.id)))
    category = "O" if vat_status == vat.OUTSIDE_SCOPE else "E"
    lines = [LineIn(kind="interest", source_key=f"interest:{source.number}",
                    description=f"interest:{source.number}", occurred_on=on,
                    net=source.interest_amount, vat_rate=Decimal("0"), vat_category=category)
             for source in owing]
    return lines, owing


def find_monthly_invoice(*, reseller_id: int, month: Month) -> Invoice | None:
    return db.session.scalar(sa.select(Invoice).where(
        Invoice.reseller_id == reseller_id, Invoice.period_key == month.key))


def issue_monthly_invoice(*, reseller_id: int, month: Month, buyer: Party, vat_status: str,
                          language: str, payment_mode: str, lines: list[LineIn],
                          settings: InvoicingSettings, now: datetime) -> Invoice | None:
    """Issue the invoice of ``month`` for everything in ``lines`` (plus interest owed).

    Returns the existing invoice if the month was already invoiced, and None when there
    is nothing to bill. The unique (reseller, month) constraint makes a second invoice
    impossible even if two runs race.
    """
    existing = find_monthly_invoice(reseller_id=reseller_id, month=month)
    if existing is not None or not lines:
        return existing
    issue_date = local_date(now)
    interest, owing = _interest_lines(reseller_id, vat_status, issue_date)
    lines = [*lines, *interest]
    invoice = _new_document(
        series=numbering.INVOICE_SERIES, kind="invoice", reseller_id=reseller_id,
        lines=lines, buyer=buyer, seller=settings.seller, language=language,
        payment_mode=payment_mode, vat_status=vat_status, now=now,
        period_start=month.first_day, period_end=month.last_day, period_key=month.key,
        due_date=issue_date + timedelta(settings.payment_terms_days))
    # Still in the issuing transaction: what the ledger says is paid decides the status.
    settlement = booking.book_invoice(invoice, lines)
    invoice.paid_amount = min(max(settlement.paid, ZERO), max(invoice.total, ZERO))
    if settlement.paid > 0:
        invoice.payment_method = "prepaid_funds"
    if settlement.due <= 0 or invoice.total <= 0:
        invoice.status, invoice.paid_at = "paid", now
        invoice.paid_amount = max(invoice.total, ZERO)
        if payment_mode == "prepaid":
            invoice.due_date = issue_date  # nothing to wait for: paid from prepaid funds
    for source in owing:
        source.interest_charged_on_id = invoice.id
    db.session.flush()
    record_event(reseller_id=reseller_id, type="invoice.issued", data=summary(invoice),
                 dedupe_key=f"invoice.issued:{invoice.number}")
    if invoice.status == "paid":
        _record_paid(invoice)
    return invoice


def _record_paid(invoice: Invoice) -> None:
    record_event(reseller_id=invoice.reseller_id, type="invoice.paid",
                 data={**summary(invoice), "paid_at": invoice.paid_at.isoformat(),
                       "paid_amount": str(invoice.paid_amount),
                       "payment_method": invoice.payment_method},
                 dedupe_key=f"invoice.paid:{invoice.number}")


def _new_document(*, series: str, kind: str, reseller_id: int, lines: list[LineIn],
                  buyer: Party, seller: Party, language: str, payment_mode: str,
                  vat_status: str, now: datetime, period_start: date, period_end: date,
                  period_key: str | None, due_date: date, corrects: Invoice | None = None,
                  reason: str | None = None, breakdown: list[dict] | None = None) -> Invoice:
    breakdown = breakdown if breakdown is not None else vat_breakdown(lines)
    net, tax = _totals(breakdown)
    issue_date = local_date(now)
    rows = _line_rows(lines)
    # Everything is computed; take the number last so the series lock is held briefly.
    sequence = numbering.next_number(series, issue_date.year)
    national, rf = numbering.payment_references(series, issue_date.year, sequence)
    invoice = Invoice(
        reseller_id=reseller_id, kind=kind, series=series, year=issue_date.year,
        sequence=sequence, number=numbering.format_number(series, issue_date.year, sequence),
        period_key=period_key, period_start=period_start, period_end=period_end,
        issue_date=issue_date, issued_at=now, due_date=due_date, currency="EUR",
        language=language, payment_mode=payment_mode, vat_status=vat_status,
        net_total=net, vat_total=tax, total=net + tax, vat_breakdown=breakdown,
        status="open", paid_amount=ZERO, credited_total=ZERO, reference=national,
        rf_reference=rf, seller=seller.as_dict(), buyer=buyer.as_dict(),
        corrects_id=corrects.id if corrects else None, reason=reason, lines=rows)
    db.session.add(invoice)
    db.session.flush()
    return invoice


def summary(invoice: Invoice) -> dict[str, str | None]:
    """What events carry about an invoice (amounts as strings)."""
    return {"number": invoice.number, "kind": invoice.kind,
            "date": invoice.issue_date.isoformat(), "due_date": invoice.due_date.isoformat(),
            "currency": invoice.currency, "total": str(invoice.total),
            "status": invoice.status, "reference": invoice.reference,
            "rf_reference": invoice.rf_reference}


# --- reading -------------------------------------------------------------------------

def get_invoice(*, reseller_id: int, number: str) -> Invoice:
    """The reseller's invoice or credit note by number; another reseller's is not found."""
    invoice = db.session.scalar(sa.select(Invoice).where(
        Invoice.reseller_id == reseller_id, Invoice.number == number))
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


def find_invoice_by_reference(reference: str) -> Invoice | None:
    """The invoice a bank transfer's reference (national or RF) points at, if any."""
    compact = "".join(reference.split()).upper()
    if compact.startswith("RF"):
        return db.session.scalar(sa.select(Invoice).where(Invoice.rf_reference == compact))
    return db.session.scalar(sa.select(Invoice).where(Invoice.reference == compact.lstrip("0")))


def invoices_query(reseller_id: int) -> sa.Select:
    return sa.select(Invoice).where(Invoice.reseller_id == reseller_id)


# --- the operator's view: every reseller's documents ---------------------------------

STATUSES = ("open", "overdue", "paid", "credited")
_DUE = Invoice.total - Invoice.credited_total - Invoice.paid_amount


def invoice_by_number(number: str) -> Invoice:
    """Any reseller's invoice or credit note (operator only)."""
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.number == number))
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


def _status_filter(status: str, today: date) -> sa.ColumnElement[bool]:
    if status == "open":
        return sa.and_(Invoice.status == "open", Invoice.due_date >= today)
    if status == "overdue":
        return sa.and_(Invoice.status == "open", Invoice.due_date < today)
    return Invoice.status == status


def operator_query(*, today: date, status: str | None = None,
                   reseller_id: int | None = None) -> sa.Select:
    """Every reseller's documents, filtered by shown status (see ``Invoice.status_on``)."""
    stmt = sa.select(Invoice)
    if status in STATUSES:
        stmt = stmt.where(_status_filter(status, today))
    if reseller_id is not None:
        stmt = stmt.where(Invoice.reseller_id == reseller_id)
    return stmt


def receivables(*, today: date) -> dict[str, tuple[int, Decimal]]:
    """(count, amount due) of open invoices not yet due and of overdue ones."""
    result = {}
    for status in ("open", "overdue"):
        count, due = db.session.execute(
            sa.select(sa.func.count(Invoice.id), sa.func.coalesce(sa.func.sum(_DUE), 0))
            .where(Invoice.kind == "invoice", _status_filter(status, today))).one()
        result[status] = (count, to_cents(Decimal(str(due))))
    return result


def purchase_billing(purchase_ids: list[int]) -> dict[int, dict[str, str | None]]:
    """For each purchase: the invoice that billed it and the credit note that credited it."""
    keys = {f"purchase:{pid}": pid for pid in purchase_ids}
    keys.update({f"credit:purchase:{pid}": pid for pid in purchase_ids})
    found: dict[int, dict[str, str | None]] = {pid: {"invoice": None, "credit_note": None}
                                                for pid in purchase_ids}
    rows = db.session.execute(
        sa.select(InvoiceLine.source_key, Invoice.number)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.source_key.in_(list(keys))))
    for key, number in rows:
        found[keys[key]]["credit_note" if key.startswith("credit:") else "invoice"] = number
    return found


def credit_notes_of(invoice: Invoice) -> list[Invoice]:
    return list(db.session.scalars(sa.select(Invoice).where(
        Invoice.corrects_id == invoice.id).order_by(Invoice.id)))


# --- settlement ----------------------------------------------------------------------

def _lock_invoice(number: str) -> Invoice:
    stmt = (sa.select(Invoice).where(Invoice.number == number)
            .execution_options(populate_existing=True))
    if db.engine.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    invoice = db.session.scalar(stmt)
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


def late_interest(*, amount: Decimal, due_date: date, paid_on: date,
                  settings: InvoicingSettings) -> Decimal:
    """Interest per the Interest Act (korkolaki 4 §): reference rate + 8 pp, actual/365.

    The reference rate is the one in force on the first day of the half-year the
    payment fell due in.
    """
    days = (paid_on - due_date).days
    if days <= 0 or amount <= 0:
        return ZERO
    half_year = date(due_date.year, 1 if due_date.month <= 6 else 7, 1)
    if not any(start == half_year for start, _ in settings.reference_rates.entries):
        log.warning("LATE_INTEREST_REFERENCE_RATES has no reference rate for the half-year "
                    "from %s: late-payment interest uses the latest earlier one (%s %%) "
                    "until the operator adds it", half_year.isoformat(),
                    settings.reference_rates.on(half_year))
    rate = settings.reference_rates.on(half_year) + Decimal(settings.late_interest_margin)
    return to_cents(amount * rate / 100 * days / 365)


def mark_invoice_paid(*, invoice_number: str, amount: Decimal, paid_at: datetime,
                      settings: InvoicingSettings, method: str = "bank_transfer") -> Invoice:
    """Record a payment on an open invoice (bank transfer, card, PayPal).

    Partial payments accumulate; the invoice is paid once they cover what is due. Paying
    after the due date books late-payment interest, charged on the next invoice.
    """
    if amount <= 0:
        raise InvalidPaymentAmount()
    invoice = _lock_invoice(invoice_number)
    if invoice.kind != "invoice" or invoice.status != "open":
        raise InvoiceNotPayable(number=invoice.number, invoice_status=invoice.status)
    due_before = invoice.amount_due
    invoice.paid_amount += amount
    invoice.payment_method = method
    if invoice.paid_amount >= invoice.total - invoice.credited_total:
        invoice.status, invoice.paid_at = "paid", paid_at
        invoice.interest_amount = late_interest(
            amount=due_before, due_date=invoice.due_date, paid_on=local_date(paid_at),
            settings=settings)
    db.session.flush()
    if invoice.status == "paid":
        _record_paid(invoice)
    return invoice


def reopen_after_reversal(*, invoice_id: int, amount: Decimal) -> str:
    """A payment of ``amount`` on the invoice was taken back (returned, refunded, charged
    back): it no longer counts, and a paid invoice it had settled is open again.

    Late-payment interest computed at settlement is dropped unless another invoice has
    charged it already; it is computed afresh when the invoice is paid again.
    """
    invoice = _lock_invoice(db.session.get(Invoice, invoice_id).number)
    invoice.paid_amount = max(invoice.paid_amount - amount, ZERO)
    if invoice.status == "paid" and invoice.paid_amount < invoice.total - invoice.credited_total:
        invoice.status, invoice.paid_at = "open", None
        if invoice.interest_charged_on_id is None:
            invoice.interest_amount = ZERO
    db.session.flush()
    return invoice.number


def reapply_after_reinstatement(*, invoice_id: int, amount: Decimal) -> None:
    """A reversed payment came back (a chargeback won): it counts again on the invoice."""
    invoice = _lock_invoice(db.session.get(Invoice, invoice_id).number)
    invoice.paid_amount += amount
    if invoice.status == "open" and invoice.paid_amount >= invoice.total - invoice.credited_total:
        invoice.status, invoice.paid_at = "paid", clock.now()
    db.session.flush()


def pay_by_reference(*, reference: str, amount: Decimal, paid_at: datetime,
                     settings: InvoicingSettings, method: str = "bank_transfer") -> Invoice | None:
    """For the bank-statement import: pay the invoice a transfer's reference points at.

    Returns None when the reference is no invoice's (e.g. a wallet top-up reference), so
    the caller can try its other matches.
    """
    invoice = find_invoice_by_reference(reference)
    if invoice is None or invoice.kind != "invoice":
        return None
    return mark_invoice_paid(invoice_number=invoice.number, amount=amount, paid_at=paid_at,
                             settings=settings, method=method)


def send_overdue_reminders(*, today: date, settings: InvoicingSettings) -> list[Invoice]:
    """Record ``invoice.overdue`` once per reminder step (+7, +21 days by default)."""
    first = min(settings.reminder_days, default=None)
    if first is None:
        return []
    overdue = db.session.scalars(sa.select(Invoice).where(
        Invoice.kind == "invoice", Invoice.status == "open",
        Invoice.due_date <= today - timedelta(days=first),
        Invoice.reminders_sent < len(settings.reminder_days)).order_by(Invoice.id))
    reminded = []
    for invoice in overdue:
        days = (today - invoice.due_date).days
        step = sum(1 for threshold in settings.reminder_days if days >= threshold)
        if step <= invoice.reminders_sent:
            continue
        invoice.reminders_sent = step
        record_event(reseller_id=invoice.reseller_id, type="invoice.overdue",
                     data={**summary(invoice), "status": "overdue", "days_overdue": days,
                           "reminder": step, "amount_due": str(invoice.amount_due)},
                     dedupe_key=f"invoice.overdue:{invoice.number}:{step}")
        reminded.append(invoice)
    db.session.flush()
    return reminded


def _overdue(reseller_id: Any, limit: Any) -> sa.Exists:
    """An open invoice of the reseller due before ``limit`` (values or bound parameters)."""
    return sa.exists().where(Invoice.reseller_id == reseller_id, Invoice.kind == "invoice",
                             Invoice.status == "open", Invoice.due_date < limit)


def is_blocked_for_overdue(*, reseller_id: int, today: date,
                           settings: InvoicingSettings) -> bool:
    """True when the operator blocks orders and an invoice is overdue past the limit."""
    if not settings.block_overdue:
        return False
    limit = today - timedelta(days=settings.block_overdue_days)
    return db.session.scalar(_OVERDUE, {"reseller_id": reseller_id, "limit": limit}) or False


# Built once: every order asks (see BUILT ONCE in reseller.core.db)
_OVERDUE = sa.select(_overdue(sa.bindparam("reseller_id"), sa.bindparam("limit")))


def billing_standing(*, reseller_id: int, today: date,
                     settings: InvoicingSettings) -> tuple[str, bool]:
    """(payment mode, orders blocked for an overdue invoice) in one statement: the
    billing page's, and every new order's. A reseller without a wallet yet is prepaid."""
    # No block configured: an invoice due before the first date there is never matches.
    limit = today - timedelta(days=settings.block_overdue_days) if settings.block_overdue \
        else date.min
    row = db.session.execute(_STANDING, {"reseller_id": reseller_id, "limit": limit}).one()
    return row[0] or "prepaid", bool(row[1])


# Built once: every order asks (see BUILT ONCE in reseller.core.db)
_STANDING = sa.select(
    sa.select(Wallet.payment_mode).where(Wallet.reseller_id == sa.bindparam("reseller_id"))
    .scalar_subquery(),
    _overdue(sa.bindparam("reseller_id"), sa.bindparam("limit")))


# --- credit notes --------------------------------------------------------------------

def _creditable(original: Invoice, line_positions: list[int] | None) -> list[InvoiceLine]:
    """The lines to credit (all for None), refusing any credited or refunded since.

    A partial credit takes only lines that charged something; a whole credit mirrors
    every line, refunds included, so the invoice and its credit note cancel exactly.
    """
    chosen = [line for line in original.lines
              if line_positions is None or line.position in line_positions]
    if line_positions is not None and len(chosen) != len(set(line_positions)):
        raise NothingToCredit(_l("No such line on this invoice."))
    credited = set(db.session.scalars(sa.select(InvoiceLine.source_key).where(
        InvoiceLine.source_key.in_([f"credit:{line.source_key}" for line in chosen
                                    if line.source_key]))))
    # Lock the purchases (refund_purchase locks them too) so a refund cannot slip in.
    purchases = sa.select(Purchase.id, Purchase.refunded).where(Purchase.id.in_(
        [int(line.source_key.split(":")[1]) for line in chosen
         if (line.source_key or "").startswith("purchase:")]))
    if db.engine.dialect.name != "sqlite":
        purchases = purchases.with_for_update()
    refunded = {f"purchase:{purchase_id}"
                for purchase_id, is_refunded in db.session.execute(purchases) if is_refunded}
    for line in chosen:
        if f"credit:{line.source_key}" in credited:
            raise NothingToCredit(_l("Line %(position)s is already credited.",
                                     position=line.position))
        if line.source_key in refunded:
            raise NothingToCredit(_l("Line %(position)s was refunded already; the refund "
                                     "is on a later invoice.", position=line.position))
        if line_positions is not None and line.net <= 0:
            raise NothingToCredit(_l("Line %(position)s is a refund or credit itself.",
                                     position=line.position))
    if not chosen or (line_positions is None and original.total <= 0):
        raise NothingToCredit()
    return chosen


def issue_credit_note(*, reseller_id: int, invoice_number: str, reason: str,
                      now: datetime, line_positions: list[int] | None = None) -> Invoice:
    """Credit the whole invoice (or the given lines); the invoice itself stays as issued.

    The money goes back at once (``booking.book_credit_note``): off the amount still due
    first, the rest to the reseller's funds. Each line can be credited once; a line whose
    purchase was refunded since cannot be credited again.
    """
    if not reason.strip():
        raise NothingToCredit(_l("A credit note needs a reason."))
    original = get_invoice(reseller_id=reseller_id, number=invoice_number)
    original = _lock_invoice(original.number)
    if original.kind != "invoice" or original.status == "credited":
        raise NothingToCredit()
    whole = line_positions is None or set(line_positions) >= {
        line.position for line in original.lines}
    if whole and original.credited_total > 0:
        raise NothingToCredit(_l("Part of the invoice is already credited; credit lines "
                                 "instead."))
    chosen = _creditable(original, None if whole else line_positions)
    lines = [LineIn(kind="credit", source_key=f"credit:{line.source_key}"
                    if line.source_key else None, description=line.description,
                    occurred_on=line.occurred_on, net=-line.net, vat_rate=line.vat_rate,
                    vat_category=line.vat_category, domain=line.domain,
                    operation=line.operation, period_years=line.period_years)
             for line in chosen]
    # A whole credit mirrors the invoice's own breakdown, so the two cancel to the cent.
    breakdown = ([{**group, "net": str(-Decimal(group["net"])), "vat": str(-Decimal(group["vat"]))}
                  for group in original.vat_breakdown] if whole else None)
    due_before = original.amount_due
    note = _new_document(
        series=numbering.CREDIT_NOTE_SERIES, kind="credit_note", reseller_id=reseller_id,
        lines=lines, buyer=Party(**original.buyer), seller=Party(**original.seller),
        language=original.language, payment_mode=original.payment_mode,
        vat_status=original.vat_status, now=now, period_start=original.period_start,
        period_end=original.period_end, period_key=None, due_date=local_date(now),
        corrects=original, reason=reason.strip(), breakdown=breakdown)
    note.status, note.paid_at = "paid", now
    original.credited_total += -note.total
    booking.book_credit_note(note, original, due_before=due_before)
    settled = False
    if original.credited_total >= original.total:
        original.status = "credited"
    elif original.status == "open" and original.amount_due == 0:
        original.status, original.paid_at, settled = "paid", now, True  # credit covered it
    db.session.flush()
    record_event(reseller_id=reseller_id, type="invoice.credited",
                 data={**summary(note), "corrects": original.number},
                 dedupe_key=f"invoice.credited:{note.number}")
    if settled:
        _record_paid(original)
    return note
