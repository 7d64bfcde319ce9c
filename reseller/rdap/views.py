"""RDAP (RFC 9082/9083) at ``/rdap``: domain lookups with the registrar and the reseller as
entities, the registrant redacted per RFC 9537 when privacy is on, and ``/rdap/help``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, json, request

from reseller.core.clock import clock
from reseller.core.text import one_line
from reseller.rdap.models import Brand, Person, Registrar, RegistrationData
from reseller.rdap.services import lookup, normalize_query

bp = Blueprint("rdap", __name__, url_prefix="/rdap")

RDAP_MIME = "application/rdap+json"
CONFORMANCE = ["rdap_level_0", "redacted", "icann_rdap_response_profile_1",
               "icann_rdap_technical_implementation_guide_1"]
EPP_STATUS_URL = "https://icann.org/epp"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base() -> str:
    return current_app.config["BASE_URL"] + "/rdap"


def _response(body: dict[str, Any], status: int = 200, mimetype: str = RDAP_MIME) -> Response:
    response = Response(json.dumps(body), status=status, mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _notices(context: str | None = None) -> list[dict[str, Any]]:
    """The notices the gTLD RDAP Response Profile asks for. Each link's ``value`` is the
    context URI — the URL of this response (RFC 8288, RFC 9083 section 4.2) — and its
    ``href`` the target; the terms of service carry ``rel: terms-of-service``."""
    value = context or f"{_base()}/help"
    terms = current_app.config.get("RDAP_TERMS_URL") or f"{_base()}/help"
    return [
        {"title": "Terms of Use",
         "description": ["Registration data is provided for lawful purposes only; "
                         "bulk collection is not permitted."],
         "links": [{"value": value, "rel": "terms-of-service", "href": terms,
                    "type": "text/html" if terms.startswith("http") and "/rdap/" not in terms
                    else "application/rdap+json"}]},
        {"title": "Status Codes",
         "description": ["For more information on domain status codes, please visit "
                         "https://icann.org/epp"],
         "links": [{"value": value, "rel": "glossary", "href": "https://icann.org/epp",
                    "type": "text/html"}]},
        {"title": "RDDS Inaccuracy Complaint Form",
         "description": ["URL of the ICANN RDDS Inaccuracy Complaint Form: "
                         "https://icann.org/wicf"],
         "links": [{"value": value, "rel": "help", "href": "https://icann.org/wicf",
                    "type": "text/html"}]},
    ]


def _one_line(value: Any) -> Any:
    if isinstance(value, list):
        return [_one_line(item) for item in value]
    if isinstance(value, dict):
        return {key: _one_line(item) for key, item in value.items()}
    return one_line(value) if isinstance(value, str) else value


def _vcard(*properties: list) -> list:
    """A jCard whose every value and parameter is one line of text. RFC 7095 would carry a
    line break JSON-escaped, but clients print ``fn``/``adr`` as lines of their own, so a
    stored one (older than the input rule) is escaped visibly instead, as in WHOIS."""
    return ["vcard", [["version", {}, "text", "4.0"], *map(_one_line, properties)]]


def _link(url: str, rel: str, media_type: str) -> dict[str, str]:
    url = one_line(url)
    return {"value": url, "rel": rel, "href": url, "type": media_type}


def registrar_entity(registrar: Registrar) -> dict[str, Any]:
    abuse_properties = [["fn", {}, "text", "Abuse contact"],
                        ["email", {}, "text", registrar.abuse_email]]
    if registrar.abuse_phone:
        abuse_properties.append(["tel", {"type": "voice"}, "uri",
                                 "tel:" + registrar.abuse_phone.replace(".", "")])
    entity = {
        "objectClassName": "entity", "handle": registrar.iana_id, "roles": ["registrar"],
        "publicIds": [{"type": "IANA Registrar ID", "identifier": registrar.iana_id}],
        "vcardArray": _vcard(["fn", {}, "text", registrar.name]),
        "entities": [{"objectClassName": "entity", "roles": ["abuse"],
                      "vcardArray": _vcard(*abuse_properties)}],
    }
    if registrar.url:
        entity["links"] = [_link(registrar.url, "about", "text/html")]
    return entity


def reseller_entity(brand: Brand) -> dict[str, Any]:
    properties = [["fn", {}, "text", brand.name], ["kind", {}, "text", "org"]]
    if brand.url:
        properties.append(["url", {}, "uri", brand.url])
    if brand.email:
        properties.append(["email", {}, "text", brand.email])
    entity: dict[str, Any] = {"objectClassName": "entity", "roles": ["reseller"],
                              "vcardArray": _vcard(*properties)}
    if brand.url:
        entity["links"] = [_link(brand.url, "about", "text/html")]
    return entity


def registrant_entity(person: Person | None, country: str | None,
                      contact_url: str | None = None) -> dict[str, Any]:
    if person is None:  # privacy: the country stays (RFC 9537 redaction by removal), and
        # the contact form replaces the email (RFC 8605 contact-uri; ICANN RDAP profile)
        properties = [["fn", {}, "text", ""],
                      ["adr", {"cc": country or ""}, "text", ["", "", "", "", "", "", ""]]]
        if contact_url:
            properties.append(["contact-uri", {}, "uri", contact_url])
        return {"objectClassName": "entity", "roles": ["registrant"],
                "vcardArray": _vcard(*properties)}
    return {
        "objectClassName": "entity", "handle": person.handle, "roles": ["registrant"],
        "vcardArray": _vcard(
            ["fn", {}, "text", person.name],
            *([["org", {}, "text", person.organization]] if person.organization else []),
            ["adr", {"cc": person.country}, "text",
             ["", "", person.street, person.city, "", person.postal_code, ""]],
            ["email", {}, "text", person.email],
            ["tel", {"type": "voice"}, "uri", "tel:" + person.phone.replace(".", "")]),
    }


REDACTED_FIELDS = [
    ("Registry Registrant ID", "$.entities[?(@.roles[0]=='registrant')].handle", "removal"),
    ("Registrant Name", "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='fn')][3]",
     "emptyValue"),
    ("Registrant Organization",
     "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='org')]", "removal"),
    ("Registrant Street",
     "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='adr')][3][:3]",
     "emptyValue"),
    ("Registrant City",
     "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='adr')][3][3]",
     "emptyValue"),
    ("Registrant Postal Code",
     "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='adr')][3][5]",
     "emptyValue"),
    ("Registrant Phone",
     "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='tel')]", "removal"),
    ("Registrant Email",
     "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='email')]", "removal"),
]


CONTACT_URI_PATH = "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='contact-uri')]"


def redactions(*, contact_form: bool = False) -> list[dict[str, Any]]:
    """RFC 9537 ``redacted`` members; with a contact form the email is replaced by it
    (``replacementValue``, its ``replacementPath`` the vCard ``contact-uri``)."""
    found = []
    for name, path, method in REDACTED_FIELDS:
        key = "prePath" if method == "removal" else "postPath"
        entry = {"name": {"type": name}, key: path, "pathLang": "jsonpath",
                 "method": method, "reason": {"type": "Server policy"}}
        if contact_form and name == "Registrant Email":
            entry.update(method="replacementValue", replacementPath=CONTACT_URI_PATH)
        found.append(entry)
    return found


def domain_object(data: RegistrationData) -> dict[str, Any]:
    self_url = f"{_base()}/domain/{data.ldh_name}"
    body: dict[str, Any] = {
        "rdapConformance": CONFORMANCE,
        "objectClassName": "domain",
        "handle": data.handle,
        "ldhName": data.ldh_name,
        "status": data.status,
        "events": [
            {"eventAction": "registration", "eventDate": _iso(data.created_at)},
            {"eventAction": "expiration", "eventDate": _iso(data.expires_at)},
            # What the registrar holds as the registration's expiry (the profile's
            # "Registrar Registration Expiration Date"): the registry's, as synced.
            {"eventAction": "registrar expiration", "eventDate": _iso(data.expires_at)},
            {"eventAction": "last changed", "eventDate": _iso(data.updated_at)},
            {"eventAction": "last update of RDAP database", "eventDate": _iso(clock.now())},
        ],
        "nameservers": [{"objectClassName": "nameserver", "ldhName": one_line(host)}
                        for host in data.nameservers],
        "secureDNS": {"delegationSigned": bool(data.ds),
                      **({"dsData": [{"keyTag": ds["key_tag"], "algorithm": ds["algorithm"],
                                      "digestType": ds["digest_type"], "digest": ds["digest"]}
                                     for ds in data.ds]} if data.ds else {})},
        "entities": [registrar_entity(data.registrar), reseller_entity(data.reseller),
                     registrant_entity(data.registrant, data.registrant_country,
                                       data.registrant_contact_url)],
        "links": [{"value": self_url, "rel": "self", "href": self_url,
                   "type": "application/rdap+json"}],
        "notices": _notices(self_url),
    }
    if data.unicode_name != data.ldh_name:
        body["unicodeName"] = data.unicode_name
    if data.registrant is None:
        body["redacted"] = redactions(contact_form=bool(data.registrant_contact_url))
    return body


def _error(status: int, title: str, description: str, code: str) -> Response:
    """RFC 9083 error fields (and RFC 9457's, for clients that read those) in one body,
    served as ``application/rdap+json`` like every RDAP answer."""
    return _response({
        "rdapConformance": CONFORMANCE, "errorCode": status, "title": title,
        "description": [description], "type": "about:blank", "status": status,
        "detail": description, "code": code, "notices": _notices(request.url),
    }, status=status)


@bp.get("/domain/<path:name>")
def domain(name: str):
    try:
        query = normalize_query(name)
    except ValueError:
        return _error(400, "Bad Request", f"{one_line(name)} is not a domain name.", "invalid_domain_name")
    data = lookup(query, current_app.config)
    if data is None:
        return _error(404, "Not Found", f"{query} is not registered through this service.",
                      "domain_not_found")
    return _response(domain_object(data))


@bp.get("/help")
def help_():
    return _response({"rdapConformance": CONFORMANCE, "notices": [
        {"title": "Help", "description": [
            "Look up a domain at /rdap/domain/<name> (RFC 9082).",
            "Personal data of registrants who use privacy protection is redacted (RFC 9537).",
            "For abuse reports use the registrar's abuse contact in each answer."]},
        *_notices()]})


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


@bp.route("/<path:anything>", methods=["OPTIONS"])
def preflight(anything: str):
    response = _response({})
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
    return response


def _unsupported(path: str) -> Response:
    return _error(501, "Not Implemented", f"/{path} lookups are not offered.", "not_implemented")


@bp.get("/<any(nameserver, entity, ip, autnum, domains, nameservers, entities):kind>/<path:rest>")
def unsupported(kind: str, rest: str):
    return _unsupported(f"rdap/{kind}")


