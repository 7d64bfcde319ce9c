"""WHMCS contacts as Tunnus contacts: the registrant and ``admin``-prefixed fields of an
order, the TLD fields of ``additionalfields`` (the module's
``resources/domains/additionalfields.php``), and the per-domain contact details WHMCS
shows and saves.

Saving follows Tunnus's rules: a contact another domain (or another role) also uses is
never edited behind it — the changed role gets a new contact for this domain only; a new
holder of the domain (name, organisation or identity), or any change to a shared
registrant, is an owner change order (its fee, the TLD's rules, the current registrant's
confirmation by e-mail unless the reseller is its designated agent), charged once however
often WHMCS repeats the call.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.errors import ValidationFailed
from reseller.core.extensions import db
from reseller.domains import services as domains
from reseller.domains.models import LIVE_STATUSES, Contact, Domain, Order
from reseller.whmcs import keys
from reseller.whmcs.base import domain_name, function

# WHMCS contact-details labels and our contact fields.
LABELS = {"First Name": "firstname", "Last Name": "lastname", "Company Name": "companyname",
          "Email Address": "email", "Address 1": "address1", "Address 2": "address2",
          "City": "city", "State": "state", "Postcode": "postcode", "Country": "countrycode",
          "Phone Number": "fullphonenumber"}
ROLES = {"Registrant": "registrant", "Admin": "admin", "Technical": "tech"}
# additionalfields.php names (keep in step with integrations/whmcs/.../additionalfields.php).
TYPE_FIELD, NUMBER_FIELD = "Registrant Type", "Identity Number"
CITIZENSHIP_FIELD = "Country of Citizenship"  # .eu: an EU citizen living anywhere
IDENTITY_TLDS = frozenset({"fi", "se", "nu"})  # the TLDs whose fields carry an identity
TYPED_TLDS = IDENTITY_TLDS | {"eu"}
DETAILS = ("name", "organization", "email", "phone", "street", "city", "postal_code",
           "country")
HOLDER = ("name", "organization", "entity_type", "registration_number", "personal_id")


def _phone(fields: dict[str, Any], prefix: str) -> str:
    full = str(fields.get(f"{prefix}fullphonenumber") or "").replace(" ", "")
    if full:
        return full
    cc = str(fields.get(f"{prefix}phonecc") or "").lstrip("+")
    number = str(fields.get(f"{prefix}phonenumber") or "").replace(" ", "").lstrip("0")
    return f"+{cc}.{number}" if cc else number


def _language(country: str) -> str:
    return {"FI": "fi", "SE": "sv", "AX": "sv"}.get(country, "en")


def _identity(tld: str, fields: dict[str, Any], organization: str | None) -> dict[str, Any]:
    """Holder type and number from the TLD's additional fields (None: not given)."""
    if tld not in TYPED_TLDS:
        return {}
    kind = str(fields.get(TYPE_FIELD) or "").strip() or None
    found: dict[str, Any] = {"entity_type": kind}
    number = str(fields.get(NUMBER_FIELD) or "").strip()
    if number and tld in IDENTITY_TLDS:
        person = (kind or ("company" if organization else "person")) == "person"
        found["personal_id" if person else "registration_number"] = number
    citizenship = str(fields.get(CITIZENSHIP_FIELD) or "").strip().upper()
    if tld == "eu" and citizenship:
        found["citizenship"] = citizenship
    return found


def contact_data(fields: dict[str, Any], prefix: str = "", *, tld: str = "",
                 identity: dict[str, Any] | None = None) -> dict[str, Any]:
    """Our contact fields from WHMCS's (``admin``-prefixed for the admin contact),
    checked as the API checks a contact (``ValidationFailed`` otherwise)."""
    def get(key: str) -> str:
        return str(fields.get(prefix + key) or "").strip()

    country = (get("countrycode") or get("country")).upper()
    name = " ".join(part for part in (get("firstname"), get("lastname")) if part)
    street = ", ".join(part for part in (get("address1"), get("address2")) if part)
    data = {"name": name, "organization": get("companyname") or None, "email": get("email"),
            "phone": _phone(fields, prefix), "street": street, "city": get("city"),
            "postal_code": get("postcode"), "country": country, "language": _language(country),
            **(identity or {})}
    data = domains.validate_contact(data)
    # As a contact stores it (``create_contact``): stated, else by the organisation.
    data["entity_type"] = data.get("entity_type") or \
        ("company" if data.get("organization") else "person")
    check_tld_rules(tld, data)
    return data


