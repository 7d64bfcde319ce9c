"""``/api/v1/contacts``, ``/domains``, ``/transfers`` and ``/orders``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, request
from sqlalchemy.orm import selectinload

from reseller.core.db import transactional
from reseller.core.errors import ValidationFailed
from reseller.core.pagination import paginate
from reseller.core.web import idempotency
from reseller.core.web.auth import current_reseller_id, require_scope
from reseller.core.web.helpers import (
    bool_arg,
    choice_arg,
    choice_param,
    idempotency_key,
    json_body,
    list_args,
    page_body,
    versioned,
)
from reseller.core.web.openapi import doc
from reseller.core.web.responses import secret_response
from reseller.domains import bulk, orders, services
from reseller.domains import contacts as contact_services
from reseller.domains import schemas as s
from reseller.domains.models import (
    DOMAIN_STATUSES,
    ORDER_KINDS,
    ORDER_STATES,
    Contact,
    Domain,
    Order,
)
from reseller.domains.records import get_domain

bp = Blueprint("domains_api", __name__)

_order_out = s.OrderOut()
_domain_out = s.DomainOut()
_contact_out = s.ContactOut()
TAGS_D, TAGS_C, TAGS_O = ["Domains"], ["Contacts"], ["Orders"]
_PAID = (402, 404, 409)
# Ordering endpoints: a 409 may be price_not_accepted, which carries the quoted price.
_PRICED = {409: {
    "description": "Conflicts with the current state, or `price_not_accepted`: a premium "
                   "price without `accept_price`, or a price above it (nothing is held, "
                   "ordered or sent to the registry; `price` is the quote to accept)",
    "component": "PriceProblem",
    "schema": {"allOf": [{"$ref": "#/components/schemas/Problem"}, {
        "type": "object", "description": "With code `price_not_accepted`: the quoted "
        "`price`, the `accept_price` that was sent (null: none) and whether it is `premium`.",
        "properties": {
            "price": {"$ref": "#/components/schemas/PriceOut"},
            "accept_price": {"type": ["string", "null"]},
            "premium": {"type": "boolean"}}}]},
    "example": {"type": "https://portal.registrar.example/problems/price-not-accepted",
                "title": "The price was not accepted", "status": 409,
                "detail": "kauppa.fi is a premium name at 250.00 EUR (net); send "
                          "accept_price to buy it.",
                "code": "price_not_accepted", "premium": True,
                "price": {"currency": "EUR", "net": "250.00", "vat": "63.75",
                          "total": "313.75"},
                "accept_price": None}}}


def _order(order, status: int = 202):
    return _order_out.dump(order), status


# -- contacts ----------------------------------------------------------------------------------

@bp.post("/contacts")
@doc(summary="Create a contact", tags=TAGS_C, body=s.ContactIn, response=s.ContactOut,
     status=201)
@require_scope("domains:write")
@transactional
def create_contact():
    data = s.ContactIn().load_or_raise(json_body())
    contact = contact_services.create_contact(reseller_id=current_reseller_id(), **data)
    return _contact_out.dump(contact), 201


@bp.get("/contacts")
@doc(summary="List contacts", tags=TAGS_C, response=s.ContactListOut,
     query=[{"name": "cursor", "schema": {"type": "string"}},
            {"name": "limit", "schema": {"type": "integer"}},
            {"name": "q", "schema": {"type": "string", "maxLength": 100},
             "description": "Only contacts whose name, organisation or email contains this"}])
@require_scope("domains:read")
def list_contacts():
    cursor, limit = list_args()
    page = paginate(contact_services.list_contacts(reseller_id=current_reseller_id(),
                                                   q=_search_arg()),
                    key=Contact.id, cursor=cursor, limit=limit)
    return page_body(page, _contact_out.dump(page.items, many=True))


def _search_arg() -> str | None:
    q = request.args.get("q") or None
    if q is not None and len(q) > 100:
        raise ValidationFailed({"q": ["At most 100 characters."]})
    return q


def current_contact(contact_id: int) -> dict:
    """The contact as GET answers it, held for its update (``records.hold_contact``: the
    contact's command lock, not its row lock) so a concurrent write waits, then sees the
    new version (for ``If-Match``)."""
    return _contact_out.dump(contact_services.get_contact(
        reseller_id=current_reseller_id(), contact_id=contact_id, hold=True))


@bp.get("/contacts/<int:contact_id>")
@doc(summary="One contact", tags=TAGS_C, response=s.ContactOut)
@require_scope("domains:read")
@versioned(current_contact)
def get_contact(contact_id: int):
    return _contact_out.dump(contact_services.get_contact(reseller_id=current_reseller_id(),
                                                          contact_id=contact_id))


@bp.put("/contacts/<int:contact_id>")
@doc(summary="Replace a contact's details (registry updated; contact.changed per domain)",
     tags=TAGS_C, body=s.ContactIn, response=s.ContactOut, errors=(409, 503),
     description="409 `identity_locked`: the identity of a contact that holds live domains "
                 "cannot change (create a new contact and change the owner). 503: the "
                 "registry could not be updated; nothing changed.")
@require_scope("domains:write")
@transactional
@versioned(current_contact)
def update_contact(contact_id: int):
    data = s.ContactIn().load_or_raise(json_body())
    contact = contact_services.update_contact(reseller_id=current_reseller_id(),
                                              contact_id=contact_id, **data)
    return _contact_out.dump(contact)


@bp.delete("/contacts/<int:contact_id>")
@doc(summary="Delete a contact no domain or open order uses", tags=TAGS_C, status=204,
     errors=(409,))
@require_scope("domains:write")
@transactional
def delete_contact(contact_id: int):
    contact_services.delete_contact(reseller_id=current_reseller_id(), contact_id=contact_id)
    return "", 204


# -- availability and orders ----------------------------------------------------------------------

@bp.get("/domains/check")
@doc(summary="Availability and price of up to 50 names", tags=TAGS_D, response=s.CheckOut,
     query=[{"name": "names", "required": True, "schema": {"type": "string"},
             "description": "Comma-separated names (Unicode or punycode)"},
            {"name": "period", "schema": {"type": "integer", "default": 1}}],
     errors=(503,))
@require_scope("domains:read")
def check():
    raw = request.args.get("names", "")
    period = request.args.get("period", "1")
    if not re.fullmatch(r"[0-9]{1,2}", period):  # ASCII digits: int() reads other scripts'
        raise ValidationFailed({"period": ["Must be a whole number of years."]})
    results = services.check_availability(reseller_id=current_reseller_id(),
                                           names_text=raw.split(","), period=int(period))
    return {"results": s.CheckResultOut(many=True).dump(results)}


@bp.post("/domains")
@doc(summary="Register a domain (202: an order; the registry call runs in the background)",
     tags=TAGS_D, body=s.RegisterIn, response=s.OrderOut, status=202, errors=_PAID,
     problems=_PRICED,
     description="A name matching a protected mark answers 409 `claims_notice_required` "
                 "with the `notice` to show the registrant; order again with `claims_ack` "
                 "set to `notice.id` (nothing is held until then).")
@require_scope("domains:write")
@transactional
@idempotency.claims_late
def register():
    data = s.RegisterIn().load_or_raise(json_body())
    contacts = {k: v for k, v in data.pop("contacts").items() if v is not None}
    availability = orders.ask_availability(data["name"])  # no transaction open
    if (replay := idempotency.claim()) is not None:
        return replay
    return _order(orders.order_register(reseller_id=current_reseller_id(), contacts=contacts,
                                        idempotency_key=idempotency_key(),
                                        availability=availability, **data))


@bp.post("/domains/<name>/renew")
@doc(summary="Renew a domain", tags=TAGS_D, body=s.RenewIn, response=s.OrderOut, status=202,
     errors=_PAID, problems=_PRICED)
@require_scope("domains:write")
@transactional
@idempotency.claims_late
def renew(name: str):
    data = s.RenewIn().load_or_raise(json_body())
    fee = orders.ask_premium_fee(name, "renew", data["period"])  # no transaction open
    if (replay := idempotency.claim()) is not None:
        return replay
    return _order(orders.order_renew(reseller_id=current_reseller_id(), name=name,
                                     idempotency_key=idempotency_key(), premium_fee=fee,
                                     **data))


@bp.post("/domains/<name>/restore")
@doc(summary="Restore a domain from redemption", tags=TAGS_D, body=s.RestoreIn,
     response=s.OrderOut, status=202, errors=_PAID, problems=_PRICED)
@require_scope("domains:write")
@transactional
@idempotency.claims_late
def restore(name: str):
    data = s.RestoreIn().load_or_raise(json_body())
    fee = orders.ask_premium_fee(name, "restore")  # no transaction open
    if (replay := idempotency.claim()) is not None:
        return replay
    return _order(orders.order_restore(reseller_id=current_reseller_id(), name=name,
                                       idempotency_key=idempotency_key(), premium_fee=fee,
                                       **data))


@bp.post("/domains/<name>/owner-change")
@doc(summary="Change the registrant (owner change)", tags=TAGS_D, body=s.OwnerChangeIn,
     response=s.OrderOut, status=202, errors=_PAID)
@require_scope("domains:write")
@transactional
def owner_change(name: str):
    data = s.OwnerChangeIn().load_or_raise(json_body())
    return _order(orders.order_owner_change(reseller_id=current_reseller_id(), name=name,
                                            idempotency_key=idempotency_key(), **data))


@bp.post("/domains/bulk-renew")
@doc(summary="Renew many domains; one order or error per name", tags=TAGS_D,
     body=s.BulkRenewIn, response=s.BulkOut, status=202)
@require_scope("domains:write")
@transactional
@idempotency.claims_late
def bulk_renew():
    data = s.BulkRenewIn().load_or_raise(json_body())
    fees = bulk.ask_premium_fees(data["names"], "renew", data["period"])  # none open
    if (replay := idempotency.claim()) is not None:
        return replay
    results = bulk.bulk_renew(reseller_id=current_reseller_id(),
                              idempotency_key=idempotency_key(), premium_fees=fees, **data)
    return s.BulkOut().dump({"results": results}), 202


@bp.post("/transfers")
@doc(summary="Transfer a domain in with its auth code", tags=TAGS_D, body=s.TransferIn,
     response=s.OrderOut, status=202, errors=_PAID, problems=_PRICED)
@require_scope("domains:write")
@transactional
@idempotency.claims_late
def transfer():
    data = s.TransferIn().load_or_raise(json_body())
    contacts = data.pop("contacts") or None
    if contacts:
        contacts = {k: v for k, v in contacts.items() if v is not None}
    fee = orders.ask_premium_fee(data["name"], "transfer")  # no transaction open
    if (replay := idempotency.claim()) is not None:
        return replay
    return _order(orders.order_transfer(reseller_id=current_reseller_id(), contacts=contacts,
                                        idempotency_key=idempotency_key(), premium_fee=fee,
                                        **data))


@bp.post("/transfers/import")
@doc(summary="Import a CSV portfolio (name,auth_code) to transfer in; per-row report",
     tags=TAGS_D, body=s.ImportIn, response=s.ImportOut, status=202,
     description="Send JSON {\"csv\": \"...\"} or a text/csv body.")
@require_scope("domains:write")
@transactional
@idempotency.claims_late
def import_transfers():
    if request.mimetype == "text/csv":
        text = request.get_data(as_text=True)
    else:
        text = s.ImportIn().load_or_raise(json_body())["csv"]
    rows = bulk.parse_transfer_csv(text)
    fees = bulk.ask_premium_fees([name for _, name, _ in rows], "transfer")  # none open
    if (replay := idempotency.claim()) is not None:
        return replay
    report = bulk.import_transfers(reseller_id=current_reseller_id(), text=text,
                                   idempotency_key=idempotency_key(), premium_fees=fees)
    return s.ImportOut().dump(report), 202


@bp.get("/orders")
@doc(summary="List orders, newest first", tags=TAGS_O, response=s.OrderListOut,
     query=[choice_param("state", ORDER_STATES), choice_param("kind", ORDER_KINDS),
            *({"name": n, "schema": {"type": "string"}} for n in ("domain", "cursor")),
            {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}])
@require_scope("domains:read")
def list_orders():
    cursor, limit = list_args()
    stmt = orders.list_orders(reseller_id=current_reseller_id(),
                              state=choice_arg("state", ORDER_STATES),
                              kind=choice_arg("kind", ORDER_KINDS),
                              domain=request.args.get("domain"))
    page = paginate(stmt, key=Order.id, cursor=cursor, limit=limit, descending=True)
    return page_body(page, _order_out.dump(page.items, many=True))


@bp.get("/orders/<int:order_id>")
@doc(summary="One order", tags=TAGS_O, response=s.OrderOut)
@require_scope("domains:read")
def get_order(order_id: int):
    return _order_out.dump(orders.get_order(reseller_id=current_reseller_id(),
                                            order_id=order_id))


# -- management ----------------------------------------------------------------------------------

def _date_arg(name: str) -> datetime | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({name: ["Use an ISO 8601 date."]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("/domains")
@doc(summary="List domains", tags=TAGS_D, response=s.DomainListOut,
     query=[choice_param("status", DOMAIN_STATUSES),
            {"name": "tld", "schema": {"type": "string"}},
            {"name": "q", "schema": {"type": "string"}, "description": "Name contains"},
            {"name": "expires_before", "schema": {"type": "string", "format": "date"}},
            {"name": "auto_renew", "schema": {"type": "boolean"}},
            {"name": "cursor", "schema": {"type": "string"}},
            {"name": "limit", "schema": {"type": "integer"}}])
@require_scope("domains:read")
def list_domains():
    cursor, limit = list_args()
    stmt = services.list_domains(
        reseller_id=current_reseller_id(), status=choice_arg("status", DOMAIN_STATUSES),
        tld=request.args.get("tld") or None, q=request.args.get("q") or None,
        expires_before=_date_arg("expires_before"), auto_renew=bool_arg("auto_renew"))
    # A page's glue hosts in one statement, not one per domain.
    page = paginate(stmt.options(selectinload(Domain.hosts)), key=Domain.id, cursor=cursor,
                    limit=limit)
    return page_body(page, _domain_out.dump(page.items, many=True))


def current_domain(name: str) -> dict:
    """The domain as GET answers it, locked: the version its settings' If-Match names."""
    return _domain_out.dump(get_domain(reseller_id=current_reseller_id(), name=name,
                                       for_update=True))


def command_domain(name: str) -> dict:
    """``current_domain`` for a registry command: a change whose answer was lost resolved
    first (a change being sent shows as ``pending_change``: an older If-Match fails)."""
    return _domain_out.dump(services.held_domain(reseller_id=current_reseller_id(), name=name))


@bp.get("/domains/<name>")
@doc(summary="One domain", tags=TAGS_D, response=s.DomainOut)
@require_scope("domains:read")
@versioned(current_domain)
def get_domain_view(name: str):
    return _domain_out.dump(get_domain(reseller_id=current_reseller_id(), name=name))


def _manage(body_schema, action, **fixed):
    data = body_schema().load_or_raise(json_body()) if body_schema else {}
    return _domain_answer(action(reseller_id=current_reseller_id(), **fixed, **data))


def _domain_answer(domain: Domain):
    """200 with the domain; 202 when the registry's answer was lost and the change waits
    for its confirmation (``pending_change``)."""
    return _domain_out.dump(domain), 202 if domain.pending_change else 200


def _pending_domain(name: str):
    """202 with the domain whose glue-host change waits for the registry's confirmation."""
    return _domain_answer(get_domain(reseller_id=current_reseller_id(), name=name))


@bp.put("/domains/<name>/nameservers")
@doc(summary="Set 2–13 nameservers (202: the registry's answer was lost; pending_change)",
     tags=TAGS_D, body=s.NameserversIn, response=s.DomainOut, status=(200, 202),
     errors=(409, 503))
@require_scope("domains:write")
@transactional
@versioned(command_domain)
def put_nameservers(name: str):
    return _manage(s.NameserversIn, services.set_nameservers, name=name)


@bp.put("/domains/<name>/hosts/<host>")
@doc(summary="Create or change a glue host under the domain (202: the registry's answer "
             "was lost; the domain with its pending_change)", tags=TAGS_D, body=s.HostIn,
     response=s.HostOut, status=(200, 202), errors=(409, 503))
@require_scope("domains:write")
@transactional
def put_host(name: str, host: str):
    data = s.HostIn().load_or_raise(json_body())
    row = services.set_host(reseller_id=current_reseller_id(), name=name, host=host, **data)
    if row is None:
        return _pending_domain(name)
    return s.HostOut().dump(row)


@bp.delete("/domains/<name>/hosts/<host>")
@doc(summary="Delete a glue host (202: the registry's answer was lost; the domain with its "
             "pending_change)", tags=TAGS_D, status=(204, 202), errors=(409, 503))
@require_scope("domains:write")
@transactional
def delete_host(name: str, host: str):
    if not services.delete_host(reseller_id=current_reseller_id(), name=name, host=host):
        return _pending_domain(name)
    return "", 204


@bp.put("/domains/<name>/dnssec")
@doc(summary="Set the DS records (empty list turns DNSSEC off)", tags=TAGS_D,
     body=s.DnssecIn, response=s.DomainOut, status=(200, 202), errors=(409, 503))
@require_scope("domains:write")
@transactional
@versioned(command_domain)
def put_dnssec(name: str):
    return _manage(s.DnssecIn, services.set_dnssec, name=name)


@bp.put("/domains/<name>/lock")
@doc(summary="Lock or unlock the domain against transfer", tags=TAGS_D, body=s.LockIn,
     response=s.DomainOut, status=(200, 202), errors=(409, 503))
@require_scope("domains:write")
@transactional
@versioned(command_domain)
def put_lock(name: str):
    return _manage(s.LockIn, services.set_lock, name=name)


@bp.post("/domains/<name>/auth-code")
@doc(summary="A fresh auth code to move the domain away", tags=TAGS_D,
     response=s.AuthCodeOut, errors=(409, 503))
@require_scope("domains:write")
@transactional
@secret_response
def auth_code(name: str):
    json_body()
    return {"auth_code": services.request_auth_code(reseller_id=current_reseller_id(),
                                                    name=name)}


@bp.put("/domains/<name>/privacy")
@doc(summary="Turn privacy protection on or off (free)", tags=TAGS_D, body=s.PrivacyIn,
     response=s.DomainOut)
@require_scope("domains:write")
@transactional
@versioned(current_domain)
def put_privacy(name: str):
    return _manage(s.PrivacyIn, services.set_privacy, name=name)


@bp.put("/domains/<name>/auto-renew")
@doc(summary="Turn auto-renew on or off", tags=TAGS_D, body=s.AutoRenewIn,
     response=s.DomainOut)
@require_scope("domains:write")
@transactional
@versioned(current_domain)
def put_auto_renew(name: str):
    return _manage(s.AutoRenewIn, services.set_auto_renew, name=name)


@bp.put("/domains/<name>/contacts")
@doc(summary="Change the admin and tech contacts", tags=TAGS_D, body=s.ContactsUpdateIn,
     response=s.DomainOut, status=(200, 202), errors=(409, 503))
@require_scope("domains:write")
@transactional
@versioned(command_domain)
def put_contacts(name: str):
    return _manage(s.ContactsUpdateIn, services.set_contacts, name=name)


@bp.post("/domains/<name>/transfer-out")
@doc(summary="Approve or reject another registrar's transfer request", tags=TAGS_D,
     body=s.TransferOutIn, response=s.DomainOut, errors=(409, 503))
@require_scope("domains:write")
@transactional
def transfer_out(name: str):
    data = s.TransferOutIn().load_or_raise(json_body())
    domain = services.answer_transfer_out(reseller_id=current_reseller_id(), name=name, **data)
    return _domain_out.dump(domain)


@bp.delete("/domains/<name>")
@doc(summary="Delete the domain where the TLD allows", tags=TAGS_D, response=s.DomainOut,
     status=(200, 202), errors=(409, 503))
@require_scope("domains:write")
@transactional
def delete_domain(name: str):
    return _domain_answer(services.delete_domain(reseller_id=current_reseller_id(),
                                                 name=name))
