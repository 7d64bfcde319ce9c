"""The domains' dashboard panels: names expiring within 30 and 60 days (each with its
renewal price and a one-click renewal) and recent orders with the failures among them.

Each panel is one statement however large the portfolio, plus the renewal prices of the
names shown (read per TLD at once). The registry is asked only about names whose last
order was premium, and never inside an open transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from reseller.catalog import services as catalog
from reseller.catalog.models import rules_for
from reseller.core.clock import clock
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.domains import orders, services
from reseller.domains.models import Domain, Order

SHOWN = 10
PRICED_KINDS = ("register", "renew", "transfer")  # orders whose price says "premium"


class Shown(NamedTuple):
    """What the panel shows of a domain (plain values: they outlive the transaction)."""
    name: str
    unicode_name: str
    tld: str
    expires_at: datetime
    auto_renew: bool


def expiring(reseller_id: int) -> dict[str, Any]:
    """The ``SHOWN`` names expiring first within 60 days, and how many expire within 30
    and within 60 days. One statement: the rows by the account's expiry index, the counts
    by a range of the same index (index-only). Counting with a window over the rows
    instead made the database read every row expiring within 60 days from the table,
    15,000 at 100,000 domains: the dashboard took 66 ms there against 25 ms at 1,000."""
    now = clock.now()
    soon_30, soon_60 = now + timedelta(days=30), now + timedelta(days=60)
    # Whether the name's last completed register, renew or transfer was premium (then
    # the registry is asked for its renewal fee): read for the rows shown only.
    last_premium = (sa.select(Order.premium)
                    .where(Order.reseller_id == reseller_id, Order.domain_name == Domain.name,
                           Order.kind.in_(PRICED_KINDS), Order.state == "completed")
                    .order_by(Order.id.desc()).limit(1).scalar_subquery())
    within_60 = services.list_domains(reseller_id=reseller_id, status="active",
                                      expires_before=soon_60)
    counts = within_60.with_only_columns(
        sa.func.count(sa.case((Domain.expires_at <= soon_30, 1))).label("count_30"),
        sa.func.count().label("count_60")).subquery("counts")
    found = db.session.execute(
        within_60.with_only_columns(Domain.name, Domain.unicode_name, Domain.tld,
                                    Domain.expires_at, Domain.auto_renew, last_premium,
                                    counts.c.count_30, counts.c.count_60)
        .join(counts, sa.true())
        .order_by(Domain.expires_at, Domain.id).limit(SHOWN)).all()
    soon = [Shown(*row[:5]) for row in found]
    prices = _renewal_prices(reseller_id, soon, premium=[row[0] for row in found if row[5]])
    rows = [{"domain": domain, "price": prices.get(domain.name, (None, False))[0],
             "premium": prices.get(domain.name, (None, False))[1],
             "within_30": domain.expires_at <= soon_30, "key": str(uuid.uuid4())}
            for domain in soon]
    return {"expiring": rows,  # the counts are the portfolio's, not the rows shown
            "count_30": found[0][6] if found else 0, "count_60": found[0][7] if found else 0}


def _renewal_prices(reseller_id: int, soon: list[Shown],
                    premium: list[str]) -> dict[str, tuple[Any, bool]]:
    """``{name: (quote, premium)}`` of a one-year renewal: the list prices of the TLDs shown
    in one go; the registry's fee only for a name its last order found premium."""
    tlds = {domain.tld for domain in soon if rules_for(domain.tld).offers("renew")}
    quotes = catalog.quote_many(reseller_id=reseller_id, tlds=tlds, operation="renew") \
        if tlds else {}
    prices = {domain.name: (quote, False) for domain in soon
              if not isinstance(quote := quotes.get(domain.tld), (DomainError, type(None)))}
    for name in premium:  # quote_order ends the reads before it asks the registry
        try:
            prices[name] = orders.quote_order(reseller_id=reseller_id, name=name,
                                              operation="renew")
        except DomainError:
            prices.pop(name, None)
    return prices


def recent_orders(reseller_id: int) -> dict[str, Any]:
    """The five newest orders and the five newest failed in 30 days, with how many are
    in progress and how many failed: one statement."""
    since = clock.now() - timedelta(days=30)
    mine = orders.list_orders(reseller_id=reseller_id).correlate(None)  # not the outer row
    failed_lately = sa.and_(Order.state == "failed", Order.created_at >= since)
    recent_ids = mine.with_only_columns(Order.id).order_by(Order.id.desc()).limit(5)
    failed_ids = mine.with_only_columns(Order.id).where(failed_lately) \
        .order_by(Order.id.desc()).limit(5)
    waiting = mine.with_only_columns(sa.func.count()).where(
        Order.state.in_(("pending", "held"))).scalar_subquery()
    failures = mine.with_only_columns(sa.func.count()).where(failed_lately).scalar_subquery()
    listed = (recent_ids.subquery(), failed_ids.subquery())  # SQLite: no LIMIT in a UNION's arm
    # The ids of both lists as one set: ``id IN (a) OR id IN (b)`` cannot be read by the
    # primary key, and PostgreSQL filtered every order of the table through it (18 ms at
    # 100,000 orders); ``id IN (a UNION b)`` reads the ten rows by their key.
    found = db.session.execute(
        sa.select(Order, waiting, failures)
        .where(Order.reseller_id == reseller_id,
               Order.id.in_(sa.union(*(sa.select(ids.c.id) for ids in listed))))
        .order_by(Order.id.desc())).all()
    shown = [row[0] for row in found]
    return {"recent": shown[:5],
            "failed": [o for o in shown if o.state == "failed" and o.created_at >= since][:5],
            "waiting": found[0][1] if found else 0, "failed_count": found[0][2] if found else 0}
