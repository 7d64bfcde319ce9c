"""Protected marks: adding one (its first period paid), cancelling at period end,
renewing, the matches found for it and what the reseller decides about each, and the
claims notice a registration of a matching name must acknowledge.

This is the package's public surface for the other features (with ``models`` and
``errors``); the watch job lives in ``watch``, prices and charges in ``billing``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from reseller.core.clock import clock
from reseller.core.db import lock_row
from reseller.core.errors import NotFound, ValidationFailed
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.core.pagination import Page, paginate
from reseller.core.schemas import DATABASE_ID_MAX
from reseller.domains.errors import OrdersBlockedOverdue
from reseller.domains.models import Contact
from reseller.trademarks import billing, matching
from reseller.trademarks.errors import (
    ClaimsNoticeRequired,
    MatchNotFound,
    TrademarkEnded,
    TrademarkNotFound,
    TrademarkPriceMissing,
)
from reseller.trademarks.models import (
    ACTIONS,
    MATCH_STATES,
    Trademark,
    TrademarkLabel,
    TrademarkMatch,
)
from wallet.errors import CreditLimitExceeded, InsufficientFunds
from wallet.invoices.invoicing import is_blocked_for_overdue

MAX_VARIANTS = 10


# -- marks ---------------------------------------------------------------------------------

def _contact(reseller_id: int, contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    contact = db.session.get(Contact, contact_id) if 0 < contact_id <= DATABASE_ID_MAX else None
    if contact is None or contact.reseller_id != reseller_id:
        raise ValidationFailed({"contact": [_l("No contact %(id)s in this account.",
                                               id=contact_id)]})
    return contact


def _labels(mark: str, variants: list[str]) -> tuple[str, ...]:
    labels = matching.mark_labels(mark, variants)
    if not labels:
        raise ValidationFailed({"mark": [_l("The mark has no letters or digits a domain "
                                            "name could carry.")]})
    bad = [v for v in variants if not matching.mark_labels("", [v])]
    if bad:
        raise ValidationFailed({"variants": [_l("%(label)s is not a domain name label.",
                                                label=bad[0])]})
    return labels


def add_trademark(*, reseller_id: int, mark: str, holder: str, contact: int | None = None,
                  registration_number: str | None = None, jurisdiction: str | None = None,
                  languages: list[str] | None = None, billing_period: str = "year",
                  variants: list[str] | None = None) -> Trademark:
    """Protect ``mark`` for a customer; its first period is charged now (and the mark not
    added if the wallet cannot pay it)."""
    if is_blocked_for_overdue(reseller_id):
        raise OrdersBlockedOverdue(_l("An invoice is overdue; new orders are paused until "
                                      "it is paid."))
    variants = list(dict.fromkeys(v.strip().lower() for v in variants or [] if v.strip()))
    labels = _labels(mark, variants)
    person = _contact(reseller_id, contact)
    now = clock.now()
    trademark = Trademark(
        reseller_id=reseller_id, mark=mark.strip(), holder=holder.strip(),
        registration_number=(registration_number or "").strip() or None,
        jurisdiction=(jurisdiction or "").strip() or None,
        contact_id=person.id if person else None,
        languages=list(dict.fromkeys(languages or [])), variants=variants,
        billing_period=billing_period, status="active", cancel_at_period_end=False,
        current_period_start=now, current_period_end=now, created_at=now)
    trademark.labels = [TrademarkLabel(label=label) for label in labels]
    db.session.add(trademark)
    db.session.flush()
    billing.charge_period(trademark, now)
    record_event(reseller_id=reseller_id, type="trademark.added", data=trademark_data(trademark),
                 dedupe_key=f"trademark.added:{trademark.id}")
    return trademark


def get_trademark(*, reseller_id: int, trademark_id: int, for_update: bool = False) -> Trademark:
    trademark = lock_row(Trademark, trademark_id) if for_update else \
        db.session.get(Trademark, trademark_id)
    if trademark is None or trademark.reseller_id != reseller_id:
        raise TrademarkNotFound(_l("Trademark %(id)s not found.", id=trademark_id))
    return trademark


def list_trademarks(*, reseller_id: int, status: str | None = None) -> sa.Select:
    stmt = sa.select(Trademark).where(Trademark.reseller_id == reseller_id)
    if status:
        stmt = stmt.where(Trademark.status == status)
    return stmt


def trademarks_page(*, reseller_id: int, cursor: str | None, limit: int,
                    status: str | None = None) -> Page:
    return paginate(list_trademarks(reseller_id=reseller_id, status=status)
                    .options(selectinload(Trademark.labels)), key=Trademark.id,
                    cursor=cursor, limit=limit)


def update_trademark(*, reseller_id: int, trademark_id: int, **changes: Any) -> Trademark:
    """Change the alert contact, languages, claims variants or (from the next period) the
    billing period; ``cancel_at_period_end: false`` takes a cancellation back."""
    trademark = get_trademark(reseller_id=reseller_id, trademark_id=trademark_id,
                              for_update=True)
    if trademark.status == "ended":
        raise TrademarkEnded(_l("The protection of %(mark)s has ended.", mark=trademark.mark))
    if "contact" in changes:
        person = _contact(reseller_id, changes["contact"])
        trademark.contact_id = person.id if person else None
    if "languages" in changes:
        trademark.languages = list(dict.fromkeys(changes["languages"]))
    if "billing_period" in changes:
        trademark.billing_period = changes["billing_period"]
    if "variants" in changes:
        variants = list(dict.fromkeys(v.strip().lower() for v in changes["variants"]
                                      if v.strip()))
        labels = _labels(trademark.mark, variants)
        trademark.variants = variants
        keep = {row.label: row for row in trademark.labels}
        trademark.labels = [keep.get(label) or TrademarkLabel(label=label) for label in labels]
    if changes.get("cancel_at_period_end") is False:
        trademark.cancel_at_period_end, trademark.cancelled_at = False, None
    db.session.flush()
    return trademark


def cancel_trademark(*, reseller_id: int, trademark_id: int) -> Trademark:
    """Stop at the end of the paid period: watching and claims go on until then, nothing
    is refunded and nothing more is charged. Repeating it changes nothing."""
    trademark = get_trademark(reseller_id=reseller_id, trademark_id=trademark_id,
                              for_update=True)
    if trademark.status != "ended" and not trademark.cancel_at_period_end:
        trademark.cancel_at_period_end, trademark.cancelled_at = True, clock.now()
        db.session.flush()
        record_event(reseller_id=reseller_id, type="trademark.cancelled",
                     data=trademark_data(trademark),
                     dedupe_key=f"trademark.cancelled:{trademark.id}:{clock.now().isoformat()}")
    return trademark


def renew_or_end(trademark_id: int, *, now: datetime | None = None) -> Trademark | None:
    """At the end of a paid period: end a cancelled mark, else pay the next period. A
    wallet that cannot pay leaves the mark past due (still watched) and retried until
    ``PAST_DUE_DAYS`` have gone by; then it ends. Safe to run twice."""
    now = now or clock.now()
    trademark = lock_row(Trademark, trademark_id)
    if trademark is None or not trademark.watching or trademark.current_period_end > now:
        return trademark
    if trademark.cancel_at_period_end:
        return _end(trademark, trademark.current_period_end, "cancelled")
    try:
        with db.session.begin_nested():
            billing.charge_period(trademark, trademark.current_period_end)
    except (InsufficientFunds, CreditLimitExceeded):
        since = trademark.past_due_since or now
        if now - since >= timedelta(days=billing.PAST_DUE_DAYS):
            return _end(trademark, now, "unpaid")
        trademark.status, trademark.past_due_since = "past_due", since
        db.session.flush()
        return trademark
    trademark.status, trademark.past_due_since = "active", None
    db.session.flush()
    return trademark


def _end(trademark: Trademark, when: datetime, reason: str) -> Trademark:
    trademark.status, trademark.ended_at = "ended", when
    db.session.flush()
    record_event(reseller_id=trademark.reseller_id, type="trademark.ended",
                 data={**trademark_data(trademark), "reason": reason},
                 dedupe_key=f"trademark.ended:{trademark.id}")
    return trademark


def trademark_data(trademark: Trademark) -> dict[str, Any]:
    return {"trademark_id": trademark.id, "mark": trademark.mark, "holder": trademark.holder,
            "status": trademark.status, "cancel_at_period_end": trademark.cancel_at_period_end,
            "current_period_end": trademark.current_period_end.isoformat()}


def price_of(trademark: Trademark) -> billing.Price | None:
    """What the next period will cost (None while no price is set)."""
    try:
        return billing.quote(reseller_id=trademark.reseller_id,
                             billing_period=trademark.billing_period,
                             on=trademark.current_period_end.date())
    except (TrademarkPriceMissing, NotFound):
        return None


# -- matches -------------------------------------------------------------------------------

def matches_page(*, reseller_id: int, trademark_id: int, cursor: str | None, limit: int,
                 state: str | None = None, reason: str | None = None) -> Page:
    get_trademark(reseller_id=reseller_id, trademark_id=trademark_id)
    stmt = sa.select(TrademarkMatch).where(TrademarkMatch.reseller_id == reseller_id,
                                           TrademarkMatch.trademark_id == trademark_id)
    if state:
        stmt = stmt.where(TrademarkMatch.state == state)
    if reason:
        stmt = stmt.where(TrademarkMatch.reason == reason)
    return paginate(stmt, key=TrademarkMatch.id, cursor=cursor, limit=limit, descending=True)


def get_match(*, reseller_id: int, trademark_id: int, match_id: int) -> TrademarkMatch:
    match = db.session.get(TrademarkMatch, match_id) if 0 < match_id <= DATABASE_ID_MAX else None
    if match is None or match.reseller_id != reseller_id or match.trademark_id != trademark_id:
        raise MatchNotFound(_l("Match %(id)s not found.", id=match_id))
    return match


def set_match_state(*, reseller_id: int, trademark_id: int, match_id: int, state: str,
                    action: str | None = None, note: str | None = None) -> TrademarkMatch:
    """Dismiss, watch, or act on a match (``act_on`` names the action: a UDRP or URS
    complaint, a purchase attempt, a takedown request, other)."""
    match = get_match(reseller_id=reseller_id, trademark_id=trademark_id, match_id=match_id)
    if state not in MATCH_STATES:
        raise ValidationFailed({"state": [_l("Choose one of: %(states)s.",
                                             states=", ".join(MATCH_STATES))]})
    if action is not None and state != "act_on":
        raise ValidationFailed({"action": [_l("An action goes with the state act_on.")]})
    if action is not None and action not in ACTIONS:
        raise ValidationFailed({"action": [_l("Choose one of: %(actions)s.",
                                              actions=", ".join(ACTIONS))]})
    match.state, match.action = state, action if state == "act_on" else None
    if note is not None:
        match.note = note.strip() or None
    match.state_changed_at = clock.now()
    db.session.flush()
    return match


def counts_by_state(*, reseller_id: int, trademark_ids: list[int]) -> dict[int, dict[str, int]]:
    """{trademark id: {state: count}} for a page of marks, in one query."""
    found: dict[int, dict[str, int]] = {tid: {} for tid in trademark_ids}
    if not trademark_ids:
        return found
    rows = db.session.execute(
        sa.select(TrademarkMatch.trademark_id, TrademarkMatch.state, sa.func.count())
        .where(TrademarkMatch.reseller_id == reseller_id,
               TrademarkMatch.trademark_id.in_(trademark_ids))
        .group_by(TrademarkMatch.trademark_id, TrademarkMatch.state))
    for trademark_id, state, count in rows:
        found[trademark_id][state] = count
    return found


# -- claims at registration ------------------------------------------------------------------

# Built once: every registration asks (see BUILT ONCE in reseller.core.db)
_CLAIMS = (sa.select(Trademark).join(TrademarkLabel)
           .where(TrademarkLabel.label == sa.bindparam("label"),
                  Trademark.status.in_(("active", "past_due")))
           .order_by(Trademark.id))  # one row each: a mark's labels are unique


def claims_for(name: str) -> list[Trademark]:
    """Every watched mark, of any reseller, that claims ``name``'s label."""
    label = matching.unicode_label(name)
    if not label:
        return []
    return list(db.session.scalars(_CLAIMS, {"label": label}))


