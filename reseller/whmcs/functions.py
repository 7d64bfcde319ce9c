"""WHMCS registrar-module functions on the domain, contact, catalogue and DNS services.

Each function takes the WHMCS ``params`` (as WHMCS passes them to the PHP module, which
forwards them) and returns the shape WHMCS expects from the module function. Errors are
``DomainError``s; the view turns them into ``{"error": message}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.catalog import services as catalog
from reseller.catalog.models import TLDS
from reseller.core.clock import clock
from reseller.core.errors import DomainError, ValidationFailed
from reseller.core.extensions import db
from reseller.dns import services as dns
from reseller.dns.errors import ZoneNotFound
from reseller.domains import services as domains
from reseller.domains.errors import DomainNotFound, OrderNotFound
from reseller.domains.models import Contact, Domain, Order
from wallet.money import Money

FUNCTIONS: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {}
NAMESERVER_KEYS = ("ns1", "ns2", "ns3", "ns4", "ns5")
# WHMCS contact-details labels and our contact fields.
LABELS = {"First Name": "firstname", "Last Name": "lastname", "Company Name": "companyname",
          "Email Address": "email", "Address 1": "address1", "Address 2": "address2",
          "City": "city", "State": "state", "Postcode": "postcode", "Country": "countrycode",
          "Phone Number": "fullphonenumber"}
ROLES = {"Registrant": "registrant", "Admin": "admin", "Technical": "tech"}


class UnknownFunction(DomainError):
    status = 404
    code = "unknown_function"
    title = _l("This WHMCS function is not provided")


def function(name: str, scope: str) -> Callable:
    def register(func: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        FUNCTIONS[name] = (scope, func)
        return func

    return register


def domain_name(params: dict[str, Any]) -> str:
    sld, tld = str(params.get("sld") or "").strip(), str(params.get("tld") or "").strip(". ")
    if sld and tld:
        return f"{sld}.{tld}"
    if params.get("domainname") or params.get("domain"):
        return str(params.get("domainname") or params.get("domain")).strip()
    raise ValidationFailed({"sld": [_l("Give sld and tld (or domainname).")]})


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "on", "yes", "locked"}


def _period(params: dict[str, Any]) -> int:
    try:
        return int(params.get("regperiod") or 1)
    except (TypeError, ValueError):
        raise ValidationFailed({"regperiod": [_l("Give the period in whole years.")]}) from None


def _accept_price(params: dict[str, Any]) -> Money | None:
    """WHMCS's premium consent (registrar-module params ``premiumEnabled``/``premiumCost``):
    with premium domains off, no premium price is accepted; with them on, the cost price
    WHMCS quoted the customer (our net EUR from CheckAvailability) is the most we charge."""
    if not _flag(params.get("premiumEnabled")):
        return None
    cost = str(params.get("premiumCost") or "").strip()
    if not cost:
        return None  # not a premium order: standard names need no consent
    return domains.accepted_price(cost, field="premiumCost")


def _phone(fields: dict[str, Any], prefix: str) -> str:
    full = str(fields.get(f"{prefix}fullphonenumber") or "").replace(" ", "")
    if full:
        return full if "." in full else full.replace("+", "+", 1)
    cc = str(fields.get(f"{prefix}phonecc") or "").lstrip("+")
    number = str(fields.get(f"{prefix}phonenumber") or "").replace(" ", "").lstrip("0")
    return f"+{cc}.{number}" if cc else number


def _language(country: str) -> str:
    return {"FI": "fi", "SE": "sv", "AX": "sv"}.get(country, "en")


def contact_data(fields: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Our contact fields from WHMCS's (``admin``-prefixed for the admin contact)."""
    def get(key: str) -> str:
        return str(fields.get(prefix + key) or "").strip()

    country = (get("countrycode") or get("country")).upper()
    name = " ".join(part for part in (get("firstname"), get("lastname")) if part)
    street = ", ".join(part for part in (get("address1"), get("address2")) if part)
    data = {"name": name, "organization": get("companyname") or None, "email": get("email"),
            "phone": _phone(fields, prefix), "street": street, "city": get("city"),
            "postal_code": get("postcode"), "country": country, "language": _language(country)}
    return domains.validate_contact(data)


def _new_contact(reseller_id: int, fields: dict[str, Any], prefix: str = "") -> Contact:
    return domains.create_contact(reseller_id=reseller_id,
                                           **contact_data(fields, prefix))


