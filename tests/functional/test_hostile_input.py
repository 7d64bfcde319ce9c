"""Hostile input over every write operation in the live OpenAPI document, the query
parameters of every GET, and every WHMCS function: zero 5xx, and every 4xx a problem
with a stable ``code``. Inputs the document types strictly (booleans, integers, decimal
amounts, enums) are refused when they are anything else.

Complements ``test_api_fuzz.py`` (schemathesis: conformance with generated data) with the
inputs a generator does not produce: 10,000-deep nesting, 10**400, NaN/Infinity
literals, invalid UTF-8, wrong content types and crafted cursors.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from reseller.core.errors import PROBLEM_MIME
from reseller.whmcs.base import FUNCTIONS
from tests.support.domains import CONTACT
from tests.support.tenants import World, build_world

HUGE = "1" + "0" * 400
DEEP_LIST = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
# Raw JSON texts of hostile values, put in place of one property at a time.
VALUES = {
    "true": "true", "one": "1", "zero": "0", "minus": "-1", "huge": HUGE,
    "minus huge": "-" + HUGE, "float": "1.5", "exponent": "1e400", "NaN": "NaN",
    "Infinity": "Infinity", "-Infinity": "-Infinity", "string": '"x"', "empty": '""',
    "string true": '"true"', "string one": '"1"', "exponent string": '"1e2"',
    "padded amount": '" 12.50"', "arabic digits": '"\\u0661\\u0662"',
    "fullwidth digits": '"\\uff11\\uff12.50"', "three decimals": '"1.005"',
    "plus sign": '"+1.00"', "huge decimal string": f'"{HUGE}.00"', "comma": '"1,50"',
    "NUL": '"a\\u0000b"', "long": json.dumps("x" * 100_000), "list": "[]",
    "object": "{}", "null": "null", "deep": DEEP_LIST, "list of huge": f"[{HUGE}]",
    "object of NaN": '{"x": NaN}',
}
# Whole bodies, for every write operation.
BODIES: dict[str, tuple[bytes, str]] = {
    "deep list": (DEEP_LIST.encode(), "application/json"),
    "deep object": (DEEP_OBJECT.encode(), "application/json"),
    "deep under a key": (('{"name": ' + DEEP_LIST + "}").encode(), "application/json"),
    "JSON list": (b"[]", "application/json"),
    "JSON string": (b'"x"', "application/json"),
    "JSON number": (HUGE.encode(), "application/json"),
    "NaN": (b"NaN", "application/json"),
    "invalid UTF-8": (b'{"name": "\xff\xfe\xfd"}', "application/json"),
    "UTF-16": ('{"name": "x"}'.encode("utf-16"), "application/json"),
    "truncated": (b'{"name": ', "application/json"),
    "duplicate keys": (b'{"name": "a", "name": 1e400}', "application/json"),
    "text/plain": (b'{"name": "x"}', "text/plain"),
    "form": (b"name=x&period=1", "application/x-www-form-urlencoded"),
    "xml": (b"<name>x</name>", "application/xml"),
    "multipart": (b"--b\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b"),
    "no content type": (b'{"name": "x"}', ""),
}


def _cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


# Crafted cursors: every one is refused (a cursor we issue is a row id, 0 to 2**63-1).
CURSORS = [_cursor(text) for text in (
    HUGE, "-" + HUGE, str(2**63), "-1", "1.5", "1e400", "NaN", "true", '"abc"',
    '"12"', "[1]", "{}", '{"id": 1}', "null", "[" * 5000 + "]" * 5000)] + [
    "!!!not-base64!!!", "%%%", "A", "x" * 10_000, "\u00e9\u00e9", "=" * 8]
LIMITS = ["-1", "0", "201", HUGE, "abc", "1.5", "true", " 5", "\u0661"]
QUERY_VALUES = ["bogus", HUGE, "-1", "x" * 5000, "\u0661\u0662", "\u00b2", "[]", "true", "1"]

# A valid body per write operation (the fuzzer's own objects), so each hostile value is
# the only thing wrong; operations not listed start from {}.
BASES: dict[str, dict[str, Any]] = {
    "POST /api/v1/contacts": CONTACT,
    "PUT /api/v1/contacts/{contact_id}": CONTACT,
    "POST /api/v1/domains": {"name": "fuzz-new.fi", "period": 1,
                             "contacts": {"registrant": "{contact_id}"}},
    "PUT /api/v1/domains/{name}/auto-renew": {"auto_renew": True},
    "PUT /api/v1/domains/{name}/lock": {"locked": True},
    "PUT /api/v1/domains/{name}/privacy": {"privacy": True},
    "POST /api/v1/domains/{name}/transfer-out": {"approve": False},
    "POST /api/v1/domains/{name}/renew": {"period": 1},
    "POST /api/v1/domains/bulk-renew": {"names": ["{name}"], "period": 1},
    "PUT /api/v1/domains/{name}/contacts": {"registrant": "{contact_id}"},
    "POST /api/v1/domains/{name}/owner-change": {"registrant": "{contact_id}"},
    "PUT /api/v1/domains/{name}/dns": {"records": [{"name": "www", "type": "A",
                                                    "value": "192.0.2.1", "ttl": 300}]},
    "PATCH /api/v1/domains/{name}/dns": {"add": [{"name": "x", "type": "A",
                                                  "value": "192.0.2.2", "ttl": 300}],
                                         "remove": [{"name": "x", "type": "A"}]},
    "PUT /api/v1/domains/{name}/forwarding": {"host": "go", "target": "https://x.example/",
                                              "status": 301, "preserve_path": True,
                                              "preserve_query": True},
    "PUT /api/v1/domains/{name}/hosts/{host}": {"addresses": ["192.0.2.53"]},
    "PUT /api/v1/domains/{name}/nameservers": {"nameservers": ["ns1.x.example",
                                                               "ns2.x.example"]},
    "POST /api/v1/transfers": {"name": "fuzz-in.fi", "auth_code": "Secret-123",
                               "contacts": {"registrant": "{contact_id}"}},
    "POST /api/v1/tokens": {"name": "fuzz", "scopes": ["account:read"],
                            "expires_in_days": 30},
    "POST /api/v1/users": {"email": "fuzz@fuzz.example", "name": "Fuzz", "role": "technical"},
    "PATCH /api/v1/users/{user_id}": {"role": "technical"},
    "POST /api/v1/webhooks/endpoints": {"url": "https://hooks.fuzz.example/", "events": [],
                                        "description": "fuzz"},
    "PATCH /api/v1/webhooks/endpoints/{endpoint_id}": {"description": "fuzz", "active": True},
    "PUT /api/v1/wallet/settings": {"low_balance_threshold": "10.00"},
    "POST /api/v1/wallet/topups": {"amount": "20.00", "method": "bank_transfer"},
    "POST /api/v1/wallet/withdrawals": {"amount": "1.00"},
    "PUT /api/v1/retail-prices": {"markup_percent": "10.00",
                                  "prices": {"fi": {"register": "19.00"}}},
    "POST /api/v1/invoices/{number}/payments": {"method": "card"},
    "POST /api/v1/support/tickets": {"subject": "Fuzz ticket", "category": "technical",
                                     "priority": "normal", "body": "fuzz"},
    "POST /api/v1/support/tickets/{ticket_id}/messages": {"body": "fuzz"},
    "POST /api/v1/support/tickets/{ticket_id}/quotes/{quote_id}/decision": {"accept": False},
    "POST /api/v1/support/plan/preview": {"plan": "core", "cycle": "monthly"},
    "PUT /api/v1/support/plan": {"plan": "core", "cycle": "monthly"},
    "POST /api/v1/trademarks": {"mark": "fuzzmark", "holder": "Fuzz Oy",
                                "contact": "{contact_id}", "languages": ["fi"],
                                "billing_period": "month", "variants": ["fuzzy"]},
    "PATCH /api/v1/trademarks/{trademark_id}": {"languages": ["sv"], "variants": ["fuzz"]},
    "PATCH /api/v1/trademarks/{trademark_id}/matches/{match_id}": {
        "state": "act_on", "action": "udrp", "note": "fuzz"},
}
# Whatever is refused must not depend on reaching these last (they revoke or delete).
LAST = ("/account/close", "/tokens/{token_id}", "/oauth-clients/{client_id}")


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    ops = [(method.upper(), path, op) for path, item in spec["paths"].items()
           for method, op in item.items()]
    return sorted(ops, key=lambda o: (o[1].endswith(LAST), o[0] == "DELETE", -len(o[1])))


def _resolve(schema: dict, spec: dict) -> dict:
    if "$ref" in schema:
        return spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _properties(schema: dict, spec: dict, prefix: tuple = (), depth: int = 0):
    """(path, property schema) for each property, one level into objects and item lists."""
    schema = _resolve(schema, spec)
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(prop, spec)
        yield (*prefix, name), prop
        if depth < 1 and "properties" in prop:
            yield from _properties(prop, spec, (*prefix, name), depth + 1)
        items = _resolve(prop.get("items", {}), spec)
        if depth < 1 and "properties" in items:
            yield from _properties(items, spec, (*prefix, name, 0), depth + 1)


def _with(base: Any, path: tuple, raw: str) -> str:
    """``base`` as JSON text with the value at ``path`` replaced by raw JSON text."""
    marker = "__HOSTILE__"
    data = json.loads(json.dumps(base))
    node = data
    for key, following in zip(path, path[1:], strict=False):
        if isinstance(node, list):
            node.extend({} for _ in range(key + 1 - len(node)))
        child = node[key] if isinstance(node, list) else node.get(key)
        wanted = list if isinstance(following, int) else dict
        if not isinstance(child, wanted):
            child = node[key] = wanted()
        node = child
    if isinstance(node, list):
        node.extend({} for _ in range(path[-1] + 1 - len(node)))
    node[path[-1]] = marker
    return json.dumps(data).replace(json.dumps(marker), raw)


def _strict_refusals(prop: dict) -> set[str]:
    """Hostile values this property's documented type must refuse (not merely survive)."""
    types = prop.get("type")
    types = set(types if isinstance(types, list) else [types])
    nullable = "null" in types
    others = set(VALUES) - {"deep"}
    if "enum" in prop:
        return {"string", "empty", "huge", "list", "object"} | (set() if nullable else {"null"})
    if types & {"boolean"}:
        return others - {"true"} - ({"null"} if nullable else set())
    if prop.get("format") == "decimal":
        return others - {"string one"} - ({"null"} if nullable else set())
    if types & {"integer"}:
        legal = {"one", "zero", "minus", "null" if nullable else ""}
        return {"float", "exponent", "string one", "string", "true", "huge", "minus huge",
                "list", "object"} - legal
    return set()


