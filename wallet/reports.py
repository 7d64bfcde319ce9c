"""Read-only views of the ledger: a reseller's transactions, wallets for the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.metrics import gauge
from wallet.models import Hold, LedgerEntry, LedgerTransfer, Wallet

_E = LedgerEntry.__table__
_T = LedgerTransfer.__table__


@dataclass(frozen=True)
class Transaction:
    id: int
    reference: str
    kind: str
    description: str
    amount: Decimal  # effect on the wallet balance: + adds, - takes
    created_at: datetime
    actor: str | None


def transactions(*, reseller_id: int, before_id: int | None = None, limit: int = 50,
                 kinds: list[str] | None = None, since: datetime | None = None,
                 until: datetime | None = None,
                 moves_balance: bool = False) -> tuple[list[Transaction], int | None]:
    """Newest first; returns the page and the id to continue before (or None).
    ``moves_balance`` leaves out transfers that change nothing in the balance (a hold only
    moves money from available to held: the holds table shows those)."""
    effect = -sa.func.sum(_E.c.amount)
    stmt = (sa.select(_T.c.id, _T.c.reference, _T.c.kind, _T.c.description, effect,
                      _T.c.created_at, _T.c.actor)
            .join(_E, _E.c.transfer_reference == _T.c.reference)
            .where(_E.c.reseller_id == reseller_id)
            .group_by(_T.c.id, _T.c.reference, _T.c.kind, _T.c.description, _T.c.created_at,
                      _T.c.actor)
            .order_by(_T.c.id.desc()).limit(limit + 1))
    if before_id is not None:
        stmt = stmt.where(_T.c.id < before_id)
    if kinds:
        stmt = stmt.where(_T.c.kind.in_(kinds))
    if since is not None:
        stmt = stmt.where(_T.c.created_at >= since)
    if until is not None:
        stmt = stmt.where(_T.c.created_at < until)
    if moves_balance:
        stmt = stmt.having(effect != 0)
    rows = [Transaction(row[0], row[1], row[2], row[3], Decimal(row[4] or 0), row[5], row[6])
            for row in db.session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def wallets() -> list[Wallet]:
    return list(db.session.scalars(sa.select(Wallet).order_by(Wallet.reseller_id)
                                   .execution_options(populate_existing=True)))


def entries_of(reference: str) -> list[LedgerEntry]:
    return list(db.session.scalars(sa.select(LedgerEntry)
                                   .where(LedgerEntry.transfer_reference == reference)
                                   .order_by(LedgerEntry.id)))


def hold_gauges() -> list:
    """Prometheus: active holds by age, and those kept past their expiry because their
    purchase is still open."""
    now = clock.now()
    bands = (("lt_1d", now - timedelta(days=1), now + timedelta(days=1)),
             ("1d_7d", now - timedelta(days=7), now - timedelta(days=1)),
             ("gt_7d", None, now - timedelta(days=7)))
    counts = []
    for band, since, until in bands:
        stmt = sa.select(sa.func.count()).select_from(Hold) \
            .where(Hold.state == "active", Hold.created_at < until)
        if since is not None:
            stmt = stmt.where(Hold.created_at >= since)
        counts.append(({"age": band}, db.session.scalar(stmt) or 0))
    kept = db.session.scalar(sa.select(sa.func.count()).select_from(Hold)
                             .where(Hold.state == "active", Hold.extensions > 0)) or 0
    return [gauge("tunnus_holds_active", "Active holds by age", counts, ["age"]),
            gauge("tunnus_holds_kept_past_expiry", "Holds kept because their purchase is "
                  "still open", [({}, kept)])]


def kept_holds(limit: int = 100) -> list[Hold]:
    """Active holds kept past their expiry because their purchase is still open."""
    return list(db.session.scalars(
        sa.select(Hold).where(Hold.state == "active", Hold.extensions > 0)
        .order_by(Hold.created_at).limit(limit)))
