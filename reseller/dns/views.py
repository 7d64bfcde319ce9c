"""Client-area DNS pages: zones, a record editor that works without JavaScript (one form
per action), zone-file import/export, URL forwards, zone keys and vanity nameservers; and the
forwarding server: any request whose Host is a forwarded name is answered with the
redirect, whatever its path."""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from reseller.core.db import end_reads, unit_of_work
from reseller.core.errors import DomainError, translate_messages
from reseller.core.pagination import paginate
from reseller.core.permissions import Permission
from reseller.core.web.forms import form_problem
from reseller.core.web.responses import secret_response
from reseller.core.web.session import permission_required, user_can
from reseller.dns import forwarding, keys, ownership, services, vanity
from reseller.dns.errors import ZoneChanged
from reseller.dns.models import Zone
from reseller.dns.records import RECORD_TYPES, RR, is_ip_address, validate_record
from reseller.dns.settings import dns_settings
from reseller.dns.verification import DnsLookup

bp = Blueprint("dns", __name__, url_prefix="/dns")

KEY_SCOPE_NAMES = {"acme": _l("ACME certificates (certbot, lego)"),
                   "records": _l("All records (octoDNS, external-dns, Terraform, nsupdate)"),
                   "read": _l("Read only (zone transfers)")}
server = Blueprint("forwarding_server", __name__)

UNPUBLISHED_REASONS = {
    ownership.HELD_ELSEWHERE: _l("the name is registered or hosted in another account."),
    ownership.INSIDE_OTHER_ZONE: _l("the name is inside a zone hosted in another account."),
    ownership.DOMAIN_LEFT: _l("the domain is no longer in this account."),
}


ZONES_PAGE = 100
FIELD_WORDS = {"name": _l("name"), "type": _l("type"), "ttl": _l("TTL"), "value": _l("value")}
RECORD_FIELDS = ("name", "type", "ttl", "value")


def describe(error: DomainError, own: RR | None = None) -> str:
    """A refusal in words: a record named as it reads ("www A 192.0.2.10"), its field in
    words, never a path like ``records.1.ttl``."""
    return human_errors(error, own)[1] or ""


def human_errors(error: DomainError, own: RR | None = None
                 ) -> tuple[dict[str, list[str]], str | None]:
    """``(errors by form field, message above the form)``. An error on ``own`` (the record
    the form adds or edits) or on the form's single record goes beside its field; one on
    another record of the zone is said above, naming that record."""
    errors = getattr(error, "errors", None)
    if not errors:
        return {}, str(error.detail or error.title)
    subjects = getattr(error, "records", {}) or {}
    by_field: dict[str, list[str]] = {}
    lines: list[str] = []
    for path, messages in _paths(translate_messages(errors)):
        group, index, attr = _split(path)
        subject = _subject(subjects.get(group), index)
        mine = group in ("add", "edit") or (own is not None and subject is not None
                                            and _same(subject, own))
        if mine and attr in RECORD_FIELDS:
            by_field.setdefault(attr, []).extend(messages)
        elif subject is not None:
            record = " ".join(str(subject.get(k, "")) for k in ("name", "type", "value"))
            text = " ".join(messages)
            lines.append(_("Record “%(record)s”, %(field)s: %(message)s", record=record,
                           field=FIELD_WORDS[attr], message=text) if attr in FIELD_WORDS
                         else _("Record “%(record)s”: %(message)s", record=record,
                                message=text))
        else:
            lines.extend(messages)
    if lines:
        return by_field, " ".join(lines)
    return by_field, (str(form_problem()) if by_field else str(error.detail or error.title))


def _paths(errors, path=()):
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _paths(value, (*path, str(key)))
    elif isinstance(errors, (list, tuple)) and not all(isinstance(i, str) for i in errors):
        for item in errors:
            yield from _paths(item, path)
    else:
        yield path, [str(m) for m in (errors if isinstance(errors, (list, tuple))
                                      else [errors])]


def _split(path: tuple) -> tuple[str, int | None, str | None]:
    group = path[0] if path else ""
    index = int(path[1]) if len(path) > 1 and path[1].isdigit() else None
    rest = path[2:] if index is not None else path[1:]
    attr = rest[0] if rest and rest[0] != "_schema" else None
    return group, index, attr


def _subject(records, index):
    if not records or index is None or index >= len(records):
        return None
    item = records[index]
    return item if isinstance(item, dict) else None


def _same(subject: dict, own: RR) -> bool:
    return (str(subject.get("name")), str(subject.get("type")), str(subject.get("value"))) \
        == (own.name, own.type, own.value)