def claims_notice(name: str, unicode_name: str, marks: list[Trademark]) -> dict[str, Any]:
    """The notice shown before registering ``name``: the marks it matches (what the
    Trademark Clearinghouse's claims notice lists) and an id the order acknowledges. The id
    changes when the marks do, so an acknowledgement covers exactly what was shown."""
    key = "|".join([name, *(f"{m.id}:{m.mark}:{m.holder}" for m in marks)])
    return {
        "id": hashlib.sha256(key.encode()).hexdigest()[:32],
        "domain": name, "unicode_name": unicode_name,
        "marks": [{"mark": m.mark, "holder": m.holder, "jurisdiction": m.jurisdiction,
                   "registration_number": m.registration_number} for m in marks],
        "text": str(_l("You have received this notice because the domain name you are "
                       "registering matches at least one protected mark. Registering it "
                       "may infringe the holder's rights. If you continue, the holder is "
                       "told that the name was registered.")),
    }


def check_claims(*, reseller_id: int, name: str, unicode_name: str,
                 claims_ack: str | None) -> dict[str, Any]:
    """The order check the domains call before a registration holds anything: without a
    matching mark nothing to record; with one, ``claims_ack`` must be the notice's id
    (else ``ClaimsNoticeRequired`` carrying the notice). Returns what the order records."""
    marks = claims_for(name)
    if not marks:
        return {}
    notice = claims_notice(name, unicode_name, marks)
    if claims_ack != notice["id"]:
        detail = _l("%(name)s matches the protected mark %(mark)s (%(holder)s). Show the "
                    "claims notice to the registrant and send claims_ack with its id.",
                    name=unicode_name, mark=marks[0].mark, holder=marks[0].holder)
        raise ClaimsNoticeRequired(detail, notice=notice,
                                   stale=claims_ack is not None)
    return {"claims": {"notice_id": notice["id"], "trademark_ids": [m.id for m in marks],
                       "marks": [m.mark for m in marks],
                       "acknowledged_at": clock.now().isoformat()}}
