"""The invoice's full specification as CSV: every stored line, one row each.

The invoice states its lines grouped (``grouping``); this is where each domain name, date
and amount is listed — the PDF's appendix says the same. Cells hold user data (domain
names, descriptions), so none may run as a spreadsheet formula (``csv_cell``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import sqlalchemy as sa

from reseller.core.extensions import db
from reseller.core.text import csv_cell
from wallet.invoices.grouping import zone_of
from wallet.invoices.models import Invoice, InvoiceLine

COLUMNS = ["invoice", "line", "date", "kind", "domain", "zone", "operation", "period_years",
           "description", "net", "vat_category", "vat_rate", "vat", "currency"]
BATCH = 2000


def _rows(invoice: Invoice) -> Iterator[dict[str, object]]:
    """The lines in position order, read in batches (a month may hold 10,000)."""
    after = 0
    while True:
        batch = db.session.execute(
            sa.select(InvoiceLine.__table__).where(InvoiceLine.invoice_id == invoice.id,
                                                   InvoiceLine.position > after)
            .order_by(InvoiceLine.position).limit(BATCH)).all()
        for line in batch:
            yield {"invoice": invoice.number, "line": line.position,
                   "date": line.occurred_on.isoformat(), "kind": line.kind,
                   "domain": line.domain, "zone": zone_of(line.domain),
                   "operation": line.operation, "period_years": line.period_years,
                   "description": line.description, "net": line.net,
                   "vat_category": line.vat_category, "vat_rate": line.vat_rate.normalize(),
                   "vat": line.vat, "currency": invoice.currency}
        if len(batch) < BATCH:
            return
        after = batch[-1].position


def specification_csv(invoice: Invoice) -> str:
    """Every line of ``invoice`` (a header row first), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in _rows(invoice):
        writer.writerow({key: csv_cell("" if value is None else value)
                         for key, value in row.items()})
    return out.getvalue()
