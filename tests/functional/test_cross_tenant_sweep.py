"""Generated cross-tenant sweep: reseller B, using reseller A's ids and names, gets 404
(or 403) from every operation in the live OpenAPI document that has a path parameter and
from every WHMCS function — never a 2xx, never A's data.

The operation list comes from ``/api/v1/openapi.json`` and the WHMCS registry; each needs
a body below (one B would send), so a new operation without an entry fails the sweep.
"""

from __future__ import annotations

import json

import pytest

from reseller.whmcs.base import FUNCTIONS
from tests.support.domains import CONTACT
from tests.support.tenants import World, build_world

OWN_CONTACT = "<B's own contact>"  # replaced with B's contact id: only the target is A's
D = "/api/v1/domains/{name}"
RECORD = {"name": "stolen", "type": "A", "value": "192.0.2.66"}
ZONE_FILE = "stolen 3600 IN A 192.0.2.66\n"

# What B sends to each operation with a path parameter; None = no body.
BODIES: dict[str, object] = {
    "GET /api/v1/contacts/{contact_id}": None,
    "PUT /api/v1/contacts/{contact_id}": CONTACT,
    "DELETE /api/v1/contacts/{contact_id}": None,
    f"GET {D}": None,
    f"DELETE {D}": None,
    f"POST {D}/auth-code": None,
    f"PUT {D}/auto-renew": {"auto_renew": False},
    f"PUT {D}/contacts": {"registrant": OWN_CONTACT},
    f"GET {D}/dns": None,
    f"PUT {D}/dns": {"records": [RECORD]},
    f"PATCH {D}/dns": {"add": [RECORD]},
    f"DELETE {D}/dns": None,
    f"POST {D}/dns/acme-keys": None,
    f"GET {D}/dns/acme-keys": None,
    f"DELETE {D}/dns/acme-keys/{{key_id}}": None,
    f"POST {D}/dns/keys": {"scope": "records"},
    f"GET {D}/dns/keys": None,
    f"DELETE {D}/dns/keys/{{key_id}}": None,
    f"GET {D}/dns/changes": None,
    f"GET {D}/dns/zonefile": None,
    f"PUT {D}/dns/zonefile": ZONE_FILE,
    f"POST {D}/dns/verify": None,
    f"PUT {D}/dnssec": {"ds": []},
    f"GET {D}/forwarding": None,
    f"PUT {D}/forwarding": {"host": "www", "target": "https://b.example/"},
    f"DELETE {D}/forwarding/{{host}}": None,
    f"PUT {D}/hosts/{{host}}": {"addresses": ["192.0.2.66"]},
    f"DELETE {D}/hosts/{{host}}": None,
    f"PUT {D}/lock": {"locked": False},
    f"PUT {D}/nameservers": {"nameservers": ["ns1.b.example", "ns2.b.example"]},
    f"POST {D}/owner-change": {"registrant": OWN_CONTACT},
    f"PUT {D}/privacy": {"privacy": True},
    f"POST {D}/renew": {"period": 1},
    f"POST {D}/restore": None,
    f"POST {D}/transfer-out": {"approve": True},
    "GET /api/v1/invoices/{number}": None,
    "GET /api/v1/invoices/{number}.pdf": None,
    "GET /api/v1/invoices/{number}.xml": None,
    "GET /api/v1/invoices/{number}.csv": None,
    "POST /api/v1/invoices/{number}/payments": {"method": "card"},
    "DELETE /api/v1/oauth-clients/{client_id}": None,
    "GET /api/v1/orders/{order_id}": None,
    "DELETE /api/v1/tokens/{token_id}": None,
    "GET /api/v1/trademarks/{trademark_id}": None,
    "PATCH /api/v1/trademarks/{trademark_id}": {"languages": ["sv"], "contact": OWN_CONTACT},
    "DELETE /api/v1/trademarks/{trademark_id}": None,
    "GET /api/v1/trademarks/{trademark_id}/matches": None,
    "PATCH /api/v1/trademarks/{trademark_id}/matches/{match_id}": {"state": "dismissed"},
    "GET /api/v1/users/{user_id}": None,
    "PATCH /api/v1/users/{user_id}": {"role": "admin"},
    "DELETE /api/v1/users/{user_id}": None,
    "GET /api/v1/wallet/topups/{topup_id}": None,
    "GET /api/v1/wallet/withdrawals/{withdrawal_id}": None,
    "POST /api/v1/wallet/withdrawals/{withdrawal_id}/cancel": None,
    "GET /api/v1/webhooks/deliveries/{delivery_id}": None,
    "POST /api/v1/webhooks/deliveries/{delivery_id}/replay": None,
    "GET /api/v1/webhooks/endpoints/{endpoint_id}": None,
    "PATCH /api/v1/webhooks/endpoints/{endpoint_id}": {"description": "stolen"},
    "DELETE /api/v1/webhooks/endpoints/{endpoint_id}": None,
    "POST /api/v1/webhooks/endpoints/{endpoint_id}/rotate-secret": None,
    "POST /api/v1/webhooks/endpoints/{endpoint_id}/test": None,
    "GET /api/v1/support/tickets/{ticket_id}": None,
    "GET /api/v1/support/tickets/{ticket_id}/messages": None,
    "POST /api/v1/support/tickets/{ticket_id}/messages": {"body": "B writes into A's ticket"},
    "GET /api/v1/support/tickets/{ticket_id}/attachments/{attachment_id}": None,
    "POST /api/v1/support/tickets/{ticket_id}/quotes/{quote_id}/decision": {"accept": True},
}

