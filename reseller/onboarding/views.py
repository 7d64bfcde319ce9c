"""The public ``/apply`` page; errors come from the same schema as the API, translated."""

from flask import Blueprint, render_template, request

from reseller.core.db import unit_of_work
from reseller.core.errors import ValidationFailed, translate_messages
from reseller.core.identity import ALLOWED_COUNTRIES
from reseller.onboarding import schemas, services

bp = Blueprint("onboarding", __name__)

FIELDS = ("company_name", "country", "business_id", "vat_id", "website", "street", "city",
          "postal_code", "contact_name", "contact_email", "contact_phone", "language")


@bp.route("/apply", methods=["GET", "POST"])
def apply():
    errors: dict = {}
    form = {field: request.form.get(field, "").strip() for field in FIELDS}
    if request.method == "POST":
        data = {k: v for k, v in form.items() if v != "" or k in {"company_name", "country",
                "business_id", "website", "contact_name", "contact_email"}}
        try:
            with unit_of_work():
                services.submit_application(**schemas.ApplicationIn().load_or_raise(data))
        except ValidationFailed as failed:
            errors = translate_messages(failed.errors)
        else:
            return render_template("onboarding/applied.html")
    return render_template("onboarding/apply.html", form=form, errors=errors,
                           labels=schemas.LABELS, countries=sorted(ALLOWED_COUNTRIES)), (
        422 if errors else 200)
