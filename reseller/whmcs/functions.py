"""WHMCS registrar-module functions on a domain: orders (register, transfer, renew),
nameservers and glue, lock, EPP code, ID protection, deletion, status and sync.

Each function takes the WHMCS ``params`` (as WHMCS passes them to the PHP module, which
forwards them) and returns what the module turns into WHMCS's documented return. Errors
are ``DomainError``s; the view turns them into ``{"error": message, "code": code}``.
Orders carry a key derived from the request (``keys``): WHMCS sends none, and a repeat
must not order, hold or make contacts twice.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.catalog.models import rules_for
from reseller.core.clock import clock
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.dns import services as dns
from reseller.domains import services as domains
from reseller.domains.errors import DomainNotFound, OrderNotFound
from reseller.domains.models import Domain, Order
from reseller.whmcs import keys
from reseller.whmcs.base import domain_name, flag, function, period
from reseller.whmcs.contacts import role_contacts
from wallet.money import Money

NAMESERVER_KEYS = ("ns1", "ns2", "ns3", "ns4", "ns5")
REQUIRED_SCOPES = ("domains:read", "domains:write", "dns:read", "dns:write")


def _accept_price(params: dict[str, Any]) -> Money | None:
    """WHMCS's premium consent (registrar-module params ``premiumEnabled``/``premiumCost``):
    with premium domains off, no premium price is accepted; with them on, the cost price
    WHMCS quoted the customer (our net EUR from CheckAvailability) is the most we charge."""
    if not flag(params.get("premiumEnabled")):
        return None
    cost = str(params.get("premiumCost") or "").strip()
    if not cost:
        return None  # not a premium order: standard names need no consent
    return domains.accepted_price(cost, field="premiumCost")


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


def _done(**extra: Any) -> dict[str, Any]:
    return {"success": True, **extra}


# -- orders --------------------------------------------------------------------------------

@function("RegisterDomain", "domains:write")
def register_domain(reseller_id: int, params: dict[str, Any], key: str | None,
                    **ctx: Any) -> dict[str, Any]:
    """An order paid from the wallet; the registry call runs right after, in a job.
    Premium consent and the request's key are settled before any contact is made."""
    accept_price = _accept_price(params)
    name, years = domains.ascii_name(domain_name(params)), period(params)
    key, placed = keys.order_key(reseller_id, key or keys.derive("RegisterDomain", name, years))
    if placed is not None:
        return _done()
    tld = name.rsplit(".", 1)[-1]
    availability = domains.ask_availability(name)  # with no transaction open
    try:
        domains.order_register(reseller_id=reseller_id, name=name, period=years,
                               contacts=role_contacts(reseller_id, params, tld),
                               nameservers=_nameservers(params),
                               privacy=flag(params.get("idprotection")), idempotency_key=key,
                               accept_price=accept_price, claims_ack=_claims_ack(params),
                               availability=availability)
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
    if flag(params.get("dnsmanagement")):
        _host_zone(reseller_id, name, ctx["dns_settings"])
    return _done()


def _host_zone(reseller_id: int, name: str, settings: Any) -> None:
    """WHMCS's DNS management addon: the zone is hosted at Tunnus from the start (it goes
    live when the registration completes). A zone DNS hosting refuses (another account's)
    does not stop the registration."""
    try:
        dns.create_zone(reseller_id=reseller_id, name=name, settings=settings)
    except DomainError:
        pass


@function("TransferDomain", "domains:write")
def transfer_domain(reseller_id: int, params: dict[str, Any], key: str | None,
                    **ctx: Any) -> dict[str, Any]:
    accept_price = _accept_price(params)
    name = domains.ascii_name(domain_name(params))
    auth_code = str(params.get("eppcode") or params.get("transfersecret") or "")
    secret = hashlib.sha256(auth_code.encode()).hexdigest()
    key, placed = keys.order_key(reseller_id, key or keys.derive("TransferDomain", name, secret))
    if placed is not None:
        return _done()
    tld = name.rsplit(".", 1)[-1]
    contacts = role_contacts(reseller_id, params, tld) if params.get("email") else None
    fee = domains.ask_premium_fee(name, "transfer")  # with no transaction open
    domains.order_transfer(reseller_id=reseller_id, name=name, auth_code=auth_code,
                           contacts=contacts, idempotency_key=key, accept_price=accept_price,
                           premium_fee=fee)
    return _done()


