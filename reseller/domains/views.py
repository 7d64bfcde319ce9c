"""Client-area pages for domains: search and register (price shown before confirming),
the domain list with filters and bulk actions, the domain page, transfers (one name or a
CSV file), contacts and orders. Plain HTML forms; each POST is one unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy.orm import joinedload

from reseller.catalog.models import add_years, rules_for
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, ValidationFailed, translate_messages
from reseller.core.extensions import db
from reseller.core.formatting import format_date_local as format_date
from reseller.core.formatting import format_money
from reseller.core.pagination import paginate
from reseller.core.permissions import Permission
from reseller.core.web.forms import field_errors, flatten, form_problem
from reseller.core.web.responses import secret_response
from reseller.core.web.session import permission_required, user_can
from reseller.domains import bulk, identity, names, orders, services
from reseller.domains import contacts as contact_services
from reseller.domains.models import Contact, Domain, Order
from reseller.domains.records import get_domain
from reseller.domains.schemas import ContactIn, parse_price

bp = Blueprint("domains", __name__)
VIEW = permission_required(Permission.VIEW_DOMAINS)
MANAGE = permission_required(Permission.MANAGE_DOMAINS)


def _rid() -> int:
    return g.user.reseller_id


FIELD_WORDS = {"nameservers": _l("Nameservers"), "ds": _l("DS records"),
               "host": _l("Host name"), "addresses": _l("Addresses"),
               "period": _l("Period"), "auth_code": _l("Auth code"),
               "accept_price": _l("Price"), "names": _l("Names"), "csv": _l("CSV file"),
               "admin": _l("Admin contact"), "tech": _l("Technical contact"),
               "registrant": _l("Registrant")}


def _refusal(error: DomainError) -> str:
    """A refusal in words for a flash message: each field named as the page names it (or
    not at all), never "Correct the fields listed in errors. nameservers.1: …"."""
    if not isinstance(error, ValidationFailed):
        return str(error.detail or error.title)
    parts = []
    for key, messages in flatten(translate_messages(error.errors)):
        word = FIELD_WORDS.get(key.split("-")[0].split(".")[-1]) if key else None
        text = " ".join(messages)
        parts.append(f"{word}: {text}" if word else text)
    return " ".join(parts) or str(error.detail or error.title)


def _attempt(action: Callable[[], Any], success: str | None = None) -> Any:
    """Run ``action`` in a unit of work; flash its refusal instead of failing the page."""
    try:
        with unit_of_work():
            result = action()
    except DomainError as refused:
        flash(_refusal(refused), "error")
        return None
    if success:
        flash(success)
    return result if result is not None else True


PICKER_SIZE = 50  # contacts offered in a choice: the newest, or those a search found
CONTACTS_PAGE = 100


def _contact_choices() -> list[Contact]:
    """Contacts to choose from: those matching ``?contact_q=`` (name, organisation or
    email), newest first, at most ``PICKER_SIZE`` — never every contact of a reseller with
    tens of thousands. A domain's current contacts are offered by the page beside them."""
    stmt = contact_services.list_contacts(reseller_id=_rid(),
                                          q=request.args.get("contact_q", "")[:100])
    return list(db.session.scalars(stmt.order_by(Contact.id.desc()).limit(PICKER_SIZE)))


# -- search and register ------------------------------------------------------------------------

@bp.get("/domains/search")
@VIEW
def search():
    query = request.args.get("q", "").strip()
    results, error = [], None
    if query:
        wanted = [part for part in query.replace(",", " ").split() if part]
        wanted = [w if "." in w else f"{w}.{tld}" for w in wanted
                  for tld in (("fi", "se", "com", "eu") if "." not in w else ("",))]
        try:
            results = bulk.search_names(reseller_id=_rid(), names_text=wanted)
        except DomainError as refused:
            error = _refusal(refused)
    return render_template("domains/search.html", query=query, results=results, error=error)


