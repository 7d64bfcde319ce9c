"""Client-area brand page: brand form with a server-rendered live preview (no JavaScript
needed: "Preview" re-renders the page with the unsaved values), sender domain, DNS."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, translate_messages
from reseller.core.permissions import Permission
from reseller.core.web.session import permission_required, user_can
from whitelabel import brands, messages, sender
from whitelabel.settings import current
from whitelabel.web import schemas, services

bp = Blueprint("branding", __name__, url_prefix="/settings/brand")

FORM_FIELDS = ("name", "logo_url", "primary_color", "accent_color", "support_email",
               "support_phone", "support_url", "default_language")


def _form_data() -> dict:
    data = {k: request.form.get(k, "").strip() for k in FORM_FIELDS}
    for optional in ("logo_url", "support_email", "support_phone", "support_url"):
        data[optional] = data[optional] or None
    return data


def _errors(error: DomainError) -> dict:
    return translate_messages(getattr(error, "errors", None) or {"_": [str(error.title)]})


def _preview(brand) -> str:
    """A sample registrant email in this brand, in its customers' default language."""
    settings = current()
    base = messages.link_base(g.user.reseller_id, settings)
    _subject, _text, html = messages.render(
        "renewal_reminder", language=brand.default_language, brand=brand,
        context={"domain": "example.fi", "expires_at": clock.now() + timedelta(days=30)},
        base=base, action_url=f"{base}/go/renewal/preview")
    return html


@bp.route("", methods=["GET", "POST"])
@permission_required(Permission.VIEW_ACCOUNT)
def settings():
    rid = g.user.reseller_id
    errors, brand = {}, None
    if request.method == "POST":
        action = request.form.get("action")
        if action != "preview" and not _may_manage():
            return redirect(url_for("branding.settings"))
        try:
            if action == "preview":
                data = schemas.BrandIn().load_or_raise(_form_data())
                brand = brands.preview_brand(reseller_id=rid, **data)
            else:
                with unit_of_work():
                    _apply(action, rid)
                return redirect(url_for("branding.settings"))
        except DomainError as refused:
            errors = _errors(refused)
            brand = brands.preview_brand(reseller_id=rid, **{
                k: v for k, v in _form_data().items() if v})
    overview = services.overview(reseller_id=rid, settings=current())
    brand = brand or overview["brand"]
    return render_template("branding/settings.html", brand=brand, overview=overview,
                           preview=_preview(brand), errors=errors, purposes=sender.PURPOSES,
                           previewing=request.method == "POST" and not errors), \
        422 if errors else 200


def _may_manage() -> bool:
    if user_can(Permission.MANAGE_BRAND):
        return True
    flash(_("Your role cannot change the brand."), "error")
    return False


def _apply(action: str | None, rid: int) -> None:
    if action == "save":
        data = schemas.BrandIn().load_or_raise(_form_data())
        services.save(reseller_id=rid, data=data)
        flash(_("Brand saved."))
    elif action == "domain":
        value = request.form.get("sender_domain", "").strip() or None
        data = schemas.BrandIn().load_or_raise({"sender_domain": value})
        services.save(reseller_id=rid, data=data)
        flash(_("Sender domain saved. Publish the DNS records below, then check them."))
    elif action == "verify":
        result = services.verify(reseller_id=rid, settings=current())
        if result["verified"]:
            flash(_("All required records are in place: mail now uses your domain."))
        else:
            flash(_("Some records are not right yet; see the table."), "error")