@pytest.fixture
def fuzzer(factory, jobs, app, monkeypatch) -> World:
    world = build_world(factory, jobs, domain="fuzz-target.fi")
    monkeypatch.setitem(app.config, "RAISE_UNEXPECTED", False)  # a 500 is a finding, listed
    return world


def _base(world: World, key: str) -> Any:
    text = json.dumps(BASES.get(key, {}))
    text = re.sub(r'"\{(\w+_id)\}"', lambda m: world.params[m.group(1)], text)
    return json.loads(re.sub(r"\{(\w+)\}", lambda m: world.params[m.group(1)], text))


def _check(response, label: str, problems: list[str], must_refuse: bool = False) -> None:
    status = response.status_code
    if status >= 500:
        problems.append(f"{label}: {status} {response.get_data(as_text=True)[:150]}")
    elif status >= 400 and (response.mimetype != PROBLEM_MIME or not (response.json or {})
                            .get("code")):
        problems.append(f"{label}: {status} is not a problem with a code ({response.mimetype})")
    elif must_refuse and status < 400:
        problems.append(f"{label}: accepted ({status}), the document says it is not valid")


def _send(world: World, method: str, path: str, data: bytes, content_type: str):
    headers = world.api._headers(None)
    if content_type:
        headers["Content-Type"] = content_type
    return world.api.client.open(path, method=method, data=data, headers=headers)


