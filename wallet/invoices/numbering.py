"""Gap-free document numbers per series and year, and the payment references built on them.

The next number is taken under a row lock on the series, in the transaction that
inserts the document: a rollback returns the number, a commit uses it, so the series
never has gaps or repeats. Take the number last, just before the commit, to hold the
lock briefly.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from reseller.core.db import is_sqlite
from reseller.core.extensions import db
from wallet.invoices import references
from wallet.invoices.models import NumberSeries

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
# Printed prefix and reference-number lead digit per series (they never collide).
_PREFIX = {INVOICE_SERIES: "", CREDIT_NOTE_SERIES: "CN-"}
_REFERENCE_LEAD = {INVOICE_SERIES: "", CREDIT_NOTE_SERIES: "9"}


def next_number(series: str, year: int) -> int:
    """Lock the series row for ``year`` (creating it once) and return the next number."""
    insert = sqlite.insert if is_sqlite() else postgresql.insert
    db.session.execute(
        insert(NumberSeries).values(series=series, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["series", "year"]))
    stmt = (sa.select(NumberSeries)
            .where(NumberSeries.series == series, NumberSeries.year == year)
            .execution_options(populate_existing=True))
    if not is_sqlite():
        stmt = stmt.with_for_update()
    row = db.session.scalars(stmt).one()
    row.last_number += 1
    db.session.flush()
    return row.last_number


def format_number(series: str, year: int, sequence: int) -> str:
    return f"{_PREFIX[series]}{year:04d}-{sequence:06d}"


def payment_references(series: str, year: int, sequence: int) -> tuple[str, str]:
    """(Finnish reference number, RF creditor reference) unique to the document."""
    national = references.finnish_reference(f"{_REFERENCE_LEAD[series]}{year:04d}{sequence:06d}")
    return national, references.rf_reference(national)