@bp.route("/domains/register", methods=["GET", "POST"])
@MANAGE
def register():
    name = request.values.get("name", "").strip()
    period = request.values.get("period", "1")
    notice, errors, problem = None, {}, None
    if request.method == "POST":
        form = request.form
        contacts = {role: int(form[role]) for role in ("registrant", "admin", "tech")
                    if form.get(role, "").isdigit()}
        # A claims notice is acknowledged only with its box ticked (the step below).
        claims_ack = form.get("claims_ack") if form.get("claims_acknowledged") else None
        try:
            availability = orders.ask_availability(name)  # with no transaction open
            with unit_of_work():
                order = orders.order_register(
                    reseller_id=_rid(), name=name, period=_int(period), contacts=contacts,
                    nameservers=form.get("nameservers", "").split(),
                    privacy=bool(form.get("privacy")), auto_renew=bool(form.get("auto_renew")),
                    idempotency_key=form.get("idempotency_key") or str(uuid.uuid4()),
                    accept_price=_accepted(form.get("accept_price")), claims_ack=claims_ack,
                    availability=availability)
        except DomainError as refused:
            order, notice = None, refused.extra.get("notice")  # an order check's notice
            if not notice:
                errors, problem = field_errors(refused, known=REGISTER_FIELDS,
                                               aliases=REGISTER_ALIASES)
                problem = problem or form_problem()
        if order:
            flash(_("Order placed: %(name)s.", name=order.unicode_name))
            return redirect(url_for("domains.order_page", order_id=order.id))
    quote, error = None, None
    try:
        result = services.check_availability(reseller_id=_rid(), names_text=[name],
                                             period=_int(period))[0]
        quote = result
        if not result["available"]:
            error = _("%(name)s is not available.", name=result["unicode_name"])
    except DomainError as refused:
        error = _refusal(refused)
    return render_template("domains/register.html", name=name, period=_int(period),
                           quote=quote, error=error, contacts=_contact_choices(),
                           contact_q=request.args.get("contact_q", ""),
                           idempotency_key=str(uuid.uuid4()), notice=notice,
                           form=request.form, errors=errors, problem=problem), \
        409 if notice else 422 if problem else 200


REGISTER_FIELDS = frozenset({"registrant", "admin", "tech", "nameservers"})
REGISTER_ALIASES = {f"contacts{sep}{role}": role for role in ("registrant", "admin", "tech")
                    for sep in (".", "-")}


def _accepted(text: str | None, years: int = 1) -> Any:
    """The premium price the reseller saw and confirmed (a hidden field of the form:
    ``years`` × the shown yearly price for a renewal), or None."""
    if not (text or "").strip():
        return None
    try:
        return parse_price(text.strip()) * years
    except ValidationError as error:
        raise ValidationFailed({"accept_price": error.messages}) from None


def _int(value: Any, default: int = 1) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# -- list and bulk actions ---------------------------------------------------------------------

@bp.get("/domains")
@VIEW
def domain_list():
    args = request.args
    stmt = services.list_domains(reseller_id=_rid(), status=args.get("status") or None,
                                 tld=args.get("tld") or None, q=args.get("q") or None)
    page = paginate(stmt, key=Domain.id, cursor=args.get("cursor") or None, limit=100)
    return render_template("domains/list.html", page=page, args=args,
                           idempotency_key=str(uuid.uuid4()))


@bp.post("/domains/bulk")
@MANAGE
def bulk_action():
    selected = request.form.getlist("names")
    action = request.form.get("action")
    if not selected:
        flash(_("Select at least one domain."), "error")
        return redirect(url_for("domains.domain_list"))
    if action == "renew" and not request.form.get("confirmed"):
        return _confirm_bulk_renew(selected)
    if action == "renew":
        key = request.form.get("idempotency_key") or str(uuid.uuid4())
        results = _attempt(lambda: bulk.bulk_renew(reseller_id=_rid(), names=selected,
                                                   period=1, idempotency_key=key))
        if results:
            placed = sum(1 for r in results if r["order"] is not None)
            flash(_("Renewal orders placed: %(n)s of %(total)s.", n=placed, total=len(results)))
            for row in results:
                if row["error"]:
                    flash(f"{row['name']}: {row['error'].get('detail')}", "error")
    elif action in ("auto_renew_on", "auto_renew_off"):
        value = action == "auto_renew_on"
        _attempt(lambda: [services.set_auto_renew(reseller_id=_rid(), name=n, auto_renew=value)
                          for n in selected], _("Auto-renew updated."))
    return redirect(url_for("domains.domain_list"))