NAME = {"sld": "tenant-a-secret", "tld": "fi"}
# What B sends to each WHMCS function (A's domain), and the statuses it may answer.
DENIED = {403, 404}
WHMCS: dict[str, tuple[dict, set[int], str]] = {
    "GetNameservers": (NAME, DENIED, ""),
    "SaveNameservers": ({**NAME, "ns1": "ns1.b.example", "ns2": "ns2.b.example"}, DENIED, ""),
    "GetRegistrarLock": (NAME, DENIED, ""),
    "SaveRegistrarLock": ({**NAME, "lockenabled": "unlocked"}, DENIED, ""),
    "GetContactDetails": (NAME, DENIED, ""),
    "SaveContactDetails": ({**NAME, "contactdetails": {"Registrant": {
        "First Name": "B", "Last Name": "Thief", "Email Address": "b@b.example",
        "Address 1": "Katu 1", "City": "Espoo", "Postcode": "02100", "Country": "FI",
        "Phone Number": "+358.401234567"}}}, DENIED, ""),
    "GetEPPCode": (NAME, DENIED, ""),
    "RegisterNameserver": ({**NAME, "nameserver": "ns9.tenant-a-secret.fi",
                            "ipaddress": "192.0.2.9"}, DENIED, ""),
    "ModifyNameserver": ({**NAME, "nameserver": "ns1.tenant-a-secret.fi",
                          "currentipaddress": "192.0.2.53", "newipaddress": "192.0.2.66"},
                         DENIED, ""),
    "DeleteNameserver": ({**NAME, "nameserver": "ns1.tenant-a-secret.fi"}, DENIED, ""),
    "IDProtectToggle": ({**NAME, "protectenable": "1"}, DENIED, ""),
    "RequestDelete": (NAME, DENIED, ""),
    "GetDomainInformation": (NAME, DENIED, ""),
    "ResendIRTPVerificationEmail": (NAME, DENIED, ""),
    "RenewDomain": ({**NAME, "regperiod": 1}, DENIED, ""),
    "Sync": (NAME, DENIED, ""),
    "TransferSync": (NAME, DENIED, ""),
    "GetDNS": (NAME, DENIED | {200}, "answers an empty list for a zone B does not hold"),
    "SaveDNS": ({**NAME, "dnsrecords": [{"hostname": "stolen", "type": "A",
                                         "address": "192.0.2.66"}]}, DENIED, ""),
    # A registered name is not B's to register: refused as unavailable (public WHOIS fact).
    "RegisterDomain": ({**NAME, "regperiod": 1, "firstname": "B", "lastname": "Thief",
                        "email": "b@b.example", "address1": "Katu 1", "city": "Espoo",
                        "postcode": "02100", "countrycode": "FI",
                        "fullphonenumber": "+358.401234567"}, {409, 422}, "name is taken"),
    # A transfer without A's auth code is refused; the order never reaches A's domain.
    "TransferDomain": ({**NAME, "eppcode": "wrong-code"}, {200, 202, 409, 422},
                       "a transfer order is B's own; the registry refuses the wrong code"),
    # Public facts: availability and B's own prices.
    "CheckAvailability": ({"searchTerm": "tenant-a-secret", "tldsToInclude": ["fi"]}, {200},
                          "availability is public (WHOIS)"),
    "GetTLDPricing": ({}, {200}, "B's own price list; names no domain"),
    "GetDomainSuggestions": ({"searchTerm": "tenant-a-secret", "tldsToInclude": ["fi"]},
                             {200}, "suggestions are public availability facts"),
    "ValidateCredentials": ({}, {200}, "checks B's own credentials; names no domain"),
}


