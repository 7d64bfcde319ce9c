"""One reseller's "world" — a domain with a zone, forward, glue host and ACME key, a
contact, an order, an invoice, a webhook endpoint with a delivery, a token, an OAuth
client, a user, a top-up and a withdrawal — built with the ordinary factories, for the
cross-tenant sweep and the hostile-input fuzz."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from reseller.accounts import services as accounts
from reseller.core.db import unit_of_work
from tests.support.domains import CONTACT, install_catalogue
from tests.support.factories import ApiClient, Factory
from tests.support.invoicing import at, buy
from tests.support.support_desk import support_quote
from tests.support.trademarks import install_trademark_prices
from tests.support.wallet import fund
from wallet.invoices import invoicing

DOMAIN = "tenant-a-secret.fi"


@dataclass
class World:
    reseller: Any
    api: ApiClient
    params: dict[str, str]
    secrets: list[str] = field(default_factory=list)  # values that must never leak

    def path(self, template: str) -> str:
        """The document's path with this world's ids and names in every parameter."""
        params = {**self.params, "host": self.params["glue_host"]} if "/hosts/" in template \
            else self.params
        return re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], template)


def _ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201, 202)), response.get_data(as_text=True)
    return response.json


def build_world(factory: Factory, jobs: Any, *, domain: str = DOMAIN) -> World:
    install_catalogue()
    install_trademark_prices()
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    fund(reseller.id, "500.00")
    at("2026-10-10T10:00:00")
    buy(reseller, "invoiced-" + domain, "10.00")
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    api = factory.api(reseller)
    owner = factory.user(reseller)
    invoice = _ok(api.get("/api/v1/invoices"))["items"][0]["number"]
    contact = _ok(api.post("/api/v1/contacts", json={**CONTACT, "email": "a-only@tenant-a.example"}))
    order = _ok(api.post("/api/v1/domains", json={
        "name": domain, "period": 1, "contacts": {"registrant": contact["id"]}}))
    bare = "bare-" + domain  # a second domain, delegated elsewhere: no zone hosted here
    _ok(api.post("/api/v1/domains", json={
        "name": bare, "period": 1, "contacts": {"registrant": contact["id"]},
        "nameservers": ["ns1.elsewhere.example", "ns2.elsewhere.example"]}))
    jobs.run_all()
    # A protected mark, and a look-alike name registered (for another contact): a match.
    mark = _ok(api.post("/api/v1/trademarks", json={
        "mark": "tenantmark", "holder": "Tenant A Holder Oy", "contact": contact["id"]}))
    squatter = _ok(api.post("/api/v1/contacts", json={**CONTACT, "email": "sq@tenant-a.example"}))
    _ok(api.post("/api/v1/domains", json={"name": "tenantmrak.fi", "period": 1,
                                          "contacts": {"registrant": squatter["id"]}}))
    jobs.run_all()
    match = _ok(api.get(f"/api/v1/trademarks/{mark['id']}/matches"))["items"][0]
    base = f"/api/v1/domains/{domain}"
    _ok(api.put(base + "/dns", json={"template": "default"}))
    _ok(api.put(base + "/forwarding", json={"host": "www", "target": "https://a.example/"}))
    _ok(api.put(base + f"/hosts/ns1.{domain}", json={"addresses": ["192.0.2.53"]}))
    key = _ok(api.post(base + "/dns/acme-keys"))
    records_key = _ok(api.post(base + "/dns/keys", json={"scope": "records"}))
    endpoint = _ok(api.post("/api/v1/webhooks/endpoints",
                            json={"url": "https://hooks.tenant-a.example/in"}))
    _ok(api.post(f"/api/v1/webhooks/endpoints/{endpoint['id']}/test"))
    delivery = _ok(api.get("/api/v1/webhooks/deliveries"))["items"][0]
    token = _ok(api.post("/api/v1/tokens", json={"name": "a-token", "scopes": ["account:read"]}))
    user = _ok(api.post("/api/v1/users", json={"email": "invited@tenant-a.example",
                                               "name": "Invited A", "role": "technical"}))
    with unit_of_work():
        oauth_client, _secret = accounts.create_oauth_client(
            reseller_id=reseller.id, actor=owner, name="A's WHMCS", scopes=["domains:read"])
    topup = _ok(api.post("/api/v1/wallet/topups", json={"amount": "20.00", "method": "card"}))
    ticket = _ok(api.post("/api/v1/support/tickets", json={
        "subject": "A's secret support question", "category": "technical",
        "body": "Secret details of tenant A", "attachments": [{
            "filename": "a-secret.txt", "content_type": "text/plain",
            "data": base64.b64encode(b"tenant A only").decode()}]}))
    quote = support_quote(ticket["id"])
    withdrawal = _ok(api.post("/api/v1/wallet/withdrawals", json={"amount": "5.00"}))
    params = {
        "name": domain, "contact_id": str(contact["id"]), "order_id": str(order["id"]),
        "key_id": str(key["id"]), "host": "www", "glue_host": f"ns1.{domain}",
        "bare_name": bare, "number": invoice,
        "endpoint_id": str(endpoint["id"]), "delivery_id": str(delivery["id"]),
        "token_id": str(token["id"]), "user_id": str(user["id"]),
        "client_id": str(oauth_client.id), "topup_id": str(topup["id"]),
        "withdrawal_id": str(withdrawal["id"]), "ticket_id": str(ticket["id"]),
        "attachment_id": str(ticket["messages"][0]["attachments"][0]["id"]),
        "quote_id": str(quote),
        "trademark_id": str(mark["id"]), "match_id": str(match["id"]),
    }
    secrets = [domain, bare, "a-only@tenant-a.example", "hooks.tenant-a.example", invoice,
               "invited@tenant-a.example", "A's WHMCS", token["token"], endpoint["secret"],
               records_key["name"], records_key["secret"], key["secret"],
               "A's secret support question", "Secret details of tenant A",
               "Tenant A Holder Oy"]
    return World(reseller=reseller, api=api, params=params, secrets=secrets)