def _confirm_bulk_renew(selected: list[str]) -> str:
    """Each selected name's one-year renewal price and the total, before any order."""
    lines, total = [], None
    for name in dict.fromkeys(selected):
        try:
            domain = get_domain(reseller_id=_rid(), name=name)
            price = orders.quote_order(reseller_id=_rid(), name=domain.name,
                                       operation="renew")[0]
        except DomainError as refused:
            lines.append({"name": name, "price": None, "error": _refusal(refused)})
            continue
        lines.append({"name": domain.unicode_name, "price": price, "error": None})
        total = price.total if total is None else total + price.total
    happens = [_("Each domain is renewed for 1 year."), _charge_line()]
    if any(line["error"] for line in lines):
        happens.append(_("The names marked are not renewed."))
    show_money = total is not None and user_can(Permission.VIEW_BILLING)
    return render_template(
        "domains/confirm.html", heading=_("Renew %(n)s domains", n=len(lines)),
        happens=happens, lines=lines, price=None, premium=False, danger=False,
        hidden={"action": "renew", "names": list(dict.fromkeys(selected)),
                "idempotency_key": request.form.get("idempotency_key") or str(uuid.uuid4())},
        submit=_("Confirm and pay %(total)s", total=format_money(total)) if show_money
        else _("Confirm the renewal"),
        action=url_for("domains.bulk_action"), cancel=url_for("domains.domain_list"),
        type_name=None, typed="", errors={}, problem=None)


# -- one domain ----------------------------------------------------------------------------------

@bp.get("/domains/<name>")
@VIEW
def domain_page(name: str):
    domain = get_domain(reseller_id=_rid(), name=name, load=DOMAIN_PAGE)
    recent = db.session.scalars(orders.list_orders(reseller_id=_rid(), domain=domain.name)
                                .order_by(Order.id.desc()).limit(10))
    return render_template("domains/domain.html", domain=domain, contacts=_contact_choices(),
                           contact_q=request.args.get("contact_q", ""),
                           orders=list(recent), auth_code=None,
                           **_renew_price(domain), idempotency_key=str(uuid.uuid4()))


# The domain page shows its contacts and glue hosts: loaded with it, not one by one.
DOMAIN_PAGE = (joinedload(Domain.registrant), joinedload(Domain.admin),
               joinedload(Domain.tech), joinedload(Domain.hosts))


def _renew_price(domain: Domain) -> dict[str, Any]:
    """The 1-year renewal (or restore) price, shown before the reseller confirms, and
    whether it is premium (then the form carries it as the accepted price)."""
    operation = "restore" if domain.status == "redemption" else "renew"
    try:
        quote, premium = orders.quote_order(reseller_id=_rid(), name=domain.name,
                                            operation=operation)
    except DomainError:
        return {"renew_price": None, "renew_premium": False}
    return {"renew_price": quote, "renew_premium": premium}


@bp.post("/domains/<name>/<any(nameservers, dnssec, lock, privacy, auto_renew, contacts, "
         "renew, restore, auth_code, delete, host, transfer_out):action>")