def _role_contacts(reseller_id: int, params: dict[str, Any]) -> dict[str, int]:
    registrant = _new_contact(reseller_id, params)
    admin = registrant
    if params.get("adminfirstname") or params.get("adminemail"):
        admin = _new_contact(reseller_id, params, "admin")
    return {"registrant": registrant.id, "admin": admin.id, "tech": admin.id}


def _nameservers(params: dict[str, Any]) -> list[str]:
    return [str(params[key]).strip() for key in NAMESERVER_KEYS if params.get(key)]


CLAIMS_FIELD = "Claims Notice ID"  # a WHMCS custom domain field (additionalfields.php)


def _claims_ack(params: dict[str, Any]) -> str | None:
    """The acknowledged trademark claims notice: the ``Claims Notice ID`` custom domain
    field WHMCS passes in ``additionalfields`` (or a ``claims_ack`` parameter)."""
    fields = params.get("additionalfields")
    value = fields.get(CLAIMS_FIELD) if isinstance(fields, dict) else None
    value = value or params.get("claims_ack")
    return value.strip()[:64] or None if isinstance(value, str) else None


@function("RegisterDomain", "domains:write")
def register_domain(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    accept_price = _accept_price(params)  # checked before any contact is made
    try:
        domains.order_register(reseller_id=reseller_id, name=domain_name(params),
                               period=_period(params),
                               contacts=_role_contacts(reseller_id, params),
                               nameservers=_nameservers(params),
                               privacy=_flag(params.get("idprotection")), idempotency_key=key,
                               accept_price=accept_price, claims_ack=_claims_ack(params))
    except DomainError as refused:
        notice = refused.extra.get("notice") if refused.code == "claims_notice_required" \
            else None
        if not notice:
            raise
        marks = "; ".join(f"{m['mark']} ({m['holder']})" for m in notice["marks"])
        raise type(refused)(_l(
            "Trademark claims notice: %(name)s matches the protected mark %(marks)s. Show "
            "the notice to the customer; if they still want the name, set the domain's "
            "field \"%(field)s\" to %(id)s and register again.", name=notice["unicode_name"],
            marks=marks, field=CLAIMS_FIELD, id=notice["id"]), notice=notice) from None
    return {"success": True}


@function("TransferDomain", "domains:write")
def transfer_domain(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    accept_price = _accept_price(params)  # checked before any contact is made
    contacts = _role_contacts(reseller_id, params) if params.get("email") else None
    domains.order_transfer(reseller_id=reseller_id, name=domain_name(params),
                           auth_code=str(params.get("eppcode") or params.get("transfersecret")
                                         or ""),
                           contacts=contacts, idempotency_key=key, accept_price=accept_price)
    return {"success": True}


@function("RenewDomain", "domains:write")
def renew_domain(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domains.order_renew(reseller_id=reseller_id, name=domain_name(params),
                        period=_period(params), idempotency_key=key,
                        accept_price=_accept_price(params))
    return {"success": True}


@function("GetNameservers", "domains:read")
def get_nameservers(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    servers = list(domain.nameservers or [])
    return {f"ns{i}": (servers[i - 1] if i <= len(servers) else "") for i in range(1, 6)}


@function("SaveNameservers", "domains:write")
def save_nameservers(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domains.set_nameservers(reseller_id=reseller_id, name=domain_name(params),
                            nameservers=_nameservers(params))
    return {"success": True}


@function("GetRegistrarLock", "domains:read")
def get_registrar_lock(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    return {"lockstatus": "locked" if domain.locked else "unlocked"}


@function("SaveRegistrarLock", "domains:write")
def save_registrar_lock(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domains.set_lock(reseller_id=reseller_id, name=domain_name(params),
                     locked=_flag(params.get("lockenabled")))
    return {"success": True}


def _details(contact: Contact | None) -> dict[str, str]:
    if contact is None:
        return {label: "" for label in LABELS}
    first, _, last = contact.name.partition(" ")
    return {"First Name": first, "Last Name": last, "Company Name": contact.organization or "",
            "Email Address": contact.email, "Address 1": contact.street, "Address 2": "",
            "City": contact.city, "State": "", "Postcode": contact.postal_code,
            "Country": contact.country, "Phone Number": contact.phone}


@function("GetContactDetails", "domains:read")
def get_contact_details(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    return {label: _details(getattr(domain, role)) for label, role in ROLES.items()}


def _fields_from_details(details: dict[str, Any]) -> dict[str, Any]:
    return {field: details.get(label, "") for label, field in LABELS.items()}


@function("SaveContactDetails", "domains:write")
def save_contact_details(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    given = params.get("contactdetails") or {}
    if not isinstance(given, dict):
        raise ValidationFailed({"contactdetails": [_l("Give contact details per role.")]})
    new_roles: dict[str, int] = {}
    for label, role in ROLES.items():
        details = given.get(label)
        if not isinstance(details, dict):
            continue
        data = contact_data(_fields_from_details(details))
        current = getattr(domain, role)
        shared = current is not None and role != "registrant" and \
            current.id == domain.registrant_id
        if current is None or shared:
            new_roles[role] = _new_contact_from(reseller_id, data).id
        else:
            domains.update_contact(reseller_id=reseller_id, contact_id=current.id,
                                            **data)
    if new_roles:
        domains.set_contacts(reseller_id=reseller_id, name=domain.name, **new_roles)
    return {"success": True}


def _new_contact_from(reseller_id: int, data: dict[str, Any]) -> Contact:
    return domains.create_contact(reseller_id=reseller_id, **data)


@function("GetEPPCode", "domains:write")
def get_epp_code(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    return {"eppcode": domains.request_auth_code(reseller_id=reseller_id,
                                                 name=domain_name(params))}


@function("RegisterNameserver", "domains:write")
def register_nameserver(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domains.set_host(reseller_id=reseller_id, name=domain_name(params),
                     host=str(params.get("nameserver") or ""),
                     addresses=[str(params.get("ipaddress") or "")])
    return {"success": True}


@function("ModifyNameserver", "domains:write")
def modify_nameserver(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    name, host = domain_name(params), str(params.get("nameserver") or "")
    domain = domains.get_domain(reseller_id=reseller_id, name=name)
    wanted = host.lower().rstrip(".")
    current = next((h.addresses for h in domain.hosts
                    if h.name in (wanted, f"{wanted}.{domain.name}")), [])
    old, new = str(params.get("currentipaddress") or ""), str(params.get("newipaddress") or "")
    addresses = [new if address == old else address for address in current]
    if new not in addresses:
        addresses = [a for a in addresses if a != old] + [new]
    domains.set_host(reseller_id=reseller_id, name=name, host=host, addresses=addresses)
    return {"success": True}


@function("DeleteNameserver", "domains:write")
def delete_nameserver(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domains.delete_host(reseller_id=reseller_id, name=domain_name(params),
                        host=str(params.get("nameserver") or ""))
    return {"success": True}


@function("IDProtectToggle", "domains:write")
def id_protect_toggle(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domains.set_privacy(reseller_id=reseller_id, name=domain_name(params),
                        privacy=_flag(params.get("protectenable")))
    return {"success": True}


@function("CheckAvailability", "domains:read")
def check_availability(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    term = str(params.get("searchTerm") or params.get("sld") or "").strip().lower()
    tlds = params.get("tldsToInclude") or ([params["tld"]] if params.get("tld") else [])
    if isinstance(tlds, str):
        tlds = [tlds]
    if not term or not isinstance(tlds, list) or not tlds:
        raise ValidationFailed({"searchTerm": [_l("Give searchTerm and tldsToInclude.")]})
    wanted = [f"{term}.{str(tld).strip('. ').lower()}" for tld in tlds][:50]
    results = domains.check_availability(reseller_id=reseller_id, names_text=wanted)
    out = []
    for result in results:
        sld, _, tld = result["name"].partition(".")
        row = {"sld": sld, "tld": "." + tld, "domain": result["name"],
               "status": "available" if result["available"] else "registered",
               "premium": bool(result["premium"]),
               "price": result["price"]["net"], "currency": result["price"]["currency"]}
        if result["premium"]:  # WHMCS's premiumCost for RegisterDomain and RenewDomain
            row["renew_price"] = _premium_renewal(reseller_id, tld, result)
        out.append(row)
    return {"results": out}


def _premium_renewal(reseller_id: int, tld: str, result: dict[str, Any]) -> str:
    """A premium name's one-year renewal (net EUR): the registry's yearly premium price,
    which the one-year registration quote carries."""
    quote = catalog.quote(reseller_id=reseller_id, tld=tld, operation="renew", years=1,
                          premium_fee=Decimal(result["price"]["net"]))
    return f"{quote.net:.2f}"


def _latest_domain(reseller_id: int, name: str) -> Domain | None:
    try:
        ascii_name = domains.ascii_name(name)
    except DomainError:
        return None
    return db.session.scalar(sa.select(Domain).where(
        Domain.reseller_id == reseller_id, Domain.name == ascii_name)
        .order_by(Domain.id.desc()).limit(1))


def _ymd(moment: Any) -> str:
    return moment.date().isoformat() if moment is not None else ""


@function("Sync", "domains:read")
def sync(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    domain = _latest_domain(reseller_id, domain_name(params))
    if domain is None:
        raise DomainNotFound(_l("The domain is not in this account."))
    return {"expirydate": _ymd(domain.expires_at),
            "active": domain.status == "active",
            "expired": domain.status in ("expired", "redemption", "deleted"),
            "transferredAway": domain.status == "transferred_out"}


@function("TransferSync", "domains:read")
def transfer_sync(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    ascii_name = domains.ascii_name(domain_name(params))
    order = db.session.scalar(sa.select(Order).where(
        Order.reseller_id == reseller_id, Order.kind == "transfer",
        Order.domain_name == ascii_name).order_by(Order.id.desc()).limit(1))
    if order is None:
        raise OrderNotFound(_l("No transfer of this domain was ordered."))
    if order.state == "completed":
        domain = _latest_domain(reseller_id, ascii_name)
        return {"completed": True, "expirydate": _ymd(domain.expires_at if domain else None)}
    if order.state == "failed":
        return {"failed": True, "reason": order.reason or "The transfer failed."}
    return {}


@function("GetTLDPricing", "domains:read")
def get_tld_pricing(reseller_id: int, params: dict[str, Any], key: str,
        **ctx: Any) -> dict[str, Any]:
    today: date = clock.today()
    prices = []
    for tld, rules in sorted(TLDS.items()):
        entry: dict[str, Any] = {"tld": "." + tld, "currency": "EUR", "years": [],
                                 "register": {}, "renew": {}, "transfer": {}}
        for years in range(rules.min_period, rules.max_period + 1):
            entry["years"].append(years)
            for operation in ("register", "renew", "transfer"):
                if not rules.offers(operation) or (operation == "transfer" and years > 1):
                    continue
                try:
                    quote = catalog.quote(reseller_id=reseller_id, tld=tld,
                                          operation=operation, years=years, on=today)
                except DomainError:  # no price set for this operation
                    continue
                entry[operation][str(years)] = f"{quote.net:.2f}"
        entry["currency"] = "EUR"
        prices.append(entry)
    return {"pricing": prices}


_PRIORITY_TYPES = ("MX", "SRV")


@function("GetDNS", "dns:read")
def get_dns(reseller_id: int, params: dict[str, Any], key: str, **ctx: Any) -> dict[str, Any]:
    """Host records as WHMCS lists them (``hostname``, ``type``, ``address``, ``priority``)."""
    try:
        zone = dns.get_zone(reseller_id=reseller_id, name=domain_name(params))
    except ZoneNotFound:
        return {"records": []}
    records = []
    for rr in dns.current_rrs(zone):
        if rr.type in ("SOA", "NS") and rr.name == "@":
            continue  # managed by us, not editable in WHMCS
        priority, address = "", rr.value
        if rr.type in _PRIORITY_TYPES:
            priority, _, address = rr.value.partition(" ")
        records.append({"hostname": rr.name, "type": rr.type, "address": address,
                        "priority": priority})
    return {"records": records}


@function("SaveDNS", "dns:write")
def save_dns(reseller_id: int, params: dict[str, Any], key: str, **ctx: Any) -> dict[str, Any]:
    """Replace the zone's editable records with WHMCS's list (empty addresses dropped)."""
    given = params.get("dnsrecords") or []
    if isinstance(given, dict):
        given = list(given.values())
    if not isinstance(given, list):
        raise ValidationFailed({"dnsrecords": [_l("Give the records as a list.")]})
    records = []
    for row in given:
        if not isinstance(row, dict) or not str(row.get("address") or "").strip():
            continue
        rtype = str(row.get("type") or "").strip().upper()
        value = str(row["address"]).strip()
        if rtype in _PRIORITY_TYPES:
            value = f"{str(row.get('priority') or '10').strip()} {value}"
        records.append({"name": str(row.get("hostname") or "@").strip() or "@",
                        "type": rtype, "value": value})
    name = domain_name(params)
    domains.get_domain(reseller_id=reseller_id, name=name)  # only our own domains get zones here
    dns.replace_records(reseller_id=reseller_id, name=name, records=records,
                        settings=ctx["dns_settings"])
    return {"success": True}
