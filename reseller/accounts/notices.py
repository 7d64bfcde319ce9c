"""Emails from the operator to reseller users: invitations, password resets and notices
of changes to a user's sign-in details (in the user's language).

These go to the operator's own customers (resellers), so they carry the operator's name;
nothing here ever reaches a reseller's customer.
"""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import force_locale, gettext

from reseller.accounts.models import User
from reseller.accounts.passwords import make_password_token
from whitelabel.outbox import queue_message


def _send(user: User, template: str, subject: str, link: str | None, key: str, *,
          recipient: str | None = None, **extra: str) -> None:
    language = user.language or (user.reseller.language if user.reseller else "en")
    config = current_app.config
    with force_locale(language):
        context = {"user": user, "link": link, "operator": config["OPERATOR_BRAND"], **extra}
        queue_message(
            dedupe_key=key,
            recipient=recipient or user.email,
            sender=f"{config['OPERATOR_BRAND']} <noreply@{config['OPERATOR_DOMAIN']}>",
            language=language,
            template=template,
            subject=gettext(subject, operator=config["OPERATOR_BRAND"]),
            text=render_template(f"emails/account/{template}.txt", **context),
            html=render_template(f"emails/account/{template}.html", **context),
            reseller_id=user.reseller_id,
        )


def _link(endpoint: str, token: str) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint, token=token)


def send_invitation(user: User) -> None:
    token = make_password_token(user=user, secret_key=current_app.config["SECRET_KEY"])
    _send(user, "invitation", "Your %(operator)s reseller account",
          _link("client.set_password", token), f"invite:{user.id}:{token[-16:]}")


def send_password_reset(user: User) -> None:
    token = make_password_token(user=user, secret_key=current_app.config["SECRET_KEY"])
    _send(user, "password_reset", "Reset your %(operator)s password",
          _link("client.set_password", token), f"reset:{user.id}:{token[-16:]}")


def send_email_change_link(user: User, new_email: str, token: str) -> None:
    """The confirmation link goes to the new address: the change happens when it is opened."""
    _send(user, "email_change", "Confirm your new %(operator)s sign-in address",
          _link("client.confirm_email", token), f"email-change:{user.id}:{token[-16:]}",
          recipient=new_email, new_email=new_email)


def send_email_changed(user: User, old_email: str) -> None:
    """The notice to the address the account no longer signs in with."""
    _send(user, "email_changed", "Your %(operator)s sign-in address was changed",
          current_app.config["BASE_URL"] + url_for("client.forgot_password"),
          f"email-changed:{user.id}:{old_email}:{user.email}", recipient=old_email,
          old_email=old_email, new_email=user.email)


def send_password_changed(user: User) -> None:
    _send(user, "password_changed", "Your %(operator)s password was changed",
          current_app.config["BASE_URL"] + url_for("client.forgot_password"),
          f"password-changed:{user.id}:{(user.password_hash or '')[-16:]}")
