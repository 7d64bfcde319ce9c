"""Support plans, their effective-dated prices, and each reseller's subscription: preview,
change (upgrade or downgrade, at once, prorated to the day) and renewal.

Money moves only through the wallet, as purchases do: a plan charge is a hold captured at
once (prepaid: from funds; postpaid: within the credit limit), so it is a line of the
month's consolidated invoice with VAT. A change first refunds the current segment's
purchase (a credit line on the invoice, back to where it was paid from), then charges the
part of it that was used and the new plan for the rest of the cycle. What the reseller
pays (or gets back) is exactly ``charge - credit`` (see ``proration``); a downgrade's
surplus therefore lands in prepaid funds (or off a postpaid receivable), where later plan
charges use it first and, like all funds, it is refundable on request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from reseller.core.clock import clock
from reseller.core.db import for_update, memo
from reseller.core.directory import reseller_profile
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.core.permissions import Permission, can
from reseller.support import proration
from reseller.support.errors import (
    PlanChangeForbidden,
    PlanNeedsQuote,
    PlanNotFound,
    PlanPriceMissing,
    PlanUnchanged,
)
from reseller.support.models import CYCLES, PlanChange, PlanPrice, Subscription, SupportPlan
from wallet import services as wallet
from wallet.errors import CreditLimitExceeded, InsufficientFunds
from wallet.money import Money
from wallet.vat import vat_rate as vat_rate_on

ZERO = Decimal("0.00")

# -- plans -----------------------------------------------------------------------------------

PLAN_FIELDS = ("name", "level", "description", "by_quote", "included_hours", "hourly_rate",
               "hourly_rate_outside", "first_response_hours", "next_response_hours",
               "around_the_clock", "channels", "phone_number", "oncall_number",
               "unlimited_tickets", "active", "rank")

CORE_DEFAULTS: dict[str, Any] = {
    "code": "core", "name": "Core", "level": "core", "by_quote": False,
    "included_hours": Decimal(0), "hourly_rate": Decimal("120.00"),
    "hourly_rate_outside": Decimal("120.00"), "first_response_hours": 24,
    "next_response_hours": 24, "around_the_clock": False, "channels": ["email", "web"],
    "unlimited_tickets": True, "active": True, "rank": 0,
    "description": "Email and web support on weekdays, replies within 3 business days.",
}


def list_plans(*, active_only: bool = True) -> list[SupportPlan]:
    stmt = sa.select(SupportPlan).order_by(SupportPlan.rank, SupportPlan.id)
    if active_only:
        stmt = stmt.where(SupportPlan.active.is_(True))
    return list(db.session.scalars(stmt))


def get_plan(*, code: str) -> SupportPlan:
    plan = db.session.scalar(sa.select(SupportPlan).where(SupportPlan.code == code))
    if plan is None:
        raise PlanNotFound(_l("There is no support plan %(code)s.", code=code))
    return plan


def get_plan_by_id(plan_id: int) -> SupportPlan:
    plan = db.session.get(SupportPlan, plan_id)
    if plan is None:
        raise PlanNotFound()
    return plan


def core_plan() -> SupportPlan:
    """The free default every reseller has; installed with its defaults if missing."""
    plan = db.session.scalar(sa.select(SupportPlan).where(SupportPlan.level == "core",
                                                          SupportPlan.active.is_(True))
                             .order_by(SupportPlan.rank, SupportPlan.id).limit(1))
    if plan is None:
        plan = db.session.scalar(sa.select(SupportPlan).where(SupportPlan.code == "core"))
    if plan is None:
        plan = SupportPlan(**CORE_DEFAULTS)
        db.session.add(plan)
        db.session.flush()
    return plan


def save_plan(*, code: str, **fields: Any) -> SupportPlan:
    """Create or update the plan ``code`` (operator console). Core stays free."""
    plan = db.session.scalar(sa.select(SupportPlan).where(SupportPlan.code == code))
    if plan is None:
        plan = SupportPlan(code=code, **{**{k: CORE_DEFAULTS[k] for k in PLAN_FIELDS
                                            if k in CORE_DEFAULTS}, "name": code.title()})
        db.session.add(plan)
    for key, value in fields.items():
        if key in PLAN_FIELDS and value is not None:
            setattr(plan, key, value)
    if plan.level == "core":
        plan.by_quote = False
    db.session.flush()
    return plan


def set_price(*, plan_id: int, cycle: str, amount: Decimal, effective_from: date,
              reseller_id: int | None = None) -> PlanPrice:
    """A new price from ``effective_from`` on (``reseller_id``: that reseller's quote)."""
    if cycle not in CYCLES:
        raise ValueError(cycle)
    plan = get_plan_by_id(plan_id)
    price = PlanPrice(plan_id=plan.id, reseller_id=reseller_id, cycle=cycle,
                      amount=Decimal(amount).quantize(Decimal("0.01")),
                      effective_from=effective_from, created_at=clock.now())
    db.session.add(price)
    db.session.flush()
    return price


def price_for(plan: SupportPlan, *, cycle: str, reseller_id: int, on: date) -> Decimal | None:
    """The net price per ``cycle`` on ``on``: the reseller's quote, else the list price
    (never for by-quote plans); zero for Core; None when there is none."""
    if plan.free:
        return ZERO
    rows = [row for row in _prices_for(reseller_id)
            if row.plan_id == plan.id and row.cycle == cycle and row.effective_from <= on]
    own = next((row for row in rows if row.reseller_id == reseller_id), None)
    if own is not None:
        return own.amount
    if plan.by_quote:
        return None
    listed = next((row for row in rows if row.reseller_id is None), None)
    return listed.amount if listed is not None else None


def _prices_for(reseller_id: int) -> list[PlanPrice]:
    """Every plan's list prices and the reseller's own quotes, newest first: one statement
    for a page that prices every plan (read once in a ``shared_reads`` block)."""
    return memo(("support_plan_prices", reseller_id), lambda: list(db.session.scalars(
        sa.select(PlanPrice).where(sa.or_(PlanPrice.reseller_id == reseller_id,
                                          PlanPrice.reseller_id.is_(None)))
        .order_by(PlanPrice.effective_from.desc(), PlanPrice.id.desc()))))


def price_history(*, plan_id: int) -> list[PlanPrice]:
    return list(db.session.scalars(sa.select(PlanPrice).where(PlanPrice.plan_id == plan_id)
                                   .order_by(PlanPrice.effective_from.desc(),
                                             PlanPrice.id.desc())))


def offered_plans(*, reseller_id: int) -> list[tuple[SupportPlan, dict[str, Decimal | None]]]:
    """Active plans with this reseller's monthly and yearly price today (None: by quote,
    not quoted yet)."""
    today = proration.local_day(clock.now())
    return [(plan, {cycle: price_for(plan, cycle=cycle, reseller_id=reseller_id, on=today)
                    for cycle in CYCLES}) for plan in list_plans()]


# -- subscriptions ---------------------------------------------------------------------------

def get_subscription(*, reseller_id: int) -> Subscription:
    """The reseller's subscription; a reseller that never chose one has Core (an unsaved
    row, so reading changes nothing)."""
    # One statement for both cases (the billing page counts them): the subscription with
    # its plan, else the active Core plan; the subscription's row sorts first.
    row = db.session.execute(
        sa.select(SupportPlan, Subscription)
        .outerjoin(Subscription, sa.and_(Subscription.plan_id == SupportPlan.id,
                                         Subscription.reseller_id == reseller_id))
        .where(sa.or_(Subscription.id.is_not(None),
                      sa.and_(SupportPlan.level == "core", SupportPlan.active.is_(True))))
        .order_by(Subscription.id.is_(None), SupportPlan.rank, SupportPlan.id)
        .limit(1)).first()
    if row is not None and row[1] is not None:
        set_committed_value(row[1], "plan", row[0])  # read with it: no second statement
        return row[1]
    core = row[0] if row is not None else core_plan()
    return Subscription(reseller_id=reseller_id, plan_id=core.id, plan=core, cycle="monthly",
                        cycle_price=ZERO, segment_net=ZERO, updated_at=clock.now())


def _subscription_for_update(reseller_id: int) -> Subscription:
    found = db.session.scalars(for_update(sa.select(Subscription).where(
        Subscription.reseller_id == reseller_id))).one_or_none()
    if found is None:
        core = core_plan()
        found = Subscription(reseller_id=reseller_id, plan_id=core.id, cycle="monthly",
                             cycle_price=ZERO, segment_net=ZERO, updated_at=clock.now())
        db.session.add(found)
        db.session.flush()
    return found


def _current(sub: Subscription) -> proration.Current:
    return proration.Current(
        free=sub.plan.free, cycle=sub.cycle, cycle_price=sub.cycle_price,
        period_start=sub.period_start, period_end=sub.period_end,
        segment_start=sub.segment_start, segment_net=sub.segment_net)


def vat_rate_for(reseller_id: int, on: date) -> Decimal:
    profile = reseller_profile(reseller_id)
    return vat_rate_on(vat_status=profile.vat_status if profile else "domestic", on=on)


@dataclass(frozen=True)
class Preview:
    """What a change would do, before it is confirmed (amounts net; ``total`` with VAT is
    what the wallet moves: positive charged, negative given back)."""

    plan: SupportPlan
    cycle: str
    previous_plan: SupportPlan
    previous_cycle: str
    effective_on: date
    proration: proration.Proration
    price: Decimal
    vat_rate: Decimal
    vat: Decimal
    total: Decimal

    @property
    def amount_due(self) -> Decimal:
        return max(self.proration.net_due, ZERO)

    @property
    def refund(self) -> Decimal:
        return max(-self.proration.net_due, ZERO)

    @property
    def next_renewal(self) -> date | None:
        return self.proration.period_end


def _vat(net: Decimal, rate: Decimal) -> Decimal:
    return wallet.split_gross(Money(net, "EUR"), rate)[1] if net > 0 else ZERO


def _preview(sub: Subscription, reseller_id: int, plan_code: str, cycle: str) -> Preview:
    if cycle not in CYCLES:
        raise PlanNotFound(_l("The cycle is monthly or yearly."))
    plan = get_plan(code=plan_code)
    if not plan.active:
        raise PlanNotFound(_l("The plan %(code)s is not offered.", code=plan_code))
    today = proration.local_day(clock.now())
    price = price_for(plan, cycle=cycle, reseller_id=reseller_id, on=today)
    if price is None and plan.by_quote:
        raise PlanNeedsQuote(_l("%(plan)s is priced per reseller: ask us for a quote, and "
                                "it becomes available here once we have made it.",
                                plan=plan.name))
    if price is None:
        raise PlanPriceMissing()
    if plan.id == sub.plan_id and (plan.free or cycle == sub.cycle):
        raise PlanUnchanged()
    outcome = proration.prorate_change(_current(sub), today=today, new_free=plan.free,
                                       new_cycle=cycle, new_price=price)
    rate = vat_rate_for(reseller_id, today)
    old_rate = _segment_vat_rate(sub) if outcome.credit else rate
    # Exactly what the wallet will move: the refund, the used part and the new segment,
    # each with its VAT rounded as the wallet rounds it.
    vat = _vat(outcome.used, old_rate) + _vat(outcome.charge, rate) - (
        _vat(sub.segment_net, old_rate) if outcome.credit else ZERO)
    return Preview(plan=plan, cycle=cycle, previous_plan=sub.plan, previous_cycle=sub.cycle,
                   effective_on=today, proration=outcome, price=price, vat_rate=rate, vat=vat,
                   total=outcome.net_due + vat)


def _segment_vat_rate(sub: Subscription) -> Decimal:
    if sub.segment_reference:
        return wallet.get_purchase(reference=sub.segment_reference).vat_rate
    return vat_rate_for(sub.reseller_id, proration.local_day(clock.now()))


def preview_change(*, reseller_id: int, plan: str, cycle: str) -> Preview:
    return _preview(get_subscription(reseller_id=reseller_id), reseller_id, plan, cycle)


def _require_billing(actor_role: str) -> None:
    if not can(actor_role, Permission.MANAGE_BILLING):
        raise PlanChangeForbidden()


def change_by_key(reseller_id: int, key: str) -> PlanChange | None:
    return db.session.scalar(sa.select(PlanChange).where(
        PlanChange.reseller_id == reseller_id, PlanChange.idempotency_key == key))


def change_plan(*, reseller_id: int, plan: str, cycle: str, idempotency_key: str,
                actor_role: str, actor: str | None = None) -> PlanChange:
    """Change the plan at once; a repeated ``idempotency_key`` returns the first change
    (charging nothing again). Refused (402) when the wallet cannot cover the difference."""
    _require_billing(actor_role)
    if existing := change_by_key(reseller_id, idempotency_key):
        return existing
    sub = _subscription_for_update(reseller_id)
    if existing := change_by_key(reseller_id, idempotency_key):  # a concurrent twin won
        return existing
    preview = _preview(sub, reseller_id, plan, cycle)
    change = PlanChange(
        reseller_id=reseller_id, idempotency_key=idempotency_key, kind="change",
        from_plan=sub.plan.code, to_plan=preview.plan.code, from_cycle=sub.cycle,
        to_cycle=cycle, effective_on=preview.effective_on, credit=preview.proration.credit,
        charge=preview.proration.charge, vat_rate=preview.vat_rate, vat=preview.vat,
        total=preview.total, price=preview.price, days_left=preview.proration.days_left,
        cycle_days=preview.proration.cycle_days, period_end=preview.next_renewal,
        actor=actor, created_at=clock.now())
    db.session.add(change)
    db.session.flush()
    _move_money(sub, preview, change)
    _apply(sub, preview, reference=f"support:{change.id}:plan")
    record_event(reseller_id=reseller_id, type="support_plan.changed",
                 data=_change_data(change, preview.plan), dedupe_key=f"support_plan:{change.id}")
    return change


def _move_money(sub: Subscription, preview: Preview, change: PlanChange) -> None:
    outcome, today = preview.proration, preview.effective_on
    old = preview.previous_plan
    if outcome.credit and sub.segment_reference:
        original = wallet.get_purchase(reference=sub.segment_reference)
        wallet.refund_purchase(reference=sub.segment_reference, actor="support",
                               reason=f"Support plan change on {today.isoformat()}: "
                                      f"{old.name} credited for the unused part")
        if outcome.used > 0:
            charge(reseller_id=sub.reseller_id, net=outcome.used, vat_rate=original.vat_rate,
                   reference=f"support:{change.id}:used",
                   description=_describe(old, sub.cycle, sub.segment_start, today),
                   item={"kind": "support_plan", "plan": old.code, "cycle": sub.cycle,
                         "change_id": change.id, "part": "used"})
    if outcome.charge > 0:
        charge(reseller_id=sub.reseller_id, net=outcome.charge, vat_rate=preview.vat_rate,
               reference=f"support:{change.id}:plan",
               description=_describe(preview.plan, preview.cycle, today, outcome.period_end),
               item={"kind": "support_plan", "plan": preview.plan.code,
                     "cycle": preview.cycle, "change_id": change.id, "part": "plan"})


def _describe(plan: SupportPlan, cycle: str, start: date | None, end: date | None) -> str:
    span = f" {start:%d.%m.%Y}–{end:%d.%m.%Y}" if start and end else ""
    return f"Support plan {plan.name} ({cycle}){span}"


def charge(*, reseller_id: int, net: Decimal, vat_rate: Decimal, reference: str,
           description: str, item: dict[str, Any]) -> Any:
    """Charge ``net`` + VAT through the wallet now: a hold captured at once (a purchase,
    so a line on the month's invoice). Idempotent by ``reference``."""
    wallet.hold_funds(reseller_id=reseller_id, net=Money(net, "EUR"), vat_rate=vat_rate,
                      reference=reference, description=description, item=item)
    return wallet.capture_hold(reference=reference)


def _apply(sub: Subscription, preview: Preview, *, reference: str) -> None:
    outcome = preview.proration
    new_cycle = outcome.period_start != sub.period_start or sub.plan.free
    sub.plan_id, sub.plan, sub.cycle = preview.plan.id, preview.plan, preview.cycle
    sub.period_start, sub.period_end = outcome.period_start, outcome.period_end
    if preview.plan.free:
        sub.anchor_day = None
    elif new_cycle:
        sub.anchor_day = outcome.period_start.day
    sub.cycle_price = preview.price
    sub.segment_start = None if preview.plan.free else preview.effective_on
    sub.segment_net = outcome.charge
    sub.segment_reference = reference if outcome.charge > 0 else None
    sub.renewal_failed_at = None
    sub.updated_at = clock.now()
    db.session.flush()


def _change_data(change: PlanChange, plan: SupportPlan) -> dict[str, Any]:
    return {"plan": change.to_plan, "plan_name": plan.name, "cycle": change.to_cycle,
            "previous_plan": change.from_plan, "previous_cycle": change.from_cycle,
            "effective_on": change.effective_on.isoformat(),
            "next_renewal": change.period_end.isoformat() if change.period_end else None,
            "credit": f"{change.credit:.2f}", "charge": f"{change.charge:.2f}",
            "amount": f"{abs(change.net_due):.2f}", "currency": "EUR", "kind": change.kind}


# -- renewals --------------------------------------------------------------------------------

def due_for_renewal(*, today: date) -> list[int]:
    return list(db.session.scalars(
        sa.select(Subscription.id).join(SupportPlan, SupportPlan.id == Subscription.plan_id)
        .where(Subscription.period_end <= today, SupportPlan.level != "core")
        .order_by(Subscription.period_end, Subscription.id)))


def renew(subscription_id: int) -> PlanChange | None:
    """Charge the next cycle at the price of its first day; a wallet that cannot pay
    moves the reseller to Core (``support_plan.renewal_failed``). Safe to run twice."""
    sub = db.session.scalars(for_update(sa.select(Subscription).where(
        Subscription.id == subscription_id))).one_or_none()
    today = proration.local_day(clock.now())
    if sub is None or sub.plan.free or sub.period_end is None or sub.period_end > today:
        return None
    start = sub.period_end
    end = proration.cycle_end(start, sub.cycle, sub.anchor_day)
    price = price_for(sub.plan, cycle=sub.cycle, reseller_id=sub.reseller_id, on=start)
    key = f"renewal:{start.isoformat()}"
    change = PlanChange(reseller_id=sub.reseller_id, idempotency_key=key, kind="renewal",
                        from_plan=sub.plan.code, to_plan=sub.plan.code, from_cycle=sub.cycle,
                        to_cycle=sub.cycle, effective_on=start, credit=ZERO,
                        charge=price or ZERO, vat_rate=vat_rate_for(sub.reseller_id, start),
                        price=price or ZERO, period_end=end, actor="renewal", created_at=clock.now())
    reference = f"support-renew:{sub.id}:{start.isoformat()}"
    try:
        if price is None:
            raise PlanPriceMissing()
        with db.session.begin_nested():
            if price > 0:
                charge(reseller_id=sub.reseller_id, net=price, vat_rate=change.vat_rate,
                       reference=reference,
                       description=_describe(sub.plan, sub.cycle, start, end),
                       item={"kind": "support_plan", "plan": sub.plan.code,
                             "cycle": sub.cycle, "part": "renewal"})
    except (InsufficientFunds, CreditLimitExceeded, PlanPriceMissing) as refused:
        return _fall_back(sub, start, reason=getattr(refused, "code", "refused"))
    db.session.add(change)
    sub.period_start, sub.period_end, sub.cycle_price = start, end, price
    sub.segment_start, sub.segment_net = start, price
    sub.segment_reference = reference if price > 0 else None
    sub.updated_at = clock.now()
    db.session.flush()
    record_event(reseller_id=sub.reseller_id, type="support_plan.renewed",
                 data=_change_data(change, sub.plan), dedupe_key=f"support_plan:{reference}")
    return change


def _fall_back(sub: Subscription, on: date, *, reason: str) -> PlanChange:
    core = core_plan()
    change = PlanChange(reseller_id=sub.reseller_id, idempotency_key=f"fallback:{on}",
                        kind="fallback", from_plan=sub.plan.code, to_plan=core.code,
                        from_cycle=sub.cycle, to_cycle=sub.cycle, effective_on=on,
                        credit=ZERO, charge=ZERO, vat_rate=ZERO, period_end=None,
                        actor="renewal", created_at=clock.now())
    db.session.add(change)
    previous = sub.plan
    sub.plan_id, sub.plan = core.id, core
    sub.period_start = sub.period_end = sub.segment_start = sub.anchor_day = None
    sub.cycle_price = sub.segment_net = ZERO
    sub.segment_reference = None
    sub.renewal_failed_at = clock.now()
    sub.updated_at = clock.now()
    db.session.flush()
    record_event(reseller_id=sub.reseller_id, type="support_plan.renewal_failed",
                 data={**_change_data(change, core), "previous_plan_name": previous.name,
                       "reason": reason},
                 dedupe_key=f"support_plan:fallback:{sub.id}:{on}")
    return change


def changes(*, reseller_id: int, limit: int = 20) -> list[PlanChange]:
    return list(db.session.scalars(sa.select(PlanChange)
                                   .where(PlanChange.reseller_id == reseller_id)
                                   .order_by(PlanChange.id.desc()).limit(limit)))


def new_key() -> str:
    return f"page-{uuid.uuid4()}"