@bp.route("", methods=["GET", "POST"])
@permission_required(Permission.VIEW_DOMAINS)
def zones():
    error = None
    rid = g.user.reseller_id
    if request.method == "POST" and user_can(Permission.MANAGE_DOMAINS):
        try:
            with unit_of_work():
                zone = services.create_zone(reseller_id=rid, name=request.form.get("name", ""),
                                            settings=dns_settings())
            if zone.active:
                flash(_("The zone %(name)s is hosted; it is being published.", name=zone.name))
            else:
                flash(_("The zone %(name)s waits for verification: publish the TXT record "
                        "shown below.", name=zone.name))
            return redirect(url_for("dns.zone", name=zone.name))
        except DomainError as refused:
            error = describe(refused)
    # A page at a time (an account may host a zone for each of 100,000 domains); the
    # page's records in one statement (the relationship's selectin load).
    page = paginate(services.zones_of(reseller_id=rid), key=Zone.id,
                    cursor=request.args.get("cursor") or None, limit=ZONES_PAGE)
    return render_template("dns/zones.html", zones=page.items, page=page,
                           error=error, nameservers=services.nameservers_for(
                               rid, dns_settings())), 422 if error else 200


def _record_form() -> dict:
    ttl = request.form.get("ttl", "3600").strip()
    return {"name": request.form.get("name", "@").strip() or "@",
            "type": request.form.get("type", "").strip().upper(),
            "ttl": int(ttl) if ttl.isdigit() else ttl, "value": request.form.get("value", "")}


def _old_record() -> dict:
    return {k: request.form.get(f"old_{k}", "") for k in ("name", "type", "value")}


def _own_record(zone_name: str) -> RR | None:
    """The record the posted form adds or edits, canonical, if it is valid on its own."""
    try:
        return validate_record(_record_form(), zone_name)
    except (ValueError, DomainError):
        return None


def _zone_action(name: str) -> str | None:
    rid, settings = g.user.reseller_id, dns_settings()
    action = request.form.get("action")
    if action == "add":
        services.patch_records(reseller_id=rid, name=name, add=[_record_form()], remove=[],
                               settings=settings)
        return _("Record added.")
    if action == "edit":
        serial = request.form.get("serial", "")
        services.edit_record(reseller_id=rid, name=name, old=_old_record(),
                             new=_record_form(), settings=settings,
                             serial=int(serial) if serial.isdigit() else None)
        return _("Record changed: %(record)s.", record=" ".join(
            str(v) for v in _record_form().values()))
    if action == "delete":
        services.patch_records(reseller_id=rid, name=name, add=[], settings=settings,
                               remove=[{k: request.form.get(k) for k in ("name", "type",
                                                                         "value")}])
        return _("Record deleted.")
    if action == "import":
        services.import_zone_file(reseller_id=rid, name=name, settings=settings,
                                  text=request.form.get("zonefile", ""))
        return _("Zone file imported.")
    if action == "forward":
        forwarding.set_forward(
            reseller_id=rid, zone_name=name, host=request.form.get("host") or "@",
            target=request.form.get("target", ""), settings=settings,
            status=302 if request.form.get("status") == "302" else 301,
            preserve_path=bool(request.form.get("preserve_path")),
            preserve_query=bool(request.form.get("preserve_query")))
        return _("Forward saved.")
    if action == "unforward":
        forwarding.delete_forward(reseller_id=rid, zone_name=name, settings=settings,
                                  host=request.form.get("host", ""))
        return _("Forward removed.")
    if action == "verify":
        zone = ownership.verify_zone(services.get_zone(reseller_id=rid, name=name), settings,
                                     lookup=g.dns_answers)
        return _("Verified: the zone is being published.") if zone.active else \
            _("The TXT record was not found yet.")
    if action == "revoke_key":
        key_id = request.form.get("key_id", "")
        keys.delete_key(reseller_id=rid, zone_name=name,
                        key_id=int(key_id) if key_id.isdigit() else 0)
        return _("Key revoked: it stops working on the nameservers within a second.")
    if action == "delete_zone":
        services.delete_zone(reseller_id=rid, name=name)
        return None
    return _("Nothing to do.")


@bp.route("/<name>", methods=["GET", "POST"])
@permission_required(Permission.VIEW_DOMAINS)
def zone(name: str):
    error, errors = None, {}
    if request.method == "POST" and user_can(Permission.MANAGE_DOMAINS):
        if request.form.get("action") == "verify":
            g.dns_answers = _answers_first(name)
        try:
            with unit_of_work():
                message = _zone_action(name)
        except DomainError as refused:
            own = _own_record(name) if request.form.get("action") in ("add", "edit") else None
            errors, error = human_errors(refused, own)
            if isinstance(refused, ZoneChanged):
                errors = {}  # the page shows the zone as it is now: the edit starts over
        else:
            if message is None:
                flash(_("The zone is no longer hosted."))
                return redirect(url_for("dns.zones"))
            flash(message)
            return redirect(url_for("dns.zone", name=name))
    return _zone_page(name, error=error, errors=errors), 422 if error else 200


