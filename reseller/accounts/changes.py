"""The company, contact and billing details a reseller edits, and the account's change
log: every change to them and to users' sign-in details, with who, when, old and new."""

from __future__ import annotations

import phonenumbers
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from stdnum import iban

from reseller.accounts.errors import PermissionDenied
from reseller.accounts.models import AccountChange, Reseller, User
from reseller.core.errors import NotFound, ValidationFailed
from reseller.core.extensions import db
from reseller.core.identity import InvalidIdentifier, normalize_business_id, normalize_vat_id
from reseller.core.permissions import Permission, can

COMPANY_FIELDS = ("company_name", "business_id", "vat_id", "street", "postal_code", "city",
                  "website", "contact_email", "contact_phone", "language")
BILLING_FIELDS = ("billing_email", "einvoice_address")
SECTIONS = {"company": (Permission.MANAGE_ACCOUNT, COMPANY_FIELDS),
            "billing": (Permission.MANAGE_BILLING, BILLING_FIELDS)}
# What each logged field is called on the account page.
FIELD_LABELS = {
    "company_name": _l("Company name"), "business_id": _l("Business ID"),
    "vat_id": _l("VAT ID"), "street": _l("Street address"), "postal_code": _l("Postal code"),
    "city": _l("City"), "website": _l("Website"), "contact_email": _l("Contact email"),
    "contact_phone": _l("Contact phone"), "language": _l("Language"),
    "billing_email": _l("Billing email"), "einvoice_address": _l("E-invoice address"),
    "email": _l("Sign-in e-mail address"), "password": _l("Password"),
    "totp": _l("Two-factor authentication"), "recovery_codes": _l("New recovery codes"),
    "recovery_code_used": _l("Recovery code used"),
}
# Fields that hold personal data: blanked in the log when the account's data is deleted.
PERSONAL_FIELDS = ("contact_email", "contact_phone", "billing_email", "email")


def record(*, reseller_id: int | None, actor: User | None, field: str,
           user: User | None = None, old: str | None = None,
           new: str | None = None) -> AccountChange:
    change = AccountChange(reseller_id=reseller_id, user_id=user.id if user else None,
                           actor_id=actor.id if actor else None,
                           actor_email=actor.email if actor else "", field=field,
                           old_value=old, new_value=new)
    db.session.add(change)
    return change


def history(*, reseller_id: int, limit: int = 50) -> list[AccountChange]:
    """The account's latest changes, newest first."""
    return list(db.session.scalars(
        sa.select(AccountChange).where(AccountChange.reseller_id == reseller_id)
        .order_by(AccountChange.id.desc()).limit(limit)))


def update_details(*, reseller_id: int, actor: User, section: str,
                   values: dict[str, str | None]) -> list[AccountChange]:
    """Apply one form's values (``section``: company or billing) and log each change.

    Business and VAT IDs are validated (checksums, python-stdnum) for the account's
    country, the phone is normalised to ``+CC.NUMBER``; any refusal changes nothing."""
    permission, fields = SECTIONS[section]
    if not can(actor.role, permission) or actor.reseller_id != reseller_id:
        raise PermissionDenied()
    reseller = db.session.get(Reseller, reseller_id)
    if reseller is None:
        raise NotFound()
    values = _checked(reseller.country, {k: v for k, v in values.items() if k in fields})
    logged = []
    for field, new in values.items():
        old = getattr(reseller, field)
        if (old or None) == new:
            continue
        setattr(reseller, field, new)
        logged.append(record(reseller_id=reseller_id, actor=actor, field=field,
                             old=old, new=new))
    db.session.flush()
    return logged


def _checked(country: str, values: dict[str, str | None]) -> dict[str, str | None]:
    errors: dict[str, list] = {}
    checks = {"business_id": lambda v: normalize_business_id(country, v),
              "vat_id": lambda v: normalize_vat_id(country, v),
              "contact_phone": lambda v: normalize_phone(country, v),
              "einvoice_address": normalize_einvoice_address}
    for field, check in checks.items():
        if values.get(field):
            try:
                values[field] = check(values[field])
            except InvalidIdentifier as error:
                errors[field] = [str(error)]
    if errors:
        raise ValidationFailed(errors)
    return values


def normalize_phone(country: str, value: str) -> str:
    """Any common way to write a phone number (national or international) as the
    registries' ``+CC.NUMBER``."""
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException as error:
        raise InvalidIdentifier(_l("Not a valid phone number.")) from error
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentifier(_l("Not a valid phone number."))
    return f"+{number.country_code}.{number.national_number}"


def normalize_einvoice_address(value: str) -> str:
    """An OVT code (0037 + business ID digits + optional suffix), an IBAN or a GLN: the
    addresses the e-invoice writer (wallet.invoices.einvoice) puts in a Peppol scheme."""
    address = value.replace(" ", "").upper()
    if (address.isdigit() and address.startswith("0037") and 12 <= len(address) <= 17) \
            or iban.is_valid(address) or (address.isdigit() and len(address) == 13):
        return address
    raise InvalidIdentifier(_l("Use an OVT code (0037…), an IBAN or a GLN."))


def forget_personal_values(*, reseller_id: int) -> None:
    """Account closure: blank logged personal data (who changed what stays)."""
    db.session.execute(sa.update(AccountChange).where(
        AccountChange.reseller_id == reseller_id,
        AccountChange.field.in_(PERSONAL_FIELDS)).values(old_value=None, new_value=None))
    db.session.execute(sa.update(AccountChange).where(
        AccountChange.reseller_id == reseller_id).values(actor_email=""))
