"""Client-area pages for the account's details and a user's own security (blueprint
``client``): company, contact and billing details with their change log; password,
sign-in e-mail, two-factor authentication with a QR code and recovery codes."""

from __future__ import annotations

from typing import Any

import segno
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from reseller.accounts import changes, notices, security, services
from reseller.accounts.schemas import BillingDetailsIn, ChangeEmailIn, CompanyDetailsIn
from reseller.accounts.sessions import sign_in
from reseller.accounts.throttling import SIGN_IN, TOTP, Attempt
from reseller.accounts.views import _address, _describe, _guarded, _too_many, bp
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, TooManyAttempts, ValidationFailed, translate_messages
from reseller.core.permissions import Permission
from reseller.core.web.responses import secret_response
from reseller.core.web.session import login_required, permission_required

_SECTIONS = {"company": CompanyDetailsIn, "billing": BillingDetailsIn}


@bp.route("/account", methods=["GET", "POST"])
@permission_required(Permission.VIEW_ACCOUNT)
def account():
    reseller = g.user.reseller
    section = request.form.get("section")
    errors: dict[str, Any] = {}
    if request.method == "POST" and section in _SECTIONS:
        fields = changes.SECTIONS[section][1]
        values = {field: request.form.get(field, "") for field in fields}
        try:
            with unit_of_work():
                logged = changes.update_details(
                    reseller_id=reseller.id, actor=g.user, section=section,
                    values=_SECTIONS[section]().load_or_raise(values))
        except ValidationFailed as failed:
            errors = {section: translate_messages(failed.errors), "form": values}
        except DomainError as refused:
            errors = {section: {"_schema": [_describe(refused)]}, "form": values}
        else:
            flash(_("Saved: %(n)d changes.", n=len(logged)) if logged
                  else _("Nothing changed."))
            return redirect(url_for("client.account"))
    page = render_template("client/account.html", reseller=reseller, errors=errors,
                           history=changes.history(reseller_id=reseller.id),
                           field_labels=changes.FIELD_LABELS)
    return page, 422 if errors else 200


def qr_svg(uri: str, label: str) -> Markup:
    """The provisioning URI as an inline SVG QR code an authenticator app scans."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, light="#fff")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ',
                              1))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@secret_response  # the page may show a new TOTP seed or recovery codes
def settings():
    shown: dict[str, Any] = {"errors": {}, "refusal": {}, "secret": None, "codes": None,
                             "form": {}}
    if request.method == "POST":
        try:
            _settings_action(request.form.get("action", ""), shown)
        except TooManyAttempts as refused:
            return _too_many("client/settings.html", refused, **_settings_context(shown))
        except ValidationFailed as failed:
            shown["errors"] = translate_messages(failed.errors)
        except DomainError as refused:
            shown["refusal"] = {request.form.get("action", ""): _describe(refused)}
            if request.form.get("action") == "totp_confirm":
                shown["secret"] = g.user.totp_secret
        else:
            if shown.pop("done", False):
                return redirect(url_for("client.settings"))
    return render_template("client/settings.html", **_settings_context(shown)), (
        422 if shown["errors"] or shown["refusal"] else 200)


def _settings_context(shown: dict[str, Any]) -> dict[str, Any]:
    secret = shown.get("secret")
    uri = services.totp_uri(g.user, current_app.config["OPERATOR_BRAND"]) if secret else None
    return {**shown, "uri": uri,
            "qr": qr_svg(uri, _("QR code for your authenticator app")) if uri else None,
            "remaining": security.remaining_recovery_codes(user=g.user)
            if g.user.totp_enabled else None}


def _settings_action(action: str, shown: dict[str, Any]) -> None:
    """Run one settings form; ``shown`` gets what the page must show once."""
    form, user = request.form, g.user
    totp = Attempt(TOTP, str(user.id), _address())
    password = Attempt(SIGN_IN, user.email, _address())  # re-authentication: as sign-in
    shown["form"] = {"email": form.get("email", "")}
    if action == "totp_start":
        with unit_of_work():
            shown["secret"] = services.start_totp_enrolment(user=user)
    elif action == "totp_confirm":
        shown["codes"] = _guarded(totp, lambda: security.enable_totp(
            user=user, code=form.get("code", "")))
        flash(_("Two-factor authentication is on."))
    elif action == "totp_disable":
        _guarded(totp, lambda: security.disable_totp(user=user, code=form.get("code", "")))
        flash(_("Two-factor authentication is off."))
        shown["done"] = True
    elif action == "recovery_codes":
        shown["codes"] = _guarded(password, lambda: _regenerate(user, form.get("password", "")))
    elif action == "password":
        _guarded(password, lambda: _change_password(user, form))
        sign_in(user)  # this session stays; the others end with the old password
        flash(_("Your password was changed."))
        shown["done"] = True
    elif action == "email":
        _guarded(password, lambda: _request_email_change(user, form))
        flash(_("We sent a confirmation link to %(email)s. The address changes when you "
                "open it.", email=form.get("email", "").strip().lower()))
        shown["done"] = True
    elif action == "profile":
        with unit_of_work():
            services.update_profile(user=user, name=form.get("name", "")[:200])
        flash(_("Your name is now shown as %(name)s.", name=user.name))
        shown["done"] = True


def _regenerate(user, password: str) -> list[str]:
    security.check_password(user=user, password=password)
    return security.issue_recovery_codes(user=user)


def _change_password(user, form) -> None:
    security.change_password(user=user, current_password=form.get("current_password", ""),
                             new_password=form.get("new_password", ""),
                             confirm=form.get("confirm", ""))
    notices.send_password_changed(user)


def _request_email_change(user, form) -> None:
    data = ChangeEmailIn().load_or_raise({"email": form.get("email", ""),
                                          "email_password": form.get("email_password", "")})
    token = security.request_email_change(user=user, password=data["email_password"],
                                          new_email=data["email"],
                                          secret_key=current_app.config["SECRET_KEY"])
    notices.send_email_change_link(user, data["email"].strip().lower(), token)


@bp.route("/account/email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """The link from the new address: a button (a mail scanner's GET changes nothing)."""
    error = None
    if request.method == "POST":
        try:
            with unit_of_work():
                user, old = security.confirm_email_change(
                    token=token, secret_key=current_app.config["SECRET_KEY"])
                notices.send_email_changed(user, old)
        except DomainError as refused:
            error = _describe(refused)
        else:
            flash(_("Your sign-in address is now %(email)s.", email=user.email))
            return redirect(url_for("client.settings") if g.get("user") else
                            url_for("client.login"))
    return render_template("client/confirm_email.html", error=error), 400 if error else 200