def _zone_page(name: str, *, error: str | None = None, errors=None, new_key=None) -> str:
    served = _serial_on_server(name)
    rid = g.user.reseller_id
    zone = services.get_zone(reseller_id=rid, name=name)
    return render_template(
        "dns/zone.html", zone=zone, error=error, errors=errors or {}, types=RECORD_TYPES,
        form=request.form, delegation=services.delegation_warning(zone, dns_settings()),
        editing=_old_record() if request.form.get("action") == "edit" and errors else None,
        nameservers=services.nameservers_for(rid, dns_settings()),
        pending=bool(services.pending_changes(zone)) or not zone.on_server,
        verification=ownership.verification_view(zone), reasons=UNPUBLISHED_REASONS,
        forwards=forwarding.forwards_of(zone),
        keys=keys.zone_keys(zone.id), scopes=KEY_SCOPE_NAMES, new_key=new_key,
        server=dns_settings().server_for(new_key["scope"] if new_key else "records"),
        allowed=keys.allowed_text,
        server_serial=served if zone.active and zone.on_server else None,
    )


def _answers_first(name: str) -> ownership.Answers:
    """Look for the zone's proof of control before the action's transaction, with none
    open (what the request has read so far is committed first)."""
    question = None
    with unit_of_work(), suppress(DomainError):  # the action answers a bad name
        question = ownership.question(services.find_own_zone(
            g.user.reseller_id, services.zone_name(name)))
    return ownership.ask(question, DnsLookup(dns_settings()))


def _serial_on_server(name: str) -> int | None:
    """The server's SOA serial for the page, asked with no transaction open (what the
    request has read so far is committed first, and stays loaded: the signed-in user)."""
    end_reads()
    try:
        return services.serial_on_server(services.zone_name(name))
    except DomainError:
        return None  # the page answers the bad name


@bp.post("/<name>/keys")
@permission_required(Permission.MANAGE_DOMAINS)
@secret_response  # the new key's secret is on this page, once
def create_key(name: str):
    try:
        with unit_of_work():
            key = keys.create_key(reseller_id=g.user.reseller_id, zone_name=name,
                                  scope=request.form.get("scope", ""), settings=dns_settings())
            shown = {"name": key.key_name, "secret": key.secret, "scope": key.scope}
    except DomainError as refused:
        return _zone_page(name, error=describe(refused)), 422
    return _zone_page(name, new_key=shown), 201


@bp.get("/<name>/zonefile")
@permission_required(Permission.VIEW_DOMAINS)
def zonefile(name: str):
    zone = services.get_zone(reseller_id=g.user.reseller_id, name=name)
    return Response(services.export_zone_file(zone, dns_settings()), mimetype="text/dns",
                    headers={"Content-Disposition": f'attachment; filename="{zone.name}.zone"'})


@bp.route("/nameservers", methods=["GET", "POST"])
@permission_required(Permission.VIEW_DOMAINS)
def nameservers():
    error = None
    rid, settings = g.user.reseller_id, dns_settings()
    if request.method == "POST" and user_can(Permission.MANAGE_DOMAINS):
        resolve = None
        if request.form.get("action") == "verify":  # resolved with no transaction open
            with unit_of_work():
                hostnames = vanity.declared_names(rid)
            resolve = vanity.look_up_names(hostnames, vanity.resolver_for(settings))
        try:
            with unit_of_work():
                if request.form.get("action") == "verify":
                    vanity.verify_vanity(reseller_id=rid, settings=settings, resolve=resolve)
                elif request.form.get("action") == "clear":
                    vanity.clear_vanity(reseller_id=rid, settings=settings)
                else:
                    hosts = [h for h in (request.form.get("ns1", ""), request.form.get("ns2", ""))
                             if h.strip()]
                    vanity.set_vanity(reseller_id=rid, hostnames=hosts, settings=settings)
            return redirect(url_for("dns.nameservers"))
        except DomainError as refused:
            error = describe(refused)
    return render_template("dns/nameservers.html", view=vanity.vanity_view(rid, settings),
                           error=error), 422 if error else 200


# -- the forwarding server -----------------------------------------------------------------

def _own_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]").lower() if host else ""
    base = (urlsplit(current_app.config["BASE_URL"]).hostname or "").lower()
    return not name or name in (base, "localhost") or is_ip_address(name) or "." not in name


@server.before_app_request
def serve_forward():
    if _own_host(request.host):
        return None
    forward = forwarding.find_forward(request.host)
    if forward is None:
        return None
    location = forwarding.redirect_location(forward, request.path,
                                            request.query_string.decode("latin-1"))
    response = redirect(location, code=forward.status)
    response.headers["Cache-Control"] = "no-cache" if forward.status == 302 else "max-age=3600"
    return response