@MANAGE
@secret_response  # the auth_code action shows the domain's auth code
def domain_action(name: str, action: str):
    form, rid = request.form, _rid()
    key = form.get("idempotency_key") or str(uuid.uuid4())
    handlers: dict[str, Callable[[], Any]] = {
        "nameservers": lambda: services.set_nameservers(
            reseller_id=rid, name=name, nameservers=form.get("nameservers", "").split()),
        "dnssec": lambda: services.set_dnssec(reseller_id=rid, name=name,
                                              ds=_parse_ds(form.get("ds", ""))),
        "lock": lambda: services.set_lock(reseller_id=rid, name=name,
                                          locked=form.get("locked") == "1"),
        "privacy": lambda: services.set_privacy(reseller_id=rid, name=name,
                                                privacy=form.get("privacy") == "1"),
        "auto_renew": lambda: services.set_auto_renew(reseller_id=rid, name=name,
                                                      auto_renew=form.get("auto_renew") == "1"),
        "contacts": lambda: services.set_contacts(
            reseller_id=rid, name=name, admin=_int(form.get("admin"), None),
            tech=_int(form.get("tech"), None)),
        # The premium fee is asked first, with no transaction open (``ask_premium_fee``).
        "renew": lambda: orders.order_renew(
            premium_fee=orders.ask_premium_fee(name, "renew", _int(form.get("period"))),
            reseller_id=rid, name=name, period=_int(form.get("period")), idempotency_key=key,
            accept_price=_accepted(form.get("accept_price"), _int(form.get("period")))),
        "restore": lambda: orders.order_restore(
            premium_fee=orders.ask_premium_fee(name, "restore"),
            reseller_id=rid, name=name, idempotency_key=key,
            accept_price=_accepted(form.get("accept_price"))),
        "auth_code": lambda: services.request_auth_code(reseller_id=rid, name=name),
        "delete": lambda: services.delete_domain(reseller_id=rid, name=name),
        "transfer_out": lambda: services.answer_transfer_out(
            reseller_id=rid, name=name, approve=form.get("approve") == "1"),
        "host": lambda: services.set_host(reseller_id=rid, name=name,
                                          host=form.get("host", ""),
                                          addresses=form.get("addresses", "").split()),
    }
    approving = action == "transfer_out" and form.get("approve") == "1"
    if (action in CONFIRMED or approving) and not form.get("confirmed"):
        return _confirm_page(action, name)  # what it does and costs, before it happens
    if (action == "auth_code" or approving) \
            and not _delete_confirmed(name, form.get("confirm_name", "")):
        return _confirm_page(action, name, typed=form.get("confirm_name", ""), error=_(
            "Type the domain name exactly as shown to confirm.")), 422
    terms = None
    if action == "delete":
        if not _delete_confirmed(name, form.get("confirm_name", "")):
            return _delete_page(name, typed=form.get("confirm_name", ""), error=_(
                "Type the domain name exactly as shown to confirm the deletion.")), 422
        terms = services.deletion_terms(reseller_id=rid, name=name)
    result = _attempt(handlers[action])
    if result and action == "auth_code":
        domain = get_domain(reseller_id=rid, name=name, load=DOMAIN_PAGE)
        return render_template("domains/domain.html", domain=domain,
                               contacts=_contact_choices(), contact_q="",
                               orders=[], auth_code=result, **_renew_price(domain),
                               idempotency_key=str(uuid.uuid4()))
    if result and isinstance(result, Order):
        flash(_ordered(result))
        return redirect(url_for("domains.order_page", order_id=result.id))
    if result and action == "delete":
        _flash_deleted(result, terms)
        return redirect(url_for("domains.domain_list"))
    if result and action == "transfer_out":
        flash(_("%(name)s was released to the other registrar.", name=result.unicode_name)
              if approving else _("The transfer of %(name)s was refused: it stays here.",
                                  name=result.unicode_name))
        return redirect(url_for("domains.domain_list") if approving
                        else url_for("domains.domain_page", name=name))
    if result:
        flash(_outcome(action, form))
    return redirect(url_for("domains.domain_page", name=name))


CONFIRMED = ("renew", "restore", "auth_code")  # asked again on a page that says what they do
TYPED = ("auth_code", "transfer_out")  # and these need the domain's name typed


def _charge_line() -> str:
    return _("The price is reserved from your account when you confirm and charged when the "
             "registry has done it; if the registry refuses, nothing is charged.")


