"""The words people see for stored values, in the page's language: enum values (statuses,
kinds, roles, modes, methods) and the descriptions the ledger and orders store in English.

Stored values stay as they are (the API and the audit trail speak them); pages and mails
show them only through ``label`` and ``describe``, so each language has one vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

LABELS: dict[str, dict[str, Any]] = {
    "domain_status": {
        "active": _l("Active"), "expired": _l("Expired"), "redemption": _l("In redemption"),
        "deleted": _l("Deleted"), "transferred_out": _l("Transferred away"),
        "pending_delete": _l("Being deleted"), "pending_transfer": _l("Transfer pending"),
    },
    "order_kind": {
        "register": _l("Registration"), "renew": _l("Renewal"), "transfer": _l("Transfer"),
        "restore": _l("Restore"), "owner_change": _l("Change of owner"),
    },
    "order_state": {
        "pending": _l("Waiting"), "held": _l("In progress"), "completed": _l("Completed"),
        "failed": _l("Failed"),
    },
    "role": {
        "owner": _l("Owner"), "admin": _l("Administrator"), "billing": _l("Billing"),
        "technical": _l("Technical"), "staff": _l("Staff"), "superuser": _l("Superuser"),
    },
    "contact_role": {
        "registrant": _l("Registrant"), "admin": _l("Administrative contact"),
        "tech": _l("Technical contact"), "billing": _l("Billing contact"),
    },
    "payment_mode": {"prepaid": _l("Prepaid"), "postpaid": _l("Postpaid")},
    "tier": {"standard": _l("Standard"), "plus": _l("Plus"), "pro": _l("Pro")},
    "payment_method": {
        "card": _l("Card"), "paypal": _l("PayPal"), "online_banking": _l("Online banking"),
        "bank_transfer": _l("Bank transfer"), "sandbox": _l("Test payment"),
    },
    "payment_state": {
        "pending": _l("Waiting for payment"), "paid": _l("Paid"), "cancelled": _l("Cancelled"),
        "failed": _l("Failed"),
    },
    "withdrawal_state": {
        "requested": _l("Requested"), "approved": _l("Paid out"), "cancelled": _l("Cancelled"),
        "rejected": _l("Rejected"),
    },
    "ledger_kind": {
        "hold": _l("Reserved"), "capture": _l("Purchase"), "release": _l("Reservation released"),
        "expire": _l("Reservation expired"), "refund": _l("Refund"),
        "adjustment": _l("Adjustment"), "topup": _l("Top-up"),
        "invoice_payment": _l("Invoice payment"), "bank_transfer": _l("Bank transfer"),
        "invoice": _l("Invoice"), "credit_note": _l("Credit note"),
        "withdrawal_hold": _l("Withdrawal reserved"), "payout": _l("Payout"),
        "withdrawal_cancel": _l("Withdrawal cancelled"), "reversal": _l("Payment taken back"),
        "debt": _l("Debt paid"),
    },
    "hold_state": {
        "active": _l("Reserved"), "captured": _l("Charged"), "released": _l("Released"),
        "expired": _l("Expired"),
    },
    "invoice_status": {"open": _l("Open"), "paid": _l("Paid"), "credited": _l("Credited")},
    "invoice_kind": {"invoice": _l("Invoice"), "credit_note": _l("Credit note")},
    "reseller_status": {"active": _l("Active"), "closing": _l("Closing"),
                        "closed": _l("Closed")},
    "application_status": {"pending": _l("Waiting for a decision"), "approved": _l("Approved"),
                           "rejected": _l("Rejected")},
    "plan_level": {"core": _l("Core"), "pro": _l("Pro"), "ultimate": _l("Ultimate")},
    "cycle": {"monthly": _l("monthly"), "yearly": _l("yearly")},
    "outbox_state": {"pending": _l("Waiting"), "sent": _l("Sent"), "failed": _l("Failed"),
                     "retrying": _l("Retrying")},
    "yes_no": {"true": _l("Yes"), "false": _l("No")},
    "match_state": {"new": _l("New"), "dismissed": _l("Dismissed"), "watched": _l("Watched"),
                    "act_on": _l("To act on")},
    "match_action": {"udrp": _l("UDRP complaint"), "urs": _l("URS complaint"),
                     "purchase": _l("Purchase offer"), "takedown": _l("Takedown request"),
                     "other": _l("Other")},
}


def label(value: Any, kind: str) -> str:
    """The word for a stored ``value`` of ``kind`` in the page's language. An unknown value
    shows as itself, so a missing word is visible (and the untranslated-page test finds it)."""
    if value is None:
        return ""
    words = LABELS.get(kind, {})
    word = words.get(str(value).lower() if isinstance(value, bool) else str(value))
    return str(word) if word is not None else str(value)


def operation(kind: str, years: int | None = None) -> str:
    """"Registration, 2 years" / "Restore"."""
    word = label(kind, "order_kind")
    if not years:
        return word
    return ngettext("%(operation)s, %(num)d year", "%(operation)s, %(num)d years", years,
                    operation=word)


def describe_item(kind: str, domain: str, years: int | None = None) -> str:
    """What was bought: "Registration, 2 years: example.fi"."""
    return _("%(operation)s: %(domain)s", operation=operation(kind, years), domain=domain)


_ORDER_KINDS = {"register": "register", "renew": "renew", "transfer": "transfer",
                "restore": "restore", "owner change": "owner_change"}

# English descriptions stored by the ledger and the orders → the words of the page.
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Domain (register|renew|transfer|restore|owner change): (\S+?)"
                r"(?:, (\d+) y)?$"),
     lambda m: describe_item(_ORDER_KINDS[m[1]], m[2], int(m[3]) if m[3] else None)),
    (re.compile(r"^Top-up by ([a-z_]+)$"),
     lambda m: _("Top-up: %(method)s", method=label(m[1], "payment_method"))),
    (re.compile(r"^Top-up (\S+)$"), lambda m: _("Top-up %(id)s", id=m[1])),
    (re.compile(r"^Invoice (\S+) paid by bank transfer$"),
     lambda m: _("Invoice %(number)s paid by bank transfer", number=m[1])),
    (re.compile(r"^Invoice (\S+) paid by ([a-z_]+)$"),
     lambda m: _("Invoice %(number)s paid: %(method)s", number=m[1],
                 method=label(m[2], "payment_method"))),
    (re.compile(r"^Invoice (\S+): settled with the ledger.*$"),
     lambda m: _("Invoice %(number)s settled", number=m[1])),
    (re.compile(r"^Invoice (\S+)$"), lambda m: _("Invoice %(number)s", number=m[1])),
    (re.compile(r"^Credit note (\S+) for invoice (\S+)$"),
     lambda m: _("Credit note %(number)s for invoice %(invoice)s", number=m[1],
                 invoice=m[2])),
    (re.compile(r"^Bank transfer ?(.*)$"),
     lambda m: _("Bank transfer %(reference)s", reference=m[1]).strip()),
    (re.compile(r"^Withdrawal requested$"), lambda m: _("Withdrawal requested")),
    (re.compile(r"^Withdrawal paid out$"), lambda m: _("Withdrawal paid out")),
    (re.compile(r"^Withdrawal cancelled$"), lambda m: _("Withdrawal cancelled")),
    (re.compile(r"^Debt paid from funds$"), lambda m: _("Debt paid from funds")),
    (re.compile(r"^Chargeback decided in our favour$"),
     lambda m: _("Chargeback decided in our favour")),
    (re.compile(r"^Demo funds$"), lambda m: _("Demo funds")),
    (re.compile(r"^Reversed: (.*)$"), lambda m: _("Taken back: %(reason)s", reason=m[1])),
    (re.compile(r"^Support plan (.+) \((monthly|yearly)\)(?: (\S+))?$"),
     lambda m: _("Support plan %(plan)s (%(cycle)s) %(period)s", plan=m[1],
                 cycle=label(m[2], "cycle"), period=m[3] or "").strip()),
    (re.compile(r"^Support plan change on (\S+): (.+) credited for the unused part$"),
     lambda m: _("Support plan change on %(date)s: %(plan)s credited for the unused part",
                 date=m[1], plan=m[2])),
    (re.compile(r"^Support work on ticket #(\d+): (.*)$"),
     lambda m: _("Support work on ticket #%(id)s: %(detail)s", id=m[1], detail=m[2])),
]


def describe(text: str | None) -> str:
    """A stored description in the page's language (text typed by a person stays as is)."""
    if not text:
        return ""
    for pattern, render in _PATTERNS:
        if match := pattern.match(text):
            return render(match)
    return text
