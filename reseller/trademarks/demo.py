"""Demo data: the operator's trademark prices, two protected marks of Demo Agency Oy's
customers and a day of matches (yesterday's and today's sandbox zone files diffed by the
watch's own code). Idempotent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.domains.models import Contact
from reseller.trademarks import services, sources, watch
from reseller.trademarks.models import Trademark, TrademarkMatch, TrademarkPrice, WatchCursor

DEMO_PRICES = {("month", "prepaid"): "9.00", ("month", "postpaid"): "10.00",
               ("year", "prepaid"): "90.00", ("year", "postpaid"): "100.00"}
DEMO_MARKS = {"Demo Agency Oy": [
    {"mark": "NordName", "holder": "NordName Oy", "registration_number": "018123456",
     "jurisdiction": "EUIPO", "languages": ["fi"], "billing_period": "year",
     "variants": ["nordnamn"]},
    {"mark": "Kotimaa", "holder": "Kotimaa Oy", "registration_number": "T202400123",
     "jurisdiction": "PRH", "languages": ["fi", "sv"], "billing_period": "month"},
]}


def install_prices() -> None:
    """The demo's opening prices (from 2020, so every demo date has one), if none."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(TrademarkPrice)):
        return
    for (period, price_list), amount in DEMO_PRICES.items():
        db.session.add(TrademarkPrice(billing_period=period, price_list=price_list,
                                      amount=Decimal(amount), effective_from=date(2020, 1, 1)))
    db.session.flush()


def seed_marks(reseller: Any, spec: dict, config: Any) -> None:
    install_prices()
    wanted = DEMO_MARKS.get(reseller.company_name)
    if not wanted or db.session.scalar(sa.select(Trademark.id).where(
            Trademark.reseller_id == reseller.id).limit(1)):
        return
    contact = db.session.scalar(sa.select(Contact).where(Contact.reseller_id == reseller.id)
                                .order_by(Contact.id).limit(1))
    for fields in wanted:
        services.add_trademark(reseller_id=reseller.id, contact=contact.id if contact else None,
                               **fields)
    _a_day_of_matches(config)
    _decide(reseller.id)


def _a_day_of_matches(config: Any) -> None:
    """Yesterday's zone files as the baseline, today's diffed against them."""
    marks = watch._marks()
    matcher = watch.Matcher(marks)
    source = sources.SandboxZones(tlds=config["TRADEMARK_ZONE_TLDS"],
                                  size=config["TRADEMARK_SANDBOX_ZONE_SIZE"],
                                  seeds=[labels[0] for _, labels in marks])
    today = clock.today()
    for tld in source.tlds:
        folder = Path(config["TRADEMARK_ZONE_DIR"]) / tld
        watch.diff_zone(source, tld, today - timedelta(days=1), folder, matcher)
        watch.record(watch.diff_zone(source, tld, today, folder, matcher), source=f"zone:{tld}")
        if db.session.get(WatchCursor, f"zone:{tld}") is None:
            db.session.add(WatchCursor(source=f"zone:{tld}", position=today.isoformat(),
                                       updated_at=clock.now()))
    db.session.flush()


def _decide(reseller_id: int) -> None:
    """Show the states: the weakest match dismissed, the strongest acted on."""
    matches = list(db.session.scalars(sa.select(TrademarkMatch).where(
        TrademarkMatch.reseller_id == reseller_id).order_by(TrademarkMatch.score)))
    if len(matches) >= 2:
        matches[0].state, matches[0].state_changed_at = "dismissed", clock.now()
        strongest = matches[-1]
        strongest.state, strongest.action = "act_on", "udrp"
        strongest.note, strongest.state_changed_at = "Ask the customer about a UDRP complaint.", \
            clock.now()
    db.session.flush()


def info(config: Any) -> dict[str, Any]:
    return {"trademarks": [mark["mark"] for marks in DEMO_MARKS.values() for mark in marks]}
