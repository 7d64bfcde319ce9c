"""The current registrant's consent to an owner change: what the order records, and the
white-label e-mail with a confirm/decline link on the reseller's link host.

gTLDs follow ICANN's Transfer Policy, Part II (Change of Registrant): the Prior Registrant
— or a Designated Agent it explicitly authorised — confirms the change; afterwards
transfers to another registrar are locked for 60 days unless the Prior Registrant opted
out before the change. The New Registrant's consent is the reseller's request, made on the
new holder's instruction. .fi, .se, .nu and .eu prescribe no such procedure and set no lock,
but their registries' terms make the registrar answerable for the holder's consent, so the
same confirmation is asked for. An unanswered request expires with its link
(``APPROVAL_PERIOD``) and the order fails, releasing its hold.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reseller.catalog.models import TldRules
from reseller.core.clock import clock
from reseller.domains.models import Contact, Order
from whitelabel.messages import send_registrant_message
from whitelabel.tokens import LIFETIMES

APPROVAL_PERIOD: timedelta = LIFETIMES["owner_change"]  # 14 days, the link's lifetime


def approval_params(rules: TldRules, *, designated_agent: bool,
                    lock_opt_out: bool) -> dict[str, Any]:
    """What the order keeps about consent: who gave it (or that it is awaited, until
    when), and whether the registrant opted out of the TLD's transfer lock."""
    now = clock.now()
    if not rules.owner_change_consent:
        return {"approval": {"state": "not_required"}, "lock_opt_out": False}
    if designated_agent:
        return {"approval": {"state": "approved", "by": "designated_agent",
                             "at": now.isoformat()},
                "lock_opt_out": bool(lock_opt_out and rules.transfer_lock_days)}
    return {"approval": {"state": "awaiting", "deadline": (now + APPROVAL_PERIOD).isoformat()},
            "lock_opt_out": False}


def deadline(order: Order) -> datetime | None:
    found = (order.params.get("approval") or {}).get("deadline")
    return datetime.fromisoformat(found) if found else None


def holder(contact: Contact) -> str:
    """The new holder as the current registrant will recognise it."""
    return f"{contact.name} ({contact.organization})" if contact.organization else contact.name


def ask_registrant(order: Order, *, prior: Contact, new: Contact, lock_days: int,
                   again: str | None = None) -> None:
    """E-mail the current registrant (the reseller's brand and link host, its language) a
    link to confirm or decline; once per order (``again``: once per that resend key)."""
    suffix = f":again:{again}" if again else ""
    send_registrant_message(
        reseller_id=order.reseller_id, kind="owner_change_approval", recipient=prior.email,
        language=prior.language, dedupe_key=f"owner_change_approval:{order.id}{suffix}",
        context={"order_id": order.id, "domain": order.domain_name,
                 "unicode_name": order.unicode_name, "new_holder": holder(new),
                 "deadline_at": deadline(order), "lock_days": lock_days})


def notify_completed(order: Order, *, prior: Contact | None, new: Contact) -> None:
    """Tell the previous and the new registrant that the change is done (ICANN Transfer
    Policy II.C.2 for gTLDs; for every TLD here), each in its own language."""
    context = {"order_id": order.id, "domain": order.domain_name,
               "unicode_name": order.unicode_name, "new_holder": holder(new),
               "prior_holder": holder(prior) if prior is not None else "-"}
    for role, contact in (("prior", prior), ("new", new)):
        if contact is None or (role == "new" and prior is not None
                               and contact.email == prior.email):
            continue
        send_registrant_message(
            reseller_id=order.reseller_id, kind="owner_change_completed",
            recipient=contact.email, language=contact.language, context=context,
            dedupe_key=f"owner_change_completed:{order.id}:{role}")