@pytest.fixture
def tenants(factory, jobs) -> tuple[World, object, int]:
    world = build_world(factory, jobs)
    other = factory.reseller()
    thief = factory.api(other)
    contact = thief.post("/api/v1/contacts", json=CONTACT).json["id"]
    return world, thief, contact


def _document_operations(client) -> set[str]:
    spec = client.get("/api/v1/openapi.json").json
    return {f"{method.upper()} {path}" for path, item in spec["paths"].items()
            for method in item if "{" in path}


def _call(thief, operation: str, world: World, own_contact: int):
    method, template = operation.split(" ", 1)
    path = world.path(template)
    body = BODIES[operation]
    if isinstance(body, str):
        return thief.client.open(path, method=method, data=body, headers={
            **thief._headers(None), "Content-Type": "text/plain"})
    if isinstance(body, dict):
        body = json.loads(json.dumps(body).replace(json.dumps(OWN_CONTACT), str(own_contact)))
    return thief.client.open(path, method=method, json=body, headers=thief._headers(None))


def _leaks(response, world: World, path: str) -> list[str]:
    """A's values in the answer that B did not send itself (a 404 may echo the path)."""
    text = response.get_data(as_text=True)
    return [value for value in world.secrets if value in text and value not in path]


def _denied(operation: str, world: World, thief, contact: int) -> str | None:
    response = _call(thief, operation, world, contact)
    path = world.path(operation.split(" ", 1)[1])
    if response.status_code not in DENIED:
        return f"{operation}: {response.status_code} {response.get_data(as_text=True)[:200]}"
    if leaked := _leaks(response, world, path):
        return f"{operation}: leaks {leaked}"
    return None


def test_every_operation_with_a_path_parameter_is_covered(client):
    assert _document_operations(client) == set(BODIES)


def test_another_reseller_gets_404_from_every_operation_on_our_objects(tenants, client):
    world, thief, contact = tenants
    before = world.api.get(world.path(D)).json
    # Writes that revoke or delete come last, so every read still finds A's object.
    ordered = sorted(BODIES, key=lambda op: op.startswith("DELETE"))
    failures = [problem for op in ordered if (problem := _denied(op, world, thief, contact))]
    # A's domain delegated elsewhere (no zone here yet) is no more B's to configure.
    bare = World(world.reseller, world.api, {**world.params, "name": world.params["bare_name"]},
                 world.secrets)
    failures += [f"(no zone) {problem}" for op in ordered if op.split(" ", 1)[1].startswith(D)
                 and (problem := _denied(op, bare, thief, contact))]
    assert failures == [], "\n".join(failures)
    # And A still has everything: nothing B sent changed it.
    for template in ("/api/v1/contacts/{contact_id}", D, D + "/dns", D + "/forwarding",
                     "/api/v1/webhooks/endpoints/{endpoint_id}", "/api/v1/users/{user_id}",
                     "/api/v1/trademarks/{trademark_id}"):
        assert world.api.get(world.path(template)).status_code == 200, template
    assert world.api.get(world.path(D)).json == before
    mark = world.api.get(world.path("/api/v1/trademarks/{trademark_id}")).json
    assert mark["cancel_at_period_end"] is False and mark["languages"] == []
    match = world.api.get(world.path("/api/v1/trademarks/{trademark_id}/matches")).json
    assert match["items"][0]["state"] == "new"


def test_lists_without_path_parameters_show_none_of_another_resellers_data(tenants, client):
    world, thief, _contact = tenants
    spec = client.get("/api/v1/openapi.json").json
    lists = [path for path, item in spec["paths"].items() if "get" in item and "{" not in path
             and not path.endswith(("openapi.json", "/docs"))]
    assert len(lists) >= 15
    for path in lists:
        response = thief.get(path)
        assert response.status_code < 500, path
        assert _leaks(response, world, "") == [], path


def test_every_whmcs_function_refuses_another_resellers_domain(tenants):
    world, thief, _contact = tenants
    before = world.api.get(world.path(D)).json
    assert set(WHMCS) == set(FUNCTIONS)
    failures = []
    for name, (params, allowed, _reason) in WHMCS.items():
        response = thief.post(f"/whmcs/v1/{name}", json=params)
        body = response.get_data(as_text=True)
        if response.status_code not in allowed:
            failures.append(f"{name}: {response.status_code} {body[:200]}")
        elif leaked := [v for v in world.secrets if v in body and v != "tenant-a-secret.fi"]:
            failures.append(f"{name}: leaks {leaked}")
    assert failures == [], "\n".join(failures)
    assert world.api.get(world.path(D)).json == before