def check_tld_rules(tld: str, data: dict[str, Any]) -> None:
    """Eligibility a registry checks on the holder (EURid: established or resident in the
    EU/EEA, or a person with an EU citizenship, the "Country of Citizenship" field)."""
    domains.check_eligibility(tld, data, field="country")


def role_contacts(reseller_id: int, params: dict[str, Any], tld: str) -> dict[str, int]:
    """New contacts for an order: the registrant (with the TLD's identity fields) and the
    admin contact, who is also the technical one."""
    fields = params.get("additionalfields")
    fields = fields if isinstance(fields, dict) else {}
    registrant_data = contact_data(params, tld=tld, identity=_identity(
        tld, fields, params.get("companyname") or None))
    admin_data = None
    if params.get("adminfirstname") or params.get("adminemail"):
        admin_data = contact_data(params, "admin")
    registrant = domains.create_contact(reseller_id=reseller_id, **registrant_data)
    admin = registrant if admin_data is None else \
        domains.create_contact(reseller_id=reseller_id, **admin_data)
    return {"registrant": registrant.id, "admin": admin.id, "tech": admin.id}


# -- GetContactDetails / SaveContactDetails ------------------------------------------------

def _details(contact: Contact | None, *, identity: bool = False) -> dict[str, str]:
    if contact is None:
        shown = {label: "" for label in LABELS}
    else:
        first, _, last = contact.name.partition(" ")
        shown = {"First Name": first, "Last Name": last,
                 "Company Name": contact.organization or "", "Email Address": contact.email,
                 "Address 1": contact.street, "Address 2": "", "City": contact.city,
                 "State": "", "Postcode": contact.postal_code, "Country": contact.country,
                 "Phone Number": contact.phone}
    if identity:  # the holder's identity, the number masked as the API shows it
        number = contact and (contact.personal_id or contact.registration_number)
        shown[TYPE_FIELD] = (contact.entity_type or "") if contact else ""
        shown[NUMBER_FIELD] = _mask(number)
    return shown


def _mask(number: str | None) -> str:
    if not number:
        return ""
    keep = 4 if len(number) > 6 else 1
    return "".join("*" if ch.isalnum() else ch for ch in number[:-keep]) + number[-keep:]


@function("GetContactDetails", "domains:read")
def get_contact_details(reseller_id: int, params: dict[str, Any], key: str | None,
                        **ctx: Any) -> dict[str, Any]:
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    shown = {label: _details(getattr(domain, role),
                             identity=role == "registrant" and domain.tld in IDENTITY_TLDS)
             for label, role in ROLES.items()}
    if domain.tld == "eu":
        shown["Registrant"][CITIZENSHIP_FIELD] = domain.registrant.citizenship or ""
    return shown


def _wanted(details: dict[str, Any], current: Contact | None, tld: str,
            registrant: bool) -> dict[str, Any]:
    """The contact WHMCS's form describes; a masked identity number that matches the
    one on file stands for it."""
    fields = {field: details.get(label, "") for label, field in LABELS.items()}
    identity = {}
    if registrant and tld in IDENTITY_TLDS and (TYPE_FIELD in details or NUMBER_FIELD in details):
        given = dict(details)
        number = str(given.get(NUMBER_FIELD) or "").strip()
        on_file = current and (current.personal_id or current.registration_number)
        if "*" in number:
            if number != _mask(on_file):
                raise ValidationFailed({NUMBER_FIELD: [_l(
                    "Send the number in full, or leave it as shown to keep it.")]})
            given[NUMBER_FIELD] = on_file
        identity = _identity(tld, given, str(fields.get("companyname") or "") or None)
    elif registrant and current is not None:  # not shown: the holder keeps its identity
        identity = {field: getattr(current, field) for field in
                    ("entity_type", "registration_number", "personal_id")}
    if registrant and current is not None:
        identity["citizenship"] = current.citizenship
    if registrant and tld == "eu" and CITIZENSHIP_FIELD in details:
        identity["citizenship"] = str(details.get(CITIZENSHIP_FIELD) or "").strip().upper() \
            or None
    return contact_data(fields, tld=tld if registrant else "", identity=identity)


def _same(current: Contact, wanted: dict[str, Any], fields: tuple[str, ...]) -> bool:
    return all((getattr(current, field) or None) == (wanted.get(field) or None)
               for field in fields if field in wanted)