def _confirm_page(action: str, name: str, *, typed: str = "", error: str | None = None) -> str:
    domain = get_domain(reseller_id=_rid(), name=name)
    period = max(1, min(_int(request.form.get("period") or request.args.get("period")), 10))
    price = premium = None
    hidden: dict[str, Any] = {"idempotency_key": request.form.get("idempotency_key")
                              or str(uuid.uuid4())}
    if action in ("renew", "restore"):
        try:
            price, premium = orders.quote_order(reseller_id=_rid(), name=domain.name,
                                                operation=action, years=period)
            if premium and action == "renew":  # the accepted price is per year
                hidden["accept_price"] = orders.quote_order(
                    reseller_id=_rid(), name=domain.name, operation=action)[0].net
            elif premium:
                hidden["accept_price"] = price.net
        except DomainError as refused:
            error = _refusal(refused)
    if action == "renew":
        hidden["period"] = period
        heading = _("Renew %(name)s", name=domain.unicode_name)
        happens = [_("%(name)s is renewed for %(n)s year(s): it then expires on %(date)s.",
                     name=domain.unicode_name, n=period,
                     date=format_date(add_years(domain.expires_at, period))), _charge_line()]
        submit = _("Confirm and pay %(total)s", total=format_money(price.total)) \
            if price is not None and user_can(Permission.VIEW_BILLING) \
            else _("Confirm the renewal")
    elif action == "restore":
        heading = _("Restore %(name)s", name=domain.unicode_name)
        happens = [_("%(name)s comes back from redemption and is active again in this "
                     "account.", name=domain.unicode_name), _charge_line()]
        submit = _("Confirm and pay %(total)s", total=format_money(price.total)) \
            if price is not None and user_can(Permission.VIEW_BILLING) \
            else _("Confirm the restore")
    elif action == "transfer_out":
        heading = _("Release %(name)s to the other registrar", name=domain.unicode_name)
        hidden["approve"] = "1"
        happens = [_("%(name)s moves to the registrar that asked for it now, without waiting "
                     "for the registry to approve it by itself.", name=domain.unicode_name),
                   _("When it moves, it leaves this account. Nothing is refunded for the time "
                     "already paid (until %(date)s); the new registrar sets its own price.",
                     date=format_date(domain.expires_at))]
        submit = _("Release %(name)s", name=domain.unicode_name)
    else:
        heading = _("Transfer %(name)s away", name=domain.unicode_name)
        happens = [_("The registry makes a new auth code for %(name)s. Whoever has it can move "
                     "the domain to another registrar.", name=domain.unicode_name),
                   _("When it moves, it leaves this account. Nothing is refunded for the time "
                     "already paid (until %(date)s); the new registrar sets its own price.",
                     date=format_date(domain.expires_at))]
        if domain.locked:
            happens.append(_("The domain is locked against transfers: unlock it first."))
        submit = _("Show the auth code")
    return render_template(
        "domains/confirm.html", heading=heading, happens=happens, price=price,
        premium=premium, hidden=hidden, submit=submit,
        problem=error if action not in TYPED else None, danger=action in TYPED,
        action=url_for("domains.domain_action", name=domain.name, action=action),
        cancel=url_for("domains.domain_page", name=domain.name),
        type_name=domain.unicode_name if action in TYPED else None, typed=typed,
        errors={"confirm_name": [error]} if error and action in TYPED else {})


def _ordered(order: Order) -> str:
    words = {"renew": _("Renewal of %(name)s ordered."), "restore": _(
        "Restore of %(name)s ordered."), "transfer": _("Transfer of %(name)s requested."),
        "register": _("Order placed: %(name)s.")}
    text = words.get(order.kind, _("Order placed: %(name)s."))
    return text % {"name": order.unicode_name}


