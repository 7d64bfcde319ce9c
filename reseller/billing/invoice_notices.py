"""Emails from the operator to a reseller's billing contacts: invoice issued, overdue, and
an automatic card charge declined.

Listeners on the ``invoice.issued``, ``invoice.overdue`` and ``invoice.payment_failed``
events; the message rows are written in the same transaction as the event (the outbox
sends them after commit).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, gettext

from reseller.accounts.models import Reseller
from reseller.core.events import Event, on_event
from reseller.core.extensions import db
from wallet.invoices import pdf
from wallet.invoices.models import Invoice
from whitelabel.outbox import attachment_loader, queue_message


def billing_recipients(reseller: Reseller) -> list[str]:
    """The billing email (or the contact email), plus active users with the billing role."""
    emails = [reseller.billing_email or reseller.contact_email]
    emails += [user.email for user in reseller.users if user.active and user.role == "billing"]
    return list(dict.fromkeys(email.lower() for email in emails if email))


def _notify(event: Event, template: str) -> None:
    invoice = db.session.scalar(sa.select(Invoice).where(
        Invoice.reseller_id == event.reseller_id, Invoice.number == event.data.get("number"),
        Invoice.kind == "invoice"))
    if invoice is None:  # not one of our invoices (e.g. an event replayed by hand)
        return
    reseller = db.session.get(Reseller, event.reseller_id)
    config = current_app.config
    context = {"data": event.data, "reseller": reseller, "operator": config["OPERATOR_BRAND"],
               "link": config["BASE_URL"] + "/billing/invoices"}
    with force_locale(reseller.language):
        number = event.data["number"]
        subject = {
            "issued": lambda: gettext("Invoice %(number)s from %(operator)s", number=number,
                                      operator=config["OPERATOR_BRAND"]),
            "overdue": lambda: gettext("Reminder: invoice %(number)s is overdue", number=number),
            "payment_failed": lambda: gettext("Card payment of invoice %(number)s was declined",
                                              number=number),
        }[template]()
        text = render_template(f"emails/invoices/{template}.txt", **context)
        html = render_template(f"emails/invoices/{template}.html", **context)
    attachments = ([{"kind": "invoice_pdf", "ref": invoice.number}]
                   if template == "issued" else [])
    for recipient in billing_recipients(reseller):
        queue_message(
            dedupe_key=f"{event.dedupe_key}:{recipient}"[:200], recipient=recipient,
            sender=f"{config['OPERATOR_BRAND']} <billing@{config['OPERATOR_DOMAIN']}>",
            language=reseller.language, template=f"invoices/{template}", subject=subject,
            text=text, html=html, reseller_id=reseller.id,
            context={"attachments": attachments})


@attachment_loader("invoice_pdf")
def invoice_pdf_attachment(number: str) -> tuple[str, str, bytes] | None:
    """The stored PDF (rendered now if the month-end job has not stored it yet)."""
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.number == number))
    if invoice is None:
        return None
    return f"{invoice.number}.pdf", "application/pdf", pdf.ensure_pdf(invoice).content


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
