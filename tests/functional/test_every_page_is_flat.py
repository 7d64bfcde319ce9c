"""Every page runs the same few statements however big the account grows (issue 31): the
pages are found, not listed — the client area crawled as the owner, the console as staff,
every GET route of the API (its parameters filled from the account's own lists) and the
WHMCS module's read functions — then counted on the demo data, and again after the account
has grown (orders through the API, domains with contacts, tickets, webhook deliveries)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reseller import demo
from reseller.accounts.models import Reseller
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.functional.test_statement_counts import _OCCASIONAL, MAX_PER_PAGE, counted, grow
from tests.support.crawl import crawl
from tests.support.domains import CONTACT
from tests.support.invoicing import at
from wallet.invoices import invoicing
from wallet.invoices.periods import Month

# Not list, search or detail pages: downloads (a file of the whole thing), the API's own
# description, sign-in and one-time links, payment returns, probes and the dev outbox.
SKIP_RULES = ("/api/v1/docs", "/api/v1/openapi.json", ".pdf", ".csv", ".xml", "/zonefile",
              "/attachments/", "/login", "/logout", "/password/", "/account/email/", "/apply",
              "/billing/card/", "/payments/", "/go/", "/_dev/", "/problems/", "/healthz",
              "/readyz", "/metrics", "/static/", "/oauth/", "/acme/", "/rdap/<any")
# What the WHMCS module asks for lists and details (reseller/whmcs): read-only functions.
WHMCS_READS = {
    "GetNameservers": {}, "GetRegistrarLock": {}, "GetContactDetails": {}, "GetDNS": {},
    "GetDomainInformation": {}, "Sync": {}, "TransferSync": {}, "ValidateCredentials": {},
    "GetTLDPricing": {},
    "CheckAvailability": {"searchTerm": "vapaa-nimi", "tldsToInclude": [".fi", ".se", ".com"]},
    "GetDomainSuggestions": {"searchTerm": "vapaa-nimi", "tldsToInclude": [".fi", ".com"]},
}
# Pages that may run more than MAX_PER_PAGE (still the same number at any size), with why.
# Keep this short.
ALLOWANCES: dict[str, int] = {
    # The dashboard is neither a list nor a detail page but seven panels of five features
    # (funds, expiring names with their renewal prices, orders, invoices due, zones, the
    # sender domain, API usage), each one statement; fewer would take SQL across features.
    "/": 10,
    # The operator's reconciliation of the whole book: a fixed set of audits (trial
    # balance, unbalanced transfers, orphan entries, wallet caches, receivables against
    # invoices, purchases and holds), each one aggregate statement.
    "/console/wallet/ledger": 11,
}


class _Hooks(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def hooks():
    """A webhook receiver on 127.0.0.1 that takes every delivery."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    threading.Thread(target=server.serve_forever,
                     kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks"
    server.shutdown()
    server.server_close()


@pytest.fixture
def demo_data(app, db_session):
    info = demo.load(app.config)
    db_session.commit()
    return info


def _count(get: Callable[[str], Any], paths: list[str]) -> dict[str, tuple[int, int]]:
    """``{path: (status, statements)}``, the occasional statements aside."""
    found = {}
    for path in paths:
        with counted() as statements:
            response = get(path)
        found[path] = (response.status_code,
                       sum(not any(o in s for o in _OCCASIONAL) for s in statements))
    return found


def _first(api, path: str, key: str = "id") -> str:
    items = api.get(path).get_json().get("items") or []
    return str(items[0][key]) if items else "0"


def _fill(rule: str, values: dict[str, str]) -> str | None:
    for placeholder, value in values.items():
        rule = rule.replace(placeholder, value)
    return None if "<" in rule else rule


def _rules(app, accept: Callable[[str], bool]) -> list[str]:
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and accept(rule.rule)
                   and not any(skip in rule.rule for skip in SKIP_RULES)})


def _api_paths(app, api, domain: str) -> list[str]:
    """Every GET route under /api/v1 (and RDAP's domain), filled from the account's lists."""
    values = {
        "<name>": domain, "<path:name>": domain,
        "<int:contact_id>": _first(api, "/api/v1/contacts"),
        "<int:order_id>": _first(api, "/api/v1/orders"),
        "<number>": _first(api, "/api/v1/invoices", "number"),
        "<int:ticket_id>": _first(api, "/api/v1/support/tickets"),
        "<int:trademark_id>": _first(api, "/api/v1/trademarks"),
        "<int:user_id>": _first(api, "/api/v1/users"),
        "<int:topup_id>": _first(api, "/api/v1/wallet/topups"),
        "<int:withdrawal_id>": _first(api, "/api/v1/wallet/withdrawals"),
        "<int:delivery_id>": _first(api, "/api/v1/webhooks/deliveries"),
        "<int:endpoint_id>": _first(api, "/api/v1/webhooks/endpoints"),
    }
    rules = _rules(app, lambda rule: rule.startswith(("/api/v1/", "/rdap/")))
    paths = [path for rule in rules if (path := _fill(rule, values))]
    unfilled = [rule for rule in rules if _fill(rule, values) is None]
    assert not unfilled, f"fill these routes' parameters: {unfilled}"
    names = ",".join(f"vapaa{n}.{('fi', 'se', 'com')[n % 3]}" for n in range(50))
    return paths + [f"/api/v1/domains/check?names={names}",
                    "/api/v1/domains?q=demo", "/api/v1/contacts?q=a",
                    "/api/v1/orders?state=completed", "/api/v1/domains?limit=200"]