def _flash_deleted(domain: Domain, terms: dict[str, Any] | None) -> None:
    flash(_("%(name)s was deleted at the registry.", name=domain.unicode_name))
    if domain.status == "redemption":
        flash(_("It can be restored for %(days)s days.", days=terms["redemption_days"]))
    elif terms and terms["refund"] is not None:
        flash(_("The registration was refunded to your account: %(amount)s.",
                amount=format_money(terms["refund"].total)))


OUTCOMES = {
    "nameservers": _l("The nameservers were changed at the registry."),
    "dnssec": _l("The DNSSEC records were changed at the registry."),
    "contacts": _l("The contacts were changed at the registry."),
    "host": _l("The name server host was saved at the registry."),
}
SWITCHES = {
    ("lock", True): _l("The domain is now locked: it cannot be transferred away."),
    ("lock", False): _l("The transfer lock is off: the domain can be transferred away with "
                        "its auth code."),
    ("privacy", True): _l("Privacy protection is on: WHOIS and RDAP hide the contacts."),
    ("privacy", False): _l("Privacy protection is off."),
    ("auto_renew", True): _l("The domain renews automatically before it expires."),
    ("auto_renew", False): _l("The domain no longer renews automatically."),
}


def _outcome(action: str, form: Any) -> str:
    if action in ("lock", "privacy", "auto_renew"):
        return str(SWITCHES[action, form.get(action if action != "lock" else "locked") == "1"])
    return str(OUTCOMES[action])


def _delete_confirmed(name: str, typed: str) -> bool:
    """The reseller typed the name (either form, any case, spaces around ignored)."""
    domain = get_domain(reseller_id=_rid(), name=name)
    typed = typed.strip().rstrip(".").lower()
    return bool(typed) and typed in (domain.name, domain.unicode_name.lower())


def _delete_page(name: str, *, typed: str = "", error: str | None = None) -> str:
    terms = services.deletion_terms(reseller_id=_rid(), name=name)
    return render_template("domains/delete.html", typed=typed, error=error, **terms)


@bp.get("/domains/<name>/delete")
@MANAGE
def confirm_delete(name: str):
    """What deleting will do and cost, and the name to type before it happens."""
    return _delete_page(name)


def _parse_ds(text: str) -> list[dict[str, Any]]:
    records = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        parts = line.split()
        values: dict[str, Any] = dict(zip(("key_tag", "algorithm", "digest_type", "digest"),
                                          parts, strict=False))
        for field in ("key_tag", "algorithm", "digest_type"):
            values[field] = _int(values.get(field), -1)
        records.append(values)
    return records


# -- transfers -----------------------------------------------------------------------------------

@bp.route("/transfers", methods=["GET", "POST"])
@MANAGE
def transfers():
    report = None
    if request.method == "POST":
        key = request.form.get("idempotency_key") or str(uuid.uuid4())
        upload = request.files.get("file")
        if upload and upload.filename:
            text = upload.read().decode("utf-8", errors="replace")
            report = _attempt(lambda: bulk.import_transfers(
                reseller_id=_rid(), text=text, idempotency_key=key,
                premium_fees=bulk.ask_premium_fees(
                    [name for _, name, _ in bulk.parse_transfer_csv(text)], "transfer")))
        else:
            name = request.form.get("name", "")
            if not request.form.get("confirmed"):
                try:
                    return _confirm_transfer(name, key)
                except DomainError as refused:
                    errors, problem = field_errors(refused, known={"name", "auth_code"})
                    if not errors:
                        errors, problem = {"name": [problem]}, None
                    return render_template(
                        "domains/transfers.html", report=None, idempotency_key=key,
                        form=request.form, errors=errors, problem=problem), 422
            order = _attempt(lambda: orders.order_transfer(
                premium_fee=orders.ask_premium_fee(name, "transfer"), reseller_id=_rid(),
                name=name,
                auth_code=request.form.get("auth_code", ""), idempotency_key=key,
                accept_price=_accepted(request.form.get("accept_price"))))
            if order:
                flash(_("Transfer requested for %(name)s.", name=order.unicode_name))
                return redirect(url_for("domains.order_page", order_id=order.id))
    return render_template("domains/transfers.html", report=report,
                           idempotency_key=str(uuid.uuid4()),
                           form={"name": request.args.get("name", "")}, errors={},
                           problem=None)