@function("RenewDomain", "domains:write")
def renew_domain(reseller_id: int, params: dict[str, Any], key: str | None,
                 **ctx: Any) -> dict[str, Any]:
    """A renewal from the domain's current expiry: repeating the call while it runs is the
    same order; renewing again after it completed starts from the new expiry."""
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    years = period(params)
    expiry = domain.expires_at.isoformat()
    key, placed = keys.order_key(reseller_id, key or keys.derive("RenewDomain", domain.name,
                                                                 years, expiry))
    if placed is not None:
        return _done()
    fee = domains.ask_premium_fee(domain.name, "renew", years)  # with no transaction open
    domains.order_renew(reseller_id=reseller_id, name=domain.name, period=years,
                        idempotency_key=key, accept_price=_accept_price(params),
                        premium_fee=fee)
    return _done()


# -- nameservers, lock, EPP code, glue, ID protection -----------------------------------------

@function("GetNameservers", "domains:read")
def get_nameservers(reseller_id: int, params: dict[str, Any], key: str | None,
                    **ctx: Any) -> dict[str, Any]:
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    return _nameserver_slots(domain)


def _nameserver_slots(domain: Domain) -> dict[str, str]:
    servers = list(domain.nameservers or [])
    return {f"ns{i}": (servers[i - 1] if i <= len(servers) else "") for i in range(1, 6)}


@function("SaveNameservers", "domains:write")
def save_nameservers(reseller_id: int, params: dict[str, Any], key: str | None,
                     **ctx: Any) -> dict[str, Any]:
    domains.set_nameservers(reseller_id=reseller_id, name=domain_name(params),
                            nameservers=_nameservers(params))
    return _done()


@function("GetRegistrarLock", "domains:read")
def get_registrar_lock(reseller_id: int, params: dict[str, Any], key: str | None,
                       **ctx: Any) -> dict[str, Any]:
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    return {"lockstatus": "locked" if domain.locked else "unlocked"}


@function("SaveRegistrarLock", "domains:write")
def save_registrar_lock(reseller_id: int, params: dict[str, Any], key: str | None,
                        **ctx: Any) -> dict[str, Any]:
    domains.set_lock(reseller_id=reseller_id, name=domain_name(params),
                     locked=flag(params.get("lockenabled")))
    return _done()


@function("GetEPPCode", "domains:write")
def get_epp_code(reseller_id: int, params: dict[str, Any], key: str | None,
                 **ctx: Any) -> dict[str, Any]:
    return {"eppcode": domains.request_auth_code(reseller_id=reseller_id,
                                                 name=domain_name(params))}


@function("RegisterNameserver", "domains:write")
def register_nameserver(reseller_id: int, params: dict[str, Any], key: str | None,
                        **ctx: Any) -> dict[str, Any]:
    domains.set_host(reseller_id=reseller_id, name=domain_name(params),
                     host=str(params.get("nameserver") or ""),
                     addresses=[str(params.get("ipaddress") or "")])
    return _done()


