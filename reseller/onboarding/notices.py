"""E-mails to applicants: the answer to a rejected application, in the applicant's
language, from the operator (an applicant is nobody's customer yet)."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from reseller.onboarding.models import Application
from whitelabel.outbox import queue_message


def send_rejection(application: Application) -> None:
    """Tell the applicant the answer, with the reason staff gave (if any)."""
    config = current_app.config
    operator = config["OPERATOR_BRAND"]
    context = {"application": application, "operator": operator,
               "reason": application.decision_note}
    with force_locale(application.language):
        queue_message(
            dedupe_key=f"application-rejected:{application.id}",
            recipient=application.contact_email,
            sender=f"{operator} <noreply@{config['OPERATOR_DOMAIN']}>",
            language=application.language, template="application_rejected",
            subject=gettext("Your application to become a %(operator)s reseller",
                            operator=operator),
            text=render_template("emails/onboarding/application_rejected.txt", **context),
            html=render_template("emails/onboarding/application_rejected.html", **context),
        )