def _shared(contact: Contact, domain: Domain, role: str) -> bool:
    """Whether ``contact`` serves anything but ``role`` on ``domain``."""
    if any(getattr(domain, f"{other}_id") == contact.id
           for other in ROLES.values() if other != role):
        return True
    others = db.session.scalar(sa.select(sa.func.count()).select_from(Domain).where(
        Domain.reseller_id == contact.reseller_id, Domain.id != domain.id,
        Domain.status.in_(LIVE_STATUSES),
        sa.or_(Domain.registrant_id == contact.id, Domain.admin_id == contact.id,
               Domain.tech_id == contact.id)))
    if others:
        return True
    open_orders = db.session.scalars(sa.select(Order).where(
        Order.reseller_id == contact.reseller_id, Order.state.in_(("pending", "held"))))
    return any(contact.id in (order.params.get("contacts") or {}).values()
               or order.params.get("registrant") == contact.id for order in open_orders)


@function("SaveContactDetails", "domains:write")
def save_contact_details(reseller_id: int, params: dict[str, Any], key: str | None,
                         **ctx: Any) -> dict[str, Any]:
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    given = params.get("contactdetails") or {}
    if not isinstance(given, dict):
        raise ValidationFailed({"contactdetails": [_l("Give contact details per role.")]})
    wanted = {role: _wanted(given[label], getattr(domain, role), domain.tld,
                            role == "registrant")
              for label, role in ROLES.items() if isinstance(given.get(label), dict)}
    owner = wanted.pop("registrant", None)
    _save_roles(reseller_id, domain, wanted)
    if owner is not None:
        _save_registrant(reseller_id, domain, owner, key,
                         designated_agent=_checked(params.get("DesignatedAgent")))
    return {"success": True}


def _checked(value: Any) -> bool:
    """A WHMCS ``yesno`` setting: "on" when ticked."""
    return str(value or "").strip().lower() in ("on", "1", "yes", "true")


def _save_roles(reseller_id: int, domain: Domain, wanted: dict[str, dict[str, Any]]) -> None:
    """Admin and technical contacts: an own contact is edited; a shared one is replaced
    for this domain by a new contact (one for both roles when they are given alike)."""
    new: dict[str, int] = {}
    made: list[tuple[dict[str, Any], int]] = []
    for role, data in wanted.items():
        current = getattr(domain, role)
        if current is not None and _same(current, data, DETAILS):
            continue
        if current is not None and not _shared(current, domain, role):
            data = {k: v for k, v in data.items() if k != "language"}
            domains.update_contact(reseller_id=reseller_id, contact_id=current.id, **data)
            continue
        twin = next((contact_id for made_data, contact_id in made if made_data == data), None)
        if twin is None:
            twin = domains.create_contact(reseller_id=reseller_id, **data).id
            made.append((data, twin))
        new[role] = twin
    if new:
        domains.set_contacts(reseller_id=reseller_id, name=domain.name, **new)


def _save_registrant(reseller_id: int, domain: Domain, data: dict[str, Any],
                     given_key: str | None, *, designated_agent: bool = False) -> None:
    current = domain.registrant
    if _same(current, data, DETAILS + HOLDER + ("citizenship",)):
        return
    if _same(current, data, HOLDER) and not _shared(current, domain, "registrant"):
        # The same holder's new address or phone: an update of its own contact.
        data = {k: v for k, v in data.items() if k != "language"}
        domains.update_contact(reseller_id=reseller_id, contact_id=current.id, **data)
        return
    # A new holder, or a contact other domains share: an owner change of this domain only.
    # Identity numbers stay out of the key (it is stored; they are personal data).
    described = {k: v for k, v in data.items() if k not in ("registration_number",
                                                             "personal_id")}
    key, placed = keys.order_key(reseller_id, given_key or keys.derive(
        "SaveContactDetails", domain.name, described))
    if placed is not None:
        return  # WHMCS repeated the call: the owner change is already ordered
    contact = domains.create_contact(reseller_id=reseller_id, **data)
    # The current registrant confirms by e-mail (the order waits), unless the reseller set
    # the module's "Designated Agent" option: it holds the registrants' authorisation.
    domains.order_owner_change(reseller_id=reseller_id, name=domain.name,
                               registrant=contact.id, idempotency_key=key,
                               designated_agent=designated_agent)