@function("ModifyNameserver", "domains:write")
def modify_nameserver(reseller_id: int, params: dict[str, Any], key: str | None,
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
    return _done()


@function("DeleteNameserver", "domains:write")
def delete_nameserver(reseller_id: int, params: dict[str, Any], key: str | None,
                      **ctx: Any) -> dict[str, Any]:
    domains.delete_host(reseller_id=reseller_id, name=domain_name(params),
                        host=str(params.get("nameserver") or ""))
    return _done()


@function("IDProtectToggle", "domains:write")
def id_protect_toggle(reseller_id: int, params: dict[str, Any], key: str | None,
                      **ctx: Any) -> dict[str, Any]:
    domains.set_privacy(reseller_id=reseller_id, name=domain_name(params),
                        privacy=flag(params.get("protectenable")))
    return _done()


@function("RequestDelete", "domains:write")
def request_delete(reseller_id: int, params: dict[str, Any], key: str | None,
                   **ctx: Any) -> dict[str, Any]:
    """Delete at the registry: a TLD with redemption keeps it restorable for its days,
    others end it at once. Refused while an order for it runs or the TLD forbids it."""
    domains.delete_domain(reseller_id=reseller_id, name=domain_name(params))
    return _done()


# -- information and sync --------------------------------------------------------------------

@function("GetDomainInformation", "domains:read")
def get_domain_information(reseller_id: int, params: dict[str, Any], key: str | None,
                           **ctx: Any) -> dict[str, Any]:
    """What WHMCS's ``WHMCS\\Domain\\Registrar\\Domain`` holds, read from our record."""
    domain = domains.get_domain(reseller_id=reseller_id, name=domain_name(params))
    now = clock.now()
    lock_until = domain.transfer_lock_until if domain.transfer_lock_until and \
        domain.transfer_lock_until > now else None
    rules = rules_for(domain.tld)
    return {
        "domain": domain.unicode_name, "nameservers": _nameserver_slots(domain),
        "status": _registration_status(domain), "transferlock": domain.locked,
        "transferlockexpirydate": _ymd(lock_until),
        "expirydate": _ymd(domain.expires_at),
        "restorable": domain.status == "redemption" and rules.restore,
        "idprotection": domain.privacy,
        "dnsmanagement": dns.find_own_zone(reseller_id, domain.name) is not None,
        "emailforwarding": False,
        "registrantemail": domain.registrant.email if domain.registrant else None,
        **_irtp(reseller_id, domain, lock_until),
    }


def _irtp(reseller_id: int, domain: Domain, lock_until: Any) -> dict[str, Any]:
    """WHMCS's IRTP fields: a change of the registrant's name, organisation or e-mail
    needs the current registrant's confirmation; whether one is waiting and until when;
    the transfer lock that follows a change (gTLDs, unless opted out)."""
    if not rules_for(domain.tld).owner_change_consent:
        return {"irtp": False}
    waiting = domains.pending_owner_change(reseller_id=reseller_id, domain_id=domain.id)
    deadline = (waiting.params.get("approval") or {}).get("deadline") if waiting else None
    return {"irtp": True, "contactchangepending": waiting is not None,
            "contactchangeexpirydate": deadline[:10] if deadline else "",
            "irtptransferlock": lock_until is not None,
            "irtptransferlockexpirydate": _ymd(lock_until),
            "irtptriggerfields": {"Registrant": ["First Name", "Last Name", "Company Name",
                                                 "Email Address"]}}


@function("ResendIRTPVerificationEmail", "domains:write")
def resend_irtp_verification_email(reseller_id: int, params: dict[str, Any],
                                   key: str | None, **ctx: Any) -> dict[str, Any]:
    """Send the current registrant the owner-change confirmation e-mail again."""
    domains.resend_owner_change_request(reseller_id=reseller_id, name=domain_name(params))
    return {"success": True}


def _registration_status(domain: Domain) -> str:
    """``WHMCS\\Domain\\Registrar\\Domain``'s STATUS_* for our status."""
    if domain.suspended:
        return "suspended"
    return {"active": "active", "expired": "expired", "redemption": "pending_delete",
            "deleted": "deleted", "transferred_out": "inactive"}.get(domain.status, "inactive")


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
def sync(reseller_id: int, params: dict[str, Any], key: str | None,
         **ctx: Any) -> dict[str, Any]:
    domain = _latest_domain(reseller_id, domain_name(params))
    if domain is None:
        raise DomainNotFound(_l("The domain is not in this account."))
    return {"expirydate": _ymd(domain.expires_at),
            "active": domain.status == "active",
            "expired": domain.status in ("expired", "redemption", "deleted"),
            "transferredAway": domain.status == "transferred_out"}


@function("TransferSync", "domains:read")
def transfer_sync(reseller_id: int, params: dict[str, Any], key: str | None,
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


@function("ValidateCredentials", "domains:read")
def validate_credentials(reseller_id: int, params: dict[str, Any], key: str | None,
                         **ctx: Any) -> dict[str, Any]:
    """For the module's ``_config_validate``: the scopes the credentials lack."""
    granted = set(ctx.get("scopes") or ())
    return {"missing_scopes": [scope for scope in REQUIRED_SCOPES if scope not in granted]}