def _client_starts(app, api, domain: str) -> list[str]:
    """The client area's GET routes, filled from the account's lists (for the detail pages
    no link reaches on the demo data), and the pages only a query string reaches."""
    values = {"<name>": domain, "<int:order_id>": _first(api, "/api/v1/orders"),
              "<int:ticket_id>": _first(api, "/api/v1/support/tickets"),
              "<int:trademark_id>": _first(api, "/api/v1/trademarks"),
              "<int:endpoint_id>": _first(api, "/api/v1/webhooks/endpoints"),
              "<int:delivery_id>": _first(api, "/api/v1/webhooks/deliveries")}
    rules = _rules(app, lambda rule: not rule.startswith(("/api/", "/console", "/rdap/",
                                                            "/whmcs/")))
    return ["/"] + [path for rule in rules if (path := _fill(rule, values))] + [
        "/domains/register?name=uusi-nimi.fi", "/orders?state=failed", "/domains?q=demo",
        "/contacts?q=a", f"/domains/{domain}?contact_q=a"]


def _whmcs(api, domain: str) -> Callable[[str], Any]:
    sld, tld = domain.split(".", 1)

    def call(function: str) -> Any:
        return api.post(f"/whmcs/v1/{function}",
                        json={"sld": sld, "tld": tld, **WHMCS_READS[function]})
    return call


def _first_of_each(api, reseller, jobs, hooks: str) -> None:
    """What the demo has none of, so that its detail page is a page: a webhook delivery,
    a top-up, a withdrawal, a monthly invoice (the clock moves to the next month) and a
    ticket in that month."""
    assert api.post("/api/v1/webhooks/endpoints", json={"url": hooks}).status_code == 201
    _order(api, ["alku.fi"])
    for path, body in (("/api/v1/wallet/topups", {"amount": "20.00", "method": "card"}),
                       ("/api/v1/wallet/withdrawals", {"amount": "5.00"})):
        response = api.post(path, json=body)
        assert response.status_code in (201, 202), response.get_json()
    at(f"{Month.parse(f'{clock.now():%Y-%m}').next().key}-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    _ticket(api, "Ensimmäinen")
    jobs.run_all()
    assert _first(api, "/api/v1/invoices", "number") != "0"


def _ticket(api, subject: str) -> None:
    response = api.post("/api/v1/support/tickets", json={
        "subject": subject, "category": "technical", "body": "Miten?"})
    assert response.status_code == 201, response.get_json()


def _order(api, names: list[str]) -> None:
    contact = api.post("/api/v1/contacts", json=CONTACT).get_json()["id"]
    for name in names:
        response = api.post("/api/v1/domains", json={
            "name": name, "period": 1, "contacts": {"registrant": contact}})
        assert response.status_code == 202, response.get_json()


def _grow(api, reseller, jobs) -> None:
    """More of everything a page lists: orders (and their events, webhook deliveries,
    zones), domains with contacts and hosts, tickets, messages with attachments."""
    _order(api, [f"kasvu{n}.fi" for n in range(12)])
    for ticket in api.get("/api/v1/support/tickets").get_json()["items"]:
        for n in range(2):  # the conversations the pages show grow too (the open ones)
            response = api.post(f"/api/v1/support/tickets/{ticket['id']}/messages", json={
                "body": f"Lisätietoa {n}", "attachments": [
                    {"filename": f"liite{n}.txt", "content_type": "text/plain",
                     "data": base64.b64encode(b"liite").decode()}]})
            assert response.status_code == 201 or response.get_json()["code"] == "ticket_closed"
    for n in range(4):
        _ticket(api, f"Kysymys {n}")
    jobs.run_all()
    grow(reseller, 5000, 30)


def _problems(before: dict, after: dict) -> list[str]:
    problems = []
    for path, (status, statements) in sorted(after.items()):
        was_status, was = before[path]
        allowed = ALLOWANCES.get(path.split("?")[0], MAX_PER_PAGE)
        if status != was_status or statements != was or statements > allowed:
            problems.append(f"{path}: {was_status}/{was} → {status}/{statements}")
    return problems


def test_every_page_runs_the_same_few_statements_as_the_account_grows(
        app, client, demo_data, factory, jobs, hooks):
    owner, staff = demo_data["resellers"][0], demo_data["operator"]
    reseller = db.session.get(Reseller, owner["id"])
    api = factory.api(reseller)
    _first_of_each(api, reseller, jobs, hooks)
    domain = "demoagency.fi"

    client.post("/login", data={"email": owner["email"], "password": owner["password"]})
    pages = sorted(crawl(client, _client_starts(app, api, domain), per_endpoint=2, limit=400))
    api_paths = _api_paths(app, api, domain)
    whmcs = _whmcs(api, domain)
    _count(api.get, api_paths)  # once to warm what a process reads once
    before = {**_count(client.get, pages), **_count(api.get, api_paths),
              **_count(whmcs, sorted(WHMCS_READS))}
    client.post("/logout")
    client.post("/login", data={"email": staff["email"], "password": staff["password"]})
    console = sorted(crawl(client, ["/console/"], per_endpoint=2, limit=300))
    before.update(_count(client.get, console))

    _grow(api, reseller, jobs)

    after = _count(client.get, console)
    client.post("/logout")
    client.post("/login", data={"email": owner["email"], "password": owner["password"]})
    after.update({**_count(client.get, pages), **_count(api.get, api_paths),
                  **_count(whmcs, sorted(WHMCS_READS))})
    assert len(pages) > 30 and len(console) > 30 and len(api_paths) > 40
    assert not _problems(before, after), "\n".join(_problems(before, after))
