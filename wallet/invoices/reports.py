"""What the operator's bookkeeping needs from the invoices of a month: every document as a
row (the sales journal), the VAT summary per category and rate, and the EC sales list
(net sales per buyer VAT ID that were reverse-charged).

A month here is the documents' issue dates in Helsinki (``Invoice.issue_date``); each row
also carries the supply period. Credit notes count negative, in the month they are issued.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

import sqlalchemy as sa

from reseller.core.extensions import db
from reseller.core.text import csv_cell
from wallet.invoices.models import ZERO, Invoice
from wallet.invoices.periods import Month

COLUMNS = ("number", "kind", "issue_date", "period_start", "period_end", "due_date",
           "corrects", "reseller_id", "buyer", "buyer_country", "buyer_vat_id",
           "vat_status", "currency", "net_total", "vat_total", "total", "status", "paid_at",
           "payment_method", "vat_breakdown")


def documents(month: Month) -> Iterator[Invoice]:
    return db.session.scalars(sa.select(Invoice).where(
        Invoice.issue_date >= month.first_day, Invoice.issue_date <= month.last_day)
        .order_by(Invoice.series, Invoice.sequence))


def _row(invoice: Invoice) -> dict[str, str]:
    buyer = invoice.buyer or {}
    return {
        "number": invoice.number, "kind": invoice.kind,
        "issue_date": invoice.issue_date.isoformat(),
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "corrects": invoice.corrects.number if invoice.corrects else "",
        "reseller_id": str(invoice.reseller_id), "buyer": buyer.get("name") or "",
        "buyer_country": buyer.get("country") or "", "buyer_vat_id": buyer.get("vat_id") or "",
        "vat_status": invoice.vat_status, "currency": invoice.currency,
        "net_total": f"{invoice.net_total:.2f}", "vat_total": f"{invoice.vat_total:.2f}",
        "total": f"{invoice.total:.2f}", "status": invoice.status,
        "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else "",
        "payment_method": invoice.payment_method or "",
        "vat_breakdown": "; ".join(f"{g['category']} {g['rate']}%: {g['net']} + {g['vat']}"
                                   for g in invoice.vat_breakdown),
    }


def journal_csv(month: Month) -> str:
    """The sales journal: one row per invoice and credit note issued in ``month``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for invoice in documents(month):  # buyer names are user data: no cell runs as a formula
        writer.writerow({key: csv_cell(value) for key, value in _row(invoice).items()})
    return out.getvalue()


def vat_summary(month: Month) -> list[dict[str, Decimal | str]]:
    """Net and VAT per (category, rate) over the month's documents (credit notes negative,
    as their amounts already are)."""
    groups: dict[tuple[str, Decimal], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for invoice in documents(month):
        for group in invoice.vat_breakdown:
            key = (group["category"], Decimal(group["rate"]))
            groups[key][0] += Decimal(group["net"])
            groups[key][1] += Decimal(group["vat"])
    return [{"category": category, "rate": rate, "net": net, "vat": vat}
            for (category, rate), (net, vat) in sorted(groups.items(),
                                                       key=lambda g: (-g[0][1], g[0][0]))]


def ec_sales_list(month: Month) -> list[dict[str, Decimal | str]]:
    """Reverse-charged net sales per buyer VAT ID (the recapitulative statement)."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for invoice in documents(month):
        if invoice.vat_status == "reverse_charge":
            buyer = invoice.buyer or {}
            totals[(buyer.get("country") or "", buyer.get("vat_id") or "")] += invoice.net_total
    return [{"country": country, "vat_id": vat_id, "net": net}
            for (country, vat_id), net in sorted(totals.items()) if net]