@pytest.mark.slow
def test_no_hostile_body_on_any_write_operation_is_a_5xx(fuzzer, client, factory):
    spec = client.get("/api/v1/openapi.json").json
    problems: list[str] = []
    writes = [op for op in _operations(spec) if op[0] in {"POST", "PUT", "PATCH", "DELETE"}]
    assert len(writes) >= 50
    for method, template, op in writes:
        fuzzer.api.token = factory.token(fuzzer.reseller)  # a case may revoke its token
        path, key = fuzzer.path(template), f"{method} {template}"
        for label, (data, content_type) in BODIES.items():
            _check(_send(fuzzer, method, path, data, content_type), f"{key} [{label}]", problems)
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if not content:
            continue
        base = _base(fuzzer, key)
        for prop_path, prop in _properties(content["schema"], spec):
            refuse = _strict_refusals(prop)
            for label, raw in VALUES.items():
                response = _send(fuzzer, method, path, _with(base, prop_path, raw).encode(),
                                 "application/json")
                _check(response, f"{key} {'.'.join(map(str, prop_path))}={label}", problems,
                       must_refuse=label in refuse)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)


def _query_refuses(param: dict, value: str) -> bool:
    """Whether the document's type for this query parameter rules ``value`` out."""
    schema = param["schema"]
    schema = schema.get("items", schema) if schema.get("type") == "array" else schema
    if param["name"] in ("limit", "cursor", "after"):
        return True  # every crafted cursor and out-of-range limit above is invalid
    if "enum" in schema:
        return value not in schema["enum"]
    if schema.get("type") == "boolean":
        return value not in ("true", "false")
    if schema.get("type") == "integer":
        return not re.fullmatch(r"[0-9]+", value) or not (
            schema.get("minimum", 0) <= int(value) <= schema.get("maximum", 2**31 - 1))
    return False