def _confirm_transfer(name: str, key: str) -> str:
    """What transferring ``name`` in does and costs, before the order is placed."""
    parsed = names.parse(name)
    if not request.form.get("auth_code", "").strip():
        raise ValidationFailed({"auth_code": [_("Give the auth code the current registrar "
                                                "gave you.")]})
    price, premium = orders.quote_order(reseller_id=_rid(), name=parsed.ascii,
                                        operation="transfer")
    happens = [_("We ask the registry to move %(name)s to this account with the auth code. "
                 "The current registrar may still refuse; the order page shows how it goes.",
                 name=parsed.unicode)]
    if rules_for(parsed.tld).transfer_adds_year:
        happens.append(_("A transfer of .%(tld)s adds one year to the domain's registration.",
                         tld=parsed.tld))
    happens.append(_charge_line())
    hidden = {"name": parsed.ascii, "auth_code": request.form.get("auth_code", "").strip(),
              "idempotency_key": key}
    if premium:
        hidden["accept_price"] = price.net
    return render_template(
        "domains/confirm.html", heading=_("Transfer %(name)s in", name=parsed.unicode),
        happens=happens, price=price, premium=premium, hidden=hidden, danger=False,
        submit=_("Confirm and pay %(total)s", total=format_money(price.total))
        if user_can(Permission.VIEW_BILLING) else _("Confirm the transfer"),
        action=url_for("domains.transfers"), cancel=url_for("domains.transfers"),
        type_name=None, typed="", errors={}, problem=None)


# -- contacts ------------------------------------------------------------------------------------

CONTACT_FIELDS = frozenset(ContactIn().fields)


@bp.route("/contacts", methods=["GET", "POST"])
@VIEW
def contacts():
    errors, problem = {}, None
    if request.method == "POST":
        if not _can_manage():
            flash(_("Your role cannot change contacts."), "error")
            return redirect(url_for("domains.contacts"))
        fields = {key: request.form.get(key, "").strip() for key in CONTACT_FIELDS}
        for optional in ("organization", "entity_type", "registration_number",
                         "personal_id", "citizenship"):
            fields[optional] = fields.get(optional) or None
        try:
            with unit_of_work():
                contact = contact_services.create_contact(
                    reseller_id=_rid(), **ContactIn().load_or_raise(fields))
        except DomainError as refused:
            errors, problem = field_errors(refused, known=CONTACT_FIELDS)
            problem = problem if problem else form_problem()
        else:
            flash(_("Contact %(name)s was created (phone saved as %(phone)s).",
                    name=contact.name, phone=contact.phone))
            return redirect(url_for("domains.contacts"))
    q = request.args.get("q", "")[:100]
    page = paginate(contact_services.list_contacts(reseller_id=_rid(), q=q), key=Contact.id,
                    cursor=request.args.get("cursor") or None, limit=CONTACTS_PAGE,
                    descending=True)
    return render_template("domains/contacts.html", page=page, q=q,
                           mask_identity=identity.mask, form=request.form, errors=errors,
                           problem=problem), 422 if problem else 200


def _can_manage() -> bool:
    return user_can(Permission.MANAGE_DOMAINS)


# -- orders ------------------------------------------------------------------------------------

@bp.get("/orders")
@VIEW
def order_list():
    stmt = orders.list_orders(reseller_id=_rid(), state=request.args.get("state") or None)
    page = paginate(stmt, key=Order.id, cursor=request.args.get("cursor") or None, limit=100,
                    descending=True)
    return render_template("domains/orders.html", page=page)


@bp.get("/orders/<int:order_id>")
@VIEW
def order_page(order_id: int):
    order = orders.get_order(reseller_id=_rid(), order_id=order_id)
    return render_template("domains/order.html", order=order)

