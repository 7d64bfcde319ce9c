"""A reseller with many domains runs as few SQL statements per page as one with a few: every
list, search and detail page, API and client area, runs a constant number (at most 8), and
a 50-name availability check at most 10 (issue 31; the times are in bench/scale.py)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains.models import Contact, Domain, Host
from reseller.support.plans import core_plan
from tests.support.domains import fund, install_catalogue

PASSWORD = "correct horse battery"
MAX_PER_PAGE = 8
_HARNESS = ("SAVEPOINT", "RELEASE", "ROLLBACK TO")  # the test's own rolled-back transaction
# Once in a while, not per page: a token's last use (written at most every few minutes),
# the sandbox clock (read once per process and then cached) and the volume tiers' rate
# limits (read by the first API request of a process, then kept for 30 seconds).
_OCCASIONAL = ("UPDATE access_tokens SET last_used_at", "FROM sandbox_clock",
               "SELECT catalog_tiers.code, catalog_tiers.rate_limit")


def _per_page(statements: list[str]) -> int:
    return sum(not any(o in s for o in _OCCASIONAL) for s in statements)


@contextmanager
def counted():
    """The SQL statements run inside the block (the test harness's savepoints aside)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        if not statement.lstrip().upper().startswith(_HARNESS):
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def grow(reseller, start: int, count: int) -> None:
    """``count`` more domains, each with its own contact and two glue hosts."""
    now = clock.now()
    for n in range(start, start + count):
        contact = Contact(reseller_id=reseller.id, handle=f"TST{reseller.id}X{n}",
                          name=f"Asiakas {n}", email=f"asiakas{n}@example.test",
                          phone="+358.401234567", street="Katu 1", city="Helsinki",
                          postal_code="00100", country="FI", language="fi")
        db.session.add(contact)
        db.session.flush()
        name = f"salkku{n}.{('fi', 'se')[n % 2]}"
        domain = Domain(reseller_id=reseller.id, name=name, live_name=name, unicode_name=name,
                        tld=name.rsplit(".", 1)[1], status="active", created_at=now,
                        expires_at=now + timedelta(days=30 + n), nameservers=[], ds=[],
                        registrant_id=contact.id, admin_id=contact.id, tech_id=contact.id)
        domain.hosts = [Host(name=f"ns{i}.{name}", addresses=["192.0.2.1"]) for i in (1, 2)]
        db.session.add(domain)
    db.session.commit()


@pytest.fixture
def portfolio(factory, client):
    install_catalogue()
    with unit_of_work():
        core_plan()  # the operator installs the support plans (flask support plans)
    user = factory.user(role="owner")
    fund(user.reseller, "500.00")
    api = factory.api(user.reseller, scopes=["domains:read", "billing:read", "events:read"])
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    return user.reseller, api, client


API_PAGES = ("/api/v1/domains", "/api/v1/domains?limit=200", "/api/v1/domains?q=salkku1",
             "/api/v1/domains?tld=se&status=active", "/api/v1/domains/salkku1.se",
             "/api/v1/contacts", "/api/v1/contacts?q=asiakas1", "/api/v1/orders",
             "/api/v1/wallet/transactions", "/api/v1/events", "/api/v1/invoices")
WEB_PAGES = ("/domains", "/domains?q=salkku1", "/domains/salkku1.se", "/contacts",
             "/contacts?q=Asiakas 1", "/domains/register?name=uusi-nimi.fi",
             "/domains/salkku1.se?contact_q=asiakas", "/orders", "/wallet", "/billing/invoices")


def _counts(api, client) -> tuple[dict[str, int], int]:
    """Statements per page (the occasional ones aside) and the most any page ran."""
    counts, most = {}, 0
    for path in API_PAGES + WEB_PAGES:
        with counted() as statements:
            response = (client if path.startswith("/domains") or not path.startswith("/api")
                        else api).get(path)
        assert response.status_code == 200, path
        counts[path] = _per_page(statements)
        most = max(most, len(statements))
    return counts, most


def test_pages_run_the_same_few_statements_at_any_portfolio_size(portfolio):
    reseller, api, client = portfolio
    grow(reseller, 0, 3)
    few, _most = _counts(api, client)
    grow(reseller, 3, 60)
    many, most = _counts(api, client)
    assert many == few
    assert most <= MAX_PER_PAGE, many


def test_domain_list_loads_the_pages_hosts_at_once(portfolio):
    reseller, api, _client = portfolio
    grow(reseller, 0, 30)
    with counted() as statements:
        items = api.get("/api/v1/domains?limit=30").get_json()["items"]
    assert len(items) == 30 and all(len(item["hosts"]) == 2 for item in items)
    assert sum("domain_hosts" in s for s in statements) == 1


def test_contact_choice_offers_a_page_of_contacts_and_finds_the_rest(portfolio):
    reseller, _api, client = portfolio
    grow(reseller, 0, 60)
    page = client.get("/domains/salkku1.se").get_data(as_text=True)
    admin_select = page.split('name="admin">')[1].split("</select>")[0]
    # "none", the current contact, then the 50 newest: never all 60 (or 20,000)
    assert admin_select.count("<option value=\"") == 52
    assert "selected>Asiakas 1 " in admin_select
    found = client.get("/domains/salkku1.se?contact_q=asiakas7").get_data(as_text=True)
    options = found.split('name="tech">')[1].split("</select>")[0]
    assert "Asiakas 7 " in options and "Asiakas 70" not in options and "Asiakas 8 " not in options
    register = client.get("/domains/register?name=uusi-nimi.fi&contact_q=asiakas4"
                          ).get_data(as_text=True)
    registrant = register.split('name="registrant">')[1].split("</select>")[0]
    assert "Asiakas 4 " in registrant and "Asiakas 5 " not in registrant


def test_contacts_page_is_paginated_and_searchable(portfolio):
    reseller, api, client = portfolio
    grow(reseller, 0, 105)
    first = client.get("/contacts").get_data(as_text=True)
    assert first.count("<tr><td>") == 100 and "cursor=" in first
    cursor = first.split("cursor=")[1].split('"')[0]
    rest = client.get(f"/contacts?cursor={cursor}").get_data(as_text=True)
    assert rest.count("<tr><td>") == 5
    found = client.get("/contacts?q=ASIAKAS104@").get_data(as_text=True)
    assert found.count("<tr><td>") == 1 and "asiakas104@example.test" in found
    assert api.get("/api/v1/contacts?q=asiakas10%25").get_json()["items"] == []  # literal %
    names = {c["name"] for c in api.get("/api/v1/contacts?q=siakas 10").get_json()["items"]}
    assert names == {"Asiakas 10", "Asiakas 100", "Asiakas 101", "Asiakas 102", "Asiakas 103",
                     "Asiakas 104"}
    assert api.get("/api/v1/contacts?q=" + "x" * 101).status_code == 422


def test_a_fifty_name_check_runs_at_most_ten_statements(portfolio):
    reseller, api, _client = portfolio
    grow(reseller, 0, 5)
    names = ["salkku1.se", "salkku2.fi"] + [f"vapaa{n}.{('fi', 'se', 'com', 'eu')[n % 4]}"
                                            for n in range(48)]
    with counted() as statements:
        response = api.get("/api/v1/domains/check?names=" + ",".join(names))
    results = {r["name"]: r for r in response.get_json()["results"]}
    assert len(results) == 50 and len(statements) <= 10, statements
    assert not results["salkku1.se"]["available"] and results["vapaa0.fi"]["available"]
    assert results["vapaa0.fi"]["price"] == api.get(
        "/api/v1/domains/check?names=vapaa0.fi").get_json()["results"][0]["price"]


def test_name_search_is_literal_and_uses_the_trigram_index(portfolio):
    reseller, api, _client = portfolio
    grow(reseller, 0, 12)
    names = [d["name"] for d in api.get("/api/v1/domains?q=salkku1").get_json()["items"]]
    assert names == ["salkku1.se", "salkku10.fi", "salkku11.se"]
    assert api.get("/api/v1/domains?q=salkku_").get_json()["items"] == []  # _ is literal
    if db.engine.dialect.name != "postgresql":
        return
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(sa.text(
        "EXPLAIN SELECT id FROM domains WHERE name LIKE '%salkku1%' ESCAPE '\\' "
        "OR unicode_name LIKE '%salkku1%' ESCAPE '\\'")))
    assert "ix_domains_name_trgm" in plan and "ix_domains_unicode_name_trgm" in plan


def test_billing_page_runs_at_most_eight_statements_however_many_invoices(portfolio, jobs):
    from tests.support.invoicing import at, buy
    from wallet.invoices import invoicing
    from wallet.invoices.periods import Month

    reseller, api, client = portfolio
    counts = []
    for month in ("2026-09", "2026-10"):
        at(f"{month}-10T10:00:00")
        for n in range(3):
            buy(reseller, f"lasku{n}-{month}.fi", "9.90")
        at(f"{Month.parse(month).next().key}-01T00:05:00")
        with unit_of_work():
            invoicing.run_month_end()
        jobs.run_all()
        with counted() as statements:
            assert client.get("/billing/invoices").status_code == 200
        page = " | ".join(" ".join(s.split())[:60] for s in statements)
        counts.append(_per_page(statements))
        with counted() as statements:
            assert api.get("/api/v1/invoices").status_code == 200
        counts.append(_per_page(statements))
    assert max(counts) <= MAX_PER_PAGE and counts[:2] == counts[2:], (counts, page)