def test_hostile_query_parameters_on_every_get_are_never_a_5xx(fuzzer, client):
    spec = client.get("/api/v1/openapi.json").json
    problems: list[str] = []
    for method, template, op in _operations(spec):
        if method != "GET":
            continue
        path = fuzzer.path(template)
        for param in (p for p in op.get("parameters", []) if p["in"] == "query"):
            name = param["name"]
            values = CURSORS if name in ("cursor", "after") else \
                LIMITS if name == "limit" else QUERY_VALUES
            for value in values:
                response = fuzzer.api.get(path, query_string={name: value})
                _check(response, f"GET {template}?{name}={value[:40]}", problems,
                       must_refuse=_query_refuses(param, value))
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)


WHMCS_VALUES = [HUGE, -1, 1.5, True, None, [], {}, ["a", ["b"]], {"a": {"b": "c"}},
                "x" * 100_000, "\u0661", "-" + HUGE]
WHMCS_KEYS = ["regperiod", "ns1", "lockenabled", "contactdetails", "nameserver", "ipaddress",
              "dnsrecords", "searchTerm", "tldsToInclude", "eppcode", "protectenable",
              "idprotection", "email", "countrycode", "currentipaddress", "newipaddress"]
WHMCS_BODIES = ("deep list", "deep object", "JSON list", "NaN", "invalid UTF-8", "text/plain",
                "form")
FORM = "application/x-www-form-urlencoded"


