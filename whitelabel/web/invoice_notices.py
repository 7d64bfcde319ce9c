"""Emails from the operator to a reseller's billing contacts: invoice issued, overdue, and
an automatic card charge declined.

Listeners on the wallet's ``invoice.issued``, ``invoice.overdue`` and
``invoice.payment_failed`` events, whose data carries what the mail says (number, dates,
amounts, reference); the recipients come from the kernel's reseller directory. The message
rows are written in the same transaction as the event (the outbox sends them after
commit); the issued invoice's PDF is attached when the message is sent, loaded by the
wallet's ``invoice_pdf`` document loader.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from reseller.core.directory import reseller_profile
from reseller.core.events import Event, on_event
from whitelabel.outbox import queue_message


def _subject(template: str, number: str, operator: str) -> str:
    if template == "issued":
        return gettext("Invoice %(number)s from %(operator)s", number=number, operator=operator)
    if template == "overdue":
        return gettext("Reminder: invoice %(number)s is overdue", number=number)
    return gettext("Card payment of invoice %(number)s was declined", number=number)


def _notify(event: Event, template: str) -> None:
    number = event.data.get("number")
    # Only the wallet's own invoice events (a credit note, or an event recorded by hand
    # without an invoice number, is mailed to nobody).
    if not number or event.data.get("kind", "invoice") != "invoice":
        return
    reseller = reseller_profile(event.reseller_id) if event.reseller_id else None
    if reseller is None:
        return
    config = current_app.config
    context = {"data": event.data, "reseller": reseller, "operator": config["OPERATOR_BRAND"],
               "link": config["BASE_URL"] + "/billing/invoices"}
    with force_locale(reseller.language):
        subject = _subject(template, number, config["OPERATOR_BRAND"])
        text = render_template(f"emails/invoices/{template}.txt", **context)
        html = render_template(f"emails/invoices/{template}.html", **context)
    attachments = [{"kind": "invoice_pdf", "ref": number}] if template == "issued" else []
    for recipient in reseller.billing_recipients():
        queue_message(
            dedupe_key=f"{event.dedupe_key}:{recipient}"[:200], recipient=recipient,
            sender=f"{config['OPERATOR_BRAND']} <billing@{config['OPERATOR_DOMAIN']}>",
            language=reseller.language, template=f"invoices/{template}", subject=subject,
            text=text, html=html, reseller_id=reseller.id,
            context={"attachments": attachments})


@on_event("invoice.issued")
def invoice_issued(event: Event) -> None:
    _notify(event, "issued")


@on_event("invoice.overdue")
def invoice_overdue(event: Event) -> None:
    _notify(event, "overdue")


@on_event("invoice.payment_failed")
def invoice_payment_failed(event: Event) -> None:
    """Only automatic charges: someone paying by hand sees the outcome on the page."""
    if event.data.get("automatic"):
        _notify(event, "payment_failed")