def _whmcs_cases() -> list[tuple[str, bytes, str]]:
    """Whole bodies; every parameter at once set to each hostile value (the name kept
    valid); the name itself hostile; and each parameter alone as a number and an object."""
    name = {"sld": "fuzz-target", "tld": "fi"}
    bodies = [(f"all={str(value)[:20]}", {**dict.fromkeys(WHMCS_KEYS, value), **name})
              for value in WHMCS_VALUES]
    bodies += [(f"{key}={str(value)[:20]}", {"tld": "fi", key: value})
               for key in ("sld", "domainname") for value in WHMCS_VALUES]
    bodies += [(f"{key}={value}", {**name, key: value}) for key in WHMCS_KEYS
               for value in (-1, {})]
    return [(label, *BODIES[label]) for label in WHMCS_BODIES] + [
        (label, json.dumps(body).encode(), "application/json") for label, body in bodies] + [
        ("form nested too deep", b"a" + b"[x]" * 50 + b"=1", FORM),
        ("form list for sld", b"sld[]=a&sld[]=b&tld=fi", FORM),
        ("form dict for tld", b"sld=a&tld[x]=fi", FORM)]


@pytest.mark.slow
def test_hostile_whmcs_calls_are_4xx_with_a_code(fuzzer):
    problems: list[str] = []
    cases = _whmcs_cases()
    for function in FUNCTIONS:
        for label, data, ctype in cases:
            response = _send(fuzzer, "POST", f"/whmcs/v1/{function}", data, ctype)
            if response.status_code >= 500 or (response.status_code >= 400
                                               and not (response.json or {}).get("code")):
                problems.append(f"{function} [{label}]: {response.status_code} "
                                f"{response.get_data(as_text=True)[:150]}")
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)


FORM_VALUES = [HUGE, "-1", "1e2", "NaN", "\u0661\u0662", " 12.50", "x" * 100_000, "",
               "a\x00b", "1.005"]
_NAME = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


def _form_fields(client, rules) -> set[str]:
    """Every form field name the pages behind these routes show (GET where there is one)."""
    names: set[str] = {"amount", "threshold", "name", "period", "email", "role", "url"}
    for path in {rule.split("<", 1)[0].rstrip("/") for rule in rules}:
        page = client.get(path or "/")
        names.update(_NAME.findall(page.get_data(as_text=True)))
    return names - {"csrf_token"}


def test_hostile_form_posts_in_the_client_area_are_never_a_5xx(fuzzer, app, client, factory):
    """Every form route (client area and console) with every known field at once set to
    each hostile value, signed in as an owner and as an operator: a form error or a 4xx."""
    owner = factory.user(fuzzer.reseller)
    staff = factory.operator()
    rules = sorted({rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods
                    and not rule.rule.startswith(("/api/", "/whmcs/", "/oauth/", "/acme/",
                                                  "/payments/webhooks/", "/logout", "/login"))})
    values = {**fuzzer.params, "action": "lock", "decision": "reject", "kind": "renewal",
              "provider": "sandbox"}
    to_login: list[bool] = []
    problems: list[str] = []
    for who, password in ((owner, "correct horse battery"), (staff, "operator password")):
        session = app.test_client()
        session.post("/login", data={"email": who.email, "password": password})
        fields = _form_fields(session, rules)
        for template in rules:
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: values.get(m.group(1), "1"),
                          re.sub(r"<any\([^)]*\):(\w+)>", lambda m: values[m.group(1)], template))
            for value in FORM_VALUES:
                response = session.post(path, data=dict.fromkeys(fields, value))
                to_login.append("/login" in response.headers.get("Location", ""))
                if response.status_code >= 500:
                    problems.append(f"{who.email} POST {template} all={value[:12]!r}: "
                                    f"{response.status_code}")
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
    assert sum(to_login) < len(to_login) / 2  # signed in: the forms were read, not bounced
